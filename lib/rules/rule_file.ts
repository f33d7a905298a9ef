/**
 * Prometheus rule files (YAML): loaded and validated as `promtool check rules`
 * does, with every problem named by file, line, column and rule, and every
 * template compiled at load time.
 *
 * opsbook's detector options live in an annotation named `opsbook` whose
 * value is a YAML flow mapping, e.g.
 * `opsbook: "{detector: hysteresis, clear_below: 75}"`: `promtool check rules`
 * rejects unknown keys in a rule (`field opsbook not found in type
 * rulefmt.RuleNode`), while an annotation is legal everywhere and survives
 * the tools that rewrite rule files. The loader moves it from `annotations`
 * to {@linkcode AlertingRule.opsbook}, so opsbook's notifications do not carry
 * it (Prometheus, evaluating the same file, passes it on as a harmless
 * annotation).
 *
 * @module
 */

import {
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  type Scalar,
  type YAMLMap,
} from "yaml";
import { OpsbookError } from "../errors.ts";
import { parseDuration } from "../time.ts";
import { compileTemplate, type Template, TemplateError } from "./template.ts";
import { checkDetector } from "./detector_rules.ts";

/**
 * Where something is in a rule file (1-based line and column).
 *
 * @example
 * ```ts
 * import { parseRules, type SourcePosition } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const file = parseRules(`
 * groups:
 *   - name: node
 *     rules:
 *       - alert: HostDown
 *         expr: up == 0
 *         for: 2m
 *         annotations:
 *           summary: "{{ $labels.instance }} is down"
 *       - record: job:up:sum
 *         expr: sum by (job) (up)
 * `, { file: "node.yml" });
 * const at: SourcePosition = file.groups[0].rules[0].position;
 * assert.deepEqual(at, { file: "node.yml", line: 5, column: 9 });
 * ```
 */
export interface SourcePosition {
  /** The file as given to the loader. */
  file: string;
  /** 1-based line. */
  line: number;
  /** 1-based column. */
  column: number;
}

/**
 * An alerting rule as loaded. Assignable to the evaluator's
 * `AlertingRuleSpec`: durations are seconds, templates are the texts of the
 * file (compiled forms in {@linkcode AlertingRule.templates}).
 *
 * @example
 * ```ts
 * import { type AlertingRule, parseRules } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const file = parseRules(`
 * groups:
 *   - name: node
 *     rules:
 *       - alert: HostDown
 *         expr: up == 0
 *         for: 2m
 *         annotations:
 *           summary: "{{ $labels.instance }} is down"
 *       - record: job:up:sum
 *         expr: sum by (job) (up)
 * `, { file: "node.yml" });
 * const rule = file.groups[0].rules[0] as AlertingRule;
 * assert.deepEqual([rule.alert, rule.for, rule.keepFiringFor], ["HostDown", 120, 0]);
 * ```
 */
export interface AlertingRule {
  /** Discriminator. */
  kind: "alerting";
  /** The `alert:` name (becomes the `alertname` label). */
  alert: string;
  /** The PromQL expression. */
  expr: string;
  /** `for:` in seconds (0 when absent). */
  for: number;
  /** `keep_firing_for:` in seconds (0 when absent). */
  keepFiringFor: number;
  /** `labels:` (values are templates). */
  labels: Record<string, string>;
  /** `annotations:` (templates), without the `opsbook` annotation. */
  annotations: Record<string, string>;
  /** opsbook's detector options from the `opsbook` annotation, when present. */
  opsbook?: Record<string, unknown>;
  /** The compiled label and annotation templates (named `__alert_<alert>`, as Prometheus names them). */
  templates: { labels: Record<string, Template>; annotations: Record<string, Template> };
  /** Where the rule starts. */
  position: SourcePosition;
}

/**
 * A recording rule: loaded and reported, never evaluated by opsbook (the Prometheus server does).
 *
 * @example
 * ```ts
 * import { parseRules, type RecordingRule } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const file = parseRules(`
 * groups:
 *   - name: node
 *     rules:
 *       - alert: HostDown
 *         expr: up == 0
 *         for: 2m
 *         annotations:
 *           summary: "{{ $labels.instance }} is down"
 *       - record: job:up:sum
 *         expr: sum by (job) (up)
 * `, { file: "node.yml" });
 * const rule = file.groups[0].rules[1] as RecordingRule;
 * assert.deepEqual([rule.record, rule.expr], ["job:up:sum", "sum by (job) (up)"]);
 * ```
 */
export interface RecordingRule {
  /** Discriminator. */
  kind: "recording";
  /** The `record:` metric name. */
  record: string;
  /** The PromQL expression. */
  expr: string;
  /** `labels:` (plain values). */
  labels: Record<string, string>;
  /** Where the rule starts. */
  position: SourcePosition;
}

/**
 * A rule of a group.
 *
 * @example
 * ```ts
 * import { parseRules, type Rule } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const file = parseRules(`
 * groups:
 *   - name: node
 *     rules:
 *       - alert: HostDown
 *         expr: up == 0
 *         for: 2m
 *         annotations:
 *           summary: "{{ $labels.instance }} is down"
 *       - record: job:up:sum
 *         expr: sum by (job) (up)
 * `, { file: "node.yml" });
 * const names = file.groups[0].rules.map((r: Rule) => r.kind === "alerting" ? r.alert : r.record);
 * assert.deepEqual(names, ["HostDown", "job:up:sum"]);
 * ```
 */
export type Rule = AlertingRule | RecordingRule;

/**
 * A rule group. Assignable to the evaluator's `RuleGroupSpec`.
 *
 * @example
 * ```ts
 * import { parseRules, type RuleGroup } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const file = parseRules(`
 * groups:
 *   - name: node
 *     rules:
 *       - alert: HostDown
 *         expr: up == 0
 *         for: 2m
 *         annotations:
 *           summary: "{{ $labels.instance }} is down"
 *       - record: job:up:sum
 *         expr: sum by (job) (up)
 * `, { file: "node.yml" });
 * const [group]: RuleGroup[] = file.groups;
 * assert.deepEqual([group.name, group.rules.length, group.position.line], ["node", 2, 3]);
 * ```
 */
export interface RuleGroup {
  /** The group's name, unique in its file. */
  name: string;
  /** `interval:` in seconds; absent: the evaluator's default. */
  interval?: number;
  /** `limit:` (0: no limit). */
  limit: number;
  /** `query_offset:` in seconds (Prometheus ≥ 2.53; 0 when absent). */
  queryOffset: number;
  /** The rules in file order, recording rules included. */
  rules: Rule[];
  /** Where the group starts. */
  position: SourcePosition;
}

/**
 * A loaded rule file.
 *
 * @example
 * ```ts
 * import { parseRules, type RuleFile } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const file = parseRules(`
 * groups:
 *   - name: node
 *     rules:
 *       - alert: HostDown
 *         expr: up == 0
 *         for: 2m
 *         annotations:
 *           summary: "{{ $labels.instance }} is down"
 *       - record: job:up:sum
 *         expr: sum by (job) (up)
 * `, { file: "node.yml" });
 * const parsed: RuleFile = file;
 * assert.deepEqual([parsed.file, parsed.groups.length, parsed.notices.length], ["node.yml", 1, 1]);
 * ```
 */
export interface RuleFile {
  /** The file as given. */
  file: string;
  /** The groups in file order. */
  groups: RuleGroup[];
  /** Things worth saying that are not errors (recording rules not evaluated here, ...). */
  notices: RuleFileProblem[];
}

/**
 * One problem (or notice) in a rule file.
 *
 * @example
 * ```ts
 * import { parseRules, RuleFileError, type RuleFileProblem } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * try {
 *   parseRules("groups:\n  - name: node\n    rules:\n      - alert: NoExpr\n", { file: "bad.yml" });
 *   assert.fail("expected a RuleFileError");
 * } catch (e) {
 *   if (!(e instanceof RuleFileError)) throw e;
 *   const problems: RuleFileProblem[] = e.problems;
 *   assert.equal(problems[0].rule, "NoExpr");
 * }
 * ```
 */
export interface RuleFileProblem extends SourcePosition {
  /** The rule's name (`alert` or `record`), when the problem is in a rule. */
  rule?: string;
  /** What is wrong, e.g. `for: invalid duration "5 minutes"`. */
  detail: string;
  /** `file:line:col: rule NAME: detail`. */
  message: string;
}

/**
 * A rule file that does not load: every problem found, each with file, line,
 * column and rule. The message lists them one per line.
 *
 * @example Catch a bad duration
 * ```ts
 * import { parseRules, RuleFileError } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const text = "groups:\n- name: node\n  rules:\n  - alert: HostOutOfMemory\n    expr: up == 0\n    for: 5 minutes\n";
 * try {
 *   parseRules(text, { file: "rules/node.yml" });
 *   assert.fail("expected an error");
 * } catch (error) {
 *   assert.ok(error instanceof RuleFileError);
 *   assert.equal(error.message, 'rules/node.yml:6:10: rule HostOutOfMemory: for: invalid duration "5 minutes"');
 * }
 * ```
 */
export class RuleFileError extends OpsbookError {
  /** Every problem, in file order. */
  readonly problems: RuleFileProblem[];

  /** Create the error from its problems (at least one). */
  constructor(problems: RuleFileProblem[]) {
    super(problems.map((p) => p.message).join("\n"));
    this.name = "RuleFileError";
    this.problems = problems;
  }
}

/**
 * Options of {@linkcode parseRules}.
 *
 * @example
 * ```ts
 * import { parseRules, type ParseRulesOptions } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const options: ParseRulesOptions = { file: "rules/node.yml" }; // names the file in messages
 * assert.equal(parseRules("groups: []", options).file, "rules/node.yml");
 * ```
 */
export interface ParseRulesOptions {
  /**
   * The file name used in positions and messages.
   *
   * @default {"<rules>"}
   */
  file?: string;
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const GROUP_KEYS = new Set(["name", "interval", "limit", "query_offset", "rules"]);
const RULE_KEYS = new Set([
  "record",
  "alert",
  "expr",
  "for",
  "keep_firing_for",
  "labels",
  "annotations",
]);

/** Prometheus' `model.ParseDuration` into seconds, or `undefined`. */
function promDuration(text: string): number | undefined {
  if (text === "0") return 0;
  if (text === "") return undefined;
  try {
    return parseDuration(text);
  } catch {
    return undefined;
  }
}

/** A cheap check of brackets and quotes in PromQL; returns the problem or `undefined`. */
function exprBalance(expr: string): string | undefined {
  const stack: string[] = [];
  const close: Record<string, string> = { ")": "(", "]": "[", "}": "{" };
  const names: Record<string, string> = { "(": "parenthesis", "[": "bracket", "{": "brace" };
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i];
    if (c === "#") {
      const nl = expr.indexOf("\n", i);
      if (nl === -1) break;
      i = nl;
    } else if (c === '"' || c === "'" || c === "`") {
      let j = i + 1;
      while (j < expr.length && expr[j] !== c) j += expr[j] === "\\" && c !== "`" ? 2 : 1;
      if (j >= expr.length) return `unterminated quoted string ${expr.slice(i, i + 20)}`;
      i = j;
    } else if (c === "(" || c === "[" || c === "{") stack.push(c);
    else if (c in close) {
      const open = stack.pop();
      if (open !== close[c]) {
        return open === undefined
          ? `unexpected right ${names[close[c]]} '${c}'`
          : `unclosed left ${names[open]}`;
      }
    }
  }
  if (stack.length > 0) return `unclosed left ${names[stack[stack.length - 1]]}`;
  return undefined;
}

/**
 * Parse and validate the text of a Prometheus rule file. Throws a
 * {@linkcode RuleFileError} listing every problem: what `promtool check
 * rules` rejects (unknown keys, duplicate keys or group names, bad
 * durations, `record` and `alert` both or neither, bad label or annotation
 * names, recording rules with `for`/`annotations`, invalid recording rule
 * names, empty `expr`, unbalanced brackets or quotes in `expr`), templates
 * that do not compile (unknown functions, syntax, and opsbook's unsupported
 * `query`) and bad opsbook detector options.
 *
 * @example Load a rule file's text
 * ```ts
 * import { parseRules } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const file = parseRules(`
 * groups:
 *   - name: node
 *     rules:
 *       - alert: HostDown
 *         expr: up == 0
 *         for: 2m
 *         labels: { severity: critical }
 *         annotations:
 *           summary: "{{ $labels.instance }} is down"
 *       - record: job:up:sum
 *         expr: sum by (job) (up)
 * `, { file: "node.yml" });
 * const [down, record] = file.groups[0].rules;
 * assert.equal(down.kind, "alerting");
 * assert.equal(down.kind === "alerting" && down.for, 120);
 * assert.equal(record.kind, "recording");
 * assert.equal(file.notices[0].message, "node.yml:11:9: rule job:up:sum: recording rule loaded, not evaluated by opsbook (the Prometheus server evaluates it)");
 * ```
 */
export function parseRules(text: string, options: ParseRulesOptions = {}): RuleFile {
  const file = options.file ?? "<rules>";
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const problems: RuleFileProblem[] = [];
  const notices: RuleFileProblem[] = [];
  const at = (node: Node | null | undefined, fallback?: Node | null): SourcePosition => {
    const offset = node?.range?.[0] ?? fallback?.range?.[0] ?? 0;
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, column: col };
  };
  const make = (pos: SourcePosition, detail: string, rule?: string): RuleFileProblem => ({
    ...pos,
    ...(rule === undefined ? {} : { rule }),
    detail,
    message: `${pos.file}:${pos.line}:${pos.column}: ${
      rule === undefined ? "" : `rule ${rule}: `
    }${detail}`,
  });
  const problem = (pos: SourcePosition, detail: string, rule?: string) => {
    problems.push(make(pos, detail, rule));
  };

  for (const error of doc.errors) {
    const pos = lineCounter.linePos(error.pos[0]);
    problem(
      { file, line: pos.line, column: pos.col },
      `yaml: ${error.message.split(" at line ")[0]}`,
    );
  }
  if (problems.length > 0) throw new RuleFileError(problems);

  const groups: RuleGroup[] = [];
  const root = doc.contents;
  const empty = root === null || (isScalar(root) && (root.value === null || root.value === ""));
  if (!empty) {
    if (!isMap(root)) {
      problem(at(root), "expected a mapping with a groups: list");
    } else {
      for (const pair of root.items) {
        const key = String((pair.key as Scalar).value);
        if (key !== "groups") problem(at(pair.key as Node), `unknown field "${key}"`);
      }
      const groupsNode = root.get("groups", true) as Node | undefined;
      if (groupsNode !== undefined && !(isScalar(groupsNode) && groupsNode.value === null)) {
        if (!isSeq(groupsNode)) problem(at(groupsNode), "groups: expected a list of groups");
        else {
          const names = new Set<string>();
          for (const item of groupsNode.items) {
            const group = loadGroup(item as Node, names);
            if (group !== undefined) groups.push(group);
          }
        }
      }
    }
  }
  if (problems.length > 0) throw new RuleFileError(problems);
  return { file, groups, notices };

  function scalarString(node: Node | undefined, what: string, rule?: string): string | undefined {
    if (node === undefined) return undefined;
    if (!isScalar(node)) {
      problem(
        at(node),
        `${what}: expected a string, got a ${isSeq(node) ? "list" : "mapping"}`,
        rule,
      );
      return undefined;
    }
    if (node.value === null) return "";
    return typeof node.value === "string" ? node.value : String(node.source ?? node.value);
  }

  function duration(node: Node | undefined, what: string, rule?: string): number | undefined {
    const text = scalarString(node, what, rule);
    if (text === undefined) return undefined;
    const seconds = promDuration(text);
    if (seconds === undefined) problem(at(node), `${what}: invalid duration "${text}"`, rule);
    return seconds;
  }

  function stringMap(node: Node | undefined, what: string, rule: string): [string, string, Node][] {
    if (node === undefined || (isScalar(node) && node.value === null)) return [];
    if (!isMap(node)) {
      problem(at(node), `${what}: expected a mapping`, rule);
      return [];
    }
    const out: [string, string, Node][] = [];
    for (const pair of node.items) {
      const key = String((pair.key as Scalar).value);
      const valueNode = (pair.value ?? pair.key) as Node;
      const value = scalarString(pair.value as Node | undefined, `${what}: ${key}`, rule) ?? "";
      out.push([key, value, valueNode]);
    }
    return out;
  }

  function loadGroup(node: Node, names: Set<string>): RuleGroup | undefined {
    if (!isMap(node)) {
      problem(at(node), "group: expected a mapping");
      return undefined;
    }
    const map = node as YAMLMap;
    for (const pair of map.items) {
      const key = String((pair.key as Scalar).value);
      if (!GROUP_KEYS.has(key)) problem(at(pair.key as Node), `unknown field "${key}" in group`);
    }
    const nameNode = map.get("name", true) as Node | undefined;
    const name = scalarString(nameNode, "name") ?? "";
    if (name === "") problem(at(nameNode, node), "group name must not be empty");
    else if (names.has(name)) {
      problem(at(nameNode), `group name "${name}" is repeated in the same file`);
    }
    names.add(name);
    const intervalNode = map.get("interval", true) as Node | undefined;
    const interval = duration(intervalNode, `group ${name}: interval`);
    const queryOffset =
      duration(map.get("query_offset", true) as Node | undefined, `group ${name}: query_offset`) ??
        0;
    let limit = 0;
    const limitNode = map.get("limit", true) as Node | undefined;
    if (limitNode !== undefined) {
      const value = isScalar(limitNode) ? limitNode.value : undefined;
      if (typeof value !== "number" || !Number.isInteger(value)) {
        problem(at(limitNode), `group ${name}: limit: expected an integer`);
      } else limit = value;
    }
    const rules: Rule[] = [];
    const rulesNode = map.get("rules", true) as Node | undefined;
    if (rulesNode !== undefined && !(isScalar(rulesNode) && rulesNode.value === null)) {
      if (!isSeq(rulesNode)) problem(at(rulesNode), `group ${name}: rules: expected a list`);
      else {
        for (const item of rulesNode.items) {
          const rule = loadRule(item as Node);
          if (rule !== undefined) rules.push(rule);
        }
      }
    }
    return {
      name,
      ...(intervalNode === undefined || interval === undefined ? {} : { interval }),
      limit,
      queryOffset,
      rules,
      position: at(node),
    };
  }

  function loadRule(node: Node): Rule | undefined {
    if (!isMap(node)) {
      problem(at(node), "rule: expected a mapping");
      return undefined;
    }
    const map = node as YAMLMap;
    const get = (key: string) => map.get(key, true) as Node | undefined;
    const alert = scalarString(get("alert"), "alert");
    const record = scalarString(get("record"), "record");
    const name = alert ?? record;
    for (const pair of map.items) {
      const key = String((pair.key as Scalar).value);
      if (key === "opsbook") {
        problem(
          at(pair.key as Node),
          `unknown field "opsbook" (promtool rejects it): write it as an annotation, opsbook: "{detector: hysteresis, clear_below: 75}"`,
          name,
        );
      } else if (!RULE_KEYS.has(key)) problem(at(pair.key as Node), `unknown field "${key}"`, name);
    }
    const position = at(node);
    if (alert !== undefined && record !== undefined) {
      problem(at(get("record")), "only one of 'record' and 'alert' must be set", name);
    } else if (alert === undefined && record === undefined) {
      problem(position, "one of 'record' or 'alert' must be set");
    }
    const exprNode = get("expr");
    const expr = scalarString(exprNode, "expr", name) ?? "";
    if (expr.trim() === "") problem(at(exprNode, node), "field 'expr' must be set in rule", name);
    else {
      const bad = exprBalance(expr);
      if (bad !== undefined) problem(at(exprNode), `could not parse expression: ${bad}`, name);
    }
    const labels = stringMap(get("labels"), "labels", name ?? "");
    for (const [key, , valueNode] of labels) {
      if (!LABEL_NAME.test(key) || key === "__name__") {
        problem(at(valueNode), `invalid label name: ${key}`, name);
      }
    }
    if (record !== undefined && alert === undefined) {
      for (const key of ["for", "keep_firing_for", "annotations"]) {
        if (get(key) !== undefined) {
          problem(at(get(key)), `invalid field '${key}' in recording rule`, record);
        }
      }
      if (!METRIC_NAME.test(record)) {
        problem(at(get("record")), `invalid recording rule name: ${record}`, record);
      }
      const rule: RecordingRule = {
        kind: "recording",
        record,
        expr,
        labels: Object.fromEntries(labels.map(([k, v]) => [k, v])),
        position,
      };
      notices.push(
        make(
          position,
          "recording rule loaded, not evaluated by opsbook (the Prometheus server evaluates it)",
          record,
        ),
      );
      return rule;
    }
    if (alert === undefined) return undefined;
    const forSeconds = duration(get("for"), "for", alert) ?? 0;
    const keepFiringFor = duration(get("keep_firing_for"), "keep_firing_for", alert) ?? 0;
    const annotations = stringMap(get("annotations"), "annotations", alert);
    const templates: AlertingRule["templates"] = { labels: {}, annotations: {} };
    const compile = (what: string, text: string, valueNode: Node): Template | undefined => {
      try {
        return compileTemplate(text, { name: `__alert_${alert}` });
      } catch (error) {
        if (!(error instanceof TemplateError)) throw error;
        problem(at(valueNode), `${what}: ${error.message}`, alert);
        return undefined;
      }
    };
    for (const [key, value, valueNode] of labels) {
      const t = compile(`labels: ${key}`, value, valueNode);
      if (t !== undefined) templates.labels[key] = t;
    }
    let opsbook: Record<string, unknown> | undefined;
    const plainAnnotations: Record<string, string> = {};
    for (const [key, value, valueNode] of annotations) {
      if (!LABEL_NAME.test(key)) problem(at(valueNode), `invalid annotation name: ${key}`, alert);
      const t = compile(`annotations: ${key}`, value, valueNode);
      if (key === "opsbook") {
        opsbook = parseOpsbook(value, valueNode, alert, expr);
        continue;
      }
      plainAnnotations[key] = value;
      if (t !== undefined) templates.annotations[key] = t;
    }
    return {
      kind: "alerting",
      alert,
      expr,
      for: forSeconds,
      keepFiringFor,
      labels: Object.fromEntries(labels.map(([k, v]) => [k, v])),
      annotations: plainAnnotations,
      ...(opsbook === undefined ? {} : { opsbook }),
      templates,
      position,
    };
  }

  function parseOpsbook(
    value: string,
    node: Node,
    alert: string,
    expr: string,
  ): Record<string, unknown> | undefined {
    const inner = parseDocument(value, { uniqueKeys: true });
    const options = inner.errors.length === 0 ? inner.toJS() : undefined;
    if (options === null || typeof options !== "object" || Array.isArray(options)) {
      problem(
        at(node),
        `annotations: opsbook: expected a mapping such as "{detector: hysteresis, clear_below: 75}", got ${
          JSON.stringify(value)
        }`,
        alert,
      );
      return undefined;
    }
    const bad = checkDetector(expr, options as Record<string, unknown>);
    if (bad !== undefined) problem(at(node), `annotations: opsbook: ${bad}`, alert);
    return options as Record<string, unknown>;
  }
}

/**
 * Options of {@linkcode loadRuleFiles}.
 *
 * @example Rule files from somewhere other than the disk
 * ```ts
 * import { loadRuleFiles, type LoadRuleFilesOptions } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const files: Record<string, string> = { "a.yml": "groups:\n  - name: a\n    rules: []\n" };
 * const options: LoadRuleFilesOptions = { readTextFile: (path) => Promise.resolve(files[path]) };
 * const [file] = await loadRuleFiles(["a.yml"], options);
 * assert.deepEqual(file.groups.map((g) => g.name), ["a"]);
 * ```
 */
export interface LoadRuleFilesOptions {
  /**
   * Read a file's text (for tests or virtual files).
   *
   * @default {Deno.readTextFile}
   */
  readTextFile?: (path: string) => Promise<string>;
}

/**
 * Read and validate rule files. All files are read; if any has problems, one
 * {@linkcode RuleFileError} lists every problem of every file.
 *
 * @example Load the shipped rule file
 * ```ts
 * import { loadRuleFiles } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const [file] = await loadRuleFiles(["rules/node.yml"]);
 * assert.ok(file.groups[0].rules.some((r) => r.kind === "alerting" && r.alert === "HostHighCpu"));
 * ```
 */
export async function loadRuleFiles(
  paths: readonly string[],
  options: LoadRuleFilesOptions = {},
): Promise<RuleFile[]> {
  const read = options.readTextFile ?? ((path: string) => Deno.readTextFile(path));
  const files: RuleFile[] = [];
  const problems: RuleFileProblem[] = [];
  for (const path of paths) {
    let text: string;
    try {
      text = await read(path);
    } catch (error) {
      const detail = error instanceof Deno.errors.NotFound
        ? "no such file"
        : (error as Error).message;
      problems.push({ file: path, line: 0, column: 0, detail, message: `${path}: ${detail}` });
      continue;
    }
    try {
      files.push(parseRules(text, { file: path }));
    } catch (error) {
      if (!(error instanceof RuleFileError)) throw error;
      problems.push(...error.problems);
    }
  }
  if (problems.length > 0) throw new RuleFileError(problems);
  return files;
}
