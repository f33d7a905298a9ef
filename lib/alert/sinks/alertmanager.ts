/**
 * The Alertmanager sink: `POST /api/v2/alerts` with the notification's
 * alerts, for teams who route through Alertmanager (grouping, silences,
 * inhibition, high availability).
 *
 * @module
 */

import { redactUrl } from "../../errors.ts";
import type { Notification, SendOptions, Sink } from "../types.ts";
import { DeliveryError } from "../types.ts";
import { httpRequest, redact, sinkRetry, statusError, withRetry } from "./_http.ts";
import type { NormalizedRetry, RetryInput } from "../../_internal/http.ts";
import { parseHttpUrl } from "../../_internal/url.ts";
import { formatValue } from "../../_internal/format.ts";

/**
 * One alert as Alertmanager's API v2 takes it (`postableAlert`).
 *
 * @example
 * ```ts
 * import { alertmanagerAlerts, type Notification, type PostableAlert } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const notification: Notification = {
 *   id: "n1", receiver: "slack", group: "HostHighCpu", kind: "firing",
 *   createdAt: "2026-11-01T10:05:00Z", context: { evaluatedAt: "2026-11-01T10:05:00Z" },
 *   alerts: [{
 *     labels: { alertname: "HostHighCpu", instance: "db-01:9100" },
 *     annotations: { summary: "CPU 95 % on db-01:9100" }, value: 95,
 *     startsAt: "2026-11-01T10:05:00Z", status: "firing", fingerprint: "0000000000000001",
 *   }],
 * };
 * const body: PostableAlert[] = alertmanagerAlerts(notification); // POST /api/v2/alerts
 * assert.deepEqual(body[0].labels, { alertname: "HostHighCpu", instance: "db-01:9100" });
 * assert.equal(body[0].startsAt, "2026-11-01T10:05:00Z");
 * ```
 */
export interface PostableAlert {
  /** The label set: the alert's identity. */
  labels: Record<string, string>;
  /** Annotations (summary, description, value, …). */
  annotations: Record<string, string>;
  /** When the alert started firing, RFC 3339. */
  startsAt: string;
  /** When it ends: in the past for resolved alerts, a little ahead for firing ones. */
  endsAt: string;
  /** Link back to the source (the Prometheus graph). */
  generatorURL?: string;
}

/**
 * Options of {@linkcode alertmanagerAlerts}.
 *
 * @example
 * ```ts
 * import { alertmanagerAlerts, type AlertmanagerAlertsOptions, type Notification } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const notification: Notification = {
 *   id: "n1", receiver: "slack", group: "HostHighCpu", kind: "firing",
 *   createdAt: "2026-11-01T10:05:00Z", context: { evaluatedAt: "2026-11-01T10:05:00Z" },
 *   alerts: [{
 *     labels: { alertname: "HostHighCpu", instance: "db-01:9100" },
 *     annotations: { summary: "CPU 95 % on db-01:9100" }, value: 95,
 *     startsAt: "2026-11-01T10:05:00Z", status: "firing", fingerprint: "0000000000000001",
 *   }],
 * };
 * const options: AlertmanagerAlertsOptions = { firingTtlMs: 600_000, valueAnnotation: false };
 * const [alert] = alertmanagerAlerts(notification, options);
 * assert.equal(alert.annotations.value, undefined);
 * ```
 */
export interface AlertmanagerAlertsOptions {
  /**
   * How long a firing alert stays active in Alertmanager without being
   * re-sent: its `endsAt` is the evaluation time plus this. Keep it a few
   * evaluation intervals long (Prometheus uses 4 × the resend delay).
   * @default {1_200_000} (20 minutes: four 5-minute evaluations)
   */
  firingTtlMs?: number;
  /**
   * Add the alert's value as the `value` annotation (unless one is set).
   * @default {true}
   */
  valueAnnotation?: boolean;
}

function validGeneratorUrl(url: string | undefined): string | undefined {
  return parseHttpUrl(url) ? url : undefined;
}

/**
 * The `POST /api/v2/alerts` body of a notification: every alert with its
 * labels, annotations, `startsAt`, `endsAt` (its own when resolved, the
 * evaluation time plus `firingTtlMs` while firing) and `generatorURL`.
 *
 * @example Preview what Alertmanager receives
 * ```ts
 * import { alertmanagerAlerts } from "opsbook";
 * const body = alertmanagerAlerts({
 *   id: "n1", receiver: "alertmanager", group: "HostHighCpu", kind: "firing",
 *   createdAt: "2024-05-01T12:00:00Z", context: { evaluatedAt: "2024-05-01T12:00:00Z" },
 *   alerts: [{
 *     labels: { alertname: "HostHighCpu", instance: "web-01" },
 *     annotations: { summary: "CPU usage above 80%" }, value: 93.2,
 *     startsAt: "2024-05-01T11:55:00Z", status: "firing", fingerprint: "0123456789abcdef",
 *   }],
 * });
 * console.log(body[0].endsAt); // 2024-05-01T12:20:00.000Z
 * ```
 */
export function alertmanagerAlerts(
  notification: Notification,
  options: AlertmanagerAlertsOptions = {},
): PostableAlert[] {
  const ttl = options.firingTtlMs ?? 20 * 60_000;
  const evaluated = Date.parse(notification.context.evaluatedAt || notification.createdAt);
  const base = Number.isNaN(evaluated) ? Date.now() : evaluated;
  return notification.alerts.map((alert) => {
    const labels: Record<string, string> = {};
    for (const [k, v] of Object.entries(alert.labels)) if (v !== "") labels[k] = v;
    const annotations: Record<string, string> = {};
    for (const [k, v] of Object.entries(alert.annotations)) if (v !== undefined) annotations[k] = v;
    if ((options.valueAnnotation ?? true) && annotations.value === undefined) {
      annotations.value = formatValue(alert.value, notification.context.unit ?? "");
    }
    const endsAt = alert.status === "resolved"
      ? alert.endsAt ?? new Date(base).toISOString()
      : new Date(base + ttl).toISOString();
    const out: PostableAlert = { labels, annotations, startsAt: alert.startsAt, endsAt };
    const generatorURL = validGeneratorUrl(alert.generatorURL) ??
      validGeneratorUrl(notification.context.graphURL);
    if (generatorURL) out.generatorURL = generatorURL;
    return out;
  });
}

/**
 * Options of {@linkcode AlertmanagerSink}.
 *
 * @example
 * ```ts
 * import { AlertmanagerSink, type AlertmanagerSinkOptions } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const options: AlertmanagerSinkOptions = {
 *   urls: ["http://am-0:9093", "http://am-1:9093"],
 *   requireAll: false, // one acknowledgement is enough: they gossip
 *   timeoutMs: 5_000,
 * };
 * assert.deepEqual(new AlertmanagerSink(options).urls, ["http://am-0:9093", "http://am-1:9093"]);
 * ```
 */
export interface AlertmanagerSinkOptions extends AlertmanagerAlertsOptions {
  /**
   * Alertmanager base URL(s), e.g. `http://alertmanager:9093`; several URLs
   * (an HA pair) each receive every alert. User info in a URL becomes a
   * Basic `Authorization` header and is never shown.
   */
  urls: string | string[];
  /**
   * The receiver name used in notifications, the outbox and logs.
   * @default {"alertmanager"}
   */
  name?: string;
  /** Extra request headers, e.g. `Authorization` (treated as secrets). */
  headers?: Record<string, string>;
  /**
   * Per-request timeout in milliseconds.
   * @default {10000}
   */
  timeoutMs?: number;
  /**
   * Retry policy within one `send` (network errors, timeouts, 408, 429, 5xx;
   * `Retry-After` honoured); a number is the limit, `false` one attempt. A
   * wait beyond `maxWaitMs` is left to the outbox's next evaluation.
   * @default {{ limit: 2, delayMs: 500, maxWaitMs: 5000 }}
   */
  retry?: RetryInput;
  /** @deprecated Use `retry: { limit }`. */
  retries?: number;
  /** @deprecated Use `retry: { maxWaitMs }`. */
  maxWaitMs?: number;
  /** @deprecated Use `retry: { delayMs }`. */
  backoffMs?: number;
  /**
   * Require every URL to acknowledge. By default one acknowledgement is
   * enough: the peers of an HA cluster share alerts by gossip, and firing
   * alerts are re-sent at the next evaluation anyway.
   * @default {false}
   */
  requireAll?: boolean;
}

interface Target {
  endpoint: string;
  shown: string;
  headers: Record<string, string>;
  secrets: string[];
}

function target(url: string, headers: Record<string, string>): Target {
  const parsed = parseHttpUrl(url);
  if (parsed === undefined) {
    throw new TypeError(
      "Invalid Alertmanager URL: expected an http(s) URL such as http://alertmanager:9093",
    );
  }
  const secrets = Object.values(headers).flatMap((v) => [v, ...v.split(/\s+/).slice(1)]);
  const all: Record<string, string> = { "content-type": "application/json", ...headers };
  if (parsed.username || parsed.password) {
    const user = decodeURIComponent(parsed.username);
    const pass = decodeURIComponent(parsed.password);
    const basic = btoa(`${user}:${pass}`);
    all.authorization = `Basic ${basic}`;
    secrets.push(basic, pass, parsed.password, url);
    parsed.username = "";
    parsed.password = "";
  }
  const path = parsed.pathname.replace(/\/+$/, "").replace(/\/api\/v2\/alerts$/, "");
  const endpoint = `${parsed.origin}${path}/api/v2/alerts`;
  return {
    endpoint,
    shown: redactUrl(`${parsed.origin}${path}`).replace(/\/$/, ""),
    headers: all,
    secrets,
  };
}

function amDetail(text: string): string | undefined {
  let detail = text.trim();
  try {
    const json = JSON.parse(detail);
    if (typeof json === "string") detail = json;
    else if (json && typeof json.message === "string") detail = json.message;
    else if (json && typeof json.error === "string") detail = json.error;
  } catch { /* plain text */ }
  detail = detail.replace(/\s+/g, " ").trim();
  return detail === "" ? undefined : detail.slice(0, 300);
}

/**
 * Posts notifications to Alertmanager's `POST /api/v2/alerts`. Firing alerts
 * are re-sent at every evaluation (`resendFiring` is `true`), as Alertmanager
 * expects; resolved alerts carry their `endsAt`.
 *
 * Responses: 200 resolves; 429, 5xx, timeouts and network errors are retried
 * with backoff and then thrown as retriable {@linkcode DeliveryError}s; 400
 * (a malformed alert) and other 4xx are thrown at once, not retriable, with
 * Alertmanager's message. With several URLs, each gets the alerts; `send`
 * resolves when one acknowledged (or all, with `requireAll`).
 *
 * @example Send to an HA pair
 * ```ts
 * import { AlertmanagerSink, type Notification } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * // An HA pair lists both members: urls: ["http://am-0:9093", "http://am-1:9093"]
 * const url = Deno.env.get("ALERTMANAGER_URL") ?? "http://localhost:9093";
 * const sink = new AlertmanagerSink({ urls: [url] });
 * const now = new Date().toISOString();
 * const notification: Notification = {
 *   id: "n1", receiver: "alertmanager", group: "HostHighCpu", kind: "firing", createdAt: now,
 *   context: { evaluatedAt: now },
 *   alerts: [{
 *     labels: { alertname: "HostHighCpu", instance: "example-db-01:9100" },
 *     annotations: { summary: "CPU 95 % on example-db-01:9100" }, value: 95,
 *     startsAt: now, status: "firing", fingerprint: "0000000000000001",
 *   }],
 * };
 * await sink.send(notification);
 * const res = await fetch(`${url}/api/v2/alerts?filter=instance%3D%22example-db-01:9100%22`);
 * const [alert] = await res.json();
 * assert.equal(alert.annotations.summary, "CPU 95 % on example-db-01:9100");
 * ```
 */
export class AlertmanagerSink implements Sink {
  /** Receiver name (never a secret). */
  readonly name: string;
  /** Alertmanager wants firing alerts re-sent at every evaluation. */
  readonly resendFiring = true;
  #targets: Target[];
  #timeoutMs: number;
  #retry: NormalizedRetry;
  #requireAll: boolean;
  #alerts: AlertmanagerAlertsOptions;

  /**
   * Creates the sink; throws a `TypeError` for a malformed or missing URL.
   *
   * @example
   * ```ts
   * import { AlertmanagerSink } from "opsbook";
   * const sink = new AlertmanagerSink({ urls: "http://127.0.0.1:9093" });
   * console.log(String(sink)); // AlertmanagerSink(alertmanager: http://127.0.0.1:9093)
   * ```
   */
  constructor(options: AlertmanagerSinkOptions) {
    const urls = (Array.isArray(options.urls) ? options.urls : [options.urls])
      .map((u) => u.trim()).filter((u) => u !== "");
    if (urls.length === 0) {
      throw new TypeError("Missing Alertmanager URL: expected e.g. http://alertmanager:9093");
    }
    this.name = options.name ?? "alertmanager";
    this.#targets = urls.map((u) => target(u, options.headers ?? {}));
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#retry = sinkRetry(options);
    this.#requireAll = options.requireAll ?? false;
    this.#alerts = { firingTtlMs: options.firingTtlMs, valueAnnotation: options.valueAnnotation };
  }

  /**
   * Creates a sink from `ALERTMANAGER_URL` (comma-separated for several);
   * returns `undefined` when it is unset.
   *
   * @example
   * ```ts
   * import { AlertmanagerSink } from "opsbook";
   * const sink = AlertmanagerSink.fromEnv({ env: { ALERTMANAGER_URL: "http://a:9093,http://b:9093" } });
   * console.log(sink?.urls); // ["http://a:9093", "http://b:9093"]
   * ```
   */
  static fromEnv(
    options: Omit<AlertmanagerSinkOptions, "urls"> & { env?: Record<string, string | undefined> } =
      {},
  ): AlertmanagerSink | undefined {
    const { env, ...rest } = options;
    const value = env ? env.ALERTMANAGER_URL : Deno.env.get("ALERTMANAGER_URL");
    if (!value || value.trim() === "") return undefined;
    return new AlertmanagerSink({ ...rest, urls: value.split(",") });
  }

  /** The base URLs, credentials redacted. */
  get urls(): string[] {
    return this.#targets.map((t) => t.shown);
  }

  /** Posts the notification's alerts to every URL. */
  async send(notification: Notification, options: SendOptions = {}): Promise<void> {
    if (notification.alerts.length === 0) return;
    const body = JSON.stringify(alertmanagerAlerts(notification, this.#alerts));
    const results = await Promise.allSettled(
      this.#targets.map((t) =>
        withRetry(() => this.#post(t, body, options.signal), {
          ...this.#retry,
          signal: options.signal,
        })
      ),
    );
    const errors = results.flatMap((r) => r.status === "rejected" ? [r.reason] : []);
    if (errors.length === 0) return;
    if (!this.#requireAll && errors.length < results.length) return;
    const delivery = errors.map((e) =>
      e instanceof DeliveryError ? e : new DeliveryError(
        `Alertmanager delivery failed: ${redact(String(e), this.#secrets()).slice(0, 300)}`,
        { sink: this.name, retriable: true },
      )
    );
    if (delivery.length === 1) throw delivery[0];
    // Several URLs failed: one error naming each, retriable if any is.
    const retriable = delivery.some((e) => e.retriable);
    const first = delivery.find((e) => e.retriable === retriable) ?? delivery[0];
    throw new DeliveryError(
      `Alertmanager delivery failed at ${delivery.length} URLs: ${
        delivery.map((e) => e.message).join("; ")
      }`,
      {
        sink: this.name,
        retriable,
        code: first.code,
        status: first.status,
        retryAfter: first.retryAfter,
      },
    );
  }

  #secrets(): string[] {
    return this.#targets.flatMap((t) => t.secrets);
  }

  async #post(t: Target, body: string, signal?: AbortSignal): Promise<void> {
    const receiver = `Alertmanager ${t.shown}`;
    const res = await httpRequest({
      method: "POST",
      url: t.endpoint,
      headers: t.headers,
      body,
      timeoutMs: this.#timeoutMs,
      signal,
      sink: this.name,
      receiver,
      secrets: t.secrets,
    });
    if (res.status >= 200 && res.status < 300) return;
    throw statusError(res, {
      sink: this.name,
      receiver,
      secrets: t.secrets,
      code: amDetail(res.text),
    });
  }

  /** `AlertmanagerSink(name: urls)`, credentials redacted. */
  toString(): string {
    return `AlertmanagerSink(${this.name}: ${this.urls.join(", ")})`;
  }

  /** The sink's public description, never its secrets. */
  toJSON(): { sink: string; name: string; urls: string[] } {
    return { sink: "alertmanager", name: this.name, urls: this.urls };
  }

  /** What `Deno.inspect` and `console.log` show. */
  [Symbol.for("Deno.customInspect")](): string {
    return `AlertmanagerSink { name: ${JSON.stringify(this.name)}, urls: ${
      JSON.stringify(this.urls)
    } }`;
  }
}
