/**
 * Fleet outliers: at each timestamp, the series far from the fleet's median
 * by a robust z-score (median and MAD across series), as Datadog's and
 * Grafana's "MAD" outlier detection.
 *
 * @module
 */

import pl from "nodejs-polars";
import {
  checkFrame,
  checkTimestamp,
  checkValueColumn,
  emptyResult,
  finite,
  fmtValue,
  integerAtLeast,
  labelColumns,
} from "./_common.ts";

/**
 * Options of {@linkcode fleetOutliers}.
 *
 * @example
 * ```ts
 * import pl from "nodejs-polars";
 * import { fleetOutliers, type FleetOutliersOptions } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const t = new Date(Date.UTC(2026, 10, 1, 11));
 * const frame = pl.DataFrame({
 *   instance: ["a", "b", "c", "d", "e"],
 *   timestamp: pl.Series([t, t, t, t, t]).cast(pl.Datetime("ms")),
 *   value: [40, 42, 38, 41, 95],
 * });
 * const options: FleetOutliersOptions = { minHosts: 6 }; // too few hosts to judge
 * assert.equal(fleetOutliers(frame, options).height, 0);
 * ```
 */
export interface FleetOutliersOptions {
  /**
   * A series is flagged when its robust z-score is strictly above this in
   * absolute value. Finite and positive.
   * @default {3}
   */
  tolerance?: number;
  /**
   * Timestamps with fewer series carrying a finite value are skipped: a
   * median and MAD need a fleet. An integer of at least 3.
   * @default {3}
   */
  minHosts?: number;
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

/** 0.6745 = Φ⁻¹(0.75): scales the MAD to a normal standard deviation. */
const MAD_Z = 0.6745;
/** √(π/2): scales a mean absolute deviation to a normal standard deviation. */
const MEAN_AD_Z = 1.253314;

/**
 * Per timestamp, the series whose value lies far from the fleet: robust
 * z = 0.6745·(x − median)/MAD across every series with a finite value at that
 * timestamp (NaN, null and ±Inf are missing data and left out), flagged when
 * |z| > `tolerance`. Timestamps with fewer than `minHosts` series are skipped.
 *
 * When the MAD is 0 (more than half the fleet has exactly the median value),
 * the score falls back to (x − median)/(1.253314·meanAD), the mean absolute
 * deviation scaled the same way (Iglewicz and Hoaglin); when that is 0 too
 * (every value equal) no series is an outlier. No division by zero happens.
 *
 * Returns the flagged rows: labels, `timestamp`, `value`, `reason`, `score`
 * (signed robust z), `median` (the fleet's) and `hosts` (series counted).
 * Fully vectorised in polars (window expressions over `timestamp`).
 *
 * @throws {RangeError} when `tolerance` is not a positive finite number or `minHosts` is below 3.
 * @throws {TypeError} when the frame lacks `timestamp` or the value column.
 *
 * @example One host far above the rest
 * ```ts
 * import pl from "nodejs-polars";
 * import { fleetOutliers } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const t = new Date(Date.UTC(2026, 10, 1, 11));
 * const frame = pl.DataFrame({
 *   instance: ["a", "b", "c", "d", "e"],
 *   timestamp: pl.Series([t, t, t, t, t]).cast(pl.Datetime("ms")),
 *   value: [40, 42, 38, 41, 95],
 * });
 * const out = fleetOutliers(frame);
 * assert.deepEqual(out.getColumn("instance").toArray(), ["e"]);
 * assert.equal(out.getColumn("score").toArray()[0], 0.6745 * (95 - 41) / 1);
 * ```
 */
export function fleetOutliers(
  frame: pl.DataFrame,
  options: FleetOutliersOptions = {},
): pl.DataFrame {
  checkFrame(frame, "fleetOutliers");
  const tolerance = finite("tolerance", options.tolerance ?? 3, "a positive finite number");
  if (!(tolerance > 0)) {
    throw new RangeError(`Invalid tolerance: expected a positive finite number, got ${tolerance}`);
  }
  const minHosts = integerAtLeast(
    "minHosts",
    options.minHosts ?? 3,
    3,
    " (a median and MAD need three hosts)",
  );
  const column = options.column ?? "value";
  const unit = options.unit ?? "";
  const extras = [
    { name: "score", dtype: "float" as const },
    { name: "median", dtype: "float" as const },
    { name: "hosts", dtype: "int" as const },
  ];
  if (frame.height === 0) return emptyResult(frame, extras);
  checkValueColumn(frame, column);
  checkTimestamp(frame, "fleetOutliers");
  const labels = labelColumns(frame);
  const v = pl.col("value");
  const dev = v.minus(pl.col("median"));
  const scored = frame.lazy()
    .select(
      ...labels.map((l) => pl.col(l)),
      pl.col("timestamp"),
      pl.col(column).cast(pl.Float64).alias("value"),
    )
    .filter(v.isNotNull().and(v.isFinite()))
    .withColumns(
      v.median().over("timestamp").alias("median"),
      v.count().over("timestamp").cast(pl.Int64).alias("hosts"),
    )
    .filter(pl.col("hosts").gtEq(minHosts))
    .withColumns(dev.abs().alias("__absdev"))
    .withColumns(
      pl.col("__absdev").median().over("timestamp").alias("__mad"),
      pl.col("__absdev").mean().over("timestamp").alias("__meanad"),
    )
    .withColumns(
      pl.when(pl.col("__mad").gt(0)).then(dev.mul(MAD_Z).div(pl.col("__mad")))
        .when(pl.col("__meanad").gt(0)).then(dev.div(pl.col("__meanad").mul(MEAN_AD_Z)))
        .otherwise(pl.lit(0))
        .alias("score"),
    )
    .filter(pl.col("score").abs().gt(tolerance))
    .sort(["timestamp", ...labels])
    .collectSync();
  const values = scored.getColumn("value").toArray() as number[];
  const scores = scored.getColumn("score").toArray() as number[];
  const medians = scored.getColumn("median").toArray() as number[];
  const hosts = scored.getColumn("hosts").toArray() as number[];
  const reasons = values.map((x, i) =>
    `${fmtValue(x, unit)} is ${Math.abs(scores[i]).toFixed(1)} MADs ${
      scores[i] > 0 ? "above" : "below"
    } the fleet median ${fmtValue(medians[i], unit)} (${hosts[i]} hosts)`
  );
  return scored.withColumns(pl.Series("reason", reasons, pl.Utf8))
    .select(...labels, "timestamp", "value", "reason", "score", "median", "hosts");
}
