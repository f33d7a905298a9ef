/**
 * Per-host baselines: each point compared with the rolling median and MAD of
 * the same series' previous samples.
 *
 * @module
 */

import type pl from "nodejs-polars";
import type { DurationInput } from "../time.ts";
import {
  checkFrame,
  checkTimestamp,
  checkValueColumn,
  durationMs,
  emptyResult,
  finite,
  fmtDuration,
  fmtValue,
  integerAtLeast,
} from "./_common.ts";
import { resultFrame, seriesIndex } from "./_series.ts";

/**
 * Options of {@linkcode baselineAnomalies}.
 *
 * @example
 * ```ts
 * import pl from "nodejs-polars";
 * import { baselineAnomalies, type BaselineAnomaliesOptions } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const t0 = Date.UTC(2026, 10, 1);
 * const values = [40, 41, 39, 40, 42, 38, 40, 41, 39, 40, 97, 40];
 * const frame = pl.DataFrame({
 *   instance: values.map(() => "api:9100"),
 *   timestamp: pl.Series(values.map((_, i) => t0 + i * 60_000)).cast(pl.Datetime("ms")),
 *   value: values,
 * });
 * const options: BaselineAnomaliesOptions = { window: "1h", minSamples: 20 };
 * assert.equal(baselineAnomalies(frame, options).height, 0); // not enough history yet
 * ```
 */
export interface BaselineAnomaliesOptions {
  /**
   * How far back the baseline reaches: the samples in `[t - window, t)`, the
   * current point excluded. A duration string or seconds.
   * @default {"1h"}
   */
  window?: DurationInput;
  /**
   * A point is flagged outside median ± tolerance·1.4826·MAD. Finite and positive.
   * @default {4}
   */
  tolerance?: number;
  /**
   * Points whose window holds fewer finite samples are not judged (a
   * baseline needs history). An integer of at least 3.
   * @default {10}
   */
  minSamples?: number;
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

/** 1.4826 = 1/Φ⁻¹(0.75): scales a MAD to a normal standard deviation. */
const MAD_SIGMA = 1.4826;
/** √(π/2): scales a mean absolute deviation to a normal standard deviation. */
const MEAN_AD_SIGMA = 1.253314;

/** Index of the first element of `a[0..n)` that is >= x. */
function lowerBound(a: Float64Array, n: number, x: number): number {
  let lo = 0, hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Median of the sorted `a[0..n)`, n > 0. */
function median(a: Float64Array, n: number): number {
  return (a[(n - 1) >> 1] + a[n >> 1]) / 2;
}

/** Median absolute deviation from `m` of the sorted `a[0..n)`: a merge outward from `m`, O(n). */
function mad(a: Float64Array, n: number, m: number): number {
  let r = lowerBound(a, n, m), l = r - 1;
  const lowK = (n - 1) >> 1, highK = n >> 1;
  let low = 0;
  for (let k = 0; k <= highK; k++) {
    let d: number;
    if (l >= 0 && (r >= n || m - a[l] <= a[r] - m)) d = m - a[l--];
    else d = a[r++] - m;
    if (k === lowK) low = d;
    if (k === highK) return (low + d) / 2;
  }
  return 0;
}

/**
 * Points that leave their own series' recent behaviour: for each sample, the
 * median and MAD of the same series' finite samples in `[t - window, t)` (the
 * current point excluded, so an anomaly cannot hide itself), flagged when the
 * value lies outside median ± tolerance·1.4826·MAD. NaN and null are missing
 * data: never flagged and never part of a baseline. Points with fewer than
 * `minSamples` samples in their window are not judged.
 *
 * When the MAD is 0 the scale falls back to 1.253314·meanAD; when that is 0
 * too (a constant history) any different value is flagged with an infinite
 * score and the same value is not. No division by zero happens.
 *
 * Returns the flagged rows: labels, `timestamp`, `value`, `reason`,
 * `expected` (the baseline median), `score` (signed deviation in scaled
 * MADs), `lower` and `upper` (the band). The rolling median over a time
 * window with the current point excluded is a typed-array loop over a sorted
 * window (polars 0.25.2's Node API has no time-based rolling median with a
 * closed-left window).
 *
 * @throws {RangeError} when `tolerance`, `window` or `minSamples` is invalid.
 * @throws {TypeError} when the frame lacks `timestamp` or the value column.
 *
 * @example A spike over a quiet history
 * ```ts
 * import pl from "nodejs-polars";
 * import { baselineAnomalies } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const t0 = Date.UTC(2026, 10, 1);
 * const values = [40, 41, 39, 40, 42, 38, 40, 41, 39, 40, 97, 40];
 * const frame = pl.DataFrame({
 *   instance: values.map(() => "api:9100"),
 *   timestamp: pl.Series(values.map((_, i) => t0 + i * 60_000)).cast(pl.Datetime("ms")),
 *   value: values,
 * });
 * const out = baselineAnomalies(frame, { window: "1h" });
 * assert.deepEqual(out.getColumn("value").toArray(), [97]);
 * assert.deepEqual(out.getColumn("expected").toArray(), [40]);
 * ```
 */
export function baselineAnomalies(
  frame: pl.DataFrame,
  options: BaselineAnomaliesOptions = {},
): pl.DataFrame {
  checkFrame(frame, "baselineAnomalies");
  const windowMs = durationMs("window", options.window ?? "1h");
  if (windowMs === 0) throw new RangeError(`Invalid window: expected a positive duration, got 0`);
  const tolerance = finite("tolerance", options.tolerance ?? 4, "a positive finite number");
  if (!(tolerance > 0)) {
    throw new RangeError(`Invalid tolerance: expected a positive finite number, got ${tolerance}`);
  }
  const minSamples = integerAtLeast("minSamples", options.minSamples ?? 10, 3);
  const column = options.column ?? "value";
  const unit = options.unit ?? "";
  const extras = [
    { name: "expected", dtype: "float" as const },
    { name: "score", dtype: "float" as const },
    { name: "lower", dtype: "float" as const },
    { name: "upper", dtype: "float" as const },
  ];
  if (frame.height === 0) return emptyResult(frame, extras);
  checkValueColumn(frame, column);
  checkTimestamp(frame, "baselineAnomalies");
  const view = seriesIndex(frame, column).load();
  const { ts, values, starts, ends } = view;
  const rows: number[] = [], expected: number[] = [], scores: number[] = [];
  const lower: number[] = [], upper: number[] = [], reasons: string[] = [];
  const win = new Float64Array(ts.length);
  const span = fmtDuration(windowMs);
  for (let s = 0; s < starts.length; s++) {
    const first = starts[s], last = ends[s];
    let n = 0, lo = first;
    for (let i = first; i < last; i++) {
      while (lo < i && ts[lo] < ts[i] - windowMs) {
        const old = values[lo++];
        if (Number.isFinite(old)) {
          const at = lowerBound(win, n, old);
          win.copyWithin(at, at + 1, n--);
        }
      }
      const x = values[i];
      if (!Number.isFinite(x)) continue;
      if (n >= minSamples) {
        const m = median(win, n);
        let scale = MAD_SIGMA * mad(win, n, m);
        if (scale === 0) {
          let sum = 0;
          for (let k = 0; k < n; k++) sum += Math.abs(win[k] - m);
          scale = (MEAN_AD_SIGMA * sum) / n;
        }
        const dev = x - m;
        const score = scale > 0 ? dev / scale : dev === 0 ? 0 : dev > 0 ? Infinity : -Infinity;
        if (Math.abs(score) > tolerance) {
          rows.push(i);
          expected.push(m);
          scores.push(score);
          lower.push(m - tolerance * scale);
          upper.push(m + tolerance * scale);
          reasons.push(
            `${fmtValue(x, unit)} is ${
              Number.isFinite(score) ? Math.abs(score).toFixed(1) : "infinitely many"
            } MADs ${score > 0 ? "above" : "below"} its ${span} baseline ${fmtValue(m, unit)}`,
          );
        }
      }
      const at = lowerBound(win, n, x);
      win.copyWithin(at + 1, at, n++);
      win[at] = x;
    }
  }
  return resultFrame(view, rows, {}, reasons, [
    { name: "expected", dtype: "float", values: expected },
    { name: "score", dtype: "float", values: scores },
    { name: "lower", dtype: "float", values: lower },
    { name: "upper", dtype: "float", values: upper },
  ]);
}
