/**
 * Papermill-style parameters: the first cell tagged `parameters` is followed
 * by an injected cell tagged `injected-parameters` holding `const name = value;`
 * lines. The Deno kernel lets a later cell redeclare a `const`, so the
 * injected values override the defaults.
 *
 * @module
 */

import { OpsbookError } from "../errors.ts";
import { parseDuration } from "../time.ts";
import { newCellId, type Notebook, type NotebookCell } from "./nbformat.ts";

/** Tag of the cell holding parameter defaults. */
export const PARAMETERS_TAG = "parameters";
/** Tag of the cell the runner injects. */
export const INJECTED_TAG = "injected-parameters";

/**
 * Thrown for a parameter the runner will not inject: a malformed
 * `name=value`, a reserved word as name, a non-finite number, a name the
 * parameters cell does not declare, or a value of the wrong type. The message
 * names the parameter and what is expected (one line per problem). Thrown
 * before the kernel starts: no cell has run.
 *
 * @example A misspelt parameter
 * ```ts
 * import { NotebookParameterError, runNotebook } from "opsbook";
 *
 * try {
 *   await runNotebook("notebooks/01_query.ipynb", { parameters: { treshold: 90 } });
 * } catch (error) {
 *   if (!(error instanceof NotebookParameterError)) throw error;
 *   console.log(error.problems[0]); // Unknown parameter treshold: did you mean threshold? …
 * }
 * ```
 */
export class NotebookParameterError extends OpsbookError {
  /** One line per problem. */
  readonly problems: readonly string[];
  /** Creates a notebook parameter error. */
  constructor(problems: readonly string[]) {
    super(problems.join("\n"));
    this.name = "NotebookParameterError";
    this.problems = problems;
  }
}

/** JavaScript's reserved words (and `let`, `static`, `yield`, `await`, `enum`): not usable as names. */
const RESERVED = new Set(
  (
    "break case catch class const continue debugger default delete do else enum export extends " +
    "false finally for function if import in instanceof new null return super switch this throw " +
    "true try typeof var void while with yield let static implements interface package private " +
    "protected public await arguments eval undefined NaN Infinity"
  ).split(" "),
);

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

function checkName(name: string): void {
  if (!IDENTIFIER.test(name)) {
    throw new NotebookParameterError([
      `Invalid parameter name ${
        JSON.stringify(name)
      }: expected a JavaScript identifier (letters, digits, _ and $)`,
    ]);
  }
  if (RESERVED.has(name)) {
    throw new NotebookParameterError([
      `Invalid parameter name ${name}: a reserved word cannot be a variable name`,
    ]);
  }
}

/** Throws when `value` holds a number that is not finite (JSON.parse turns 1e400 into Infinity). */
function checkFinite(name: string, value: unknown, text?: string): void {
  const bad = (v: unknown): boolean =>
    typeof v === "number"
      ? !Number.isFinite(v)
      : Array.isArray(v)
      ? v.some(bad)
      : v !== null && typeof v === "object"
      ? Object.values(v).some(bad)
      : false;
  if (bad(value)) {
    throw new NotebookParameterError([
      `Invalid parameter ${name}: ${text ?? String(value)} is not a finite number`,
    ]);
  }
}

/**
 * Parses a command-line `name=value`: numbers, booleans, null and JSON parse
 * as such, anything else is a string; `raw` forces a string. Throws
 * {@linkcode NotebookParameterError} for a missing `=`, a name that is not an
 * identifier or is a reserved word (`class`), and a number that is not
 * finite (`1e400`).
 *
 * @example Values
 * ```ts
 * import { parseParameter } from "./parameters.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parseParameter("limit=0.9"), ["limit", 0.9]);
 * assert.deepEqual(parseParameter("host=web-1"), ["host", "web-1"]);
 * assert.deepEqual(parseParameter("ids=[1,2]"), ["ids", [1, 2]]);
 * assert.deepEqual(parseParameter("n=42", { raw: true }), ["n", "42"]);
 * assert.throws(() => parseParameter("x=1e400"), /1e400 is not a finite number/);
 * ```
 */
export function parseParameter(text: string, options: { raw?: boolean } = {}): [string, unknown] {
  const at = text.indexOf("=");
  if (at <= 0) {
    throw new NotebookParameterError([
      `Invalid parameter ${JSON.stringify(text)}: expected name=value, for example threshold=90`,
    ]);
  }
  const name = text.slice(0, at).trim();
  checkName(name);
  const raw = text.slice(at + 1);
  if (options.raw) return [name, raw];
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return [name, raw];
  }
  checkFinite(name, value, raw);
  return [name, value];
}

/** What a parameter's default (or type annotation) allows. */
export type ParameterKind =
  | "number"
  | "string"
  | "boolean"
  | "null"
  | "object"
  | "array"
  | "time"
  | "duration"
  | "any";

/** A parameter declared in the parameters cell. */
export interface DeclaredParameter {
  /** Variable name. */
  name: string;
  /** `const`, `let` or `var`. */
  keyword: string;
  /**
   * What the value may be, from the type annotation when there is one, else
   * from the default's literal; `time` for a string named `*_time` or
   * documented as RFC 3339, `duration` for a string whose default is a
   * Prometheus duration; `any` for an expression.
   */
  kinds: ParameterKind[];
  /** The default as written. */
  defaultText: string;
}

/** Finds where an initializer ends: `;`, a line comment or a line end, outside brackets and strings. */
function initializer(source: string, from: number): { text: string; comment: string } {
  let depth = 0;
  let quote = "";
  let i = from;
  for (; i < source.length; i++) {
    const ch = source[i];
    if (quote) {
      if (ch === "\\") i++;
      else if (ch === quote) quote = "";
      continue;
    }
    if (ch === '"' || ch === "'" || ch === "`") quote = ch;
    else if (ch === "(" || ch === "[" || ch === "{") depth++;
    else if (ch === ")" || ch === "]" || ch === "}") depth--;
    else if (depth <= 0 && (ch === ";" || ch === "\n" || source.startsWith("//", i))) break;
  }
  const text = source.slice(from, i).trim();
  const rest = source.slice(
    i,
    source.indexOf("\n", i) === -1 ? undefined : source.indexOf("\n", i),
  );
  const comment = /\/\/(.*)$/.exec(rest)?.[1]?.trim() ?? "";
  return { text, comment };
}

function literalKind(text: string): ParameterKind | "duration-string" {
  if (/^[-+]?(\d|\.\d)/.test(text)) return "number";
  const str = /^(["'])(.*)\1$/.exec(text) ?? /^`([^`$]*)`$/.exec(text);
  if (str) {
    const content = str.length === 3 ? str[2] : str[1];
    try {
      parseDuration(content);
      return "duration-string";
    } catch {
      return "string";
    }
  }
  if (/^["'`]/.test(text)) return "string";
  if (/^(true|false)$/.test(text)) return "boolean";
  if (text === "null") return "null";
  if (text.startsWith("{")) return "object";
  if (text.startsWith("[")) return "array";
  const fallback = /\?\?\s*(.+)$/s.exec(text);
  if (fallback) return literalKind(fallback[1].trim());
  return "any";
}

function annotationKinds(annotation: string): ParameterKind[] {
  const kinds: ParameterKind[] = [];
  for (const part of annotation.split("|").map((p) => p.trim())) {
    if (part === "string" || part === "number" || part === "boolean" || part === "null") {
      kinds.push(part);
    } else if (part === "undefined") continue;
    else if (/\[\]$|^Array</.test(part)) kinds.push("array");
    else if (/^Record<|^\{/.test(part)) kinds.push("object");
    else return ["any"];
  }
  return kinds.length ? kinds : ["any"];
}

/**
 * The parameters a parameters cell declares, with what each accepts (see
 * {@linkcode DeclaredParameter.kinds}).
 *
 * @example Kinds from defaults, annotations and comments
 * ```ts
 * import { declaredParameters } from "./parameters.ts";
 * import assert from "node:assert/strict";
 *
 * const params = declaredParameters([
 *   "const threshold = 80; // CPU %",
 *   'const window = "5m";',
 *   "const eval_time: string | null = null; // evaluation time (RFC 3339); null = now",
 *   'const url = Deno.env.get("URL") ?? "http://localhost:9090";',
 * ].join("\n"));
 * assert.deepEqual([...params.values()].map((p) => [p.name, p.kinds]), [
 *   ["threshold", ["number"]],
 *   ["window", ["duration"]],
 *   ["eval_time", ["time", "null"]],
 *   ["url", ["string"]],
 * ]);
 * ```
 */
export function declaredParameters(source: string): Map<string, DeclaredParameter> {
  const out = new Map<string, DeclaredParameter>();
  const re =
    /^[ \t]*(?:export\s+)?(const|let|var)\s+([A-Za-z_$][\w$]*)[ \t]*(?::[ \t]*([^=\n]+?))?[ \t]*=[ \t]*/gm;
  for (const m of source.matchAll(re)) {
    const [, keyword, name, annotation] = m;
    if (out.has(name)) continue;
    const { text, comment } = initializer(source, m.index + m[0].length);
    const literal = literalKind(text);
    let kinds: ParameterKind[] = annotation
      ? annotationKinds(annotation)
      : literal === "null"
      ? ["any"]
      : [literal === "duration-string" ? "duration" : literal];
    if (annotation && literal === "duration-string") {
      kinds = kinds.map((k) => k === "string" ? "duration" : k);
    }
    if (/(^|_)time$/.test(name) || /RFC ?3339/i.test(comment)) {
      kinds = kinds.map((k) => k === "string" || k === "duration" ? "time" : k);
    }
    out.set(name, { name, keyword, kinds, defaultText: text });
  }
  return out;
}

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length];
}

function suggestion(name: string, declared: string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const d of declared) {
    const dist = d.toLowerCase() === name.toLowerCase() ? 0 : distance(name, d);
    if (dist < bestD) [best, bestD] = [d, dist];
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

function show(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
}

function describe(kinds: ParameterKind[]): string {
  const words = kinds.map((k) =>
    ({
      number: "a number",
      string: "a string",
      boolean: "true or false",
      null: "null",
      object: "a JSON object",
      array: "a JSON array",
      time: "a time in RFC 3339 such as 2026-11-01T12:00:00Z (or with an offset: +08:00)",
      duration: "a Prometheus duration such as 5m or 1h30m",
      any: "any value",
    })[k]
  );
  return words.length > 1 ? `${words.slice(0, -1).join(", ")} or ${words.at(-1)}` : words[0];
}

function fits(kind: ParameterKind, value: unknown): boolean {
  switch (kind) {
    case "any":
      return true;
    case "null":
      return value === null;
    case "number":
      return typeof value === "number";
    case "string":
      return typeof value === "string";
    case "boolean":
      return typeof value === "boolean";
    case "array":
      return Array.isArray(value);
    case "object":
      return value !== null && typeof value === "object" && !Array.isArray(value);
    case "time":
      return typeof value === "string" && RFC3339.test(value) &&
        Number.isFinite(Date.parse(value.replace(" ", "T")));
    case "duration":
      try {
        return typeof value === "string" && (parseDuration(value), true);
      } catch {
        return false;
      }
  }
}

/** Options for {@linkcode checkParameters}. */
export interface CheckParametersOptions {
  /**
   * Inject names the parameters cell does not declare (with a warning) instead of refusing them.
   * @default {false}
   */
  allowUnknown?: boolean;
}

/**
 * Checks parameters against the notebook's parameters cell before anything
 * runs: every name declared (else a "did you mean" with the declared names,
 * unless `allowUnknown`), every value of the declared kind (a number stays a
 * number, a time is RFC 3339, a duration is Prometheus'), no reserved word,
 * no non-finite number. Throws {@linkcode NotebookParameterError} listing
 * every problem; resolves with warnings (allowed unknown names).
 *
 * @example A misspelt name and a wrong type
 * ```ts
 * import { checkParameters } from "./parameters.ts";
 * import assert from "node:assert/strict";
 *
 * const nb = {
 *   nbformat: 4 as const,
 *   nbformat_minor: 5,
 *   metadata: {},
 *   cells: [{
 *     id: "p",
 *     cell_type: "code" as const,
 *     source: "const threshold = 80;",
 *     metadata: { tags: ["parameters"] },
 *     outputs: [],
 *   }],
 * };
 * assert.deepEqual(checkParameters(nb, { threshold: 90 }), []);
 * assert.throws(
 *   () => checkParameters(nb, { treshold: 90 }),
 *   /Unknown parameter treshold: did you mean threshold\?/,
 * );
 * assert.throws(
 *   () => checkParameters(nb, { threshold: "80%" }),
 *   /Parameter threshold expects a number \(default: 80\), got "80%"/,
 * );
 * ```
 */
export function checkParameters(
  nb: Notebook,
  parameters: Record<string, unknown>,
  options: CheckParametersOptions = {},
): string[] {
  const cell = nb.cells.find((c) => c.cell_type === "code" && tags(c).includes(PARAMETERS_TAG));
  const declared = cell ? declaredParameters(cell.source) : new Map<string, DeclaredParameter>();
  const names = [...declared.keys()];
  const problems: string[] = [];
  const warnings: string[] = [];
  for (const [name, value] of Object.entries(parameters)) {
    if (value === undefined) continue;
    try {
      checkName(name);
      checkFinite(name, value);
    } catch (error) {
      problems.push(...(error as NotebookParameterError).problems);
      continue;
    }
    const param = declared.get(name);
    if (!param) {
      const near = suggestion(name, names);
      const declaredList = `(declared: ${names.join(", ") || "none"})`;
      const line = !cell
        ? `Unknown parameter ${name}: the notebook has no cell tagged "parameters"`
        : near
        ? `Unknown parameter ${name}: did you mean ${near}? ${declaredList}`
        : `Unknown parameter ${name}: not declared in the parameters cell ${declaredList}`;
      if (options.allowUnknown) warnings.push(`${line}; injected anyway`);
      else problems.push(`${line}; --allow-unknown-params injects it anyway`);
      continue;
    }
    if (!param.kinds.some((k) => fits(k, value))) {
      let hint = "";
      if (param.kinds.includes("time") && typeof value === "number") {
        const ms = value * 1000;
        if (Number.isFinite(ms) && Math.abs(ms) < 8.64e15) {
          hint = ` (as epoch seconds that is ${new Date(ms).toISOString().replace(".000Z", "Z")})`;
        }
      } else if (param.kinds.includes("string") && typeof value !== "string") {
        hint = ` (-r ${name}=... passes text as it is)`;
      }
      problems.push(
        `Parameter ${name} expects ${describe(param.kinds)} (default: ${param.defaultText}), got ${
          show(value)
        }${hint}`,
      );
    }
  }
  if (problems.length) throw new NotebookParameterError(problems);
  return warnings;
}

/**
 * A JavaScript literal for a JSON-like value in which every key is an own
 * key: `{"__proto__": …}` is written as a computed key, which defines a
 * property instead of setting the prototype.
 *
 * @example An own `__proto__` key
 * ```ts
 * import { toLiteral } from "./parameters.ts";
 * import assert from "node:assert/strict";
 *
 * const value = JSON.parse('{"__proto__":{"polluted":1},"n":[1,"a"]}');
 * assert.equal(toLiteral(value), '{["__proto__"]:{"polluted":1},"n":[1,"a"]}');
 * ```
 */
export function toLiteral(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(toLiteral).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const json = (value as { toJSON?: () => unknown }).toJSON;
    if (typeof json === "function") return toLiteral(json.call(value));
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    return `{${
      entries.map(([k, v]) =>
        `${k === "__proto__" ? '["__proto__"]' : JSON.stringify(k)}:${toLiteral(v)}`
      ).join(",")
    }}`;
  }
  return JSON.stringify(value) ?? "undefined";
}

function tags(cell: NotebookCell): string[] {
  const t = cell.metadata.tags;
  return Array.isArray(t) ? t.filter((x): x is string => typeof x === "string") : [];
}

/**
 * Names declared at the top level of a parameters cell (`const`, `let`, `var`),
 * with their keyword.
 *
 * @example Declarations
 * ```ts
 * import { declaredNames } from "./parameters.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(declaredNames("const a = 1;\nlet b = 'x';"), new Map([["a", "const"], ["b", "let"]]));
 * ```
 */
export function declaredNames(source: string): Map<string, string> {
  const names = new Map<string, string>();
  for (const m of source.matchAll(/^\s*(?:export\s+)?(const|let|var)\s+([A-Za-z_$][\w$]*)/gm)) {
    if (!names.has(m[2])) names.set(m[2], m[1]);
  }
  return names;
}

/** What {@linkcode injectParameters} returns. */
export interface InjectResult {
  /** Parameter names not declared in the parameters cell. */
  unknown: string[];
  /** Index of the injected cell, or -1 when nothing was injected. */
  index: number;
}

/**
 * Injects (or replaces) the `injected-parameters` cell after the first cell
 * tagged `parameters` (at the top when there is none) and records the values
 * in `metadata.opsbook.parameters`. Mutates `nb`.
 *
 * @example Override a default
 * ```ts
 * import { injectParameters } from "./parameters.ts";
 * import assert from "node:assert/strict";
 *
 * const nb = {
 *   nbformat: 4 as const,
 *   nbformat_minor: 5,
 *   metadata: {},
 *   cells: [{
 *     id: "p",
 *     cell_type: "code" as const,
 *     source: "const limit = 0.5;",
 *     metadata: { tags: ["parameters"] },
 *     outputs: [],
 *   }],
 * };
 * const result = injectParameters(nb, { limit: 0.9, extra: "x" });
 * assert.deepEqual(nb.cells[1].source, '// Parameters\nconst limit = 0.9;\nconst extra = "x";\n');
 * assert.deepEqual(result.unknown, ["extra"]);
 * ```
 */
export function injectParameters(nb: Notebook, parameters: Record<string, unknown>): InjectResult {
  const entries = Object.entries(parameters).filter(([, v]) => v !== undefined);
  nb.cells = nb.cells.filter((c) => !tags(c).includes(INJECTED_TAG));
  if (entries.length === 0) return { unknown: [], index: -1 };
  const at = nb.cells.findIndex((c) => c.cell_type === "code" && tags(c).includes(PARAMETERS_TAG));
  const declared = at >= 0 ? declaredNames(nb.cells[at].source) : new Map<string, string>();
  const lines = entries.map(([name, value]) => {
    checkName(name);
    checkFinite(name, value);
    const keyword = declared.get(name) ?? "const";
    return `${keyword} ${name} = ${toLiteral(value)};\n`;
  });
  const cell: NotebookCell = {
    id: newCellId(),
    cell_type: "code",
    source: `// Parameters\n${lines.join("")}`,
    metadata: { tags: [INJECTED_TAG] },
    outputs: [],
    execution_count: null,
  };
  const index = at + 1;
  nb.cells.splice(index, 0, cell);
  const opsbook = (nb.metadata.opsbook ?? {}) as Record<string, unknown>;
  nb.metadata.opsbook = { ...opsbook, parameters: Object.fromEntries(entries) };
  return { unknown: entries.map(([n]) => n).filter((n) => !declared.has(n)), index };
}
