/**
 * The Slack sink: a Block Kit message through an incoming webhook, and
 * optionally a PNG chart uploaded with a bot token
 * (`files.getUploadURLExternal` → upload → `files.completeUploadExternal`),
 * since webhooks cannot carry files.
 *
 * {@linkcode slackMessage} builds the payload without sending it, so a
 * notebook can preview exactly what the channel will see.
 *
 * @module
 */

import type { Alert, Notification, SendOptions, Sink } from "../types.ts";
import { DeliveryError } from "../types.ts";
import {
  httpRequest,
  type HttpResponse,
  redact,
  sinkRetry,
  statusError,
  truncate,
  withRetry,
} from "./_http.ts";
import { parseHttpUrl } from "../../_internal/url.ts";
import type { NormalizedRetry, RetryInput } from "../../_internal/http.ts";
import { formatThreshold, formatValue } from "../../_internal/format.ts";

/**
 * A Block Kit text object.
 *
 * @example
 * ```ts
 * import { escapeSlack, type SlackText } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const text: SlackText = { type: "mrkdwn", text: `*${escapeSlack("<db-01>")}* is hot` };
 * assert.equal(text.text, "*&lt;db-01&gt;* is hot");
 * ```
 */
export interface SlackText {
  /** `mrkdwn` or `plain_text`. */
  type: "mrkdwn" | "plain_text";
  /** The text (already escaped). */
  text: string;
  /** Render `:emoji:` codes in plain text. */
  emoji?: boolean;
}

/**
 * A Block Kit block, as produced by {@linkcode slackMessage}.
 *
 * @example
 * ```ts
 * import { type Notification, type SlackBlock, slackMessage } from "opsbook";
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
 * const blocks: SlackBlock[] = slackMessage(notification).blocks;
 * assert.equal(blocks[0].type, "header");
 * ```
 */
export type SlackBlock =
  | { type: "header"; text: SlackText }
  | { type: "section"; text: SlackText }
  | { type: "context"; elements: SlackText[] }
  | { type: "divider" };

/**
 * A webhook payload: Block Kit blocks plus the plain `text` fallback used in notifications.
 *
 * @example
 * ```ts
 * import { type Notification, slackMessage, type SlackMessage } from "opsbook";
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
 * const message: SlackMessage = slackMessage(notification); // the webhook's JSON body
 * assert.ok(message.blocks.length <= 50);
 * assert.ok(message.text.length > 0); // the notification text
 * ```
 */
export interface SlackMessage {
  /** Fallback text (notifications, screen readers, clients without Block Kit). */
  text: string;
  /** The Block Kit blocks. */
  blocks: SlackBlock[];
}

/**
 * Options of {@linkcode slackMessage}.
 *
 * @example
 * ```ts
 * import { type Notification, slackMessage, type SlackMessageOptions } from "opsbook";
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
 * const options: SlackMessageOptions = { hostLabels: ["instance"], maxHosts: 10 };
 * assert.match(slackMessage(notification, options).text, /db-01:9100/);
 * ```
 */
export interface SlackMessageOptions {
  /**
   * Labels tried, in order, to name the host of an alert.
   * @default {["instance", "host", "hostname", "node"]}
   */
  hostLabels?: string[];
  /**
   * Labels shown after the value on each host line (e.g. cloud and region).
   * @default {["cloud", "region"]}
   */
  detailLabels?: string[];
  /**
   * Host lines shown at most; the rest are summarised as "+N more hosts".
   * @default {100}
   */
  maxHosts?: number;
  /**
   * Blocks per message at most (Slack's limit is 50).
   * @default {50}
   */
  maxBlocks?: number;
  /**
   * Characters per section text at most (Slack's limit is 3,000).
   * @default {3000}
   */
  maxSectionChars?: number;
}

const HEADER_MAX = 150;
const LINE_MAX = 600;
const TEXT_MAX = 3000;

/**
 * Escapes `&`, `<` and `>` as Slack requires, so a value such as
 * `<!channel>` is shown rather than pinging everyone.
 *
 * @example Escape a label value
 * ```ts
 * import { escapeSlack } from "opsbook";
 * console.log(escapeSlack("<!channel> & co")); // &lt;!channel&gt; &amp; co
 * ```
 */
export function escapeSlack(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

/**
 * Cuts already escaped Slack text to `max` characters like `truncate`, and
 * never inside an entity (`&amp;`, `&lt;`, `&gt;`): a cut `&l` would show
 * as is.
 */
function truncateEscaped(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = truncate(text, max).slice(0, -1);
  const amp = cut.lastIndexOf("&");
  if (amp >= 0 && amp >= cut.length - 4 && !cut.includes(";", amp)) {
    const entity = /^&(?:amp|lt|gt);/.exec(text.slice(amp));
    if (entity !== null) return cut.slice(0, amp) + "…";
  }
  return cut + "…";
}

const MRKDWN_LOOKALIKES: Record<string, string> = {
  "*": "\u2217", // ∗ ASTERISK OPERATOR
  "_": "\u02cd", // ˍ MODIFIER LETTER LOW MACRON
  "~": "\u223c", // ∼ TILDE OPERATOR
  "`": "\u02cb", // ˋ MODIFIER LETTER GRAVE ACCENT
};

/**
 * A label value for mrkdwn text: escaped as {@linkcode escapeSlack} does,
 * and `*`, `_`, `~` and backticks replaced by look-alikes (∗ ˍ ∼ ˋ), so a
 * value can never bold, italicise, strike or code-format the message, nor
 * close the bold around a host name. Slack's mrkdwn has no escape for them.
 *
 * For example `slackLabel("*prod*_eu")` is `"∗prod∗ˍeu"`.
 */
function slackLabel(value: string): string {
  return escapeSlack(value).replace(/[*_~`]/g, (c) => MRKDWN_LOOKALIKES[c]);
}

/**
 * A URL for a `<url|label>` link: `|`, `<` and `>` percent-encoded (a `|`
 * would end the URL and start the label) and `&` escaped as Slack requires.
 */
function slackLinkUrl(url: string): string {
  return url.replaceAll("|", "%7C").replaceAll("<", "%3C").replaceAll(">", "%3E")
    .replaceAll("&", "&amp;");
}

function hostOf(alert: Alert, hostLabels: readonly string[]): string {
  for (const name of hostLabels) {
    const value = alert.labels[name];
    if (value) return value;
  }
  const rest = Object.keys(alert.labels).filter((k) => k !== "alertname").sort();
  return rest.length === 0
    ? alert.fingerprint
    : rest.map((k) => `${k}=${alert.labels[k]}`).join(", ");
}

function formatTime(rfc3339: string): string {
  const ms = Date.parse(rfc3339);
  if (Number.isNaN(ms)) return rfc3339;
  return new Date(ms).toISOString().replace("T", " ").replace(/:\d\d(\.\d+)?Z$/, " UTC");
}

function safeHttpUrl(url: string | undefined): string | undefined {
  return parseHttpUrl(url, { maxLength: 2000 }) ? url : undefined;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

function commonAnnotation(alerts: Alert[], name: string): string | undefined {
  const first = alerts[0]?.annotations[name];
  if (!first) return undefined;
  return alerts.every((a) => a.annotations[name] === first) ? first : undefined;
}

/**
 * Builds the Block Kit message of a notification: a header (status, alert
 * name, host count), the common summary, one line per host with its value
 * against the threshold and its cloud and region, a link to the Prometheus
 * graph, a context line with the query and the evaluation time, and a plain
 * `text` fallback. Every interpolated value is escaped; the message stays
 * within Slack's limits (50 blocks, 3,000 characters per section, 150 per
 * header), ending with "+N more hosts" when there are too many.
 *
 * @example Preview a message
 * ```ts
 * import { slackMessage } from "opsbook";
 * const message = slackMessage({
 *   id: "n1", receiver: "slack", group: "HostHighCpu", kind: "firing",
 *   createdAt: "2024-05-01T12:00:00Z",
 *   context: { evaluatedAt: "2024-05-01T12:00:00Z", threshold: 80, unit: "%" },
 *   alerts: [{
 *     labels: { alertname: "HostHighCpu", instance: "web-01", cloud: "aws", region: "eu-west-1" },
 *     annotations: { summary: "CPU usage above 80%" }, value: 93.2,
 *     startsAt: "2024-05-01T11:55:00Z", status: "firing", fingerprint: "0123456789abcdef",
 *   }],
 * });
 * console.log(message.blocks[0]); // header ":red_circle: FIRING: HostHighCpu — 1 host"
 * ```
 */
export function slackMessage(
  notification: Notification,
  options: SlackMessageOptions = {},
): SlackMessage {
  const hostLabels = options.hostLabels ?? ["instance", "host", "hostname", "node"];
  const detailLabels = options.detailLabels ?? ["cloud", "region"];
  const maxHosts = Math.max(0, options.maxHosts ?? 100);
  const maxBlocks = Math.max(8, Math.min(options.maxBlocks ?? 50, 50));
  const maxSection = Math.max(200, Math.min(options.maxSectionChars ?? 3000, 3000));
  const { context, alerts } = notification;
  const firing = alerts.filter((a) => a.status === "firing");
  const resolved = alerts.filter((a) => a.status === "resolved");
  const group = notification.group || alerts[0]?.labels.alertname || "alert";

  let emoji: string;
  let status: string;
  let counts: string;
  switch (notification.kind) {
    case "firing":
    case "repeat":
      emoji = notification.kind === "firing" ? ":red_circle:" : ":large_orange_circle:";
      status = notification.kind === "firing" ? "FIRING" : "STILL FIRING";
      counts = plural(firing.length, "host") +
        (resolved.length > 0 ? `, ${resolved.length} resolved` : "");
      break;
    case "resolved":
      emoji = ":large_green_circle:";
      status = "RESOLVED";
      counts = plural(resolved.length, "host") +
        (firing.length > 0 ? `, ${firing.length} still firing` : "");
      break;
    default: {
      const n = notification.delayed?.count ?? alerts.length;
      emoji = ":hourglass_flowing_sand:";
      status = "DELAYED";
      counts = `${plural(n, "notification")} ${n === 1 ? "was" : "were"} delayed`;
    }
  }
  const title = `${status}: ${group} — ${counts}`;
  const blocks: SlackBlock[] = [{
    type: "header",
    text: {
      type: "plain_text",
      text: truncateEscaped(`${emoji} ${escapeSlack(title)}`, HEADER_MAX),
      emoji: true,
    },
  }];

  const summary = alerts.length === 1
    ? alerts[0].annotations.summary
    : commonAnnotation(alerts, "summary");
  const description = commonAnnotation(alerts, "description");
  const intro = [summary, description].filter((s): s is string => !!s).map(escapeSlack);
  if (notification.kind === "delayed") {
    const since = notification.delayed?.since;
    const when = since ? ` since ${formatTime(since)}` : "";
    intro.push(
      `_${escapeSlack(counts + when)}: Slack was unreachable; this is the latest state._`,
    );
  }
  if (intro.length > 0) {
    blocks.push({
      type: "section",
      text: { type: "mrkdwn", text: truncateEscaped(intro.join("\n"), maxSection) },
    });
  }

  // The tail: a link to the graph and the context line.
  const tail: SlackBlock[] = [];
  const graph = safeHttpUrl(context.graphURL) ?? safeHttpUrl(alerts[0]?.generatorURL);
  if (graph) {
    tail.push({
      type: "section",
      text: { type: "mrkdwn", text: `<${slackLinkUrl(graph)}|Open the query in Prometheus>` },
    });
  }
  const contextParts: string[] = [];
  if (context.query) {
    // In a code span: a backtick (PromQL's raw strings) would end it early.
    const query = escapeSlack(truncate(context.query, 1000)).replaceAll(
      "`",
      MRKDWN_LOOKALIKES["`"],
    );
    contextParts.push(`Query: \`${query}\``);
  }
  contextParts.push(`Evaluated ${escapeSlack(formatTime(context.evaluatedAt))}`);
  tail.push({
    type: "context",
    elements: [{ type: "mrkdwn", text: truncateEscaped(contextParts.join(" · "), 2000) }],
  });

  // Host lines, packed into sections within the remaining block budget.
  const threshold = context.threshold !== undefined && Number.isFinite(context.threshold)
    ? ` (threshold ${formatThreshold(context.threshold, context.unit ?? "")})`
    : "";
  const shown = alerts.slice(0, maxHosts);
  const lines = shown.map((alert) => {
    const mark = alert.status === "firing" ? ":red_circle:" : ":white_check_mark:";
    const details = detailLabels.map((n) => alert.labels[n]).filter((v): v is string => !!v);
    const where = details.length > 0 ? ` · ${details.map(slackLabel).join(" · ")}` : "";
    // The host cut first, so the bold around it is always closed.
    const host = truncateEscaped(slackLabel(hostOf(alert, hostLabels)), LINE_MAX - 100);
    const line = `${mark} *${host}* — ` +
      `${escapeSlack(formatValue(alert.value, context.unit ?? ""))}${threshold}${where}`;
    return truncateEscaped(line, LINE_MAX);
  });
  const budget = maxBlocks - blocks.length - tail.length - 1; // 1 for "+N more hosts"
  const sections: string[] = [];
  let current = "";
  let placed = 0;
  for (const line of lines) {
    if (current !== "" && current.length + 1 + line.length > maxSection) {
      if (sections.length + 1 >= budget) break;
      sections.push(current);
      current = "";
    }
    current = current === "" ? line : `${current}\n${line}`;
    placed++;
  }
  if (current !== "") sections.push(current);
  for (const text of sections) blocks.push({ type: "section", text: { type: "mrkdwn", text } });
  const hidden = alerts.length - placed;
  if (hidden > 0) {
    blocks.push({
      type: "context",
      elements: [{ type: "mrkdwn", text: `+${plural(hidden, "more host")}` }],
    });
  }
  blocks.push(...tail);

  // Plain-text fallback: the title and the first hosts.
  const names = alerts.slice(0, 20).map((a) =>
    `${hostOf(a, hostLabels)} ${formatValue(a.value, context.unit ?? "")}`
  );
  const more = alerts.length > 20 ? `, +${alerts.length - 20} more` : "";
  const text = truncateEscaped(escapeSlack(`${title}: ${names.join(", ")}${more}`), TEXT_MAX);
  return { text, blocks };
}

/**
 * Options of {@linkcode SlackSink}.
 *
 * @example
 * ```ts
 * import { SlackSink, type SlackSinkOptions } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const options: SlackSinkOptions = {
 *   webhookUrl: "https://hooks.slack.com/services/T000/B000/XXXX",
 *   name: "team-channel",
 *   timeoutMs: 10_000,
 *   message: { maxHosts: 10 },
 * };
 * assert.equal(new SlackSink(options).name, "team-channel");
 * ```
 */
export interface SlackSinkOptions {
  /** The incoming webhook URL, `https://hooks.slack.com/services/T…/B…/…` (a secret). */
  webhookUrl: string;
  /**
   * The receiver name used in notifications, the outbox and logs.
   * @default {"slack"}
   */
  name?: string;
  /**
   * Send to this origin instead of `https://hooks.slack.com` (a relay, a
   * proxy, a Slack-compatible server such as Mattermost, or a local receiver
   * in tests); the webhook's path is kept. With it, the webhook URL may have
   * any http(s) host and a `/services/T…/B…/…` or `/hooks/<id>` path.
   * Environment: `SLACK_BASE_URL`.
   */
  baseUrl?: string;
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
  /** How messages are built. */
  message?: SlackMessageOptions;
  /** A bot token (`xoxb-…`, a secret) for uploading charts; needs `channel`. */
  botToken?: string;
  /** The channel ID the charts are shared in, e.g. `C0123456789`. */
  channel?: string;
  /**
   * The Web API base URL.
   * @default {"https://slack.com/api"}
   */
  apiUrl?: string;
  /** Returns the PNG chart of a notification to upload after the message, if any. */
  chart?: (notification: Notification) => Uint8Array | undefined | Promise<Uint8Array | undefined>;
  /**
   * Called when a chart upload fails; the message itself was delivered, so
   * the failure does not fail `send`.
   * @default {(error) => console.warn(error.message)}
   */
  onUploadError?: (error: DeliveryError) => void;
}

/**
 * Options of {@linkcode SlackSink.uploadFile}.
 *
 * @example
 * ```ts
 * import { SlackSink, type SlackUploadOptions } from "opsbook";
 *
 * // Shares a chart with a comment, giving up after 30 s.
 * export async function share(sink: SlackSink, png: Uint8Array): Promise<void> {
 *   const options: SlackUploadOptions = {
 *     filename: "cpu.png",
 *     title: "CPU usage",
 *     comment: "db-01 since 10:05",
 *     signal: AbortSignal.timeout(30_000),
 *   };
 *   await sink.uploadFile(png, options);
 * }
 * ```
 */
export interface SlackUploadOptions {
  /** File name shown in Slack. @default {"chart.png"} */
  filename?: string;
  /** Title shown in Slack. */
  title?: string;
  /** Message text introducing the file. */
  comment?: string;
  /** Abort the upload. */
  signal?: AbortSignal;
}

const WEBHOOK_HOSTS = new Set(["hooks.slack.com", "hooks.slack-gov.com"]);
const WEBHOOK_FORM = "https://hooks.slack.com/services/T…/B…/…";
const RETRIABLE_API_ERRORS = new Set([
  "ratelimited",
  "internal_error",
  "fatal_error",
  "service_unavailable",
  "request_timeout",
]);

const RELAY_HINT = "for a relay or a Slack-compatible endpoint (Mattermost's /hooks/<id>) " +
  "at another host, also set SLACK_BASE_URL (the sink's baseUrl option) to the origin that " +
  "webhook posts go to instead of hooks.slack.com";

/**
 * Check a webhook URL without echoing it. Slack's own form is required
 * unless `relay` (a base URL is set): then any http(s) host with a
 * `/services/T…/B…/…` or a Mattermost-style `/hooks/<id>` path is accepted.
 */
function parseWebhook(url: string, relay: boolean): URL {
  const parsed = parseHttpUrl(url);
  if (parsed === undefined) {
    throw new TypeError(`Invalid Slack webhook URL: expected the form ${WEBHOOK_FORM}`);
  }
  const segments = parsed.pathname.split("/").filter((s) => s !== "");
  const token = (s: string) => /^[A-Za-z0-9_-]+$/.test(s);
  const services = segments.length === 4 && segments[0] === "services" &&
    segments.slice(1).every(token);
  const hooks = segments.length === 2 && segments[0] === "hooks" && token(segments[1]);
  const clean = parsed.username === "" && parsed.password === "";
  if (relay) {
    if (clean && (services || hooks)) return parsed;
    throw new TypeError(
      `Invalid Slack webhook URL: expected the form ${WEBHOOK_FORM} or http(s)://host/hooks/<id>`,
    );
  }
  const slackHost = WEBHOOK_HOSTS.has(parsed.hostname);
  if (parsed.protocol === "https:" && slackHost && clean && services) return parsed;
  throw new TypeError(
    `Invalid Slack webhook URL: expected the form ${WEBHOOK_FORM}` +
      (slackHost ? "" : `; ${RELAY_HINT}`),
  );
}

function slackCode(res: HttpResponse): string | undefined {
  const body = res.text.trim();
  return /^[a-z][a-z0-9_]{0,80}$/.test(body) ? body : undefined;
}

/**
 * Delivers notifications to a Slack incoming webhook as Block Kit messages
 * (see {@linkcode slackMessage}).
 *
 * Responses: `200 ok` resolves; `429` waits `Retry-After` (when it fits in
 * `maxWaitMs`) and retries; 5xx, timeouts and network errors retry with
 * backoff and jitter, then throw a retriable {@linkcode DeliveryError};
 * 400/403/404/410 (`invalid_payload`, `action_prohibited`, `no_service`,
 * `channel_is_archived`) throw at once, not retriable, naming Slack's code.
 * The webhook URL and bot token never appear in errors, `toString`,
 * `JSON.stringify` or `Deno.inspect`.
 *
 * @example Send a notification
 * ```ts
 * import { type Notification, SlackSink } from "opsbook";
 *
 * // Posts one notification to the channel of the webhook in `SLACK_WEBHOOK_URL`.
 * export async function notifySlack(notification: Notification): Promise<void> {
 *   const sink = new SlackSink({ webhookUrl: Deno.env.get("SLACK_WEBHOOK_URL")! });
 *   await sink.send(notification); // throws a DeliveryError naming Slack's code
 * }
 * ```
 */
export class SlackSink implements Sink {
  /** Receiver name (never a secret). */
  readonly name: string;
  /** Slack only wants changes, not every firing alert at every evaluation. */
  readonly resendFiring = false;
  #url: string;
  #secrets: string[];
  #timeoutMs: number;
  #retry: NormalizedRetry;
  #message: SlackMessageOptions;
  #botToken?: string;
  #channel?: string;
  #apiUrl: string;
  #chart?: SlackSinkOptions["chart"];
  #onUploadError: (error: DeliveryError) => void;

  /**
   * Creates the sink; throws a `TypeError` that states the expected form
   * (without echoing the secret) when the webhook URL is malformed.
   *
   * @example
   * ```ts
   * import { SlackSink } from "opsbook";
   * const sink = new SlackSink({
   *   webhookUrl: "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
   * });
   * console.log(String(sink)); // SlackSink(slack)
   * ```
   */
  constructor(options: SlackSinkOptions) {
    const webhook = parseWebhook(options.webhookUrl, options.baseUrl !== undefined);
    let target = webhook;
    if (options.baseUrl !== undefined) {
      const base = parseHttpUrl(options.baseUrl);
      if (base === undefined) {
        throw new TypeError(
          "Invalid Slack base URL: expected an http(s) URL such as http://127.0.0.1:8080",
        );
      }
      target = new URL(base.href.replace(/\/$/, "") + webhook.pathname);
    }
    this.name = options.name ?? "slack";
    this.#url = target.href;
    const token = webhook.pathname.split("/").filter((s) => s !== "").at(-1)!;
    this.#secrets = [options.webhookUrl, webhook.href, webhook.pathname, token];
    if (options.botToken) this.#secrets.push(options.botToken);
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#retry = sinkRetry(options);
    this.#message = options.message ?? {};
    this.#botToken = options.botToken || undefined;
    this.#channel = options.channel || undefined;
    this.#apiUrl = (options.apiUrl ?? "https://slack.com/api").replace(/\/$/, "");
    this.#chart = options.chart;
    this.#onUploadError = options.onUploadError ?? ((error) => console.warn(error.message));
  }

  /**
   * Creates a sink from `SLACK_WEBHOOK_URL`, `SLACK_BASE_URL`,
   * `SLACK_BOT_TOKEN` and `SLACK_CHANNEL`; returns `undefined` when
   * `SLACK_WEBHOOK_URL` is unset.
   *
   * @example
   * ```ts
   * import { SlackSink } from "opsbook";
   * console.log(SlackSink.fromEnv({ env: {} })); // undefined
   * ```
   */
  static fromEnv(
    options: Omit<SlackSinkOptions, "webhookUrl"> & { env?: Record<string, string | undefined> } =
      {},
  ): SlackSink | undefined {
    const { env, ...rest } = options;
    const get = (k: string) => env ? env[k] : Deno.env.get(k);
    const webhookUrl = get("SLACK_WEBHOOK_URL");
    if (!webhookUrl) return undefined;
    return new SlackSink({
      botToken: get("SLACK_BOT_TOKEN"),
      channel: get("SLACK_CHANNEL"),
      baseUrl: get("SLACK_BASE_URL") || undefined,
      ...rest,
      webhookUrl,
    });
  }

  /** Whether charts are uploaded (a bot token and a channel are set). */
  get uploads(): boolean {
    return this.#botToken !== undefined && this.#channel !== undefined;
  }

  /**
   * Posts the notification's message; resolves when Slack answered `ok`.
   * Then uploads the chart when `chart`, a bot token and a channel are set
   * (an upload failure goes to `onUploadError`, not to the caller).
   */
  async send(notification: Notification, options: SendOptions = {}): Promise<void> {
    const body = JSON.stringify(slackMessage(notification, this.#message));
    await withRetry(() => this.#post(body, options.signal), {
      ...this.#retry,
      signal: options.signal,
    });
    if (this.#chart && this.uploads) {
      try {
        const png = await this.#chart(notification);
        if (png && png.byteLength > 0) {
          await this.uploadFile(png, {
            filename: `${notification.group || "chart"}.png`.replace(/[^A-Za-z0-9._-]/g, "_"),
            title: `${notification.group} (${notification.kind})`,
            signal: options.signal,
          });
        }
      } catch (error) {
        const e = error instanceof DeliveryError ? error : new DeliveryError(
          `Slack chart upload failed: ${redact(String(error), this.#secrets).slice(0, 300)}`,
          { sink: this.name, retriable: false },
        );
        this.#onUploadError(e);
      }
    }
  }

  async #post(body: string, signal?: AbortSignal): Promise<void> {
    const res = await httpRequest({
      method: "POST",
      url: this.#url,
      headers: { "content-type": "application/json; charset=utf-8" },
      body,
      timeoutMs: this.#timeoutMs,
      signal,
      sink: this.name,
      receiver: "Slack",
      secrets: this.#secrets,
    });
    if (res.status >= 200 && res.status < 300) return;
    throw statusError(res, {
      sink: this.name,
      receiver: "Slack",
      secrets: this.#secrets,
      code: slackCode(res),
    });
  }

  /**
   * Uploads a file (a PNG chart) to the configured channel with the bot
   * token: `files.getUploadURLExternal`, a POST of the bytes to the returned
   * URL, then `files.completeUploadExternal`. Throws a `TypeError` without a
   * bot token and channel, and a {@linkcode DeliveryError} naming Slack's
   * error code otherwise.
   *
   * @example
   * ```ts
   * import { SlackSink } from "opsbook";
   *
   * // Shares a PNG in the channel: needs a bot token with the `files:write` scope.
   * export async function shareChart(png: Uint8Array): Promise<void> {
   *   const sink = new SlackSink({
   *     webhookUrl: Deno.env.get("SLACK_WEBHOOK_URL")!,
   *     botToken: Deno.env.get("SLACK_BOT_TOKEN")!,
   *     channel: "C0123456789",
   *   });
   *   await sink.uploadFile(png, { filename: "cpu.png", title: "CPU usage" });
   * }
   * ```
   */
  async uploadFile(bytes: Uint8Array, options: SlackUploadOptions = {}): Promise<void> {
    if (!this.#botToken || !this.#channel) {
      throw new TypeError(
        "Slack file upload needs a bot token and a channel: set botToken and channel",
      );
    }
    const auth = { authorization: `Bearer ${this.#botToken}` };
    const filename = options.filename ?? "chart.png";
    const retry = this.#retry;
    const ticket = await withRetry(() =>
      this.#api("files.getUploadURLExternal", {
        headers: { ...auth, "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ filename, length: String(bytes.byteLength) }).toString(),
        signal: options.signal,
      }), { ...retry, signal: options.signal });
    const uploadUrl = typeof ticket.upload_url === "string" ? ticket.upload_url : "";
    const fileId = typeof ticket.file_id === "string" ? ticket.file_id : "";
    if (!uploadUrl || !fileId) {
      throw new DeliveryError("Slack returned no upload URL: files.getUploadURLExternal", {
        sink: this.name,
        retriable: true,
      });
    }
    const secrets = [...this.#secrets, uploadUrl];
    await withRetry(async () => {
      const res = await httpRequest({
        method: "POST",
        url: uploadUrl,
        headers: { "content-type": "application/octet-stream" },
        body: bytes.slice(),
        timeoutMs: this.#timeoutMs,
        signal: options.signal,
        sink: this.name,
        receiver: "Slack",
        secrets,
      });
      if (res.status < 200 || res.status >= 300) {
        throw statusError(res, { sink: this.name, receiver: "Slack", secrets });
      }
    }, { ...retry, signal: options.signal });
    const complete: Record<string, unknown> = {
      files: [{ id: fileId, title: options.title ?? filename }],
      channel_id: this.#channel,
    };
    if (options.comment) complete.initial_comment = options.comment;
    await withRetry(() =>
      this.#api("files.completeUploadExternal", {
        headers: { ...auth, "content-type": "application/json; charset=utf-8" },
        body: JSON.stringify(complete),
        signal: options.signal,
      }), { ...retry, signal: options.signal });
  }

  async #api(
    method: string,
    init: { headers: Record<string, string>; body: string; signal?: AbortSignal },
  ): Promise<Record<string, unknown>> {
    const res = await httpRequest({
      method: "POST",
      url: `${this.#apiUrl}/${method}`,
      headers: init.headers,
      body: init.body,
      timeoutMs: this.#timeoutMs,
      signal: init.signal,
      sink: this.name,
      receiver: "Slack",
      secrets: this.#secrets,
    });
    let json: Record<string, unknown> | undefined;
    try {
      const parsed = JSON.parse(res.text);
      if (parsed && typeof parsed === "object") json = parsed;
    } catch { /* not JSON */ }
    const code = typeof json?.error === "string" ? json.error : slackCode(res);
    if (res.status < 200 || res.status >= 300) {
      throw statusError(res, { sink: this.name, receiver: "Slack", secrets: this.#secrets, code });
    }
    if (json?.ok === true) return json;
    const safe = redact(code ?? "unexpected_response", this.#secrets).slice(0, 100);
    throw new DeliveryError(`Slack rejected ${method}: ${safe}`, {
      sink: this.name,
      retriable: RETRIABLE_API_ERRORS.has(safe),
      code: safe,
      status: res.status,
    });
  }

  /** `SlackSink(name)`, never the webhook URL. */
  toString(): string {
    return `SlackSink(${this.name})`;
  }

  /** The sink's public description, never its secrets. */
  toJSON(): { sink: string; name: string; uploads: boolean } {
    return { sink: "slack", name: this.name, uploads: this.uploads };
  }

  /** What `Deno.inspect` and `console.log` show. */
  [Symbol.for("Deno.customInspect")](): string {
    return `SlackSink { name: ${JSON.stringify(this.name)}, uploads: ${this.uploads} }`;
  }
}
