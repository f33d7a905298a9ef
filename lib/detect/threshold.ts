/**
 * The classic check: rows whose value is strictly above a threshold, and the
 * rows whose value is missing (NaN or null), which never count as over.
 *
 * @module
 */

import pl from "nodejs-polars";
import { checkFrame, checkValueColumn, finite, fmtThreshold, fmtValue } from "./_common.ts";

/**
 * Options of {@linkcode overThreshold}.
 *
 * @example
 * ```ts
 * import pl from "nodejs-polars";
 * import { overThreshold, type OverThresholdOptions } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const options: OverThresholdOptions = { threshold: 90, column: "disk_used", unit: "%" };
 * const frame = pl.DataFrame({ mountpoint: ["/", "/data"], disk_used: [40, 96] });
 * assert.deepEqual(overThreshold(frame, options).getColumn("mountpoint").toArray(), ["/data"]);
 * ```
 */
export interface OverThresholdOptions {
  /** Rows with a value strictly greater than this are returned. Must be a finite number. */
  threshold: number;
  /**
   * The numeric column to compare.
   * @default {"value"}
   */
  column?: string;
  /**
   * Unit shown in `reason`, e.g. `"%"`.
   * @default {""}
   */
  unit?: string;
}

/**
 * Rows whose `column` is strictly greater than `threshold`: the classic
 * "CPU over 80 %" check, on an instant frame (one row per series) or any
 * other frame. NaN and null never count (see {@linkcode missingData});
 * `+Inf` does. Vectorised: one polars filter.
 *
 * Returns the matching rows with every input column, plus `reason`
 * (`"95.0 % > 80 %"`) and `threshold`. An empty frame gives an empty result.
 *
 * @throws {RangeError} when `threshold` is not a finite number.
 * @throws {TypeError} when the frame has no numeric `column`.
 *
 * @example Hosts over 80 %
 * ```ts
 * import pl from "nodejs-polars";
 * import { overThreshold } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const frame = pl.DataFrame({ instance: ["a", "b", "c"], value: [95, 80, NaN] });
 * const hot = overThreshold(frame, { threshold: 80, unit: "%" });
 * assert.deepEqual(hot.getColumn("instance").toArray(), ["a"]);
 * assert.deepEqual(hot.getColumn("reason").toArray(), ["95.0 % > 80 %"]);
 * ```
 */
export function overThreshold(frame: pl.DataFrame, options: OverThresholdOptions): pl.DataFrame {
  checkFrame(frame, "overThreshold");
  const threshold = finite("threshold", options?.threshold);
  const column = options.column ?? "value";
  const unit = options.unit ?? "";
  if (frame.height === 0 && !frame.columns.includes(column)) {
    return frame.withColumns(
      pl.Series("reason", [], pl.Utf8),
      pl.Series("threshold", [], pl.Float64),
    );
  }
  checkValueColumn(frame, column);
  const v = pl.col(column).cast(pl.Float64);
  // polars orders NaN above every number: exclude it explicitly.
  const hot = frame.filter(v.isNotNull().and(v.isNotNan()).and(v.gt(threshold)));
  const values = hot.getColumn(column).cast(pl.Float64).toArray() as number[];
  const limit = fmtThreshold(threshold, unit);
  const reasons = values.map((x) => `${fmtValue(x, unit)} > ${limit}`);
  return hot.withColumns(
    pl.Series("reason", reasons, pl.Utf8),
    pl.Series("threshold", new Float64Array(hot.height).fill(threshold)),
  );
}

/**
 * Options of {@linkcode missingData}.
 *
 * @example
 * ```ts
 * import pl from "nodejs-polars";
 * import { missingData, type MissingDataOptions } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const options: MissingDataOptions = { column: "free" };
 * const frame = pl.DataFrame({ instance: ["a", "b"], free: [12.5, NaN] });
 * assert.deepEqual(missingData(frame, options).getColumn("instance").toArray(), ["b"]);
 * ```
 */
export interface MissingDataOptions {
  /**
   * The numeric column to inspect.
   * @default {"value"}
   */
  column?: string;
}

/**
 * Rows whose `column` is NaN or null: missing data, which no detector counts
 * as over a threshold. Returns those rows with a `reason` such as
 * `"missing data: value is NaN"`, so a notebook or an alert can report them
 * instead of silently dropping them.
 *
 * @throws {TypeError} when the frame has no numeric `column`.
 *
 * @example Report the hosts without a usable value
 * ```ts
 * import pl from "nodejs-polars";
 * import { missingData } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const frame = pl.DataFrame({ instance: ["a", "b", "c"], value: [95, NaN, null] });
 * const missing = missingData(frame);
 * assert.deepEqual(missing.getColumn("instance").toArray(), ["b", "c"]);
 * assert.deepEqual(missing.getColumn("reason").toArray(), [
 *   "missing data: value is NaN",
 *   "missing data: value is null",
 * ]);
 * ```
 */
export function missingData(frame: pl.DataFrame, options: MissingDataOptions = {}): pl.DataFrame {
  checkFrame(frame, "missingData");
  const column = options.column ?? "value";
  if (frame.height === 0 && !frame.columns.includes(column)) {
    return frame.withColumns(pl.Series("reason", [], pl.Utf8));
  }
  checkValueColumn(frame, column);
  const v = pl.col(column).cast(pl.Float64);
  const rows = frame.filter(v.isNull().or(v.isNan()));
  const values = rows.getColumn(column).cast(pl.Float64).toArray() as (number | null)[];
  const reasons = values.map((x) => `missing data: ${column} is ${x === null ? "null" : "NaN"}`);
  return rows.withColumns(pl.Series("reason", reasons, pl.Utf8));
}
