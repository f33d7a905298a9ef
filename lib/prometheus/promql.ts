/**
 * PromQL builders: a selector builder whose label values can neither break
 * out of their string nor inject PromQL, and the classic CPU usage query.
 *
 * @module
 */

import { formatDuration, parseDuration } from "../time.ts";

/**
 * A label matcher operator.
 *
 * @example
 * ```ts
 * import { type MatchOp, selector } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const op: MatchOp = "!~";
 * assert.equal(selector("up", { instance: { op, value: "test-.*" } }), 'up{instance!~"test-.*"}');
 * ```
 */
export type MatchOp = "=" | "!=" | "=~" | "!~";

/**
 * One matcher: a plain string means equality.
 *
 * @example
 * ```ts
 * import { type LabelMatcher, selector } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const exact: LabelMatcher = "node";
 * const pattern: LabelMatcher = { op: "=~", value: "db-.*" };
 * assert.equal(selector("up", { job: exact, instance: pattern }), 'up{job="node",instance=~"db-.*"}');
 * ```
 */
export type LabelMatcher = string | { op: MatchOp; value: string };

/**
 * Label matchers by label name, in the order they should appear.
 *
 * @example
 * ```ts
 * import { cpuUsageQuery, type LabelMatchers } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const matchers: LabelMatchers = { cloud: "aliyun" };
 * assert.ok(cpuUsageQuery({ matchers }).includes('node_cpu_seconds_total{mode="idle",cloud="aliyun"}'));
 * ```
 */
export type LabelMatchers = Record<string, LabelMatcher>;

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const OPS: readonly string[] = ["=", "!=", "=~", "!~"];

/**
 * Quote a string as a PromQL double-quoted string literal, escaping `\`, `"`
 * and control characters (newline, carriage return, tab, ...), so the value
 * reads back exactly and cannot end the literal early.
 *
 * @example
 * ```ts
 * import { quoteString } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * assert.equal(quoteString('a"b\\c\nd'), '"a\\"b\\\\c\\nd"');
 * ```
 */
export function quoteString(value: string): string {
  let out = '"';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    const code = value.charCodeAt(i);
    if (ch === "\\") out += "\\\\";
    else if (ch === '"') out += '\\"';
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (code < 0x20 || code === 0x7f || code === 0x2028 || code === 0x2029) {
      out += `\\u${code.toString(16).padStart(4, "0")}`;
    } else out += ch;
  }
  return out + '"';
}

/**
 * Build an instant-vector selector such as `up{job="node",instance!~"db.*"}`.
 *
 * The metric name and label names are validated (a `TypeError` otherwise);
 * label values are quoted with {@linkcode quoteString}. At least a name or
 * one matcher is required.
 *
 * @example
 * ```ts
 * import { selector } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   selector("node_cpu_seconds_total", { mode: "idle", instance: { op: "=~", value: "db-.*" } }),
 *   'node_cpu_seconds_total{mode="idle",instance=~"db-.*"}',
 * );
 * assert.equal(selector("", { job: 'x"}) or vector(1) #' }), '{job="x\\"}) or vector(1) #"}');
 * ```
 */
export function selector(name: string | undefined, labels: LabelMatchers = {}): string {
  const metric = name ?? "";
  if (metric !== "" && !METRIC_NAME.test(metric)) {
    throw new TypeError(`Invalid metric name: "${metric}" must match ${METRIC_NAME.source}`);
  }
  const parts: string[] = [];
  for (const [label, matcher] of Object.entries(labels)) {
    if (!LABEL_NAME.test(label)) {
      throw new TypeError(`Invalid label name: "${label}" must match ${LABEL_NAME.source}`);
    }
    const { op, value } = typeof matcher === "string" ? { op: "=", value: matcher } : matcher;
    if (!OPS.includes(op)) {
      throw new TypeError(`Invalid matcher operator for ${label}: "${op}" is not =, !=, =~ or !~`);
    }
    if (typeof value !== "string") {
      throw new TypeError(`Invalid label value for ${label}: expected a string`);
    }
    parts.push(`${label}${op}${quoteString(value)}`);
  }
  if (metric === "" && parts.length === 0) {
    throw new TypeError("Invalid selector: give a metric name or at least one matcher");
  }
  return parts.length === 0 ? metric : `${metric}{${parts.join(",")}}`;
}

/**
 * Options for {@linkcode cpuUsageQuery}.
 *
 * @example
 * ```ts
 * import { cpuUsageQuery, type CpuUsageQueryOptions } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const options: CpuUsageQueryOptions = { window: "1m", by: ["instance", "cloud"] };
 * assert.equal(
 *   cpuUsageQuery(options),
 *   '100 - (avg by(instance, cloud)(irate(node_cpu_seconds_total{mode="idle"}[1m])) * 100)',
 * );
 * ```
 */
export interface CpuUsageQueryOptions {
  /** The `irate` window, a Prometheus duration or seconds. @default {"5m"} */
  window?: string | number;
  /** Labels to keep in the result; an empty list averages everything. @default {["instance"]} */
  by?: string[];
  /**
   * Average over these labels instead and keep all others (every target label,
   * whatever your Prometheus attaches): `["cpu", "mode"]` gives one series per
   * host with all its labels. Not together with `by`.
   */
  without?: string[];
  /** Extra matchers on `node_cpu_seconds_total` (after `mode="idle"`). @default {{}} */
  matchers?: LabelMatchers;
}

/**
 * The classic node_exporter CPU usage in percent:
 * `100 - (avg by(instance)(irate(node_cpu_seconds_total{mode="idle"}[5m])) * 100)`.
 *
 * @example
 * ```ts
 * import { cpuUsageQuery } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   cpuUsageQuery({ window: "5m", by: ["instance"] }),
 *   '100 - (avg by(instance)(irate(node_cpu_seconds_total{mode="idle"}[5m])) * 100)',
 * );
 * assert.equal(
 *   cpuUsageQuery({ window: "1m", by: ["cloud", "instance"], matchers: { job: "node" } }),
 *   '100 - (avg by(cloud, instance)(irate(node_cpu_seconds_total{mode="idle",job="node"}[1m])) * 100)',
 * );
 * assert.equal(
 *   cpuUsageQuery({ without: ["cpu", "mode"] }),
 *   '100 - (avg without(cpu, mode)(irate(node_cpu_seconds_total{mode="idle"}[5m])) * 100)',
 * );
 * ```
 */
export function cpuUsageQuery(options: CpuUsageQueryOptions = {}): string {
  const windowInput = options.window ?? "5m";
  const seconds = parseDuration(windowInput);
  if (seconds <= 0) throw new RangeError("Invalid window: the irate window must be positive");
  const window = typeof windowInput === "string" ? windowInput : formatDuration(seconds);
  if (options.by !== undefined && options.without !== undefined) {
    throw new TypeError("Invalid cpuUsageQuery options: give by or without, not both");
  }
  const by = options.by ?? ["instance"];
  const clause = options.without === undefined ? "by" : "without";
  const labels = options.without ?? by;
  for (const label of labels) {
    if (!LABEL_NAME.test(label)) {
      throw new TypeError(
        `Invalid label name in ${clause}: "${label}" must match ${LABEL_NAME.source}`,
      );
    }
  }
  const matchers: LabelMatchers = { mode: "idle", ...options.matchers };
  const series = selector("node_cpu_seconds_total", matchers);
  const grouping = labels.length === 0 && clause === "by"
    ? "avg"
    : `avg ${clause}(${labels.join(", ")})`;
  return `100 - (${grouping}(irate(${series}[${window}])) * 100)`;
}
