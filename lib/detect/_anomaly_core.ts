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
  /** EWMA rate of the level (prediction). */
  levelRate: number;
  /** EWMA rate of the error scale. */
  scaleRate: number;
  /** |z| at which the point signal saturates. */
  zMax: number;
  /** Short averaging window of the likelihood signal (samples). */
  shortWindow: number;
  /** Long window of the likelihood's distribution (samples). */
  longWindow: number;
  /** Per-sample decay of the suppression bar. */
  decay: number;
  /** Weight of the likelihood signal. */
  likelihoodWeight: number;
  /** Relative floor of the scale, as a fraction of the seen range. */
  rangeFloor: number;
  likHalf: number;
  mode: number;
  levels: number;
  orders: number;
  rateRate: number;
  ctxHalf: number;
  ctxWeight: number;
}

/** The shipped defaults. */
export const DEFAULT_PARAMS: CoreParams = {
  warmup: 150,
  levelRate: 0.2,
  scaleRate: 0.02,
  zMax: 12,
  shortWindow: 10,
  longWindow: 1000,
  decay: 0.998,
  likelihoodWeight: 1,
  rangeFloor: 1e-3,
  likHalf: 20,
  mode: 3,
  levels: 5,
  orders: 3,
  rateRate: 0.01,
  ctxHalf: 10,
  ctxWeight: 1,
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
  level = NaN;
  prev = NaN;
  scale = 0;
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
  hist: Int32Array;
  histPos = 0;
  rates: Float64Array;

  constructor(p: CoreParams = DEFAULT_PARAMS) {
    this.p = p;
    this.shortBuf = new Float64Array(p.shortWindow);
    this.longBuf = new Float64Array(p.longWindow);
    this.hist = new Int32Array(p.orders);
    this.rates = new Float64Array(p.orders).fill(1);
  }

  /** The state as plain JSON data (non-finite numbers as strings are avoided: ±Infinity as null). */
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
        // JSON writes ±Infinity and NaN as null; only lo/hi/level/prev can be non-finite.
        self[k] = got === null ? (k === "lo" ? Infinity : k === "hi" ? -Infinity : NaN) : got;
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

  /** Context novelty of symbol q: the summed surprise of the unseen contexts ending at it. */
  context(q: number): number {
    const p = this.p, h = this.hist, K = h.length, B = 3 * p.levels;
    h[this.histPos] = q;
    this.histPos = (this.histPos + 1) % K;
    let key = 0, sum = 0;
    const have = Math.min(this.n, K);
    for (let k = 0; k < have; k++) {
      key = key * B + h[(this.histPos - 1 - k + 2 * K) % K];
      const id = key * 16 + k;
      const isNew = !this.seen.has(id);
      if (isNew) {
        this.seen.add(id);
        sum += -Math.log(Math.max(this.rates[k], 1e-4));
      }
      this.rates[k] += p.rateRate * ((isNew ? 1 : 0) - this.rates[k]);
    }
    return sum;
  }

  /** Scores one sample; NaN/±Inf score 0 and leave the state unchanged. */
  update(x: number): number {
    if (!Number.isFinite(x)) return 0;
    const p = this.p;
    const n = this.n++;
    if (n === 0) {
      this.level = x;
      this.prev = x;
      this.lo = x;
      this.hi = x;
      return 0;
    }
    const range = this.hi - this.lo;
    const floor = Math.max(p.rangeFloor * range, 1e-12 * Math.abs(this.level));
    const s = Math.max(this.scale, floor);
    const e = x - this.level;
    const ae = Math.abs(e);
    let z: number;
    if (s > 0) z = ae / s;
    else z = ae > 0 ? p.zMax : 0;
    const raw = z / (z + p.zMax);
    // likelihood of the short mean of raw under the long distribution
    const sb = this.shortBuf, sw = sb.length;
    this.shortSum += raw - sb[this.shortPos];
    sb[this.shortPos] = raw;
    this.shortPos = (this.shortPos + 1) % sw;
    const m = this.shortSum / sw;
    let lik = 0;
    if (this.longCount >= 2 * sw) {
      const c = this.longCount;
      const mu = this.longSum / c;
      const v = Math.max(this.longSq / c - mu * mu, 1e-4);
      const u = tailSurprise((m - mu) / Math.sqrt(v));
      lik = u / (u + p.likHalf);
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
    let ctx = 0;
    if (p.ctxWeight > 0) {
      const r = this.hi - this.lo;
      const u = r > 0 ? (x - this.lo) / r : x > this.hi ? 2 : x < this.lo ? -1 : 0.5;
      const L = p.levels;
      const q = L + Math.max(-L, Math.min(2 * L - 1, Math.floor(u * L)));
      const c = this.context(q);
      ctx = c / (c + p.ctxHalf);
    }
    const score = p.mode === 3
      ? ctx
      : p.mode === 4
      ? Math.max(raw, ctx)
      : p.mode === 5
      ? Math.max(raw, lik, ctx)
      : p.mode === 1
      ? raw
      : p.mode === 2
      ? lik
      : Math.max(raw, p.likelihoodWeight * lik);
    // learn
    this.scale = this.scale === 0 && n === 1 ? ae : this.scale + p.scaleRate * (ae - this.scale);
    this.level += p.levelRate * e;
    this.prev = x;
    if (x < this.lo) this.lo = x;
    if (x > this.hi) this.hi = x;
    if (n < p.warmup) return 0;
    const bar = this.bar * p.decay;
    if (score > bar) {
      this.bar = score;
      return score;
    }
    this.bar = bar;
    return 0;
  }
}
