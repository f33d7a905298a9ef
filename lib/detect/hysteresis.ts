/**
 * Hysteresis: fire above `high`, clear only below `low`, so a value hovering
 * around one threshold yields one alert instead of many.
 *
 * @module
 */

import type pl from "nodejs-polars";
import { checkFrame, checkTimestamp, checkValueColumn, emptyResult, finite } from "./_common.ts";
import { hysteresisEpisodesOn, hysteresisOn, type HysteresisParams } from "./_hysteresis.ts";
import { type SeriesIndex, seriesIndex } from "./_series.ts";

/** Options of {@linkcode hysteresis} and {@linkcode hysteresisEpisodes}. */
export interface HysteresisOptions {
  /** A series enters firing at a value strictly above `high`. Finite, at least `low`. */
  high: number;
  /** A firing series clears only at a value strictly below `low`. Finite, at most `high`. */
  low: number;
  /**
   * Fingerprints (see `fingerprint()` in `lib/labels.ts`, of the series' label set) of
   * the series already firing before the frame starts: the state a periodic
   * monitor stored from its previous evaluation.
   * @default {[]}
   */
  firing?: Iterable<string>;
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

function params(options: HysteresisOptions): HysteresisParams {
  return {
    high: options.high,
    low: options.low,
    firing: new Set(options.firing ?? []),
    unit: options.unit ?? "",
  };
}

function prepare(
  frame: pl.DataFrame,
  options: HysteresisOptions,
  fn: string,
): SeriesIndex | undefined {
  checkFrame(frame, fn);
  const high = finite("high", options?.high);
  const low = finite("low", options.low);
  if (low > high) {
    throw new RangeError(
      `Invalid hysteresis band: low (${low}) is above high (${high}); pass low <= high, e.g. { high: 85, low: 75 }`,
    );
  }
  const column = options.column ?? "value";
  if (frame.height === 0) return undefined;
  checkValueColumn(frame, column);
  checkTimestamp(frame, fn);
  return seriesIndex(frame, column);
}

/**
 * The series firing at the end of the frame under a hysteresis band: a
 * series enters firing when a sample is strictly above `high` and leaves only
 * when a sample is strictly below `low`; values in between keep the state, and
 * NaN or null (missing data) never change it. Series listed in `firing` start
 * the frame already firing, so a monitor evaluating every 5 minutes over a
 * short range carries its state across evaluations.
 *
 * Returns one row per firing series: labels, `timestamp` and `value` of its
 * last sample, `reason`, `since` (Datetime when it entered firing; null when
 * it was already firing before the frame) and `fingerprint`. The state machine
 * is a typed-array loop per series (polars 0.25.2's Node API has no stateful
 * scan).
 *
 * @throws {RangeError} when a bound is not finite or `low` is above `high`.
 * @throws {TypeError} when the frame lacks `timestamp` or the value column.
 *
 * @example Enter at 85, stay through 78, clear below 75
 * ```ts
 * import pl from "nodejs-polars";
 * import { hysteresis } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const t0 = Date.UTC(2026, 10, 1);
 * const values = [70, 88, 78, 83, 78];
 * const frame = pl.DataFrame({
 *   instance: values.map(() => "app:9100"),
 *   timestamp: pl.Series(values.map((_, i) => t0 + i * 300_000)).cast(pl.Datetime("ms")),
 *   value: values,
 * });
 * const firing = hysteresis(frame, { high: 85, low: 75 });
 * assert.deepEqual(firing.getColumn("since").cast(pl.Float64).toArray(), [t0 + 300_000]);
 * assert.equal(hysteresis(frame.head(1), { high: 85, low: 75 }).height, 0);
 * ```
 */
export function hysteresis(frame: pl.DataFrame, options: HysteresisOptions): pl.DataFrame {
  const index = prepare(frame, options, "hysteresis");
  if (index === undefined) {
    return emptyResult(frame, [
      { name: "since", dtype: "datetime" },
      { name: "fingerprint", dtype: "utf8" },
    ]);
  }
  return hysteresisOn(index, params(options));
}

/**
 * Every firing episode of every series under a hysteresis band (same state
 * machine as {@linkcode hysteresis}): for analysis over a long range.
 *
 * One row per episode, in label then time order: labels, `timestamp` (when it
 * entered firing, or the series' first sample when it was already firing),
 * `value` (the value then), `reason`, `start` (null when already firing
 * before the frame), `end` (the last sample while firing), `cleared` (the
 * sample below `low` that ended it; null when still firing at the end of the
 * frame), `peak` and `fingerprint`.
 *
 * @throws {RangeError} when a bound is not finite or `low` is above `high`.
 * @throws {TypeError} when the frame lacks `timestamp` or the value column.
 *
 * @example One episode for a value flapping around 80
 * ```ts
 * import pl from "nodejs-polars";
 * import { hysteresisEpisodes } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const t0 = Date.UTC(2026, 10, 1);
 * const values = [70, 88, 78, 83, 78, 83, 60];
 * const frame = pl.DataFrame({
 *   instance: values.map(() => "app:9100"),
 *   timestamp: pl.Series(values.map((_, i) => t0 + i * 300_000)).cast(pl.Datetime("ms")),
 *   value: values,
 * });
 * const episodes = hysteresisEpisodes(frame, { high: 85, low: 75 });
 * assert.equal(episodes.height, 1);
 * assert.deepEqual(episodes.getColumn("cleared").cast(pl.Float64).toArray(), [t0 + 6 * 300_000]);
 * ```
 */
export function hysteresisEpisodes(frame: pl.DataFrame, options: HysteresisOptions): pl.DataFrame {
  const index = prepare(frame, options, "hysteresisEpisodes");
  if (index === undefined) {
    return emptyResult(frame, [
      { name: "start", dtype: "datetime" },
      { name: "end", dtype: "datetime" },
      { name: "cleared", dtype: "datetime" },
      { name: "peak", dtype: "float" },
      { name: "fingerprint", dtype: "utf8" },
    ]);
  }
  return hysteresisEpisodesOn(index, params(options));
}
