/**
 * The monitor's settings: one zod schema ({@linkcode ConfigSchema}) over four
 * sources merged as defaults < config file (JSON) < environment < flags. A bad
 * value is reported by its setting name, its source and the expected form
 * ({@linkcode ConfigError}); {@linkcode redactConfig} hides secrets for
 * printing. Each setting is declared once, its schema beside its environment
 * variable, flag and description; the schema, {@linkcode SETTINGS} and the
 * docs table are derived from that declaration.
 *
 * @module
 */

import { z } from "zod";
import { OpsbookError, redactText, redactUrl } from "../errors.ts";
import { parsePrometheusUrls } from "../prometheus/fleet.ts";
import { formatDuration, parseDuration } from "../time.ts";
import { parseHttpUrl } from "../_internal/url.ts";

/**
 * Where a setting's value came from.
 *
 * @example Which source set a bad value
 * ```ts
 * import { ConfigError, type ConfigSource, loadConfig } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * try {
 *   loadConfig({ env: { CPU_THRESHOLD: "ninety" } });
 *   assert.fail("expected a ConfigError");
 * } catch (e) {
 *   if (!(e instanceof ConfigError)) throw e;
 *   const source: ConfigSource | "config" = e.source;
 *   assert.deepEqual([e.setting, source], ["threshold", "env"]);
 * }
 * ```
 */
export type ConfigSource = "default" | "file" | "env" | "flag";

/** How a setting is parsed from text and described in messages. */
type Kind =
  | "string"
  | "url"
  | "secret"
  | "secretUrl"
  | "number"
  | "duration"
  | "boolean"
  | "enum"
  | "list"
  | "receivers"
  | "json";

/**
 * Describes one setting: its environment variable, flag, form and whether it is secret.
 *
 * @example
 * ```ts
 * import { SETTINGS, type SettingInfo } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const threshold: SettingInfo = SETTINGS.threshold;
 * assert.deepEqual([threshold.env, threshold.flag], ["CPU_THRESHOLD", "threshold"]);
 * ```
 */
export interface SettingInfo {
  /** Environment variable, e.g. `CPU_THRESHOLD`. */
  env: string;
  /** Command-line flag without dashes, e.g. `threshold`. */
  flag: string;
  /** The expected form, used in error messages and the docs/monitor.md table. */
  expected: string;
  /** One-line description. */
  description: string;
  /** Whether the value is a secret (redacted by {@linkcode redactConfig}). */
  secret: boolean;
  /** Other flags that set it, without dashes (`no-trend`, `clear-below`). */
  aliases?: readonly string[];
}

/**
 * One setting's single declaration: its zod schema (type, validation and
 * default), how its text is parsed ({@linkcode Kind}), and the environment
 * variable, flag, expected form and description shown to users.
 */
interface SettingDecl<S extends z.ZodType> {
  kind: Kind;
  schema: S;
  env: string;
  flag: string;
  expected: string;
  description: string;
  aliases?: readonly string[];
}

/** A declared setting: its public {@linkcode SettingInfo} plus its kind and schema. */
type Declared<S extends z.ZodType> = SettingInfo & { kind: Kind; schema: S };

function setting<S extends z.ZodType>(decl: SettingDecl<S>): Declared<S> {
  const { kind, schema, env, flag, expected, description, aliases } = decl;
  return {
    kind,
    schema,
    env,
    flag,
    expected,
    description,
    secret: kind === "secret" || kind === "secretUrl" || kind === "receivers",
    ...(aliases === undefined ? {} : { aliases }),
  };
}

const DEFAULT_QUERY =
  '100 - (avg by(instance)(irate(node_cpu_seconds_total{mode="idle"}[5m])) * 100)';

const httpUrl = z.string().refine((s) => parseHttpUrl(s) !== undefined);
const duration = z.union([z.string(), z.number()]).transform((v, ctx) => {
  try {
    return parseDuration(v);
  } catch {
    ctx.addIssue({ code: "custom", message: "bad duration" });
    return z.NEVER;
  }
});
const positiveDuration = duration.refine((v) => v > 0);
const rfc3339 = z.string().refine((s) =>
  /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/.test(s) &&
  !Number.isNaN(Date.parse(s))
);
const percent = z.number().min(0).max(100);
const stringMap = z.record(z.string(), z.string());
/** One named receiver of the `receivers` setting. */
const receiver = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("slack"),
    webhookUrl: httpUrl,
    baseUrl: httpUrl.optional(),
    botToken: z.string().min(1).optional(),
    channel: z.string().min(1).optional(),
    apiUrl: httpUrl.optional(),
  }).strict(),
  z.object({
    type: z.literal("alertmanager"),
    urls: z.array(httpUrl).min(1),
  }).strict(),
  z.object({
    type: z.literal("zammad"),
    url: httpUrl,
    token: z.string().min(1),
    group: z.string().min(1).default("Users"),
    customer: z.string().min(1),
  }).strict(),
  z.object({ type: z.literal("dry-run") }).strict(),
]);
const receiverName = z.string().regex(/^[A-Za-z0-9_.-]+$/);
const route = z.object({
  receiver: receiverName.optional(),
  routes: z.array(
    z.object({
      match: stringMap.optional(),
      match_re: stringMap.optional(),
      receiver: receiverName,
      continue: z.boolean().optional(),
    }).strict(),
  ).default([]),
}).strict();

/**
 * Every setting, declared once: type, validation and default (its zod
 * schema), then how users set it and read about it. {@linkcode ConfigSchema},
 * {@linkcode SETTINGS}, the parsing of environment and flag text and the
 * docs/monitor.md table all come from here.
 */
const INFO = {
  prometheusUrl: setting({
    kind: "url",
    schema: z.string().refine((s) => {
      try {
        parsePrometheusUrls(s);
        return true;
      } catch {
        return false;
      }
    }).default("http://localhost:9090"),
    env: "PROMETHEUS_URL",
    flag: "prometheus-url",
    expected:
      "an http(s) URL such as http://localhost:9090 (a path prefix is kept), or several servers " +
      "as name=url pairs separated by commas (a=http://prom-a:9090,b=http://prom-b:9090)",
    description:
      "Prometheus-compatible API (Prometheus, Thanos, Mimir, VictoriaMetrics); several servers " +
      "are queried as one fleet, each answer labelled source=<name>",
  }),
  prometheusToken: setting({
    kind: "secret",
    schema: z.string().min(1).optional(),
    env: "PROMETHEUS_TOKEN",
    flag: "prometheus-token",
    expected: "a bearer token",
    description: "Sent as Authorization: Bearer",
  }),
  prometheusOrgId: setting({
    kind: "string",
    schema: z.string().min(1).optional(),
    env: "PROMETHEUS_ORG_ID",
    flag: "prometheus-org-id",
    expected: "a tenant id",
    description: "Sent as X-Scope-OrgID (Mimir, Cortex, Thanos receive)",
  }),
  queryTimeout: setting({
    kind: "duration",
    schema: positiveDuration.default(10),
    env: "PROMETHEUS_TIMEOUT",
    flag: "query-timeout",
    expected: 'a duration such as "10s" or "500ms"',
    description: "Timeout of each query attempt",
  }),
  query: setting({
    kind: "string",
    schema: z.string().min(1).default(DEFAULT_QUERY),
    env: "OPSBOOK_QUERY",
    flag: "query",
    expected: "a PromQL expression returning one series per host",
    description: "CPU usage query (default: the classic node_exporter irate query)",
  }),
  rules: setting({
    kind: "list",
    schema: z.array(z.string().min(1)).min(1).optional(),
    env: "OPSBOOK_RULES",
    flag: "rules",
    expected:
      "rule file paths (Prometheus rule format, YAML) separated by commas; in a config file a " +
      "list, relative to the config file",
    description: "Alerting rule files to evaluate (default: the shipped rules/node.yml)",
  }),
  ruleBlindAfter: setting({
    kind: "duration",
    schema: positiveDuration.default(3600),
    env: "OPSBOOK_RULE_BLIND_AFTER",
    flag: "rule-blind-after",
    expected: 'a positive duration such as "15m"',
    description:
      "A rule whose selectors never matched any series raises MonitoringRuleBlind after this long",
  }),
  stoppedReporting: setting({
    kind: "enum",
    schema: z.enum(["auto", "on", "off"]).default("auto"),
    env: "OPSBOOK_STOPPED_REPORTING",
    flag: "stopped-reporting",
    expected: '"auto", "on" or "off"',
    description:
      "Built-in HostStoppedReporting meta-alert; auto: off when a rule file has a host-down rule " +
      "(one page per stopped host)",
  }),
  receivers: setting({
    kind: "receivers",
    schema: z.record(receiverName, receiver).optional(),
    env: "OPSBOOK_RECEIVERS",
    flag: "receivers",
    expected:
      'a JSON object of named receivers such as {"ops": {"type": "slack", "webhookUrl": "https://hooks.slack.com/services/…"}} ' +
      "(type slack, alertmanager, zammad or dry-run)",
    description: "Named receivers for the route (their secrets are redacted)",
  }),
  route: setting({
    kind: "json",
    schema: route.optional(),
    env: "OPSBOOK_ROUTE",
    flag: "route",
    expected:
      'a JSON object such as {"receiver": "ops", "routes": [{"match": {"severity": "critical"}, ' +
      '"receiver": "pager"}]}',
    description:
      "Which receivers get an alert, by its labels (match, match_re, continue, default receiver)",
  }),
  hostLabel: setting({
    kind: "string",
    schema: z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/).default("instance"),
    env: "OPSBOOK_HOST_LABEL",
    flag: "host-label",
    expected: "a label name",
    description: "Label that names a host in the query's result",
  }),
  threshold: setting({
    kind: "number",
    schema: percent.default(80),
    env: "CPU_THRESHOLD",
    flag: "threshold",
    expected: "a number between 0 and 100",
    description: "Fire HostHighCpu above this CPU usage (%)",
  }),
  low: setting({
    kind: "number",
    schema: percent.optional(),
    env: "CPU_LOW",
    flag: "low",
    expected: "a number between 0 and 100, below threshold",
    description: "Resolve only below this usage (hysteresis; default threshold - 5)",
    aliases: ["clear-below"],
  }),
  for: setting({
    kind: "duration",
    schema: duration.default(300),
    env: "CPU_FOR",
    flag: "for",
    expected: 'a duration such as "5m"',
    description:
      "How long usage must stay above threshold at every sample before HostHighCpu fires (default 5m)",
  }),
  trend: setting({
    kind: "boolean",
    schema: z.boolean().default(true),
    env: "CPU_TREND",
    flag: "trend",
    expected: '"true" or "false"',
    description: "Evaluate the HostCpuTrend early warning (default true)",
    aliases: ["no-trend"],
  }),
  trendWithin: setting({
    kind: "duration",
    schema: positiveDuration.default(12 * 3600),
    env: "CPU_TREND_WITHIN",
    flag: "trend-within",
    expected: 'a positive duration such as "12h"',
    description: "HostCpuTrend fires when the fitted line reaches 100 % within this long",
  }),
  trendLookback: setting({
    kind: "duration",
    schema: positiveDuration.default(6 * 3600),
    env: "CPU_TREND_LOOKBACK",
    flag: "trend-lookback",
    expected: 'a positive duration such as "6h"',
    description: "History the HostCpuTrend line is fitted over",
  }),
  interval: setting({
    kind: "duration",
    schema: positiveDuration.default(300),
    env: "MONITOR_INTERVAL",
    flag: "interval",
    expected: 'a positive duration such as "5m" or "30s"',
    description: "Time between evaluations",
  }),
  state: setting({
    kind: "string",
    schema: z.string().min(1).default("opsbook-state.json"),
    env: "OPSBOOK_STATE",
    flag: "state",
    expected: "a file path",
    description: "Alert state file; the outbox and lock live beside it",
  }),
  blindAfter: setting({
    kind: "number",
    schema: z.number().int().min(1).default(3),
    env: "OPSBOOK_BLIND_AFTER",
    flag: "blind-after",
    expected: "a positive integer",
    description: 'Failed evaluations in a row before "monitoring is blind" fires',
  }),
  logFile: setting({
    kind: "string",
    schema: z.string().min(1).optional(),
    env: "OPSBOOK_LOG_FILE",
    flag: "log-file",
    expected: "a file path",
    description: "Also write log lines to this file (rotated by size)",
  }),
  logFormat: setting({
    kind: "enum",
    schema: z.enum(["logfmt", "json"]).default("logfmt"),
    env: "OPSBOOK_LOG_FORMAT",
    flag: "log-format",
    expected: '"logfmt" or "json"',
    description: "Log line format",
  }),
  logLevel: setting({
    kind: "enum",
    schema: z.enum(["debug", "info", "warn", "error"]).default("info"),
    env: "OPSBOOK_LOG_LEVEL",
    flag: "log-level",
    expected: '"debug", "info", "warn" or "error"',
    description: "Lowest level written",
  }),
  logMaxBytes: setting({
    kind: "number",
    schema: z.number().int().min(1).default(10 * 1024 * 1024),
    env: "OPSBOOK_LOG_MAX_BYTES",
    flag: "log-max-bytes",
    expected: "a positive integer",
    description: "Rotate the log file when it would grow past this size",
  }),
  logMaxFiles: setting({
    kind: "number",
    schema: z.number().int().min(0).default(5),
    env: "OPSBOOK_LOG_MAX_FILES",
    flag: "log-max-files",
    expected: "a non-negative integer",
    description: "Rotated files kept (file.1 … file.N)",
  }),
  metricsPort: setting({
    kind: "number",
    schema: z.number().int().min(0).max(65535).optional(),
    env: "OPSBOOK_METRICS_PORT",
    flag: "metrics-port",
    expected: "a port number 0-65535 (0 picks a free port)",
    description: "Serve /metrics on this port",
  }),
  metricsHost: setting({
    kind: "string",
    schema: z.string().min(1).default("127.0.0.1"),
    env: "OPSBOOK_METRICS_HOST",
    flag: "metrics-host",
    expected: "a host name or address",
    description: "Address /metrics listens on",
  }),
  slackWebhookUrl: setting({
    kind: "secretUrl",
    schema: httpUrl.optional(),
    env: "SLACK_WEBHOOK_URL",
    flag: "slack-webhook-url",
    expected: "a Slack incoming webhook URL such as https://hooks.slack.com/services/T…/B…/…",
    description: "Slack incoming webhook",
  }),
  slackBotToken: setting({
    kind: "secret",
    schema: z.string().min(1).optional(),
    env: "SLACK_BOT_TOKEN",
    flag: "slack-bot-token",
    expected: "a Slack bot token (xoxb-…)",
    description: "Slack bot token (with slackChannel, instead of a webhook)",
  }),
  slackChannel: setting({
    kind: "string",
    schema: z.string().min(1).optional(),
    env: "SLACK_CHANNEL",
    flag: "slack-channel",
    expected: "a channel id or name",
    description: "Channel for the bot token",
  }),
  slackBaseUrl: setting({
    kind: "url",
    schema: httpUrl.optional(),
    env: "SLACK_BASE_URL",
    flag: "slack-base-url",
    expected: "an http(s) URL",
    description:
      "Origin of webhook posts instead of hooks.slack.com: a relay, a proxy, Mattermost (/hooks/<id>)",
  }),
  slackApiUrl: setting({
    kind: "url",
    schema: httpUrl.optional(),
    env: "SLACK_API_URL",
    flag: "slack-api-url",
    expected: "an http(s) URL",
    description: "Slack Web API base (for tests)",
  }),
  alertmanagerUrl: setting({
    kind: "url",
    schema: z.string().refine((s) => s.split(",").every((u) => httpUrl.safeParse(u.trim()).success))
      .optional(),
    env: "ALERTMANAGER_URL",
    flag: "alertmanager-url",
    expected: "an http(s) URL; several separated by commas",
    description: "Alertmanager(s) to send alerts to",
  }),
  zammadUrl: setting({
    kind: "url",
    schema: httpUrl.optional(),
    env: "ZAMMAD_URL",
    flag: "zammad-url",
    expected: "an http(s) URL",
    description: "Zammad base URL",
  }),
  zammadToken: setting({
    kind: "secret",
    schema: z.string().min(1).optional(),
    env: "ZAMMAD_TOKEN",
    flag: "zammad-token",
    expected: "a Zammad API token",
    description: "Zammad token",
  }),
  zammadGroup: setting({
    kind: "string",
    schema: z.string().min(1).default("Users"),
    env: "ZAMMAD_GROUP",
    flag: "zammad-group",
    expected: "a group name",
    description: "Ticket group",
  }),
  zammadCustomer: setting({
    kind: "string",
    schema: z.string().min(1).optional(),
    env: "ZAMMAD_CUSTOMER",
    flag: "zammad-customer",
    expected: "a customer e-mail or login",
    description: "Ticket customer (required with zammadUrl)",
  }),
  dryRun: setting({
    kind: "boolean",
    schema: z.boolean().default(false),
    env: "OPSBOOK_DRY_RUN",
    flag: "dry-run",
    expected: '"true" or "false"',
    description: "Print notifications instead of (or with no) sinks",
  }),
  sendTimeout: setting({
    kind: "duration",
    schema: positiveDuration.default(10),
    env: "OPSBOOK_SEND_TIMEOUT",
    flag: "send-timeout",
    expected: 'a duration such as "10s"',
    description: "Timeout of one delivery to a sink",
  }),
  repeatInterval: setting({
    kind: "duration",
    schema: positiveDuration.default(4 * 3600),
    env: "OPSBOOK_REPEAT_INTERVAL",
    flag: "repeat-interval",
    expected: 'a duration such as "4h"',
    description: "Re-notify a still-firing alert after this long",
  }),
  replayStart: setting({
    kind: "string",
    schema: rfc3339.optional(),
    env: "OPSBOOK_REPLAY_START",
    flag: "replay-start",
    expected: "an RFC 3339 time such as 2026-11-01T00:00:00Z",
    description: "Replay: first evaluation time (instead of the wall clock)",
  }),
  replayStep: setting({
    kind: "duration",
    schema: positiveDuration.default(300),
    env: "OPSBOOK_REPLAY_STEP",
    flag: "replay-step",
    expected: 'a positive duration such as "5m"',
    description: "Replay: evaluation time advance per successful evaluation",
  }),
  replayEnd: setting({
    kind: "string",
    schema: rfc3339.optional(),
    env: "OPSBOOK_REPLAY_END",
    flag: "replay-end",
    expected: "an RFC 3339 time",
    description: "Replay: stop after evaluating this time",
  }),
} as const;

/**
 * The name of a setting.
 *
 * @example
 * ```ts
 * import { loadConfig, SETTINGS, type SettingName } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const config = loadConfig({ env: {} });
 * const name: SettingName = "interval";
 * assert.equal(SETTINGS[name].env, "MONITOR_INTERVAL");
 * assert.equal(typeof config[name], "number");
 * ```
 */
export type SettingName = keyof typeof INFO;

/**
 * Every setting with its environment variable, flag, expected form and secrecy.
 *
 * @example List the environment variables
 * ```ts
 * import { SETTINGS } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const url = SETTINGS.prometheusUrl;
 * assert.deepEqual([url.env, url.flag, url.secret], ["PROMETHEUS_URL", "prometheus-url", false]);
 * const secrets = Object.values(SETTINGS).filter((s) => s.secret).map((s) => s.env);
 * assert.ok(secrets.includes("SLACK_WEBHOOK_URL"));
 * ```
 */
export const SETTINGS: Readonly<Record<SettingName, SettingInfo>> = INFO;

/**
 * The settings as the rows of docs/monitor.md's table: setting, environment
 * variable, flags, expected form and meaning (`(secret)` for secrets). The
 * table is checked against this by `test/monitor/settings_doc_test.ts`, so
 * every setting is declared once, here.
 *
 * @example
 * ```ts
 * import { settingsTable } from "./config.ts";
 * import assert from "node:assert/strict";
 *
 * const threshold = settingsTable().find((row) => row[0] === "`threshold`");
 * assert.deepEqual(threshold?.slice(1, 3), ["`CPU_THRESHOLD`", "`--threshold`"]);
 * ```
 */
export function settingsTable(): string[][] {
  const defaults = ConfigSchema.parse({}) as Record<string, unknown>;
  return Object.entries(SETTINGS).map(([name, info]) => [
    `\`${name}\``,
    `\`${info.env}\``,
    [info.flag, ...(info.aliases ?? [])].map((flag) => `\`--${flag}\``).join(", "),
    defaultCell(defaults[name], (info as { kind?: Kind }).kind),
    info.expected.replaceAll("|", "\\|"),
    info.secret && !info.description.includes("secret")
      ? `${info.description} (secret)`
      : info.description,
  ]);
}

/** A setting's declared default as a table cell: `—` when it has none (or it is computed at start). */
function defaultCell(value: unknown, kind?: Kind): string {
  if (value === undefined || value === null) return "—";
  if (kind === "duration" && typeof value === "number") return `\`${formatDuration(value)}\``;
  if (Array.isArray(value)) return value.length === 0 ? "—" : `\`${value.join(",")}\``;
  if (typeof value === "object") return `\`${JSON.stringify(value)}\``.replaceAll("|", "\\|");
  return `\`${String(value)}\``.replaceAll("|", "\\|");
}

/** Parse text from the environment or a flag into the JS value the schema expects. */
function fromText(kind: Kind, text: string): unknown {
  const t = text.trim();
  switch (kind) {
    case "number":
      return t === "" ? Number.NaN : Number(t);
    case "list":
      return t.split(",").map((p) => p.trim()).filter((p) => p !== "");
    case "receivers":
    case "json":
      try {
        return JSON.parse(t);
      } catch {
        return text;
      }
    case "boolean": {
      const v = t.toLowerCase();
      if (["1", "true", "yes", "on"].includes(v)) return true;
      if (["0", "false", "no", "off"].includes(v)) return false;
      return text;
    }
    default:
      return t;
  }
}

/**
 * The one schema of the monitor's settings, built from each setting's
 * declaration (its schema sits beside its environment variable, flag and
 * description) plus the checks that span settings. Durations are given as
 * Prometheus durations (`"5m"`) or seconds and come out as seconds.
 *
 * @example Parse settings
 * ```ts
 * import { ConfigSchema } from "./config.ts";
 * import assert from "node:assert/strict";
 *
 * const config = ConfigSchema.parse({ threshold: 90, interval: "1m" });
 * assert.equal(config.interval, 60);
 * assert.equal(config.low, 85);
 * ```
 */
export const ConfigSchema = z.object(
  Object.fromEntries(
    Object.entries(INFO).map(([name, info]) => [name, info.schema]),
  ) as { [K in SettingName]: (typeof INFO)[K]["schema"] },
).transform((c, ctx) => {
  const low = c.low ?? Math.max(0, c.threshold - 5);
  if (low > c.threshold) {
    ctx.addIssue({ code: "custom", path: ["low"], message: "above threshold", input: low });
  }
  if (c.slackBotToken !== undefined && c.slackChannel === undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["slackChannel"],
      message: "required with slackBotToken",
      input: undefined,
    });
  }
  if (c.zammadUrl !== undefined && c.zammadToken === undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["zammadToken"],
      message: "required with zammadUrl",
      input: undefined,
    });
  }
  if (c.zammadUrl !== undefined && c.zammadCustomer === undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["zammadCustomer"],
      message: "required with zammadUrl",
      input: undefined,
    });
  }
  if (
    c.replayStart !== undefined && c.replayEnd !== undefined &&
    Date.parse(c.replayEnd) < Date.parse(c.replayStart)
  ) {
    ctx.addIssue({
      code: "custom",
      path: ["replayEnd"],
      message: "before replayStart",
      input: c.replayEnd,
    });
  }
  return { ...c, low };
});

/**
 * The effective, validated settings (durations in seconds).
 *
 * @example
 * ```ts
 * import { type Config, loadConfig } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const config: Config = loadConfig({ env: { CPU_THRESHOLD: "90" } });
 * assert.equal(config.threshold, 90); // every setting resolved, typed, with its default
 * ```
 */
export type Config = z.output<typeof ConfigSchema>;

/**
 * Raw settings as a config file or {@linkcode loadConfig}'s `flags` give them.
 *
 * @example
 * ```ts
 * import { type ConfigInput, loadConfig } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const flags: ConfigInput = { threshold: "85", interval: "30s" }; // text, as a command line gives it
 * const config = loadConfig({ env: {}, flags });
 * assert.deepEqual([config.threshold, config.interval], [85, 30]);
 * ```
 */
export type ConfigInput = Partial<Record<SettingName, unknown>>;

/**
 * A setting had a bad value. `setting` names it, `source` says where the value
 * came from, `expected` gives the form; the message never repeats a secret.
 *
 * @example
 * ```ts
 * import { ConfigError, loadConfig } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * assert.throws(() => loadConfig({ env: { CPU_THRESHOLD: "hot" } }), ConfigError);
 * ```
 */
export class ConfigError extends OpsbookError {
  /** The setting's name, e.g. `threshold`. */
  readonly setting: string;
  /** Where the bad value came from. */
  readonly source: ConfigSource | "config";
  /** The expected form. */
  readonly expected: string;

  /** Create the error for one setting. */
  constructor(
    message: string,
    init: { setting: string; source: ConfigSource | "config"; expected: string },
  ) {
    super(message);
    this.name = "ConfigError";
    this.setting = init.setting;
    this.source = init.source;
    this.expected = init.expected;
  }
}

/**
 * Options of {@linkcode loadConfig}.
 *
 * @example
 * ```ts
 * import { loadConfig, type LoadConfigOptions } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const options: LoadConfigOptions = {
 *   env: { CPU_THRESHOLD: "90" }, // instead of Deno.env
 *   flags: { threshold: "95" }, // flags win over the environment
 * };
 * assert.equal(loadConfig(options).threshold, 95);
 * ```
 */
export interface LoadConfigOptions {
  /** Values from command-line flags (highest precedence), keyed by setting name; strings are parsed. */
  flags?: ConfigInput;
  /** The environment. @default {Deno.env.toObject()} */
  env?: Record<string, string | undefined>;
  /** A JSON config file; its keys are setting names. @default {the `OPSBOOK_CONFIG` variable, if set} */
  file?: string;
}

function describeSource(source: ConfigSource, name: SettingName, file?: string): string {
  const info = INFO[name];
  switch (source) {
    case "env":
      return `environment variable ${info.env}`;
    case "flag":
      return `flag --${info.flag}`;
    case "file":
      return `config file ${file}`;
    default:
      return "default";
  }
}

/**
 * A URL setting's text with its credentials removed, whether or not it
 * parses: everything from the first `//` (or the start) to the last `@`
 * becomes `***` (userinfo, even with `@`, `/` or `,` in the password), and
 * secret-looking query parameters lose their values.
 */
function redactUrlText(text: string): string {
  let out = text;
  const at = out.lastIndexOf("@");
  if (at !== -1) {
    const slashes = out.indexOf("//");
    const from = slashes !== -1 && slashes < at ? slashes + 2 : 0;
    out = `${out.slice(0, from)}***${out.slice(at)}`;
  }
  return redactText(out);
}

/** A JSON parser's message without the quoted source excerpt V8 adds (it may hold a secret). */
function jsonProblem(error: unknown): string {
  const message = (error as Error).message;
  if (/^Unexpected token\b/.test(message)) return "unexpected token (a value without quotes?)";
  return message.replace(/, (?:\.\.\.)?".*" is not valid JSON$/s, " is not valid JSON");
}

function showValue(name: SettingName, value: unknown): string {
  if (INFO[name].secret) return "a redacted value";
  if (typeof value === "string" && INFO[name].kind === "url") {
    return JSON.stringify(redactUrlText(value));
  }
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" && Number.isNaN(value)) return "not a number";
  return JSON.stringify(value) ?? String(value);
}

function readConfigFile(path: string): ConfigInput {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (error) {
    throw new ConfigError(
      `Invalid config: cannot read config file ${path}: ${(error as Error).message}`,
      { setting: "config", source: "config", expected: "a readable JSON file" },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(
      `Invalid config: config file ${path} is not JSON: ${jsonProblem(error)}`,
      { setting: "config", source: "config", expected: "a JSON object of settings" },
    );
  }
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw new ConfigError(`Invalid config: config file ${path} must hold a JSON object`, {
      setting: "config",
      source: "config",
      expected: "a JSON object of settings",
    });
  }
  for (const key of Object.keys(json)) {
    if (!(key in INFO)) {
      throw new ConfigError(
        `Invalid config: unknown setting ${JSON.stringify(key)} in config file ${path}`,
        { setting: key, source: "file", expected: `one of ${Object.keys(INFO).join(", ")}` },
      );
    }
  }
  const values = json as ConfigInput;
  // Rule files named in a config file are relative to it, as Prometheus' rule_files are.
  if (Array.isArray(values.rules)) {
    const dir = path.includes("/") ? path.slice(0, path.lastIndexOf("/") + 1) : "";
    values.rules = values.rules.map((r) =>
      typeof r === "string" && dir !== "" && !r.startsWith("/") ? `${dir}${r}` : r
    );
  }
  return values;
}

/**
 * Load the settings: defaults < config file < environment < flags, validated
 * by {@linkcode ConfigSchema}. Throws a {@linkcode ConfigError} naming the
 * first bad setting, where it came from and the expected form.
 *
 * When `STATE_DIRECTORY` is set (systemd's `StateDirectory=`) and no state path
 * is given, the state file defaults to `$STATE_DIRECTORY/state.json`.
 *
 * @example Merge the environment and flags
 * ```ts
 * import { loadConfig } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const config = loadConfig({
 *   env: { CPU_THRESHOLD: "90", MONITOR_INTERVAL: "1m" },
 *   flags: { interval: "30s" },
 * });
 * assert.equal(config.threshold, 90);
 * assert.equal(config.interval, 30);
 * ```
 */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? Deno.env.toObject();
  const merged: Record<string, unknown> = {};
  const sources: Partial<Record<SettingName, ConfigSource>> = {};
  const names = Object.keys(INFO) as SettingName[];
  const file = options.file ?? env.OPSBOOK_CONFIG;
  if (file !== undefined && file !== "") {
    const values = readConfigFile(file);
    for (const name of names) {
      if (values[name] === undefined || values[name] === null) continue;
      const v = values[name];
      merged[name] = typeof v === "string" ? fromText(INFO[name].kind, v) : v;
      sources[name] = "file";
    }
  }
  for (const name of names) {
    const text = env[INFO[name].env];
    if (text === undefined || text === "") continue;
    merged[name] = fromText(INFO[name].kind, text);
    sources[name] = "env";
  }
  if (merged.state === undefined && env.STATE_DIRECTORY) {
    merged.state = `${env.STATE_DIRECTORY.split(":")[0]}/state.json`;
  }
  for (const name of names) {
    const v = options.flags?.[name];
    if (v === undefined) continue;
    merged[name] = typeof v === "string" ? fromText(INFO[name].kind, v) : v;
    sources[name] = "flag";
  }
  const result = ConfigSchema.safeParse(merged);
  if (result.success) {
    ORIGINS.set(result.data, { sources, file });
    return result.data;
  }
  const issue = result.error.issues[0];
  const name = String(issue.path[0] ?? "config") as SettingName;
  if (!(name in INFO)) {
    throw new ConfigError(`Invalid config: ${issue.message}`, {
      setting: name,
      source: "config",
      expected: "valid settings",
    });
  }
  const source = sources[name] ?? "default";
  const info = INFO[name];
  const value = merged[name];
  const got = value === undefined ? "nothing" : showValue(name, value);
  const nested = issue.path.slice(1).map(String);
  const extra = nested.length > 0
    // A field inside receivers or route: name it; zod's message never holds the value.
    ? ` (at ${[name, ...nested].join(".")}: ${issue.message})`
    : issue.code === "custom" && issue.message !== "bad duration" &&
        issue.message !== "Invalid input"
    ? ` (${issue.message})`
    : "";
  throw new ConfigError(
    `Invalid ${name} from ${describeSource(source, name, file)}: expected ${info.expected}, ` +
      `got ${got}${extra}`,
    { setting: name, source, expected: info.expected },
  );
}

/** Where each setting of a config returned by {@linkcode loadConfig} came from. */
const ORIGINS = new WeakMap<
  Config,
  { sources: Partial<Record<SettingName, ConfigSource>>; file?: string }
>();

/**
 * Where a setting of a config made by {@linkcode loadConfig} came from
 * (`"default"` for a config made otherwise).
 *
 * @example
 * ```ts
 * import { loadConfig, settingSource } from "./config.ts";
 * import assert from "node:assert/strict";
 *
 * const config = loadConfig({ env: { CPU_THRESHOLD: "90" } });
 * assert.equal(settingSource(config, "threshold"), "env");
 * assert.equal(settingSource(config, "interval"), "default");
 * ```
 */
export function settingSource(config: Config, name: SettingName): ConfigSource {
  return ORIGINS.get(config)?.sources[name] ?? "default";
}

/**
 * A {@linkcode ConfigError} for a setting whose value passed the schema but
 * was refused later (e.g. by a sink's constructor): it names the setting and
 * where its value came from; `detail` must not contain the value when the
 * setting is a secret.
 *
 * @example
 * ```ts
 * import { loadConfig, settingError } from "./config.ts";
 * import assert from "node:assert/strict";
 *
 * const config = loadConfig({ env: { SLACK_WEBHOOK_URL: "https://example.com/hook" } });
 * const error = settingError(config, "slackWebhookUrl", "expected https://hooks.slack.com/services/…");
 * assert.equal(
 *   error.message,
 *   "Invalid slackWebhookUrl from environment variable SLACK_WEBHOOK_URL: " +
 *     "expected https://hooks.slack.com/services/…",
 * );
 * ```
 */
export function settingError(config: Config, name: SettingName, detail: string): ConfigError {
  const origin = ORIGINS.get(config);
  const source = origin?.sources[name] ?? "default";
  return new ConfigError(
    `Invalid ${name} from ${describeSource(source, name, origin?.file)}: ${detail}`,
    { setting: name, source, expected: INFO[name].expected },
  );
}

/**
 * A copy of the settings safe to print or log: secrets become `***`, URLs
 * lose their credentials and secret-looking query parameters.
 *
 * @example
 * ```ts
 * import { loadConfig, redactConfig } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const config = loadConfig({ env: { SLACK_WEBHOOK_URL: "https://hooks.slack.com/services/T/B/x" } });
 * assert.equal(redactConfig(config).slackWebhookUrl, "***");
 * ```
 */
export function redactConfig(config: Config): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(config)) {
    if (value === undefined) continue;
    const info = INFO[name as SettingName];
    if (info?.kind === "receivers" && value !== null && typeof value === "object") {
      out[name] = redactReceivers(value as Record<string, Record<string, unknown>>);
    } else if (info?.secret) out[name] = "***";
    else if (info?.kind === "url" && typeof value === "string") {
      // Only alertmanagerUrl and prometheusUrl hold several URLs (the latter as
      // name=url pairs); a "," elsewhere may be part of a password.
      const parts = name === "alertmanagerUrl" || name === "prometheusUrl"
        ? value.split(",")
        : [value];
      out[name] = parts.map((u) => {
        const [prefix, url] = splitName(u.trim());
        return prefix + redactUrlText(redactUrl(url));
      }).join(",");
    } else out[name] = value;
  }
  return out;
}

/**
 * Every secret value in the settings, for a logger's redaction list: the
 * secret settings, and the password and secret-looking query values inside
 * URL settings.
 *
 * @example
 * ```ts
 * import { configSecrets, loadConfig } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const config = loadConfig({
 *   env: {
 *     PROMETHEUS_URL: "http://admin:pw%21x@prom:9090",
 *     ZAMMAD_URL: "https://z.example",
 *     ZAMMAD_TOKEN: "tok123",
 *     ZAMMAD_CUSTOMER: "ops@example.com",
 *   },
 * });
 * assert.deepEqual(configSecrets(config), ["pw%21x", "pw!x", "tok123"]);
 * ```
 */
export function configSecrets(config: Config): string[] {
  const out: string[] = [];
  for (const [name, value] of Object.entries(config)) {
    const info = INFO[name as SettingName];
    if (info?.kind === "receivers" && value !== null && typeof value === "object") {
      for (const r of Object.values(value as Record<string, Record<string, unknown>>)) {
        for (const [k, v] of Object.entries(r)) {
          if (typeof v !== "string") continue;
          if (RECEIVER_SECRETS.has(k)) out.push(v);
          else if (/url$/i.test(k)) out.push(...urlSecrets(v));
        }
        if (Array.isArray(r.urls)) {
          for (const u of r.urls) if (typeof u === "string") out.push(...urlSecrets(u));
        }
      }
      continue;
    }
    if (info === undefined || typeof value !== "string") continue;
    if (info.secret) out.push(value);
    else if (info.kind === "url") out.push(...urlSecrets(value));
  }
  return out;
}

/** Fields of a receiver that are secrets as a whole (a Slack webhook URL is a secret). */
const RECEIVER_SECRETS = new Set(["webhookUrl", "botToken", "token"]);

/** The receivers with their secrets as `***` and URL credentials removed. */
function redactReceivers(
  receivers: Record<string, Record<string, unknown>>,
): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [name, r] of Object.entries(receivers)) {
    const copy: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(r)) {
      if (RECEIVER_SECRETS.has(k)) copy[k] = "***";
      else if (typeof v === "string" && /url$/i.test(k)) copy[k] = redactUrlText(redactUrl(v));
      else if (k === "urls" && Array.isArray(v)) {
        copy[k] = v.map((u) => typeof u === "string" ? redactUrlText(redactUrl(u)) : u);
      } else copy[k] = v;
    }
    out[name] = copy;
  }
  return out;
}

/** `["a=", "http://…"]` of a fleet member `a=http://…`; `["", text]` otherwise. */
function splitName(text: string): [string, string] {
  const m = /^([A-Za-z_][A-Za-z0-9_.-]*=)(?=[A-Za-z][A-Za-z0-9+.-]*:)/.exec(text);
  return m === null ? ["", text] : [m[1], text.slice(m[1].length)];
}

/** The password and secret-looking query values of a (comma-separated) URL setting. */
function urlSecrets(value: string): string[] {
  const out: string[] = [];
  for (const part of value.split(",")) {
    let url: URL;
    try {
      url = new URL(splitName(part.trim())[1]);
    } catch {
      continue;
    }
    if (url.password !== "") {
      out.push(url.password);
      try {
        out.push(decodeURIComponent(url.password));
      } catch { /* not percent-encoded text */ }
    }
    for (const [key, v] of url.searchParams) {
      if (v !== "" && redactText(`?${key}=x`) !== `?${key}=x`) out.push(v);
    }
  }
  return [...new Set(out)];
}
