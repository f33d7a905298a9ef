/**
 * opsbook's detectors inside a rule file: a rule with an `opsbook:` key
 * (`detector: hysteresis | trend | baseline | outliers`) is evaluated by the
 * detector instead of by Prometheus' comparison, and its answer feeds the
 * same alert state machine (`for`, `keep_firing_for`, no data, partial).
 *
 * For `hysteresis` and `trend` the expression is `<query> <op> <number>`:
 * the evaluator queries `<query>` and applies the detector with the number as
 * its threshold. For `baseline` and `outliers` the expression is the query.
 *
 * @module
 */

import pl from "nodejs-polars";
import { queryDataToFrame } from "../prometheus/frame.ts";
import { parseSampleValue } from "../prometheus/frame.ts";
import { baselineAnomalies } from "../detect/baseline.ts";
import { fleetOutliers } from "../detect/outliers.ts";
import { type TrendParams, trendReaches } from "../detect/trend.ts";
import { labelColumns } from "../detect/_common.ts";
import { fingerprint, type Labels } from "../labels.ts";
import { type DurationInput, parseDuration } from "../time.ts";
import type { CompiledRule } from "./_compile.ts";
import type { RuleSample, RuleState } from "./rule_state.ts";
import type { RuleAnswer, RuleQueryClient } from "./evaluator.ts";
import { anomalyRuleOptions, anomalySamples } from "./_anomaly_rule.ts";

/** The detectors a rule can name. */
export const DETECTORS: readonly string[] = Object.freeze([
  "hysteresis",
  "trend",
  "baseline",
  "outliers",
  "anomaly",
]);

/** A rule's `<query> <op> <number>`, split. */
export interface Comparison {
  /** The left side. */
  query: string;
  /** The operator. */
  op: ">" | ">=" | "<" | "<=";
  /** The threshold. */
  threshold: number;
}

/**
 * Splits `<query> <op> <number>` (the comparison at the top level, at the
 * end); `undefined` when the expression does not end so.
 *
 * @example
 * ```ts
 * import { splitComparison } from "./detector_rules.ts";
 * console.log(splitComparison("avg by (instance) (x) > 80"));
 * // { query: "avg by (instance) (x)", op: ">", threshold: 80 }
 * ```
 */
export function splitComparison(expr: string): Comparison | undefined {
  const m = expr.match(
    /^([\s\S]*?)\s*(>=|<=|>|<)\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*$/,
  );
  if (!m) return undefined;
  const query = m[1].trim();
  // The operator must be at depth 0: the left side's brackets balance.
  let depth = 0;
  for (const c of query) {
    if (c === "(" || c === "{" || c === "[") depth++;
    if (c === ")" || c === "}" || c === "]") depth--;
  }
  if (depth !== 0 || query === "" || /\bbool\s*$/.test(query)) return undefined;
  return { query, op: m[2] as Comparison["op"], threshold: Number(m[3]) };
}

const cmp = (op: Comparison["op"], v: number, x: number) =>
  op === ">" ? v > x : op === ">=" ? v >= x : op === "<" ? v < x : v <= x;

/**
 * Whether a compiled rule is evaluated by a detector (its `opsbook`
 * annotation names one; `{repeat_interval: 24h}` alone leaves the rule to
 * Prometheus' semantics). @internal
 */
export function isDetectorRule(rule: CompiledRule): boolean {
  const o = rule.spec.opsbook;
  return o !== undefined && o !== null && o.detector !== undefined;
}

/**
 * The repeat interval a rule's `opsbook` annotation asks for
 * (`{repeat_interval: 24h}`): how long a still-firing alert of the rule waits
 * before it is notified again, instead of the monitor's (or the backtest's)
 * `repeatInterval`. `undefined` when the rule does not set one.
 *
 * @example
 * ```ts
 * import { opsbookRepeatInterval } from "./detector_rules.ts";
 * console.log(opsbookRepeatInterval({ detector: "trend", repeat_interval: "24h" })); // 24h
 * console.log(opsbookRepeatInterval(undefined)); // undefined
 * ```
 */
export function opsbookRepeatInterval(
  o: Record<string, unknown> | undefined,
): DurationInput | undefined {
  const v = o?.repeat_interval ?? o?.repeatInterval;
  return typeof v === "string" || typeof v === "number" ? v : undefined;
}

function option<T>(o: Record<string, unknown>, snake: string, camel: string): T | undefined {
  return (o[snake] ?? o[camel]) as T | undefined;
}

/**
 * Checks a rule's `opsbook` annotation; returns the problem or `undefined`.
 * `repeat_interval` (a positive duration) is valid on any rule; the other
 * options belong to the detector named by `detector`.
 *
 * @example
 * ```ts
 * import { checkDetector } from "./detector_rules.ts";
 * console.log(checkDetector("x > 80", { detector: "hysteresis", clear_below: 75 })); // undefined
 * console.log(checkDetector("x", { detector: "hysteresis", clear_below: 75 }));
 * // detector hysteresis needs an expression of the form <query> > <number>, got "x"
 * console.log(checkDetector("up == 0", { repeat_interval: "24h" })); // undefined
 * ```
 */
export function checkDetector(
  expr: string,
  options: Record<string, unknown>,
): string | undefined {
  const { repeat_interval: r1, repeatInterval: r2, ...o } = options;
  const repeat = r1 ?? r2;
  if (repeat !== undefined) {
    let seconds: number | undefined;
    try {
      seconds = parseDuration(repeat as DurationInput);
    } catch {
      seconds = undefined;
    }
    if (seconds === undefined || !(seconds > 0)) {
      return `repeat_interval: invalid duration ${
        JSON.stringify(String(repeat))
      }: expected a positive duration such as "24h"`;
    }
  }
  if (o.detector === undefined) {
    const extra = Object.keys(o);
    if (extra.length === 0) return undefined;
    return `${extra.join(", ")}: ${extra.length === 1 ? "is an option" : "are options"} of a ` +
      `detector, but no detector is named: add detector: (one of ${DETECTORS.join(", ")})`;
  }
  const name = o.detector;
  if (typeof name !== "string" || !DETECTORS.includes(name)) {
    return `unknown detector ${JSON.stringify(name)}: expected one of ${DETECTORS.join(", ")}`;
  }
  if (name === "anomaly") {
    try {
      anomalyRuleOptions(o);
    } catch (e) {
      return (e as Error).message;
    }
    return undefined;
  }
  const c = splitComparison(expr);
  if ((name === "hysteresis" || name === "trend") && c === undefined) {
    return `detector ${name} needs an expression of the form <query> > <number>, got ${
      JSON.stringify(expr)
    }`;
  }
  if (name === "hysteresis") {
    const clear = option<unknown>(o, "clear_below", "clearBelow") ??
      option<unknown>(o, "clear_above", "clearAbove");
    if (typeof clear !== "number" || !Number.isFinite(clear)) {
      return "detector hysteresis needs clear_below (or clear_above for < rules): a number";
    }
    const up = c!.op === ">" || c!.op === ">=";
    if (up ? clear > c!.threshold : clear < c!.threshold) {
      return `detector hysteresis: clear level ${clear} is on the wrong side of the threshold ${
        c!.threshold
      }`;
    }
  }
  for (const key of ["lookback", "within", "step", "window"]) {
    const v = o[key];
    if (v === undefined) continue;
    try {
      parseDuration(v as DurationInput);
    } catch (e) {
      return `${key}: ${(e as Error).message}`;
    }
  }
  return undefined;
}

function frameSamples(frame: pl.DataFrame, keep?: (v: number) => boolean): RuleSample[] {
  if (frame.height === 0) return [];
  const cols = labelColumns(frame).filter((c) =>
    !["reason", "fingerprint", "detector", "direction", "message"].includes(c)
  );
  const data = cols.map((c) => frame.getColumn(c).toArray() as (string | null)[]);
  const values = frame.getColumn("value").toArray() as number[];
  const out: RuleSample[] = [];
  const seen = new Map<string, number>();
  for (let i = 0; i < frame.height; i++) {
    if (keep !== undefined && !keep(values[i])) continue;
    const labels: Labels = {};
    cols.forEach((c, k) => {
      const v = data[k][i];
      if (v !== null && v !== "") labels[c] = v;
    });
    // One sample per series: the latest row wins.
    const key = fingerprint(labels);
    const at = seen.get(key);
    if (at === undefined) {
      seen.set(key, out.length);
      out.push({ labels, value: values[i] });
    } else out[at] = { labels, value: values[i] };
  }
  return out;
}

/**
 * The range query that gives a `hysteresis` rule's decisions at every step
 * (the backtest's one query per rule): its left side where it is on the
 * firing side of the clear level, or NaN (which never clears):
 * `(q) >= clear or (q) != (q)` for `>` rules. Below the clear level a series
 * is never returned, so Prometheus need not send it. `undefined` for the
 * other detectors.
 *
 * @internal
 */
export function rangeableDetectorQuery(rule: CompiledRule): string | undefined {
  const o = rule.spec.opsbook as Record<string, unknown>;
  if (o?.detector !== "hysteresis" || checkDetector(rule.expr, o) !== undefined) return undefined;
  const c = splitComparison(rule.expr)!;
  const clear = (option<number>(o, "clear_below", "clearBelow") ??
    option<number>(o, "clear_above", "clearAbove"))!;
  const up = c.op === ">" || c.op === ">=";
  return `(${c.query}) ${up ? ">=" : "<="} ${clear} or (${c.query}) != (${c.query})`;
}

/** A hysteresis rule's comparison and clear level, parsed once per compiled rule. */
const hysteresisLevels = new WeakMap<
  CompiledRule,
  { c: Comparison; clear: number; up: boolean }
>();

/**
 * `hysteresis` at one evaluation, on the left side's samples: a series is
 * returned when it passes the threshold, or when its alert is active and it
 * has not crossed the clear level (NaN never clears).
 *
 * @internal
 */
export function hysteresisSamples(
  rule: CompiledRule,
  raw: readonly RuleSample[],
  state: RuleState,
): RuleSample[] {
  let levels = hysteresisLevels.get(rule);
  if (levels === undefined) {
    const o = rule.spec.opsbook as Record<string, unknown>;
    const problem = checkDetector(rule.expr, o);
    if (problem !== undefined) throw new TypeError(problem);
    const c = splitComparison(rule.expr)!;
    const clear = (option<number>(o, "clear_below", "clearBelow") ??
      option<number>(o, "clear_above", "clearAbove"))!;
    levels = { c, clear, up: c.op === ">" || c.op === ">=" };
    hysteresisLevels.set(rule, levels);
  }
  const { c, clear, up } = levels;
  const active = (s: RuleSample) =>
    state.alerts[s.alert?.fingerprint ?? fingerprint(rule.alertLabels(s))] !== undefined;
  const samples: RuleSample[] = [];
  for (const sample of raw) {
    const v = sample.value;
    if (cmp(c.op, v, c.threshold)) samples.push(sample);
    else if (Number.isNaN(v) || (up ? v >= clear : v <= clear)) {
      // Between the levels (or missing data, which never clears): kept while active.
      if (active(sample)) samples.push(sample);
    }
  }
  return samples;
}

/**
 * The series a detector rule returns at `t`: what Prometheus' comparison
 * would return, decided by the detector.
 *
 * - `hysteresis`: the query at `t`; a series is returned when it passes the
 *   threshold, or when its alert is active and it has not crossed
 *   `clear_below` (`clear_above` for `<` rules).
 * - `trend`: the query over `[t - lookback, t]` at `step`; a series is
 *   returned when its least-squares line reaches the threshold within `within`.
 * - `baseline`: the query over `[t - window, t]` at `step`; a series is
 *   returned when its latest point leaves median ± tolerance·MAD of its own history.
 * - `outliers`: the query at `t`; a series is returned when it is a robust
 *   outlier of the fleet (|z| > tolerance).
 * - `anomaly`: the query's samples since the previous evaluation, at `step`,
 *   fed to one anomaly tracker per series kept in `state`; a series is
 *   returned while it is in an anomaly span (see `AnomalyTracker`).
 *
 * @internal
 */
export async function detectorSamples(
  client: RuleQueryClient,
  rule: CompiledRule,
  t: number,
  state: RuleState,
  signal?: AbortSignal,
): Promise<RuleAnswer> {
  const o = rule.spec.opsbook as Record<string, unknown>;
  const problem = checkDetector(rule.expr, o);
  if (problem !== undefined) throw new TypeError(problem);
  const detector = o.detector as string;
  if (detector === "anomaly") return await anomalySamples(client, rule.expr, o, t, state, signal);
  const c = splitComparison(rule.expr);
  const query = c?.query ?? rule.expr;
  const at = new Date(t);
  if (detector === "hysteresis") {
    const result = await client.query(query, { time: at, signal });
    if (result.resultType !== "vector") throw new TypeError("hysteresis needs a vector query");
    const raw: RuleSample[] = [];
    for (const s of result.result) {
      if (s.value === undefined) continue;
      raw.push({ labels: s.metric, value: parseSampleValue(s.value[1]) ?? NaN });
    }
    return { samples: hysteresisSamples(rule, raw, state), warnings: result.warnings };
  }
  if (detector === "outliers") {
    const result = await client.query(query, { time: at, signal });
    const frame = queryDataToFrame(result);
    const out = fleetOutliers(frame, {
      tolerance: option<number>(o, "tolerance", "tolerance"),
      minHosts: option<number>(o, "min_hosts", "minHosts"),
    });
    return { samples: frameSamples(out), warnings: result.warnings };
  }
  const stepS = parseDuration((o.step as DurationInput | undefined) ?? "5m");
  const spanS = parseDuration(
    (detector === "trend" ? o.lookback : o.window) as DurationInput | undefined ??
      (detector === "trend" ? "6h" : "1h"),
  );
  const result = await client.queryRange(query, {
    start: new Date(t - spanS * 1000),
    end: at,
    step: stepS,
    signal,
  });
  if (detector === "trend") {
    // trend()'s test per series, on the raw samples (no frame per evaluation:
    // a backtest evaluates this at every step).
    const params: TrendParams = {
      limit: c!.threshold,
      withinMs: parseDuration((o.within as DurationInput | undefined) ?? "12h") * 1000,
      from: t - spanS * 1000,
      at: t,
      minR2: option<number>(o, "min_r2", "minR2") ?? 0.9,
      minSamples: 3,
    };
    const fit = new Float64Array(6);
    const samples: RuleSample[] = [];
    for (const s of result.result) {
      const points = s.values ?? [];
      const ts = new Float64Array(points.length), ys = new Float64Array(points.length);
      for (let i = 0; i < points.length; i++) {
        ts[i] = Math.round(points[i][0] * 1000);
        ys[i] = parseSampleValue(points[i][1]) ?? NaN;
      }
      if (trendReaches(ts, ys, 0, points.length, params, fit)) {
        samples.push({ labels: s.metric, value: fit[3] });
      }
    }
    return { samples, warnings: result.warnings };
  }
  const frame = queryDataToFrame(result);
  // baseline: the latest point of each series, judged against its own history.
  const out = frame.height === 0 ? frame : baselineAnomalies(frame, {
    window: spanS,
    tolerance: option<number>(o, "tolerance", "tolerance"),
    minSamples: option<number>(o, "min_samples", "minSamples"),
  });
  const latest = out.height === 0
    ? []
    : frameSamples(out.filter(pl.col("timestamp").cast(pl.Int64).eq(pl.lit(t))));
  return { samples: latest, warnings: result.warnings };
}
