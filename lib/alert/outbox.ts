/**
 * The durable outbox: every notification is written to a file before it is
 * sent and removed only after its sink acknowledged it, so a sink outage or a
 * crash never loses one.
 *
 * Delivery is **at least once**. The window: a notification the sink has
 * accepted but whose removal from the file has not been written yet (the
 * process dies between `send` resolving and the atomic rewrite, or the sink
 * accepted it but the answer never arrived) is sent again at the next
 * delivery, with the same `id`, so a receiver can recognise it. Nothing is
 * dropped: a retriable failure stays queued (in order, per receiver) and is
 * retried at the next delivery, after `Retry-After` when the sink gave one; a
 * non-retriable failure (a 404 `no_service`, a 400 `invalid_payload`) is kept
 * as a dead letter with its error until someone requeues or clears it.
 *
 * Notifications that waited longer than `staleAfter` for one receiver are
 * collapsed into one `delayed` notification that lists every alert, instead
 * of flooding the channel when it comes back.
 *
 * @module
 */

import { fingerprint } from "../labels.ts";
import { z } from "zod";
import { redactText } from "../errors.ts";
import { type DurationInput, parseDuration, type TimeInput, toMillis } from "../time.ts";
import { type Alert, DeliveryError, type Notification, type Sink } from "./types.ts";
import { loadJsonFile, writeFileAtomic } from "./_store.ts";

/**
 * A queued notification.
 *
 * @example
 * ```ts
 * import { type Notification, Outbox, type OutboxEntry } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const outbox = await Outbox.load(`${dir}/outbox.json`);
 * const n: Notification = {
 *   id: "n1", receiver: "slack", group: "HostHighCpu", kind: "firing", alerts: [],
 *   createdAt: "2026-11-01T10:00:00.000Z", context: { evaluatedAt: "2026-11-01T10:00:00.000Z" },
 * };
 * await outbox.enqueue([n]);
 * const [entry]: OutboxEntry[] = outbox.entries();
 * assert.deepEqual([entry.notification.id, entry.attempts], ["n1", 0]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export interface OutboxEntry {
  /** Queue order (increasing). */
  seq: number;
  /** The notification. */
  notification: Notification;
  /** Failed attempts so far. */
  attempts: number;
  /** Last failed attempt, RFC 3339. */
  lastAttemptAt?: string;
  /** The last error message (secret-free). */
  lastError?: string;
  /** Not before this time (the receiver's `Retry-After`), RFC 3339. */
  notBefore?: string;
}

/**
 * A notification a sink refused for good; kept with its error, never dropped silently.
 *
 * @example A receiver that refuses for good
 * ```ts
 * import { type DeadLetter, DeliveryError, type Notification, Outbox } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const outbox = await Outbox.load(`${dir}/outbox.json`);
 * const n: Notification = {
 *   id: "n1", receiver: "slack", group: "HostHighCpu", kind: "firing", alerts: [],
 *   createdAt: "2026-11-01T10:00:00.000Z", context: { evaluatedAt: "2026-11-01T10:00:00.000Z" },
 * };
 * await outbox.enqueue([n]);
 * const gone = {
 *   name: "slack",
 *   send: () =>
 *     Promise.reject(new DeliveryError("Slack: no_service", { sink: "slack", retriable: false })),
 * };
 * await outbox.deliver([gone], { now: "2026-11-01T10:00:00Z" });
 * const dead: DeadLetter[] = await outbox.clearDeadLetters();
 * assert.deepEqual(dead.map((d) => d.notification.id), ["n1"]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export interface DeadLetter {
  /** Queue order it had. */
  seq: number;
  /** The notification. */
  notification: Notification;
  /** Attempts made. */
  attempts: number;
  /** When it was refused, RFC 3339. */
  failedAt: string;
  /** The refusal. */
  error: { message: string; code?: string; status?: number };
}

/**
 * A delivery that failed in this round.
 *
 * @example
 * ```ts
 * import { DeliveryError, type FailedDelivery, type Notification, Outbox } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const outbox = await Outbox.load(`${dir}/outbox.json`);
 * const n: Notification = {
 *   id: "n1", receiver: "slack", group: "HostHighCpu", kind: "firing", alerts: [],
 *   createdAt: "2026-11-01T10:00:00.000Z", context: { evaluatedAt: "2026-11-01T10:00:00.000Z" },
 * };
 * await outbox.enqueue([n]);
 * const down = {
 *   name: "slack",
 *   send: () => Promise.reject(new DeliveryError("Slack is down: 503", { sink: "slack", retriable: true })),
 * };
 * const report = await outbox.deliver([down], { now: "2026-11-01T10:00:00Z" });
 * const [failure]: FailedDelivery[] = report.failed;
 * assert.deepEqual([failure.receiver, failure.retriable], ["slack", true]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export interface FailedDelivery {
  /** The notification. */
  notification: Notification;
  /** Its receiver. */
  receiver: string;
  /** The error message (secret-free). */
  error: string;
  /** Whether it stays queued for a later attempt. */
  retriable: boolean;
  /** Earliest next attempt when the receiver asked to wait, RFC 3339. */
  retryAt?: string;
}

/**
 * Options of {@linkcode Outbox.deliver}.
 *
 * @example
 * ```ts
 * import { type DeliverOptions, type Notification, Outbox } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const outbox = await Outbox.load(`${dir}/outbox.json`);
 * const n: Notification = {
 *   id: "n1", receiver: "slack", group: "HostHighCpu", kind: "firing", alerts: [],
 *   createdAt: "2026-11-01T10:00:00.000Z", context: { evaluatedAt: "2026-11-01T10:00:00.000Z" },
 * };
 * await outbox.enqueue([n]);
 * const up = { name: "slack", send: () => Promise.resolve() };
 * const options: DeliverOptions = { now: "2026-11-01T10:00:30Z", staleAfter: "1h" };
 * assert.equal((await outbox.deliver([up], options)).sent.length, 1);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export interface DeliverOptions {
  /**
   * The delivery time.
   * @default {new Date()}
   */
  now?: TimeInput;
  /**
   * Notifications older than this for one receiver are collapsed into one
   * `delayed` notification (when there are at least two).
   * @default {"1h"}
   */
  staleAfter?: DurationInput;
  /** Abort the deliveries. */
  signal?: AbortSignal;
}

/**
 * What one {@linkcode Outbox.deliver} did.
 *
 * @example
 * ```ts
 * import { type DeliveryReport, type Notification, Outbox } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const outbox = await Outbox.load(`${dir}/outbox.json`);
 * const n: Notification = {
 *   id: "n1", receiver: "slack", group: "HostHighCpu", kind: "firing", alerts: [],
 *   createdAt: "2026-11-01T10:00:00.000Z", context: { evaluatedAt: "2026-11-01T10:00:00.000Z" },
 * };
 * await outbox.enqueue([n]);
 * const up = { name: "slack", send: () => Promise.resolve() };
 * const report: DeliveryReport = await outbox.deliver([up], { now: "2026-11-01T10:00:30Z" });
 * assert.deepEqual([report.sent.length, report.failed.length, report.queued], [1, 0, 0]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export interface DeliveryReport {
  /** Acknowledged by their sink and removed from the outbox. */
  sent: Notification[];
  /** Failed in this round (retriable ones stay queued). */
  failed: FailedDelivery[];
  /** Moved to the dead letters in this round. */
  deadLettered: DeadLetter[];
  /** `delayed` notifications created in this round by collapsing stale ones. */
  collapsed: Notification[];
  /** Receivers skipped because they asked to wait (`Retry-After`). */
  waiting: string[];
  /** Notifications still queued after the round. */
  queued: number;
  /** Dead letters kept in the outbox. */
  deadLetters: number;
}

/**
 * Options of {@linkcode Outbox.enqueue}.
 *
 * @example
 * ```ts
 * import { type EnqueueOptions, type Notification, Outbox } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const outbox = await Outbox.load(`${dir}/outbox.json`);
 * const n: Notification = {
 *   id: "n1", receiver: "slack", group: "HostHighCpu", kind: "firing", alerts: [],
 *   createdAt: "2026-11-01T10:00:00.000Z", context: { evaluatedAt: "2026-11-01T10:00:00.000Z" },
 * };
 * const options: EnqueueOptions = { supersede: true };
 * await outbox.enqueue([n], options);
 * assert.equal(outbox.entries().length, 1);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export interface EnqueueOptions {
  /**
   * Replace older queued notifications of the same receiver and group (for
   * sinks that get every firing alert each time, like Alertmanager): their
   * resolved alerts not in the new one are carried over, so none is lost.
   * @default {false}
   */
  supersede?: boolean;
}

const AlertSchema = z.object({
  labels: z.record(z.string(), z.string()),
  annotations: z.record(z.string(), z.string()).refine((a) => typeof a.summary === "string", {
    message: "summary is required",
  }),
  value: z.number().nullable().transform((v) => v ?? NaN),
  startsAt: z.string(),
  endsAt: z.string().optional(),
  status: z.enum(["firing", "resolved"]),
  fingerprint: z.string(),
  generatorURL: z.string().optional(),
}).loose();

const NotificationSchema = z.object({
  id: z.string(),
  receiver: z.string(),
  group: z.string(),
  kind: z.enum(["firing", "repeat", "resolved", "delayed"]),
  alerts: z.array(AlertSchema),
  createdAt: z.string(),
  context: z.object({ evaluatedAt: z.string() }).loose(),
  delayed: z.object({ count: z.number(), since: z.string(), ids: z.array(z.string()) })
    .optional(),
}).loose();

const OUTBOX_VERSION = 1;

const OutboxFileSchema = z.object({
  version: z.literal(OUTBOX_VERSION),
  seq: z.number().int().nonnegative(),
  entries: z.array(z.object({
    seq: z.number().int(),
    notification: NotificationSchema,
    attempts: z.number().int().nonnegative(),
    lastAttemptAt: z.string().optional(),
    lastError: z.string().optional(),
    notBefore: z.string().optional(),
  })),
  dead: z.array(z.object({
    seq: z.number().int(),
    notification: NotificationSchema,
    attempts: z.number().int().nonnegative(),
    failedAt: z.string(),
    error: z.object({
      message: z.string(),
      code: z.string().optional(),
      status: z.number().optional(),
    }),
  })),
});

/**
 * Options of {@linkcode Outbox.load}.
 *
 * @example Start over from a corrupted file
 * ```ts
 * import { Outbox, type OutboxLoadOptions } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/outbox.json`, "{ not json");
 * const options: OutboxLoadOptions = { recover: true }; // without it: StoreFileError
 * const outbox = await Outbox.load(`${dir}/outbox.json`, options);
 * assert.deepEqual(outbox.entries(), []);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export interface OutboxLoadOptions {
  /**
   * When the file is corrupted or of an unknown version, keep it as
   * `<path>.corrupt-<time>` and start with an empty outbox instead of throwing.
   * @default {false}
   */
  recover?: boolean;
}

/**
 * A secret-free message: a {@linkcode DeliveryError} is written by a sink that
 * knows its secrets; any other error may carry a webhook URL (whose path is
 * the secret), so URLs keep only their origin.
 */
function errorMessage(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  if (error instanceof DeliveryError) return redactText(text);
  return redactText(text).replace(/\b(https?:\/\/[^/\s"'<>]+)\/[^\s"'<>]*/g, "$1/***");
}

function labelKey(a: Alert): string {
  return Object.keys(a.labels).sort().map((k) => `${k}\u0000${a.labels[k]}`).join("\u0001");
}

/**
 * Orders the alerts of a notification: firing first, then resolved; by label
 * set within each.
 *
 * @example
 * ```ts
 * import { orderAlerts } from "./outbox.ts";
 * const a = (instance: string, status: "firing" | "resolved") => ({
 *   labels: { alertname: "X", instance }, annotations: { summary: "" }, value: 1,
 *   startsAt: "2026-11-01T00:00:00Z", status, fingerprint: instance,
 * });
 * const sorted = orderAlerts([a("c", "resolved"), a("b", "firing"), a("a", "firing")]);
 * console.log(sorted.map((x) => x.labels.instance)); // [ "a", "b", "c" ]
 * ```
 */
export function orderAlerts(alerts: readonly Alert[]): Alert[] {
  return alerts
    .map((a) => ({ a, rank: a.status === "firing" ? 0 : 1, key: labelKey(a) }))
    .sort((x, y) => x.rank - y.rank || (x.key < y.key ? -1 : x.key > y.key ? 1 : 0))
    .map((x) => x.a);
}

/**
 * Collapses several notifications of one receiver into one `delayed`
 * notification listing every alert (the latest state of each fingerprint).
 *
 * @example
 * ```ts
 * import { collapseNotifications } from "./outbox.ts";
 * const base = {
 *   receiver: "slack", group: "HostHighCpu", alerts: [],
 *   context: { evaluatedAt: "2026-11-01T10:00:00.000Z" },
 * };
 * const n = collapseNotifications([
 *   { ...base, id: "a", kind: "firing" as const, createdAt: "2026-11-01T10:00:00.000Z" },
 *   { ...base, id: "b", kind: "resolved" as const, createdAt: "2026-11-01T10:05:00.000Z" },
 * ], { now: "2026-11-01T12:00:00Z" });
 * console.log(n.kind, n.delayed?.count); // delayed 2
 * ```
 */
export function collapseNotifications(
  notifications: readonly Notification[],
  options: { now?: TimeInput } = {},
): Notification {
  if (notifications.length === 0) {
    throw new RangeError("Invalid notifications: nothing to collapse");
  }
  const now = new Date(options.now === undefined ? Date.now() : toMillis(options.now));
  const latest = new Map<string, Alert>();
  for (const n of notifications) {
    for (const a of n.alerts) {
      latest.delete(a.fingerprint);
      latest.set(a.fingerprint, a);
    }
  }
  const groups = [...new Set(notifications.map((n) => n.group))];
  const ids = notifications.flatMap((n) => n.delayed?.ids ?? [n.id]);
  const first = notifications[0];
  const since = notifications.map((n) => n.delayed?.since ?? n.createdAt).sort()[0];
  return {
    id: `delayed-${fingerprint({ ids: ids.join(",") })}`,
    receiver: first.receiver,
    group: groups.join(","),
    kind: "delayed",
    alerts: orderAlerts([...latest.values()]),
    createdAt: now.toISOString(),
    context: { ...notifications[notifications.length - 1].context },
    delayed: { count: ids.length, since, ids },
  };
}

type OutboxFile = z.infer<typeof OutboxFileSchema>;

/**
 * The durable outbox, kept in one versioned JSON file written atomically.
 * One writer at a time (the {@linkcode Alerter} holds a lock).
 *
 * @example Queue, fail, retry
 * ```ts
 * import { DeliveryError, type Notification, Outbox } from "opsbook";
 *
 * const dir = await Deno.makeTempDir();
 * const outbox = await Outbox.load(`${dir}/outbox.json`);
 * const n: Notification = {
 *   id: "n1", receiver: "slack", group: "HostHighCpu", kind: "firing", alerts: [],
 *   createdAt: "2026-11-01T10:00:00.000Z", context: { evaluatedAt: "2026-11-01T10:00:00.000Z" },
 * };
 * await outbox.enqueue([n]);
 * let up = false;
 * const sink = {
 *   name: "slack",
 *   send: () => up ? Promise.resolve() : Promise.reject(new DeliveryError("Slack is down: 503", { sink: "slack", retriable: true })),
 * };
 * console.log((await outbox.deliver([sink], { now: "2026-11-01T10:00:00Z" })).queued); // 1
 * up = true;
 * console.log((await outbox.deliver([sink], { now: "2026-11-01T10:05:00Z" })).sent.length); // 1
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class Outbox {
  #path: string;
  #seq: number;
  #entries: OutboxEntry[];
  #dead: DeadLetter[];
  #recoveredFrom: string | undefined;

  private constructor(path: string, file: OutboxFile | undefined, recoveredFrom?: string) {
    this.#path = path;
    this.#seq = file?.seq ?? 0;
    this.#entries = (file?.entries ?? []) as unknown as OutboxEntry[];
    this.#dead = (file?.dead ?? []) as unknown as DeadLetter[];
    this.#recoveredFrom = recoveredFrom;
  }

  /**
   * Loads the outbox from `path`; a missing file is an empty outbox. A
   * corrupted file throws a {@linkcode StoreFileError} and stays untouched,
   * unless `recover` is set.
   *
   * @example
   * ```ts
   * import { Outbox } from "opsbook";
   * const outbox = await Outbox.load("/nonexistent/opsbook-outbox.json");
   * console.log(outbox.size); // 0
   * ```
   */
  static async load(path: string, options: OutboxLoadOptions = {}): Promise<Outbox> {
    const loaded = await loadJsonFile(path, OutboxFileSchema, "Outbox", OUTBOX_VERSION, options);
    return new Outbox(path, loaded.value, loaded.recoveredTo);
  }

  /** The file this outbox is stored in. */
  get path(): string {
    return this.#path;
  }

  /** Where a corrupted file was set aside by `recover`, if it was. */
  get recoveredFrom(): string | undefined {
    return this.#recoveredFrom;
  }

  /** Number of queued notifications. */
  get size(): number {
    return this.#entries.length;
  }

  /** Copies of the queued notifications, in order. */
  entries(): OutboxEntry[] {
    return structuredClone(this.#entries);
  }

  /** Copies of the dead letters, in order. */
  deadLetters(): DeadLetter[] {
    return structuredClone(this.#dead);
  }

  /** Writes the outbox atomically. */
  async save(): Promise<void> {
    const file = {
      version: OUTBOX_VERSION,
      seq: this.#seq,
      entries: this.#entries,
      dead: this.#dead,
    };
    await writeFileAtomic(this.#path, JSON.stringify(file) + "\n");
  }

  /** Queues notifications and writes the file before returning. */
  async enqueue(
    notifications: readonly Notification[],
    options: EnqueueOptions = {},
  ): Promise<void> {
    if (notifications.length === 0) return;
    for (const original of notifications) {
      // The same id again (an evaluation re-run after a crash) is already queued.
      if (this.#entries.some((e) => e.notification.id === original.id)) continue;
      const n = structuredClone(original);
      if (options.supersede) {
        const present = new Set(n.alerts.map((a) => a.fingerprint));
        const carried: Alert[] = [];
        this.#entries = this.#entries.filter((e) => {
          const old = e.notification;
          if (old.receiver !== n.receiver || old.group !== n.group || old.kind === "delayed") {
            return true;
          }
          for (const a of old.alerts) {
            if (a.status === "resolved" && !present.has(a.fingerprint)) {
              present.add(a.fingerprint);
              carried.push(a);
            }
          }
          return false;
        });
        if (carried.length > 0) n.alerts = orderAlerts([...n.alerts, ...carried]);
      }
      this.#entries.push({ seq: ++this.#seq, notification: n, attempts: 0 });
    }
    await this.save();
  }

  /** Moves every dead letter back into the queue (after fixing the configuration). */
  async requeueDeadLetters(): Promise<number> {
    const count = this.#dead.length;
    if (count === 0) return 0;
    for (const d of this.#dead) {
      this.#entries.push({ seq: ++this.#seq, notification: d.notification, attempts: 0 });
    }
    this.#dead = [];
    await this.save();
    return count;
  }

  /** Removes every dead letter, returning them (an explicit, reported decision). */
  async clearDeadLetters(): Promise<DeadLetter[]> {
    const dead = this.#dead;
    this.#dead = [];
    if (dead.length > 0) await this.save();
    return dead;
  }

  /**
   * Sends the queued notifications, oldest first, to the sink named by each
   * notification's `receiver`. Per receiver, a retriable failure stops that
   * receiver's round (order is kept; retried next time); a non-retriable one
   * becomes a dead letter and the round goes on. The file is rewritten after
   * every acknowledgement.
   */
  async deliver(sinks: readonly Sink[], options: DeliverOptions = {}): Promise<DeliveryReport> {
    const nowMs = options.now === undefined ? Date.now() : toMillis(options.now);
    const at = new Date(nowMs).toISOString();
    let staleMs: number;
    try {
      staleMs = parseDuration(options.staleAfter ?? "1h") * 1000;
    } catch (error) {
      throw new RangeError(`Invalid staleAfter: ${(error as Error).message}`);
    }
    const report: DeliveryReport = {
      sent: [],
      failed: [],
      deadLettered: [],
      collapsed: [],
      waiting: [],
      queued: 0,
      deadLetters: 0,
    };
    const byName = new Map(sinks.map((s) => [s.name, s]));
    const receivers = [...new Set(this.#entries.map((e) => e.notification.receiver))];

    // Collapse stale notifications per receiver into one `delayed` notification.
    let changed = false;
    for (const receiver of receivers) {
      const stale = this.#entries.filter((e) =>
        e.notification.receiver === receiver &&
        nowMs - Date.parse(e.notification.createdAt) > staleMs
      );
      if (stale.length < 2) continue;
      const collapsed = collapseNotifications(stale.map((e) => e.notification), { now: at });
      const first = this.#entries.indexOf(stale[0]);
      const staleSet = new Set(stale);
      const entry: OutboxEntry = {
        seq: stale[0].seq,
        notification: collapsed,
        attempts: Math.max(...stale.map((e) => e.attempts)),
      };
      const notBefore = stale.map((e) => e.notBefore).filter((x) => x !== undefined).sort().pop();
      if (notBefore !== undefined) entry.notBefore = notBefore;
      this.#entries = this.#entries.flatMap((e, i) =>
        i === first ? [entry] : staleSet.has(e) ? [] : [e]
      );
      report.collapsed.push(collapsed);
      changed = true;
    }
    if (changed) await this.save();

    for (const receiver of receivers) {
      const sink = byName.get(receiver);
      const queue = this.#entries.filter((e) => e.notification.receiver === receiver);
      for (const entry of queue) {
        options.signal?.throwIfAborted();
        if (sink === undefined) {
          report.failed.push({
            notification: entry.notification,
            receiver,
            error: `No sink is configured for receiver: ${receiver}`,
            retriable: true,
          });
          continue;
        }
        if (entry.notBefore !== undefined && Date.parse(entry.notBefore) > nowMs) {
          report.waiting.push(receiver);
          break;
        }
        try {
          await sink.send(entry.notification, { signal: options.signal });
        } catch (error) {
          const retriable = error instanceof DeliveryError ? error.retriable : true;
          const message = errorMessage(error);
          entry.attempts++;
          entry.lastAttemptAt = at;
          entry.lastError = message;
          if (!retriable) {
            const dl = error as DeliveryError;
            const dead: DeadLetter = {
              seq: entry.seq,
              notification: entry.notification,
              attempts: entry.attempts,
              failedAt: at,
              error: { message },
            };
            if (dl.code !== undefined) dead.error.code = dl.code;
            if (dl.status !== undefined) dead.error.status = dl.status;
            this.#entries = this.#entries.filter((e) => e !== entry);
            this.#dead.push(dead);
            report.deadLettered.push(structuredClone(dead));
            report.failed.push({
              notification: entry.notification,
              receiver,
              error: message,
              retriable: false,
            });
            await this.save();
            continue;
          }
          const failed: FailedDelivery = {
            notification: entry.notification,
            receiver,
            error: message,
            retriable: true,
          };
          const wait = error instanceof DeliveryError ? error.retryAfter : undefined;
          if (wait !== undefined && Number.isFinite(wait) && wait > 0) {
            entry.notBefore = new Date(nowMs + wait * 1000).toISOString();
            failed.retryAt = entry.notBefore;
          } else {
            delete entry.notBefore;
          }
          report.failed.push(failed);
          await this.save();
          break;
        }
        this.#entries = this.#entries.filter((e) => e !== entry);
        report.sent.push(entry.notification);
        await this.save();
      }
    }
    report.queued = this.#entries.length;
    report.deadLetters = this.#dead.length;
    return report;
  }
}
