/**
 * The monitor: rule files (`rules/node.yml` by default, see
 * {@linkcode loadMonitorRules}) evaluated through the one `RuleEvaluator`,
 * each group at its interval, with Prometheus' semantics; the firing alerts
 * go through the alert state and outbox to the sinks, routed by labels.
 * Meta-alerts go through the same state and outbox: `MonitoringBlind` after
 * `blindAfter` failed evaluations in a row (resolved on recovery),
 * `HostStoppedReporting` for a host that was reporting and disappeared
 * (resolved when it is back; with `stoppedReporting: auto`, only when no
 * loaded rule pages for a stopped host, see {@linkcode stoppedHostRule}),
 * `MonitoringRuleBlind` for a rule whose
 * selectors never matched a series for `ruleBlindAfter`, and
 * `MonitoringPartial` after `blindAfter` partial answers in a row.
 *
 * Crash safety: each evaluation queues its notifications (outbox file) before
 * it saves the alert state, and delivers after both are on disk. A process
 * killed at any point loses nothing; on restart the same evaluation may be
 * computed again, and notifications already queued (same id) are not queued
 * twice. Delivery is at least once: a notification the receiver accepted but
 * whose acknowledgement was lost, or that was sent just before the process
 * died and before the outbox file was rewritten, is sent again.
 *
 * @module
 */

import { fingerprint, type Labels } from "../labels.ts";
import { type AnyPrometheusClient, FleetClient } from "../prometheus/fleet.ts";
import type { QueryResult } from "../prometheus/client.ts";
import type { DurationInput } from "../time.ts";
import { type AlertRule, cpuTrendRule, highCpuRule } from "../rules/cpu_rules.ts";
import {
  type AlertingRuleSpec,
  RuleEvaluator,
  type RuleGroupSpec,
  type RuleQueryClient,
  type RulesEvaluation,
  type RulesState,
} from "../rules/evaluator.ts";
import { opsbookRepeatInterval, splitComparison } from "../rules/detector_rules.ts";
import { vectorSelectors } from "../rules/_selectors.ts";
import {
  loadRuleFiles,
  RuleFileError,
  type RuleFileProblem,
  type RuleGroup,
} from "../rules/rule_file.ts";
import { Alerter } from "../alert/alerter.ts";
import type { Router } from "../alert/route.ts";
import type { AlertRecord, Transition } from "../alert/state.ts";
import type { Alert, NotificationContext, Sink } from "../alert/types.ts";
import { type Config, type SettingName, settingSource } from "./config.ts";
import { Logger } from "./log.ts";
import { type Counter, type Gauge, MetricsRegistry, registerProcessMetrics } from "./metrics.ts";
import { EmptyResultError } from "../errors.ts";
import { delay } from "../_internal/delay.ts";
import { writeFileAtomic } from "../_internal/fs.ts";

/** Options of {@linkcode monitorRules}. */
export interface MonitorRulesOptions {
  /** Link to the query in Prometheus' graph UI, shown in notifications. */
  graphURL?: string;
}

/**
 * The TypeScript CPU rules of the alerting notebook, built from the monitor's
 * settings (the monitor itself evaluates rule files, see
 * {@linkcode loadMonitorRules}): the shared
 * `HostHighCpu` rule ({@linkcode highCpuRule} with `threshold`, `low` and
 * `for`) and, unless `trend` is off, `HostCpuTrend` ({@linkcode cpuTrendRule}
 * with `trendWithin` and `trendLookback`). With the default settings these
 * are exactly `defaultCpuRules()`, the rules of the alerting notebook.
 *
 * @example The default rules
 * ```ts
 * import { loadConfig } from "opsbook";
 * import { monitorRules } from "./daemon.ts";
 * import assert from "node:assert/strict";
 *
 * const rules = monitorRules(loadConfig({ env: {} }));
 * assert.deepEqual(rules.map((r) => r.name), ["HostHighCpu", "HostCpuTrend"]);
 * assert.deepEqual(rules[1].window, { range: 21600, step: "5m" });
 * assert.deepEqual(monitorRules(loadConfig({ env: { CPU_TREND: "false" } })).length, 1);
 * ```
 */
export function monitorRules(config: Config, options: MonitorRulesOptions = {}): AlertRule[] {
  const rules = [
    highCpuRule({
      threshold: config.threshold,
      low: config.low,
      for: config.for,
      query: config.query,
      graphURL: options.graphURL,
    }),
  ];
  if (config.trend) {
    rules.push(cpuTrendRule({
      within: config.trendWithin,
      lookback: config.trendLookback,
      query: config.query,
      graphURL: options.graphURL,
    }));
  }
  return rules;
}

/** The shipped rule file, loaded when no `rules` are configured. */
export const SHIPPED_RULES: string = decodeURIComponent(
  new URL("../../rules/node.yml", import.meta.url).pathname,
);

/**
 * The rules the monitor evaluates, as loaded and adjusted by {@linkcode loadMonitorRules}.
 *
 * @example
 * ```ts
 * import { loadConfig, loadMonitorRules, type MonitorRuleSet } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const rules: MonitorRuleSet = await loadMonitorRules(loadConfig({ env: {} }));
 * assert.ok(rules.files[0].endsWith("rules/node.yml")); // the shipped rules
 * assert.ok(rules.groups.length > 0);
 * ```
 */
export interface MonitorRuleSet {
  /** The rule files read. */
  files: string[];
  /** The groups, ready for the evaluator. */
  groups: RuleGroupSpec[];
  /** Notices of the loader (recording rules not evaluated here) and of the CPU settings. */
  notices: string[];
}

/** A rule of a group in {@linkcode MonitorRuleSet.groups}, as the loader gives it. */
type LoadedRule = RuleGroupSpec["rules"][number];

function isAlerting(r: LoadedRule): r is AlertingRuleSpec {
  return (r as AlertingRuleSpec).alert !== undefined;
}

/** A number as PromQL and a rule text print it (`80`, `92.5`). */
const num = (n: number) => String(n);

/**
 * The CPU settings (`threshold`, `low`, `for`, `query`, `trend`,
 * `trendWithin`, `trendLookback`) applied to the seed's rules when they were
 * set (not left at their defaults): `HostHighCpu`'s expression becomes
 * `<query> > <threshold>`, its `for` and its hysteresis `clear_below` follow,
 * and the threshold in its annotations is replaced; `trend: false` drops
 * `HostCpuTrend`, whose trend detector's `within` and `lookback` (or
 * `predict_linear(…[lookback:step], within)`) follow `trendWithin` and
 * `trendLookback`.
 */
function applyCpuSettings(
  groups: RuleGroupSpec[],
  config: Config,
  notices: string[],
): RuleGroupSpec[] {
  const set = (name: SettingName) => settingSource(config, name) !== "default";
  const out: RuleGroupSpec[] = [];
  for (const g of groups) {
    const rules: LoadedRule[] = [];
    for (const r of g.rules) {
      if (!isAlerting(r)) {
        rules.push(r);
        continue;
      }
      if (r.alert === "HostCpuTrend" && !config.trend) continue;
      const rule: AlertingRuleSpec = { ...r };
      if (r.alert === "HostHighCpu") {
        const c = splitComparison(r.expr);
        if (c === undefined && (set("threshold") || set("query"))) {
          notices.push(
            `HostHighCpu: --threshold and --query need an expression of the form <query> > <number>; kept ${r.expr}`,
          );
        }
        if (c !== undefined && (set("threshold") || set("query"))) {
          const threshold = set("threshold") ? config.threshold : c.threshold;
          rule.expr = `${set("query") ? config.query : c.query} ${c.op} ${num(threshold)}`;
          if (threshold !== c.threshold) {
            const re = new RegExp(
              `(?<![\\d.])${c.threshold.toString().replace(".", "\\.")} %`,
              "g",
            );
            rule.annotations = Object.fromEntries(
              Object.entries(r.annotations ?? {}).map((
                [k, v],
              ) => [k, v.replace(re, `${threshold} %`)]),
            );
          }
        }
        if (set("for")) rule.for = config.for;
        const o = r.opsbook;
        if (o?.detector === "hysteresis" && (set("low") || set("threshold"))) {
          rule.opsbook = { ...o, clear_below: config.low };
          delete rule.opsbook.clearBelow;
        }
      }
      if (r.alert === "HostCpuTrend" && (set("trendWithin") || set("trendLookback"))) {
        const m = r.expr.match(
          /^(predict_linear\(\(?[\s\S]*\)\[)(\w+)(:\w+\],\s*)([^)]+)(\)[\s\S]*)$/,
        );
        if (r.opsbook?.detector === "trend") {
          rule.opsbook = { ...r.opsbook };
          if (set("trendWithin")) rule.opsbook.within = `${config.trendWithin}s`;
          if (set("trendLookback")) rule.opsbook.lookback = `${config.trendLookback}s`;
        } else if (m !== null) {
          const lookback = set("trendLookback") ? `${config.trendLookback}s` : m[2];
          const within = set("trendWithin") ? num(config.trendWithin) : m[4];
          rule.expr = `${m[1]}${lookback}${m[3]}${within}${m[5]}`;
        } else {
          notices.push(
            "HostCpuTrend: --trend-within and --trend-lookback need the trend detector or " +
              `predict_linear((<query>)[<lookback>:<step>], <within>); kept ${r.expr}`,
          );
        }
      }
      rules.push(rule);
    }
    out.push({ ...g, rules });
  }
  return out;
}

/**
 * Load the monitor's rules: the files of `config.rules` (the shipped
 * `rules/node.yml` when none are set), with the CPU settings applied to the
 * seed's `HostHighCpu` and `HostCpuTrend`. A file that does not load throws
 * a `RuleFileError` listing every problem as `file:line:col: rule NAME: …`;
 * two files with the same group name throw a `RuleFileError` naming both.
 *
 * @example The shipped rules with a higher threshold
 * ```ts
 * import { loadConfig, loadMonitorRules } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const set = await loadMonitorRules(loadConfig({ env: { CPU_THRESHOLD: "90" } }));
 * const cpu = set.groups[0].rules[0];
 * assert.ok("alert" in cpu && cpu.expr.endsWith("> 90"));
 * ```
 */
export async function loadMonitorRules(config: Config): Promise<MonitorRuleSet> {
  const files = config.rules ?? [SHIPPED_RULES];
  const loaded = await loadRuleFiles(files);
  const groups: RuleGroupSpec[] = [];
  const notices: string[] = [];
  const seen = new Map<string, RuleGroup & { file: string }>();
  const problems: RuleFileProblem[] = [];
  for (const f of loaded) {
    for (const n of f.notices) notices.push(n.message);
    for (const g of f.groups) {
      const before = seen.get(g.name);
      if (before !== undefined) {
        const p = g.position;
        const detail = `group ${
          JSON.stringify(g.name)
        } is also defined at ${before.file}:${before.position.line}:${before.position.column}: group names must be unique across the monitor's rule files`;
        problems.push({ ...p, detail, message: `${p.file}:${p.line}:${p.column}: ${detail}` });
        continue;
      }
      seen.set(g.name, { ...g, file: f.file });
      groups.push({ name: g.name, interval: g.interval, limit: g.limit, rules: [...g.rules] });
    }
  }
  if (problems.length > 0) throw new RuleFileError(problems);
  return { files: [...files], groups: applyCpuSettings(groups, config, notices), notices };
}

/** Paths of the files the monitor keeps beside its state file. */
export interface MonitorPaths {
  /** Alert state. */
  state: string;
  /** Outbox. */
  outbox: string;
  /** Monitor bookkeeping: known hosts, failure count, replay cursor. */
  meta: string;
  /** Lock file. */
  lock: string;
}

/**
 * The files derived from a state path: `x.json` → `x.outbox.json`,
 * `x.monitor.json`, `x.json.lock`.
 *
 * @example
 * ```ts
 * import { monitorPaths } from "./daemon.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(monitorPaths("/var/lib/opsbook/state.json").outbox, "/var/lib/opsbook/state.outbox.json");
 * ```
 */
export function monitorPaths(state: string): MonitorPaths {
  const base = state.replace(/\.json$/, "");
  return {
    state,
    outbox: `${base}.outbox.json`,
    meta: `${base}.monitor.json`,
    lock: `${state}.lock`,
  };
}

interface MetaFile {
  version: 1;
  /** Consecutive failed evaluations. */
  failures: number;
  /** Host key → last time seen (ms). */
  hosts: Record<string, { labels: Labels; lastSeen: number }>;
  /** Replay: the next evaluation time (ms) and the start it belongs to. */
  replay?: { start: string; next: number };
  /** The rule evaluator's state (pending alerts, blind rules, group times). */
  rules?: RulesState;
  /** Consecutive evaluations with a partial answer. */
  partials?: number;
}

function freshMeta(): MetaFile {
  return { version: 1, failures: 0, hosts: {} };
}

/** Why a parsed `x.monitor.json` is not a usable {@linkcode MetaFile}, or `undefined`. */
function metaProblem(raw: unknown): string | undefined {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) return "not a JSON object";
  const m = raw as Record<string, unknown>;
  if (m.version !== 1) return `unsupported version ${JSON.stringify(m.version)}, expected 1`;
  if (typeof m.failures !== "number" || !(m.failures >= 0)) return "invalid failures";
  if (m.hosts === null || typeof m.hosts !== "object" || Array.isArray(m.hosts)) {
    return "invalid hosts";
  }
  if (
    m.rules !== undefined &&
    (m.rules === null || typeof m.rules !== "object" || (m.rules as RulesState).version !== 1 ||
      typeof (m.rules as RulesState).rules !== "object" ||
      typeof (m.rules as RulesState).groups !== "object")
  ) return "invalid rules state";
  for (const [h, info] of Object.entries(m.hosts)) {
    const i = info as { labels?: unknown; lastSeen?: unknown } | null;
    if (
      i === null || typeof i !== "object" || typeof i.labels !== "object" || i.labels === null ||
      typeof i.lastSeen !== "number" || !Number.isFinite(i.lastSeen)
    ) return `invalid hosts entry ${JSON.stringify(h)}`;
  }
  return undefined;
}

/**
 * The hosts known from the alert state, for a monitor whose bookkeeping file
 * was lost: every host named by an alert record (firing or not), last seen
 * when its record was last seen (for `HostStoppedReporting`, when it started).
 */
function hostsFromRecords(
  records: readonly AlertRecord[],
  hostLabel: string,
): MetaFile["hosts"] {
  const hosts: MetaFile["hosts"] = {};
  for (const r of records) {
    const h = r.labels[hostLabel];
    if (typeof h !== "string" || r.labels.alertname === "MonitoringBlind") continue;
    const when = Date.parse(
      r.labels.alertname === "HostStoppedReporting" ? r.activeAt : r.lastSeenAt,
    );
    if (!Number.isFinite(when)) continue;
    if (hosts[h] === undefined || hosts[h].lastSeen < when) {
      hosts[h] = { labels: { [hostLabel]: h }, lastSeen: when };
    }
  }
  return hosts;
}

/**
 * Load the monitor's bookkeeping. A missing file starts fresh. A corrupted
 * one is logged, kept as `<file>.corrupt-<time>`, and its known hosts are
 * rebuilt from the alert state (hosts that never had an alert cannot be).
 */
async function loadMeta(
  path: string,
  log: Logger,
  records: readonly AlertRecord[],
  hostLabel: string,
  nowMs: number,
): Promise<MetaFile> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return freshMeta();
    throw error;
  }
  let problem: string | undefined;
  try {
    const raw = JSON.parse(text);
    problem = metaProblem(raw);
    if (problem === undefined) return raw as MetaFile;
  } catch (error) {
    problem = `not valid JSON: ${(error as Error).message}`;
  }
  const aside = `${path}.corrupt-${new Date(nowMs).toISOString().replace(/[:.]/g, "-")}`;
  await Deno.rename(path, aside);
  const meta = freshMeta();
  meta.hosts = hostsFromRecords(records, hostLabel);
  log.warn("monitor_state_unreadable", {
    file: path,
    problem,
    moved_to: aside,
    hosts_rebuilt: Object.keys(meta.hosts).length,
    error: `Monitor bookkeeping file is unreadable: ${path}: ${problem}; kept as ${aside}, ` +
      "known hosts rebuilt from the alert state, failure count and replay cursor reset",
  });
  return meta;
}

function saveMeta(path: string, meta: MetaFile): Promise<void> {
  return writeFileAtomic(path, JSON.stringify(meta), { mode: 0o600 });
}

/** The monitor's own metrics. */
export interface MonitorMetrics {
  /** The registry (render it at `/metrics`). */
  registry: MetricsRegistry;
  /** Evaluations by `result` (`success`, `failure`). */
  evaluations: Counter;
  /** Failed evaluations by `kind`. */
  errors: Counter;
  /** Wall-clock time of the last successful evaluation. */
  lastSuccess: Gauge;
  /** Duration of the last evaluation. */
  duration: Gauge;
  /** Hosts in the last successful answer. */
  hosts: Gauge;
  /** Alerts firing by `alertname`. */
  firing: Gauge;
  /** Notifications delivered by `receiver`. */
  sent: Counter;
  /** Failed delivery attempts by `receiver`. */
  failed: Counter;
  /** Notifications waiting in the outbox. */
  outbox: Gauge;
  /** Dead letters in the outbox. */
  dead: Gauge;
  /** Failed evaluations in a row. */
  consecutiveFailures: Gauge;
  /** Per rule (`group/alertname`) and kind (`error`, `partial`, `no data`, `blind`): 1 while it has that problem. */
  ruleProblem: Gauge;
  /** Per rule: series its expression returned at its latest evaluation. */
  ruleSeries: Gauge;
  /** Evaluations with a partial answer (Prometheus warnings, a fleet member down). */
  partial: Counter;
}

/**
 * Create the monitor's metric families (and process metrics) in a new registry.
 *
 * @example
 * ```ts
 * import { createMonitorMetrics } from "./daemon.ts";
 *
 * const metrics = createMonitorMetrics();
 * console.log(metrics.registry.render().includes("opsbook_monitor_evaluations_total")); // true
 * ```
 */
export function createMonitorMetrics(): MonitorMetrics {
  const r = new MetricsRegistry();
  const m: MonitorMetrics = {
    registry: r,
    evaluations: r.counter("opsbook_monitor_evaluations_total", "Evaluations by result", {
      labelNames: ["result"],
    }),
    errors: r.counter("opsbook_monitor_errors_total", "Failed evaluations by kind", {
      labelNames: ["kind"],
    }),
    lastSuccess: r.gauge(
      "opsbook_monitor_last_success_timestamp_seconds",
      "Wall-clock time of the last successful evaluation",
    ),
    duration: r.gauge(
      "opsbook_monitor_evaluation_duration_seconds",
      "Duration of the last evaluation",
    ),
    hosts: r.gauge("opsbook_monitor_hosts", "Hosts in the last successful answer"),
    firing: r.gauge("opsbook_monitor_alerts_firing", "Alerts firing by alertname", {
      labelNames: ["alertname"],
    }),
    sent: r.counter("opsbook_monitor_notifications_sent_total", "Notifications delivered", {
      labelNames: ["receiver"],
    }),
    failed: r.counter(
      "opsbook_monitor_notifications_failed_total",
      "Failed delivery attempts",
      { labelNames: ["receiver"] },
    ),
    outbox: r.gauge("opsbook_monitor_outbox_size", "Notifications waiting in the outbox"),
    dead: r.gauge("opsbook_monitor_dead_letters", "Notifications refused for good"),
    consecutiveFailures: r.gauge(
      "opsbook_monitor_consecutive_failures",
      "Failed evaluations in a row",
    ),
    ruleProblem: r.gauge(
      "opsbook_monitor_rule_problem",
      "1 while a rule has a problem of this kind (error, partial, no data, blind)",
      { labelNames: ["rule", "kind"] },
    ),
    ruleSeries: r.gauge(
      "opsbook_monitor_rule_series",
      "Series the rule's expression returned at its latest evaluation",
      { labelNames: ["rule"] },
    ),
    partial: r.counter(
      "opsbook_monitor_partial_answers_total",
      "Evaluations whose answer was partial (warnings, a fleet member down)",
    ),
  };
  m.partial.inc({}, 0);
  for (const result of ["success", "failure"]) m.evaluations.inc({ result }, 0);
  registerProcessMetrics(r);
  return m;
}

/**
 * The kind of a failed evaluation, for logs and `opsbook_monitor_errors_total`:
 * `timeout`, `network`, `bad_response`, `bad_shape`, `prometheus`, `empty`,
 * `aborted`, `store` or `internal`.
 *
 * @example
 * ```ts
 * import { TimeoutError } from "opsbook";
 * import { errorKind } from "./daemon.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(errorKind(new TimeoutError("http://127.0.0.1:9090/api/v1/query", 500)), "timeout");
 * ```
 */
export function errorKind(error: unknown): string {
  const name = (error as Error)?.name ?? "";
  switch (name) {
    case "TimeoutError":
      return "timeout";
    case "NetworkError":
      return "network";
    case "ResponseError":
      return "bad_response";
    case "SchemaError":
      return "bad_shape";
    case "PrometheusError":
      return "prometheus";
    case "EmptyResultError":
      return "empty";
    case "AbortError":
      return "aborted";
    case "StoreFileError":
      return "store";
    default:
      return "internal";
  }
}

/**
 * What one evaluation did.
 *
 * @example
 * ```ts
 * import { type EvaluationResult, loadConfig, Logger, Monitor, PrometheusClient } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const config = loadConfig({ flags: { state: `${dir}/state.json` } }); // PROMETHEUS_URL from the environment
 * const monitor = await Monitor.open(config, {
 *   prometheus: new PrometheusClient({ url: config.prometheusUrl }),
 *   logger: new Logger({ stdout: false }),
 * });
 * const result: EvaluationResult = await monitor.runEvaluation({
 *   at: Date.parse("2026-11-01T11:00:00Z"),
 * });
 * assert.deepEqual([result.ok, result.firing, result.errorKind], [true, 1, undefined]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export interface EvaluationResult {
  /** The evaluation time, RFC 3339. */
  evaluatedAt: string;
  /** Whether the query and detection succeeded. */
  ok: boolean;
  /** The error kind when it failed. */
  errorKind?: string;
  /** The error message (redacted) when it failed. */
  error?: string;
  /** Hosts in the answer. */
  hosts: number;
  /** Alerts firing after the evaluation. */
  firing: number;
  /** Transitions queued by this evaluation. */
  transitions: Transition[];
  /** Notifications delivered in this evaluation. */
  sent: number;
  /** Delivery attempts that failed. */
  failed: number;
  /** Notifications waiting in the outbox after it. */
  queued: number;
  /** Wall-clock duration in milliseconds. */
  durationMs: number;
  /** Milliseconds spent querying Prometheus and evaluating the rules. */
  queryMs: number;
}

/**
 * Options of {@linkcode Monitor.open}.
 *
 * @example
 * ```ts
 * import { loadConfig, Logger, Monitor, type MonitorOptions, PrometheusClient } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const config = loadConfig({ flags: { state: `${dir}/state.json` } }); // PROMETHEUS_URL from the environment
 * const options: MonitorOptions = {
 *   prometheus: new PrometheusClient({ url: config.prometheusUrl }),
 *   sinks: [], // nothing to deliver to: the alerts are only tracked
 *   logger: new Logger({ stdout: false }),
 *   now: () => Date.parse("2026-11-01T11:00:00Z"),
 * };
 * const monitor = await Monitor.open(config, options);
 * assert.equal((await monitor.runEvaluation()).hosts, 12);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export interface MonitorOptions {
  /** The Prometheus client. */
  prometheus: AnyPrometheusClient;
  /** Where notifications go. @default {[]} */
  sinks?: readonly Sink[];
  /** The logger. @default {a logger writing logfmt to stdout} */
  logger?: Logger;
  /** The metrics. @default {createMonitorMetrics()} */
  metrics?: MonitorMetrics;
  /** Clock for non-replay evaluations (ms). @default {Date.now} */
  now?: () => number;
  /** Called after each evaluation of {@linkcode Monitor.prototype.run} (e.g. a garbage collection). */
  afterEvaluation?: () => void;
  /**
   * Set a corrupted state or outbox file aside (`<file>.corrupt-<time>`,
   * logged) and start fresh, instead of refusing to open (the CLI's
   * `--recover`).
   * @default {false}
   */
  recover?: boolean;
  /** The rules to evaluate. @default {loadMonitorRules(config)} */
  rules?: MonitorRuleSet;
  /** Which sinks get an alert (see `compileRoute`). @default {every sink gets every alert} */
  route?: Router;
}

/**
 * Options of {@linkcode Monitor.prototype.runEvaluation}.
 *
 * @example Evaluate a chosen time
 * ```ts
 * import { loadConfig, Logger, Monitor, PrometheusClient, type RunEvaluationOptions } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const config = loadConfig({ flags: { state: `${dir}/state.json` } }); // PROMETHEUS_URL from the environment
 * const monitor = await Monitor.open(config, {
 *   prometheus: new PrometheusClient({ url: config.prometheusUrl }),
 *   logger: new Logger({ stdout: false }),
 * });
 * const options: RunEvaluationOptions = { at: Date.parse("2026-11-01T11:00:00Z") };
 * const result = await monitor.runEvaluation(options);
 * assert.equal(result.evaluatedAt, "2026-11-01T11:00:00.000Z");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export interface RunEvaluationOptions {
  /** Abort the evaluation (the state stays consistent). */
  signal?: AbortSignal;
  /** The evaluation time in ms; default: the replay cursor or the clock. */
  at?: number;
}

const HOST_FORGET_MS = 7 * 24 * 3600 * 1000;
const META_ALERTS = [
  "HostStoppedReporting",
  "MonitoringBlind",
  "MonitoringRuleBlind",
  "MonitoringPartial",
];

/** The hosts (values of `hostLabel`) in an instant query's answer. */
function hostsOf(result: QueryResult, hostLabel: string): Set<string> {
  const out = new Set<string>();
  if (result.resultType !== "vector") return out;
  for (const s of result.result) {
    const h = s.metric[hostLabel];
    if (typeof h === "string" && h !== "") out.add(h);
  }
  return out;
}

/** A client that remembers the last error a query threw (the evaluator keeps only its message). */
function recordingClient(
  prom: AnyPrometheusClient,
): RuleQueryClient & { lastError?: unknown } {
  const client: RuleQueryClient & { lastError?: unknown } = {
    query: (q, o) =>
      prom.query(q, o).catch((e) => {
        client.lastError = e;
        throw e;
      }),
    queryRange: (q, o) =>
      prom.queryRange(q, o).catch((e) => {
        client.lastError = e;
        throw e;
      }),
  };
  return client;
}

/** Per `alertname`: the repeat interval a rule asks for (`opsbook: {repeat_interval: 24h}`). */
function repeatIntervals(groups: readonly RuleGroupSpec[]): Record<string, DurationInput> {
  const out: Record<string, DurationInput> = {};
  for (const g of groups) {
    for (const r of g.rules) {
      if (!isAlerting(r)) continue;
      const v = opsbookRepeatInterval(r.opsbook);
      if (v !== undefined) out[r.alert] = v;
    }
  }
  return out;
}

/**
 * The first alerting rule (`group/alert`) that already pages for a host that
 * stops reporting, or `undefined`: a rule that selects `up` (`up == 0`: the
 * scrape fails), uses `absent(…)`/`absent_over_time(…)`, or compares with
 * the past through `offset … unless` (`HostMetricsMissing`: the series are
 * gone). With such a rule loaded, the built-in `HostStoppedReporting` would
 * be a second page for the same incident (`stoppedReporting: auto`).
 */
export function stoppedHostRule(groups: readonly RuleGroupSpec[]): string | undefined {
  for (const g of groups) {
    for (const r of g.rules) {
      if (!isAlerting(r)) continue;
      const selectors = vectorSelectors(r.expr);
      const up = selectors.some((s) =>
        /^up\s*(\{|$)/.test(s.selector) || /__name__\s*=\s*"up"/.test(s.selector)
      );
      if (
        up || selectors.some((s) => s.inAbsent) ||
        (/\boffset\b/.test(r.expr) && /\bunless\b/.test(r.expr))
      ) return `${g.name}/${r.alert}`;
    }
  }
  return undefined;
}

/** What the detection of one evaluation found. */
interface Detection {
  alerts: Alert[];
  evaluation: RulesEvaluation;
  /** Warnings of partial answers (probe and rules). */
  partial: string[];
}

/**
 * One monitor over one state file. Open it, call
 * {@linkcode Monitor.prototype.runEvaluation} (or
 * {@linkcode Monitor.prototype.run}) and close it.
 *
 * Each evaluation asks Prometheus for the hosts that report (the `query`
 * setting, one series per host, for `HostStoppedReporting`), then runs the
 * rule groups that are due through the one {@linkcode RuleEvaluator}
 * (Prometheus' semantics: pending, `for`, `keep_firing_for`; no data and
 * partial answers keep the alert states). A rule never evaluated before is
 * warmed up first: evaluated at the group's interval over its `for` up to
 * now, as if the monitor had been running, so an alert whose condition has
 * held long enough fires at the first evaluation.
 *
 * @example One evaluation
 * ```ts
 * import { DryRunSink, loadConfig, Logger, Monitor, PrometheusClient } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * // PROMETHEUS_URL comes from the environment, as in production.
 * const config = loadConfig({ flags: { state: `${dir}/state.json` } });
 * const sent: string[] = [];
 * const monitor = await Monitor.open(config, {
 *   prometheus: new PrometheusClient({ url: config.prometheusUrl }),
 *   sinks: [new DryRunSink({ write: (text) => sent.push(text) })],
 *   logger: new Logger({ stdout: false }),
 *   now: () => Date.parse("2026-11-01T11:00:00Z"), // a time of the synthetic dataset
 * });
 * const result = await monitor.runEvaluation();
 * assert.deepEqual([result.ok, result.hosts, result.firing, result.sent], [true, 12, 1, 1]);
 * assert.match(sent[0], /^\[FIRING\] HostHighCpu: 1 alert for dry-run\n  - firing .*instance=ali-hz-db-01:9100 /);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class Monitor {
  #config: Config;
  #prom: AnyPrometheusClient;
  #client: RuleQueryClient & { lastError?: unknown };
  #sinks: readonly Sink[];
  #log: Logger;
  #metrics: MonitorMetrics;
  #now: () => number;
  #after: () => void;
  #paths: MonitorPaths;
  #alerter: Alerter;
  #ruleSet: MonitorRuleSet;
  #evaluator: RuleEvaluator;
  #ruleNames: string[];
  #graphBase: string;
  #graphURL: string;
  #meta: MetaFile;
  #evaluations = 0;
  #stopped: { enabled: boolean; coveredBy?: string };

  private constructor(
    config: Config,
    options: MonitorOptions,
    meta: MetaFile,
    outbox: number,
    ruleSet: MonitorRuleSet,
  ) {
    this.#config = config;
    this.#prom = options.prometheus;
    this.#client = recordingClient(this.#prom);
    this.#sinks = options.sinks ?? [];
    this.#log = options.logger ?? new Logger();
    this.#metrics = options.metrics ?? createMonitorMetrics();
    this.#now = options.now ?? Date.now;
    this.#after = options.afterEvaluation ?? (() => {});
    this.#paths = monitorPaths(config.state);
    // A fleet links to its first server's graph page.
    this.#graphBase = (this.#prom instanceof FleetClient ? this.#prom.urls[0] : this.#prom.url)
      .replace(/\/$/, "");
    this.#graphURL = this.#graphLink(config.query);
    this.#ruleSet = ruleSet;
    const coveredBy = stoppedHostRule(ruleSet.groups);
    this.#stopped = config.stoppedReporting === "on"
      ? { enabled: true }
      : config.stoppedReporting === "off"
      ? { enabled: false }
      : coveredBy === undefined
      ? { enabled: true }
      : { enabled: false, coveredBy };
    this.#evaluator = new RuleEvaluator(this.#client, ruleSet.groups, {
      interval: config.interval,
      blindAfter: config.ruleBlindAfter,
      state: meta.rules,
    });
    meta.rules = this.#evaluator.state;
    this.#ruleNames = [
      ...new Set(this.#evaluator.groups.flatMap((g) => g.rules.map((r) => r.name))),
    ];
    this.#alerter = new Alerter({
      statePath: this.#paths.state,
      outboxPath: this.#paths.outbox,
      sinks: this.#sinks,
      repeatInterval: config.repeatInterval,
      groupRepeatInterval: repeatIntervals(ruleSet.groups),
      lock: false,
      route: options.route,
    });
    this.#meta = meta;
    if (config.replayStart !== undefined) {
      const start = Date.parse(config.replayStart);
      if (meta.replay?.start !== config.replayStart) {
        meta.replay = { start: config.replayStart, next: start };
      }
    } else {
      delete meta.replay;
    }
    this.#metrics.outbox.set({}, outbox);
    this.#metrics.consecutiveFailures.set({}, meta.failures);
  }

  /**
   * Load the rules (unless given), the state, the outbox and the bookkeeping
   * beside `config.state`. Does not take the lock (see `acquireLock`). A rule
   * file that does not load throws its `RuleFileError` (file:line:col).
   */
  static async open(config: Config, options: MonitorOptions): Promise<Monitor> {
    const ruleSet = options.rules ?? await loadMonitorRules(config);
    const paths = monitorPaths(config.state);
    // Load both files once, so a corrupted one stops start-up with its StoreFileError.
    const alerter = new Alerter({
      statePath: paths.state,
      outboxPath: paths.outbox,
      sinks: [],
      lock: false,
      recover: options.recover ?? false,
    });
    const log = options.logger ?? new Logger();
    const state = await alerter.state();
    const outbox = await alerter.outbox();
    for (
      const [what, file, moved] of [
        ["Alert state", paths.state, state.recoveredFrom],
        ["Outbox", paths.outbox, outbox.recoveredFrom],
      ] as const
    ) {
      if (moved === undefined) continue;
      log.warn("state_recovered", {
        file,
        moved_to: moved,
        error: `${what} file was unreadable: kept as ${moved}, starting fresh (--recover)`,
      });
    }
    const meta = await loadMeta(
      paths.meta,
      log,
      state.records(),
      config.hostLabel,
      (options.now ?? Date.now)(),
    );
    return new Monitor(config, options, meta, outbox.size, ruleSet);
  }

  /** The files this monitor uses. */
  get paths(): MonitorPaths {
    return { ...this.#paths };
  }

  /** The metrics. */
  get metrics(): MonitorMetrics {
    return this.#metrics;
  }

  /** Evaluations run by this process. */
  get evaluations(): number {
    return this.#evaluations;
  }

  /** Replay: `true` when the cursor passed `replayEnd`. */
  get replayDone(): boolean {
    const end = this.#config.replayEnd;
    if (this.#meta.replay === undefined || end === undefined) return false;
    return this.#meta.replay.next > Date.parse(end);
  }

  /** The rules evaluated (see {@linkcode loadMonitorRules}). */
  get rules(): MonitorRuleSet {
    return this.#ruleSet;
  }

  /**
   * Whether the built-in `HostStoppedReporting` is raised, and the rule that
   * made `stoppedReporting: auto` turn it off (see {@linkcode stoppedHostRule}).
   */
  get stoppedReporting(): { enabled: boolean; coveredBy?: string } {
    return { ...this.#stopped };
  }

  /**
   * Time between evaluations in a live run: the `interval` setting, or the
   * shortest group interval when that is shorter (each group is evaluated
   * when its own interval elapsed).
   */
  get tickMs(): number {
    const intervals = this.#evaluator.groups.map((g) => g.intervalMs);
    return Math.min(this.#config.interval * 1000, ...intervals);
  }

  /** The alerts firing now, from the state file. */
  async firingAlerts(): Promise<Alert[]> {
    return (await this.#alerter.state()).firingAlerts();
  }

  #graphLink(expr: string): string {
    return `${this.#graphBase}/graph?g0.expr=${encodeURIComponent(expr)}&g0.tab=0`;
  }

  #evaluationTime(at?: number): number {
    if (at !== undefined) return at;
    if (this.#meta.replay !== undefined) return this.#meta.replay.next;
    return this.#now();
  }

  #context(at: string): NotificationContext {
    return { evaluatedAt: at, query: this.#config.query, graphURL: this.#graphURL };
  }

  /**
   * Rules never evaluated (no state yet) with a `for`: evaluate them at
   * their group's interval over `[at - for, at)`, as a monitor that had been
   * running would have, so the alert is as far along as Prometheus' restored
   * `for` state would be.
   */
  async #warmUp(atMs: number, signal?: AbortSignal): Promise<void> {
    const state = this.#evaluator.state;
    for (const g of this.#evaluator.groups) {
      for (const r of g.rules) {
        if (state.rules[r.key] !== undefined || r.forMs === 0 || r.key.includes("#")) continue;
        const single = new RuleEvaluator(this.#client, [{
          name: g.name,
          interval: g.intervalMs / 1000,
          rules: [r.spec],
        }], { blindAfter: this.#config.ruleBlindAfter });
        const steps = Math.ceil(r.forMs / g.intervalMs);
        for (let k = steps; k >= 1; k--) {
          const past = await single.evaluate(new Date(atMs - k * g.intervalMs), {
            all: true,
            signal,
          });
          // A failed or partial answer cannot be trusted for the past: no warm-up at all
          // (the rule starts fresh, as Prometheus without restored state would).
          if (past.outcomes.some((o) => o.error !== undefined || o.warnings.length > 0)) return;
        }
        const warmed = single.state.rules[r.key];
        if (warmed !== undefined) {
          // The rule's own evaluation at `at` follows; blindness is judged from there.
          delete warmed.blindSince;
          state.rules[r.key] = warmed;
        }
      }
    }
  }

  /**
   * Detect: ask which hosts report, evaluate the rule groups that are due
   * and add the meta-alerts (`HostStoppedReporting`, `MonitoringRuleBlind`,
   * `MonitoringPartial`). Throws (a failed evaluation, states kept) when the
   * host query fails or is empty while hosts were known, or when every rule
   * failed.
   */
  async #detect(atMs: number, at: string, signal?: AbortSignal): Promise<Detection> {
    const c = this.#config;
    const hostLabel = c.hostLabel;
    const probe = await this.#prom.query(c.query, { time: new Date(atMs), signal });
    const present = hostsOf(probe, hostLabel);
    const known = Object.keys(this.#meta.hosts).length;
    if (present.size === 0 && known > 0) {
      // An empty answer is "no data", never "all clear" (nor "every host stopped").
      throw new EmptyResultError(c.query, { when: `at ${at}` });
    }
    const partial = [...probe.warnings];
    this.#metrics.hosts.set({}, present.size);

    this.#client.lastError = undefined;
    await this.#warmUp(atMs, signal);
    const evaluation = await this.#evaluator.evaluate(new Date(atMs), { signal });
    const outcomes = evaluation.outcomes;
    if (outcomes.length > 0 && outcomes.every((o) => o.error !== undefined)) {
      // Every rule failed: a failed evaluation (kind of the query's error), states kept.
      throw this.#client.lastError ?? new Error(outcomes[0].error);
    }
    for (const o of outcomes) {
      for (const w of o.warnings) if (!partial.includes(w)) partial.push(w);
    }

    // Hosts that were reporting and are gone; a partial answer cannot tell.
    const stopped: Alert[] = [];
    for (const h of present) this.#meta.hosts[h] = { labels: { [hostLabel]: h }, lastSeen: atMs };
    const stillStopped = new Map<string, Alert>();
    if (probe.warnings.length > 0 || !this.#stopped.enabled) {
      for (const a of await this.firingAlerts()) {
        if (a.labels.alertname === "HostStoppedReporting") {
          stillStopped.set(a.labels[hostLabel] ?? "", a);
        }
      }
    }
    for (const [h, info] of Object.entries(this.#meta.hosts)) {
      if (present.has(h)) continue;
      if (probe.warnings.length > 0) {
        // Absent from a partial answer: keep its state, firing or not.
        const kept = stillStopped.get(h);
        if (kept !== undefined) stopped.push(kept);
        continue;
      }
      if (atMs - info.lastSeen > HOST_FORGET_MS) {
        delete this.#meta.hosts[h];
        continue;
      }
      if (!this.#stopped.enabled) {
        // Covered by a rule (or turned off): no new alert; one already firing (raised before
        // the rule was loaded) stays until the host is back, never a false "resolved".
        const kept = stillStopped.get(h);
        if (kept !== undefined) stopped.push(kept);
        continue;
      }
      const labels: Labels = {
        alertname: "HostStoppedReporting",
        [hostLabel]: h,
        severity: "warning",
      };
      stopped.push({
        labels,
        annotations: {
          summary: `Host ${h} stopped reporting`,
          description: `No data from ${h} since ${new Date(info.lastSeen).toISOString()}`,
        },
        value: (atMs - info.lastSeen) / 1000,
        startsAt: at,
        status: "firing",
        fingerprint: fingerprint(labels),
      });
    }
    return {
      alerts: [...evaluation.firing, ...stopped, ...this.#ruleBlindAlerts(atMs, at)],
      evaluation,
      partial,
    };
  }

  /** `MonitoringRuleBlind` for each rule whose selectors never matched for `ruleBlindAfter`. */
  #ruleBlindAlerts(atMs: number, at: string): Alert[] {
    const out: Alert[] = [];
    const after = this.#config.ruleBlindAfter * 1000;
    for (const g of this.#evaluator.groups) {
      for (const r of g.rules) {
        const since = this.#evaluator.state.rules[r.key]?.blindSince;
        if (since === undefined || atMs - since < after) continue;
        const labels: Labels = {
          alertname: "MonitoringRuleBlind",
          rule: r.name,
          rulegroup: g.name,
          severity: "warning",
        };
        out.push({
          labels,
          annotations: {
            summary: `Rule ${r.name} is blind: its query has never returned a series`,
            description: `The selectors of ${r.name} (group ${g.name}) have matched no series ` +
              `since ${new Date(since).toISOString()}: a misspelled metric or label, or an ` +
              `exporter that is not scraped. Expression: ${r.expr}`,
          },
          value: (atMs - since) / 1000,
          startsAt: at,
          status: "firing",
          fingerprint: fingerprint(labels),
        });
      }
    }
    return out;
  }

  #blindAlert(at: string, error: string): Alert {
    const labels: Labels = { alertname: "MonitoringBlind", severity: "critical" };
    return {
      labels,
      annotations: {
        summary: "Monitoring is blind: Prometheus cannot be queried",
        description: `${this.#meta.failures} evaluations in a row failed; last error: ${error}`,
      },
      value: this.#meta.failures,
      startsAt: at,
      status: "firing",
      fingerprint: fingerprint(labels),
    };
  }

  #partialAlert(at: string, warnings: string[]): Alert {
    const labels: Labels = { alertname: "MonitoringPartial", severity: "warning" };
    return {
      labels,
      annotations: {
        summary: "Monitoring sees a partial answer: some hosts are not evaluated",
        description: `${this.#meta.partials} evaluations in a row got a partial answer; ` +
          `alerts of hosts missing from it keep their state. Warnings: ${warnings.join("; ")}`,
      },
      value: this.#meta.partials ?? 0,
      startsAt: at,
      status: "firing",
      fingerprint: fingerprint(labels),
    };
  }

  /** Log each rule problem and set the per-rule gauges. */
  #reportRules(evaluation: RulesEvaluation): void {
    const m = this.#metrics;
    for (const o of evaluation.outcomes) {
      m.ruleSeries.set({ rule: o.rule }, o.series);
      const kinds = new Set(
        evaluation.problems.filter((p) => p.rule === o.rule).map((p) => p.kind as string),
      );
      for (const kind of ["error", "partial", "no data", "blind"]) {
        m.ruleProblem.set({ rule: o.rule, kind }, kinds.has(kind) ? 1 : 0);
      }
    }
    for (const p of evaluation.problems) {
      this.#log.warn("rule_problem", {
        rule: p.rule,
        kind: p.kind,
        evaluated_at: evaluation.evaluatedAt,
        error: p.reason,
      });
    }
  }

  /**
   * Run one evaluation: query, evaluate the rules, update the state, queue
   * and deliver. Never throws for a Prometheus or sink failure: it returns
   * `ok: false` and counts the failure (which may fire `MonitoringBlind`).
   * Throws only when the state or outbox file cannot be written.
   */
  async runEvaluation(options: RunEvaluationOptions = {}): Promise<EvaluationResult> {
    const started = performance.now();
    const c = this.#config;
    const atMs = this.#evaluationTime(options.at);
    const at = new Date(atMs).toISOString();
    let ok = true;
    let kind: string | undefined;
    let message: string | undefined;
    let alerts: Alert[] = [];
    let detection: Detection | undefined;
    const queryStart = performance.now();
    let queryMs = 0;
    const hostsBefore = structuredClone(this.#meta.hosts);
    const rulesBefore = structuredClone(this.#evaluator.state);
    try {
      detection = await this.#detect(atMs, at, options.signal);
      alerts = detection.alerts;
      queryMs = performance.now() - queryStart;
    } catch (error) {
      queryMs = performance.now() - queryStart;
      this.#meta.hosts = hostsBefore;
      // Nothing of a failed evaluation is kept: the same time can be evaluated again.
      Object.assign(this.#evaluator.state, rulesBefore);
      if (options.signal?.aborted) throw error;
      ok = false;
      kind = errorKind(error);
      message = (error as Error)?.message ?? String(error);
    }

    if (ok) {
      this.#meta.failures = 0;
      const partial = detection!.partial;
      if (partial.length > 0) {
        this.#meta.partials = (this.#meta.partials ?? 0) + 1;
        this.#metrics.partial.inc();
        if (this.#meta.partials >= c.blindAfter) alerts.push(this.#partialAlert(at, partial));
      } else {
        delete this.#meta.partials;
      }
    } else {
      this.#meta.failures++;
      // Keep what fires (we cannot tell it resolved) and add the blind alert after N failures.
      alerts = (await this.firingAlerts()).filter((a) => a.labels.alertname !== "MonitoringBlind");
      if (this.#meta.failures >= c.blindAfter) alerts.push(this.#blindAlert(at, message!));
    }
    const contexts: Record<string, Partial<NotificationContext>> = {};
    for (const [name, ctx] of Object.entries(detection?.evaluation.contexts ?? {})) {
      contexts[name] = { ...ctx, graphURL: ctx.query ? this.#graphLink(ctx.query) : undefined };
    }
    // The alerter queues (outbox file) before it saves the state, then delivers.
    let report;
    try {
      report = await this.#alerter.evaluate(alerts, {
        now: at,
        context: this.#context(at),
        contexts,
        signal: options.signal,
      });
    } catch (error) {
      if (options.signal?.aborted) {
        // Stopped during delivery: both files are consistent; the cursor is saved so the
        // next start continues after this evaluation (a re-run would be idempotent too).
        if (ok && this.#meta.replay !== undefined) {
          this.#meta.replay.next = atMs + c.replayStep * 1000;
        }
        await saveMeta(this.#paths.meta, this.#meta).catch(() => {});
      }
      throw error;
    }
    if (ok && this.#meta.replay !== undefined) this.#meta.replay.next = atMs + c.replayStep * 1000;
    await saveMeta(this.#paths.meta, this.#meta);

    const sent = report.sent.length;
    const failed = report.failed.length;
    for (const n of report.sent) this.#metrics.sent.inc({ receiver: n.receiver });
    for (const f of report.failed) {
      this.#metrics.failed.inc({ receiver: f.receiver });
      this.#log.warn("delivery_failed", {
        receiver: f.receiver,
        notification: f.notification.id,
        retriable: f.retriable,
        retry_at: f.retryAt,
        error: f.error,
      });
    }
    const update = report;
    const durationMs = performance.now() - started;
    const m = this.#metrics;
    this.#evaluations++;
    m.evaluations.inc({ result: ok ? "success" : "failure" });
    if (ok) m.lastSuccess.set({}, this.#now() / 1000);
    else m.errors.inc({ kind: kind! });
    m.duration.set({}, durationMs / 1000);
    m.outbox.set({}, report.queued);
    m.dead.set({}, report.deadLetters.length);
    m.consecutiveFailures.set({}, this.#meta.failures);
    const byName = new Map<string, number>();
    for (const a of update.firing) {
      byName.set(a.labels.alertname, (byName.get(a.labels.alertname) ?? 0) + 1);
    }
    for (const name of [...this.#ruleNames, ...META_ALERTS]) {
      m.firing.set({ alertname: name }, byName.get(name) ?? 0);
    }
    if (detection !== undefined) this.#reportRules(detection.evaluation);
    if (detection !== undefined && detection.partial.length > 0) {
      this.#log.warn("partial_answer", {
        evaluated_at: at,
        evaluations_in_a_row: this.#meta.partials,
        error: `Partial answer (${detection.partial.join("; ")}): alerts of hosts absent ` +
          "from it keep their state",
      });
    }
    const result: EvaluationResult = {
      evaluatedAt: at,
      ok,
      hosts: ok ? m.hosts.get() : 0,
      firing: update.firing.length,
      transitions: update.transitions,
      sent,
      failed,
      queued: report.queued,
      durationMs,
      queryMs,
    };
    if (!ok) {
      result.errorKind = kind;
      result.error = message;
    }
    for (const t of update.transitions) {
      this.#log.info("transition", {
        kind: t.kind,
        alertname: t.alert.labels.alertname,
        host: t.alert.labels[c.hostLabel],
        value: Number.isFinite(t.alert.value) ? Math.round(t.alert.value * 100) / 100 : undefined,
        summary: t.alert.annotations.summary,
        fingerprint: t.alert.fingerprint,
        evaluated_at: at,
      });
    }
    this.#log.log(ok ? "info" : "error", "evaluation", {
      evaluated_at: at,
      ok,
      hosts: result.hosts,
      rules: detection?.evaluation.outcomes.length,
      firing: result.firing,
      transitions: update.transitions.length,
      sent,
      failed,
      queued: result.queued,
      duration_ms: Math.round(durationMs),
      error_kind: kind,
      error: message,
    });
    return result;
  }

  /**
   * Evaluate every {@linkcode tickMs} (every `interval` in a replay) until
   * `signal` aborts (or a replay passes its end). An abort during an
   * evaluation cuts its query or delivery short; state and outbox stay
   * consistent on disk.
   */
  async run(options: { signal?: AbortSignal } = {}): Promise<void> {
    const signal = options.signal;
    const intervalMs = this.#meta.replay !== undefined ? this.#config.interval * 1000 : this.tickMs;
    while (!signal?.aborted && !this.replayDone) {
      const started = performance.now();
      try {
        await this.runEvaluation({ signal });
      } catch (error) {
        if (signal?.aborted) break;
        // A state write failed (disk full?): log, count, and try again next time.
        this.#metrics.errors.inc({ kind: errorKind(error) });
        this.#log.error("evaluation_crashed", {
          error_kind: errorKind(error),
          error: (error as Error)?.message ?? String(error),
        });
      }
      this.#after();
      const wait = Math.max(0, intervalMs - (performance.now() - started));
      await delay(wait, signal);
    }
  }
}
