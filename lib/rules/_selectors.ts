/**
 * A small PromQL tokenizer that finds the vector selectors of an expression,
 * so the evaluator can ask whether a rule's input metrics exist at all ("no
 * data" is never "all clear").
 *
 * @module
 */

/** One vector selector of an expression. */
export interface VectorSelector {
  /** The selector as written, without its range: `node_cpu_seconds_total{mode="idle"}`. */
  selector: string;
  /** The range of a range selector or subquery (`5m` of `x[5m]` or `x[1h:5m]`). */
  range?: string;
  /** The `offset` modifier, e.g. `1d` (also negative, `-5m`). */
  offset?: string;
  /** `true` when the selector is the argument of `absent()` or `absent_over_time()`. */
  inAbsent: boolean;
}

const KEYWORDS = new Set([
  "and",
  "or",
  "unless",
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "offset",
  "bool",
  "atan2",
  "inf",
  "nan",
]);

/** Keywords followed by a parenthesised list of label names. */
const LABEL_LISTS = new Set(["by", "without", "on", "ignoring", "group_left", "group_right"]);

const AGGREGATORS = new Set([
  "sum",
  "min",
  "max",
  "avg",
  "group",
  "stddev",
  "stdvar",
  "count",
  "count_values",
  "bottomk",
  "topk",
  "quantile",
]);

const IDENT_START = /[A-Za-z_:]/;
const IDENT = /[A-Za-z0-9_:]/;

function skipSpace(s: string, i: number): number {
  while (i < s.length) {
    const c = s[i];
    if (c === " " || c === "\t" || c === "\n" || c === "\r") i++;
    else if (c === "#") {
      while (i < s.length && s[i] !== "\n") i++;
    } else break;
  }
  return i;
}

/** Index just past the string literal starting at `i`. */
function skipString(s: string, i: number): number {
  const quote = s[i];
  let j = i + 1;
  while (j < s.length && s[j] !== quote) {
    if (s[j] === "\\" && quote !== "`") j++;
    j++;
  }
  return j + 1;
}

/** Index just past the bracket that closes the one at `i` (`{…}` or `[…]`), skipping strings. */
function skipBracket(s: string, i: number): number {
  const close = s[i] === "{" ? "}" : s[i] === "[" ? "]" : ")";
  let j = i + 1;
  while (j < s.length && s[j] !== close) {
    if (s[j] === '"' || s[j] === "'" || s[j] === "`") j = skipString(s, j);
    else j++;
  }
  return j + 1;
}

/** The last identifier before position `i` (skipping spaces and one `(`), for `absent(`. */
function callerOf(s: string, i: number): string {
  let j = i - 1;
  while (j >= 0 && /\s/.test(s[j])) j--;
  if (s[j] !== "(") return "";
  j--;
  while (j >= 0 && /\s/.test(s[j])) j--;
  const end = j + 1;
  while (j >= 0 && IDENT.test(s[j])) j--;
  return s.slice(j + 1, end);
}

/**
 * The vector selectors of a PromQL expression, in order of appearance and
 * without duplicates. Function names, aggregation operators, keywords,
 * label lists (`by (…)`, `on (…)`), strings, numbers and durations are not
 * selectors. The expression is assumed valid (the rule file loader checked
 * it); garbage in gives a best-effort answer, never an exception.
 *
 * @example
 * ```ts
 * import { vectorSelectors } from "./_selectors.ts";
 * const found = vectorSelectors(
 *   '100 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m])) * 100 > 80',
 * );
 * console.log(found); // [ { selector: 'node_cpu_seconds_total{mode="idle"}', range: "5m", inAbsent: false } ]
 * ```
 */
export function vectorSelectors(expr: string): VectorSelector[] {
  const out: VectorSelector[] = [];
  const seen = new Set<string>();
  const s = expr;
  let i = 0;
  while (i < s.length) {
    i = skipSpace(s, i);
    if (i >= s.length) break;
    const c = s[i];
    if (c === '"' || c === "'" || c === "`") {
      i = skipString(s, i);
      continue;
    }
    if (/[0-9.]/.test(c)) {
      // A number or a duration (5m, 1.5e3, 0x1f).
      while (i < s.length && /[0-9A-Za-z_.]/.test(s[i])) {
        if ((s[i] === "e" || s[i] === "E") && (s[i + 1] === "+" || s[i + 1] === "-")) i++;
        i++;
      }
      continue;
    }
    let start = -1;
    let name = "";
    if (IDENT_START.test(c)) {
      start = i;
      while (i < s.length && IDENT.test(s[i])) i++;
      name = s.slice(start, i);
      const after = skipSpace(s, i);
      const lower = name.toLowerCase();
      if (LABEL_LISTS.has(lower)) {
        i = after;
        if (s[i] === "(") i = skipBracket(s, i);
        continue;
      }
      if (lower === "offset") {
        // offset <duration>: skip the duration.
        i = after;
        if (s[i] === "-" || s[i] === "+") i++;
        while (i < s.length && /[0-9A-Za-z_.]/.test(s[i])) i++;
        continue;
      }
      if (KEYWORDS.has(lower)) {
        continue;
      }
      if (s[after] === "(") {
        // A function call or an aggregation: not a selector.
        continue;
      }
      if (AGGREGATORS.has(name)) {
        const next = s.slice(after).match(/^[A-Za-z_]+/)?.[0]?.toLowerCase();
        if (next === "by" || next === "without") {
          continue;
        }
      }
      i = after;
    } else if (c === "{") {
      start = i;
    } else if (c === "@") {
      // @ <timestamp> or @ start()/end().
      i = skipSpace(s, i + 1);
      while (i < s.length && /[0-9A-Za-z_.()]/.test(s[i])) i++;
      continue;
    } else {
      if (c === "(" || c === ")" || c === "[") {
        if (c === "[") i = skipBracket(s, i);
        else i++;
      } else i++;
      continue;
    }
    // A selector: [name] [{matchers}] [[range]] [offset d]
    let text = name;
    if (s[i] === "{") {
      const end = skipBracket(s, i);
      text += s.slice(i, end);
      i = end;
    }
    const selector: VectorSelector = {
      selector: text.trim(),
      inAbsent: /^absent(_over_time)?$/.test(callerOf(s, start)),
    };
    let j = skipSpace(s, i);
    if (s[j] === "[") {
      const end = skipBracket(s, j);
      const inner = s.slice(j + 1, end - 1).trim();
      selector.range = inner.split(":")[0].trim();
      i = j = end;
      j = skipSpace(s, j);
    }
    const off = s.slice(j).match(/^offset\s+([+-]?[0-9A-Za-z_.]+)/i);
    if (off) {
      selector.offset = off[1];
      i = j + off[0].length;
    }
    const key = `${selector.selector}|${selector.range ?? ""}|${
      selector.offset ?? ""
    }|${selector.inAbsent}`;
    if (!seen.has(key)) {
      seen.add(key);
      if (selector.range === undefined) delete selector.range;
      out.push(selector);
    }
  }
  return out;
}

/**
 * The PromQL expression that asks whether a selector has any series at the
 * evaluation time: `count(sel)`, or `count(last_over_time(sel[range]))` for a
 * range selector (a series with a sample anywhere in the range counts).
 *
 * @example
 * ```ts
 * import { presenceQuery } from "./_selectors.ts";
 * console.log(presenceQuery({ selector: "up", range: "5m", inAbsent: false })); // count(last_over_time(up[5m]))
 * ```
 */
export function presenceQuery(s: VectorSelector): string {
  const off = s.offset === undefined ? "" : ` offset ${s.offset}`;
  return s.range === undefined
    ? `count(${s.selector}${off})`
    : `count(last_over_time(${s.selector}[${s.range}]${off}))`;
}

/**
 * One query asking the presence of every selector at once: each count is
 * labelled `opsbook_selector="<index>"`, so an absent index means "no
 * series".
 *
 * @example
 * ```ts
 * import { presenceQueryAll } from "./_selectors.ts";
 * console.log(presenceQueryAll([{ selector: "a", inAbsent: false }]));
 * // label_replace(count(a), "opsbook_selector", "0", "", "")
 * ```
 */
export function presenceQueryAll(selectors: readonly VectorSelector[]): string {
  return selectors.map((s, i) =>
    `label_replace(${presenceQuery(s)}, "${PRESENCE_LABEL}", "${i}", "", "")`
  ).join(" or ");
}

/** The label that carries the selector's index in {@linkcode presenceQueryAll}'s answer. */
export const PRESENCE_LABEL = "opsbook_selector";
