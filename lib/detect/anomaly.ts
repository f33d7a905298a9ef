/**
 * Streaming anomaly scores per series, in [0, 1], causal and one pass.
 *
 * @module
 */

import pl from "nodejs-polars";
import {
  checkFrame,
  checkTimestamp,
  checkValueColumn,
  integerAtLeast,
  labelColumns,
} from "./_common.ts";
import { seriesIndex } from "./_series.ts";
import { Core, type CoreState, DEFAULT_PARAMS } from "./_anomaly_core.ts";

/**
 * Options of {@linkcode AnomalyScorer}.
 *
 * @example
 * ```ts
 * import { AnomalyScorer, type AnomalyScorerOptions } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const options: AnomalyScorerOptions = { warmup: 10 };
 * const scorer = new AnomalyScorer(options);
 * assert.equal(scorer.score(42), 0); // still warming up: no score yet
 * ```
 */
export interface AnomalyScorerOptions {
  /**
   * Samples scored 0 at the start of a series while the model learns its
   * range, rhythm and noise. An integer of at least 1.
   * @default {150}
   */
  warmup?: number;
}

/**
 * Options of {@linkcode anomalyScores}.
 *
 * @example
 * ```ts
 * import pl from "nodejs-polars";
 * import { anomalyScores, type AnomalyScoresOptions } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const t0 = Date.UTC(2026, 10, 1);
 * const frame = pl.DataFrame({
 *   instance: ["a", "a", "a"],
 *   timestamp: pl.Series([t0, t0 + 60_000, t0 + 120_000]).cast(pl.Datetime("ms")),
 *   load: [1, 2, 3],
 * });
 * const options: AnomalyScoresOptions = { column: "load" };
 * assert.equal(anomalyScores(frame, options).height, 3); // one score per row
 * ```
 */
export interface AnomalyScoresOptions extends AnomalyScorerOptions {
  /**
   * The numeric column to score.
   * @default {"value"}
   */
  column?: string;
}

/**
 * Options of {@linkcode AnomalyScorer.scoreMany}.
 *
 * @example
 * ```ts
 * import { AnomalyScorer, type ScoreManyOptions } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const values = Array.from({ length: 100 }, (_, i) => 30 + (i % 5));
 * const options: ScoreManyOptions = { out: new Float64Array(values.length) }; // reuse a buffer
 * const scores = new AnomalyScorer().scoreMany(values, options);
 * assert.equal(scores, options.out);
 * ```
 */
export interface ScoreManyOptions {
  /**
   * Where the scores go (at least as long as the values); a new array when absent.
   * @default {undefined}
   */
  out?: Float64Array;
  /**
   * The samples' times in epoch ms, one per value: they feed the seasonal
   * context (time of day). Without them that signal is off.
   * @default {undefined}
   */
  timestamps?: ArrayLike<number>;
}

/**
 * The state of an {@linkcode AnomalyScorer} as plain JSON data
 * ({@linkcode AnomalyScorer.toJSON}); restore it with
 * {@linkcode AnomalyScorer.fromJSON}. Its fields are internal and versioned
 * by `version`.
 *
 * @example Keep a scorer across restarts
 * ```ts
 * import { AnomalyScorer, type AnomalyScorerState } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const scorer = new AnomalyScorer();
 * for (let i = 0; i < 200; i++) scorer.score(30 + (i % 5));
 * const state: AnomalyScorerState = JSON.parse(JSON.stringify(scorer)); // e.g. a file
 * const restored = AnomalyScorer.fromJSON(state);
 * assert.equal(restored.score(31), scorer.score(31));
 * ```
 */
export interface AnomalyScorerState {
  /** Format version of the state. */
  version: 2;
  /** The options the scorer was built with, defaults resolved. */
  options: Required<AnomalyScorerOptions>;
  /** The model: internal, opaque. */
  model: CoreState;
}

function resolve(options: AnomalyScorerOptions): Required<AnomalyScorerOptions> {
  return { warmup: integerAtLeast("warmup", options.warmup ?? DEFAULT_PARAMS.warmup, 1) };
}

/**
 * The stateful form of {@linkcode anomalyScores} for one series: feed it
 * samples as they arrive ({@linkcode AnomalyScorer.score}) and keep its state
 * between evaluations ({@linkcode AnomalyScorer.toJSON} /
 * {@linkcode AnomalyScorer.fromJSON}), so a monitor never re-reads history.
 * Scoring a series sample by sample, in chunks, or through a JSON round trip
 * gives exactly the same scores as scoring it at once.
 *
 * @example Score samples as they arrive, keep the state as JSON
 * ```ts
 * import { AnomalyScorer } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const t0 = Date.UTC(2026, 10, 1), step = 300_000; // 5-minute samples
 * const scorer = new AnomalyScorer();
 * const history = Array.from({ length: 2000 }, (_, i) => 40 + 5 * Math.sin(i / 10));
 * const timestamps = history.map((_, i) => t0 + i * step);
 * scorer.scoreMany(history, { timestamps });
 * const saved = JSON.stringify(scorer);
 * const restored = AnomalyScorer.fromJSON(JSON.parse(saved));
 * assert.ok(restored.score(400, t0 + 2000 * step) > 0.5); // far outside anything seen
 * ```
 */
export class AnomalyScorer {
  #options: Required<AnomalyScorerOptions>;
  #core: Core;

  /** A scorer with no history. @throws {RangeError} when `warmup` is invalid. */
  constructor(options: AnomalyScorerOptions = {}) {
    this.#options = resolve(options);
    this.#core = new Core({ ...DEFAULT_PARAMS, warmup: this.#options.warmup });
  }

  /** Samples seen so far (finite ones; NaN and ±Inf are skipped). */
  get count(): number {
    return this.#core.n;
  }

  /**
   * The score of the next sample, in [0, 1]. NaN, ±Inf (and null or
   * undefined) are missing data: they score 0 and do not change the state.
   * `timestamp` (epoch ms or a `Date`) feeds the seasonal context (time of
   * day); without it that signal is off for this sample.
   */
  score(value: number | null | undefined, timestamp?: number | Date): number {
    const t = timestamp === undefined ? NaN : +timestamp;
    return this.#core.update(value ?? NaN, t);
  }

  /**
   * Scores the next samples in order, as {@linkcode AnomalyScorer.score} one
   * by one would.
   * @throws {RangeError} when `out` or `timestamps` is shorter than `values`.
   */
  scoreMany(values: ArrayLike<number | null>, options: ScoreManyOptions = {}): Float64Array {
    const res = options.out ?? new Float64Array(values.length);
    if (res.length < values.length) {
      throw new RangeError(
        `Invalid out: expected at least ${values.length} elements, got ${res.length}`,
      );
    }
    const ts = options.timestamps;
    if (ts !== undefined && ts.length < values.length) {
      throw new RangeError(
        `Invalid timestamps: expected one per value (${values.length}), got ${ts.length}`,
      );
    }
    const core = this.#core;
    if (ts === undefined) {
      for (let i = 0; i < values.length; i++) res[i] = core.update(values[i] ?? NaN);
    } else {
      for (let i = 0; i < values.length; i++) res[i] = core.update(values[i] ?? NaN, ts[i]);
    }
    return res;
  }

  /** The state as plain JSON data (what `JSON.stringify(scorer)` writes). */
  toJSON(): AnomalyScorerState {
    return { version: 2, options: { ...this.#options }, model: this.#core.toState() };
  }

  /**
   * A scorer restored from {@linkcode AnomalyScorer.toJSON}'s data.
   * @throws {TypeError} when the state is not one this version wrote.
   */
  static fromJSON(state: AnomalyScorerState): AnomalyScorer {
    if (state === null || typeof state !== "object" || state.version !== 2) {
      const got = state !== null && typeof state === "object" ? state.version : undefined;
      throw new TypeError(
        `Invalid anomaly scorer state: expected version 2, got ${got}` +
          ` (a state from another opsbook version or not a scorer state: start a new AnomalyScorer)`,
      );
    }
    const scorer = new AnomalyScorer(state.options ?? {});
    scorer.#core.fromState(state.model);
    return scorer;
  }
}

/**
 * Anomaly scores for every sample of every series of a range frame: one row
 * per input row (labels, `timestamp`, `value`, `score`), grouped by series and
 * time-ordered. `score` is in [0, 1]; each series is scored on its own, in
 * time order, using only that sample and earlier ones (so scoring a prefix of
 * a series gives the prefix of its scores, and {@linkcode AnomalyScorer} fed
 * the same samples gives the same numbers). NaN and null values score 0.
 *
 * ## Method
 *
 * Chosen and tuned on the Numenta Anomaly Benchmark (NAB: real EC2/RDS/ELB
 * metrics among others; `docs/anomaly.md` has the scores next to the
 * published detectors), with one set of defaults for every series. Three
 * cheap signals, each scale-free, then a refractory output:
 *
 * 1. **Symbols on the range seen so far.** Each value is placed on two
 *    offset grids of 10 levels over the min..max of earlier samples (values
 *    beyond get their own levels, up to one range out), so ×1000 + c gives
 *    the same symbols and flat or quantized metrics need no variance
 *    estimate.
 * 2. **Records** (as HTM's spatial anomaly): a value beyond the range seen
 *    so far by more than 2 % of it scores 0.5 + 0.5·d/(d+1), d the overshoot
 *    in ranges.
 * 3. **Contextual novelty** (as CAD OSE): the contexts of the last 1, 2 and
 *    3 symbols of each grid are remembered; each never-seen context adds
 *    −log r, r how often contexts of its length have been new lately (an
 *    EWMA), so novelty weighs little on a noisy series and a lot on a regular
 *    one. **Daily seasonality** adds the same surprise, weighted 0.5, for a
 *    never-seen (two-hour bucket of the day, symbol) pair: 63 % at 03:00 is
 *    new even when 63 % at 15:00 is common (needs the timestamps). The sum u
 *    maps to u/(u+10).
 * 4. **Likelihood of that novelty** (as HTM's anomaly likelihood): the
 *    10-sample mean of the novelty against the mean and variance of that
 *    mean over the last 1,000 samples; the Gaussian tail surprise t maps to
 *    t/(t+20). The novelty counts only when both agree: min(novelty,
 *    likelihood). The score is max(record, that).
 * 5. **Report the onset once.** A score is emitted only when it beats the
 *    previous peak decayed by 0.998 per sample (a half-life of ~350
 *    samples), and then lowered by a quarter of that decayed peak; else 0. A
 *    changed behaviour gives one high score at its start, not an alert per
 *    sample (NAB, like a pager, rewards the earliest detection in a window
 *    and charges every further one outside it).
 * 6. The first 150 samples (`warmup`) score 0 while the model learns.
 *
 * One pass, O(1) work and memory per sample (a fixed bitmap of contexts),
 * no look-ahead. Counters should be scored as rates: a counter reset is
 * scored as one event and the model recovers.
 *
 * @throws {RangeError} when `warmup` is invalid.
 * @throws {TypeError} when the frame lacks `timestamp` or the value column.
 *
 * @example A step change scores high at its onset
 * ```ts
 * import pl from "nodejs-polars";
 * import { anomalyScores } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const t0 = Date.UTC(2026, 10, 1);
 * const values = Array.from({ length: 1000 }, (_, i) => (i < 800 ? 20 : 70) + (i % 7));
 * const frame = pl.DataFrame({
 *   instance: values.map(() => "api:9100"),
 *   timestamp: pl.Series(values.map((_, i) => t0 + i * 60_000)).cast(pl.Datetime("ms")),
 *   value: values,
 * });
 * const scores = anomalyScores(frame).getColumn("score").toArray() as number[];
 * assert.ok(scores[800] > 0.5);
 * assert.ok(Math.max(...scores.slice(0, 800)) < scores[800]);
 * ```
 */
export function anomalyScores(
  frame: pl.DataFrame,
  options: AnomalyScoresOptions = {},
): pl.DataFrame {
  checkFrame(frame, "anomalyScores");
  const resolved = resolve(options);
  const column = options.column ?? "value";
  checkValueColumn(frame, column);
  checkTimestamp(frame, "anomalyScores");
  if (frame.height === 0) {
    const out: pl.Series[] = labelColumns(frame).map((l) => pl.Series(l, [], pl.Utf8));
    out.push(pl.Series("timestamp", [], pl.Datetime("ms")));
    out.push(pl.Series("value", [], pl.Float64), pl.Series("score", [], pl.Float64));
    return pl.DataFrame(out);
  }
  const index = seriesIndex(frame, column);
  const view = index.load();
  const scores = new Float64Array(index.height);
  for (let s = 0; s < view.starts.length; s++) {
    const core = new Core({ ...DEFAULT_PARAMS, warmup: resolved.warmup });
    for (let i = view.starts[s]; i < view.ends[s]; i++) {
      scores[i] = core.update(view.values[i], view.ts[i]);
    }
  }
  return index.frame.select(...index.labels, "timestamp", "value").withColumns(
    pl.Series("score", scores),
  );
}
