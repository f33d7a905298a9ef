/**
 * The classic CPU query's range frame over the synthetic dataset, built from
 * its ground truth ({@linkcode expectedCpuRange}) instead of a server: what
 * `queryRangeFrame` returns, for tests that need many evaluations fast.
 *
 * @module
 */

import pl from "nodejs-polars";
import { expectedCpuRange, HOSTS } from "../../dev/dataset.ts";

const byInstance = new Map(HOSTS.map((h) => [h.instance, h]));

/** Options of {@linkcode cpuFrame}. */
export interface CpuFrameOptions {
  /** Keep only these instances. */
  only?: readonly string[];
  /** Add the `job="node"` label column. @default {false} */
  job?: boolean;
}

/**
 * Columns `cloud`, `instance`, (`job`,) `region`, `timestamp` (Datetime ms),
 * `value`, one row per host and step in `[start, end]`.
 *
 * @example
 * ```ts
 * import { DATASET_START_MS } from "../../dev/dataset.ts";
 * import { cpuFrame } from "./cpu_frame.ts";
 * const frame = cpuFrame(DATASET_START_MS + 3_600_000, DATASET_START_MS + 7_200_000, 300_000);
 * console.log(frame.height); // 156
 * ```
 */
export function cpuFrame(
  start: number,
  end: number,
  step: number,
  options: CpuFrameOptions = {},
): pl.DataFrame {
  const only = options.only;
  const rows = expectedCpuRange(start, end, step).filter((r) =>
    only === undefined || only.includes(r.instance)
  );
  return pl.DataFrame([
    pl.Series("cloud", rows.map((r) => byInstance.get(r.instance)!.cloud), pl.Utf8),
    pl.Series("instance", rows.map((r) => r.instance), pl.Utf8),
    ...(options.job ? [pl.Series("job", rows.map(() => "node"), pl.Utf8)] : []),
    pl.Series("region", rows.map((r) => byInstance.get(r.instance)!.region), pl.Utf8),
    pl.Series("timestamp", rows.map((r) => r.timestamp), pl.Float64).cast(pl.Int64)
      .cast(pl.Datetime("ms")),
    pl.Series("value", rows.map((r) => r.value), pl.Float64),
  ]);
}
