/**
 * Rules as the evaluator runs them: durations in milliseconds, label and
 * annotation templates compiled once, selectors extracted once.
 *
 * @module
 */

import type { Labels } from "../labels.ts";
import { type DurationInput, parseDuration } from "../time.ts";
import type { MachineRule, RuleSample } from "./rule_state.ts";
import { type VectorSelector, vectorSelectors } from "./_selectors.ts";
import { goTemplateCompiler } from "./template.ts";
import { formatValue, type GoValue, sprintf } from "./_go_fmt.ts";
import { type ExecEnv, FUNCTIONS } from "./_template_exec.ts";

/**
 * What a template sees: `$labels`, `$value`, `$externalLabels`, `$externalURL`.
 *
 * @example
 * ```ts
 * import type { TemplateData } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const data: TemplateData = {
 *   labels: { instance: "db-01:9100" },
 *   value: 95,
 *   externalLabels: {},
 *   externalURL: "http://prometheus:9090",
 * };
 * const render = (d: TemplateData) => `${d.labels.instance}: ${d.value}`;
 * assert.equal(render(data), "db-01:9100: 95");
 * ```
 */
export interface TemplateData {
  /** The series' labels. */
  labels: Labels;
  /** The sample value. */
  value: number;
  /** The evaluator's external labels. */
  externalLabels: Labels;
  /** The evaluator's external URL. */
  externalURL: string;
}

/**
 * Compiles a template text into a function of its data.
 *
 * @example Annotations with your own template engine
 * ```ts
 * import { RuleEvaluator, type TemplateCompiler } from "opsbook";
 *
 * // `{name}` placeholders instead of Go templates.
 * const template: TemplateCompiler = (text) => (data) =>
 *   text.replace(/\{(\w+)\}/g, (_, name: string) => name === "value" ? String(data.value) : data.labels[name] ?? "");
 * export function evaluator(prom: ConstructorParameters<typeof RuleEvaluator>[0]): RuleEvaluator {
 *   return new RuleEvaluator(prom, [{
 *     name: "node",
 *     rules: [{ alert: "HostDown", expr: "up == 0", annotations: { summary: "{instance} is down" } }],
 *   }], { template });
 * }
 * ```
 */
export type TemplateCompiler = (text: string) => (data: TemplateData) => string;

/**
 * One alerting rule as the evaluator takes it (the shape of a rule file's rule).
 *
 * @example
 * ```ts
 * import { type AlertingRuleSpec, RuleEvaluator } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const rule: AlertingRuleSpec = {
 *   alert: "HostDown",
 *   expr: "up == 0",
 *   for: "2m",
 *   labels: { severity: "critical" },
 *   annotations: { summary: "{{ $labels.instance }} is down" },
 * };
 * const evaluator = new RuleEvaluator({
 *   query: () => Promise.reject(new Error("unused")),
 *   queryRange: () => Promise.reject(new Error("unused")),
 * }, [{ name: "node", rules: [rule] }]);
 * assert.deepEqual(Object.keys(evaluator.state.rules), []); // nothing evaluated yet
 * ```
 */
export interface AlertingRuleSpec {
  /** The `alertname`. */
  alert: string;
  /** The PromQL expression. */
  expr: string;
  /**
   * `for`: how long the series must be returned before the alert fires.
   * @default {0}
   */
  for?: DurationInput;
  /**
   * `keep_firing_for`: how long a firing alert stays firing once its series is gone.
   * @default {0}
   */
  keepFiringFor?: DurationInput;
  /** Extra labels (templates). */
  labels?: Record<string, string>;
  /** Annotations (templates). */
  annotations?: Record<string, string>;
  /** opsbook's detector extension (the rule's `opsbook:` key). */
  opsbook?: Record<string, unknown>;
}

/**
 * One rule group as the evaluator takes it.
 *
 * @example
 * ```ts
 * import { PrometheusClient, RuleEvaluator, type RuleGroupSpec } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const group: RuleGroupSpec = {
 *   name: "node",
 *   interval: "1m",
 *   rules: [{ alert: "HostDown", expr: "up == 0", for: "2m" }, { record: "job:up:sum", expr: "sum(up)" }],
 * };
 * const prom = new PrometheusClient({ url: Deno.env.get("PROMETHEUS_URL") ?? "http://localhost:9090" });
 * const evaluation = await new RuleEvaluator(prom, [group]).evaluate("2026-11-01T12:00:00Z");
 * assert.deepEqual([evaluation.groups, evaluation.firing], [["node"], []]);
 * ```
 */
export interface RuleGroupSpec {
  /** The group name (unique). */
  name: string;
  /** The evaluation interval; the evaluator's default when absent. */
  interval?: DurationInput;
  /**
   * Most active alerts per rule; more make the rule fail (0: no limit).
   * @default {0}
   */
  limit?: number;
  /** The rules; recording rules (`record:`) are skipped (the server evaluates them). */
  rules: readonly (AlertingRuleSpec | { record: string; expr: string })[];
}

/** A rule ready to evaluate. */
export interface CompiledRule extends MachineRule {
  /** Unique key: `group/alertname` (with `#n` for a repeated name in a group). */
  key: string;
  /** The group's name. */
  group: string;
  /** The expression. */
  expr: string;
  /** The selectors whose presence tells "no data" from "all clear". */
  selectors: VectorSelector[];
  /** The rule as given. */
  spec: AlertingRuleSpec;
  /** `true` when the rule's labels hold no template: alert labels depend on the series only. */
  staticLabels: boolean;
}

/** A group ready to evaluate. */
export interface CompiledGroup {
  /** The group name. */
  name: string;
  /** The interval in milliseconds. */
  intervalMs: number;
  /** The rules that are evaluated (alerting rules). */
  rules: CompiledRule[];
  /** Recording rules of the group: read and reported, not evaluated here. */
  recording: string[];
}

const ACTION = /\{\{(.*?)\}\}/gs;
const SIMPLE =
  /^\s*(?:\$(labels|externalLabels)\.([A-Za-z_][A-Za-z0-9_]*)|\$(value)|\$(externalURL))\s*$/;
/** `$value | humanize`, `humanize $value` (and the other one-argument humanize functions). */
const UNARY =
  /^\s*(?:\$value\s*\|\s*(humanize|humanize1024|humanizePercentage|humanizeDuration)|(humanize|humanize1024|humanizePercentage|humanizeDuration)\s+\$value)\s*$/;
/** `printf "<format>" $value` and `$value | printf "<format>"`, a format without escapes. */
const PRINTF = /^\s*(?:printf\s+"([^"\\]*)"\s+\$value|\$value\s*\|\s*printf\s+"([^"\\]*)")\s*$/;

/**
 * The common templates (text with `{{ $labels.x }}`, `{{ $value }}`,
 * `{{ $externalLabels.x }}`, `{{ $externalURL }}`, `{{ $value | humanize }}`
 * and the other humanize functions, `{{ printf "%.1f" $value }}`) compiled to
 * a concatenation calling the engine's own functions, so they print exactly
 * as the Go-template engine does (checked against it in the tests);
 * `undefined` for anything else (other pipelines and functions, trim
 * markers, variables), which the engine compiles.
 */
export function fastTemplate(text: string): ((data: TemplateData) => string) | undefined {
  const parts: ((d: TemplateData) => string)[] = [];
  let last = 0;
  for (const m of text.matchAll(ACTION)) {
    const literal = text.slice(last, m.index);
    if (literal.includes("}}") || literal.includes("{{")) return undefined;
    if (literal !== "") parts.push(() => literal);
    last = m.index! + m[0].length;
    const a = m[1].match(SIMPLE);
    const u = a === null ? m[1].match(UNARY) : null;
    const f = a === null && u === null ? m[1].match(PRINTF) : null;
    if (u !== null) {
      const fn = FUNCTIONS[u[1] ?? u[2]];
      // The humanize functions read no environment (no query, no external URL).
      parts.push((d) => formatValue(fn.call([d.value as GoValue], {} as ExecEnv) as GoValue));
    } else if (f !== null) {
      const format = f[1] ?? f[2];
      parts.push((d) => sprintf(format, [d.value]));
    } else if (a === null) return undefined;
    else if (a[1] === "labels") {
      const name = a[2];
      parts.push((d) => d.labels[name] ?? "");
    } else if (a[1] === "externalLabels") {
      const name = a[2];
      parts.push((d) => d.externalLabels[name] ?? "");
    } else if (a[3] !== undefined) parts.push((d) => formatValue(d.value));
    else parts.push((d) => d.externalURL);
  }
  const tail = text.slice(last);
  if (tail.includes("{{") || tail.includes("}}")) return undefined;
  if (tail !== "") parts.push(() => tail);
  if (parts.length === 1) return parts[0];
  return (d) => {
    let out = "";
    for (const p of parts) out += p(d);
    return out;
  };
}

function ms(name: string, rule: string, d: DurationInput | undefined): number {
  if (d === undefined) return 0;
  try {
    return parseDuration(d) * 1000;
  } catch (error) {
    throw new RangeError(`Invalid ${name} of rule ${rule}: ${(error as Error).message}`);
  }
}

/** Options of {@linkcode compileGroups}. */
export interface CompileOptions {
  /** Interval of groups without one. */
  intervalMs: number;
  /** External labels, for templates. */
  externalLabels: Labels;
  /** External URL, for templates. */
  externalURL: string;
  /** The template compiler. @default {the Go-template engine, templates named `__alert_<alertname>`} */
  template?: TemplateCompiler;
}

/**
 * Compiles groups for evaluation: durations parsed, templates compiled,
 * selectors found. Misuse (duplicate group names, bad durations) throws.
 */
export function compileGroups(
  groups: readonly RuleGroupSpec[],
  options: CompileOptions,
): CompiledGroup[] {
  const names = new Set<string>();
  return groups.map((g) => {
    if (typeof g?.name !== "string" || g.name === "") {
      throw new TypeError("Invalid rule group: expected a non-empty name");
    }
    if (names.has(g.name)) {
      throw new TypeError(`Invalid rule groups: duplicate group name: ${g.name}`);
    }
    names.add(g.name);
    const intervalMs = g.interval === undefined
      ? options.intervalMs
      : ms("interval", `group ${g.name}`, g.interval);
    if (!(intervalMs > 0)) {
      throw new RangeError(`Invalid interval of group ${g.name}: expected a positive duration`);
    }
    const limit = g.limit ?? 0;
    const seen = new Map<string, number>();
    const rules: CompiledRule[] = [];
    const recording: string[] = [];
    for (const r of g.rules) {
      if ("record" in r && typeof r.record === "string") {
        recording.push(r.record);
        continue;
      }
      const spec = r as AlertingRuleSpec;
      const n = (seen.get(spec.alert) ?? 0) + 1;
      seen.set(spec.alert, n);
      rules.push(compileRule(spec, g.name, n, limit, options));
    }
    return { name: g.name, intervalMs, rules, recording };
  });
}

function compileRule(
  spec: AlertingRuleSpec,
  group: string,
  n: number,
  limit: number,
  options: CompileOptions,
): CompiledRule {
  const name = spec.alert;
  const engine = options.template ?? goTemplateCompiler({ name: `__alert_${name}` });
  const template = options.template ?? ((text: string) => {
    const fast = fastTemplate(text);
    if (fast === undefined) return engine(text);
    // A function failing (an error the engine prints its own way): the engine's output.
    let slow: ((d: TemplateData) => string) | undefined;
    return (d: TemplateData) => {
      try {
        return fast(d);
      } catch {
        return (slow ??= engine(text))(d);
      }
    };
  });
  const labelTemplates = Object.entries(spec.labels ?? {}).map((
    [k, v],
  ) => [k, v, v.includes("{{") ? template(v) : undefined] as const);
  const staticLabels = labelTemplates.every(([, , t]) => t === undefined);
  const annotationTemplates = Object.entries(spec.annotations ?? {}).map((
    [k, v],
  ) => [k, template(v)] as const);
  const data = (s: RuleSample): TemplateData => ({
    labels: s.templateLabels === undefined ? s.labels : { ...s.labels, ...s.templateLabels },
    value: s.value,
    externalLabels: options.externalLabels,
    externalURL: options.externalURL,
  });
  const alertLabels = (s: RuleSample): Labels => {
    const out: Labels = {};
    for (const k in s.labels) if (k !== "__name__") out[k] = s.labels[k];
    if (labelTemplates.length > 0) {
      const d = staticLabels ? undefined : data(s);
      for (const [k, v, t] of labelTemplates) out[k] = t === undefined ? v : t(d!);
    }
    out.alertname = name;
    return out;
  };
  const annotations = (s: RuleSample): Record<string, string> => {
    const out: Record<string, string> = {};
    if (annotationTemplates.length === 0) return out;
    const d = data(s);
    for (const [k, t] of annotationTemplates) out[k] = t(d);
    return out;
  };
  // The anomaly detector's template labels change with its span, not with the value.
  const pure = spec.opsbook?.detector !== "anomaly" &&
    Object.values(spec.annotations ?? {}).every((t) => !/\bquery\b/.test(t));
  return {
    key: n === 1 ? `${group}/${name}` : `${group}/${name}#${n}`,
    group,
    name,
    expr: spec.expr,
    spec,
    forMs: ms("for", name, spec.for),
    keepFiringForMs: ms("keep_firing_for", name, spec.keepFiringFor),
    limit,
    selectors: vectorSelectors(spec.expr).filter((s) => !s.inAbsent),
    staticLabels,
    alertLabels,
    annotations,
    pureAnnotations: pure,
  };
}
