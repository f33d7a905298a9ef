/**
 * Trend to saturation: a least-squares line over each series' recent samples,
 * like PromQL's `predict_linear`, with a goodness-of-fit check.
 *
 * @module
 */

import pl from "nodejs-polars";
import type { DurationInput, TimeInput } from "../time.ts";
import {
  checkFrame,
  checkTimestamp,
  checkValueColumn,
  durationMs,
  emptyResult,
  finite,
  fmtDuration,
  fmtThreshold,
  fmtValue,
  timeMs,
} from "./_common.ts";
import { extraSeries, seriesIndex } from "./_series.ts";

/**
 * Options of {@linkcode trend}.
 *
 * @example
 * ```ts
 * import pl from "nodejs-polars";
 * import { trend, type TrendOptions } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const t0 = Date.UTC(2026, 10, 1);
 * const hours = [0, 1, 2, 3, 4, 5, 6];
 * const frame = pl.DataFrame({
 *   mountpoint: hours.map(() => "/var"),
 *   timestamp: pl.Series(hours.map((h) => t0 + h * 3_600_000)).cast(pl.Datetime("ms")),
 *   value: hours.map((h) => 50 + 5 * h),
 * });
 * const options: TrendOptions = { limit: 100, within: "3h", unit: "%" };
 * assert.equal(trend(frame, options).height, 0); // reaches 100 % 4 h after the last sample
 * assert.equal(trend(frame, { ...options, within: "12h" }).height, 1);
 * ```
 */
export interface TrendOptions {
  /**
   * The level the series must not reach, in the value's unit. Finite.
   * @default {100}
   */
  limit?: number;
  /**
   * The horizon: flag series whose fitted line reaches `limit` within this
   * long after `at`. A duration string or seconds.
   * @default {"12h"}
   */
  within?: DurationInput;
  /**
   * The samples fitted: `[at - lookback, at]`. A duration string or seconds.
   * @default {"6h"}
   */
  lookback?: DurationInput;
  /**
   * The least goodness of fit (coefficient of determination, 0..1) for a
   * line to be trusted: a step change fits a line poorly and is not a trend.
   * @default {0.9}
   */
  minR2?: number;
  /**
   * The evaluation time: a `Date`, epoch seconds or an RFC 3339 string.
   * @default {the frame's last timestamp}
   */
  at?: TimeInput;
  /**
   * Series with fewer finite samples in the lookback are not fitted. An integer of at least 3.
   * @default {3}
   */
  minSamples?: number;
  /**
   * The numeric column to fit.
   * @default {"value"}
   */
  column?: string;
  /**
   * Unit shown in `reason`, e.g. `"%"`.
   * @default {""}
   */
  unit?: string;
}

const HOUR = 3_600_000;
const FIT_SIZE = 6;

/**
 * The least-squares sums of one series' finite samples in `[from, at]`
 * (times in hours from `at`), two-pass: `out` gets the means, the centred
 * sums and the last value. False when there are fewer than `minSamples`
 * samples or all values (or all times) are equal: a constant has no line,
 * whatever the rounding of its mean.
 */
function fitLine(
  ts: Float64Array,
  values: Float64Array,
  a: number,
  b: number,
  from: number,
  at: number,
  minSamples: number,
  out: Float64Array,
): boolean {
  let n = 0, sx = 0, sy = 0, lastT = -Infinity, lastY = NaN;
  let minT = Infinity, minY = Infinity, maxY = -Infinity;
  for (let i = a; i < b; i++) {
    const yi = values[i], ti = ts[i];
    if (!(ti >= from && ti <= at) || !Number.isFinite(yi)) continue;
    n++;
    sx += (ti - at) / HOUR;
    sy += yi;
    if (ti < minT) minT = ti;
    if (yi < minY) minY = yi;
    if (yi > maxY) maxY = yi;
    if (ti >= lastT) {
      lastT = ti;
      lastY = yi;
    }
  }
  if (n < minSamples || minY === maxY || minT === lastT) return false;
  const mx = sx / n, my = sy / n;
  let sxx = 0, syy = 0, sxy = 0;
  for (let i = a; i < b; i++) {
    const yi = values[i], ti = ts[i];
    if (!(ti >= from && ti <= at) || !Number.isFinite(yi)) continue;
    const dx = (ti - at) / HOUR - mx, dy = yi - my;
    sxx += dx * dx;
    syy += dy * dy;
    sxy += dx * dy;
  }
  out[0] = mx;
  out[1] = my;
  out[2] = sxx;
  out[3] = syy;
  out[4] = sxy;
  out[5] = lastY;
  return true;
}

/** What {@linkcode trendReaches} tests: the options of {@linkcode trend}, resolved. @internal */
export interface TrendParams {
  /** The level. */
  limit: number;
  /** The horizon, ms. */
  withinMs: number;
  /** The window's start, epoch ms: `[from, at]`. */
  from: number;
  /** The evaluation time, epoch ms. */
  at: number;
  /** The least r². */
  minR2: number;
  /** The least number of finite samples. */
  minSamples: number;
}

/**
 * The test {@linkcode trend} makes of one series (`ts` in epoch ms, rows `a`
 * to `b`): its least-squares line over `[from, at]` fits with r² >= minR2 and
 * reaches `limit` within `withinMs` (or is there already). On `true`, `out`
 * (length 6) holds the slope per hour, the fitted value at `at`, r² and the
 * last value. The rule evaluator's `trend` detector runs it on the raw
 * samples of a range answer, without a frame per evaluation.
 *
 * @internal
 */
export function trendReaches(
  ts: Float64Array,
  values: Float64Array,
  a: number,
  b: number,
  p: TrendParams,
  out: Float64Array,
): boolean {
  if (!fitLine(ts, values, a, b, p.from, p.at, p.minSamples, out)) return false;
  const [mx, my, sxx, syy, sxy, lastY] = out;
  if (!(sxx > 0) || !(syy > 0)) return false;
  const k = sxy / sxx, f = my - k * mx, q = (sxy * sxy) / (sxx * syy);
  const reached = f >= p.limit;
  if (!(q >= p.minR2) || !(reached || (k > 0 && ((p.limit - f) / k) * HOUR <= p.withinMs))) {
    return false;
  }
  out[0] = k;
  out[1] = f;
  out[2] = q;
  out[3] = lastY;
  return true;
}

/**
 * The series heading for `limit`: for each series, an ordinary least-squares
 * line over its finite samples in `[at - lookback, at]` (the same fit as
 * PromQL's `predict_linear`), flagged when the line is rising, fits with
 * r² ≥ `minR2`, and reaches `limit` no later than `at + within`. A series
 * whose fitted value at `at` is already at or above `limit` gets `eta = at`.
 * A flat series (zero variance) has no r² and is never flagged.
 *
 * Returns one row per flagged series: labels, `timestamp` (= `at`), `value`
 * (the series' last sample in the lookback), `reason`, `eta` (Datetime),
 * `slope` (value units per hour), `r2` and `fitted` (the line's value at
 * `at`). The fit is a typed-array loop per series, two-pass (means, then
 * centred sums) for numerical stability; a series whose values (or times)
 * in the lookback are all equal has no line.
 *
 * @throws {RangeError} when `limit` or `minR2` is not finite, or a duration is malformed.
 * @throws {TypeError} when the frame lacks `timestamp` or the value column.
 *
 * @example A disk filling at 5 % per hour
 * ```ts
 * import pl from "nodejs-polars";
 * import { trend } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const t0 = Date.UTC(2026, 10, 1);
 * const hours = [0, 1, 2, 3, 4, 5, 6];
 * const frame = pl.DataFrame({
 *   mountpoint: hours.map(() => "/var"),
 *   timestamp: pl.Series(hours.map((h) => t0 + h * 3_600_000)).cast(pl.Datetime("ms")),
 *   value: hours.map((h) => 50 + 5 * h),
 * });
 * const out = trend(frame, { limit: 100, within: "12h" });
 * assert.equal(out.getColumn("slope").toArray()[0], 5);
 * assert.deepEqual(out.getColumn("eta").cast(pl.Float64).toArray(), [t0 + 10 * 3_600_000]);
 * ```
 */
export function trend(frame: pl.DataFrame, options: TrendOptions = {}): pl.DataFrame {
  checkFrame(frame, "trend");
  const limit = finite("limit", options.limit ?? 100);
  const withinMs = durationMs("within", options.within ?? "12h");
  const lookbackMs = durationMs("lookback", options.lookback ?? "6h");
  const minR2 = finite("minR2", options.minR2 ?? 0.9, "a number from 0 to 1");
  if (minR2 < 0 || minR2 > 1) {
    throw new RangeError(`Invalid minR2: expected a number from 0 to 1, got ${minR2}`);
  }
  const minSamples = options.minSamples ?? 3;
  if (!Number.isInteger(minSamples) || minSamples < 3) {
    throw new RangeError(
      `Invalid minSamples: expected an integer of at least 3, got ${minSamples}`,
    );
  }
  const column = options.column ?? "value";
  const unit = options.unit ?? "";
  const extras = [
    { name: "eta", dtype: "datetime" as const },
    { name: "slope", dtype: "float" as const },
    { name: "r2", dtype: "float" as const },
    { name: "fitted", dtype: "float" as const },
  ];
  if (frame.height === 0) return emptyResult(frame, extras);
  checkValueColumn(frame, column);
  checkTimestamp(frame, "trend");
  const index = seriesIndex(frame, column);
  const at = options.at === undefined ? index.maxTime() : timeMs("at", options.at);
  const view = index.load();
  const { ts, values, starts, ends } = view;
  const from = at - lookbackMs;
  const series: number[] = [], slope: number[] = [], fitted: number[] = [], r2: number[] = [];
  const last: number[] = [];
  const fit = new Float64Array(FIT_SIZE);
  const params = { limit, withinMs, from, at, minR2, minSamples };
  for (let s = 0; s < starts.length; s++) {
    if (!trendReaches(ts, values, starts[s], ends[s], params, fit)) continue;
    series.push(view.series[s]);
    slope.push(fit[0]);
    fitted.push(fit[1]);
    r2.push(fit[2]);
    last.push(fit[3]);
  }
  const eta: number[] = [], reasons: string[] = [];
  for (let i = 0; i < series.length; i++) {
    const ms = fitted[i] >= limit ? 0 : Math.round(((limit - fitted[i]) / slope[i]) * HOUR);
    eta.push(at + ms);
    const speed = `${slope[i] >= 0 ? "+" : ""}${slope[i].toFixed(2)}${
      unit === "" ? "" : ` ${unit}`
    }/h`;
    const when = ms === 0
      ? "already there"
      : `in ~${fmtDuration(Math.round(ms / 60_000) * 60_000)}`;
    reasons.push(
      `${fmtValue(last[i], unit)} ${slope[i] >= 0 ? "rising" : "falling"} ${speed}: reaches ${
        fmtThreshold(limit, unit)
      } ${when} (r² ${r2[i].toFixed(3)})`,
    );
  }
  const labelValues = index.labelValues(series);
  const out: pl.Series[] = index.labels.map((l, c) => pl.Series(l, labelValues[c], pl.Utf8));
  out.push(
    extraSeries({ name: "timestamp", dtype: "datetime", values: series.map(() => at) }),
    pl.Series("value", last, pl.Float64),
    pl.Series("reason", reasons, pl.Utf8),
    extraSeries({ name: "eta", dtype: "datetime", values: eta }),
    pl.Series("slope", slope, pl.Float64),
    pl.Series("r2", r2, pl.Float64),
    pl.Series("fitted", fitted, pl.Float64),
  );
  return pl.DataFrame(out);
}
