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

/** Options of {@linkcode AnomalyScorer}. */
export interface AnomalyScorerOptions {
  /**
   * Samples scored 0 at the start of a series while the model learns its
   * range, rhythm and noise. An integer of at least 1.
   * @default {150}
   */
  warmup?: number;
}

/** Options of {@linkcode anomalyScores}. */
export interface AnomalyScoresOptions extends AnomalyScorerOptions {
  /**
   * The numeric column to score.
   * @default {"value"}
   */
  column?: string;
}

/**
 * The state of an {@linkcode AnomalyScorer} as plain JSON data
 * ({@linkcode AnomalyScorer.toJSON}); restore it with
 * {@linkcode AnomalyScorer.fromJSON}. Its fields are internal and versioned
 * by `version`.
 */
export interface AnomalyScorerState {
  /** Format version of the state. */
  version: 1;
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
 * const scorer = new AnomalyScorer();
 * const history = Array.from({ length: 2000 }, (_, i) => 40 + 5 * Math.sin(i / 10));
 * scorer.scoreMany(history);
 * const saved = JSON.stringify(scorer);
 * const restored = AnomalyScorer.fromJSON(JSON.parse(saved));
 * assert.ok(restored.score(400) > 0.5); // a jump far outside anything seen
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
   */
  score(value: number | null | undefined): number {
    return this.#core.update(value ?? NaN);
  }

  /** Scores the next samples in order; writes into `out` when given. */
  scoreMany(values: ArrayLike<number | null>, out?: Float64Array): Float64Array {
    const res = out ?? new Float64Array(values.length);
    if (res.length < values.length) {
      throw new RangeError(
        `Invalid out: expected at least ${values.length} elements, got ${res.length}`,
      );
    }
    const core = this.#core;
    for (let i = 0; i < values.length; i++) res[i] = core.update(values[i] ?? NaN);
    return res;
  }

  /** The state as plain JSON data (what `JSON.stringify(scorer)` writes). */
  toJSON(): AnomalyScorerState {
    return { version: 1, options: { ...this.#options }, model: this.#core.toState() };
  }

  /**
   * A scorer restored from {@linkcode AnomalyScorer.toJSON}'s data.
   * @throws {TypeError} when the state is not one this version wrote.
   */
  static fromJSON(state: AnomalyScorerState): AnomalyScorer {
    if (state === null || typeof state !== "object" || state.version !== 1) {
      throw new TypeError(`Invalid anomaly scorer state: expected version 1`);
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
 * Chosen and tuned on the Numenta Anomaly Benchmark (NAB, real EC2/RDS/ELB
 * metrics among others; see `docs/anomaly.md` for the scores next to the
 * published detectors), with one set of defaults for every series:
 *
 * 1. **Scale-free symbols.** Each value is placed on a grid of 5 levels over
 *    the range seen so far (min/max of earlier samples; values outside get
 *    their own levels, up to one range beyond), so ×1000 + c gives the same
 *    symbols, and quantized or flat-lined metrics need no variance estimate
 *    (the robust z-score of `baselineAnomalies` explodes when the MAD is 0).
 * 2. **Contextual novelty** (the idea of CAD OSE): the contexts of the last 1,
 *    2 and 3 symbols are remembered; a sample whose contexts were never seen
 *    is novel. A periodic or square-wave metric stops being novel once its
 *    cycle has been seen; a spike, a level shift or a new rhythm is not.
 * 3. **Surprise, not novelty** (the idea of HTM's anomaly likelihood): each
 *    new context counts −log r, where r is how often contexts of that length
 *    have been new lately (an exponentially weighted rate). On a noisy series
 *    new contexts are common and weigh little; on a regular one the first new
 *    context weighs a lot. Summed surprise u maps to u/(u+10).
 * 4. **Report the onset once.** A score is emitted only when it beats the
 *    previous peak decayed by 0.998 per sample (a half-life of ~350 samples),
 *    else 0: a changed behaviour gives one high score at its start, not an
 *    alert per sample (NAB, like a pager, rewards the earliest detection in a
 *    window and charges every further one outside it). For any threshold, a
 *    suppressed sample always follows an emitted one at least as high.
 * 5. The first 150 samples (`warmup`) score 0 while the model learns.
 *
 * One pass, O(1) work and memory per sample (the remembered contexts are
 * bounded by 15³ + 15² + 15), no look-ahead. Counters should be scored as
 * rates: a counter reset is scored as one event and the model recovers.
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
    for (let i = view.starts[s]; i < view.ends[s]; i++) scores[i] = core.update(view.values[i]);
  }
  return index.frame.select(...index.labels, "timestamp", "value").withColumns(
    pl.Series("score", scores),
  );
}
