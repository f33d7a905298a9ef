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
  /** Buckets of the day for the seasonal context (12 = two hours). */
  dayBuckets: number;
  /** Weight of the seasonal context's surprise (0 turns it off). */
  seasonalWeight: number;
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
  dayBuckets: 12,
  seasonalWeight: 0.5,
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
  /** Contexts seen: one byte per (grid, length, context) id (serialized as the list of ids set). */
  seen: Uint8Array;
  /** Last `orders` symbols of each grid (grid g at [g*orders, (g+1)*orders)). */
  hist: Int32Array;
  histPos = 0;
  /** Novelty rate per grid and context length (same layout as `hist`). */
  rates: Float64Array;
  /** (bucket of the day, symbol) pairs seen, per grid (serialized like `seen`). */
  seasonSeen: Uint8Array;
  /** Time of the first sample with a timestamp (epoch ms; NaN: none yet). */
  firstTime = NaN;
  /** Novelty rate of the seasonal pairs, per grid. */
  seasonRates = new Float64Array(2).fill(1);

  constructor(p: CoreParams = DEFAULT_PARAMS) {
    this.p = p;
    this.shortBuf = new Float64Array(p.shortWindow);
    this.longBuf = new Float64Array(p.longWindow);
    this.hist = new Int32Array(2 * p.orders);
    this.rates = new Float64Array(2 * p.orders).fill(1);
    const B = 3 * p.levels + 1;
    this.seen = new Uint8Array(2 * p.orders * B ** p.orders);
    this.seasonSeen = new Uint8Array(2 * p.dayBuckets * B);
  }

  /** The state as plain JSON data (JSON writes ±Infinity as null; fromState restores them). */
  toState(): CoreState {
    const out: CoreState = {};
    for (const [k, v] of Object.entries(this)) {
      if (k === "p") continue;
      if (typeof v === "number") out[k] = v;
      else if (v instanceof Uint8Array) {
        const ids: number[] = [];
        for (let i = 0; i < v.length; i++) if (v[i]) ids.push(i);
        out[k] = ids;
      } else out[k] = Array.from(v as ArrayLike<number>);
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
        // JSON writes ±Infinity and NaN as null; only lo/hi/firstTime can be non-finite.
        if (got === null && k !== "lo" && k !== "hi" && k !== "firstTime") throw bad();
        self[k] = got === null ? (k === "lo" ? Infinity : k === "hi" ? -Infinity : NaN) : got;
      } else {
        if (!Array.isArray(got) || got.some((x) => typeof x !== "number")) throw bad();
        if (v instanceof Uint8Array) {
          if (got.some((i) => !Number.isInteger(i) || i < 0 || i >= v.length)) throw bad();
          v.fill(0);
          for (const i of got) v[i] = 1;
        } else {
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
    const have = Math.min(this.n, K), seen = this.seen, span = B ** K;
    let sum = 0;
    for (let g = 0; g < 2; g++) {
      let key = 0;
      for (let k = 0; k < have; k++) {
        key = key * B + h[g * K + ((pos - k + K) % K)];
        const r = g * K + k;
        const id = r * span + key;
        if (seen[id] === 0) {
          seen[id] = 1;
          sum -= Math.log(Math.max(rates[r], 1e-4));
          rates[r] += p.rateRate * (1 - rates[r]);
        } else rates[r] -= p.rateRate * rates[r];
      }
    }
    return sum;
  }

  /**
   * Seasonal surprise: for each grid, -log of the recent novelty rate when the
   * pair (bucket of the day of `t`, symbol) was never seen.
   */
  #season(t: number, q0: number, q1: number): number {
    const p = this.p, rates = this.seasonRates, B = 3 * p.levels + 1;
    const bucket = Math.floor((((t / 86_400_000) % 1) + 1) % 1 * p.dayBuckets);
    let sum = 0;
    for (let g = 0; g < 2; g++) {
      const id = (g * p.dayBuckets + bucket) * B + (g === 0 ? q0 : q1);
      if (this.seasonSeen[id] === 0) {
        this.seasonSeen[id] = 1;
        sum -= Math.log(Math.max(rates[g], 1e-4));
        rates[g] += p.rateRate * (1 - rates[g]);
      } else rates[g] -= p.rateRate * rates[g];
    }
    return p.seasonalWeight * sum;
  }

  /**
   * Scores one sample at time `t` (epoch ms; NaN: no seasonal context for
   * this sample); NaN/±Inf values score 0 and leave the state unchanged.
   */
  update(x: number, t = NaN): number {
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
    // + 1e-9: a value on a level boundary (quantized metrics) gets the same
    // symbol whatever the unit, despite rounding in (x - lo) / r
    const q0 = L + Math.max(-L, Math.min(2 * L - 1, Math.floor(u * L + 1e-9)));
    const q1 = L + Math.max(-L, Math.min(2 * L, Math.round(u * L + 1e-9)));
    let c = this.#context(q0, q1);
    if (p.seasonalWeight > 0 && Number.isFinite(t)) {
      // a time-of-day pair is news only once a whole day has been seen
      if (!(this.firstTime <= t)) this.firstTime = t;
      const news = this.#season(t, q0, q1);
      if (t - this.firstTime >= 86_400_000) c += news;
    }
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
