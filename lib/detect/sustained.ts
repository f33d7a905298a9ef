/**
 * Sustained conditions: over a threshold at every evaluation step for a
 * duration, Prometheus' `for:` clause, on range frames.
 *
 * @module
 */

import type pl from "nodejs-polars";
import {
  checkFrame,
  checkTimestamp,
  checkValueColumn,
  type DetectorDuration,
  type DetectorTime,
  durationMs,
  emptyResult,
  finite,
  timeMs,
} from "./_common.ts";
import { seriesIndex } from "./_series.ts";
import { sustainedEpisodesOn, sustainedOn, type SustainedParams } from "./_sustained.ts";

/** Options of {@linkcode sustainedEpisodes}. */
export interface SustainedEpisodesOptions {
  /** A sample counts as over when its value is strictly greater. Must be a finite number. */
  threshold: number;
  /**
   * How long the condition must hold, like Prometheus' `for:`: a duration
   * string (`"5m"`) or milliseconds.
   */
  for: DetectorDuration;
  /**
   * The numeric column to compare.
   * @default {"value"}
   */
  column?: string;
  /**
   * The evaluation step: consecutive samples further apart than this break a
   * run (a missing evaluation resets a Prometheus alert). A duration string or
   * milliseconds.
   * @default {the smallest gap between consecutive samples of a series in the frame}
   */
  step?: DetectorDuration;
  /**
   * Unit shown in `reason`, e.g. `"%"`.
   * @default {""}
   */
  unit?: string;
}

/** Options of {@linkcode sustained}. */
export interface SustainedOptions extends SustainedEpisodesOptions {
  /**
   * The evaluation time: a `Date`, epoch ms or an RFC 3339 string.
   * @default {the frame's last timestamp}
   */
  at?: DetectorTime;
}

function prepare(
  frame: pl.DataFrame,
  options: SustainedEpisodesOptions,
  fn: string,
): SustainedParams | undefined {
  checkFrame(frame, fn);
  const threshold = finite("threshold", options?.threshold);
  if (options.for === undefined) {
    throw new TypeError(
      `Missing option "for": pass the duration the condition must hold, e.g. "5m"`,
    );
  }
  const forMs = durationMs("for", options.for);
  const explicitStep = options.step === undefined ? undefined : durationMs("step", options.step);
  if (explicitStep === 0) throw new RangeError(`Invalid step: expected a positive duration, got 0`);
  if (frame.height === 0) return undefined;
  checkValueColumn(frame, options.column ?? "value");
  checkTimestamp(frame, fn);
  return { threshold, forMs, step: explicitStep, unit: options.unit ?? "" };
}

/**
 * The series whose condition `value > threshold` has held at every sample for
 * at least `for` at the evaluation time `at`, with Prometheus' `for:`
 * semantics: a series is sustained when it has a sample at the current step
 * (in `(at - step, at]`), that sample is over the threshold, and the run of
 * consecutive over-threshold samples ending there (no sample at or below the
 * threshold, no NaN or null, no gap longer than `step`) started at `since`
 * with `at - since >= for`. A short spike therefore never fires, and a NaN
 * (missing data) resets the run as a missing evaluation would.
 *
 * Returns one row per sustained series: its labels, `timestamp` and `value`
 * of the current sample, `reason` (`"95.0 % > 80 % for 1h0m0s since …"`),
 * `since` (Datetime, start of the run) and `peak` (the run's maximum).
 * The per-series run scan is a typed-array loop: polars 0.25.2's Node API has
 * no stateful scan.
 *
 * @throws {RangeError} when `threshold` is not finite or a duration is malformed.
 * @throws {TypeError} when the frame lacks `timestamp` or the value column.
 *
 * @example Over 80 % for 5 minutes
 * ```ts
 * import pl from "nodejs-polars";
 * import { sustained } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const t0 = Date.UTC(2026, 10, 1);
 * const minutes = [0, 1, 2, 3, 4, 5, 6];
 * const frame = pl.DataFrame({
 *   instance: minutes.map(() => "db:9100"),
 *   timestamp: pl.Series(minutes.map((m) => t0 + m * 60_000)).cast(pl.Datetime("ms")),
 *   value: [50, 90, 91, 92, 93, 94, 95],
 * });
 * const hot = sustained(frame, { threshold: 80, for: "5m", unit: "%" });
 * assert.deepEqual(hot.getColumn("instance").toArray(), ["db:9100"]);
 * assert.deepEqual(hot.getColumn("since").cast(pl.Float64).toArray(), [t0 + 60_000]);
 * assert.equal(sustained(frame, { threshold: 80, for: "10m" }).height, 0);
 * ```
 */
export function sustained(frame: pl.DataFrame, options: SustainedOptions): pl.DataFrame {
  const p = prepare(frame, options, "sustained");
  if (p === undefined) {
    return emptyResult(frame, [
      { name: "since", dtype: "datetime" },
      { name: "peak", dtype: "float" },
    ]);
  }
  const index = seriesIndex(frame, options.column ?? "value");
  return sustainedOn(index, p, options.at === undefined ? undefined : timeMs("at", options.at));
}

/**
 * Every episode in a range frame during which a series stayed over
 * `threshold` long enough to fire with `for:`: runs of consecutive
 * over-threshold samples (same run rules as {@linkcode sustained}) with
 * `end - start >= for`. For analysis over a long range ("how often did this
 * page?").
 *
 * One row per episode, in label then time order: labels, `timestamp` (when the
 * alert would start firing: the first sample at least `for` after `start`),
 * `value` (the value then), `reason`, `start` and `end` (first and last
 * over-threshold sample of the run, Datetime) and `peak`.
 *
 * @throws {RangeError} when `threshold` is not finite or a duration is malformed.
 * @throws {TypeError} when the frame lacks `timestamp` or the value column.
 *
 * @example Two episodes, one short spike ignored
 * ```ts
 * import pl from "nodejs-polars";
 * import { sustainedEpisodes } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const t0 = Date.UTC(2026, 10, 1);
 * const values = [90, 90, 90, 10, 95, 10, 85, 85, 85, 85];
 * const frame = pl.DataFrame({
 *   instance: values.map(() => "db:9100"),
 *   timestamp: pl.Series(values.map((_, i) => t0 + i * 60_000)).cast(pl.Datetime("ms")),
 *   value: values,
 * });
 * const episodes = sustainedEpisodes(frame, { threshold: 80, for: "2m" });
 * assert.deepEqual(
 *   episodes.getColumn("start").cast(pl.Float64).toArray().map((t) => (t - t0) / 60_000),
 *   [0, 6],
 * );
 * ```
 */
export function sustainedEpisodes(
  frame: pl.DataFrame,
  options: SustainedEpisodesOptions,
): pl.DataFrame {
  const p = prepare(frame, options, "sustainedEpisodes");
  if (p === undefined) {
    return emptyResult(frame, [
      { name: "start", dtype: "datetime" },
      { name: "end", dtype: "datetime" },
      { name: "peak", dtype: "float" },
    ]);
  }
  return sustainedEpisodesOn(seriesIndex(frame, options.column ?? "value"), p);
}
