/**
 * The run scans behind `sustained()` and `sustainedEpisodes()`, over a
 * {@linkcode SeriesIndex}, so the alert rules can share one index between
 * detectors. Not exported from `lib/mod.ts`.
 *
 * @module
 */

import pl from "nodejs-polars";
import { fmtDuration, fmtThreshold, fmtTime, fmtValue } from "./_common.ts";
import { resultFrame, type SeriesIndex, type SeriesView } from "./_series.ts";

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
