/**
 * The alerting state machine of one rule, with Prometheus 2.42's semantics
 * (`rules/alerting.go`), shared by live evaluation and the backtest: one
 * {@linkcode stepRule} per evaluation.
 *
 * ```
 *  series returned          t - activeAt >= for             series absent (after keep_firing_for)
 * ─────────────────► pending ───────────────────► firing ──────────────────────────────────────► resolved
 *                      │ series absent: dropped
 * ```
 *
 * The state is a plain JSON object ({@linkcode RuleState}), so it survives
 * restarts in any store. Times are epoch milliseconds.
 *
 * @module
 */

import { fingerprint, type Labels } from "../labels.ts";
import type { AnomalyRuleState } from "./_anomaly_rule.ts";

/**
 * Where an active alert is.
 *
 * @example
 * ```ts
 * import { type ActiveState, PrometheusClient, RuleEvaluator } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const prom = new PrometheusClient({ url: Deno.env.get("PROMETHEUS_URL") ?? "http://localhost:9090" });
 * const evaluator = new RuleEvaluator(prom, [{
 *   name: "node",
 *   rules: [{
 *     alert: "HostHighCpu",
 *     expr: '100 - (avg by(instance)(irate(node_cpu_seconds_total{mode="idle"}[5m])) * 100) > 90',
 *     for: "5m",
 *   }],
 * }]);
 * await evaluator.evaluate("2026-11-01T10:30:00Z");
 * const states: ActiveState[] = Object.values(evaluator.state.rules["node/HostHighCpu"].alerts)
 *   .map((a) => a.state);
 * assert.deepEqual(states, ["pending"]);
 * ```
 */
export type ActiveState = "pending" | "firing";

/**
 * One active alert as the state stores it.
 *
 * @example
 * ```ts
 * import { PrometheusClient, RuleEvaluator, type StoredAlert } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const prom = new PrometheusClient({ url: Deno.env.get("PROMETHEUS_URL") ?? "http://localhost:9090" });
 * const evaluator = new RuleEvaluator(prom, [{
 *   name: "node",
 *   rules: [{
 *     alert: "HostHighCpu",
 *     expr: '100 - (avg by(instance)(irate(node_cpu_seconds_total{mode="idle"}[5m])) * 100) > 90',
 *     for: "5m",
 *   }],
 * }]);
 * await evaluator.evaluate("2026-11-01T10:30:00Z");
 * const [alert]: StoredAlert[] = Object.values(evaluator.state.rules["node/HostHighCpu"].alerts);
 * assert.deepEqual([alert.labels.instance, alert.activeAt], [
 *   "ali-hz-db-01:9100",
 *   Date.parse("2026-11-01T10:30:00Z"),
 * ]);
 * ```
 */
export interface StoredAlert {
  /** The alert's labels (with `alertname`). */
  labels: Labels;
  /** The annotations expanded at the latest evaluation that returned the series. */
  annotations: Record<string, string>;
  /** The latest value; `null` stands for NaN (JSON has no NaN). */
  value: number | null;
  /** `pending` or `firing`. */
  state: ActiveState;
  /** When the series was first returned in this episode (epoch ms). */
  activeAt: number;
  /** When it started firing (epoch ms). */
  firedAt?: number;
  /** Since when it is kept firing by `keep_firing_for` while absent (epoch ms). */
  keepFiringSince?: number;
  /** The annotations when it started firing (what a firing notice said). */
  firedAnnotations?: Record<string, string>;
}

/**
 * The state of one rule: its active alerts by fingerprint, and what the evaluator saw.
 *
 * @example
 * ```ts
 * import { PrometheusClient, RuleEvaluator, type RuleState } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const prom = new PrometheusClient({ url: Deno.env.get("PROMETHEUS_URL") ?? "http://localhost:9090" });
 * const evaluator = new RuleEvaluator(prom, [{
 *   name: "node",
 *   rules: [{
 *     alert: "HostHighCpu",
 *     expr: '100 - (avg by(instance)(irate(node_cpu_seconds_total{mode="idle"}[5m])) * 100) > 90',
 *     for: "5m",
 *   }],
 * }]);
 * await evaluator.evaluate("2026-11-01T10:30:00Z");
 * const state: RuleState = evaluator.state.rules["node/HostHighCpu"];
 * assert.equal(Object.keys(state.alerts).length, 1);
 * ```
 */
export interface RuleState {
  /** Active (pending and firing) alerts by fingerprint. */
  alerts: Record<string, StoredAlert>;
  /** `true` once the rule's input selectors (or its expression) returned a series. */
  matched?: boolean;
  /** First evaluation (epoch ms) at which the rule was found blind, while it still is. */
  blindSince?: number;
  /** The latest evaluation time (epoch ms). */
  lastEvalAt?: number;
  /** An `anomaly` detector rule's trackers, one per series (plain JSON). */
  anomaly?: AnomalyRuleState;
}

/** One series returned by the rule's expression at an evaluation. */
export interface RuleSample {
  /** The series' labels, `__name__` included when the expression kept it. */
  labels: Labels;
  /** The sample value. */
  value: number;
  /**
   * The alert labels and their fingerprint when already known (the backtest
   * computes them once per series for rules with static labels).
   */
  alert?: { labels: Labels; fingerprint: string };
  /**
   * Extra labels the rule's templates see in `$labels` (never alert labels),
   * e.g. the `anomaly` detector's `opsbook_unusual`.
   */
  templateLabels?: Labels;
}

/** The parts of a rule the state machine needs. */
export interface MachineRule {
  /** `alertname`. */
  name: string;
  /** `for`, in milliseconds. */
  forMs: number;
  /** `keep_firing_for`, in milliseconds. */
  keepFiringForMs: number;
  /** The group's `limit` (0: none). */
  limit: number;
  /** Builds the alert labels (series labels minus `__name__`, rule labels, `alertname`). */
  alertLabels(sample: RuleSample): Labels;
  /** Expands the annotations for one alert. */
  annotations(sample: RuleSample): Record<string, string>;
  /**
   * `true` when the annotations depend only on the labels and the value
   * (no `query`): unchanged value, unchanged annotations, no expansion.
   */
  pureAnnotations: boolean;
}

/** A change of one alert at one evaluation. */
export interface RuleTransition {
  /**
   * `pending` (new), `firing` (started firing), `resolved` (was firing, now
   * gone) or `inactive` (pending, then gone before `for`: no notification).
   */
  kind: "pending" | "firing" | "resolved" | "inactive";
  /** Fingerprint of `labels`. */
  fingerprint: string;
  /** The alert as it is after the change. */
  alert: StoredAlert;
  /** The evaluation time (epoch ms). */
  at: number;
}

/**
 * What to do with active alerts whose series the answer lacks.
 *
 * @example Hold the alerts when the query failed
 * ```ts
 * import { type AbsentPolicy, Alerter, fingerprint } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const alerter = new Alerter({ statePath: `${dir}/alerts.json`, sinks: [] });
 * const labels = { alertname: "HostHighCpu", instance: "db-01:9100" };
 * await alerter.evaluate([{
 *   labels, annotations: { summary: "CPU 95 %" }, value: 95,
 *   startsAt: "2026-11-01T10:00:00Z", status: "firing", fingerprint: fingerprint(labels),
 * }], { now: "2026-11-01T10:00:00Z" });
 * const absent: AbsentPolicy = "hold"; // "resolve" would close the alert
 * const report = await alerter.evaluate([], { now: "2026-11-01T10:05:00Z", absent });
 * assert.deepEqual([report.firing.length, report.resolved.length], [1, 0]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export type AbsentPolicy =
  /** Complete answer: absent means gone (Prometheus). */
  | "resolve"
  /** Partial answer or no data: absent alerts keep their state, unchanged. */
  | "hold";

/** Options of {@linkcode stepRule}. */
export interface StepOptions {
  /**
   * What absence means in this answer.
   * @default {"resolve"}
   */
  absent?: AbsentPolicy;
}

/** What one {@linkcode stepRule} did. */
export interface StepResult {
  /** The changes, in fingerprint order within each kind. */
  transitions: RuleTransition[];
  /** Set when the rule failed at this evaluation (duplicate label sets, `limit`). */
  error?: string;
  /** Fingerprints of the alerts present in the answer. */
  present: Set<string>;
}

const toStored = (v: number): number | null => Number.isNaN(v) ? null : v;

/**
 * Prometheus' `AlertingRule.Eval` after the query: applies one evaluation's
 * answer to `state` (mutated in place) and returns the transitions.
 *
 * - Each returned series is an alert identified by the fingerprint of its
 *   labels; a new one is `pending` with `activeAt = t`; a known one takes
 *   the new value and annotations.
 * - Two series with the same alert labels: the rule fails ("vector contains
 *   metrics with the same labelset after applying alert labels"), the state
 *   is untouched.
 * - Absent from a complete answer: a pending alert is dropped; a firing one
 *   resolves, unless `keep_firing_for` holds it (from the first absent
 *   evaluation, while `t - keepFiringSince < keep_firing_for`).
 *   With `absent: "hold"` (partial answer, no data) it stays as it is.
 * - `pending` fires at the first evaluation with `t - activeAt >= for`.
 * - More active alerts than `limit`: every alert of the rule is dropped and
 *   the rule fails ("exceeded limit of N with M alerts"), as Prometheus does.
 *
 * @example A `for: 1m` rule over three evaluations
 * ```ts
 * import { stepRule, type MachineRule, type RuleState } from "./rule_state.ts";
 * const rule: MachineRule = {
 *   name: "Hot", forMs: 60_000, keepFiringForMs: 0, limit: 0, pureAnnotations: true,
 *   alertLabels: (s) => ({ ...s.labels, alertname: "Hot" }),
 *   annotations: (s) => ({ summary: `hot: ${s.value}` }),
 * };
 * const state: RuleState = { alerts: {} };
 * const s = [{ labels: { instance: "a" }, value: 90 }];
 * console.log(stepRule(state, rule, 0, s).transitions.map((t) => t.kind)); // [ "pending" ]
 * console.log(stepRule(state, rule, 60_000, s).transitions.map((t) => t.kind)); // [ "firing" ]
 * console.log(stepRule(state, rule, 120_000, []).transitions.map((t) => t.kind)); // [ "resolved" ]
 * ```
 */
export function stepRule(
  state: RuleState,
  rule: MachineRule,
  t: number,
  samples: readonly RuleSample[],
  options: StepOptions = {},
): StepResult {
  const hold = options.absent === "hold";
  const alerts = state.alerts;
  const present = new Set<string>();
  // First pass: labels and identities; a duplicate fails the rule before any change.
  const fps: string[] = new Array(samples.length);
  const labelSets: Labels[] = new Array(samples.length);
  for (let i = 0; i < samples.length; i++) {
    const cached = samples[i].alert;
    const labels = cached?.labels ?? rule.alertLabels(samples[i]);
    const fp = cached?.fingerprint ?? fingerprint(labels);
    if (present.has(fp)) {
      return {
        transitions: [],
        present,
        error: "vector contains metrics with the same labelset after applying alert labels",
      };
    }
    present.add(fp);
    fps[i] = fp;
    labelSets[i] = labels;
  }
  const pending: RuleTransition[] = [];
  const firing: RuleTransition[] = [];
  const resolved: RuleTransition[] = [];
  const inactive: RuleTransition[] = [];
  for (let i = 0; i < samples.length; i++) {
    const fp = fps[i];
    const sample = samples[i];
    const value = toStored(sample.value);
    const known = alerts[fp];
    if (known !== undefined) {
      if (!(rule.pureAnnotations && known.value === value)) {
        known.annotations = rule.annotations(sample);
      }
      known.value = value;
      delete known.keepFiringSince;
    } else {
      const a: StoredAlert = {
        labels: labelSets[i],
        annotations: rule.annotations(sample),
        value,
        state: "pending",
        activeAt: t,
      };
      alerts[fp] = a;
      pending.push({ kind: "pending", fingerprint: fp, alert: a, at: t });
    }
  }
  let active = 0;
  for (const fp in alerts) {
    const a = alerts[fp];
    if (!present.has(fp) && !hold) {
      let keep = false;
      if (a.state === "firing" && rule.keepFiringForMs > 0) {
        a.keepFiringSince ??= t;
        keep = t - a.keepFiringSince < rule.keepFiringForMs;
      }
      if (!keep) {
        delete alerts[fp];
        if (a.state === "firing") {
          resolved.push({ kind: "resolved", fingerprint: fp, alert: a, at: t });
        } else inactive.push({ kind: "inactive", fingerprint: fp, alert: a, at: t });
        continue;
      }
    }
    active++;
    if (a.state === "pending" && t - a.activeAt >= rule.forMs && (present.has(fp) || !hold)) {
      a.state = "firing";
      a.firedAt = t;
      a.firedAnnotations = a.annotations;
      firing.push({ kind: "firing", fingerprint: fp, alert: a, at: t });
    }
  }
  if (rule.limit > 0 && active > rule.limit) {
    state.alerts = {};
    return {
      transitions: [],
      present,
      error: `exceeded limit of ${rule.limit} with ${active} alerts`,
    };
  }
  state.lastEvalAt = t;
  const byFp = (a: RuleTransition, b: RuleTransition) =>
    a.fingerprint < b.fingerprint ? -1 : a.fingerprint > b.fingerprint ? 1 : 0;
  return {
    transitions: [
      ...pending.sort(byFp),
      ...firing.sort(byFp),
      ...resolved.sort(byFp),
      ...inactive.sort(byFp),
    ],
    present,
  };
}

/**
 * Expands a value stored by the state back to a number (`null` is NaN).
 *
 * @example
 * ```ts
 * import { storedValue } from "./rule_state.ts";
 * console.log(storedValue(null), storedValue(3)); // NaN 3
 * ```
 */
export function storedValue(value: number | null): number {
  return value === null ? NaN : value;
}
