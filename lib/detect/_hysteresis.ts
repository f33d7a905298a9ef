/**
 * The state machine behind `hysteresis()` and `hysteresisEpisodes()`, over a
 * {@linkcode SeriesIndex}, so the alert rules can share one index between
 * detectors. Not exported from `lib/mod.ts`.
 *
 * @module
 */

import pl from "nodejs-polars";
import { fingerprint } from "../labels.ts";
import { fmtThreshold, fmtTime, fmtValue } from "./_common.ts";
import { labelsAt, resultFrame, type SeriesIndex, type SeriesView } from "./_series.ts";

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
