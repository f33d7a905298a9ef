/**
 * The dry-run sink: prints exactly what would be sent, and optionally writes
 * each notification as JSON into a directory (e.g. `out/alerts/`). Used when
 * no real sink is configured, and to preview messages in a notebook.
 *
 * @module
 */

import { redactText, redactUrl } from "../../errors.ts";
import { formatThreshold, formatValue } from "../../_internal/format.ts";
import type { Notification, SendOptions, Sink } from "../types.ts";

/**
 * Options of {@linkcode DryRunSink}.
 *
 * @example
 * ```ts
 * import { DryRunSink, type DryRunSinkOptions } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const lines: string[] = [];
 * const options: DryRunSinkOptions = { name: "preview", write: (text) => lines.push(text) };
 * await new DryRunSink(options).send({
 *   id: "n1", receiver: "preview", group: "HostHighCpu", kind: "resolved", alerts: [],
 *   createdAt: "2026-11-01T12:05:00Z", context: { evaluatedAt: "2026-11-01T12:05:00Z" },
 * });
 * assert.equal(lines[0].split("\n")[0], "[RESOLVED] HostHighCpu: 0 alerts for preview");
 * ```
 */
export interface DryRunSinkOptions {
  /**
   * The receiver name.
   * @default {"dry-run"}
   */
  name?: string;
  /**
   * Where each printed notification goes.
   * @default {console.log}
   */
  write?: (text: string) => void;
  /** Also write each notification as `<dir>/<time>-<group>-<kind>-<id>.json`. */
  dir?: string;
  /**
   * Behave like Alertmanager: get every firing alert at every evaluation.
   * @default {false}
   */
  resendFiring?: boolean;
}

const HEADINGS = {
  firing: "FIRING",
  repeat: "STILL FIRING",
  resolved: "RESOLVED",
  delayed: "DELAYED",
} as const;

/**
 * Formats a notification as plain text, one line per alert: what the
 * dry-run sink prints. URLs are shown with credentials redacted.
 *
 * @example
 * ```ts
 * import { formatNotification } from "opsbook";
 * console.log(formatNotification({
 *   id: "0123456789abcdef", receiver: "dry-run", group: "HostHighCpu", kind: "firing",
 *   createdAt: "2026-11-01T10:05:00.000Z",
 *   context: { evaluatedAt: "2026-11-01T10:05:00.000Z", threshold: 80, unit: "%" },
 *   alerts: [{
 *     labels: { alertname: "HostHighCpu", instance: "db-01:9100" },
 *     annotations: { summary: "CPU 95 % on db-01:9100" }, value: 95,
 *     startsAt: "2026-11-01T10:05:00.000Z", status: "firing", fingerprint: "0000000000000001",
 *   }],
 * }));
 * ```
 */
export function formatNotification(n: Notification): string {
  const count = n.alerts.length;
  const lines: string[] = [];
  const delayed = n.delayed === undefined
    ? ""
    : ` (${n.delayed.count} notifications were delayed since ${n.delayed.since})`;
  lines.push(
    `[${HEADINGS[n.kind]}] ${n.group}: ${count} alert${
      count === 1 ? "" : "s"
    } for ${n.receiver}${delayed}`,
  );
  const unit = n.context.unit ?? "";
  for (const a of n.alerts) {
    const labels = Object.keys(a.labels).filter((k) => k !== "alertname").sort()
      .map((k) => `${k}=${a.labels[k]}`).join(" ");
    const when = a.status === "resolved" && a.endsAt !== undefined
      ? `resolved ${a.endsAt}`
      : `since ${a.startsAt}`;
    lines.push(
      `  - ${a.status} ${labels} value=${
        formatValue(a.value, unit)
      } ${when}: ${a.annotations.summary}`,
    );
    if (a.annotations.description) lines.push(`    ${a.annotations.description}`);
  }
  const ctx: string[] = [`evaluated ${n.context.evaluatedAt}`];
  if (n.context.threshold !== undefined) {
    ctx.push(`threshold ${formatThreshold(n.context.threshold, unit)}`);
  }
  if (n.context.query !== undefined) ctx.push(`query ${n.context.query}`);
  if (n.context.graphURL !== undefined) ctx.push(`graph ${redactUrl(n.context.graphURL)}`);
  lines.push(`  (${ctx.join("; ")}; id ${n.id})`);
  return redactText(lines.join("\n"));
}

function safe(part: string): string {
  return part.replace(/[^A-Za-z0-9_.-]+/g, "_").slice(0, 80);
}

/**
 * A sink that delivers nothing: it prints each notification (see
 * {@linkcode formatNotification}), keeps it in {@linkcode sent}, and with
 * `dir` writes it as JSON. Always acknowledges.
 *
 * @example Print what would be sent
 * ```ts
 * import { DryRunSink } from "opsbook";
 * const lines: string[] = [];
 * const sink = new DryRunSink({ write: (t) => lines.push(t) });
 * await sink.send({
 *   id: "n1", receiver: "dry-run", group: "HostHighCpu", kind: "resolved", alerts: [],
 *   createdAt: "2026-11-01T12:05:00.000Z", context: { evaluatedAt: "2026-11-01T12:05:00.000Z" },
 * });
 * console.log(lines[0].split("\n")[0]); // [RESOLVED] HostHighCpu: 0 alerts for dry-run
 * ```
 */
export class DryRunSink implements Sink {
  /** The receiver name. */
  readonly name: string;
  /** Whether it gets every firing alert at every evaluation. */
  readonly resendFiring: boolean;
  #write: (text: string) => void;
  #dir: string | undefined;
  #sent: Notification[] = [];

  /** Creates the sink. */
  constructor(options: DryRunSinkOptions = {}) {
    this.name = options.name ?? "dry-run";
    this.resendFiring = options.resendFiring ?? false;
    this.#write = options.write ?? ((text) => console.log(text));
    this.#dir = options.dir;
  }

  /** Every notification this sink received, in order. */
  get sent(): readonly Notification[] {
    return this.#sent;
  }

  /** Prints (and optionally writes) the notification. */
  async send(notification: Notification, _options?: SendOptions): Promise<void> {
    this.#write(formatNotification(notification));
    if (this.#dir !== undefined) {
      await Deno.mkdir(this.#dir, { recursive: true });
      const stamp = notification.createdAt.replace(/[:.]/g, "-");
      const file = `${this.#dir}/${stamp}-${safe(notification.group)}-${notification.kind}-${
        safe(notification.id)
      }.json`;
      await Deno.writeTextFile(file, JSON.stringify(notification, null, 2) + "\n");
    }
    this.#sent.push(structuredClone(notification));
  }
}
