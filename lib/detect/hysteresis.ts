/**
 * Hysteresis: fire above `high`, clear only below `low`, so a value hovering
 * around one threshold yields one alert instead of many.
 *
 * @module
 */

import pl from "nodejs-polars";
import { fingerprint } from "../labels.ts";
import {
  checkFrame,
  checkTimestamp,
  checkValueColumn,
  emptyResult,
  finite,
  fmtThreshold,
  fmtTime,
  fmtValue,
} from "./_common.ts";
import {
  labelsAt,
  resultFrame,
  type SeriesIndex,
  seriesIndex,
  type SeriesView,
} from "./_series.ts";

/**
 * Options of {@linkcode hysteresis} and {@linkcode hysteresisEpisodes}.
 *
 * @example
 * ```ts
 * import pl from "nodejs-polars";
 * import { fingerprint, hysteresis, type HysteresisOptions } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const frame = pl.DataFrame({
 *   instance: ["app:9100"],
 *   timestamp: pl.Series([Date.UTC(2026, 10, 1)]).cast(pl.Datetime("ms")),
 *   value: [80],
 * });
 * // 80 is below `high`, but the host was firing: it stays firing until below `low`.
 * const firing = [fingerprint({ instance: "app:9100" })]; // stored by the previous evaluation
 * const options: HysteresisOptions = { high: 85, low: 75, firing, unit: "%" };
 * assert.equal(hysteresis(frame, options).height, 1);
 * assert.equal(hysteresis(frame, { high: 85, low: 75 }).height, 0);
 * ```
 */
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

// --------------------------------------- state machine over a SeriesIndex (shared with lib/rules)

/** Validated parameters of a hysteresis scan. */
export interface HysteresisParams {
  /** Enter firing strictly above this. */
  high: number;
  /** Clear strictly below this. */
  low: number;
  /** Fingerprints of the series firing before the frame starts. */
  firing: ReadonlySet<string>;
  /** Unit shown in `reason`. */
  unit: string;
}

interface Episode {
  row: number;
  start: number | null;
  end: number;
  cleared: number | null;
  peak: number;
}

/** The fingerprints of the label sets of `series` (indices of the index). */
export function seriesFingerprints(index: SeriesIndex, series: ArrayLike<number>): string[] {
  const values = index.labelValues(series);
  const out: string[] = new Array(series.length);
  for (let k = 0; k < series.length; k++) out[k] = fingerprint(labelsAt(values, index.labels, k));
  return out;
}

/**
 * The series that can have an episode, loaded, and whether each starts the
 * frame firing. A series needs a valid sample above `high`, or must be
 * firing before the frame; with `current`, a series firing before the frame
 * that has a valid sample below `low` is skipped unless it re-enters (it
 * cleared), so only those are fingerprinted.
 */
function candidates(
  index: SeriesIndex,
  params: HysteresisParams,
  current: boolean,
): { view: SeriesView; initial: Uint8Array } {
  const v = pl.col("value");
  // polars orders NaN above every number: exclude it explicitly.
  const above = index.counts(v.gt(params.high).and(v.isNotNan()));
  // Rows at or above `low`, or missing: a series cleared when they are not all of its rows.
  const kept = index.counts(v.gtEq(params.low).or(v.isNan()).or(v.isNull()));
  const below = (s: number) => index.bounds[s + 1] - index.bounds[s] - kept[s];
  const firingBefore = new Uint8Array(index.count);
  if (params.firing.size > 0) {
    const maybe = index.select((s) => !current || below(s) === 0);
    const fps = seriesFingerprints(index, maybe);
    for (let k = 0; k < maybe.length; k++) {
      if (params.firing.has(fps[k])) firingBefore[maybe[k]] = 1;
    }
  }
  const view = index.load(index.select((s) => above[s] > 0 || firingBefore[s] === 1));
  const initial = new Uint8Array(view.series.length);
  for (let k = 0; k < view.series.length; k++) initial[k] = firingBefore[view.series[k]];
  return { view, initial };
}

/** Runs the state machine of every loaded series; NaN and null never change the state. */
function scan(view: SeriesView, params: HysteresisParams, initial: Uint8Array): Episode[][] {
  const { ts, values, starts, ends } = view;
  const { high, low } = params;
  const eps: Episode[][] = [];
  for (let s = 0; s < starts.length; s++) {
    const first = starts[s], last = ends[s];
    const list: Episode[] = [];
    let open: Episode | undefined = initial[s] === 1
      ? { row: first, start: null, end: ts[first], cleared: null, peak: -Infinity }
      : undefined;
    for (let i = first; i < last; i++) {
      const v = values[i];
      if (v !== v) continue; // NaN or null: missing data, state unchanged
      if (open === undefined) {
        if (v > high) {
          open = { row: i, start: ts[i], end: ts[i], cleared: null, peak: v };
        }
      } else if (v < low) {
        open.cleared = ts[i];
        list.push(open);
        open = undefined;
      } else {
        open.end = ts[i];
        if (v > open.peak) open.peak = v;
      }
    }
    if (open !== undefined) {
      open.end = ts[last - 1];
      list.push(open);
    }
    eps.push(list);
  }
  return eps;
}

/** `hysteresis()` over an index: the series firing at the end of the frame. */
export function hysteresisOn(index: SeriesIndex, params: HysteresisParams): pl.DataFrame {
  const { unit } = params;
  const { view, initial } = candidates(index, params, true);
  const eps = scan(view, params, initial);
  const rows: number[] = [], since: (number | null)[] = [], series: number[] = [];
  const reasons: string[] = [];
  const band = `above ${fmtThreshold(params.high, unit)}, clears below ${
    fmtThreshold(params.low, unit)
  }`;
  for (let s = 0; s < eps.length; s++) {
    const open = eps[s].at(-1);
    if (open === undefined || open.cleared !== null) continue;
    // The last valid sample of the series (its last row may be NaN).
    let row = view.ends[s] - 1;
    while (row > view.starts[s] && view.values[row] !== view.values[row]) row--;
    rows.push(row);
    since.push(open.start);
    series.push(view.series[s]);
    const when = open.start === null ? "before the frame" : fmtTime(open.start);
    reasons.push(`${fmtValue(view.values[row], unit)}: firing since ${when} (${band})`);
  }
  return resultFrame(view, rows, {}, reasons, [
    { name: "since", dtype: "datetime", values: since },
    { name: "fingerprint", dtype: "utf8", values: seriesFingerprints(index, series) },
  ]);
}

/** `hysteresisEpisodes()` over an index: every firing episode. */
export function hysteresisEpisodesOn(index: SeriesIndex, params: HysteresisParams): pl.DataFrame {
  const { unit } = params;
  const { view, initial } = candidates(index, params, false);
  const eps = scan(view, params, initial);
  const fps = seriesFingerprints(index, view.series);
  const rows: number[] = [], start: (number | null)[] = [], end: number[] = [];
  const cleared: (number | null)[] = [], peak: (number | null)[] = [], fpOut: string[] = [];
  const reasons: string[] = [];
  for (let s = 0; s < eps.length; s++) {
    for (const ep of eps[s]) {
      rows.push(ep.row);
      start.push(ep.start);
      end.push(ep.end);
      cleared.push(ep.cleared);
      peak.push(Number.isFinite(ep.peak) ? ep.peak : null);
      fpOut.push(fps[s]);
      const from = ep.start === null ? "before the frame" : fmtTime(ep.start);
      const to = ep.cleared === null ? "still firing" : `cleared ${fmtTime(ep.cleared)}`;
      const top = Number.isFinite(ep.peak) ? `, peak ${fmtValue(ep.peak, unit)}` : "";
      reasons.push(
        `> ${fmtThreshold(params.high, unit)} from ${from}, ${to} (< ${
          fmtThreshold(params.low, unit)
        })${top}`,
      );
    }
  }
  return resultFrame(view, rows, {}, reasons, [
    { name: "start", dtype: "datetime", values: start },
    { name: "end", dtype: "datetime", values: end },
    { name: "cleared", dtype: "datetime", values: cleared },
    { name: "peak", dtype: "float", values: peak },
    { name: "fingerprint", dtype: "utf8", values: fpOut },
  ]);
}
