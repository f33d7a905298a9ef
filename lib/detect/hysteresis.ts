/**
 * Hysteresis: fire above `high`, clear only below `low`, so a value hovering
 * around one threshold yields one alert instead of many.
 *
 * @module
 */

import type pl from "nodejs-polars";
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
  resultFrame,
  rowLabels,
  type SeriesView,
  seriesView,
} from "./_common.ts";

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

interface Episode {
  row: number;
  start: number | null;
  end: number;
  cleared: number | null;
  peak: number;
}

/** Runs the state machine of every series; NaN and null (missing data) never change the state. */
function scan(
  view: SeriesView,
  options: HysteresisOptions,
): { fp: (s: number) => string; eps: Episode[][] } {
  const { ts, values, starts, labels, sorted } = view;
  const high = options.high, low = options.low;
  const firing = new Set(options.firing ?? []);
  // Fingerprints are computed only when needed: for the firing state passed
  // in, and for the result rows.
  let labelValues: (string | null)[][] | undefined;
  const fps: string[] = [];
  const fp = (s: number): string => {
    if (fps[s] !== undefined) return fps[s];
    labelValues ??= labels.map((l) => sorted.getColumn(l).toArray() as (string | null)[]);
    return fps[s] = fingerprint(rowLabels(labelValues, labels, starts[s]));
  };
  const eps: Episode[][] = [];
  for (let s = 0; s + 1 < starts.length; s++) {
    const first = starts[s], last = starts[s + 1];
    const list: Episode[] = [];
    let open: Episode | undefined = firing.size > 0 && firing.has(fp(s))
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
  return { fp, eps };
}

function prepare(
  frame: pl.DataFrame,
  options: HysteresisOptions,
  fn: string,
): SeriesView | undefined {
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
  return seriesView(frame, column);
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
  const view = prepare(frame, options, "hysteresis");
  const extras = [
    { name: "since", dtype: "datetime" as const },
    { name: "fingerprint", dtype: "utf8" as const },
  ];
  if (view === undefined) return emptyResult(frame, extras);
  const unit = options.unit ?? "";
  const { fp, eps } = scan(view, options);
  const rows: number[] = [], since: (number | null)[] = [], fpOut: string[] = [];
  const reasons: string[] = [];
  const band = `above ${fmtThreshold(options.high, unit)}, clears below ${
    fmtThreshold(options.low, unit)
  }`;
  for (let s = 0; s < eps.length; s++) {
    const open = eps[s].at(-1);
    if (open === undefined || open.cleared !== null) continue;
    // The last valid sample of the series (its last row may be NaN).
    let row = view.starts[s + 1] - 1;
    while (row > view.starts[s] && view.values[row] !== view.values[row]) row--;
    rows.push(row);
    since.push(open.start);
    fpOut.push(fp(s));
    const when = open.start === null ? "before the frame" : fmtTime(open.start);
    reasons.push(`${fmtValue(view.values[row], unit)}: firing since ${when} (${band})`);
  }
  return resultFrame(view, rows, {}, reasons, [
    { name: "since", dtype: "datetime", values: since },
    { name: "fingerprint", dtype: "utf8", values: fpOut },
  ]);
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
  const view = prepare(frame, options, "hysteresisEpisodes");
  const extras = [
    { name: "start", dtype: "datetime" as const },
    { name: "end", dtype: "datetime" as const },
    { name: "cleared", dtype: "datetime" as const },
    { name: "peak", dtype: "float" as const },
    { name: "fingerprint", dtype: "utf8" as const },
  ];
  if (view === undefined) return emptyResult(frame, extras);
  const unit = options.unit ?? "";
  const { fp, eps } = scan(view, options);
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
      fpOut.push(fp(s));
      const from = ep.start === null ? "before the frame" : fmtTime(ep.start);
      const to = ep.cleared === null ? "still firing" : `cleared ${fmtTime(ep.cleared)}`;
      const top = Number.isFinite(ep.peak) ? `, peak ${fmtValue(ep.peak, unit)}` : "";
      reasons.push(
        `> ${fmtThreshold(options.high, unit)} from ${from}, ${to} (< ${
          fmtThreshold(options.low, unit)
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
