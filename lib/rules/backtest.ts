/**
 * Backtest: what would these rules have done? Every rule is evaluated as of
 * every group evaluation between `start` and `end` (at `start + k·interval`)
 * with one range query per rule (a range query is the instant-query engine
 * at each step), and the answers are replayed through the same state machine
 * as live evaluation.
 *
 * @module
 */

import type { Labels } from "../labels.ts";
import type { RangeResult } from "../prometheus/client.ts";
import { fingerprint } from "../labels.ts";
import { parseSampleValue } from "../prometheus/frame.ts";
import { type DurationInput, parseDuration, type TimeInput, toMillis } from "../time.ts";
import {
  type CompiledRule,
  compileGroups,
  type RuleGroupSpec,
  type TemplateCompiler,
} from "./_compile.ts";
import { PRESENCE_LABEL, presenceQueryAll } from "./_selectors.ts";
import {
  detectorSamples,
  hysteresisSamples,
  isDetectorRule,
  opsbookRepeatInterval,
  rangeableDetectorQuery,
} from "./detector_rules.ts";
import { prefetchingClient } from "./_anomaly_rule.ts";
import { type ActiveAlert, activeAlert, type RuleQueryClient } from "./evaluator.ts";
import { type RuleSample, type RuleState, stepRule } from "./rule_state.ts";

/**
 * Options of {@linkcode backtest}.
 *
 * @example
 * ```ts
 * import { backtest, type BacktestOptions, PrometheusClient } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const prom = new PrometheusClient({ url: Deno.env.get("PROMETHEUS_URL") ?? "http://localhost:9090" });
 * const groups = [{
 *   name: "node",
 *   rules: [{
 *     alert: "HostHighCpu",
 *     expr: '100 - (avg by(instance)(irate(node_cpu_seconds_total{mode="idle"}[5m])) * 100) > 90',
 *     for: "5m",
 *     annotations: { summary: "CPU on {{ $labels.instance }}" },
 *   }],
 * }];
 * const options: BacktestOptions = {
 *   start: "2026-11-01T10:00:00Z",
 *   end: "2026-11-01T11:00:00Z",
 *   interval: "5m",
 *   repeatInterval: "30m", // count the repeats a receiver would get
 * };
 * const { rules } = await backtest(prom, groups, options);
 * assert.equal(rules[0].evaluations, 13);
 * ```
 */
export interface BacktestOptions {
  /** First evaluation time. */
  start: TimeInput;
  /** Last evaluation time (inclusive when on the interval grid). */
  end: TimeInput;
  /**
   * The evaluation interval of groups without `interval`.
   * @default {"1m"}
   */
  interval?: DurationInput;
  /**
   * Repeat interval of firing notifications (as the alerter's), for rules
   * whose `opsbook` annotation sets no `repeat_interval` of their own.
   * @default {"4h"}
   */
  repeatInterval?: DurationInput;
  /**
   * `$externalLabels` in templates.
   * @default {{}}
   */
  externalLabels?: Labels;
  /**
   * `$externalURL` in templates.
   * @default {""}
   */
  externalURL?: string;
  /** Compiles annotation and label templates. @default {the Go-template engine of the rule files} */
  template?: TemplateCompiler;
  /** Progress: called after each rule. */
  onProgress?: (progress: BacktestProgress) => void;
  /** Called after every evaluation of every rule with its active alerts (e.g. to compare with promtool). */
  onEvaluation?: (evaluation: BacktestEvaluation) => void;
  /** Abort the queries. */
  signal?: AbortSignal;
}

/**
 * Progress of a backtest.
 *
 * @example
 * ```ts
 * import { backtest, type BacktestProgress, PrometheusClient } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const prom = new PrometheusClient({ url: Deno.env.get("PROMETHEUS_URL") ?? "http://localhost:9090" });
 * const groups = [{
 *   name: "node",
 *   rules: [{
 *     alert: "HostHighCpu",
 *     expr: '100 - (avg by(instance)(irate(node_cpu_seconds_total{mode="idle"}[5m])) * 100) > 90',
 *     for: "5m",
 *     annotations: { summary: "CPU on {{ $labels.instance }}" },
 *   }],
 * }];
 * const seen: BacktestProgress[] = [];
 * await backtest(prom, groups, {
 *   start: "2026-11-01T10:00:00Z",
 *   end: "2026-11-01T11:00:00Z",
 *   onProgress: (p) => seen.push(p),
 * });
 * assert.deepEqual(seen.at(-1)?.rule, "node/HostHighCpu");
 * ```
 */
export interface BacktestProgress {
  /** Rules done. */
  done: number;
  /** Rules in total. */
  total: number;
  /** The rule just done, `group/alertname`. */
  rule: string;
  /** Evaluations replayed for it. */
  evaluations: number;
}

/**
 * One evaluation of one rule during a backtest.
 *
 * @example
 * ```ts
 * import { backtest, type BacktestEvaluation, PrometheusClient } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const prom = new PrometheusClient({ url: Deno.env.get("PROMETHEUS_URL") ?? "http://localhost:9090" });
 * const groups = [{
 *   name: "node",
 *   rules: [{
 *     alert: "HostHighCpu",
 *     expr: '100 - (avg by(instance)(irate(node_cpu_seconds_total{mode="idle"}[5m])) * 100) > 90',
 *     for: "5m",
 *     annotations: { summary: "CPU on {{ $labels.instance }}" },
 *   }],
 * }];
 * const evaluations: BacktestEvaluation[] = [];
 * await backtest(prom, groups, {
 *   start: "2026-11-01T10:00:00Z",
 *   end: "2026-11-01T10:10:00Z",
 *   interval: "5m",
 *   onEvaluation: (e) => evaluations.push(e),
 * });
 * assert.deepEqual(evaluations.map((e) => e.alerts.map((a) => a.state)), [[], ["pending"], ["firing"]]);
 * ```
 */
export interface BacktestEvaluation {
  /** The rule key. */
  rule: string;
  /** The evaluation time, epoch ms. */
  at: number;
  /** Active alerts after it. */
  alerts: ActiveAlert[];
}

/**
 * One alert instance (one episode of one label set).
 *
 * @example
 * ```ts
 * import { backtest, type BacktestRow, PrometheusClient } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const prom = new PrometheusClient({ url: Deno.env.get("PROMETHEUS_URL") ?? "http://localhost:9090" });
 * const groups = [{
 *   name: "node",
 *   rules: [{
 *     alert: "HostHighCpu",
 *     expr: '100 - (avg by(instance)(irate(node_cpu_seconds_total{mode="idle"}[5m])) * 100) > 90',
 *     for: "5m",
 *     annotations: { summary: "CPU on {{ $labels.instance }}" },
 *   }],
 * }];
 * const result = await backtest(prom, groups, {
 *   start: "2026-11-01T09:00:00Z",
 *   end: "2026-11-01T13:00:00Z",
 *   interval: "1m",
 * });
 * const [row]: BacktestRow[] = result.rows;
 * assert.deepEqual([row.labels.instance, row.activeAt, row.firedAt, row.resolvedAt], [
 *   "ali-hz-db-01:9100",
 *   "2026-11-01T10:01:00Z",
 *   "2026-11-01T10:06:00Z",
 *   "2026-11-01T12:01:00Z",
 * ]);
 * ```
 */
export interface BacktestRow {
  /** The rule key, `group/alertname`. */
  rule: string;
  /** The `alertname`. */
  alertname: string;
  /** The alert's labels, without `alertname`. */
  labels: Labels;
  /** The annotations as expanded when it fired (when it became pending, if it never fired). */
  annotations: Record<string, string>;
  /** Pending since, RFC 3339. */
  activeAt: string;
  /** When it fired, RFC 3339; `null` if it never fired. */
  firedAt: string | null;
  /**
   * When it resolved, RFC 3339 (for one that never fired: when it stopped
   * being pending); `null` while still active at `end`.
   */
  resolvedAt: string | null;
}

/**
 * Per rule: how noisy it would have been.
 *
 * @example
 * ```ts
 * import { backtest, type BacktestRuleSummary, PrometheusClient } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const prom = new PrometheusClient({ url: Deno.env.get("PROMETHEUS_URL") ?? "http://localhost:9090" });
 * const groups = [{
 *   name: "node",
 *   rules: [{
 *     alert: "HostHighCpu",
 *     expr: '100 - (avg by(instance)(irate(node_cpu_seconds_total{mode="idle"}[5m])) * 100) > 90',
 *     for: "5m",
 *     annotations: { summary: "CPU on {{ $labels.instance }}" },
 *   }],
 * }];
 * const result = await backtest(prom, groups, {
 *   start: "2026-11-01T09:00:00Z",
 *   end: "2026-11-01T13:00:00Z",
 *   interval: "1m",
 * });
 * const [summary]: BacktestRuleSummary[] = result.rules;
 * assert.deepEqual([summary.evaluations, summary.notifications, summary.errors], [241, 2, 0]);
 * ```
 */
export interface BacktestRuleSummary {
  /** The rule key. */
  rule: string;
  /** The `alertname`. */
  alertname: string;
  /** Evaluations replayed. */
  evaluations: number;
  /** Alert instances (rows). */
  instances: number;
  /**
   * Notifications the alerter would have sent to one receiver: one per
   * evaluation in which any alert of the rule started firing, repeated
   * or resolved (the alerter groups them per `alertname`).
   */
  notifications: number;
  /** When each of those notifications would have been sent (evaluation times, RFC 3339). */
  notifiedAt: string[];
  /** Alerts that started firing. */
  firing: number;
  /** Alerts that resolved. */
  resolved: number;
  /** Repeat notices (still firing after the rule's `repeat_interval`, else `repeatInterval`). */
  repeats: number;
  /** Evaluations at which the rule failed, with the first error. */
  errors: number;
  /** The first error. */
  firstError?: string;
  /** Evaluations at which an input had no series and absent alerts were held. */
  noData: number;
  /** Warnings of partial answers (the whole range was then treated as partial). */
  warnings: string[];
  /** Set when the rule's selectors never matched anything in the range. */
  blind?: string[];
}

/**
 * What {@linkcode backtest} returns.
 *
 * @example The dataset's 10:00–12:00 incident
 * ```ts
 * import { backtest, type BacktestResult, PrometheusClient } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const prom = new PrometheusClient({ url: Deno.env.get("PROMETHEUS_URL") ?? "http://localhost:9090" });
 * const groups = [{
 *   name: "node",
 *   rules: [{
 *     alert: "HostHighCpu",
 *     expr: '100 - (avg by(instance)(irate(node_cpu_seconds_total{mode="idle"}[5m])) * 100) > 90',
 *     for: "5m",
 *     annotations: { summary: "CPU on {{ $labels.instance }}" },
 *   }],
 * }];
 * const result = await backtest(prom, groups, {
 *   start: "2026-11-01T09:00:00Z",
 *   end: "2026-11-01T13:00:00Z",
 *   interval: "1m",
 * });
 * const r: BacktestResult = result;
 * assert.deepEqual([r.start, r.end, r.rows.length, r.recording], [
 *   "2026-11-01T09:00:00Z",
 *   "2026-11-01T13:00:00Z",
 *   1,
 *   [],
 * ]);
 * ```
 */
export interface BacktestResult {
  /** First and last evaluation times, RFC 3339. */
  start: string;
  /** Last evaluation time replayed. */
  end: string;
  /** One row per alert instance, by `activeAt`, then rule, then labels. */
  rows: BacktestRow[];
  /** One summary per rule. */
  rules: BacktestRuleSummary[];
  /** Recording rules read and not evaluated (the server's job). */
  recording: string[];
}

/** RFC 3339, without milliseconds when they are zero. */
const iso = (ms: number) => new Date(ms).toISOString().replace(".000Z", "Z");

/** The evaluation times of a group: `start + k·interval` up to `end`. */
function stepsOf(start: number, end: number, intervalMs: number): number {
  return end < start ? 0 : Math.floor((end - start) / intervalMs) + 1;
}

interface Bucketed {
  /** Per step, the samples. */
  buckets: RuleSample[][];
  warnings: string[];
}

async function rangeBuckets(
  client: RuleQueryClient,
  rule: CompiledRule,
  expr: string,
  start: number,
  n: number,
  intervalMs: number,
  signal?: AbortSignal,
): Promise<Bucketed> {
  const buckets: RuleSample[][] = Array.from({ length: n }, () => []);
  const result = await client.queryRange(expr, {
    start: new Date(start),
    end: new Date(start + (n - 1) * intervalMs),
    step: intervalMs / 1000,
    signal,
  });
  for (const series of result.result) {
    if (series.values === undefined) continue;
    // One sample object per series and evaluation; labels shared.
    const labels = series.metric;
    let cached: { labels: Labels; fingerprint: string } | undefined;
    if (rule.staticLabels) {
      const l = rule.alertLabels({ labels, value: 0 });
      cached = { labels: l, fingerprint: fingerprint(l) };
    }
    for (const [ts, v] of series.values) {
      const k = Math.round((ts * 1000 - start) / intervalMs);
      if (k < 0 || k >= n) continue;
      buckets[k].push({ labels, value: parseSampleValue(v) ?? NaN, alert: cached });
    }
  }
  return { buckets, warnings: result.warnings };
}

/** Evaluations whose detector windows are fetched by one range query (by window end). */
const WINDOW_BLOCK_MS = 6 * 3_600_000;

/**
 * The client a `trend` or `baseline` rule's detector queries during a
 * backtest: its range query at each evaluation (`[t - span, t]` at `step`)
 * is answered from one range query per block of evaluations and step phase
 * (`(t - span) mod step`), cut to `[t - span, t]`: the same points, so the
 * same answer (a range query is the instant-query engine at each step).
 * Only the current block is kept in memory.
 */
function windowedClient(client: RuleQueryClient): RuleQueryClient {
  const cache = new Map<string, { block: number; result: Promise<RangeResult> }>();
  return {
    query: (q, o) => client.query(q, o),
    async queryRange(q, o) {
      const s = toMillis(o.start), e = toMillis(o.end);
      const stepMs = parseDuration(o.step) * 1000;
      const span = e - s;
      const phase = ((s % stepMs) + stepMs) % stepMs;
      const block = Math.floor(e / WINDOW_BLOCK_MS) * WINDOW_BLOCK_MS;
      const key = `${q}\n${stepMs}\n${span}\n${phase}`;
      let hit = cache.get(key);
      if (hit === undefined || hit.block !== block) {
        // First point at or after block - span on the window's step grid.
        const lo = block - span;
        const from = lo + ((((phase - lo) % stepMs) + stepMs) % stepMs);
        const result = client.queryRange(q, {
          ...o,
          start: new Date(from),
          end: new Date(block + WINDOW_BLOCK_MS),
        });
        hit = { block, result };
        cache.set(key, hit);
      }
      const full = await hit.result;
      const lo = s / 1000 - 1e-6, hi = e / 1000 + 1e-6;
      const result: RangeResult["result"] = [];
      for (const series of full.result) {
        const values = series.values?.filter(([ts]) => ts >= lo && ts <= hi) ?? [];
        if (values.length > 0) result.push({ ...series, values });
      }
      return { ...full, result };
    },
  };
}

/** Per step, which selectors had series (bit i = selector i present). */
async function presenceSteps(
  client: RuleQueryClient,
  rule: CompiledRule,
  start: number,
  n: number,
  intervalMs: number,
  signal?: AbortSignal,
): Promise<Uint8Array[]> {
  const present = rule.selectors.map(() => new Uint8Array(n));
  const result = await client.queryRange(presenceQueryAll(rule.selectors), {
    start: new Date(start),
    end: new Date(start + (n - 1) * intervalMs),
    step: intervalMs / 1000,
    signal,
  });
  for (const s of result.result) {
    const i = Number(s.metric[PRESENCE_LABEL]);
    if (!(i >= 0 && i < present.length)) continue;
    for (const [ts] of s.values ?? []) {
      const k = Math.round((ts * 1000 - start) / intervalMs);
      if (k >= 0 && k < n) present[i][k] = 1;
    }
  }
  return present;
}

/**
 * Replays rule groups over `[start, end]`: every rule as of every evaluation
 * of its group (`start + k·interval`), through the live evaluator's state
 * machine (`for`, `keep_firing_for`, `limit`, no data and partial answers
 * hold states). One range query per rule (the client splits long ranges),
 * plus one for the presence of its input selectors.
 *
 * Returns one row per alert instance and, per rule, the notifications the
 * alerter would have sent (firing + resolved + repeats, grouped per
 * evaluation as the alerter groups them per `alertname`).
 *
 * @example Backtest a rule against a fake client
 * ```ts
 * import { backtest } from "opsbook";
 *
 * const t0 = Date.UTC(2026, 10, 1, 10) / 1000;
 * const client = {
 *   query: () => Promise.reject(new Error("unused")),
 *   queryRange: async (q: string) => ({
 *     resultType: "matrix" as const,
 *     result: q.startsWith("label_replace")
 *       ? [{ metric: { opsbook_selector: "0" }, values: [0, 1, 2, 3, 4].map((k) => [t0 + 60 * k, "1"] as [number, string]) }]
 *       : [{ metric: { instance: "db-01" }, values: [1, 2, 3].map((k) => [t0 + 60 * k, "95"] as [number, string]) }],
 *     warnings: [], infos: [], chunks: 1,
 *   }),
 * };
 * const result = await backtest(client, [{
 *   name: "node",
 *   rules: [{ alert: "HostHighCpu", expr: "cpu > 80", for: "1m" }],
 * }], { start: "2026-11-01T10:00:00Z", end: "2026-11-01T10:04:00Z" });
 * console.log(result.rows[0].firedAt, result.rows[0].resolvedAt, result.rules[0].notifications);
 * // 2026-11-01T10:02:00Z 2026-11-01T10:04:00Z 2
 * ```
 */
export async function backtest(
  client: RuleQueryClient,
  groups: readonly RuleGroupSpec[],
  options: BacktestOptions,
): Promise<BacktestResult> {
  const start = toMillis(options.start);
  const end = toMillis(options.end);
  if (!(end >= start)) {
    throw new RangeError(
      `Invalid range: end (${iso(end)}) is before start (${iso(start)}); pass start <= end`,
    );
  }
  const repeatMs = parseDuration(options.repeatInterval ?? "4h") * 1000;
  const compiled = compileGroups(groups, {
    intervalMs: parseDuration(options.interval ?? "1m") * 1000,
    externalLabels: options.externalLabels ?? {},
    externalURL: options.externalURL ?? "",
    template: options.template,
  });
  const rows: BacktestRow[] = [];
  const summaries: BacktestRuleSummary[] = [];
  const total = compiled.reduce((n, g) => n + g.rules.length, 0);
  let done = 0;
  for (const g of compiled) {
    const n = stepsOf(start, end, g.intervalMs);
    for (const rule of g.rules) {
      const own = opsbookRepeatInterval(rule.spec.opsbook);
      const summary = await replayRule(
        client,
        rule,
        start,
        n,
        g.intervalMs,
        own === undefined ? repeatMs : parseDuration(own) * 1000,
        rows,
        options,
      );
      summaries.push(summary);
      done++;
      options.onProgress?.({ done, total, rule: rule.key, evaluations: n });
    }
  }
  rows.sort((a, b) =>
    a.activeAt < b.activeAt
      ? -1
      : a.activeAt > b.activeAt
      ? 1
      : a.rule < b.rule
      ? -1
      : a.rule > b.rule
      ? 1
      : JSON.stringify(a.labels) < JSON.stringify(b.labels)
      ? -1
      : 1
  );
  const last = compiled.length === 0 ? start : Math.max(
    ...compiled.map((g) => start + (stepsOf(start, end, g.intervalMs) - 1) * g.intervalMs),
  );
  return {
    start: iso(start),
    end: iso(last),
    rows,
    rules: summaries,
    recording: compiled.flatMap((g) => g.recording.map((r) => `${g.name}/${r}`)),
  };
}

async function replayRule(
  client: RuleQueryClient,
  rule: CompiledRule,
  start: number,
  n: number,
  intervalMs: number,
  repeatMs: number,
  rows: BacktestRow[],
  options: BacktestOptions,
): Promise<BacktestRuleSummary> {
  const summary: BacktestRuleSummary = {
    rule: rule.key,
    alertname: rule.name,
    evaluations: n,
    instances: 0,
    notifications: 0,
    notifiedAt: [],
    firing: 0,
    resolved: 0,
    repeats: 0,
    errors: 0,
    noData: 0,
    warnings: [],
  };
  if (n === 0) return summary;
  const state: RuleState = { alerts: {} };
  // Hysteresis decides on its query's value at each evaluation: one range query too.
  const hysteresis = isDetectorRule(rule) ? rangeableDetectorQuery(rule) : undefined;
  const detector = isDetectorRule(rule) && hysteresis === undefined;
  // The anomaly detector reads its samples from one range query too; trend and baseline
  // windows come from block range queries.
  const opsbook = rule.spec.opsbook as Record<string, unknown> | undefined;
  const detectorClient: RuleQueryClient = opsbook?.detector === "anomaly"
    ? prefetchingClient(
      client,
      rule.expr,
      opsbook,
      start,
      start + (n - 1) * intervalMs,
    ) as RuleQueryClient
    : detector
    ? windowedClient(client)
    : client;
  let data: Bucketed | undefined;
  if (!detector) {
    data = await rangeBuckets(
      client,
      rule,
      hysteresis ?? rule.expr,
      start,
      n,
      intervalMs,
      options.signal,
    );
    summary.warnings = data.warnings;
  }
  const partial = (data?.warnings.length ?? 0) > 0;
  let presence: Uint8Array[] | undefined;
  const needPresence = async () =>
    presence ??= rule.selectors.length === 0
      ? []
      : await presenceSteps(client, rule, start, n, intervalMs, options.signal);
  const open = new Map<string, BacktestRow>();
  const lastNotified = new Map<string, number>();
  let anySeries = false;
  for (let k = 0; k < n; k++) {
    const t = start + k * intervalMs;
    let samples: RuleSample[];
    let stepPartial = partial;
    if (detector) {
      try {
        const a = await detectorSamples(detectorClient, rule, t, state, options.signal);
        samples = a.samples;
        if (a.warnings.length > 0) {
          stepPartial = true;
          for (const w of a.warnings) if (!summary.warnings.includes(w)) summary.warnings.push(w);
        }
      } catch (error) {
        if (options.signal?.aborted) throw error;
        summary.errors++;
        summary.firstError ??= (error as Error).message;
        continue;
      }
    } else if (hysteresis !== undefined) samples = hysteresisSamples(rule, data!.buckets[k], state);
    else samples = data!.buckets[k];
    if (samples.length > 0) anySeries = true;
    let absent: "hold" | "resolve" = stepPartial ? "hold" : "resolve";
    if (absent === "resolve" && rule.selectors.length > 0) {
      // Would anything active go? Then ask whether the inputs exist at all.
      let goes = false;
      const active = Object.keys(state.alerts);
      if (active.length > samples.length) goes = true;
      else if (active.length > 0) {
        const here = new Set(
          samples.map((s) => s.alert?.fingerprint ?? fingerprint(rule.alertLabels(s))),
        );
        goes = active.some((fp) => !here.has(fp));
      }
      if (goes) {
        const p = await needPresence();
        if (p.some((bits) => bits[k] === 0)) {
          absent = "hold";
          summary.noData++;
        }
      }
    }
    const step = stepRule(state, rule, t, samples, { absent });
    if (step.error !== undefined) {
      summary.errors++;
      summary.firstError ??= step.error;
    }
    let changed = false;
    for (const tr of step.transitions) {
      const a = tr.alert;
      if (tr.kind === "pending") {
        const { alertname: _, ...labels } = a.labels;
        const row: BacktestRow = {
          rule: rule.key,
          alertname: rule.name,
          labels,
          annotations: a.annotations,
          activeAt: iso(a.activeAt),
          firedAt: null,
          resolvedAt: null,
        };
        open.set(tr.fingerprint, row);
        rows.push(row);
        summary.instances++;
      } else if (tr.kind === "firing") {
        const row = open.get(tr.fingerprint);
        if (row) {
          row.firedAt = iso(t);
          row.annotations = a.annotations;
        }
        lastNotified.set(tr.fingerprint, t);
        summary.firing++;
        changed = true;
      } else {
        const row = open.get(tr.fingerprint);
        if (row) row.resolvedAt = iso(t);
        open.delete(tr.fingerprint);
        if (tr.kind === "resolved") {
          summary.resolved++;
          lastNotified.delete(tr.fingerprint);
          changed = true;
        }
      }
    }
    if (step.error !== undefined && Object.keys(state.alerts).length === 0) {
      // `limit`: every alert was dropped.
      for (const [fp, row] of open) {
        row.resolvedAt = iso(t);
        if (row.firedAt !== null) {
          summary.resolved++;
          changed = true;
        }
        lastNotified.delete(fp);
      }
      open.clear();
    }
    for (const [fp, last] of lastNotified) {
      if (t - last >= repeatMs && state.alerts[fp]?.state === "firing") {
        lastNotified.set(fp, t);
        summary.repeats++;
        changed = true;
      }
    }
    if (changed) {
      summary.notifications++;
      summary.notifiedAt.push(iso(t));
    }
    if (options.onEvaluation) {
      const alerts = Object.keys(state.alerts).sort().map((fp) =>
        activeAlert(rule, fp, state.alerts[fp])
      );
      options.onEvaluation({ rule: rule.key, at: t, alerts });
    }
  }
  if (!anySeries && rule.selectors.length > 0) {
    const p = await needPresence();
    const never = rule.selectors.filter((_, i) => p[i].every((b) => b === 0));
    if (never.length > 0) {
      summary.blind = never.map((s) =>
        s.range === undefined ? s.selector : `${s.selector}[${s.range}]`
      );
    }
  }
  return summary;
}
