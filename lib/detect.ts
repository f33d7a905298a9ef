/**
 * Detectors over polars DataFrames: the classic threshold, sustained (`for:`)
 * conditions, hysteresis, fleet outliers (median/MAD), per-host baselines and
 * trend to saturation. Each returns a frame of the offending series (labels,
 * `timestamp`, `value`, a human-readable `reason` and detector-specific
 * columns) so the same rows can be charted and alerted on.
 *
 * @module
 */

export * from "./detect/threshold.ts";
export * from "./detect/sustained.ts";
export * from "./detect/hysteresis.ts";
export * from "./detect/outliers.ts";
export * from "./detect/baseline.ts";
export * from "./detect/trend.ts";
export type { DetectorDuration, DetectorTime } from "./detect/_common.ts";
