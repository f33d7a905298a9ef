/**
 * What is normal for a series: the band its values usually stay in, at this
 * hour of the day when there are enough days of history, else over a recent
 * window. Streaming, causal, with a plain JSON state.
 *
 * @module
 */

import { durationMs, integerAtLeast } from "./_common.ts";
import type { DurationInput } from "../time.ts";

/**
 * Options of {@linkcode NormalRange}.
 *
 * @example
 * ```ts
 * import { NormalRange, type NormalRangeOptions } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const options: NormalRangeOptions = { window: "30m", minSamples: 10 };
 * const range = new NormalRange(options);
 * const t0 = Date.UTC(2026, 10, 1);
 * for (let m = 0; m < 30; m++) range.add(t0 + m * 60_000, 30 + (m % 5));
 * assert.equal(range.band(t0 + 30 * 60_000)?.basis, "recent");
 * ```
 */
export interface NormalRangeOptions {
  /**
   * The recent window used while there are fewer than `minDays` days of
   * history for this hour: a duration string or seconds.
   * @default {"1h"}
   */
  window?: DurationInput;
  /**
   * Days of history kept per hour of the day (UTC). An integer of at least 1.
   * @default {7}
   */
  days?: number;
  /**
   * Days with samples at this hour needed before the band is taken from the
   * same hour of earlier days. An integer of at least 1.
   * @default {3}
   */
  minDays?: number;
  /**
   * Samples needed in the recent window for a band. An integer of at least 2.
   * @default {10}
   */
  minSamples?: number;
}

/**
 * The usual band of a series.
 *
 * @example
 * ```ts
 * import { type NormalBand, NormalRange, normalText } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const range = new NormalRange();
 * const t0 = Date.UTC(2026, 10, 1);
 * for (let m = 0; m < 60; m++) range.add(t0 + m * 60_000, 30 + (m % 5));
 * const band: NormalBand | undefined = range.band(t0 + 60 * 60_000);
 * assert.ok(band !== undefined && band.low >= 30 && band.high <= 34);
 * assert.match(normalText(band, "%"), /^3\d\.\d–3\d\.\d %$/);
 * ```
 */
export interface NormalBand {
  /** Lower edge: the 5th percentile. */
  low: number;
  /** Upper edge: the 95th percentile. */
  high: number;
  /**
   * `hour`: the median over earlier days of that hour's 5th and 95th
   * percentiles; `recent`: the percentiles of the recent window.
   */
  basis: "hour" | "recent";
  /** Days (for `hour`) or samples (for `recent`) the band is made of. */
  support: number;
}

/**
 * The state of a {@linkcode NormalRange} as plain JSON ({@linkcode NormalRange.toJSON}).
 *
 * @example
 * ```ts
 * import { NormalRange, type NormalRangeState } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const range = new NormalRange();
 * const t0 = Date.UTC(2026, 10, 1);
 * for (let m = 0; m < 60; m++) range.add(t0 + m * 60_000, 30 + (m % 5));
 * const state: NormalRangeState = JSON.parse(JSON.stringify(range));
 * assert.deepEqual(NormalRange.fromJSON(state).band(t0 + 3_600_000), range.band(t0 + 3_600_000));
 * ```
 */
export interface NormalRangeState {
  /** Format version. */
  version: 1;
  /** Options, defaults resolved (durations in ms). */
  options: { window: number; days: number; minDays: number; minSamples: number };
  /** Recent samples: times (epoch ms) and values, oldest first. */
  recent: { t: number[]; v: number[] };
  /** The hour being collected (epoch hours) and its values. */
  hour: { index: number; v: number[] };
  /** Per hour of the day (24 entries): `[day, low, high]` triples flattened, oldest first. */
  hours: number[][];
}

const HOUR_MS = 3_600_000;
/** Most recent samples kept (bounds the state whatever the sample rate). */
const MAX_RECENT = 2000;
/** Most samples kept for the hour being collected. */
const MAX_HOUR = 3600;
/** Samples an hour needs to count as a day of history for that hour. */
const MIN_HOUR_SAMPLES = 4;

/** The q-quantile of sorted values (linear interpolation, R type 7). */
function quantile(sorted: ArrayLike<number>, q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

function band(values: ArrayLike<number>): [number, number] {
  const sorted = Float64Array.from(values).sort();
  return [quantile(sorted, 0.05), quantile(sorted, 0.95)];
}

function median(values: number[]): number {
  return quantile(Float64Array.from(values).sort(), 0.5);
}

/**
 * The usual band of one series, learned as samples arrive: the 5th to 95th
 * percentile of its values at this hour of the day (UTC) over up to `days`
 * earlier days (the median of each day's percentiles, so one bad day does not
 * move it) once `minDays` days have samples at this hour; before that, the
 * same percentiles over the recent `window`. Causal: {@linkcode band} at `t`
 * uses only samples added before.
 *
 * @example A band over the last hour
 * ```ts
 * import { NormalRange } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const normal = new NormalRange({ window: "2h" });
 * const t0 = Date.UTC(2026, 10, 1);
 * for (let m = 0; m <= 100; m++) normal.add(t0 + m * 60_000, m); // 0, 1, …, 100
 * const b = normal.band(t0 + 101 * 60_000)!;
 * assert.deepEqual(b, { low: 5, high: 95, basis: "recent", support: 101 });
 * ```
 */
export class NormalRange {
  #o: NormalRangeState["options"];
  #recentT: number[] = [];
  #recentV: number[] = [];
  #hourIndex = -1;
  #hourV: number[] = [];
  #hours: number[][] = Array.from({ length: 24 }, () => []);

  /** @throws {RangeError} when an option is invalid. */
  constructor(options: NormalRangeOptions = {}) {
    const window = durationMs("window", options.window ?? "1h");
    if (window <= 0) throw new RangeError(`Invalid option "window": expected a positive duration`);
    this.#o = {
      window,
      days: integerAtLeast("days", options.days ?? 7, 1),
      minDays: integerAtLeast("minDays", options.minDays ?? 3, 1),
      minSamples: integerAtLeast("minSamples", options.minSamples ?? 10, 2),
    };
  }

  /** Adds a sample at `t` (epoch ms, increasing); NaN, ±Inf and null are ignored. */
  add(t: number, value: number | null): void {
    if (value === null || !Number.isFinite(value)) return;
    const hour = Math.floor(t / HOUR_MS);
    if (hour !== this.#hourIndex) {
      this.#closeHour();
      this.#hourIndex = hour;
    }
    if (this.#hourV.length < MAX_HOUR) this.#hourV.push(value);
    this.#recentT.push(t);
    this.#recentV.push(value);
    this.#evict(t);
  }

  #evict(t: number): void {
    let drop = 0;
    while (drop < this.#recentT.length && this.#recentT[drop] <= t - this.#o.window) drop++;
    drop = Math.max(drop, this.#recentT.length - MAX_RECENT);
    if (drop > 0) {
      this.#recentT.splice(0, drop);
      this.#recentV.splice(0, drop);
    }
  }

  #closeHour(): void {
    if (this.#hourIndex < 0 || this.#hourV.length < MIN_HOUR_SAMPLES) {
      this.#hourV = [];
      return;
    }
    const [lo, hi] = band(this.#hourV);
    const list = this.#hours[this.#hourIndex % 24];
    list.push(Math.floor(this.#hourIndex / 24), lo, hi);
    if (list.length > 3 * this.#o.days) list.splice(0, list.length - 3 * this.#o.days);
    this.#hourV = [];
  }

  /** The usual band at `t` from the samples added so far; `undefined` while too few. */
  band(t: number): NormalBand | undefined {
    const hour = Math.floor(t / HOUR_MS);
    const day = Math.floor(hour / 24);
    const list = this.#hours[hour % 24];
    const lows: number[] = [], highs: number[] = [];
    for (let i = 0; i < list.length; i += 3) {
      if (list[i] < day && list[i] >= day - this.#o.days) {
        lows.push(list[i + 1]);
        highs.push(list[i + 2]);
      }
    }
    if (lows.length >= this.#o.minDays) {
      return { low: median(lows), high: median(highs), basis: "hour", support: lows.length };
    }
    const from = t - this.#o.window;
    const values: number[] = [];
    for (let i = 0; i < this.#recentT.length; i++) {
      if (this.#recentT[i] > from && this.#recentT[i] < t) values.push(this.#recentV[i]);
    }
    if (values.length < this.#o.minSamples) return undefined;
    const [low, high] = band(values);
    return { low, high, basis: "recent", support: values.length };
  }

  /** The state as plain JSON data (what `JSON.stringify` writes). */
  toJSON(): NormalRangeState {
    return {
      version: 1,
      options: { ...this.#o },
      recent: { t: [...this.#recentT], v: [...this.#recentV] },
      hour: { index: this.#hourIndex, v: [...this.#hourV] },
      hours: this.#hours.map((l) => [...l]),
    };
  }

  /**
   * Restores {@linkcode NormalRange.toJSON}'s data.
   * @throws {TypeError} when the state is not one this version wrote.
   */
  static fromJSON(state: NormalRangeState): NormalRange {
    const nums = (x: unknown) => Array.isArray(x) && x.every((v) => typeof v === "number");
    if (
      state === null || typeof state !== "object" || state.version !== 1 ||
      !nums(state.recent?.t) || !nums(state.recent?.v) || !nums(state.hour?.v) ||
      typeof state.hour?.index !== "number" || !Array.isArray(state.hours) ||
      state.hours.length !== 24 || !state.hours.every(nums)
    ) {
      throw new TypeError("Invalid normal range state: expected version 1 as toJSON() wrote it");
    }
    // the window is stored in ms; options take seconds
    const r = new NormalRange({ ...state.options, window: state.options.window / 1000 });
    r.#recentT = [...state.recent.t];
    r.#recentV = [...state.recent.v];
    r.#hourIndex = state.hour.index;
    r.#hourV = [...state.hour.v];
    r.#hours = state.hours.map((l) => [...l]);
    return r;
  }
}
