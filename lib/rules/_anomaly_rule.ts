/**
 * The `anomaly` detector of the rule files: a rule whose `opsbook`
 * annotation says `{detector: anomaly}` returns the series of its query that
 * are in an anomaly span ({@linkcode AnomalyTracker}). One tracker per series
 * lives in the rule's state (plain JSON, saved with the alert states), so an
 * evaluation only reads the samples since the previous one; a cold start
 * reads `history` once.
 *
 * @module
 */

import { fingerprint, type Labels } from "../labels.ts";
import { type DurationInput, formatDuration, parseDuration } from "../time.ts";
import { parseSampleValue } from "../prometheus/frame.ts";
import { formatValue } from "../_internal/format.ts";
import {
  type AnomalyDirection,
  AnomalyTracker,
  type AnomalyTrackerState,
  normalText,
  unusualText,
} from "../detect/anomaly_spans.ts";
import type { RangeResult } from "../prometheus/client.ts";
import type { RuleSample } from "./rule_state.ts";

/** The client calls the detector makes. */
interface RangeClient {
  queryRange(
    promql: string,
    options: { start: Date; end: Date; step: number; signal?: AbortSignal },
  ): Promise<Pick<RangeResult, "result" | "warnings">>;
}

/** The options of an `anomaly` rule, resolved. */
export interface AnomalyRuleOptions {
  /** Score at which a departure from the normal band starts a span. */
  level: number;
  /** `both`, `up` or `down`. */
  direction: AnomalyDirection;
  /** Sample step, ms (the scorer sees one sample per step). */
  stepMs: number;
  /** Samples read on a cold start, ms. */
  historyMs: number;
  /** Recent window of the normal band, ms. */
  windowMs: number;
  /** Longest span, ms. */
  maxDurationMs: number;
  /** Days at this hour needed for an hour-of-day band. */
  minDays: number;
  /** Unit in the texts. */
  unit: string;
}

/** Per series: its labels and tracker. */
export interface AnomalySeriesState {
  /** The series' labels as the query returned them. */
  labels: Labels;
  /**
   * The tracker's plain JSON state. Between evaluations of one process it is
   * a getter over the live tracker (so `JSON.stringify` and `structuredClone`
   * see current data, and nothing is serialised unless someone reads it).
   */
  tracker: AnomalyTrackerState;
  /** The latest sample (epoch ms) and value (`null` for NaN). */
  last: [number, number | null];
}

/** What an `anomaly` rule keeps between evaluations (inside its `RuleState`). */
export interface AnomalyRuleState {
  /** Samples were read up to here (epoch ms, on the step grid). */
  until: number;
  /** Per series fingerprint. */
  series: Record<string, AnomalySeriesState>;
}

const KEYS: Record<string, string> = {
  detector: "detector",
  level: "level",
  direction: "direction",
  step: "step",
  history: "history",
  window: "window",
  max_duration: "max_duration",
  min_days: "min_days",
  unit: "unit",
};

const EXAMPLE = `{detector: anomaly, level: 0.25, unit: "%"}`;

function duration(o: Record<string, unknown>, key: string, fallback: string): number {
  const v = o[key] ?? fallback;
  let s: number;
  try {
    s = parseDuration(v as DurationInput);
  } catch {
    throw new RangeError(
      `${key}: expected a duration such as "5m" or "1h30m", got ${JSON.stringify(v)}`,
    );
  }
  if (!(s > 0)) {
    throw new RangeError(`${key}: expected a positive duration, got ${JSON.stringify(v)}`);
  }
  return s * 1000;
}

/**
 * The options of an `anomaly` rule, checked and resolved.
 * @throws {RangeError} naming the option and the accepted form.
 */
export function anomalyRuleOptions(o: Record<string, unknown>): AnomalyRuleOptions {
  for (const key of Object.keys(o)) {
    // Not the detector's: the rule's repeat interval (checked by checkDetector).
    if (key === "repeat_interval" || key === "repeatInterval") continue;
    if (key === "for") {
      throw new RangeError(
        `detector anomaly: "for" belongs to the rule (for: 10m), not to the opsbook annotation`,
      );
    }
    if (!(key in KEYS)) {
      throw new RangeError(
        `detector anomaly: unknown option ${JSON.stringify(key)}: expected ${
          Object.keys(KEYS).filter((k) => k !== "detector").join(", ")
        }, e.g. ${EXAMPLE}`,
      );
    }
  }
  const level = o.level ?? 0.25;
  if (typeof level !== "number" || !(level > 0 && level <= 1)) {
    throw new RangeError(
      `level: expected an anomaly score in (0, 1] such as 0.25, got ${JSON.stringify(level)}`,
    );
  }
  const direction = o.direction ?? "both";
  if (direction !== "both" && direction !== "up" && direction !== "down") {
    throw new RangeError(
      `direction: expected up, down or both, got ${JSON.stringify(direction)}`,
    );
  }
  const minDays = o.min_days ?? 3;
  if (typeof minDays !== "number" || !Number.isInteger(minDays) || minDays < 1 || minDays > 7) {
    throw new RangeError(
      `min_days: expected an integer from 1 to 7, got ${JSON.stringify(minDays)}`,
    );
  }
  const unit = o.unit ?? "";
  if (typeof unit !== "string") {
    throw new RangeError(`unit: expected a string such as "%", got ${JSON.stringify(unit)}`);
  }
  const stepMs = duration(o, "step", "1m");
  const historyMs = duration(o, "history", "1d");
  if (historyMs < stepMs) {
    throw new RangeError(`history: expected at least one step (${formatDuration(stepMs / 1000)})`);
  }
  return {
    level,
    direction,
    stepMs,
    historyMs,
    windowMs: duration(o, "window", "1h"),
    maxDurationMs: duration(o, "max_duration", "6h"),
    minDays,
    unit,
  };
}

/** Where a series entry keeps its live tracker (not enumerable: never cloned or written). */
const LIVE = Symbol("opsbook.anomaly.tracker");

/** A series entry whose `tracker` reads as the live tracker's JSON state. */
function entry(labels: Labels, tracker: AnomalyTracker, last: [number, number | null]) {
  const e = { labels, last } as AnomalySeriesState;
  Object.defineProperty(e, "tracker", {
    enumerable: true,
    configurable: true,
    get: () => tracker.toJSON(),
  });
  Object.defineProperty(e, LIVE, { value: tracker });
  return e;
}

/** The live tracker of an entry (restored from its JSON after a restart or a clone). */
function live(e: AnomalySeriesState): AnomalyTracker {
  const t = (e as unknown as { [LIVE]?: AnomalyTracker })[LIVE];
  return t ?? AnomalyTracker.fromJSON(e.tracker);
}

function newTracker(o: AnomalyRuleOptions): AnomalyTracker {
  return new AnomalyTracker({
    level: o.level,
    direction: o.direction,
    window: o.windowMs / 1000,
    maxDuration: o.maxDurationMs / 1000,
    minDays: o.minDays,
  });
}

/**
 * Labels a template sees in `$labels` for an anomalous series, besides the
 * series' own (they are not alert labels).
 */
function templateLabels(
  o: AnomalyRuleOptions,
  tracker: AnomalyTracker,
  value: number,
): Labels {
  const span = tracker.span!;
  const normal = span.normal;
  const when = normal.basis === "hour"
    ? "at this hour"
    : `in the last ${formatDuration(o.windowMs / 1000)}`;
  return {
    opsbook_unusual: unusualText(value, normal, { unit: o.unit, window: o.windowMs / 1000 }),
    opsbook_normal: normalText(normal, o.unit),
    opsbook_normal_low: String(normal.low),
    opsbook_normal_high: String(normal.high),
    opsbook_normal_when: when,
    opsbook_value: formatValue(value, o.unit),
    opsbook_score: span.score.toFixed(2),
    opsbook_since: new Date(span.since).toISOString().replace(".000Z", "Z"),
  };
}

/**
 * The series of an `anomaly` rule in an anomaly span at `t`: reads the
 * query's samples since the previous evaluation (on the `step` grid; a cold
 * start reads `history`), feeds each series' tracker, and returns the series
 * whose latest sample is at the current step and which are in a span.
 * `state` is updated only when the query succeeded.
 *
 * @internal
 */
export async function anomalySamples(
  client: RangeClient,
  query: string,
  options: Record<string, unknown>,
  t: number,
  holder: { anomaly?: AnomalyRuleState },
  signal?: AbortSignal,
): Promise<{ samples: RuleSample[]; warnings: string[] }> {
  const o = anomalyRuleOptions(options);
  const end = Math.floor(t / o.stepMs) * o.stepMs;
  const prev = holder.anomaly;
  const from = Math.max(
    prev === undefined || prev.until > end ? end - o.historyMs : prev.until + o.stepMs,
    end - o.historyMs,
  );
  const series: Record<string, AnomalySeriesState> = prev === undefined || prev.until > end
    ? {}
    : { ...prev.series };
  let warnings: string[] = [];
  if (from <= end) {
    const result = await client.queryRange(query, {
      start: new Date(from),
      end: new Date(end),
      step: o.stepMs / 1000,
      signal,
    });
    warnings = result.warnings;
    for (const s of result.result) {
      if (s.values === undefined || s.values.length === 0) continue;
      const { __name__: _, ...labels } = s.metric;
      const key = fingerprint(labels);
      const known = series[key];
      const tracker = known === undefined ? newTracker(o) : live(known);
      let last = known?.last ?? [-Infinity, null] as [number, number | null];
      for (const [ts, raw] of s.values) {
        const ms = Math.round(ts * 1000);
        if (tracker.last !== null && ms <= tracker.last) continue;
        const v = parseSampleValue(raw) ?? NaN;
        tracker.update(ms, v);
        last = [ms, Number.isNaN(v) ? null : v];
      }
      series[key] = entry(labels, tracker, last);
    }
  }
  // Forget series unseen for longer than the history.
  for (const key of Object.keys(series)) {
    if (series[key].last[0] < end - o.historyMs) delete series[key];
  }
  holder.anomaly = { until: end, series };
  const samples: RuleSample[] = [];
  for (const key of Object.keys(series).sort()) {
    let s = series[key];
    if (s.last[0] !== end) continue;
    const tracker = live(s);
    if (tracker.span === null) continue;
    if (!(LIVE in s)) s = series[key] = entry(s.labels, tracker, s.last);
    const value = s.last[1] ?? NaN;
    samples.push({ labels: s.labels, value, templateLabels: templateLabels(o, tracker, value) });
  }
  return { samples, warnings };
}

/**
 * A client that answers an `anomaly` rule's range queries during a backtest
 * from one range query over the whole backtest (plus the cold start's
 * history), instead of one query per evaluation: the same points, since a
 * range query evaluates each step on its own.
 *
 * @internal
 */
export function prefetchingClient(
  client: RangeClient,
  query: string,
  options: Record<string, unknown>,
  start: number,
  end: number,
): RangeClient {
  const o = anomalyRuleOptions(options);
  const first = Math.floor(start / o.stepMs) * o.stepMs - o.historyMs;
  const last = Math.floor(end / o.stepMs) * o.stepMs;
  let all: Promise<Pick<RangeResult, "result" | "warnings">> | undefined;
  return {
    async queryRange(promql, opts) {
      if (promql !== query || opts.step * 1000 !== o.stepMs) return client.queryRange(promql, opts);
      const a = opts.start.getTime(), b = opts.end.getTime();
      if (a < first || b > last) return client.queryRange(promql, opts);
      all ??= client.queryRange(query, {
        start: new Date(first),
        end: new Date(last),
        step: o.stepMs / 1000,
        signal: opts.signal,
      });
      const whole = await all;
      const result = [];
      for (const s of whole.result) {
        const all = s.values ?? [];
        const values = all.slice(lowerBound(all, a / 1000), lowerBound(all, b / 1000 + 0.0005));
        if (values.length > 0) result.push({ metric: s.metric, values });
      }
      return { result, warnings: whole.warnings };
    },
  };
}

/** The first index whose time is at least `t` (seconds) in time-ordered points. */
function lowerBound(points: readonly [number, string][], t: number): number {
  let lo = 0, hi = points.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (points[mid][0] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
