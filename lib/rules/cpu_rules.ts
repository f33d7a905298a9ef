/**
 * Alert rules built from the detectors, shared by the monitor and the
 * alerting notebook: a rule turns the frame it is given into the alerts whose
 * condition holds now.
 *
 * - `HostHighCpu` ({@linkcode highCpuRule}): CPU above `threshold` (80 %) at
 *   every sample for `for` (5 m) fires; a firing host clears only when a
 *   sample drops below `low` (75 %): hysteresis, using the fingerprints of
 *   the alerts firing in the state store. A short spike never fires, a host
 *   hovering around 80 % fires once.
 * - `HostCpuTrend` ({@linkcode cpuTrendRule}): a least-squares line over the
 *   last `lookback` (6 h) reaches `limit` (100 %) within `within` (12 h): an
 *   early warning, repeated at most once a day.
 *
 * @module
 */

import pl from "nodejs-polars";
import { trend } from "../detect/mod.ts";
import { checkFrame, checkTimestamp, checkValueColumn } from "../detect/_common.ts";
import { hysteresisOn } from "../detect/hysteresis.ts";
import { seriesIndex } from "../detect/_series.ts";
import { sustainedOn } from "../detect/sustained.ts";
import { fingerprint, type Labels } from "../labels.ts";
import {
  type DurationInput,
  formatDuration,
  parseDuration,
  type TimeInput,
  toMillis,
} from "../time.ts";
import {
  alertLabelColumns,
  alertsFromFrame,
  describeFrame,
  type FrameCheck,
} from "../alert/model.ts";
import type { Alert, NotificationContext } from "../alert/types.ts";

/**
 * What a rule knows when it evaluates.
 *
 * @example
 * ```ts
 * import pl from "nodejs-polars";
 * import { highCpuRule, type RuleContext } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const t0 = Date.UTC(2026, 10, 1, 10);
 * const times = Array.from({ length: 41 }, (_, i) => t0 + i * 15_000);
 * const frame = pl.DataFrame({
 *   instance: times.map(() => "db-01:9100"),
 *   timestamp: pl.Series(times).cast(pl.Datetime("ms")),
 *   value: times.map(() => 95),
 * });
 * const at = new Date(times[40]);
 * const context: RuleContext = { at, firing: [], warnings: [] };
 * assert.equal(highCpuRule().evaluate(frame, context).length, 1);
 * ```
 */
export interface RuleContext {
  /** The evaluation time. */
  at: TimeInput;
  /**
   * Fingerprints of the alerts firing now (from the state store, e.g.
   * `(await alerter.state()).firing`), for hysteresis.
   * @default {[]}
   */
  firing?: Iterable<string>;
  /**
   * Warnings that came with the frames (collected with the client's
   * `onWarning`): the answer was partial, so {@linkcode evaluateRules}
   * reports it and `Alerter.evaluate` keeps the state of the alerts absent
   * from it (neither resolved nor gone).
   * @default {[]}
   */
  warnings?: readonly string[];
}

/**
 * The data a rule wants: a range query over `range` at `step`, ending at the evaluation time.
 *
 * @example
 * ```ts
 * import pl from "nodejs-polars";
 * import { highCpuRule, type RuleWindow } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const t0 = Date.UTC(2026, 10, 1, 10);
 * const times = Array.from({ length: 41 }, (_, i) => t0 + i * 15_000);
 * const frame = pl.DataFrame({
 *   instance: times.map(() => "db-01:9100"),
 *   timestamp: pl.Series(times).cast(pl.Datetime("ms")),
 *   value: times.map(() => 95),
 * });
 * const at = new Date(times[40]);
 * const window: RuleWindow = highCpuRule().window; // what to query before evaluating
 * assert.ok(window.range !== undefined && window.step !== undefined);
 * assert.equal(highCpuRule().evaluate(frame, { at }).length, 1);
 * ```
 */
export interface RuleWindow {
  /** How far back the frame reaches, e.g. `"15m"`. */
  range: DurationInput;
  /** The query step, e.g. `"15s"`. */
  step: DurationInput;
}

/**
 * One alert rule.
 *
 * @example
 * ```ts
 * import pl from "nodejs-polars";
 * import { type AlertRule, defaultCpuRules } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const t0 = Date.UTC(2026, 10, 1, 10);
 * const times = Array.from({ length: 41 }, (_, i) => t0 + i * 15_000);
 * const frame = pl.DataFrame({
 *   instance: times.map(() => "db-01:9100"),
 *   timestamp: pl.Series(times).cast(pl.Datetime("ms")),
 *   value: times.map(() => 95),
 * });
 * const at = new Date(times[40]);
 * const rules: AlertRule[] = defaultCpuRules();
 * assert.deepEqual(rules.map((r) => r.name), ["HostHighCpu", "HostCpuTrend"]);
 * assert.deepEqual(rules[0].evaluate(frame, { at }).map((a) => a.labels.instance), ["db-01:9100"]);
 * ```
 */
export interface AlertRule {
  /** The `alertname` of its alerts (also the notification group). */
  readonly name: string;
  /** The frame it needs. */
  readonly window: RuleWindow;
  /** Repeat interval for its group, when it differs from the alerter's. */
  readonly repeatInterval?: DurationInput;
  /** Context for its notifications (threshold, unit, query). */
  readonly context: Partial<NotificationContext>;
  /** The alerts whose condition holds at `context.at` in `frame`. */
  evaluate(frame: pl.DataFrame, context: RuleContext): Alert[];
}

/**
 * Options of {@linkcode highCpuRule}.
 *
 * @example
 * ```ts
 * import pl from "nodejs-polars";
 * import { highCpuRule, type HighCpuRuleOptions } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const t0 = Date.UTC(2026, 10, 1, 10);
 * const times = Array.from({ length: 41 }, (_, i) => t0 + i * 15_000);
 * const frame = pl.DataFrame({
 *   instance: times.map(() => "db-01:9100"),
 *   timestamp: pl.Series(times).cast(pl.Datetime("ms")),
 *   value: times.map(() => 95),
 * });
 * const at = new Date(times[40]);
 * const options: HighCpuRuleOptions = { threshold: 90, low: 85, for: "10m", labels: { team: "db" } };
 * const alerts = highCpuRule(options).evaluate(frame, { at });
 * assert.deepEqual(alerts.map((a) => a.labels.team), ["db"]); // 95 % for 10 minutes
 * ```
 */
export interface HighCpuRuleOptions {
  /**
   * Fire above this, in percent.
   * @default {80}
   */
  threshold?: number;
  /**
   * A firing host clears only below this, in percent; at most `threshold`.
   * @default {75}
   */
  low?: number;
  /**
   * How long the host must stay above `threshold` to fire.
   * @default {"5m"}
   */
  for?: DurationInput;
  /**
   * The `alertname`.
   * @default {"HostHighCpu"}
   */
  name?: string;
  /**
   * Extra labels.
   * @default {{ severity: "critical" }}
   */
  labels?: Labels;
  /** The query the frame came from, shown in notifications. */
  query?: string;
  /** Link to the query in Prometheus' graph UI. */
  graphURL?: string;
}

/**
 * Options of {@linkcode cpuTrendRule}.
 *
 * @example
 * ```ts
 * import pl from "nodejs-polars";
 * import { cpuTrendRule, type CpuTrendRuleOptions } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const t0 = Date.UTC(2026, 10, 1, 10);
 * const times = Array.from({ length: 41 }, (_, i) => t0 + i * 15_000);
 * const frame = pl.DataFrame({
 *   instance: times.map(() => "db-01:9100"),
 *   timestamp: pl.Series(times).cast(pl.Datetime("ms")),
 *   value: times.map(() => 95),
 * });
 * const at = new Date(times[40]);
 * const options: CpuTrendRuleOptions = { limit: 100, within: "6h", lookback: "3h" };
 * const rule = cpuTrendRule(options);
 * assert.deepEqual(rule.evaluate(frame, { at }), []); // flat at 95 %: no trend
 * ```
 */
export interface CpuTrendRuleOptions {
  /**
   * The level that must not be reached, in percent.
   * @default {100}
   */
  limit?: number;
  /**
   * Warn when the line reaches `limit` within this long.
   * @default {"12h"}
   */
  within?: DurationInput;
  /**
   * The history fitted.
   * @default {"6h"}
   */
  lookback?: DurationInput;
  /**
   * The step of the fitted frame.
   * @default {"5m"}
   */
  step?: DurationInput;
  /**
   * The least r² of the fit.
   * @default {0.9}
   */
  minR2?: number;
  /**
   * The repeat interval of the warning.
   * @default {"24h"}
   */
  repeatInterval?: DurationInput;
  /**
   * The `alertname`.
   * @default {"HostCpuTrend"}
   */
  name?: string;
  /**
   * Extra labels.
   * @default {{ severity: "warning" }}
   */
  labels?: Labels;
  /** The query the frame came from, shown in notifications. */
  query?: string;
  /** Link to the query in Prometheus' graph UI. */
  graphURL?: string;
}

function finiteOption(name: string, value: number): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new RangeError(`Invalid ${name}: expected a finite number, got ${String(value)}`);
  }
  return value;
}

function durationOption(name: string, value: DurationInput): number {
  try {
    return parseDuration(value);
  } catch (error) {
    throw new RangeError(`Invalid ${name}: ${(error as Error).message}`);
  }
}

function withoutContext<T extends Record<string, unknown>>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

/** How far back `HostHighCpu` looks at least: `for` (5 m by default) fits with room to spare. */
const HIGH_CPU_RANGE_MS = 15 * 60_000;

/**
 * The rows of `frame` with `from < timestamp <= to` (`from <= …` when
 * `closed`), so every caller of a rule evaluates the same samples.
 */
function withinWindow(
  frame: pl.DataFrame,
  from: number,
  to: number,
  closed: boolean,
): pl.DataFrame {
  const t = pl.col("timestamp").cast(pl.Int64);
  const keep = (closed ? t.gtEq(from) : t.gt(from)).and(t.ltEq(to));
  const kept = frame.filter(keep);
  return kept.height === frame.height ? frame : kept;
}

/**
 * `HostHighCpu`: sustained above `threshold` for `for` to fire, hysteresis
 * down to `low` to clear. Invalid thresholds (not finite, `low` above
 * `threshold`) throw a `RangeError` here, not at the first evaluation.
 *
 * @example A host at 95 % for ten minutes
 * ```ts
 * import pl from "nodejs-polars";
 * import { highCpuRule } from "opsbook";
 *
 * const t0 = Date.UTC(2026, 10, 1, 10);
 * const times = Array.from({ length: 41 }, (_, i) => t0 + i * 15_000);
 * const frame = pl.DataFrame({
 *   instance: times.map(() => "db-01:9100"),
 *   timestamp: pl.Series(times).cast(pl.Datetime("ms")),
 *   value: times.map(() => 95),
 * });
 * const rule = highCpuRule();
 * const alerts = rule.evaluate(frame, { at: new Date(times[40]) });
 * console.log(alerts.map((a) => a.annotations.summary)); // [ "CPU 95.0 % on db-01:9100 (above 80 % for 5m)" ]
 * ```
 */
export function highCpuRule(options: HighCpuRuleOptions = {}): AlertRule {
  const high = finiteOption("threshold", options.threshold ?? 80);
  const low = finiteOption("low", options.low ?? 75);
  if (low > high) {
    throw new RangeError(
      `Invalid thresholds: low (${low}) is above threshold (${high}); pass low <= threshold, e.g. 75 and 80`,
    );
  }
  const forInput = options.for ?? "5m";
  const forSeconds = durationOption("for", forInput);
  const forText = typeof forInput === "string" ? forInput : formatDuration(forSeconds);
  const name = options.name ?? "HostHighCpu";
  const extra = options.labels ?? { severity: "critical" };
  // The window: 15 m, or `for` plus a minute when that is longer.
  const rangeMs = Math.max(HIGH_CPU_RANGE_MS, (forSeconds + 60) * 1000);
  return {
    name,
    window: { range: formatDuration(rangeMs / 1000), step: "15s" },
    context: withoutContext({
      threshold: high,
      unit: "%",
      query: options.query,
      graphURL: options.graphURL,
    }),
    evaluate(input: pl.DataFrame, context: RuleContext): Alert[] {
      if (input.height === 0) return [];
      const at = toMillis(context.at);
      checkFrame(input, "sustained");
      checkValueColumn(input, "value");
      checkTimestamp(input, "sustained");
      // The rule's own window, (at - range, at]: a caller may pass a longer frame
      // (or one whose first sample sits exactly at at - range) and gets the same answer.
      const frame = withinWindow(input, at - rangeMs, at, false);
      if (frame.height === 0) return [];
      // One index of the frame's series for both detectors: nothing is
      // copied to JavaScript but the series that can match.
      const index = seriesIndex(frame, "value");
      const hot = sustainedOn(index, { threshold: high, forMs: forSeconds * 1000, unit: "%" }, at);
      const parts = [hot];
      const firing = new Set(context.firing ?? []);
      if (firing.size > 0) {
        // Which series of the frame are firing alerts of this rule? A series
        // can still be firing at the end of the frame only when it never went
        // below `low`, or went above `high` again afterwards; only those are
        // fingerprinted.
        const v = pl.col("value");
        // Rows at or above `low`, or missing: none is below when they are all of its rows.
        const kept = index.counts(v.gtEq(low).or(v.isNan()).or(v.isNull()));
        const over = index.counts(v.gt(high));
        const { bounds } = index;
        const candidates = index.select((s) =>
          kept[s] === bounds[s + 1] - bounds[s] || over[s] > 0
        );
        const values = index.labelValues(candidates);
        const labels = alertLabelColumns(frame);
        const columns = labels.map((l) => values[index.labels.indexOf(l)]);
        const seriesFps = new Set<string>();
        for (let k = 0; k < candidates.length; k++) {
          const l: Labels = {};
          for (let c = 0; c < labels.length; c++) {
            const value = columns[c][k];
            if (value !== null && value !== "") l[labels[c]] = value;
          }
          if (firing.has(fingerprint({ ...l, ...extra, alertname: name }))) {
            seriesFps.add(fingerprint(l));
          }
        }
        if (seriesFps.size > 0) {
          // The hysteresis state machine, started from the stored state: an
          // alert stays firing when its series is firing at the END of the
          // frame. A dip below `low` that the series climbed out of above
          // `high` again (e.g. a sample from before the alert fired, at the
          // frame's start) does not resolve it. Series that only entered
          // within the frame are not kept: firing needs `for` (sustained).
          const still = hysteresisOn(index, { high, low, firing: seriesFps, unit: "%" });
          parts.push(still.filter(pl.col("fingerprint").isIn([...seriesFps])));
        }
      }
      const common = [...alertLabelColumns(hot), "timestamp", "value", "reason"];
      const rows = parts.length === 1
        ? hot
        : pl.concat(parts.map((p) => p.select(...common.map((c) => pl.col(c)))), {
          how: "vertical",
        });
      return alertsFromFrame(rows, {
        alertname: name,
        labels: extra,
        summary: `CPU {{value}} % on {{instance}} (above ${high} % for ${forText})`,
        description:
          `{{reason}}; fires above ${high} % sustained for ${forText}, clears below ${low} %`,
        at: new Date(at),
        generatorURL: options.graphURL,
      });
    },
  };
}

/**
 * `HostCpuTrend`: CPU usage rising on a straight line that reaches `limit`
 * within `within`, fitted over `lookback` (an early warning, not a page).
 *
 * @example A host climbing 4 % per hour from 60 %
 * ```ts
 * import pl from "nodejs-polars";
 * import { cpuTrendRule } from "opsbook";
 *
 * const t0 = Date.UTC(2026, 10, 1, 12);
 * const times = Array.from({ length: 73 }, (_, i) => t0 + i * 300_000);
 * const frame = pl.DataFrame({
 *   instance: times.map(() => "batch-01:9100"),
 *   timestamp: pl.Series(times).cast(pl.Datetime("ms")),
 *   value: times.map((t) => 60 + (4 * (t - t0)) / 3_600_000),
 * });
 * const [alert] = cpuTrendRule().evaluate(frame, { at: new Date(times[72]) });
 * console.log(alert.annotations.summary); // CPU on batch-01:9100 at 84 %, reaches 100 % in ~4h0m0s
 * ```
 */
export function cpuTrendRule(options: CpuTrendRuleOptions = {}): AlertRule {
  const limit = finiteOption("limit", options.limit ?? 100);
  const minR2 = finiteOption("minR2", options.minR2 ?? 0.9);
  const within = durationOption("within", options.within ?? "12h");
  const lookback = durationOption("lookback", options.lookback ?? "6h");
  const step = options.step ?? "5m";
  durationOption("step", step);
  const repeatInterval = options.repeatInterval ?? "24h";
  durationOption("repeatInterval", repeatInterval);
  const name = options.name ?? "HostCpuTrend";
  const extra = options.labels ?? { severity: "warning" };
  return {
    name,
    window: { range: options.lookback ?? "6h", step },
    repeatInterval,
    context: withoutContext({
      threshold: limit,
      unit: "%",
      query: options.query,
      graphURL: options.graphURL,
    }),
    evaluate(frame: pl.DataFrame, context: RuleContext): Alert[] {
      if (frame.height === 0) return [];
      const at = toMillis(context.at);
      const rows = trend(frame, {
        limit,
        within,
        lookback,
        minR2,
        at: new Date(at),
        unit: "%",
      });
      if (rows.height === 0) return [];
      const hours = rows.getColumn("eta").cast(pl.Int64).cast(pl.Float64).toArray() as number[];
      const left = hours.map((eta) => {
        const m = Math.max(0, Math.round((eta - at) / 60_000));
        return `${Math.floor(m / 60)}h${m % 60}m0s`;
      });
      return alertsFromFrame(rows.withColumns(pl.Series("__left", left, pl.Utf8)), {
        alertname: name,
        labels: extra,
        exclude: ["__left"],
        summary: `CPU on {{instance}} at {{value}} %, reaches ${limit} % in ~{{__left}}`,
        description: "{{reason}}",
        at: new Date(at),
        generatorURL: options.graphURL,
      });
    },
  };
}

/**
 * Options of {@linkcode defaultCpuRules}.
 *
 * @example
 * ```ts
 * import pl from "nodejs-polars";
 * import { defaultCpuRules, type DefaultCpuRulesOptions } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const t0 = Date.UTC(2026, 10, 1, 10);
 * const times = Array.from({ length: 41 }, (_, i) => t0 + i * 15_000);
 * const frame = pl.DataFrame({
 *   instance: times.map(() => "db-01:9100"),
 *   timestamp: pl.Series(times).cast(pl.Datetime("ms")),
 *   value: times.map(() => 95),
 * });
 * const at = new Date(times[40]);
 * const options: DefaultCpuRulesOptions = { high: { threshold: 90 }, trend: { within: "12h" } };
 * const rules = defaultCpuRules(options);
 * assert.equal(rules.length, 2);
 * assert.equal(rules[0].evaluate(frame, { at }).length, 1);
 * ```
 */
export interface DefaultCpuRulesOptions {
  /** Options of `HostHighCpu`. */
  high?: HighCpuRuleOptions;
  /** Options of `HostCpuTrend`. */
  trend?: CpuTrendRuleOptions;
}

/**
 * The default CPU rules: `HostHighCpu` and `HostCpuTrend`.
 *
 * @example
 * ```ts
 * import { defaultCpuRules } from "opsbook";
 * console.log(defaultCpuRules().map((r) => r.name)); // [ "HostHighCpu", "HostCpuTrend" ]
 * ```
 */
export function defaultCpuRules(options: DefaultCpuRulesOptions = {}): AlertRule[] {
  return [highCpuRule(options.high), cpuTrendRule(options.trend)];
}

/**
 * What {@linkcode evaluateRules} returns: the alerts and how good the data was.
 *
 * @example
 * ```ts
 * import pl from "nodejs-polars";
 * import { defaultCpuRules, evaluateRules, type RulesResult } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const t0 = Date.UTC(2026, 10, 1, 10);
 * const times = Array.from({ length: 41 }, (_, i) => t0 + i * 15_000);
 * const frame = pl.DataFrame({
 *   instance: times.map(() => "db-01:9100"),
 *   timestamp: pl.Series(times).cast(pl.Datetime("ms")),
 *   value: times.map(() => 95),
 * });
 * const at = new Date(times[40]);
 * const result: RulesResult = evaluateRules(defaultCpuRules(), frame, { at });
 * assert.deepEqual([result.alerts.length, result.noData, result.partial], [1, false, false]);
 * ```
 */
export interface RulesResult {
  /** Alerts of every rule. */
  alerts: Alert[];
  /** Every frame was empty: "no data", never "all clear". */
  noData: boolean;
  /** Series whose latest value was NaN or null, per rule frame (missing data). */
  missing: Labels[];
  /** Data check per rule name. */
  checks: Record<string, FrameCheck>;
  /** Per-group notification context for {@linkcode Alerter.evaluate}. */
  contexts: Record<string, Partial<NotificationContext>>;
  /** The frames came with warnings: alerts absent from them keep their state. */
  partial: boolean;
  /** The warnings (`context.warnings`), each once. */
  warnings: string[];
}

/**
 * Runs rules over their frames (`frames[rule.name]`, or one frame for all)
 * and collects the alerts, the data checks and the notification contexts,
 * ready for {@linkcode Alerter.evaluate} (pass the result as its `check`: an
 * empty or partial answer then keeps the alert states).
 *
 * @example
 * ```ts
 * import pl from "nodejs-polars";
 * import { defaultCpuRules, evaluateRules } from "opsbook";
 * const empty = pl.DataFrame({ instance: [] as string[], value: [] as number[] });
 * const result = evaluateRules(defaultCpuRules(), empty, { at: "2026-11-01T10:00:00Z" });
 * console.log(result.alerts.length, result.noData); // 0 true
 * ```
 */
export function evaluateRules(
  rules: readonly AlertRule[],
  frames: pl.DataFrame | Record<string, pl.DataFrame>,
  context: RuleContext,
): RulesResult {
  const firing = [...(context.firing ?? [])];
  const warnings = [...new Set(context.warnings ?? [])];
  const result: RulesResult = {
    alerts: [],
    noData: true,
    missing: [],
    checks: {},
    contexts: {},
    partial: warnings.length > 0,
    warnings,
  };
  const seen = new Set<string>();
  const single = typeof (frames as pl.DataFrame).getColumns === "function";
  const frameOf = (rule: AlertRule) =>
    single ? frames as pl.DataFrame : (frames as Record<string, pl.DataFrame>)[rule.name];
  for (const rule of rules) {
    if (frameOf(rule) === undefined) throw new TypeError(`Missing frame for rule: ${rule.name}`);
  }
  for (const rule of rules) {
    const frame = frameOf(rule);
    const check = describeFrame(frame);
    result.checks[rule.name] = check;
    result.contexts[rule.name] = rule.context;
    if (!check.noData) result.noData = false;
    for (const m of check.missing) {
      const k = JSON.stringify(Object.entries(m).sort());
      if (!seen.has(k)) {
        seen.add(k);
        result.missing.push(m);
      }
    }
    result.alerts.push(...rule.evaluate(frame, { at: context.at, firing }));
  }
  return result;
}

/**
 * The repeat interval of each rule that sets one, for
 * `AlerterOptions.groupRepeatInterval`.
 *
 * @example
 * ```ts
 * import { defaultCpuRules, ruleRepeatIntervals } from "opsbook";
 * console.log(ruleRepeatIntervals(defaultCpuRules())); // { HostCpuTrend: "24h" }
 * ```
 */
export function ruleRepeatIntervals(rules: readonly AlertRule[]): Record<string, DurationInput> {
  const out: Record<string, DurationInput> = {};
  for (const r of rules) if (r.repeatInterval !== undefined) out[r.name] = r.repeatInterval;
  return out;
}
