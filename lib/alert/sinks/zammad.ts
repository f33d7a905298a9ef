/**
 * The Zammad sink: one ticket per incident (per alert fingerprint), an
 * article on repeat, a closing article and a state change on resolve.
 *
 * @module
 */

import { fingerprint as fingerprintOf } from "../../labels.ts";
import type { Alert, Notification, SendOptions, Sink } from "../types.ts";
import {
  httpRequest,
  type HttpResponse,
  sinkRetry,
  statusError,
  truncate,
  withRetry,
} from "./_http.ts";
import { parseHttpUrl } from "../../_internal/url.ts";
import type { NormalizedRetry, RetryInput } from "../../_internal/http.ts";
import { formatThreshold, formatValue } from "../../_internal/format.ts";

/**
 * Options of {@linkcode ZammadSink}.
 *
 * @example
 * ```ts
 * import { ZammadSink, type ZammadSinkOptions } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const options: ZammadSinkOptions = {
 *   url: "https://support.example.com",
 *   token: "a-zammad-api-token", // from ZAMMAD_TOKEN in practice
 *   group: "Users",
 *   customer: "monitoring@example.com",
 * };
 * const sink = new ZammadSink(options);
 * assert.equal(sink.name, "zammad");
 * assert.ok(!String(sink).includes("a-zammad-api-token")); // never shown
 * ```
 */
export interface ZammadSinkOptions {
  /** Zammad's base URL, e.g. `https://support.example.com`. */
  url: string;
  /** An API access token (a secret), sent as `Authorization: Token token=…`. */
  token: string;
  /** The group tickets are created in, e.g. `Users`. */
  group: string;
  /** The ticket customer (login or email), e.g. `monitoring@example.com`. */
  customer: string;
  /**
   * The receiver name used in notifications, the outbox and logs.
   * @default {"zammad"}
   */
  name?: string;
  /**
   * Whether articles are internal notes.
   * @default {true}
   */
  internal?: boolean;
  /**
   * Tags added to every ticket besides the fingerprint.
   * @default {["opsbook"]}
   */
  tags?: string[];
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
}

/** A ticket as the sink needs it from Zammad's answers. */
interface TicketRef {
  id: number;
}

function hostOf(alert: Alert): string {
  for (const name of ["instance", "host", "hostname", "node"]) {
    if (alert.labels[name]) return alert.labels[name];
  }
  return alert.fingerprint;
}

/**
 * Creates, updates and closes Zammad tickets. For each alert of a
 * notification, the sink first searches for an open ticket tagged with the
 * alert's fingerprint (`GET /api/v1/tickets/search?query=tags:<fp> AND
 * state.name:(new OR open)`):
 *
 * - firing, no open ticket: `POST /api/v1/tickets` (title, group, customer,
 *   a note article, tags); an open ticket already there (a repeated
 *   delivery) is left alone;
 * - repeat or delayed, still firing: `POST /api/v1/ticket_articles` on the
 *   open ticket (or a new ticket when someone closed it);
 * - resolved: `PUT /api/v1/tickets/{id}` with state `closed` and a closing
 *   article in the same request; nothing when no ticket is open.
 *
 * Responses: 2xx continues; 401 (bad token), 403, 404 and 422 (missing or
 * invalid fields) throw a non-retriable `DeliveryError` with
 * Zammad's message; 429, 5xx, timeouts and network errors are retried, then
 * thrown as retriable. The token never appears in errors or output.
 *
 * @example Open a ticket per incident
 * ```ts
 * import { type Notification, ZammadSink } from "opsbook";
 *
 * // Opens (or updates) the incident's ticket in Zammad.
 * export async function openTicket(notification: Notification): Promise<void> {
 *   const sink = new ZammadSink({
 *     url: "https://support.example.com",
 *     token: Deno.env.get("ZAMMAD_TOKEN")!,
 *     group: "Users",
 *     customer: "monitoring@example.com",
 *   });
 *   await sink.send(notification);
 * }
 * ```
 */
export class ZammadSink implements Sink {
  /** Receiver name (never a secret). */
  readonly name: string;
  /** Zammad only wants changes, not every firing alert at every evaluation. */
  readonly resendFiring = false;
  #base: string;
  #token: string;
  #group: string;
  #customer: string;
  #internal: boolean;
  #tags: string[];
  #timeoutMs: number;
  #retry: NormalizedRetry;

  /**
   * Creates the sink; throws a `TypeError` naming a missing or malformed option.
   *
   * @example
   * ```ts
   * import { ZammadSink } from "opsbook";
   * const sink = new ZammadSink({
   *   url: "http://127.0.0.1:3000", token: "fake-token", group: "Users", customer: "ops@example.com",
   * });
   * console.log(String(sink)); // ZammadSink(zammad: http://127.0.0.1:3000)
   * ```
   */
  constructor(options: ZammadSinkOptions) {
    for (const field of ["url", "token", "group", "customer"] as const) {
      if (typeof options[field] !== "string" || options[field].trim() === "") {
        throw new TypeError(`Missing Zammad ${field}: set the ${field} option`);
      }
    }
    const parsed = parseHttpUrl(options.url, { noCredentials: true });
    if (parsed === undefined) {
      throw new TypeError(
        "Invalid Zammad URL: expected an http(s) URL without credentials such as https://support.example.com",
      );
    }
    this.name = options.name ?? "zammad";
    this.#base = `${parsed.origin}${parsed.pathname.replace(/\/+$/, "")}`;
    this.#token = options.token;
    this.#group = options.group;
    this.#customer = options.customer;
    this.#internal = options.internal ?? true;
    this.#tags = options.tags ?? ["opsbook"];
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#retry = sinkRetry(options);
  }

  /**
   * Creates a sink from `ZAMMAD_URL`, `ZAMMAD_TOKEN`, `ZAMMAD_GROUP` and
   * `ZAMMAD_CUSTOMER`; returns `undefined` when `ZAMMAD_URL` is unset and
   * throws a `TypeError` naming the variable when another one is missing.
   *
   * @example
   * ```ts
   * import { ZammadSink } from "opsbook";
   * console.log(ZammadSink.fromEnv({ env: {} })); // undefined
   * ```
   */
  static fromEnv(
    options:
      & Omit<ZammadSinkOptions, "url" | "token" | "group" | "customer">
      & { env?: Record<string, string | undefined> } = {},
  ): ZammadSink | undefined {
    const { env, ...rest } = options;
    const get = (k: string) => (env ? env[k] : Deno.env.get(k)) ?? "";
    const url = get("ZAMMAD_URL");
    if (url.trim() === "") return undefined;
    for (const name of ["ZAMMAD_TOKEN", "ZAMMAD_GROUP", "ZAMMAD_CUSTOMER"]) {
      if (get(name).trim() === "") {
        throw new TypeError(`Missing ${name}: it is required when ZAMMAD_URL is set`);
      }
    }
    return new ZammadSink({
      ...rest,
      url,
      token: get("ZAMMAD_TOKEN"),
      group: get("ZAMMAD_GROUP"),
      customer: get("ZAMMAD_CUSTOMER"),
    });
  }

  /** Zammad's base URL. */
  get url(): string {
    return this.#base;
  }

  /** Creates, updates or closes one ticket per alert of the notification. */
  async send(notification: Notification, options: SendOptions = {}): Promise<void> {
    for (const alert of notification.alerts) {
      const fp = /^[0-9a-f]{16}$/.test(alert.fingerprint)
        ? alert.fingerprint
        : fingerprintOf(alert.labels);
      const open = await this.#findOpen(fp, options.signal);
      if (alert.status === "resolved") {
        if (open) await this.#close(open, alert, notification, options.signal);
        continue;
      }
      if (!open) await this.#create(fp, alert, notification, options.signal);
      else if (notification.kind !== "firing") {
        await this.#article(open, alert, notification, options.signal);
      }
    }
  }

  #title(alert: Alert): string {
    const name = alert.labels.alertname ?? "Alert";
    return truncate(`${name} on ${hostOf(alert)}`, 250);
  }

  #body(alert: Alert, notification: Notification, fp: string): string {
    const { context } = notification;
    const lines: string[] = [];
    const status = notification.kind === "repeat"
      ? "Still firing"
      : alert.status === "resolved"
      ? "Resolved"
      : notification.kind === "delayed"
      ? "Firing (delivered late)"
      : "Firing";
    lines.push(`${status}: ${alert.annotations.summary}`);
    if (alert.annotations.description) lines.push("", alert.annotations.description);
    lines.push("");
    const unit = context.unit ?? "";
    const threshold = context.threshold !== undefined
      ? ` (threshold ${formatThreshold(context.threshold, unit)})`
      : "";
    lines.push(`Value: ${formatValue(alert.value, unit)}${threshold}`);
    lines.push(`Started: ${alert.startsAt}`);
    if (alert.endsAt && alert.status === "resolved") lines.push(`Ended: ${alert.endsAt}`);
    lines.push(`Evaluated: ${context.evaluatedAt}`);
    if (context.query) lines.push(`Query: ${context.query}`);
    const graph = alert.generatorURL ?? context.graphURL;
    if (graph) lines.push(`Graph: ${graph}`);
    lines.push("", "Labels:");
    for (const k of Object.keys(alert.labels).sort()) lines.push(`  ${k}=${alert.labels[k]}`);
    lines.push("", `Fingerprint: ${fp}`, `Notification: ${notification.id}`);
    return truncate(lines.join("\n"), 60_000);
  }

  #articleBody(alert: Alert, notification: Notification, subject: string) {
    const fp = /^[0-9a-f]{16}$/.test(alert.fingerprint)
      ? alert.fingerprint
      : fingerprintOf(alert.labels);
    return {
      subject: truncate(subject, 250),
      body: this.#body(alert, notification, fp),
      type: "note",
      internal: this.#internal,
      content_type: "text/plain",
    };
  }

  async #findOpen(fp: string, signal?: AbortSignal): Promise<TicketRef | undefined> {
    const query = `tags:${fp} AND state.name:(new OR open)`;
    const params = new URLSearchParams({ query, limit: "1", expand: "true" });
    const res = await this.#request("GET", `/api/v1/tickets/search?${params}`, undefined, signal);
    const json = parseJson(res.text);
    // expand=true answers with an array of tickets; without it, with ids.
    const first = Array.isArray(json)
      ? json[0]
      : (json as { tickets?: unknown[] } | undefined)?.tickets?.[0];
    const id = typeof first === "number" ? first : (first as { id?: unknown } | undefined)?.id;
    return typeof id === "number" ? { id } : undefined;
  }

  async #create(
    fp: string,
    alert: Alert,
    notification: Notification,
    signal?: AbortSignal,
  ): Promise<void> {
    const title = this.#title(alert);
    await this.#request("POST", "/api/v1/tickets", {
      title,
      group: this.#group,
      customer: this.#customer,
      article: this.#articleBody(alert, notification, title),
      tags: [fp, ...this.#tags].join(","),
    }, signal);
  }

  async #article(
    ticket: TicketRef,
    alert: Alert,
    notification: Notification,
    signal?: AbortSignal,
  ): Promise<void> {
    await this.#request("POST", "/api/v1/ticket_articles", {
      ticket_id: ticket.id,
      ...this.#articleBody(alert, notification, `Still firing: ${this.#title(alert)}`),
    }, signal);
  }

  async #close(
    ticket: TicketRef,
    alert: Alert,
    notification: Notification,
    signal?: AbortSignal,
  ): Promise<void> {
    await this.#request("PUT", `/api/v1/tickets/${ticket.id}`, {
      state: "closed",
      article: this.#articleBody(alert, notification, `Resolved: ${this.#title(alert)}`),
    }, signal);
  }

  #request(
    method: string,
    path: string,
    body: unknown,
    signal?: AbortSignal,
  ): Promise<HttpResponse> {
    const secrets = [this.#token];
    return withRetry(async () => {
      const res = await httpRequest({
        method,
        url: this.#base + path,
        headers: {
          authorization: `Token token=${this.#token}`,
          accept: "application/json",
          ...(body === undefined ? {} : { "content-type": "application/json; charset=utf-8" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        timeoutMs: this.#timeoutMs,
        signal,
        sink: this.name,
        receiver: "Zammad",
        secrets,
      });
      if (res.status >= 200 && res.status < 300) return res;
      const json = parseJson(res.text) as { error?: unknown; error_human?: unknown } | undefined;
      const detail = typeof json?.error_human === "string"
        ? json.error_human
        : typeof json?.error === "string"
        ? json.error
        : undefined;
      throw statusError(res, { sink: this.name, receiver: "Zammad", secrets, code: detail });
    }, {
      ...this.#retry,
      signal,
    });
  }

  /** `ZammadSink(name: url)`, never the token. */
  toString(): string {
    return `ZammadSink(${this.name}: ${this.#base})`;
  }

  /** The sink's public description, never its token. */
  toJSON(): { sink: string; name: string; url: string; group: string } {
    return { sink: "zammad", name: this.name, url: this.#base, group: this.#group };
  }

  /** What `Deno.inspect` and `console.log` show. */
  [Symbol.for("Deno.customInspect")](): string {
    return `ZammadSink { name: ${JSON.stringify(this.name)}, url: ${JSON.stringify(this.#base)} }`;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
