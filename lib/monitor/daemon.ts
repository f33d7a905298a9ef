/**
 * The monitor: every interval, query Prometheus for the frames the shared
 * alert rules of `lib/rules/cpu_rules.ts` need (`HostHighCpu`: sustained above
 * `threshold` for `for`, hysteresis down to `low`; `HostCpuTrend`: a fitted
 * line reaching 100 % within `trendWithin`), evaluate them exactly as the
 * alerting notebook does, update the alert state and deliver the changes
 * through the outbox to the sinks. Two meta-alerts go through the same state
 * and outbox: `MonitoringBlind` after `blindAfter` failed evaluations in a
 * row (resolved on recovery) and `HostStoppedReporting` for a host that was
 * reporting and disappeared (resolved when it is back).
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

import pl from "nodejs-polars";
import { fingerprint, type Labels } from "../labels.ts";
import { type AnyPrometheusClient, FleetClient } from "../prometheus/fleet.ts";
import { parseDuration } from "../time.ts";
import {
  type AlertRule,
  cpuTrendRule,
  evaluateRules,
  highCpuRule,
  ruleRepeatIntervals,
} from "../rules/cpu_rules.ts";
import { Alerter } from "../alert/alerter.ts";
import type { AlertRecord, Transition } from "../alert/state.ts";
import type { Alert, NotificationContext, Sink } from "../alert/types.ts";
import type { Config } from "./config.ts";
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
 * The alert rules the monitor evaluates, built from the settings: the shared
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

/** A range query the monitor makes for one or more rules. */
interface FrameQuery {
  /** The rules evaluated over this frame. */
  rules: string[];
  /** From the evaluation time back to the first sample, in ms. */
  backMs: number;
  /** Step in ms. */
  stepMs: number;
}

/**
 * The range queries for the rules, one per distinct window, finest step
 * first: each covers the closed interval `[at - range, at]` of its rule's
 * `window`. Every rule evaluates its own window of whatever frame it gets
 * (`HostHighCpu` leaves out the sample at `at - range`, like a `[range]`
 * selector; `HostCpuTrend` fits `[at - lookback, at]`), so the monitor, the
 * notebook and the simulation agree without special cases here.
 */
function frameQueries(rules: readonly AlertRule[]): FrameQuery[] {
  const byWindow = new Map<string, FrameQuery>();
  for (const rule of rules) {
    const backMs = parseDuration(rule.window.range) * 1000;
    const stepMs = parseDuration(rule.window.step) * 1000;
    const key = `${backMs}|${stepMs}`;
    const q = byWindow.get(key);
    if (q === undefined) byWindow.set(key, { rules: [rule.name], backMs, stepMs });
    else q.rules.push(rule.name);
  }
  return [...byWindow.values()].sort((a, b) => a.stepMs - b.stepMs || a.backMs - b.backMs);
}

/** Prometheus' lookback delta: a newest sample older than this is no current data. */
const STALE_MS = 5 * 60_000;

/**
 * The hosts that report now: those with a sample at the frame's newest
 * timestamp (the evaluation time on Prometheus; a little earlier on
 * VictoriaMetrics, which hides its newest 30 s), provided that is not older
 * than the lookback delta.
 */
function reportingHosts(frame: pl.DataFrame, hostLabel: string, atMs: number): Set<string> {
  const cols = frame.columns;
  if (frame.height === 0 || !cols.includes(hostLabel) || !cols.includes("timestamp")) {
    return new Set();
  }
  const ts = frame.select(pl.col("timestamp").cast(pl.Int64).alias("t"), pl.col(hostLabel));
  const newest = Number(ts.getColumn("t").max());
  if (!Number.isFinite(newest) || newest < atMs - STALE_MS) return new Set();
  const hosts = ts.filter(pl.col("t").eq(pl.lit(newest))).getColumn(hostLabel).toArray() as (
    | string
    | null
  )[];
  return new Set(hosts.filter((h): h is string => typeof h === "string"));
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
  };
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

/** What one evaluation did. */
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

/** Options of {@linkcode Monitor.open}. */
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
}

/** Options of {@linkcode Monitor.prototype.runEvaluation}. */
export interface RunEvaluationOptions {
  /** Abort the evaluation (the state stays consistent). */
  signal?: AbortSignal;
  /** The evaluation time in ms; default: the replay cursor or the clock. */
  at?: number;
}

const HOST_FORGET_MS = 7 * 24 * 3600 * 1000;
const META_ALERTS = ["HostStoppedReporting", "MonitoringBlind"];

/**
 * One monitor over one state file. Open it, call
 * {@linkcode Monitor.prototype.runEvaluation} (or
 * {@linkcode Monitor.prototype.run}) and close it.
 *
 * @example One evaluation
 * ```ts ignore
 * import { loadConfig, Monitor, PrometheusClient } from "opsbook";
 *
 * const config = loadConfig({ flags: { state: "/tmp/opsbook-state.json" } });
 * const monitor = await Monitor.open(config, {
 *   prometheus: new PrometheusClient({ url: config.prometheusUrl }),
 * });
 * const result = await monitor.runEvaluation();
 * console.log(result.ok, result.hosts, result.firing);
 * ```
 */
export class Monitor {
  #config: Config;
  #prom: AnyPrometheusClient;
  #sinks: readonly Sink[];
  #log: Logger;
  #metrics: MonitorMetrics;
  #now: () => number;
  #after: () => void;
  #paths: MonitorPaths;
  #alerter: Alerter;
  #rules: AlertRule[];
  #queries: FrameQuery[];
  #contexts: Record<string, Partial<NotificationContext>>;
  #graphURL: string;
  #meta: MetaFile;
  #evaluations = 0;

  private constructor(config: Config, options: MonitorOptions, meta: MetaFile, outbox: number) {
    this.#config = config;
    this.#prom = options.prometheus;
    this.#sinks = options.sinks ?? [];
    this.#log = options.logger ?? new Logger();
    this.#metrics = options.metrics ?? createMonitorMetrics();
    this.#now = options.now ?? Date.now;
    this.#after = options.afterEvaluation ?? (() => {});
    this.#paths = monitorPaths(config.state);
    // A fleet links to its first server's graph page.
    const base = (this.#prom instanceof FleetClient ? this.#prom.urls[0] : this.#prom.url)
      .replace(/\/$/, "");
    this.#graphURL = `${base}/graph?g0.expr=${encodeURIComponent(config.query)}&g0.tab=0`;
    this.#rules = monitorRules(config, { graphURL: this.#graphURL });
    this.#queries = frameQueries(this.#rules);
    this.#contexts = Object.fromEntries(this.#rules.map((r) => [r.name, r.context]));
    // `for` is the rule's sustain duration (evaluated over the frame), not a pending period.
    this.#alerter = new Alerter({
      statePath: this.#paths.state,
      outboxPath: this.#paths.outbox,
      sinks: this.#sinks,
      repeatInterval: config.repeatInterval,
      groupRepeatInterval: ruleRepeatIntervals(this.#rules),
      lock: false,
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
   * Load the state, the outbox and the bookkeeping beside `config.state`.
   * Does not take the lock (see `acquireLock`).
   */
  static async open(config: Config, options: MonitorOptions): Promise<Monitor> {
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
    return new Monitor(config, options, meta, outbox.size);
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

  /** The alert rules evaluated (see {@linkcode monitorRules}). */
  get rules(): readonly AlertRule[] {
    return this.#rules;
  }

  /** The alerts firing now, from the state file. */
  async firingAlerts(): Promise<Alert[]> {
    return (await this.#alerter.state()).firingAlerts();
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
   * Detect: query the frames of the rules (one range query per window, in
   * turn), evaluate the rules with the firing fingerprints for hysteresis,
   * and add `HostStoppedReporting` for hosts that were reporting and are gone.
   */
  async #detect(atMs: number, at: string, signal?: AbortSignal): Promise<Alert[]> {
    const c = this.#config;
    const hostLabel = c.hostLabel;
    const frames: Record<string, pl.DataFrame> = {};
    let present: Set<string> | undefined;
    for (const q of this.#queries) {
      const frame = await this.#prom.queryRangeFrame(c.query, {
        start: new Date(atMs - q.backMs),
        end: new Date(atMs),
        step: q.stepMs / 1000,
        signal,
      });
      // The finest frame (the first) tells which hosts report now.
      present ??= reportingHosts(frame, hostLabel, atMs);
      for (const name of q.rules) frames[name] = frame;
    }
    present ??= new Set();
    const known = Object.keys(this.#meta.hosts).length;
    const empty = Object.values(frames).map((f) => f.height === 0 || !f.columns.includes("value"));
    if (empty.every((e) => e) && known === 0) {
      this.#metrics.hosts.set({}, 0);
      return [];
    }
    if (empty.some((e) => e) || (present.size === 0 && known > 0)) {
      // An empty answer is "no data", never "all clear" (nor "every host stopped").
      throw new EmptyResultError(c.query);
    }
    this.#metrics.hosts.set({}, present.size);

    const firing = await this.#alerter.firing();
    const result = evaluateRules(this.#rules, frames, { at: new Date(atMs), firing });

    // Hosts that were reporting and are gone.
    const stopped: Alert[] = [];
    for (const h of present) this.#meta.hosts[h] = { labels: { [hostLabel]: h }, lastSeen: atMs };
    for (const [h, info] of Object.entries(this.#meta.hosts)) {
      if (present.has(h)) continue;
      if (atMs - info.lastSeen > HOST_FORGET_MS) {
        delete this.#meta.hosts[h];
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
    return [...result.alerts, ...stopped];
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

  /**
   * Run one evaluation: query, detect, update the state, queue and deliver.
   * Never throws for a Prometheus or sink failure: it returns `ok: false`
   * and counts the failure (which may fire `MonitoringBlind`). Throws only
   * when the state or outbox file cannot be written.
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
    const queryStart = performance.now();
    let queryMs = 0;
    const hostsBefore = structuredClone(this.#meta.hosts);
    try {
      alerts = await this.#detect(atMs, at, options.signal);
      queryMs = performance.now() - queryStart;
    } catch (error) {
      queryMs = performance.now() - queryStart;
      this.#meta.hosts = hostsBefore;
      if (options.signal?.aborted) throw error;
      ok = false;
      kind = errorKind(error);
      message = (error as Error)?.message ?? String(error);
    }

    if (ok) {
      this.#meta.failures = 0;
    } else {
      this.#meta.failures++;
      // Keep what fires (we cannot tell it resolved) and add the blind alert after N failures.
      alerts = (await this.firingAlerts()).filter((a) => a.labels.alertname !== "MonitoringBlind");
      if (this.#meta.failures >= c.blindAfter) alerts.push(this.#blindAlert(at, message!));
    }
    // The alerter queues (outbox file) before it saves the state, then delivers.
    let report;
    try {
      report = await this.#alerter.evaluate(alerts, {
        now: at,
        context: this.#context(at),
        contexts: this.#contexts,
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
    for (const name of [...this.#rules.map((r) => r.name), ...META_ALERTS]) {
      m.firing.set({ alertname: name }, byName.get(name) ?? 0);
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
        fingerprint: t.alert.fingerprint,
        evaluated_at: at,
      });
    }
    this.#log.log(ok ? "info" : "error", "evaluation", {
      evaluated_at: at,
      ok,
      hosts: result.hosts,
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
   * Evaluate every `interval` until `signal` aborts (or a replay passes its
   * end). An abort during an evaluation cuts its query or delivery short;
   * state and outbox stay consistent on disk.
   */
  async run(options: { signal?: AbortSignal } = {}): Promise<void> {
    const signal = options.signal;
    const intervalMs = this.#config.interval * 1000;
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
