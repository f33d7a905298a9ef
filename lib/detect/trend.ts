/**
 * Trend to saturation: a least-squares line over each series' recent samples,
 * like PromQL's `predict_linear`, with a goodness-of-fit check.
 *
 * @module
 */

import pl from "nodejs-polars";
import {
  checkFrame,
  checkTimestamp,
  checkValueColumn,
  type DetectorDuration,
  type DetectorTime,
  durationMs,
  emptyResult,
  epochMs,
  finite,
  fmtDuration,
  fmtThreshold,
  fmtValue,
  labelColumns,
  timeMs,
} from "./_common.ts";

/** Options of {@linkcode trend}. */
export interface TrendOptions {
  /**
   * The level the series must not reach, in the value's unit. Finite.
   * @default {100}
   */
  limit?: number;
  /**
   * The horizon: flag series whose fitted line reaches `limit` within this
   * long after `at`. A duration string or milliseconds.
   * @default {"12h"}
   */
  within?: DetectorDuration;
  /**
   * The samples fitted: `[at - lookback, at]`. A duration string or milliseconds.
   * @default {"6h"}
   */
  lookback?: DetectorDuration;
  /**
   * The least goodness of fit (coefficient of determination, 0..1) for a
   * line to be trusted: a step change fits a line poorly and is not a trend.
   * @default {0.9}
   */
  minR2?: number;
  /**
   * The evaluation time: a `Date`, epoch ms or an RFC 3339 string.
   * @default {the frame's last timestamp}
   */
  at?: DetectorTime;
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
 * `at`). Vectorised: the sums of the fit are one polars `group_by` over the
 * label columns, with times centred per series for numerical stability.
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
  const labels = labelColumns(frame);
  let at: number;
  if (options.at === undefined) {
    at = -Infinity;
    for (const t of epochMs(frame.getColumn("timestamp"))) if (t > at) at = t;
  } else at = timeMs("at", options.at);
  const keys = labels.length > 0 ? labels : ["__series"];
  const tsExpr = frame.getColumn("timestamp").dtype.variant === "Datetime"
    ? pl.col("timestamp").cast(pl.Int64).cast(pl.Float64)
    : pl.col("timestamp").cast(pl.Float64);
  const x = pl.col("__x"), y = pl.col("__y");
  const dx = x.minus(x.mean().over(keys[0], ...keys.slice(1))),
    dy = y.minus(y.mean().over(keys[0], ...keys.slice(1)));
  const fits = frame.lazy()
    .select(
      ...(labels.length > 0 ? labels.map((l) => pl.col(l)) : [pl.lit(0).alias("__series")]),
      tsExpr.alias("__t"),
      pl.col(column).cast(pl.Float64).alias("__y"),
    )
    .filter(
      pl.col("__t").gtEq(at - lookbackMs).and(pl.col("__t").ltEq(at))
        .and(y.isNotNull()).and(y.isFinite()),
    )
    .withColumns(pl.col("__t").minus(at).div(HOUR).alias("__x"))
    .withColumns(dx.alias("__dx"), dy.alias("__dy"))
    .groupBy(keys)
    .agg(
      pl.col("__x").count().alias("n"),
      pl.col("__x").mean().alias("mx"),
      pl.col("__y").mean().alias("my"),
      pl.col("__dx").pow(2).sum().alias("sxx"),
      pl.col("__dy").pow(2).sum().alias("syy"),
      pl.col("__dx").mul(pl.col("__dy")).sum().alias("sxy"),
      pl.col("__y").sortBy("__t").last().alias("last"),
    )
    .filter(pl.col("n").gtEq(minSamples).and(pl.col("sxx").gt(0)).and(pl.col("syy").gt(0)))
    .withColumns(pl.col("sxy").div(pl.col("sxx")).alias("slope"))
    .withColumns(
      pl.col("sxy").pow(2).div(pl.col("sxx").mul(pl.col("syy"))).alias("r2"),
      pl.col("my").minus(pl.col("slope").mul(pl.col("mx"))).alias("fitted"),
    )
    .withColumns(
      pl.col("fitted").gtEq(limit).alias("__reached"),
      pl.lit(limit).minus(pl.col("fitted")).div(pl.col("slope")).alias("__hours"),
    )
    .filter(
      pl.col("r2").gtEq(minR2).and(
        pl.col("__reached").or(
          pl.col("slope").gt(0).and(pl.col("__hours").mul(HOUR).ltEq(withinMs)),
        ),
      ),
    )
    .sort(keys)
    .collectSync();
  const slope = fits.getColumn("slope").toArray() as number[];
  const fitted = fits.getColumn("fitted").toArray() as number[];
  const r2 = fits.getColumn("r2").toArray() as number[];
  const last = fits.getColumn("last").toArray() as number[];
  const eta: number[] = [], reasons: string[] = [];
  for (let i = 0; i < fits.height; i++) {
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
  const out: pl.Series[] = labels.map((l) => fits.getColumn(l));
  out.push(
    pl.Series("timestamp", new Array(fits.height).fill(at), pl.Float64).cast(pl.Int64).cast(
      pl.Datetime("ms"),
    ),
    pl.Series("value", last, pl.Float64),
    pl.Series("reason", reasons, pl.Utf8),
    pl.Series("eta", eta, pl.Float64).cast(pl.Int64).cast(pl.Datetime("ms")),
    pl.Series("slope", slope, pl.Float64),
    pl.Series("r2", r2, pl.Float64),
    pl.Series("fitted", fitted, pl.Float64),
  );
  return pl.DataFrame(out);
}
