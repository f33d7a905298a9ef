/**
 * Live evaluation of alerting rules with Prometheus 2.42's semantics: per
 * group at its interval, each rule's `expr` as an instant query at the
 * evaluation time, then the state machine of {@linkcode stepRule}. No data
 * is never all-clear and a partial answer is not a complete one: alerts keep
 * their state and the result says why.
 *
 * @module
 */

import type { PrometheusClient } from "../prometheus/client.ts";
import type { QueryResult } from "../prometheus/client.ts";
import { parseSampleValue } from "../prometheus/frame.ts";
import { fingerprint, type Labels } from "../labels.ts";
import { type DurationInput, parseDuration, type TimeInput, toMillis } from "../time.ts";
import type { Alert, NotificationContext } from "../alert/types.ts";
import {
  type CompiledGroup,
  type CompiledRule,
  compileGroups,
  type RuleGroupSpec,
  type TemplateCompiler,
} from "./_compile.ts";
import {
  type AbsentPolicy,
  type RuleSample,
  type RuleState,
  type RuleTransition,
  stepRule,
  type StoredAlert,
  storedValue,
} from "./rule_state.ts";
import { PRESENCE_LABEL, presenceQueryAll } from "./_selectors.ts";
import { detectorSamples, isDetectorRule } from "./detector_rules.ts";

/**
 * The client calls the evaluator makes (a {@linkcode PrometheusClient} has them).
 *
 * @example Any object with query and queryRange
 * ```ts
 * import { PrometheusClient, RuleEvaluator, type RuleQueryClient } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const client: RuleQueryClient = new PrometheusClient({
 *   url: Deno.env.get("PROMETHEUS_URL") ?? "http://localhost:9090",
 * }); // or a FleetClient, or a test double
 * const evaluator = new RuleEvaluator(client, [{
 *   name: "up",
 *   rules: [{ alert: "Down", expr: "up == 0", annotations: { summary: "{{ $labels.instance }}" } }],
 * }]);
 * assert.deepEqual((await evaluator.evaluate("2026-11-01T12:00:00Z")).firing, []);
 * ```
 */
export type RuleQueryClient = Pick<PrometheusClient, "query" | "queryRange">;

/**
 * The evaluator's state: plain JSON, saved and restored by the caller.
 *
 * @example Keep the alerts' state across restarts
 * ```ts
 * import { PrometheusClient, RuleEvaluator, type RulesState } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const prom = new PrometheusClient({ url: Deno.env.get("PROMETHEUS_URL") ?? "http://localhost:9090" });
 * const groups = [{
 *   name: "node",
 *   interval: "5m",
 *   rules: [{
 *     alert: "HostHighCpu",
 *     expr: '100 - (avg by(instance)(irate(node_cpu_seconds_total{mode="idle"}[5m])) * 100) > 90',
 *     for: "5m",
 *     annotations: { summary: "CPU {{ $value | humanize }} % on {{ $labels.instance }}" },
 *   }],
 * }];
 * const evaluator = new RuleEvaluator(prom, groups);
 * await evaluator.evaluate("2026-11-01T10:30:00Z");
 * const state: RulesState = JSON.parse(JSON.stringify(evaluator.state)); // e.g. a file
 * const restarted = new RuleEvaluator(prom, groups, { state });
 * const { firing } = await restarted.evaluate("2026-11-01T10:35:00Z");
 * assert.equal(firing.length, 1); // pending since 10:30 survived the restart
 * ```
 */
export interface RulesState {
  /** Format version. */
  version: 1;
  /** Per rule key (`group/alertname`). */
  rules: Record<string, RuleState>;
  /** Per group: the latest evaluation time (epoch ms). */
  groups: Record<string, { lastEvalAt: number }>;
}

/**
 * Options of the {@linkcode RuleEvaluator} constructor.
 *
 * @example
 * ```ts
 * import { PrometheusClient, RuleEvaluator, type RuleEvaluatorOptions } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const prom = new PrometheusClient({ url: Deno.env.get("PROMETHEUS_URL") ?? "http://localhost:9090" });
 * const groups = [{
 *   name: "node",
 *   interval: "5m",
 *   rules: [{
 *     alert: "HostHighCpu",
 *     expr: '100 - (avg by(instance)(irate(node_cpu_seconds_total{mode="idle"}[5m])) * 100) > 90',
 *     for: "5m",
 *     annotations: { summary: "CPU {{ $value | humanize }} % on {{ $labels.instance }}" },
 *   }],
 * }];
 * const evaluator = new RuleEvaluator(prom, groups);
 * const options: RuleEvaluatorOptions = {
 *   externalLabels: { cluster: "dataset" },
 *   externalURL: "http://prometheus.example.com",
 * };
 * const labelled = new RuleEvaluator(prom, groups, options);
 * await labelled.evaluate("2026-11-01T10:30:00Z");
 * const { firing } = await labelled.evaluate("2026-11-01T10:35:00Z");
 * assert.equal(firing[0].labels.cluster, undefined); // external labels are for templates and senders
 * assert.equal(evaluator.state.version, 1);
 * ```
 */
export interface RuleEvaluatorOptions {
  /**
   * The evaluation interval of groups without `interval`.
   * @default {"1m"}
   */
  interval?: DurationInput;
  /**
   * Labels of this evaluator (`$externalLabels` in templates).
   * @default {{}}
   */
  externalLabels?: Labels;
  /**
   * `$externalURL` in templates.
   * @default {""}
   */
  externalURL?: string;
  /** A saved {@linkcode RulesState} to continue from (e.g. after a restart). */
  state?: RulesState;
  /**
   * A rule blind for this long is reported `overdue` (the monitor raises a meta-alert).
   * @default {"1h"}
   */
  blindAfter?: DurationInput;
  /** Compiles annotation and label templates. @default {the Go-template engine of the rule files} */
  template?: TemplateCompiler;
}

/**
 * One active alert after an evaluation.
 *
 * @example
 * ```ts
 * import { type ActiveAlert, PrometheusClient, RuleEvaluator } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const prom = new PrometheusClient({ url: Deno.env.get("PROMETHEUS_URL") ?? "http://localhost:9090" });
 * const groups = [{
 *   name: "node",
 *   interval: "5m",
 *   rules: [{
 *     alert: "HostHighCpu",
 *     expr: '100 - (avg by(instance)(irate(node_cpu_seconds_total{mode="idle"}[5m])) * 100) > 90',
 *     for: "5m",
 *     annotations: { summary: "CPU {{ $value | humanize }} % on {{ $labels.instance }}" },
 *   }],
 * }];
 * const evaluator = new RuleEvaluator(prom, groups);
 * const { active } = await evaluator.evaluate("2026-11-01T10:30:00Z");
 * const [alert]: ActiveAlert[] = active;
 * assert.deepEqual([alert.state, alert.labels.instance, alert.firedAt], [
 *   "pending",
 *   "ali-hz-db-01:9100",
 *   null,
 * ]);
 * ```
 */
export interface ActiveAlert {
  /** The rule key, `group/alertname`. */
  rule: string;
  /** The rule's group. */
  group: string;
  /** Fingerprint of `labels`. */
  fingerprint: string;
  /** `pending` or `firing`. */
  state: "pending" | "firing";
  /** Labels, with `alertname`. */
  labels: Labels;
  /** Annotations as of the latest evaluation that returned the series. */
  annotations: Record<string, string>;
  /** The latest value. */
  value: number;
  /** Pending since, RFC 3339. */
  activeAt: string;
  /** Firing since, RFC 3339; `null` while pending. */
  firedAt: string | null;
}

/**
 * A state change of one alert.
 *
 * @example
 * ```ts
 * import { type AlertChange, PrometheusClient, RuleEvaluator } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const prom = new PrometheusClient({ url: Deno.env.get("PROMETHEUS_URL") ?? "http://localhost:9090" });
 * const groups = [{
 *   name: "node",
 *   interval: "5m",
 *   rules: [{
 *     alert: "HostHighCpu",
 *     expr: '100 - (avg by(instance)(irate(node_cpu_seconds_total{mode="idle"}[5m])) * 100) > 90',
 *     for: "5m",
 *     annotations: { summary: "CPU {{ $value | humanize }} % on {{ $labels.instance }}" },
 *   }],
 * }];
 * const evaluator = new RuleEvaluator(prom, groups);
 * await evaluator.evaluate("2026-11-01T10:30:00Z");
 * const { outcomes } = await evaluator.evaluate("2026-11-01T10:35:00Z");
 * const changes: AlertChange[] = outcomes[0].changes;
 * assert.deepEqual(changes.map((c) => [c.kind, c.at]), [["firing", "2026-11-01T10:35:00.000Z"]]);
 * ```
 */
export interface AlertChange extends ActiveAlert {
  /** `pending`, `firing`, `resolved`, `inactive` (pending, then gone). */
  kind: RuleTransition["kind"];
  /** When it changed, RFC 3339. */
  at: string;
}

/**
 * Why a rule's states were kept or why it needs attention.
 *
 * @example A rule whose query fails
 * ```ts
 * import { PrometheusClient, RuleEvaluator, type RuleProblem } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const prom = new PrometheusClient({ url: Deno.env.get("PROMETHEUS_URL") ?? "http://localhost:9090" });
 * const evaluator = new RuleEvaluator(prom, [{
 *   name: "broken",
 *   rules: [{ alert: "Bad", expr: "rate(up[5m]", annotations: { summary: "never" } }],
 * }]);
 * const problems: RuleProblem[] = (await evaluator.evaluate("2026-11-01T10:30:00Z")).problems;
 * assert.deepEqual(problems.map((p) => [p.rule, p.kind]), [["broken/Bad", "error"]]);
 * ```
 */
export interface RuleProblem {
  /** The rule key. */
  rule: string;
  /** `error`, `partial`, `no data` or `blind`. */
  kind: "error" | "partial" | "no data" | "blind";
  /** What happened, e.g. `no data: node_cpu_seconds_total has no series at 2026-11-01T10:15:00.000Z; alert states kept`. */
  reason: string;
}

/**
 * What one rule did at one evaluation.
 *
 * @example
 * ```ts
 * import { PrometheusClient, RuleEvaluator, type RuleOutcome } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const prom = new PrometheusClient({ url: Deno.env.get("PROMETHEUS_URL") ?? "http://localhost:9090" });
 * const groups = [{
 *   name: "node",
 *   interval: "5m",
 *   rules: [{
 *     alert: "HostHighCpu",
 *     expr: '100 - (avg by(instance)(irate(node_cpu_seconds_total{mode="idle"}[5m])) * 100) > 90',
 *     for: "5m",
 *     annotations: { summary: "CPU {{ $value | humanize }} % on {{ $labels.instance }}" },
 *   }],
 * }];
 * const evaluator = new RuleEvaluator(prom, groups);
 * const { outcomes } = await evaluator.evaluate("2026-11-01T10:30:00Z");
 * const [outcome]: RuleOutcome[] = outcomes;
 * assert.deepEqual([outcome.rule, outcome.series, outcome.error], ["node/HostHighCpu", 1, undefined]);
 * ```
 */
export interface RuleOutcome {
  /** The rule key, `group/alertname`. */
  rule: string;
  /** The group. */
  group: string;
  /** The `alertname`. */
  alertname: string;
  /** Series the expression returned. */
  series: number;
  /** The rule failed (query error, duplicate label sets, `limit`): states kept (cleared for `limit`). */
  error?: string;
  /** Warnings of a partial answer: alerts absent from it kept their state. */
  warnings: string[];
  /** Set when an input selector had no series at all: absent alerts kept their state. */
  noData?: string;
  /** Set while the rule's selectors have never matched any series. */
  blind?: { since: string; selectors: string[]; overdue: boolean };
  /** The state changes. */
  changes: AlertChange[];
}

/**
 * What {@linkcode RuleEvaluator.evaluate} returns.
 *
 * @example The dataset's sustained host fires after 5 minutes
 * ```ts
 * import { PrometheusClient, RuleEvaluator, type RulesEvaluation } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const prom = new PrometheusClient({ url: Deno.env.get("PROMETHEUS_URL") ?? "http://localhost:9090" });
 * const groups = [{
 *   name: "node",
 *   interval: "5m",
 *   rules: [{
 *     alert: "HostHighCpu",
 *     expr: '100 - (avg by(instance)(irate(node_cpu_seconds_total{mode="idle"}[5m])) * 100) > 90',
 *     for: "5m",
 *     annotations: { summary: "CPU {{ $value | humanize }} % on {{ $labels.instance }}" },
 *   }],
 * }];
 * const evaluator = new RuleEvaluator(prom, groups);
 * await evaluator.evaluate("2026-11-01T10:30:00Z"); // pending
 * const second: RulesEvaluation = await evaluator.evaluate("2026-11-01T10:35:00Z");
 * assert.deepEqual(second.firing.map((a) => a.annotations.summary), ["CPU 95 % on ali-hz-db-01:9100"]);
 * assert.deepEqual([second.problems, second.partial], [[], false]);
 * ```
 */
export interface RulesEvaluation {
  /** The evaluation time, RFC 3339. */
  evaluatedAt: string;
  /** The groups evaluated (those due). */
  groups: string[];
  /** One outcome per evaluated rule. */
  outcomes: RuleOutcome[];
  /** Every active alert of every rule after this evaluation (also rules not due). */
  active: ActiveAlert[];
  /**
   * Every firing alert as an {@linkcode Alert}, for `Alerter.evaluate`
   * (`startsAt` = when it fired): the alerter diffs it into firing and
   * resolved notifications.
   */
  firing: Alert[];
  /** Notification context per `alertname` (the rule's query), for `Alerter.evaluate`'s `contexts`. */
  contexts: Record<string, Partial<NotificationContext>>;
  /** Errors, partial answers, no data, blind rules: one line each. */
  problems: RuleProblem[];
  /**
   * Some rule's answer was partial (it came with warnings: a store or a
   * fleet member unavailable): the alerts absent from it kept their state,
   * neither resolved nor gone. The answer is complete again when this is
   * `false`.
   */
  partial: boolean;
  /**
   * The warnings of this evaluation's answers, each once, prefixed by the
   * rule key: `group/alertname: partial response: store ali unavailable`.
   */
  warnings: string[];
}

/**
 * Options of {@linkcode RuleEvaluator.evaluate}.
 *
 * @example Evaluate every group now, due or not
 * ```ts
 * import { type EvaluateRulesOptions, PrometheusClient, RuleEvaluator } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const prom = new PrometheusClient({ url: Deno.env.get("PROMETHEUS_URL") ?? "http://localhost:9090" });
 * const groups = [{
 *   name: "node",
 *   interval: "5m",
 *   rules: [{
 *     alert: "HostHighCpu",
 *     expr: '100 - (avg by(instance)(irate(node_cpu_seconds_total{mode="idle"}[5m])) * 100) > 90',
 *     for: "5m",
 *     annotations: { summary: "CPU {{ $value | humanize }} % on {{ $labels.instance }}" },
 *   }],
 * }];
 * const evaluator = new RuleEvaluator(prom, groups);
 * await evaluator.evaluate("2026-11-01T10:30:00Z");
 * const options: EvaluateRulesOptions = { all: true };
 * const early = await evaluator.evaluate("2026-11-01T10:31:00Z", options); // before the 5m interval
 * assert.deepEqual(early.groups, ["node"]);
 * ```
 */
export interface EvaluateRulesOptions {
  /**
   * Evaluate every group, not only those whose interval elapsed.
   * @default {false}
   */
  all?: boolean;
  /** Abort the queries. */
  signal?: AbortSignal;
}

// Alerts share a few activeAt and firedAt times: each is formatted once.
const isoCache = new Map<number, string>();
const iso = (ms: number) => {
  let s = isoCache.get(ms);
  if (s === undefined) {
    if (isoCache.size >= 4096) isoCache.clear();
    s = new Date(ms).toISOString();
    isoCache.set(ms, s);
  }
  return s;
};

/** @internal The answer of one rule's query, as samples. */
export interface RuleAnswer {
  samples: RuleSample[];
  warnings: string[];
}

function vectorSamples(result: QueryResult): RuleSample[] {
  if (result.resultType === "vector") {
    const out: RuleSample[] = [];
    for (const s of result.result) {
      if (s.value === undefined) continue; // native histograms cannot alert
      out.push({ labels: s.metric, value: parseSampleValue(s.value[1]) ?? NaN });
    }
    return out;
  }
  if (result.resultType === "scalar") {
    return [{ labels: {}, value: parseSampleValue(result.result[1]) ?? NaN }];
  }
  throw new TypeError(`rule result is a ${result.resultType}, not a vector or scalar`);
}

/**
 * The alert as the evaluator reports it.
 * @internal
 */
export function activeAlert(rule: CompiledRule, fp: string, a: StoredAlert): ActiveAlert {
  return {
    rule: rule.key,
    group: rule.group,
    fingerprint: fp,
    state: a.state,
    labels: a.labels,
    annotations: a.annotations,
    value: storedValue(a.value),
    activeAt: iso(a.activeAt),
    firedAt: a.firedAt === undefined ? null : iso(a.firedAt),
  };
}

/**
 * The firing alert as the alerter takes it.
 * @internal
 */
export function toAlert(fp: string, a: StoredAlert): Alert {
  const annotations = { ...a.annotations, summary: a.annotations.summary ?? a.labels.alertname };
  return {
    labels: a.labels,
    annotations,
    value: storedValue(a.value),
    startsAt: iso(a.firedAt ?? a.activeAt),
    status: "firing",
    fingerprint: fp,
  };
}

/** A fresh, empty {@linkcode RulesState}. */
export function emptyRulesState(): RulesState {
  return { version: 1, rules: {}, groups: {} };
}

/**
 * Evaluates rule groups against Prometheus, one instant query per rule at
 * the evaluation time, with Prometheus 2.42's alerting semantics, and keeps
 * the alert states in a plain JSON object ({@linkcode state}).
 *
 * Where it differs from Prometheus (on purpose, see `docs/rules.md`): a
 * failed query, a partial answer (warnings) or an input selector without any
 * series never resolves anything; a rule whose selectors never matched is
 * reported as blind.
 *
 * @example Evaluate a rule against a fake client
 * ```ts
 * import { RuleEvaluator } from "opsbook";
 *
 * const client = {
 *   query: async (q: string) => ({
 *     resultType: "vector" as const,
 *     result: q.startsWith("label_replace") ? [] : [{ metric: { instance: "db-01" }, value: [0, "97"] as [number, string] }],
 *     warnings: [], infos: [],
 *   }),
 *   queryRange: () => Promise.reject(new Error("unused")),
 * };
 * const evaluator = new RuleEvaluator(client, [{
 *   name: "node",
 *   rules: [{ alert: "HostHighCpu", expr: "cpu > 80", for: "1m", annotations: { summary: "CPU {{ $value }} on {{ $labels.instance }}" } }],
 * }]);
 * await evaluator.evaluate("2026-11-01T10:00:00Z");
 * const second = await evaluator.evaluate("2026-11-01T10:01:00Z");
 * console.log(second.firing.map((a) => a.annotations.summary)); // [ "CPU 97 on db-01" ]
 * ```
 */
export class RuleEvaluator {
  #client: RuleQueryClient;
  #groups: CompiledGroup[];
  #state: RulesState;
  #blindAfterMs: number;

  /** Compiles the groups (templates, durations, selectors); misuse throws here. */
  constructor(
    client: RuleQueryClient,
    groups: readonly RuleGroupSpec[],
    options: RuleEvaluatorOptions = {},
  ) {
    this.#client = client;
    this.#groups = compileGroups(groups, {
      intervalMs: parseDuration(options.interval ?? "1m") * 1000,
      externalLabels: options.externalLabels ?? {},
      externalURL: options.externalURL ?? "",
      template: options.template,
    });
    this.#blindAfterMs = parseDuration(options.blindAfter ?? "1h") * 1000;
    const given = options.state;
    if (given !== undefined && (given?.version !== 1 || typeof given.rules !== "object")) {
      throw new TypeError("Invalid state: expected a RulesState object with version 1");
    }
    this.#state = given ?? emptyRulesState();
  }

  /** The state, a plain JSON-serialisable object (save it to survive restarts). */
  get state(): RulesState {
    return this.#state;
  }

  /** The compiled groups. @internal */
  get groups(): readonly CompiledGroup[] {
    return this.#groups;
  }

  /** The groups whose interval elapsed at `at` (or that never ran). */
  due(at: TimeInput): string[] {
    return this.#due(toMillis(at));
  }

  #due(t: number): string[] {
    return this.#groups.filter((g) => {
      const last = this.#state.groups[g.name]?.lastEvalAt;
      return last === undefined || t - last >= g.intervalMs || t < last;
    }).map((g) => g.name);
  }

  /** Every active alert of every rule. */
  active(): ActiveAlert[] {
    const out: ActiveAlert[] = [];
    for (const g of this.#groups) {
      for (const r of g.rules) {
        const alerts = this.#state.rules[r.key]?.alerts ?? {};
        for (const fp of Object.keys(alerts).sort()) out.push(activeAlert(r, fp, alerts[fp]));
      }
    }
    return out;
  }

  /**
   * Evaluates the groups due at `at` (every group with `all`) and returns
   * the outcome per rule, every active alert and the firing ones for the alerter.
   */
  async evaluate(
    at: TimeInput = new Date(),
    options: EvaluateRulesOptions = {},
  ): Promise<RulesEvaluation> {
    const t = toMillis(at);
    const due = new Set(options.all ? this.#groups.map((g) => g.name) : this.#due(t));
    const outcomes: RuleOutcome[] = [];
    for (const g of this.#groups) {
      if (!due.has(g.name)) continue;
      for (const r of g.rules) outcomes.push(await this.#evaluateRule(r, t, options.signal));
      this.#state.groups[g.name] = { lastEvalAt: t };
    }
    const firing: Alert[] = [];
    const contexts: Record<string, Partial<NotificationContext>> = {};
    for (const g of this.#groups) {
      for (const r of g.rules) {
        contexts[r.name] ??= { query: r.expr };
        const alerts = this.#state.rules[r.key]?.alerts ?? {};
        for (const fp of Object.keys(alerts).sort()) {
          if (alerts[fp].state === "firing") firing.push(toAlert(fp, alerts[fp]));
        }
      }
    }
    const warnings = [
      ...new Set(outcomes.flatMap((o) => o.warnings.map((w) => `${o.rule}: ${w}`))),
    ];
    return {
      evaluatedAt: iso(t),
      groups: this.#groups.filter((g) => due.has(g.name)).map((g) => g.name),
      outcomes,
      active: this.active(),
      firing,
      contexts,
      problems: problemsOf(outcomes, iso(t)),
      partial: warnings.length > 0,
      warnings,
    };
  }

  async #answer(rule: CompiledRule, t: number, signal?: AbortSignal): Promise<RuleAnswer> {
    if (isDetectorRule(rule)) {
      return await detectorSamples(this.#client, rule, t, this.#ruleState(rule), signal);
    }
    const result = await this.#client.query(rule.expr, { time: new Date(t), signal });
    return { samples: vectorSamples(result), warnings: result.warnings };
  }

  #ruleState(rule: CompiledRule): RuleState {
    return this.#state.rules[rule.key] ??= { alerts: {} };
  }

  async #evaluateRule(rule: CompiledRule, t: number, signal?: AbortSignal): Promise<RuleOutcome> {
    const state = this.#ruleState(rule);
    const outcome: RuleOutcome = {
      rule: rule.key,
      group: rule.group,
      alertname: rule.name,
      series: 0,
      warnings: [],
      changes: [],
    };
    let answer: RuleAnswer;
    try {
      answer = await this.#answer(rule, t, signal);
    } catch (error) {
      if (signal?.aborted) throw error;
      outcome.error = `query failed: ${(error as Error).message}; alert states kept`;
      return outcome;
    }
    outcome.series = answer.samples.length;
    outcome.warnings = answer.warnings;
    let absent: AbsentPolicy = answer.warnings.length > 0 ? "hold" : "resolve";
    if (answer.samples.length > 0) {
      state.matched = true;
      delete state.blindSince;
    }
    // Presence: only needed when something active would go, or to tell a blind rule.
    const wouldGo = absent === "resolve" && Object.keys(state.alerts).length > 0 &&
      this.#someAbsent(rule, state, answer.samples);
    if (rule.selectors.length > 0 && (wouldGo || !state.matched)) {
      let missing: string[];
      try {
        missing = await this.#missingSelectors(rule, t, signal);
      } catch (error) {
        if (signal?.aborted) throw error;
        if (wouldGo) {
          absent = "hold";
          outcome.noData = `no data: the presence check failed (${(error as Error).message}) at ${
            iso(t)
          }; alert states kept`;
        }
        missing = [];
      }
      if (missing.length > 0) {
        absent = "hold";
        outcome.noData = `no data: ${missing.join(", ")} ${
          missing.length === 1 ? "has" : "have"
        } no series at ${iso(t)}; alert states kept`;
        if (!state.matched) {
          state.blindSince ??= t;
          outcome.blind = {
            since: iso(state.blindSince),
            selectors: missing,
            overdue: t - state.blindSince >= this.#blindAfterMs,
          };
        }
      } else if (!state.matched && answer.samples.length === 0) {
        // Every input exists: the rule can match, it just does not now.
        state.matched = true;
        delete state.blindSince;
      }
    }
    const step = stepRule(state, rule, t, answer.samples, { absent });
    if (step.error !== undefined) outcome.error = step.error;
    outcome.changes = step.transitions.map((tr) => ({
      ...activeAlert(rule, tr.fingerprint, tr.alert),
      kind: tr.kind,
      at: iso(tr.at),
    }));
    return outcome;
  }

  #someAbsent(rule: CompiledRule, state: RuleState, samples: RuleSample[]): boolean {
    if (samples.length < Object.keys(state.alerts).length) return true;
    const present = new Set<string>();
    for (const s of samples) {
      // Computed once: stepRule reuses them.
      if (s.alert === undefined) {
        const labels = rule.alertLabels(s);
        s.alert = { labels, fingerprint: fingerprint(labels) };
      }
      present.add(s.alert.fingerprint);
    }
    for (const fp in state.alerts) if (!present.has(fp)) return true;
    return false;
  }

  async #missingSelectors(rule: CompiledRule, t: number, signal?: AbortSignal): Promise<string[]> {
    const result = await this.#client.query(presenceQueryAll(rule.selectors), {
      time: new Date(t),
      signal,
    });
    const found = new Set<string>();
    if (result.resultType === "vector") {
      for (const s of result.result) found.add(s.metric[PRESENCE_LABEL] ?? "");
    }
    return rule.selectors.filter((_, i) => !found.has(String(i))).map((s) =>
      s.range === undefined ? s.selector : `${s.selector}[${s.range}]`
    );
  }
}

/**
 * One line per problem of an evaluation.
 * @internal
 */
export function problemsOf(outcomes: readonly RuleOutcome[], at: string): RuleProblem[] {
  const out: RuleProblem[] = [];
  for (const o of outcomes) {
    if (o.error !== undefined) {
      out.push({ rule: o.rule, kind: "error", reason: o.error });
    }
    if (o.warnings.length > 0) {
      out.push({
        rule: o.rule,
        kind: "partial",
        reason: `partial answer at ${at} (${
          o.warnings.join("; ")
        }): alerts absent from it kept their state`,
      });
    }
    if (o.blind !== undefined) {
      out.push({
        rule: o.rule,
        kind: "blind",
        reason: `blind: ${
          o.blind.selectors.join(", ")
        } never matched any series (since ${o.blind.since})`,
      });
    } else if (o.noData !== undefined) {
      out.push({ rule: o.rule, kind: "no data", reason: o.noData });
    }
  }
  return out;
}

export type {
  AlertingRuleSpec,
  RuleGroupSpec,
  TemplateCompiler,
  TemplateData,
} from "./_compile.ts";
