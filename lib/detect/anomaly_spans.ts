/**
 * Anomaly spans: when a series became unusual (its anomaly score reached a
 * level while the value left its normal band) and for how long it stayed so.
 * The stateful {@linkcode AnomalyTracker} is what the `anomaly` detector of
 * the rule files keeps per series; {@linkcode anomalySpans} runs it over a
 * range frame.
 *
 * @module
 */

import pl from "nodejs-polars";
import type { DurationInput } from "../time.ts";
import { formatValue } from "../_internal/format.ts";
import {
  checkFrame,
  checkTimestamp,
  checkValueColumn,
  durationMs,
  finite,
  fmtDuration,
  labelColumns,
} from "./_common.ts";
import { labelsAt, seriesIndex } from "./_series.ts";
import { AnomalyScorer, type AnomalyScorerState } from "./anomaly.ts";
import {
  type NormalBand,
  NormalRange,
  type NormalRangeOptions,
  type NormalRangeState,
} from "./normal_range.ts";

/**
 * Which departures from the normal band count.
 *
 * @example Only high values count
 * ```ts
 * import { type AnomalyDirection, AnomalyTracker } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const direction: AnomalyDirection = "up";
 * const tracker = new AnomalyTracker({ direction });
 * const t0 = Date.UTC(2026, 10, 1);
 * for (let m = 0; m < 300; m++) tracker.update(t0 + m * 60_000, 30 + (m % 5));
 * assert.equal(tracker.update(t0 + 300 * 60_000, 0).active, false); // a drop is not an anomaly here
 * ```
 */
export type AnomalyDirection = "both" | "up" | "down";

/**
 * Options of {@linkcode AnomalyTracker}.
 *
 * @example
 * ```ts
 * import { AnomalyTracker, type AnomalyTrackerOptions } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const options: AnomalyTrackerOptions = { level: 0.9, direction: "both", maxDuration: "2h" };
 * const tracker = new AnomalyTracker(options);
 * const t0 = Date.UTC(2026, 10, 1);
 * for (let m = 0; m < 300; m++) tracker.update(t0 + m * 60_000, 30 + (m % 5));
 * assert.equal(tracker.update(t0 + 300 * 60_000, 90).onset, true);
 * ```
 */
export interface AnomalyTrackerOptions extends NormalRangeOptions {
  /**
   * The anomaly score (in [0, 1], see {@linkcode anomalyScores}) at which a
   * departure from the normal band starts a span.
   * @default {0.25}
   */
  level?: number;
  /**
   * `up`: only values above the band; `down`: only below; `both`.
   * @default {"both"}
   */
  direction?: AnomalyDirection;
  /**
   * A span that lasts this long ends: the new level is taken as normal from
   * then on. A duration string or seconds.
   * @default {"6h"}
   */
  maxDuration?: DurationInput;
  /**
   * Samples the scorer learns from before it scores (see {@linkcode AnomalyScorer}).
   * @default {150}
   */
  warmup?: number;
}

/**
 * One sample as the tracker judged it.
 *
 * @example
 * ```ts
 * import { type AnomalyPoint, AnomalyTracker } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const tracker = new AnomalyTracker();
 * const t0 = Date.UTC(2026, 10, 1);
 * for (let m = 0; m < 300; m++) tracker.update(t0 + m * 60_000, 30 + (m % 5));
 * const point: AnomalyPoint = tracker.update(t0 + 300 * 60_000, 90);
 * assert.deepEqual([point.active, point.onset, point.since], [true, true, t0 + 300 * 60_000]);
 * assert.ok(point.normal !== undefined && point.normal.high < 90);
 * ```
 */
export interface AnomalyPoint {
  /** The anomaly score of the sample, in [0, 1]. */
  score: number;
  /** Whether the series is in an anomaly span after this sample. */
  active: boolean;
  /** Whether this sample started the span. */
  onset: boolean;
  /**
   * The band the value was judged against: the span's band while in one
   * (and at the sample that ended it); at a sample whose score reached
   * `level`, the band before it (`undefined` while too few samples); not
   * computed otherwise (see {@linkcode AnomalyTracker.normal}).
   */
  normal?: NormalBand;
  /** Start of the current span (epoch ms), while in one. */
  since?: number;
}

/**
 * An open span, as the state stores it.
 *
 * @example
 * ```ts
 * import { AnomalyTracker, type AnomalySpanState } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const tracker = new AnomalyTracker();
 * const t0 = Date.UTC(2026, 10, 1);
 * for (let m = 0; m < 300; m++) tracker.update(t0 + m * 60_000, 30 + (m % 5));
 * tracker.update(t0 + 300 * 60_000, 90);
 * const span: AnomalySpanState | null = tracker.toJSON().span;
 * assert.deepEqual([span?.since, span?.value, span?.direction], [t0 + 300 * 60_000, 90, "up"]);
 * ```
 */
export interface AnomalySpanState {
  /** Start, epoch ms. */
  since: number;
  /** The normal band when it started. */
  normal: NormalBand;
  /** The highest score in the span. */
  score: number;
  /** The value at the start. */
  value: number;
  /** Above (`up`) or below (`down`) the band. */
  direction: "up" | "down";
}

/**
 * The state of an {@linkcode AnomalyTracker} as plain JSON.
 *
 * @example Keep a tracker across restarts
 * ```ts
 * import { AnomalyTracker, type AnomalyTrackerState } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const tracker = new AnomalyTracker();
 * const t0 = Date.UTC(2026, 10, 1);
 * for (let m = 0; m < 300; m++) tracker.update(t0 + m * 60_000, 30 + (m % 5));
 * tracker.update(t0 + 300 * 60_000, 90); // a span opens
 * const state: AnomalyTrackerState = JSON.parse(JSON.stringify(tracker));
 * assert.equal(state.span?.direction, "up");
 * assert.equal(AnomalyTracker.fromJSON(state).update(t0 + 301 * 60_000, 91).active, true);
 * ```
 */
export interface AnomalyTrackerState {
  /** Format version. */
  version: 1;
  /** Options, defaults resolved (durations in ms). */
  options: {
    level: number;
    direction: AnomalyDirection;
    maxDuration: number;
    warmup: number;
  };
  /** The latest sample time seen (epoch ms), or `null`. */
  last: number | null;
  /** The scorer's state. */
  scorer: AnomalyScorerState;
  /** The normal band's state. */
  normal: NormalRangeState;
  /** The open span, or `null`. */
  span: AnomalySpanState | null;
}

/**
 * How far beyond the band a value must be to count: half the band's width,
 * and at least 5 % of its middle (a flat band has no width).
 */
function bandMargin(normal: NormalBand): number {
  return Math.max(0.5 * (normal.high - normal.low), 0.05 * Math.abs(normal.high + normal.low) / 2);
}

const DIRECTIONS: readonly AnomalyDirection[] = ["both", "up", "down"];

function resolve(options: AnomalyTrackerOptions): AnomalyTrackerState["options"] {
  const level = finite("level", options.level ?? 0.25, "a number in (0, 1]");
  if (!(level > 0 && level <= 1)) {
    throw new RangeError(`Invalid level: expected a number in (0, 1], got ${level}`);
  }
  const direction = options.direction ?? "both";
  if (!DIRECTIONS.includes(direction)) {
    throw new RangeError(
      `Invalid direction: expected one of ${DIRECTIONS.join(", ")}, got ${String(direction)}`,
    );
  }
  const maxDuration = durationMs("maxDuration", options.maxDuration ?? "6h");
  if (maxDuration <= 0) {
    throw new RangeError(`Invalid option "maxDuration": expected a positive duration`);
  }
  return { level, direction, maxDuration, warmup: options.warmup ?? 150 };
}

/**
 * How far `value` lies beyond `normal` (beyond `high` when `up`, below `low`
 * otherwise); negative inside the band.
 */
function departure(value: number, normal: NormalBand, up: boolean): number {
  return up ? value - normal.high : normal.low - value;
}

/**
 * The direction in which `value` lies far outside `normal` (beyond the band by
 * more than half its width) and counts: `"up"`, `"down"` or `undefined`.
 * @internal
 *
 * @example
 * ```ts
 * import { outsideBand } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const normal = { low: 20, high: 35, basis: "hour" as const, support: 7 };
 * assert.equal(outsideBand(63, normal, "both"), "up"); // beyond the band by more than half its width
 * assert.equal(outsideBand(38, normal, "both"), undefined); // just above: not far enough
 * assert.equal(outsideBand(5, normal, "up"), undefined); // far below, but only "up" counts
 * ```
 */
export function outsideBand(
  value: number,
  normal: NormalBand,
  direction: AnomalyDirection,
): "up" | "down" | undefined {
  const margin = bandMargin(normal);
  if (direction !== "down" && departure(value, normal, true) > margin) return "up";
  if (direction !== "up" && departure(value, normal, false) > margin) return "down";
  return undefined;
}

/**
 * Text of an unusual value, through the one value formatter:
 * `63.0 % where 20.0–35.0 % is normal at this hour` (`… in the last 1h0m0s`
 * for a band of the recent window).
 *
 * @example
 * ```ts
 * import { unusualText } from "opsbook";
 * console.log(unusualText(63, { low: 20, high: 35, basis: "hour", support: 7 }, { unit: "%" }));
 * // 63.0 % where 20.0–35.0 % is normal at this hour
 * ```
 */
export function unusualText(
  value: number,
  normal: NormalBand,
  options: { unit?: string; window?: DurationInput } = {},
): string {
  const unit = options.unit ?? "";
  const when = normal.basis === "hour"
    ? "at this hour"
    : `in the last ${fmtDuration(durationMs("window", options.window ?? "1h"))}`;
  return `${formatValue(value, unit)} where ${normalText(normal, unit)} is normal ${when}`;
}

/**
 * The band as text, `20.0–35.0 %`.
 * @internal
 *
 * @example
 * ```ts
 * import { normalText } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * assert.equal(normalText({ low: 20, high: 35, basis: "hour", support: 7 }, "%"), "20.0–35.0 %");
 * ```
 */
export function normalText(normal: NormalBand, unit = ""): string {
  return `${formatValue(normal.low)}–${formatValue(normal.high, unit)}`;
}

/**
 * One series' anomaly spans, sample by sample, with a plain JSON state.
 *
 * A span starts at a sample whose anomaly score ({@linkcode AnomalyScorer}, fed
 * the sample times for its time-of-day context)
 * reaches `level` while its value lies well outside the normal band
 * ({@linkcode NormalRange}: 5th–95th percentile at this hour of earlier days,
 * or of the recent window; "well outside" is beyond it by more than half its
 * width and more than 5 % of its middle). The band is then frozen: the span
 * lasts while the values stay beyond it by more than half the departure at
 * the onset (missing samples do not end it), and ends at the first sample
 * that came back further, or after `maxDuration`. Half the departure rather
 * than the band itself, because the frozen band goes stale while daily
 * seasonality moves on. The scorer reports an
 * onset once (its score is high at the change, not during it), so "how long
 * it stays unusual" is judged against the band; a rule's `for` then asks for
 * a span that lasted. Samples inside a span do not teach the band, so a long
 * incident does not become "normal".
 *
 * @example A jump far outside the usual band starts a span
 * ```ts
 * import { AnomalyTracker } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const tracker = new AnomalyTracker();
 * const t0 = Date.UTC(2026, 10, 1);
 * for (let m = 0; m < 300; m++) tracker.update(t0 + m * 60_000, 30 + (m % 5));
 * const point = tracker.update(t0 + 300 * 60_000, 90);
 * assert.ok(point.onset && point.active);
 * const restored = AnomalyTracker.fromJSON(JSON.parse(JSON.stringify(tracker)));
 * assert.equal(restored.update(t0 + 301 * 60_000, 91).active, true);
 * assert.equal(restored.update(t0 + 302 * 60_000, 32).active, false);
 * ```
 */
export class AnomalyTracker {
  #o: AnomalyTrackerState["options"];
  #scorer: AnomalyScorer;
  #normal: NormalRange;
  #span: AnomalySpanState | null = null;
  #last: number | null = null;

  /** @throws {RangeError} when an option is invalid. */
  constructor(options: AnomalyTrackerOptions = {}) {
    this.#o = resolve(options);
    this.#scorer = new AnomalyScorer({ warmup: this.#o.warmup });
    this.#normal = new NormalRange(options);
  }

  /** The latest sample time seen (epoch ms), `null` before any. */
  get last(): number | null {
    return this.#last;
  }

  /** The open span, `null` when the series is normal. */
  get span(): Readonly<AnomalySpanState> | null {
    return this.#span;
  }

  /** The normal band at `t` from the samples seen so far (the span's while in one). */
  normal(t: number): NormalBand | undefined {
    return this.#span?.normal ?? this.#normal.band(t);
  }

  /**
   * Judges the sample at `t` (epoch ms; later than the previous one). NaN,
   * ±Inf and null are missing data: score 0, the span (if any) goes on.
   */
  update(t: number, value: number | null): AnomalyPoint {
    if (this.#last !== null && t <= this.#last) {
      throw new RangeError(
        `Invalid sample time: ${t} is not after the previous sample (${this.#last}); feed samples in time order`,
      );
    }
    this.#last = t;
    if (value === null || !Number.isFinite(value)) {
      const span = this.#span;
      return span === null
        ? { score: 0, active: false, onset: false }
        : { score: 0, active: true, onset: false, normal: span.normal, since: span.since };
    }
    const o = this.#o;
    const score = this.#scorer.score(value, t);
    const span = this.#span;
    if (span !== null) {
      const up = span.direction === "up";
      const margin = bandMargin(span.normal);
      const keep = Math.max(margin, departure(span.value, span.normal, up) / 2);
      if (t - span.since < o.maxDuration && departure(value, span.normal, up) > keep) {
        if (score > span.score) span.score = score;
        return { score, active: true, onset: false, normal: span.normal, since: span.since };
      }
      this.#span = null;
      this.#normal.add(t, value);
      return { score, active: false, onset: false, normal: span.normal };
    }
    // The band is only needed when the score reaches the level (most samples score 0).
    const normal = score >= o.level ? this.#normal.band(t) : undefined;
    const out = normal === undefined ? undefined : outsideBand(value, normal, o.direction);
    if (out !== undefined) {
      this.#span = { since: t, normal: normal!, score, value, direction: out };
      return { score, active: true, onset: true, normal, since: t };
    }
    this.#normal.add(t, value);
    return normal === undefined
      ? { score, active: false, onset: false }
      : { score, active: false, onset: false, normal };
  }

  /** The state as plain JSON data (what `JSON.stringify(tracker)` writes). */
  toJSON(): AnomalyTrackerState {
    return {
      version: 1,
      options: { ...this.#o },
      last: this.#last,
      scorer: this.#scorer.toJSON(),
      normal: this.#normal.toJSON(),
      span: this.#span === null ? null : { ...this.#span, normal: { ...this.#span.normal } },
    };
  }

  /**
   * A tracker restored from {@linkcode AnomalyTracker.toJSON}'s data.
   * @throws {TypeError} when the state is not one this version wrote.
   */
  static fromJSON(state: AnomalyTrackerState): AnomalyTracker {
    if (state === null || typeof state !== "object" || state.version !== 1) {
      throw new TypeError("Invalid anomaly tracker state: expected version 1");
    }
    // durations are stored in ms; options take seconds
    const tracker = new AnomalyTracker({
      ...state.options,
      maxDuration: state.options.maxDuration / 1000,
    });
    tracker.#scorer = AnomalyScorer.fromJSON(state.scorer);
    tracker.#normal = NormalRange.fromJSON(state.normal);
    tracker.#span = state.span === null ? null : { ...state.span };
    tracker.#last = state.last;
    return tracker;
  }
}

/**
 * Options of {@linkcode anomalySpans}.
 *
 * @example
 * ```ts
 * import pl from "nodejs-polars";
 * import { anomalySpans, type AnomalySpansOptions } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const t0 = Date.UTC(2026, 10, 1);
 * const values = Array.from({ length: 300 }, (_, m) => (m === 250 ? 95 : 30 + (m % 5)));
 * const frame = pl.DataFrame({
 *   instance: values.map(() => "db:9100"),
 *   timestamp: pl.Series(values.map((_, m) => t0 + m * 60_000)).cast(pl.Datetime("ms")),
 *   value: values,
 * });
 * const options: AnomalySpansOptions = { unit: "%", direction: "up" };
 * assert.equal(anomalySpans(frame, options).height, 1); // the 95 % minute
 * ```
 */
export interface AnomalySpansOptions extends AnomalyTrackerOptions {
  /**
   * The numeric column to judge.
   * @default {"value"}
   */
  column?: string;
  /**
   * Unit shown in `reason`, e.g. `"%"`.
   * @default {""}
   */
  unit?: string;
}

/**
 * Every anomaly span of every series of a range frame, as
 * {@linkcode AnomalyTracker} finds them sample by sample (causal: the spans
 * up to a time do not depend on later samples).
 *
 * One row per span, in label then time order: labels, `timestamp` (the
 * onset), `value` (the value then), `reason` (`63.0 % where 20.0–35.0 % is
 * normal in the last 1h0m0s`), `start` and `end` (first and last sample of
 * the span, Datetime; `end` is the last sample while still open), `open`
 * (still unusual at the frame's end), `score` (the highest score), `peak`
 * (the value furthest from the band), `low`, `high` and `basis` of the band.
 *
 * @throws {RangeError} when an option is invalid.
 * @throws {TypeError} when the frame lacks `timestamp` or the value column.
 *
 * @example A level shift is one span
 * ```ts
 * import pl from "nodejs-polars";
 * import { anomalySpans } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const t0 = Date.UTC(2026, 10, 1);
 * const values = Array.from({ length: 400 }, (_, i) => (i >= 300 && i < 330 ? 90 : 30) + (i % 5));
 * const frame = pl.DataFrame({
 *   instance: values.map(() => "db:9100"),
 *   timestamp: pl.Series(values.map((_, i) => t0 + i * 60_000)).cast(pl.Datetime("ms")),
 *   value: values,
 * });
 * const spans = anomalySpans(frame, { unit: "%" });
 * assert.equal(spans.height, 1);
 * assert.equal(Number(spans.getColumn("start").cast(pl.Float64).get(0)), t0 + 300 * 60_000);
 * assert.equal(Number(spans.getColumn("end").cast(pl.Float64).get(0)), t0 + 329 * 60_000);
 * ```
 */
export function anomalySpans(
  frame: pl.DataFrame,
  options: AnomalySpansOptions = {},
): pl.DataFrame {
  checkFrame(frame, "anomalySpans");
  new AnomalyTracker(options); // validates the options before any work
  const column = options.column ?? "value";
  const unit = options.unit ?? "";
  const labels = labelColumns(frame);
  const cols: Record<string, (string | null)[]> = Object.fromEntries(labels.map((l) => [l, []]));
  const out = {
    timestamp: [] as number[],
    value: [] as number[],
    reason: [] as string[],
    start: [] as number[],
    end: [] as number[],
    open: [] as boolean[],
    score: [] as number[],
    peak: [] as number[],
    low: [] as number[],
    high: [] as number[],
    basis: [] as string[],
  };
  if (frame.height > 0) {
    checkValueColumn(frame, column);
    checkTimestamp(frame, "anomalySpans");
    const index = seriesIndex(frame, column);
    const view = index.load();
    const labelValues = index.labelValues(view.series);
    for (let s = 0; s < view.starts.length; s++) {
      const tracker = new AnomalyTracker(options);
      const labelSet = labelsAt(labelValues, index.labels, s);
      let current = -1;
      for (let i = view.starts[s]; i < view.ends[s]; i++) {
        const t = view.ts[i];
        const v = view.values[i];
        const p = tracker.update(t, v);
        if (p.onset) {
          current = out.start.length;
          for (const l of labels) cols[l].push(labelSet[l] ?? null);
          out.timestamp.push(t);
          out.value.push(v);
          out.reason.push(unusualText(v, p.normal!, { unit, window: options.window }));
          out.start.push(t);
          out.end.push(t);
          out.open.push(true);
          out.score.push(p.score);
          out.peak.push(v);
          out.low.push(p.normal!.low);
          out.high.push(p.normal!.high);
          out.basis.push(p.normal!.basis);
        } else if (current >= 0 && p.active) {
          out.end[current] = t;
          if (p.score > out.score[current]) out.score[current] = p.score;
          const mid = (out.low[current] + out.high[current]) / 2;
          if (Number.isFinite(v) && Math.abs(v - mid) > Math.abs(out.peak[current] - mid)) {
            out.peak[current] = v;
          }
        } else if (current >= 0) {
          out.open[current] = false;
          current = -1;
        }
      }
    }
  }
  const time = (name: string, values: number[]) =>
    pl.Series(name, values, pl.Float64).cast(pl.Int64).cast(pl.Datetime("ms"));
  return pl.DataFrame([
    ...labels.map((l) => pl.Series(l, cols[l], pl.Utf8)),
    time("timestamp", out.timestamp),
    pl.Series("value", out.value, pl.Float64),
    pl.Series("reason", out.reason, pl.Utf8),
    time("start", out.start),
    time("end", out.end),
    pl.Series("open", out.open, pl.Bool),
    pl.Series("score", out.score, pl.Float64),
    pl.Series("peak", out.peak, pl.Float64),
    pl.Series("low", out.low, pl.Float64),
    pl.Series("high", out.high, pl.Float64),
    pl.Series("basis", out.basis, pl.Utf8),
  ]);
}
