/**
 * The alert model shared by the state store, the outbox and every sink: the
 * Alertmanager model, where an alert is identified by the fingerprint of its
 * sorted label set (see {@linkcode fingerprint}).
 *
 * @module
 */

import type { Labels } from "../labels.ts";
import { OpsbookError } from "../errors.ts";

/**
 * Whether an alert is active or over.
 *
 * @example
 * ```ts
 * import type { Alert, AlertStatus } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const status = (a: Pick<Alert, "endsAt">): AlertStatus => a.endsAt ? "resolved" : "firing";
 * assert.equal(status({ endsAt: "2026-11-01T12:00:00Z" }), "resolved");
 * ```
 */
export type AlertStatus = "firing" | "resolved";

/**
 * One alert: a condition on one series.
 *
 * @example
 * ```ts
 * import { type Alert, fingerprint, formatNotification } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const labels = { alertname: "HostHighCpu", instance: "db-01:9100" };
 * const alert: Alert = {
 *   labels,
 *   annotations: { summary: "CPU 95 % on db-01:9100" },
 *   value: 95,
 *   startsAt: "2026-11-01T10:05:00Z",
 *   status: "firing",
 *   fingerprint: fingerprint(labels),
 * };
 * const text = formatNotification({
 *   id: "n1", receiver: "dry-run", group: "HostHighCpu", kind: "firing", alerts: [alert],
 *   createdAt: "2026-11-01T10:05:00Z", context: { evaluatedAt: "2026-11-01T10:05:00Z" },
 * });
 * assert.ok(text.startsWith("[FIRING] HostHighCpu: 1 alert for dry-run\n"));
 * ```
 */
export interface Alert {
  /** `alertname` plus the series' labels (and rule labels such as `severity`). */
  labels: Labels;
  /** `summary` (one line) and `description`, plus any extra annotations. */
  annotations: { summary: string; description?: string; [name: string]: string | undefined };
  /** The value that made the condition true (or the last value seen when resolved). */
  value: number;
  /** When the condition started firing, RFC 3339. */
  startsAt: string;
  /** When it resolved (RFC 3339); absent while firing. */
  endsAt?: string;
  /** `firing` or `resolved`. */
  status: AlertStatus;
  /** Fingerprint of `labels` (16 hex digits). */
  fingerprint: string;
  /** Link to the query in Prometheus' graph UI. */
  generatorURL?: string;
}

/**
 * Why a notification is sent.
 *
 * @example
 * ```ts
 * import { formatNotification, type NotificationKind } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const kind: NotificationKind = "resolved";
 * const text = formatNotification({
 *   id: "n1", receiver: "dry-run", group: "HostHighCpu", kind, alerts: [],
 *   createdAt: "2026-11-01T12:05:00Z", context: { evaluatedAt: "2026-11-01T12:05:00Z" },
 * });
 * assert.ok(text.startsWith("[RESOLVED] HostHighCpu"));
 * ```
 */
export type NotificationKind = "firing" | "repeat" | "resolved" | "delayed";

/**
 * Context shown with a notification: what was evaluated, when, against what.
 *
 * @example
 * ```ts
 * import { formatNotification, type NotificationContext } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const context: NotificationContext = {
 *   evaluatedAt: "2026-11-01T10:05:00Z",
 *   threshold: 80,
 *   unit: "%",
 * };
 * const text = formatNotification({
 *   id: "n1", receiver: "dry-run", group: "HostHighCpu", kind: "firing", alerts: [],
 *   createdAt: "2026-11-01T10:05:00Z", context,
 * });
 * assert.ok(text.includes("threshold 80 %"));
 * ```
 */
export interface NotificationContext {
  /** When the evaluation ran, RFC 3339. */
  evaluatedAt: string;
  /** The PromQL query that was evaluated. */
  query?: string;
  /** The threshold the rule compares with, in the value's unit. */
  threshold?: number;
  /** The value's unit, e.g. `%`. */
  unit?: string;
  /** Link to the query in Prometheus' graph UI. */
  graphURL?: string;
}

/**
 * One message for one receiver: the alerts of one group (one `alertname`)
 * that changed in one evaluation. `id` is stable and unique, so a receiver or
 * the outbox can recognise a repeat delivery.
 *
 * @example Build one by hand, e.g. to test a sink
 * ```ts
 * import { DryRunSink, type Notification } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const notification: Notification = {
 *   id: "0123456789abcdef",
 *   receiver: "dry-run",
 *   group: "HostHighCpu",
 *   kind: "firing",
 *   alerts: [],
 *   createdAt: "2026-11-01T10:05:00Z",
 *   context: { evaluatedAt: "2026-11-01T10:05:00Z" },
 * };
 * const sink = new DryRunSink({ write: () => {} });
 * await sink.send(notification);
 * assert.deepEqual(sink.sent.map((n) => n.id), ["0123456789abcdef"]);
 * ```
 */
export interface Notification {
  /** Unique, stable id (used for de-duplication and the outbox). */
  id: string;
  /** The receiver (sink name) this notification is for. */
  receiver: string;
  /** The group key: the `alertname`. */
  group: string;
  /** Why it is sent. */
  kind: NotificationKind;
  /** The alerts, firing ones first, each with its own status. */
  alerts: Alert[];
  /** When the notification was created, RFC 3339. */
  createdAt: string;
  /** What was evaluated. */
  context: NotificationContext;
  /**
   * Set on kind `delayed`: the outbox collapsed `count` notifications queued
   * since `since` (RFC 3339) into this one ("N notifications were delayed").
   */
  delayed?: { count: number; since: string; ids: string[] };
}

/**
 * Options of {@linkcode Sink.send}.
 *
 * @example Give up after 5 s
 * ```ts
 * import { DryRunSink, type SendOptions } from "opsbook";
 *
 * const options: SendOptions = { signal: AbortSignal.timeout(5_000) };
 * await new DryRunSink({ write: () => {} }).send({
 *   id: "n1", receiver: "dry-run", group: "HostHighCpu", kind: "resolved", alerts: [],
 *   createdAt: "2026-11-01T12:05:00Z", context: { evaluatedAt: "2026-11-01T12:05:00Z" },
 * }, options);
 * ```
 */
export interface SendOptions {
  /** Abort the delivery. */
  signal?: AbortSignal;
}

/**
 * A place notifications go: Slack, Alertmanager, Zammad, a dry-run printer.
 * `send` resolves when the receiver acknowledged the notification and throws
 * a {@linkcode DeliveryError} otherwise.
 *
 * @example A sink of your own
 * ```ts
 * import { Alerter, fingerprint, type Notification, type Sink } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * class ListSink implements Sink {
 *   readonly name = "list";
 *   readonly received: Notification[] = [];
 *   send(notification: Notification): Promise<void> {
 *     this.received.push(notification); // a real sink throws a DeliveryError when it fails
 *     return Promise.resolve();
 *   }
 * }
 * const dir = await Deno.makeTempDir();
 * const sink = new ListSink();
 * const alerter = new Alerter({ statePath: `${dir}/alerts.json`, sinks: [sink] });
 * const labels = { alertname: "HostHighCpu", instance: "db-01:9100" };
 * const alert = {
 *   labels,
 *   annotations: { summary: "CPU 95 % on db-01:9100" },
 *   value: 95,
 *   startsAt: "2026-11-01T10:05:00Z",
 *   status: "firing" as const,
 *   fingerprint: fingerprint(labels),
 * };
 * await alerter.evaluate([alert], { now: "2026-11-01T10:05:00Z" });
 * assert.deepEqual(sink.received.map((n) => n.kind), ["firing"]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export interface Sink {
  /** Receiver name, used in notifications, the outbox and logs (never a secret). */
  readonly name: string;
  /**
   * `true` for sinks that want every firing alert at every evaluation
   * (Alertmanager expects firing alerts to be re-sent regularly) rather
   * than only changes.
   * @default {false}
   */
  readonly resendFiring?: boolean;
  /** Delivers one notification. */
  send(notification: Notification, options?: SendOptions): Promise<void>;
}

/**
 * A notification a sink could not deliver. `retriable` says whether trying
 * again later can help (network, timeout, 429, 5xx) or not (400, 403, 404,
 * 410: the configuration must change). Messages never contain secrets.
 *
 * @example Decide whether to retry
 * ```ts
 * import { DeliveryError } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const error: unknown = new DeliveryError("Slack rejected the message: no_service", {
 *   sink: "slack",
 *   retriable: false,
 *   code: "no_service",
 *   status: 404,
 * });
 * if (error instanceof DeliveryError && !error.retriable) {
 *   // the configuration must change: dead-letter it rather than retry
 *   assert.deepEqual([error.sink, error.code, error.status], ["slack", "no_service", 404]);
 * }
 * ```
 */
export class DeliveryError extends OpsbookError {
  /** The sink's name. */
  readonly sink: string;
  /** Whether a later attempt may succeed. */
  readonly retriable: boolean;
  /** The receiver's own error code (e.g. Slack's `no_service`), when it gave one. */
  readonly code?: string;
  /** HTTP status, when there was a response. */
  readonly status?: number;
  /** Seconds the receiver asked to wait before retrying (`Retry-After`). */
  readonly retryAfter?: number;

  /**
   * Creates a delivery error.
   *
   * @example
   * ```ts
   * import { DeliveryError } from "opsbook";
   * const e = new DeliveryError("Slack rejected the message: no_service", {
   *   sink: "slack", retriable: false, code: "no_service", status: 404,
   * });
   * console.log(e.retriable); // false
   * ```
   */
  constructor(
    message: string,
    options: {
      sink: string;
      retriable: boolean;
      code?: string;
      status?: number;
      retryAfter?: number;
      cause?: unknown;
    },
  ) {
    super(message, { cause: options.cause });
    this.name = "DeliveryError";
    this.sink = options.sink;
    this.retriable = options.retriable;
    this.code = options.code;
    this.status = options.status;
    this.retryAfter = options.retryAfter;
  }
}
