/**
 * Sustained conditions: over a threshold at every evaluation step for a
 * duration, Prometheus' `for:` clause, on range frames.
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
  fmtTime,
  fmtValue,
  timeMs,
} from "./_common.ts";
import { resultFrame, type SeriesIndex, seriesIndex, type SeriesView } from "./_series.ts";

/**
 * Options of {@linkcode sustainedEpisodes}.
 *
 * @example
 * ```ts
 * import pl from "nodejs-polars";
 * import { sustainedEpisodes, type SustainedEpisodesOptions } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const t0 = Date.UTC(2026, 10, 1);
 * const values = [50, 90, 91, 92, 93, 94, 95, 60];
 * const frame = pl.DataFrame({
 *   instance: values.map(() => "db:9100"),
 *   timestamp: pl.Series(values.map((_, i) => t0 + i * 60_000)).cast(pl.Datetime("ms")),
 *   value: values,
 * });
 * const options: SustainedEpisodesOptions = { threshold: 80, for: "5m", unit: "%" };
 * const episodes = sustainedEpisodes(frame, options);
 * assert.equal(episodes.height, 1); // 90–95 % from minute 1 to minute 6
 * ```
 */
export interface SustainedEpisodesOptions {
  /** A sample counts as over when its value is strictly greater. Must be a finite number. */
  threshold: number;
  /**
   * How long the condition must hold, like Prometheus' `for:`: a duration
   * string (`"5m"`) or seconds.
   */
  for: DurationInput;
  /**
   * The numeric column to compare.
   * @default {"value"}
   */
  column?: string;
  /**
   * The evaluation step: consecutive samples further apart than this break a
   * run (a missing evaluation resets a Prometheus alert). A duration string or
   * seconds.
   * @default {the smallest gap between consecutive samples of a series in the frame}
   */
  step?: DurationInput;
  /**
   * Unit shown in `reason`, e.g. `"%"`.
   * @default {""}
   */
  unit?: string;
}

/**
 * Options of {@linkcode sustained}.
 *
 * @example Evaluate as of an earlier time
 * ```ts
 * import pl from "nodejs-polars";
 * import { sustained, type SustainedOptions } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const t0 = Date.UTC(2026, 10, 1);
 * const values = [50, 90, 91, 92, 93, 94, 95, 60];
 * const frame = pl.DataFrame({
 *   instance: values.map(() => "db:9100"),
 *   timestamp: pl.Series(values.map((_, i) => t0 + i * 60_000)).cast(pl.Datetime("ms")),
 *   value: values,
 * });
 * const asOfMinute6: SustainedOptions = {
 *   threshold: 80,
 *   for: "5m",
 *   at: new Date(t0 + 6 * 60_000),
 * };
 * assert.equal(sustained(frame, asOfMinute6).height, 1);
 * assert.equal(sustained(frame, { threshold: 80, for: "5m" }).height, 0); // back to 60 % at the end
 * ```
 */
export interface SustainedOptions extends SustainedEpisodesOptions {
  /**
   * The evaluation time: a `Date`, epoch seconds or an RFC 3339 string.
   * @default {the frame's last timestamp}
   */
  at?: TimeInput;
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

// ------------------------------------------ run scans over a SeriesIndex (shared with lib/rules)

/** Validated parameters of a sustained scan. */
export interface SustainedParams {
  /** Strictly greater counts as over. */
  threshold: number;
  /** How long the run must last, in ms. */
  forMs: number;
  /** The evaluation step in ms; inferred from the frame when undefined. */
  step?: number;
  /** Unit shown in `reason`. */
  unit: string;
}

function isOver(value: number, threshold: number): boolean {
  return value > threshold; // false for NaN
}

/**
 * The series with at least one sample over the threshold, loaded: the only
 * ones a run can come from (NaN and null never count).
 */
function overSeries(index: SeriesIndex, threshold: number): SeriesView {
  const v = pl.col("value");
  // polars orders NaN above every number: exclude it explicitly.
  const over = index.counts(v.gt(threshold).and(v.isNotNan()));
  return index.load(index.select((s) => over[s] > 0));
}

/** `sustained()` over an index; `at` in epoch ms, default the frame's last timestamp. */
export function sustainedOn(
  index: SeriesIndex,
  params: SustainedParams,
  at: number = index.maxTime(),
): pl.DataFrame {
  const { threshold, forMs, unit } = params;
  const step = params.step ?? index.step();
  const view = overSeries(index, threshold);
  const { ts, values, starts, ends } = view;
  const rows: number[] = [], since: number[] = [], peaks: number[] = [], reasons: string[] = [];
  const limit = fmtThreshold(threshold, unit);
  for (let s = 0; s < starts.length; s++) {
    const first = starts[s];
    let i = ends[s] - 1;
    while (i >= first && ts[i] > at) i--;
    if (i < first) continue;
    const current = Number.isFinite(step) ? at - ts[i] < step : at === ts[i];
    if (!current || !isOver(values[i], threshold)) continue;
    let j = i, peak = values[i];
    while (j > first && isOver(values[j - 1], threshold) && ts[j] - ts[j - 1] <= step) {
      j--;
      if (values[j] > peak) peak = values[j];
    }
    if (at - ts[j] < forMs) continue;
    rows.push(i);
    since.push(ts[j]);
    peaks.push(peak);
    reasons.push(
      `${fmtValue(values[i], unit)} > ${limit} for ${fmtDuration(at - ts[j])} since ${
        fmtTime(ts[j])
      }`,
    );
  }
  return resultFrame(view, rows, {}, reasons, [
    { name: "since", dtype: "datetime", values: since },
    { name: "peak", dtype: "float", values: peaks },
  ]);
}

/** `sustainedEpisodes()` over an index. */
export function sustainedEpisodesOn(index: SeriesIndex, params: SustainedParams): pl.DataFrame {
  const { threshold, forMs, unit } = params;
  const step = params.step ?? index.step();
  const view = overSeries(index, threshold);
  const { ts, values, starts, ends } = view;
  const rows: number[] = [], startTs: number[] = [], endTs: number[] = [], peaks: number[] = [];
  const reasons: string[] = [];
  const limit = fmtThreshold(threshold, unit);
  for (let s = 0; s < starts.length; s++) {
    const last = ends[s];
    let i = starts[s];
    while (i < last) {
      if (!isOver(values[i], threshold)) {
        i++;
        continue;
      }
      const begin = i;
      let peak = values[i];
      while (i + 1 < last && isOver(values[i + 1], threshold) && ts[i + 1] - ts[i] <= step) {
        i++;
        if (values[i] > peak) peak = values[i];
      }
      if (ts[i] - ts[begin] >= forMs) {
        let fire = begin;
        while (ts[fire] - ts[begin] < forMs) fire++;
        rows.push(fire);
        startTs.push(ts[begin]);
        endTs.push(ts[i]);
        peaks.push(peak);
        reasons.push(
          `> ${limit} from ${fmtTime(ts[begin])} to ${fmtTime(ts[i])} (${
            fmtDuration(ts[i] - ts[begin])
          }), peak ${fmtValue(peak, unit)}`,
        );
      }
      i++;
    }
  }
  return resultFrame(view, rows, {}, reasons, [
    { name: "start", dtype: "datetime", values: startTs },
    { name: "end", dtype: "datetime", values: endTs },
    { name: "peak", dtype: "float", values: peaks },
  ]);
}
