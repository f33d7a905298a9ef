/**
 * Prometheus alert templates: Go's text/template with Prometheus' functions,
 * compiled once and expanded for every alert.
 *
 * @module
 */

import { OpsbookError } from "../errors.ts";
import { GoStruct, type GoValue } from "./_go_fmt.ts";
import { ExecFailure, execute, FUNCTIONS, QUERY_FUNCTIONS } from "./_template_exec.ts";
import { ParseFailure, parseTemplate, type TemplateNode } from "./_template_parse.ts";

/**
 * The definitions Prometheus prepends to every alert template, so `$labels`,
 * `$externalLabels`, `$externalURL` and `$value` exist. Execution errors count
 * columns in the text including this prefix, exactly as Prometheus does.
 */
export const TEMPLATE_PREFIX =
  "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}";

const DATA_TYPE =
  "struct { Labels map[string]string; ExternalLabels map[string]string; ExternalURL string; Value float64 }";

/**
 * Options of {@linkcode compileTemplate}.
 *
 * @example
 * ```ts
 * import { compileTemplate, type CompileTemplateOptions, TemplateError } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const options: CompileTemplateOptions = { name: "summary" };
 * assert.throws(() => compileTemplate("{{ $labels.instance", options), TemplateError);
 * ```
 */
export interface CompileTemplateOptions {
  /**
   * The template's name, used in error messages. Prometheus names a rule's
   * templates `__alert_<alertname>`; use the same to get identical messages.
   *
   * @default {"template"}
   */
  name?: string;
}

/**
 * The data an alert template sees (Prometheus' `AlertTemplateData`).
 *
 * @example
 * ```ts
 * import { type AlertTemplateData, expandTemplate } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const data: AlertTemplateData = {
 *   labels: { instance: "db-01:9100" },
 *   value: 0.953,
 *   externalLabels: { cluster: "eu" },
 * };
 * assert.equal(
 *   expandTemplate("{{ $labels.instance }} in {{ $externalLabels.cluster }}: {{ humanizePercentage $value }}", data),
 *   "db-01:9100 in eu: 95.3%",
 * );
 * ```
 */
export interface AlertTemplateData {
  /**
   * `$labels` / `.Labels`: the labels of the series the rule's `expr`
   * returned (Prometheus passes them as returned, `__name__` included when
   * the expression keeps it).
   *
   * @default {{}}
   */
  labels?: Readonly<Record<string, string>> | ReadonlyMap<string, string>;
  /**
   * `$externalLabels` / `.ExternalLabels`.
   *
   * @default {{}}
   */
  externalLabels?: Readonly<Record<string, string>> | ReadonlyMap<string, string>;
  /**
   * `$externalURL` / `.ExternalURL`, also returned by `externalURL`.
   *
   * @default {""}
   */
  externalURL?: string;
  /**
   * `$value` / `.Value`: the sample value (a Go float64).
   *
   * @default {0}
   */
  value?: number;
}

/**
 * Options of {@linkcode expandTemplate}.
 *
 * @example Show the error instead of throwing, as Prometheus does
 * ```ts
 * import { expandTemplate, type ExpandTemplateOptions } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const options: ExpandTemplateOptions = { onError: "text" };
 * assert.match(expandTemplate("{{ toUpper $value }}", { value: 1 }, options), /^<error expanding template: /);
 * ```
 */
export interface ExpandTemplateOptions {
  /**
   * What an execution error does: `"throw"` a {@linkcode TemplateError}, or
   * `"text"`: return what Prometheus puts in the annotation or label instead,
   * `<error expanding template: error executing template NAME: ...>`.
   *
   * @default {"throw"}
   */
  onError?: "throw" | "text";
}

/**
 * Where a template error happened: parsing (load time) or execution.
 *
 * @example
 * ```ts
 * import { compileTemplate, TemplateError, type TemplateErrorKind } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * try {
 *   compileTemplate("{{ if }}");
 *   assert.fail("expected a TemplateError");
 * } catch (e) {
 *   if (!(e instanceof TemplateError)) throw e;
 *   const kind: TemplateErrorKind = e.kind;
 *   assert.equal(kind, "parse");
 * }
 * ```
 */
export type TemplateErrorKind = "parse" | "execute";

/**
 * A template that does not parse, calls an unknown (or, in opsbook,
 * unsupported) function, or fails while expanding.
 *
 * `line` and `column` (1-based) point into the template's own text;
 * `goMessage` is the message Go's text/template (and so Prometheus) gives.
 *
 * @example Catch an unknown function
 * ```ts
 * import { compileTemplate, TemplateError } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * try {
 *   compileTemplate("{{ $value | nosuch }}", { name: "__alert_A" });
 *   assert.fail("expected an error");
 * } catch (error) {
 *   assert.ok(error instanceof TemplateError);
 *   assert.equal(error.message, 'template: 1:13: function "nosuch" not defined');
 *   assert.equal(error.goMessage, 'template: __alert_A:1: function "nosuch" not defined');
 * }
 * ```
 */
export class TemplateError extends OpsbookError {
  /** Parse (load time) or execute. */
  readonly kind: TemplateErrorKind;
  /** The template's name. */
  readonly templateName: string;
  /** 1-based line in the template's text. */
  readonly line: number;
  /** 1-based column (in characters) in the template's text. */
  readonly column: number;
  /** The detail without position, e.g. `function "nosuch" not defined`. */
  readonly detail: string;
  /** Go's own error text, as Prometheus reports it. */
  readonly goMessage: string;

  /** Create the error; `message` is `template: LINE:COL: DETAIL`. */
  constructor(init: {
    kind: TemplateErrorKind;
    templateName: string;
    line: number;
    column: number;
    detail: string;
    goMessage: string;
  }) {
    super(`template: ${init.line}:${init.column}: ${init.detail}`);
    this.name = "TemplateError";
    this.kind = init.kind;
    this.templateName = init.templateName;
    this.line = init.line;
    this.column = init.column;
    this.detail = init.detail;
    this.goMessage = init.goMessage;
  }
}

/** Line and column (1-based, characters) of `pos` in the user text (after the prefix). */
function userPosition(full: string, pos: number): { line: number; column: number } {
  const userPos = Math.max(pos - TEMPLATE_PREFIX.length, 0);
  const user = full.slice(TEMPLATE_PREFIX.length, TEMPLATE_PREFIX.length + userPos);
  const lines = user.split("\n");
  return { line: lines.length, column: [...lines[lines.length - 1]].length + 1 };
}

const utf8 = new TextEncoder();

/** Go's `ErrorContext` location: `line:byteColumn` (0-based bytes, line 1 counts the prefix). */
function goLocation(full: string, pos: number): { line: number; col: number } {
  const before = full.slice(0, pos);
  const nl = before.lastIndexOf("\n");
  const line = before.split("\n").length;
  return { line, col: utf8.encode(before.slice(nl + 1)).length };
}

/**
 * A compiled alert template; see {@linkcode compileTemplate}.
 *
 * @example Expand a compiled template
 * ```ts
 * import { compileTemplate } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const template = compileTemplate("{{ $labels.instance }} at {{ $value | humanize }}");
 * assert.equal(template.expand({ labels: { instance: "a" }, value: 1234567 }), "a at 1.235M");
 * ```
 */
export class Template {
  /** The template's name (see {@linkcode CompileTemplateOptions.name}). */
  readonly name: string;
  /** The template's text as written in the rule file (without the prefix). */
  readonly source: string;
  readonly #full: string;
  readonly #nodes: TemplateNode[];

  /** Compile `source`; prefer {@linkcode compileTemplate}. */
  constructor(source: string, options: CompileTemplateOptions = {}) {
    this.name = options.name ?? "template";
    this.source = source;
    this.#full = TEMPLATE_PREFIX + source;
    try {
      this.#nodes = parseTemplate(this.#full, (name) => {
        if (QUERY_FUNCTIONS.has(name)) {
          throw new ParseFailure(
            `function "${name}" is not supported in opsbook (templates cannot run PromQL queries)`,
            -1,
          );
        }
        return Object.hasOwn(FUNCTIONS, name);
      });
    } catch (error) {
      if (!(error instanceof ParseFailure)) throw error;
      const pos = error.pos === -1 ? this.#lastIdentifier(error.detail) : error.pos;
      const { line, column } = userPosition(this.#full, pos);
      const goLine = this.#full.slice(0, pos).split("\n").length;
      throw new TemplateError({
        kind: "parse",
        templateName: this.name,
        line,
        column,
        detail: error.detail,
        goMessage: `template: ${this.name}:${goLine}: ${error.detail}`,
      });
    }
  }

  #lastIdentifier(detail: string): number {
    const name = /function "([^"]+)"/.exec(detail)?.[1] ?? "";
    const re = new RegExp(`\\b${name}\\b`);
    const found = re.exec(this.#full.slice(TEMPLATE_PREFIX.length));
    return TEMPLATE_PREFIX.length + (found?.index ?? 0);
  }

  /** Expand the template for one alert; see {@linkcode expandTemplate}. */
  expand(data: AlertTemplateData = {}, options: ExpandTemplateOptions = {}): string {
    const root = new GoStruct(DATA_TYPE, {
      Labels: toMap(data.labels),
      ExternalLabels: toMap(data.externalLabels),
      ExternalURL: data.externalURL ?? "",
      Value: data.value ?? 0,
    });
    try {
      return execute(this.#nodes, root, { externalURL: data.externalURL ?? "" });
    } catch (error) {
      if (!(error instanceof ExecFailure)) throw error;
      const { line, col } = goLocation(this.#full, error.pos);
      const context = error.context;
      const goMessage =
        `template: ${this.name}:${line}:${col}: executing "${this.name}" at <${context}>: ${error.detail}`;
      if ((options.onError ?? "throw") === "text") {
        return `<error expanding template: error executing template ${this.name}: ${goMessage}>`;
      }
      const user = userPosition(this.#full, error.pos);
      throw new TemplateError({
        kind: "execute",
        templateName: this.name,
        line: user.line,
        column: user.column,
        detail: error.detail,
        goMessage,
      });
    }
  }
}

function toMap(
  labels: Readonly<Record<string, string>> | ReadonlyMap<string, string> | undefined,
): Map<string, GoValue> {
  if (labels === undefined) return new Map();
  if (labels instanceof Map) return new Map(labels);
  return new Map(Object.entries(labels));
}

/**
 * Compile a Prometheus alert template (Go text/template with Prometheus'
 * functions) once, for expansion any number of times.
 *
 * Supported: `{{ $labels.x }}`, `{{ $value }}`, `{{ $externalLabels.x }}`,
 * `{{ .Labels.x }}`/`{{ .Value }}`, pipelines, variables (`:=`, `=`),
 * `if`/`else if`/`else`, `range` (with `break`/`continue`), `with`,
 * comments, `{{-`/`-}}` trimming, Go's builtins (`and or not len index
 * print printf println html js urlquery eq ne lt le gt ge`) and Prometheus'
 * `humanize humanize1024 humanizeDuration humanizePercentage
 * humanizeTimestamp toTime toUpper toLower title reReplaceAll match
 * stripPort safeHtml args graphLink tableLink externalURL pathPrefix`.
 *
 * `query` (and `first`, `label`, `value`, `strvalue`, `sortByLabel`, which
 * only make sense on its results) are rejected with a {@linkcode TemplateError}:
 * opsbook does not run PromQL from templates. `define`/`template`/`block`
 * are rejected too.
 *
 * @example Compile and expand
 * ```ts
 * import { compileTemplate } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const summary = compileTemplate(
 *   'CPU {{ printf "%.1f" $value }}% on {{ $labels.instance }}',
 *   { name: "__alert_HostHighCpu" },
 * );
 * assert.equal(summary.expand({ labels: { instance: "web-1" }, value: 92.25 }), "CPU 92.2% on web-1");
 * ```
 */
export function compileTemplate(text: string, options: CompileTemplateOptions = {}): Template {
  return new Template(text, options);
}

/**
 * Expand a template (compiled, or text compiled on the fly) for one alert,
 * exactly as Prometheus expands annotations and labels: `{{ $value }}` prints
 * like Go (`92`, `0.1`, `1e+06`, `NaN`), `{{ $labels }}` like a Go map
 * (`map[instance:a job:b]`), a missing label as the empty string.
 *
 * @example Expand with Prometheus' number formats
 * ```ts
 * import { expandTemplate } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const data = { labels: { job: "node", instance: "a" }, value: 1e6 };
 * assert.equal(expandTemplate("{{ $value }} {{ $labels }}", data), "1e+06 map[instance:a job:node]");
 * assert.equal(expandTemplate("{{ humanizePercentage 0.1234 }}", data), "12.34%");
 * assert.equal(
 *   expandTemplate("{{ toUpper $value }}", data, { onError: "text" }).slice(0, 28),
 *   "<error expanding template: e",
 * );
 * ```
 */
export function expandTemplate(
  template: Template | string,
  data: AlertTemplateData = {},
  options: ExpandTemplateOptions = {},
): string {
  const compiled = typeof template === "string" ? new Template(template) : template;
  return compiled.expand(data, options);
}

/**
 * Options of {@linkcode goTemplateCompiler}.
 *
 * @example
 * ```ts
 * import { goTemplateCompiler, type GoTemplateCompilerOptions } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const options: GoTemplateCompilerOptions = { name: "annotations" };
 * const compile = goTemplateCompiler(options);
 * assert.equal(compile("{{ $value }}")({ value: 95 }), "95");
 * ```
 */
export interface GoTemplateCompilerOptions {
  /**
   * The name given to every compiled template (Prometheus: `__alert_<alertname>`).
   *
   * @default {"template"}
   */
  name?: string;
}

/**
 * A template compiler for the rule evaluator ({@linkcode RuleEvaluator}'s
 * `template` option): compiles with {@linkcode compileTemplate} (throwing a
 * {@linkcode TemplateError} at load time) and expands like Prometheus,
 * an execution error becoming the `<error expanding template: ...>` text.
 *
 * @example Use the Go-template engine as a compiler function
 * ```ts
 * import { goTemplateCompiler } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const compile = goTemplateCompiler({ name: "__alert_DiskFull" });
 * const summary = compile("{{ $labels.mountpoint }} {{ humanizePercentage $value }} free");
 * assert.equal(
 *   summary({ labels: { mountpoint: "/" }, value: 0.042, externalLabels: {}, externalURL: "" }),
 *   "/ 4.2% free",
 * );
 * ```
 */
export function goTemplateCompiler(
  options: GoTemplateCompilerOptions = {},
): (text: string) => (data: AlertTemplateData) => string {
  return (text) => {
    const template = new Template(text, options);
    return (data) => template.expand(data, { onError: "text" });
  };
}
