/**
 * Execution of parsed Go templates with Prometheus' function set, following
 * `text/template/exec.go` (Go 1.19/1.20) and Prometheus 2.42's
 * `template/template.go` (`missingkey=zero`).
 *
 * @module
 */

import {
  compareStrings,
  formatFloat,
  formatValue,
  GoNamedString,
  GoStruct,
  GoTime,
  goTypeName,
  type GoValue,
  hasControl,
  sprint,
  sprintf,
  sprintln,
} from "./_go_fmt.ts";
import {
  type ArgNode,
  type BranchNode,
  type CommandNode,
  type IdentifierNode,
  nodeString,
  type PipeNode,
  type TemplateNode,
} from "./_template_parse.ts";

/** Parameter kinds: Go `string`, `interface{}`, or a builtin's `reflect.Value`. */
type Param = "string" | "any" | "value";

interface GoFunc {
  params: Param[];
  variadic?: Param;
  call: (args: GoValue[], env: ExecEnv) => GoValue;
}

/** What a function may need from the caller. */
export interface ExecEnv {
  externalURL: string;
}

/** An error returned by a Go function (`error calling NAME: ...`). */
class CallError extends Error {}

/** An execution failure: Go's message and the node it happened at. */
export class ExecFailure extends Error {
  /** Create a failure at `pos` with the node's context text. */
  constructor(readonly detail: string, readonly pos: number, readonly context: string) {
    super(detail);
  }
}

class BreakSignal {}
class ContinueSignal {}

// ---------------------------------------------------------------- Prometheus functions

/** Go's `strconv.ParseFloat(s, 64)` (decimal, `Inf`, `NaN`, underscores only between digits). */
function parseGoFloat(text: string): number {
  const t = text;
  if (/^[+-]?(inf|infinity)$/i.test(t)) return t[0] === "-" ? -Infinity : Infinity;
  if (/^nan$/i.test(t)) return NaN;
  if (/^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(t)) return Number(t);
  if (/^[+-]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)[pP][+-]?\d+$/.test(t)) {
    const m = /^([+-]?)0[xX]([0-9a-fA-F]*)\.?([0-9a-fA-F]*)[pP]([+-]?\d+)$/.exec(t)!;
    const mant = parseInt(m[2] + m[3] || "0", 16);
    const v = mant * 2 ** (Number(m[4]) - 4 * m[3].length);
    return m[1] === "-" ? -v : v;
  }
  throw new CallError(`strconv.ParseFloat: parsing ${goQuoteSimple(text)}: invalid syntax`);
}

function goQuoteSimple(text: string): string {
  return JSON.stringify(text);
}

function convertToFloat(value: GoValue): number {
  if (typeof value === "number") return value;
  if (typeof value === "string") return parseGoFloat(value);
  if (typeof value === "bigint") return Number(value);
  throw new CallError(`can't convert ${goTypeName(value)} to float`);
}

const SI_UP = ["k", "M", "G", "T", "P", "E", "Z", "Y"];
const SI_DOWN = ["m", "u", "n", "p", "f", "a", "z", "y"];
const g4 = (v: number) => formatFloat(v, "g", 4);

function humanize(input: GoValue): string {
  let v = convertToFloat(input);
  if (v === 0 || !Number.isFinite(v)) return g4(v);
  let prefix = "";
  if (Math.abs(v) >= 1) {
    for (const p of SI_UP) {
      if (Math.abs(v) < 1000) break;
      prefix = p;
      v /= 1000;
    }
    return g4(v) + prefix;
  }
  for (const p of SI_DOWN) {
    if (Math.abs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return g4(v) + prefix;
}

function humanize1024(input: GoValue): string {
  let v = convertToFloat(input);
  if (Math.abs(v) <= 1 || !Number.isFinite(v)) return g4(v);
  let prefix = "";
  for (const p of ["ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"]) {
    if (Math.abs(v) < 1024) break;
    prefix = p;
    v /= 1024;
  }
  return g4(v) + prefix;
}

function humanizeDuration(input: GoValue): string {
  let v = convertToFloat(input);
  if (!Number.isFinite(v)) return g4(v);
  if (v === 0) return g4(v) + "s";
  if (Math.abs(v) >= 1) {
    let sign = "";
    if (v < 0) {
      sign = "-";
      v = -v;
    }
    // Go's int64(v): saturates on amd64 to MinInt64 for out-of-range values
    const duration = v >= 2 ** 63 ? -(2n ** 63n) : BigInt(Math.trunc(v));
    const seconds = duration % 60n;
    const minutes = (duration / 60n) % 60n;
    const hours = (duration / 60n / 60n) % 24n;
    const days = duration / 60n / 60n / 24n;
    if (days !== 0n) return `${sign}${days}d ${hours}h ${minutes}m ${seconds}s`;
    if (hours !== 0n) return `${sign}${hours}h ${minutes}m ${seconds}s`;
    if (minutes !== 0n) return `${sign}${minutes}m ${seconds}s`;
    return `${sign}${g4(v)}s`;
  }
  let prefix = "";
  for (const p of SI_DOWN) {
    if (Math.abs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return `${g4(v)}${prefix}s`;
}

const NAN_OR_INF = "value is NaN or Inf";

function floatToTime(v: number): GoTime {
  if (!Number.isFinite(v)) throw new CallError(NAN_OR_INF);
  const ns = v * 1e9;
  if (ns > 2 ** 63 || ns < -(2 ** 63)) {
    throw new CallError(
      `${
        formatFloat(v, "g", -1)
      } cannot be represented as a nanoseconds timestamp since it overflows int64`,
    );
  }
  // model.TimeFromUnixNano: milliseconds, truncated toward zero
  const ms = BigInt(Math.trunc(ns)) / 1_000_000n;
  return new GoTime(ms);
}

function humanizeTimestamp(input: GoValue): string {
  const v = convertToFloat(input);
  if (!Number.isFinite(v)) return g4(v);
  return formatValue(floatToTime(v));
}

/** Go's `strings.Title`: upper-case the first letter of each word. */
function title(text: string): string {
  let out = "";
  let prev = " ";
  for (const ch of text) {
    out += isSeparator(prev) ? toTitleRune(ch) : ch;
    prev = ch;
  }
  return out;
}

function isSeparator(ch: string): boolean {
  const code = ch.codePointAt(0)!;
  if (code <= 0x7f) {
    if (/[0-9a-zA-Z_]/.test(ch)) return false;
    return true;
  }
  if (/\p{L}|\p{Nd}/u.test(ch)) return false;
  return /\s/u.test(ch);
}

function toTitleRune(ch: string): string {
  const up = ch.toUpperCase();
  return [...up].length === 1 ? up : ch;
}

function mapRunes(text: string, fn: (ch: string) => string): string {
  let out = "";
  for (const ch of text) {
    const mapped = fn(ch);
    out += [...mapped].length === 1 ? mapped : ch;
  }
  return out;
}

/** Translate a Go RE2 pattern into a JS RegExp (named groups, leading flags). */
export function goRegExp(pattern: string, global = false): RegExp {
  let source = pattern;
  let flags = global ? "g" : "";
  const lead = /^\(\?([imsU]+)\)/.exec(source);
  if (lead) {
    source = source.slice(lead[0].length);
    if (lead[1].includes("i")) flags += "i";
    if (lead[1].includes("s")) flags += "s";
    if (lead[1].includes("m")) flags += "m";
  }
  source = source.replaceAll("(?P<", "(?<").replaceAll("\\z", "$(?![\\s\\S])").replaceAll(
    "\\A",
    "^",
  );
  try {
    return new RegExp(source, flags + "u");
  } catch {
    try {
      return new RegExp(source, flags);
    } catch (error) {
      throw new CallError(
        `error parsing regexp: ${goRegexpError(pattern, (error as Error).message)}`,
      );
    }
  }
}

/** Go's wording for the common regexp syntax errors (others keep V8's wording). */
function goRegexpError(pattern: string, message: string): string {
  const detail = message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /, "");
  if (/Unterminated group/.test(detail)) return `missing closing ): \`${pattern}\``;
  if (/Unmatched '\)'/.test(detail)) return `unexpected ): \`${pattern}\``;
  if (/Unterminated character class/.test(detail)) {
    return `missing closing ]: \`${pattern.slice(pattern.lastIndexOf("["))}\``;
  }
  if (/Nothing to repeat/.test(detail)) {
    const op = /(?:^|[(|])([*+?])/.exec(pattern)?.[1] ?? "*";
    return `missing argument to repetition operator: \`${op}\``;
  }
  return `${detail}: \`${pattern}\``;
}

/** Go's `regexp.MustCompile` panic text, as `safeCall` turns it into an error. */
function mustCompile(pattern: string, global: boolean): RegExp {
  try {
    return goRegExp(pattern, global);
  } catch (error) {
    const quoted = hasControl(pattern) ? JSON.stringify(pattern) : "`" + pattern + "`";
    throw new CallError(`regexp: Compile(${quoted}): ${(error as Error).message}`);
  }
}

/** Go's `Regexp.ReplaceAllString` (with `$1`, `${name}` expansion and Go's empty-match rule). */
function reReplaceAll(pattern: string, repl: string, text: string): string {
  const re = mustCompile(pattern, true);
  let out = "";
  let last = 0;
  let prevEnd = -1;
  re.lastIndex = 0;
  for (;;) {
    const m = re.exec(text);
    if (m === null) break;
    const start = m.index;
    const end = start + m[0].length;
    if (m[0].length === 0) {
      re.lastIndex = end + (text.codePointAt(end)! > 0xffff ? 2 : 1);
      if (start === prevEnd) {
        if (end >= text.length) break;
        continue;
      }
    }
    out += text.slice(last, start) + expandReplacement(repl, m);
    last = end;
    prevEnd = end;
    if (end >= text.length && m[0].length === 0) break;
    if (re.lastIndex > text.length) break;
  }
  return out + text.slice(last);
}

function expandReplacement(template: string, m: RegExpExecArray): string {
  let out = "";
  for (let i = 0; i < template.length; i++) {
    const c = template[i];
    if (c !== "$" || i + 1 >= template.length) {
      out += c;
      continue;
    }
    if (template[i + 1] === "$") {
      out += "$";
      i++;
      continue;
    }
    let name: string | undefined;
    let end = i + 1;
    if (template[i + 1] === "{") {
      const close = template.indexOf("}", i + 2);
      const inner = close === -1 ? "" : template.slice(i + 2, close);
      if (close !== -1 && /^[A-Za-z0-9_]+$/.test(inner)) {
        name = inner;
        end = close + 1;
      }
    } else {
      const word = /^[A-Za-z0-9_]+/.exec(template.slice(i + 1));
      if (word) {
        name = word[0];
        end = i + 1 + word[0].length;
      }
    }
    if (name === undefined) {
      out += c;
      continue;
    }
    if (/^[0-9]+$/.test(name)) {
      const index = Number(name);
      out += index < m.length ? m[index] ?? "" : "";
    } else out += m.groups?.[name] ?? "";
    i = end - 1;
  }
  return out;
}

/** Go's `net.SplitHostPort`-based `stripPort`. */
function stripPort(hostPort: string): string {
  const last = hostPort.lastIndexOf(":");
  if (last === -1) return hostPort;
  if (hostPort[0] === "[") {
    const close = hostPort.indexOf("]");
    if (close === -1 || close + 1 !== last) return hostPort;
    const host = hostPort.slice(1, close);
    return host.includes("[") || host.includes("]") ? hostPort : host;
  }
  const host = hostPort.slice(0, last);
  if (host.includes(":") || host.includes("[") || host.includes("]")) return hostPort;
  if (hostPort.slice(last + 1).includes("[") || hostPort.slice(last + 1).includes("]")) {
    return hostPort;
  }
  return host;
}

/** Go's `url.QueryEscape`. */
export function queryEscape(text: string): string {
  let out = "";
  for (const byte of new TextEncoder().encode(text)) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === " ") out += "+";
    else out += "%" + byte.toString(16).toUpperCase().padStart(2, "0");
  }
  return out;
}

function htmlEscape(text: string): string {
  return text.replace(
    /[\0"'&<>]/g,
    (c) =>
      ({ "\0": "\uFFFD", '"': "&#34;", "'": "&#39;", "&": "&amp;", "<": "&lt;", ">": "&gt;" })[c]!,
  );
}

function jsEscape(text: string): string {
  let out = "";
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    switch (ch) {
      case "\\":
        out += "\\\\";
        break;
      case "'":
        out += "\\'";
        break;
      case '"':
        out += '\\"';
        break;
      case "<":
        out += "\\u003C";
        break;
      case ">":
        out += "\\u003E";
        break;
      case "&":
        out += "\\u0026";
        break;
      case "=":
        out += "\\u003D";
        break;
      default:
        out += code < 0x20 ? "\\u" + code.toString(16).toUpperCase().padStart(4, "0") : ch;
    }
  }
  return out;
}

/** Go's `evalArgs` for html/js/urlquery: one string argument as is, otherwise `fmt.Sprint`. */
function evalArgs(args: GoValue[]): string {
  if (args.length === 1 && typeof args[0] === "string") return args[0];
  return sprint(args);
}

// ---------------------------------------------------------------- builtins (comparison, logic)

type Kind = "bool" | "int" | "float" | "string" | "other" | "invalid";

function basicKind(v: GoValue): Kind {
  if (v === undefined || v === null) return "invalid";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "bigint") return "int";
  if (typeof v === "number") return "float";
  if (typeof v === "string") return "string";
  if (v instanceof GoNamedString) return "string";
  return "other";
}

const BAD_COMPARISON = "incompatible types for comparison";
const BAD_COMPARISON_TYPE = "invalid type for comparison";

function plain(v: GoValue): GoValue {
  return v instanceof GoNamedString ? v.value : v;
}

function eq(arg1: GoValue, ...rest: GoValue[]): boolean {
  const k1 = basicKind(arg1);
  if (rest.length === 0) throw new CallError("missing argument for comparison");
  for (const arg of rest) {
    const k2 = basicKind(arg);
    let truth: boolean;
    if (k1 !== k2) {
      if (k1 === "invalid" || k2 === "invalid") truth = false;
      else throw new CallError(BAD_COMPARISON);
    } else {
      if (k1 === "other" || k1 === "invalid") {
        if (k1 === "invalid") truth = true;
        else throw new CallError(BAD_COMPARISON_TYPE);
      } else truth = plain(arg1) === plain(arg);
    }
    if (truth) return true;
  }
  return false;
}

function lt(a: GoValue, b: GoValue): boolean {
  const k1 = basicKind(a);
  const k2 = basicKind(b);
  if (k1 === "bool" || k1 === "other" || k1 === "invalid") throw new CallError(BAD_COMPARISON_TYPE);
  if (k1 !== k2) throw new CallError(BAD_COMPARISON);
  // deno-lint-ignore no-explicit-any
  return (plain(a) as any) < (plain(b) as any);
}

/** Go's template truth. */
export function truth(v: GoValue): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v === "boolean") return v;
  if (typeof v === "number") return v !== 0;
  if (typeof v === "bigint") return v !== 0n;
  if (typeof v === "string") return v.length > 0;
  if (v instanceof GoNamedString) return v.value.length > 0;
  if (v instanceof Map) return v.size > 0;
  if (Array.isArray(v)) return v.length > 0;
  return true;
}

function utf8Length(text: string): number {
  return new TextEncoder().encode(text).length;
}

const one = (fn: (a: GoValue) => GoValue, param: Param = "any"): GoFunc => ({
  params: [param],
  call: ([a]) => fn(a),
});
const str = (fn: (a: string) => string): GoFunc => ({
  params: ["string"],
  call: ([a]) => fn(a as string),
});

/** Prometheus 2.42's template functions plus Go's builtins. */
export const FUNCTIONS: Record<string, GoFunc> = {
  // Go builtins ("and"/"or" are short-circuited in evalCall)
  and: { params: ["value"], variadic: "value", call: () => undefined },
  or: { params: ["value"], variadic: "value", call: () => undefined },
  not: one((a) => !truth(a), "value"),
  len: one((a) => {
    if (typeof a === "string") return BigInt(utf8Length(a));
    if (a instanceof GoNamedString) return BigInt(utf8Length(a.value));
    if (a instanceof Map) return BigInt(a.size);
    if (Array.isArray(a)) return BigInt(a.length);
    throw new CallError(`len of type ${goTypeName(a)}`);
  }, "value"),
  index: {
    params: ["value"],
    variadic: "value",
    call: ([item, ...indexes]) => {
      let v = item;
      for (const index of indexes) {
        if (v instanceof Map) {
          if (typeof index !== "string") {
            throw new CallError(`value has type ${goTypeName(index)}; should be string`);
          }
          v = v.has(index) ? v.get(index) : "";
        } else if (Array.isArray(v) || typeof v === "string") {
          if (typeof index !== "bigint") {
            throw new CallError(`cannot index slice/array with type ${goTypeName(index)}`);
          }
          const n = Number(index);
          if (typeof v === "string") {
            const bytes = new TextEncoder().encode(v);
            if (n < 0 || n >= bytes.length) throw new CallError(`index out of range: ${n}`);
            v = BigInt(bytes[n]);
          } else {
            if (n < 0 || n >= v.length) throw new CallError(`index out of range: ${n}`);
            v = v[n];
          }
        } else if (v === undefined || v === null) {
          throw new CallError("index of untyped nil");
        } else throw new CallError(`can't index item of type ${goTypeName(v)}`);
      }
      return v;
    },
  },
  print: { params: [], variadic: "any", call: (args) => sprint(args) },
  println: { params: [], variadic: "any", call: (args) => sprintln(args) },
  printf: {
    params: ["string"],
    variadic: "any",
    call: ([format, ...args]) => sprintf(format as string, args),
  },
  html: { params: [], variadic: "any", call: (args) => htmlEscape(evalArgs(args)) },
  js: { params: [], variadic: "any", call: (args) => jsEscape(evalArgs(args)) },
  urlquery: { params: [], variadic: "any", call: (args) => queryEscape(evalArgs(args)) },
  eq: { params: ["value"], variadic: "value", call: ([a, ...rest]) => eq(a, ...rest) },
  ne: { params: ["value", "value"], call: ([a, b]) => !eq(a, b) },
  lt: { params: ["value", "value"], call: ([a, b]) => lt(a, b) },
  le: { params: ["value", "value"], call: ([a, b]) => lt(a, b) || eq(a, b) },
  gt: { params: ["value", "value"], call: ([a, b]) => !lt(a, b) && !eq(a, b) },
  ge: { params: ["value", "value"], call: ([a, b]) => !lt(a, b) },

  // Prometheus
  humanize: one(humanize),
  humanize1024: one(humanize1024),
  humanizeDuration: one(humanizeDuration),
  humanizePercentage: one((a) => formatFloat(convertToFloat(a) * 100, "g", 4) + "%"),
  humanizeTimestamp: one(humanizeTimestamp),
  toTime: one((a) => floatToTime(convertToFloat(a))),
  toUpper: str((s) => mapRunes(s, (c) => c.toUpperCase())),
  toLower: str((s) => mapRunes(s, (c) => c.toLowerCase())),
  title: str(title),
  stripPort: str(stripPort),
  safeHtml: { params: ["string"], call: ([s]) => new GoNamedString("template.HTML", s as string) },
  reReplaceAll: {
    params: ["string", "string", "string"],
    call: ([p, r, t]) => reReplaceAll(p as string, r as string, t as string),
  },
  match: {
    params: ["string", "string"],
    call: ([p, t]) => goRegExp(p as string).test(t as string),
  },
  args: {
    params: [],
    variadic: "any",
    call: (args) => new Map(args.map((a, i) => [`arg${i}`, a])),
  },
  graphLink: str((e) => `/graph?g0.expr=${queryEscape(e)}&g0.tab=0`),
  tableLink: str((e) => `/graph?g0.expr=${queryEscape(e)}&g0.tab=1`),
  externalURL: { params: [], call: (_, env) => env.externalURL },
  pathPrefix: {
    params: [],
    call: (_, env) => {
      try {
        return new URL(env.externalURL).pathname.replace(/^\/$/, "");
      } catch {
        return "";
      }
    },
  },
};

/** Prometheus functions that need a PromQL engine; opsbook rejects them at load time. */
export const QUERY_FUNCTIONS = new Set([
  "query",
  "first",
  "label",
  "value",
  "strvalue",
  "sortByLabel",
]);

// ---------------------------------------------------------------- execution

const MISSING = Symbol("missing");
type Final = GoValue | typeof MISSING;

/** Execute a parsed template with `data` as dot; returns the output text. */
export function execute(nodes: TemplateNode[], data: GoValue, env: ExecEnv): string {
  const vars: { name: string; value: GoValue }[] = [{ name: "$", value: data }];
  let out = "";
  // Where execution is, for error messages; the node is printed only on failure.
  let at: ArgNode | CommandNode | { pos: number; context: string } = { pos: 0, context: "" };

  const setAt = (node: ArgNode | CommandNode | { pos: number; context: string }) => {
    at = node;
  };
  const fail = (message: string): never => {
    throw new ExecFailure(message, at.pos, "context" in at ? at.context : nodeString(at));
  };

  const varValue = (name: string): GoValue => {
    for (let i = vars.length - 1; i >= 0; i--) if (vars[i].name === name) return vars[i].value;
    return fail(`undefined variable: ${name}`);
  };
  const setVar = (name: string, value: GoValue) => {
    for (let i = vars.length - 1; i >= 0; i--) {
      if (vars[i].name === name) {
        vars[i].value = value;
        return;
      }
    }
    fail(`undefined variable: ${name}`);
  };

  const evalField = (
    fieldName: string,
    args: ArgNode[] | undefined,
    final: Final,
    receiver: GoValue,
  ): GoValue => {
    const hasArgs = (args !== undefined && args.length > 1) || final !== MISSING;
    if (receiver === undefined || receiver === null) {
      return fail(`nil data; no entry for key "${fieldName}"`);
    }
    if (receiver instanceof GoStruct) {
      if (Object.hasOwn(receiver.fields, fieldName)) {
        if (hasArgs) fail(`${fieldName} has arguments but cannot be invoked as function`);
        return receiver.fields[fieldName];
      }
    } else if (receiver instanceof Map) {
      if (hasArgs) fail(`${fieldName} is not a method but has arguments`);
      return receiver.has(fieldName) ? receiver.get(fieldName) : "";
    }
    return fail(`can't evaluate field ${fieldName} in type ${goTypeName(receiver)}`);
  };

  const evalFieldChain = (
    receiver: GoValue,
    idents: string[],
    args: ArgNode[] | undefined,
    final: Final,
  ): GoValue => {
    for (let i = 0; i < idents.length - 1; i++) {
      receiver = evalField(idents[i], undefined, MISSING, receiver);
    }
    return evalField(idents[idents.length - 1], args, final, receiver);
  };

  const notAFunction = (args: ArgNode[], final: Final) => {
    if (args.length > 1 || final !== MISSING) {
      fail(`can't give argument to non-function ${nodeString(args[0])}`);
    }
  };

  const idealConstant = (n: ArgNode & { type: "number" }): GoValue => {
    setAt(n);
    if (n.isFloat && !/^[+-]?0[xX]/.test(n.text) && n.text[0] !== "'" && /[.eEpP]/.test(n.text)) {
      return n.float;
    }
    if (n.isInt) {
      if (n.int >= 2n ** 63n || n.int < -(2n ** 63n)) fail(`${n.text} overflows int`);
      return n.int;
    }
    return n.float;
  };

  const evalEmptyInterface = (dot: GoValue, n: ArgNode): GoValue => {
    setAt(n);
    switch (n.type) {
      case "bool":
        return n.value;
      case "dot":
        return dot;
      case "field":
        return evalFieldChain(dot, n.idents, [n], MISSING);
      case "identifier":
        return evalFunction(dot, n, n, [], MISSING);
      case "nil":
        return fail("evalEmptyInterface: nil (can't happen)");
      case "number":
        return idealConstant(n);
      case "string":
        return n.value;
      case "variable":
        return evalVariable(n, [n], MISSING);
      case "pipe":
        return evalPipeline(dot, n);
      case "chain":
        return evalChain(dot, n, [n], MISSING);
    }
  };

  const validateType = (value: GoValue, param: Param): GoValue => {
    if (param === "value" || param === "any") {
      if ((value === undefined || value === null) && param === "any") return null;
      return value;
    }
    if (value === undefined || value === null) return fail(`invalid value; expected ${param}`);
    if (typeof value !== "string") {
      return fail(`wrong type for value; expected string; got ${goTypeName(value)}`);
    }
    return value;
  };

  const evalArg = (dot: GoValue, param: Param, n: ArgNode): GoValue => {
    setAt(n);
    switch (n.type) {
      case "dot":
        return validateType(dot, param);
      case "nil":
        if (param === "string") return fail(`cannot assign nil to string`);
        return null;
      case "field":
        return validateType(evalFieldChain(dot, n.idents, [n], MISSING), param);
      case "variable":
        return validateType(evalVariable(n, [n], MISSING), param);
      case "pipe":
        return validateType(evalPipeline(dot, n), param);
      case "identifier":
        return validateType(evalFunction(dot, n, n, [], MISSING), param);
      case "chain":
        return validateType(evalChain(dot, n, [n], MISSING), param);
    }
    if (param === "string") {
      if (n.type === "string") return n.value;
      return fail(`expected string; found ${nodeString(n)}`);
    }
    return evalEmptyInterface(dot, n);
  };

  const evalFunction = (
    dot: GoValue,
    node: IdentifierNode,
    cmd: ArgNode | CommandNode,
    args: ArgNode[],
    final: Final,
  ): GoValue => {
    setAt(node);
    const name = node.name;
    const fn = FUNCTIONS[name];
    if (fn === undefined) return fail(`"${name}" is not a defined function`);
    const argNodes = args.slice(1);
    const numIn = argNodes.length + (final !== MISSING ? 1 : 0);
    const numFixed = fn.params.length;
    if (fn.variadic !== undefined) {
      if (numIn < numFixed) {
        fail(`wrong number of args for ${name}: want at least ${numFixed} got ${numIn}`);
      }
    } else if (numIn !== numFixed) {
      fail(`wrong number of args for ${name}: want ${numFixed} got ${numIn}`);
    }
    const paramAt = (i: number): Param => i < numFixed ? fn.params[i] : fn.variadic!;

    if (name === "and" || name === "or") {
      let v: GoValue = undefined;
      for (let i = 0; i < argNodes.length; i++) {
        v = evalArg(dot, "value", argNodes[i]);
        if (truth(v) === (name === "or")) return v;
      }
      if (final !== MISSING) v = final;
      return v;
    }
    const argv: GoValue[] = argNodes.map((a, i) => evalArg(dot, paramAt(i), a));
    if (final !== MISSING) argv.push(validateType(final, paramAt(argv.length)));
    try {
      return fn.call(argv, env);
    } catch (error) {
      if (error instanceof CallError) {
        setAt(cmd);
        return fail(`error calling ${name}: ${error.message}`);
      }
      throw error;
    }
  };

  const evalVariable = (
    n: ArgNode & { type: "variable" },
    args: ArgNode[],
    final: Final,
  ): GoValue => {
    setAt(n);
    const value = varValue(n.idents[0]);
    if (n.idents.length === 1) {
      notAFunction(args, final);
      return value;
    }
    return evalFieldChain(value, n.idents.slice(1), args, final);
  };

  const evalChain = (
    dot: GoValue,
    n: ArgNode & { type: "chain" },
    args: ArgNode[],
    final: Final,
  ) => {
    setAt(n);
    const pipe = evalArg(dot, "value", n.node);
    return evalFieldChain(pipe, n.fields, args, final);
  };

  const evalCommand = (dot: GoValue, cmd: CommandNode, final: Final): GoValue => {
    const first = cmd.args[0];
    switch (first.type) {
      case "field":
        setAt(first);
        return evalFieldChain(dot, first.idents, cmd.args, final);
      case "chain":
        return evalChain(dot, first, cmd.args, final);
      case "identifier":
        return evalFunction(dot, first, cmd, cmd.args, final);
      case "pipe":
        notAFunction(cmd.args, final);
        return evalPipeline(dot, first);
      case "variable":
        return evalVariable(first, cmd.args, final);
    }
    setAt(first);
    notAFunction(cmd.args, final);
    switch (first.type) {
      case "bool":
        return first.value;
      case "dot":
        return dot;
      case "nil":
        return fail("nil is not a command");
      case "number":
        return idealConstant(first);
      case "string":
        return first.value;
    }
  };

  const evalPipeline = (dot: GoValue, pipe: PipeNode): GoValue => {
    setAt(pipe);
    let value: Final = MISSING;
    for (const cmd of pipe.cmds) value = evalCommand(dot, cmd, value);
    const result = value as GoValue;
    for (const v of pipe.decl) {
      if (pipe.isAssign) setVar(v.idents[0], result);
      else vars.push({ name: v.idents[0], value: result });
    }
    return result;
  };

  const walk = (dot: GoValue, nodes: TemplateNode[]) => {
    for (const node of nodes) {
      switch (node.type) {
        case "text":
          out += node.text;
          break;
        case "action": {
          const value = evalPipeline(dot, node.pipe);
          if (node.pipe.decl.length === 0) out += formatValue(value);
          break;
        }
        case "if":
        case "with": {
          const mark = vars.length;
          const value = evalPipeline(dot, node.pipe);
          if (truth(value)) walk(node.type === "with" ? value : dot, node.list);
          else if (node.elseList !== undefined) walk(dot, node.elseList);
          vars.length = mark;
          break;
        }
        case "range":
          walkRange(dot, node);
          break;
        case "break":
          throw new BreakSignal();
        case "continue":
          throw new ContinueSignal();
      }
    }
  };

  const walkRange = (dot: GoValue, node: BranchNode) => {
    const outer = vars.length;
    const value = evalPipeline(dot, node.pipe);
    const mark = vars.length;
    const decl = node.pipe.decl;
    const iteration = (index: GoValue, elem: GoValue): boolean => {
      if (decl.length > 0) {
        if (node.pipe.isAssign) {
          setVar(decl[decl.length > 1 ? 0 : 0].idents[0], decl.length > 1 ? index : elem);
        } else vars[vars.length - 1].value = elem;
      }
      if (decl.length > 1) {
        if (node.pipe.isAssign) setVar(decl[1].idents[0], elem);
        else vars[vars.length - 2].value = index;
      }
      try {
        walk(elem, node.list);
      } catch (signal) {
        if (signal instanceof BreakSignal) return false;
        if (!(signal instanceof ContinueSignal)) throw signal;
      } finally {
        vars.length = mark;
      }
      return true;
    };
    let ran = false;
    if (value instanceof Map) {
      for (const key of [...value.keys()].sort(compareStrings)) {
        ran = true;
        if (!iteration(key, value.get(key))) break;
      }
    } else if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        ran = true;
        if (!iteration(BigInt(i), value[i])) break;
      }
    } else if (value !== undefined && value !== null) {
      fail(`range can't iterate over ${formatValue(value)}`);
    }
    if (!ran && node.elseList !== undefined) walk(dot, node.elseList);
    vars.length = outer;
  };

  walk(data, nodes);
  return out;
}
