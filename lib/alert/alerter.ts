/**
 * The alerting flow of one evaluation: the alerts whose condition holds now
 * go through the persistent {@linkcode AlertState} (pending → firing →
 * resolved, repeat interval), the resulting changes become one grouped
 * notification per receiver and `alertname`, are written to the durable
 * {@linkcode Outbox}, and the outbox is delivered to the sinks.
 *
 * @module
 */

import { acquireLock } from "../_internal/lock.ts";
import { fingerprint, type Labels } from "../labels.ts";
import { type DurationInput, parseDuration, type TimeInput, toMillis } from "../time.ts";
import type { FrameCheck } from "./model.ts";
import { type DeadLetter, type FailedDelivery, orderAlerts, Outbox } from "./outbox.ts";
import { type AlertRecord, AlertState, type Transition } from "./state.ts";
import type { Alert, Notification, NotificationContext, NotificationKind, Sink } from "./types.ts";
import type { Router } from "./route.ts";

/**
 * Options of the {@linkcode Alerter} constructor.
 *
 * @example
 * ```ts
 * import { Alerter, type AlerterOptions, DryRunSink } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const options: AlerterOptions = {
 *   statePath: `${dir}/alerts.json`,
 *   sinks: [new DryRunSink({ write: () => {} })],
 *   repeatInterval: "4h",
 *   pendingFor: "5m",
 * };
 * const report = await new Alerter(options).evaluate([], { now: "2026-11-01T10:00:00Z" });
 * assert.deepEqual(report.firing, []);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export interface AlerterOptions {
  /** The state file, e.g. `state/alerts.json`. */
  statePath: string;
  /**
   * The outbox file.
   * @default {the state path with `.outbox.json` instead of `.json`}
   */
  outboxPath?: string;
  /** Where notifications go. Names must be unique. */
  sinks: readonly Sink[];
  /**
   * How long a firing alert stays quiet before a repeat notification.
   * @default {"4h"}
   */
  repeatInterval?: DurationInput;
  /** A different repeat interval per group (`alertname`), e.g. `{ HostCpuTrend: "24h" }`. */
  groupRepeatInterval?: Record<string, DurationInput>;
  /**
   * How long a condition must hold before it fires (Prometheus' `for:`).
   * @default {0}
   */
  pendingFor?: DurationInput;
  /**
   * Queued notifications older than this are collapsed into one `delayed`
   * notification per receiver.
   * @default {"1h"}
   */
  staleAfter?: DurationInput;
  /**
   * Set a corrupted state or outbox file aside (`*.corrupt-<time>`) and start
   * fresh instead of throwing.
   * @default {false}
   */
  recover?: boolean;
  /**
   * The lock file held during an evaluation (one writer at a time), or
   * `false` when the caller already holds its own lock for the state.
   * @default {the state path + `.alerter.lock`}
   */
  lock?: string | false;
  /**
   * Which receivers (sink names) get an alert, from its labels (see
   * {@linkcode compileRoute}); each receiver's notifications list only its
   * alerts.
   * @default {every receiver gets every alert}
   */
  route?: Router;
}

/**
 * Options of {@linkcode Alerter.evaluate}.
 *
 * @example
 * ```ts
 * import { Alerter, type EvaluateOptions } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const alerter = new Alerter({ statePath: `${dir}/alerts.json`, sinks: [] });
 * const options: EvaluateOptions = {
 *   now: "2026-11-01T10:00:00Z",
 *   context: { query: "up == 0", threshold: 0 },
 * };
 * const report = await alerter.evaluate([], options);
 * assert.equal(report.evaluatedAt, "2026-11-01T10:00:00.000Z");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export interface EvaluateOptions {
  /**
   * The evaluation time.
   * @default {new Date()}
   */
  now?: TimeInput;
  /** Context shown with every notification (query, threshold, unit, graph link). */
  context?: Partial<NotificationContext>;
  /** Context per group (`alertname`), merged over `context`. */
  contexts?: Record<string, Partial<NotificationContext>>;
  /**
   * The data check of the evaluated frame, copied into the report. When it
   * has `warnings` (the answer was partial: a store or a fleet member was
   * unavailable) or `noData`, firing and pending alerts absent from `alerts`
   * keep their state: a partial or empty answer is never all-clear.
   */
  check?: Pick<FrameCheck, "noData" | "missing"> & { warnings?: readonly string[] };
  /**
   * What an alert absent from `alerts` means (see `UpdateOptions.absent`).
   * @default {"hold" when `check` has warnings or no data, else "resolve"}
   */
  absent?: "resolve" | "hold";
  /** Abort the deliveries. */
  signal?: AbortSignal;
}

/**
 * What one evaluation did.
 *
 * @example
 * ```ts
 * import { Alerter, DryRunSink, type EvaluationReport, fingerprint } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const alerter = new Alerter({
 *   statePath: `${dir}/alerts.json`,
 *   sinks: [new DryRunSink({ write: () => {} })],
 * });
 * const labels = { alertname: "HostHighCpu", instance: "db-01:9100" };
 * const alert = {
 *   labels,
 *   annotations: { summary: "CPU 95 % on db-01:9100" },
 *   value: 95,
 *   startsAt: "2026-11-01T10:05:00Z",
 *   status: "firing" as const,
 *   fingerprint: fingerprint(labels),
 * };
 * const report: EvaluationReport = await alerter.evaluate([alert], { now: "2026-11-01T10:05:00Z" });
 * assert.deepEqual(
 *   [report.firing.length, report.sent.length, report.failed.length, report.partial],
 *   [1, 1, 0, false],
 * );
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export interface EvaluationReport {
  /** The evaluation time, RFC 3339. */
  evaluatedAt: string;
  /** Every alert firing after this evaluation. */
  firing: Alert[];
  /** Alerts waiting for `pendingFor`. */
  pending: Alert[];
  /** Alerts resolved in this evaluation. */
  resolved: Alert[];
  /** The state changes of this evaluation. */
  transitions: Transition[];
  /** Notifications queued by this evaluation. */
  notifications: Notification[];
  /** Notifications acknowledged by their sink in this evaluation (older ones included). */
  sent: Notification[];
  /** Deliveries that failed in this evaluation. */
  failed: FailedDelivery[];
  /** `delayed` notifications made by collapsing stale ones. */
  collapsed: Notification[];
  /** Notifications still in the outbox. */
  queued: number;
  /** Every dead letter kept in the outbox (refused for good; fix and requeue). */
  deadLetters: DeadLetter[];
  /** The evaluated frame had no rows: "no data", not "all clear". */
  noData: boolean;
  /** Series with missing data (NaN or null): never alerted on. */
  missing: Labels[];
  /** The answer was partial (`check.warnings`): absent alerts kept their state. */
  partial: boolean;
  /** The warnings of a partial answer, as given in `check.warnings`. */
  warnings: string[];
  /** Absent alerts kept their state (a partial or empty answer), none resolved for being absent. */
  held: boolean;
}

function defaultOutboxPath(statePath: string): string {
  return statePath.endsWith(".json")
    ? `${statePath.slice(0, -5)}.outbox.json`
    : `${statePath}.outbox.json`;
}

function parentDir(path: string): string {
  const i = path.lastIndexOf("/");
  return i < 0 ? "." : i === 0 ? "/" : path.slice(0, i);
}

function seconds(name: string, d: DurationInput): number {
  try {
    return parseDuration(d);
  } catch (error) {
    throw new RangeError(`Invalid ${name}: ${(error as Error).message}`);
  }
}

interface GroupChanges {
  started: Alert[];
  repeated: Alert[];
  resolved: Alert[];
}

/**
 * Combines the state store, the outbox and the sinks. Each
 * {@linkcode evaluate} loads both files from disk, so a restart or a new
 * `Alerter` over the same files (the next headless notebook run) continues
 * where the last one stopped: it neither re-sends nor forgets.
 *
 * One writer at a time: an evaluation holds a lock file, and a second
 * process evaluating over the same state gets a `LockError`.
 *
 * Per evaluation, each receiver gets at most one notification per group
 * (`alertname`), listing the alerts of that group that started firing,
 * repeat, or resolved. Sinks with `resendFiring` (Alertmanager) get every
 * firing alert of the group at every evaluation, plus the resolved ones.
 *
 * @example Evaluate twice: one notification, then none
 * ```ts
 * import { Alerter, DryRunSink, fingerprint } from "opsbook";
 *
 * const dir = await Deno.makeTempDir();
 * const sink = new DryRunSink({ write: () => {} });
 * const alerter = new Alerter({ statePath: `${dir}/alerts.json`, sinks: [sink] });
 * const labels = { alertname: "HostHighCpu", instance: "db-01:9100" };
 * const alert = {
 *   labels, annotations: { summary: "CPU 95 % on db-01:9100" }, value: 95,
 *   startsAt: "2026-11-01T10:05:00Z", status: "firing" as const, fingerprint: fingerprint(labels),
 * };
 * const first = await alerter.evaluate([alert], { now: "2026-11-01T10:05:00Z" });
 * const second = await alerter.evaluate([alert], { now: "2026-11-01T10:10:00Z" });
 * console.log(first.sent.length, second.sent.length); // 1 0
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class Alerter {
  #statePath: string;
  #outboxPath: string;
  #sinks: readonly Sink[];
  #repeatMs: number;
  #groupRepeatMs: Map<string, number>;
  #pendingFor: number;
  #staleAfter: number;
  #recover: boolean;
  #lock: string | false;
  #route: Router | undefined;

  /** Creates an alerter; options are validated here, files are read at each evaluation. */
  constructor(options: AlerterOptions) {
    if (typeof options?.statePath !== "string" || options.statePath === "") {
      throw new TypeError("Invalid statePath: expected a file path");
    }
    const names = new Set<string>();
    for (const sink of options.sinks ?? []) {
      if (typeof sink?.name !== "string" || sink.name === "") {
        throw new TypeError("Invalid sink: every sink needs a non-empty name");
      }
      if (names.has(sink.name)) throw new TypeError(`Invalid sinks: duplicate name: ${sink.name}`);
      names.add(sink.name);
    }
    this.#statePath = options.statePath;
    this.#outboxPath = options.outboxPath ?? defaultOutboxPath(options.statePath);
    this.#sinks = [...(options.sinks ?? [])];
    this.#repeatMs = seconds("repeatInterval", options.repeatInterval ?? "4h") * 1000;
    this.#groupRepeatMs = new Map(
      Object.entries(options.groupRepeatInterval ?? {}).map((
        [g, d],
      ) => [g, seconds(`repeatInterval of ${g}`, d) * 1000]),
    );
    this.#pendingFor = seconds("pendingFor", options.pendingFor ?? 0);
    this.#staleAfter = seconds("staleAfter", options.staleAfter ?? "1h");
    this.#recover = options.recover ?? false;
    this.#lock = options.lock === undefined ? `${options.statePath}.alerter.lock` : options.lock;
    this.#route = options.route;
  }

  /** The state file. */
  get statePath(): string {
    return this.#statePath;
  }

  /** The outbox file. */
  get outboxPath(): string {
    return this.#outboxPath;
  }

  /** Loads the state from disk (e.g. to show a table of alert states). */
  state(): Promise<AlertState> {
    return AlertState.load(this.#statePath, { recover: this.#recover });
  }

  /** Fingerprints of the alerts firing now, from disk (for hysteresis rules). */
  async firing(): Promise<ReadonlySet<string>> {
    return (await this.state()).firing;
  }

  /** Every alert record, from disk. */
  async records(): Promise<AlertRecord[]> {
    return (await this.state()).records();
  }

  /** Loads the outbox from disk. */
  outbox(): Promise<Outbox> {
    return Outbox.load(this.#outboxPath, { recover: this.#recover });
  }

  /**
   * Runs one evaluation: `alerts` are the conditions that hold now (every
   * firing alert not among them resolves). Creates the folders of the state
   * and outbox files when missing. Queues the notifications, saves
   * the state, delivers the outbox, and reports what happened. Delivery
   * failures are reported, not thrown; a corrupted file or a held lock throws.
   */
  async evaluate(
    alerts: readonly Alert[],
    options: EvaluateOptions = {},
  ): Promise<EvaluationReport> {
    const nowMs = options.now === undefined ? Date.now() : toMillis(options.now);
    const evaluatedAt = new Date(nowMs).toISOString();
    // A first run (or a removed results folder): create the folders of the
    // state, the outbox and the lock instead of failing on the lock file.
    const files = [
      this.#statePath,
      this.#outboxPath,
      ...(this.#lock === false ? [] : [this.#lock]),
    ];
    for (const dir of new Set(files.map(parentDir))) await Deno.mkdir(dir, { recursive: true });
    const lock = this.#lock === false ? undefined : acquireLock(this.#lock);
    try {
      const state = await this.state();
      const outbox = await this.outbox();
      const warnings = [...(options.check?.warnings ?? [])];
      const noData = options.check?.noData ?? false;
      const absent = options.absent ??
        (warnings.length > 0 || noData ? "hold" : "resolve");
      const update = state.update(alerts, {
        now: evaluatedAt,
        absent,
        pendingFor: this.#pendingFor,
        repeatInterval: (a) =>
          (this.#groupRepeatMs.get(a.labels.alertname) ?? this.#repeatMs) / 1000,
      });
      const notifications = this.#notifications(update.transitions, update.firing, {
        evaluatedAt,
        context: options.context,
        contexts: options.contexts,
      });
      // Outbox first: a crash before the state is saved re-runs this evaluation's
      // transitions with the same ids, which the outbox de-duplicates.
      const plain = notifications.filter((n) => !this.#resends(n.receiver));
      const snapshots = notifications.filter((n) => this.#resends(n.receiver));
      await outbox.enqueue(plain);
      await outbox.enqueue(snapshots, { supersede: true });
      if (state.dirty) await state.save();
      const delivery = await outbox.deliver(this.#sinks, {
        now: evaluatedAt,
        staleAfter: this.#staleAfter,
        signal: options.signal,
      });
      return {
        evaluatedAt,
        firing: update.firing,
        pending: update.pending,
        resolved: update.resolved,
        transitions: update.transitions,
        notifications,
        sent: delivery.sent,
        failed: delivery.failed,
        collapsed: delivery.collapsed,
        queued: delivery.queued,
        deadLetters: outbox.deadLetters(),
        noData,
        missing: options.check?.missing ?? [],
        partial: warnings.length > 0,
        warnings,
        held: absent === "hold",
      };
    } finally {
      lock?.release();
    }
  }

  #resends(receiver: string): boolean {
    return this.#sinks.find((s) => s.name === receiver)?.resendFiring === true;
  }

  #notifications(
    transitions: Transition[],
    firing: Alert[],
    opts: {
      evaluatedAt: string;
      context?: Partial<NotificationContext>;
      contexts?: Record<string, Partial<NotificationContext>>;
    },
  ): Notification[] {
    const groups = new Map<string, GroupChanges>();
    const group = (name: string) => {
      let g = groups.get(name);
      if (g === undefined) groups.set(name, g = { started: [], repeated: [], resolved: [] });
      return g;
    };
    for (const t of transitions) {
      const g = group(t.alert.labels.alertname);
      if (t.kind === "firing") g.started.push(t.alert);
      else if (t.kind === "repeat") g.repeated.push(t.alert);
      else g.resolved.push(t.alert);
    }
    const firingByGroup = new Map<string, Alert[]>();
    for (const a of firing) {
      const name = a.labels.alertname;
      const list = firingByGroup.get(name) ?? [];
      list.push(a);
      firingByGroup.set(name, list);
    }
    const names = [...new Set([...groups.keys(), ...firingByGroup.keys()])].sort();
    const out: Notification[] = [];
    for (const sink of this.#sinks) {
      for (const name of names) {
        const all = groups.get(name) ?? { started: [], repeated: [], resolved: [] };
        // Only the alerts routed to this receiver.
        const route = this.#route;
        const mine = (list: Alert[]) =>
          route === undefined ? list : list.filter((a) => route(a.labels).includes(sink.name));
        const g = {
          started: mine(all.started),
          repeated: mine(all.repeated),
          resolved: mine(all.resolved),
        };
        let alerts: Alert[];
        let kind: NotificationKind;
        if (sink.resendFiring) {
          alerts = [...mine(firingByGroup.get(name) ?? []), ...g.resolved];
          kind = g.started.length > 0 ? "firing" : g.resolved.length > 0 ? "resolved" : "repeat";
        } else {
          alerts = [...g.started, ...g.repeated, ...g.resolved];
          kind = g.started.length > 0 ? "firing" : g.repeated.length > 0 ? "repeat" : "resolved";
        }
        if (alerts.length === 0) continue;
        const context: NotificationContext = {
          ...opts.context,
          ...opts.contexts?.[name],
          evaluatedAt: opts.evaluatedAt,
        };
        out.push({
          id: fingerprint({ receiver: sink.name, group: name, kind, at: opts.evaluatedAt }),
          receiver: sink.name,
          group: name,
          kind,
          alerts: orderAlerts(alerts),
          createdAt: opts.evaluatedAt,
          context,
        });
      }
    }
    return out;
  }
}
