/**
 * Papermill-style parameters: the first cell tagged `parameters` is followed
 * by an injected cell tagged `injected-parameters` holding `const name = value;`
 * lines. The Deno kernel lets a later cell redeclare a `const`, so the
 * injected values override the defaults.
 *
 * @module
 */

import { newCellId, type Notebook, type NotebookCell } from "./nbformat.ts";

/** Tag of the cell holding parameter defaults. */
export const PARAMETERS_TAG = "parameters";
/** Tag of the cell the runner injects. */
export const INJECTED_TAG = "injected-parameters";

/**
 * Parses a command-line `name=value`: numbers, booleans, null and JSON parse
 * as such, anything else is a string; `raw` forces a string.
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
 * ```
 */
export function parseParameter(text: string, options: { raw?: boolean } = {}): [string, unknown] {
  const at = text.indexOf("=");
  if (at <= 0) throw new TypeError(`Invalid parameter: expected name=value, got ${text}`);
  const name = text.slice(0, at).trim();
  if (!/^[A-Za-z_$][\w$]*$/.test(name)) {
    throw new TypeError(`Invalid parameter name: ${name}`);
  }
  const value = text.slice(at + 1);
  if (options.raw) return [name, value];
  try {
    return [name, JSON.parse(value)];
  } catch {
    return [name, value];
  }
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
    if (!/^[A-Za-z_$][\w$]*$/.test(name)) throw new TypeError(`Invalid parameter name: ${name}`);
    const keyword = declared.get(name) ?? "const";
    return `${keyword} ${name} = ${JSON.stringify(value)};\n`;
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
