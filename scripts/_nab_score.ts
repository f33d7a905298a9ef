/**
 * A port of NAB's sweeper, threshold optimizer and normalizer (`nab/sweeper.py`,
 * `nab/optimizer.py`, `Runner.normalize`), in process, for iterating on a
 * detector in a second instead of the official scorer's 15 s to a minute. It
 * gives the official totals to the last digit on every run compared; the
 * figures this project reports still come from the official scorer.
 *
 * @module
 */

/** The profiles' cost weights, as NAB's `config/profiles.json`. */
export const NAB_PROFILES: Record<string, { tp: number; fn: number; fp: number }> = {
  standard: { tp: 1, fn: 1, fp: 0.11 },
  reward_low_FP_rate: { tp: 1, fn: 1, fp: 0.22 },
  reward_low_FN_rate: { tp: 1, fn: 2, fp: 0.11 },
};

/** One scored file: its path under `data/`, row times (epoch ms) and anomaly scores. */
export interface NabScoredFile {
  /** `<corpus>/<file>.csv`. */
  rel: string;
  /** Epoch ms of each row. */
  times: ArrayLike<number>;
  /** The detector's score of each row. */
  scores: ArrayLike<number>;
}

/** What {@linkcode fastNabScores} found. */
export interface FastNabResult {
  /** Normalized score per profile (100 perfect, 0 the null detector). */
  scores: Record<string, number>;
  /** The optimizer's threshold per profile. */
  thresholds: Record<string, number>;
  /** Per corpus at each profile's threshold: normalized score, windows found of all, false-positive rows. */
  corpora: Record<
    string,
    Record<string, { score: number; found: number; windows: number; fp: number }>
  >;
}

function scaledSigmoid(x: number): number {
  return x > 3 ? -1 : 2 / (1 + Math.exp(5 * x)) - 1;
}

/** Label times ("2014-04-10 07:15:00.000000", naive UTC) in epoch ms. */
function labelTime(text: string): number {
  return Date.parse(`${text.slice(0, 19).replace(" ", "T")}Z`);
}

/**
 * NAB's three normalized profile scores of `files` against `windows` (the
 * contents of `labels/combined_windows.json`): per row the sweep score
 * (scaled sigmoid of the position in or after a window, rows of the
 * probationary 15 % left out), then per profile the one threshold over all
 * files that maximizes the summed score, normalized against the null
 * detector and the perfect one.
 *
 * @throws {RangeError} when a file has no windows entry or a window edge is not one of its times.
 */
export function fastNabScores(
  files: NabScoredFile[],
  windows: Record<string, [string, string][]>,
): FastNabResult {
  const maxTP = scaledSigmoid(-1);
  const rows: { s: number; w: number; u: number; c: string; f: number }[] = [];
  const meta: { c: string; wins: number }[] = [];
  let base = 0;
  for (const [fi, file] of files.entries()) {
    const wins = windows[file.rel];
    if (wins === undefined) throw new RangeError(`No NAB windows for ${file.rel}`);
    const index = new Map<number, number>();
    for (let i = 0; i < file.times.length; i++) index.set(file.times[i], i);
    const edges = wins.map(([a, b]) => {
      const ia = index.get(labelTime(a)), ib = index.get(labelTime(b));
      if (ia === undefined || ib === undefined) {
        throw new RangeError(`NAB window ${a} – ${b} of ${file.rel} is not on its rows`);
      }
      return [ia, ib];
    });
    const n = file.times.length, probation = Math.min(Math.floor(0.15 * n), 0.15 * 5000);
    const corpus = file.rel.split("/")[0];
    meta.push({ c: corpus, wins: wins.length });
    let next = 0, cur = -1, right = -1, width = 0, prevRight = -1, prevWidth = 0;
    for (let i = 0; i < n; i++) {
      if (next < edges.length && i === edges[next][0]) {
        cur = next;
        right = edges[next][1];
        width = right - edges[next][0] + 1;
        next++;
      }
      let u: number;
      if (cur >= 0) u = scaledSigmoid(-(right - i + 1) / width) / maxTP;
      else u = prevRight < 0 ? -1 : scaledSigmoid(Math.abs(prevRight - i) / (prevWidth - 1));
      if (i >= probation && file.scores[i] > 0) {
        rows.push({ s: file.scores[i], w: cur >= 0 ? base + cur : -1, u, c: corpus, f: fi });
      }
      if (cur >= 0 && i === right) {
        prevRight = i;
        prevWidth = width;
        cur = -1;
      }
    }
    base += wins.length;
  }
  rows.sort((a, b) => b.s - a.s);
  const total = base;
  const out: FastNabResult = { scores: {}, thresholds: {}, corpora: {} };
  for (const [name, { tp, fn, fp }] of Object.entries(NAB_PROFILES)) {
    const best = new Float64Array(total).fill(-fn);
    let sum = -fn * total, top = sum, threshold = 1.1;
    for (let k = 0; k < rows.length; k++) {
      const r = rows[k];
      if (r.w < 0) sum += r.u * fp;
      else if (r.u * tp > best[r.w]) {
        sum += r.u * tp - best[r.w];
        best[r.w] = r.u * tp;
      }
      if ((k + 1 === rows.length || rows[k + 1].s !== r.s) && sum > top) {
        top = sum;
        threshold = r.s;
      }
    }
    out.scores[name] = 100 * (top + fn * total) / (tp * total + fn * total);
    out.thresholds[name] = threshold;
    // per corpus at that threshold
    const agg: Record<string, { raw: number; found: number; windows: number; fp: number }> = {};
    for (const m of meta) {
      const a = agg[m.c] ??= { raw: 0, found: 0, windows: 0, fp: 0 };
      a.windows += m.wins;
      a.raw -= fn * m.wins;
    }
    const got = new Float64Array(total).fill(-fn);
    const corpusOf: string[] = [];
    meta.forEach((m) => {
      for (let w = 0; w < m.wins; w++) corpusOf.push(m.c);
    });
    for (const r of rows) {
      if (r.s < threshold) break;
      if (r.w < 0) {
        agg[r.c].raw += r.u * fp;
        agg[r.c].fp++;
      } else if (r.u * tp > got[r.w]) {
        if (got[r.w] === -fn) agg[r.c].found++;
        agg[r.c].raw += r.u * tp - got[r.w];
        got[r.w] = r.u * tp;
      }
    }
    out.corpora[name] = Object.fromEntries(
      Object.entries(agg).sort(([a], [b]) => a.localeCompare(b)).map(([c, a]) => [c, {
        score: a.windows ? 100 * (a.raw + fn * a.windows) / ((tp + fn) * a.windows) : NaN,
        found: a.found,
        windows: a.windows,
        fp: a.fp,
      }]),
    );
  }
  return out;
}
