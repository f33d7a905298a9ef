import assert from "node:assert/strict";
import type { Notebook } from "../../lib/notebook/nbformat.ts";
import { declaredNames, injectParameters, parseParameter } from "../../lib/notebook/parameters.ts";

function notebook(cells: { source: string; tags?: string[] }[]): Notebook {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {},
    cells: cells.map((c, i) => ({
      id: `c${i}`,
      cell_type: "code",
      source: c.source,
      metadata: c.tags ? { tags: c.tags } : {},
      outputs: [],
      execution_count: null,
    })),
  };
}

Deno.test("parseParameter parses numbers, booleans, null and JSON; the rest are strings", () => {
  assert.deepEqual(parseParameter("a=1"), ["a", 1]);
  assert.deepEqual(parseParameter("a=-2.5e3"), ["a", -2500]);
  assert.deepEqual(parseParameter("a=true"), ["a", true]);
  assert.deepEqual(parseParameter("a=null"), ["a", null]);
  assert.deepEqual(parseParameter('a={"x":[1]}'), ["a", { x: [1] }]);
  assert.deepEqual(parseParameter('a="quoted"'), ["a", "quoted"]);
  assert.deepEqual(parseParameter("a=web-1"), ["a", "web-1"]);
  assert.deepEqual(parseParameter("a=x=y"), ["a", "x=y"]);
  assert.deepEqual(parseParameter("a="), ["a", ""]);
  assert.deepEqual(parseParameter("a=true", { raw: true }), ["a", "true"]);
  assert.throws(
    () => parseParameter("novalue"),
    /^TypeError: Invalid parameter: expected name=value, got novalue$/,
  );
  assert.throws(() => parseParameter("1x=2"), /^TypeError: Invalid parameter name: 1x$/);
});

Deno.test("declaredNames finds top-level declarations with their keyword", () => {
  assert.deepEqual(
    [...declaredNames("const a = 1;\n  let b = 2;\nvar c;\nexport const d = 4;\nfoo(const_e);")],
    [["a", "const"], ["b", "let"], ["c", "var"], ["d", "const"]],
  );
});

Deno.test("injectParameters inserts after the parameters cell, mirrors the keyword and records metadata", () => {
  const nb = notebook([{ source: "1" }, { source: "let limit = 1;", tags: ["parameters"] }, {
    source: "limit",
  }]);
  const result = injectParameters(nb, { limit: 2, host: 'a"b', skipped: undefined });
  assert.deepEqual(result, { unknown: ["host"], index: 2 });
  assert.equal(nb.cells[2].source, '// Parameters\nlet limit = 2;\nconst host = "a\\"b";\n');
  assert.deepEqual(nb.cells[2].metadata, { tags: ["injected-parameters"] });
  assert.deepEqual(nb.metadata, { opsbook: { parameters: { limit: 2, host: 'a"b' } } });
  // Re-injection replaces the previous cell.
  injectParameters(nb, { limit: 3 });
  assert.deepEqual(nb.cells.map((c) => c.source), [
    "1",
    "let limit = 1;",
    "// Parameters\nlet limit = 3;\n",
    "limit",
  ]);
  // No parameters: the injected cell goes away.
  assert.deepEqual(injectParameters(nb, {}), { unknown: [], index: -1 });
  assert.equal(nb.cells.length, 3);
});

Deno.test("injectParameters goes to the top when no cell is tagged parameters", () => {
  const nb = notebook([{ source: "x" }]);
  assert.deepEqual(injectParameters(nb, { x: 1 }), { unknown: ["x"], index: 0 });
  assert.equal(nb.cells[0].source, "// Parameters\nconst x = 1;\n");
  assert.throws(() => injectParameters(nb, { "bad name": 1 }), TypeError);
});
