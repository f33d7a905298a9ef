/**
 * Detectors over polars DataFrames: the classic threshold, sustained (`for:`)
 * conditions, hysteresis, fleet outliers (median/MAD), per-host baselines and
 * trend to saturation. Each returns a frame of the offending series (labels,
 * `timestamp`, `value`, a human-readable `reason` and detector-specific
 * columns) so the same rows can be charted and alerted on.
 *
 * @module
 */

export * from "./threshold.ts";
export * from "./sustained.ts";
export * from "./hysteresis.ts";
export * from "./outliers.ts";
export * from "./baseline.ts";
export * from "./trend.ts";
export type { DetectorDuration, DetectorTime } from "./_common.ts";
export * from "./anomaly.ts";
export * from "./normal_range.ts";
export * from "./anomaly_spans.ts";
