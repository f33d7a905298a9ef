/**
 * Detectors over polars DataFrames: the classic threshold, sustained (`for:`)
 * conditions, hysteresis, fleet outliers (median/MAD), per-host baselines and
 * trend to saturation. Each returns a frame of the offending series (labels,
 * `timestamp`, `value`, a human-readable `reason` and detector-specific
 * columns) so the same rows can be charted and alerted on.
 *
 * @module
 */

export { missingData, overThreshold } from "./threshold.ts";
export type { MissingDataOptions, OverThresholdOptions } from "./threshold.ts";
export { sustained, sustainedEpisodes } from "./sustained.ts";
export type { SustainedEpisodesOptions, SustainedOptions } from "./sustained.ts";
export { hysteresis, hysteresisEpisodes } from "./hysteresis.ts";
export type { HysteresisOptions } from "./hysteresis.ts";
export { fleetOutliers } from "./outliers.ts";
export type { FleetOutliersOptions } from "./outliers.ts";
export { baselineAnomalies } from "./baseline.ts";
export type { BaselineAnomaliesOptions } from "./baseline.ts";
export { trend } from "./trend.ts";
export type { TrendOptions } from "./trend.ts";
export type { DetectorDuration, DetectorTime } from "./_common.ts";
export { AnomalyScorer, anomalyScores } from "./anomaly.ts";
export type {
  AnomalyScorerOptions,
  AnomalyScorerState,
  AnomalyScoresOptions,
  ScoreManyOptions,
} from "./anomaly.ts";
export { NormalRange } from "./normal_range.ts";
export type { NormalBand, NormalRangeOptions, NormalRangeState } from "./normal_range.ts";
export {
  anomalySpans,
  AnomalyTracker,
  normalText,
  outsideBand,
  unusualText,
} from "./anomaly_spans.ts";
export type {
  AnomalyDirection,
  AnomalyPoint,
  AnomalySpansOptions,
  AnomalySpanState,
  AnomalyTrackerOptions,
  AnomalyTrackerState,
} from "./anomaly_spans.ts";
