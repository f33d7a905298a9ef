/**
 * Internals of {@linkcode anomalyScores}: the numeric core of the streaming
 * anomaly scorer, on plain numbers (no polars), so it can be benchmarked and
 * tested on its own. Not exported from `lib/mod.ts`.
 *
 * @module
 */

/** Tunable constants of the core (the shipped defaults are {@linkcode DEFAULT_PARAMS}). */
export interface CoreParams {
  /** Samples scored 0 while the model learns. */
  warmup: number;
  /** Levels of the symbol grid over the range seen so far. */
  levels: number;
  /** Longest context (in symbols) remembered. */
  orders: number;
  /** EWMA rate of how often contexts of each length are new. */
  rateRate: number;
  /** Summed surprise at which the novelty signal is 0.5. */
  ctxHalf: number;
  /** Short averaging window of the likelihood signal (samples). */
  shortWindow: number;
  /** Long window of the likelihood's distribution (samples). */
  longWindow: number;
  /** Tail surprise at which the likelihood signal is 0.5. */
  likHalf: number;
  /** A value beyond the range seen so far by more than this fraction of it is a record. */
  recordTolerance: number;
  /** Per-sample decay of the suppression bar. */
  decay: number;
  /** Fraction of the decayed bar subtracted from an emitted score. */
  margin: number;
}

/** The shipped defaults. */
export const DEFAULT_PARAMS: CoreParams = {
  warmup: 150,
  levels: 10,
  orders: 3,
  rateRate: 0.01,
  ctxHalf: 10,
  shortWindow: 10,
  longWindow: 1000,
  likHalf: 20,
  recordTolerance: 0.02,
  decay: 0.998,
  margin: 0.25,
};

/** Serializable state of a {@linkcode Core}: its fields as JSON values (typed arrays and sets as arrays). */
export type CoreState = Record<string, number | number[]>;

/**
 * -log Q(z), the surprise of the standard normal's upper tail at z >= 0
 * (Abramowitz–Stegun 7.1.26 for erfc, in logs so it never underflows); 0 for z <= 0.
 */
export function tailSurprise(z: number): number {
  if (!(z > 0)) return 0;
  const x = z / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly = t *
    (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return x * x - Math.log(0.5 * poly);
}

/** The streaming core: one series, one sample at a time. */
export class Core {
  readonly p: CoreParams;
  n = 0;
  lo = Infinity;
  hi = -Infinity;
  bar = 0;
  shortBuf: Float64Array;
  shortPos = 0;
  shortSum = 0;
  longBuf: Float64Array;
  longPos = 0;
  longCount = 0;
  longSum = 0;
  longSq = 0;
  seen = new Set<number>();
  /** Last `orders` symbols of each grid (grid g at [g*orders, (g+1)*orders)). */
  hist: Int32Array;
  histPos = 0;
  /** Novelty rate per grid and context length (same layout as `hist`). */
  rates: Float64Array;

  constructor(p: CoreParams = DEFAULT_PARAMS) {
    this.p = p;
    this.shortBuf = new Float64Array(p.shortWindow);
    this.longBuf = new Float64Array(p.longWindow);
    this.hist = new Int32Array(2 * p.orders);
    this.rates = new Float64Array(2 * p.orders).fill(1);
  }

  /** The state as plain JSON data (JSON writes ±Infinity as null; fromState restores them). */
  toState(): CoreState {
    const out: CoreState = {};
    for (const [k, v] of Object.entries(this)) {
      if (k === "p") continue;
      if (typeof v === "number") out[k] = v;
      else if (v instanceof Set) out[k] = [...v];
      else out[k] = Array.from(v as ArrayLike<number>);
    }
    return out;
  }

  /** Restores {@linkcode Core.toState}'s data. @throws {TypeError} on a malformed state. */
  fromState(state: CoreState): void {
    if (state === null || typeof state !== "object") {
      throw new TypeError("Invalid anomaly scorer state: expected an object");
    }
    const self = this as unknown as Record<string, unknown>;
    for (const [k, v] of Object.entries(this)) {
      if (k === "p") continue;
      const got = state[k];
      const bad = () =>
        new TypeError(`Invalid anomaly scorer state: field ${k} is missing or malformed`);
      if (typeof v === "number") {
        if (typeof got !== "number" && got !== null) throw bad();
        // JSON writes ±Infinity as null; only lo/hi can be non-finite.
        if (got === null && k !== "lo" && k !== "hi") throw bad();
        self[k] = got === null ? (k === "lo" ? Infinity : -Infinity) : got;
      } else {
        if (!Array.isArray(got) || got.some((x) => typeof x !== "number")) throw bad();
        if (v instanceof Set) self[k] = new Set(got);
        else {
          const arr = v as Float64Array | Int32Array;
          if (got.length !== arr.length) throw bad();
          arr.set(got);
        }
      }
    }
  }

  /**
   * Context surprise of the symbols of both grids: for each context (the last
   * 1..orders symbols of a grid) never seen before, -log of how often contexts
   * of that length have been new lately.
   */
  #context(q0: number, q1: number): number {
    const p = this.p, K = p.orders, B = 3 * p.levels + 1, h = this.hist, rates = this.rates;
    const pos = this.histPos;
    h[pos] = q0;
    h[K + pos] = q1;
    this.histPos = (pos + 1) % K;
    const have = Math.min(this.n, K);
    let sum = 0;
    for (let g = 0; g < 2; g++) {
      let key = 0;
      for (let k = 0; k < have; k++) {
        key = key * B + h[g * K + ((pos - k + K) % K)];
        const id = (key * 8 + k) * 2 + g;
        const r = g * K + k;
        if (!this.seen.has(id)) {
          this.seen.add(id);
          sum -= Math.log(Math.max(rates[r], 1e-4));
          rates[r] += p.rateRate * (1 - rates[r]);
        } else rates[r] -= p.rateRate * rates[r];
      }
    }
    return sum;
  }

  /** Scores one sample; NaN/±Inf score 0 and leave the state unchanged. */
  update(x: number): number {
    if (!Number.isFinite(x)) return 0;
    const p = this.p;
    const n = this.n++;
    const lo = this.lo, hi = this.hi, r = hi - lo;
    if (n === 0) {
      this.lo = x;
      this.hi = x;
      return 0;
    }
    // where x falls on the range seen so far, and how far beyond it
    const u = r > 0 ? (x - lo) / r : x > hi ? 2 : x < lo ? -1 : 0.5;
    const d = r > 0 ? Math.max(0, u - 1, -u) : x !== hi ? 1 : 0;
    const L = p.levels;
    const q0 = L + Math.max(-L, Math.min(2 * L - 1, Math.floor(u * L)));
    const q1 = L + Math.max(-L, Math.min(2 * L, Math.round(u * L)));
    const c = this.#context(q0, q1);
    const ctx = c / (c + p.ctxHalf);
    // likelihood of the short mean of the novelty under its long distribution
    const sb = this.shortBuf, sw = sb.length;
    this.shortSum += ctx - sb[this.shortPos];
    sb[this.shortPos] = ctx;
    this.shortPos = (this.shortPos + 1) % sw;
    const m = this.shortSum / sw;
    let lik = 0;
    if (this.longCount >= 2 * sw) {
      const cnt = this.longCount;
      const mu = this.longSum / cnt;
      const v = Math.max(this.longSq / cnt - mu * mu, 1e-4);
      const t = tailSurprise((m - mu) / Math.sqrt(v));
      lik = t / (t + p.likHalf);
    }
    const lb = this.longBuf, lw = lb.length;
    if (this.longCount === lw) {
      const old = lb[this.longPos];
      this.longSum -= old;
      this.longSq -= old * old;
    } else this.longCount++;
    lb[this.longPos] = m;
    this.longSum += m;
    this.longSq += m * m;
    this.longPos = (this.longPos + 1) % lw;
    const record = d > p.recordTolerance ? 0.5 + 0.5 * d / (d + 1) : 0;
    const score = Math.max(record, Math.min(ctx, lik));
    if (x < lo) this.lo = x;
    if (x > hi) this.hi = x;
    if (n < p.warmup) return 0;
    const bar = this.bar * p.decay;
    if (score > bar) {
      this.bar = score;
      return score - p.margin * bar;
    }
    this.bar = bar;
    return 0;
  }
}
