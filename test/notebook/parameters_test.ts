import assert from "node:assert/strict";
import { type Notebook, parseNotebook } from "../../lib/notebook/nbformat.ts";
import { notebookParameters } from "../../scripts/demo.ts";
import {
  checkParameters,
  declaredNames,
  declaredParameters,
  injectParameters,
  NotebookParameterError,
  parseParameter,
} from "../../lib/notebook/parameters.ts";

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
    /^NotebookParameterError: Invalid parameter "novalue": expected name=value, for example threshold=90$/,
  );
  assert.throws(
    () => parseParameter("1x=2"),
    /^NotebookParameterError: Invalid parameter name "1x": expected a JavaScript identifier/,
  );
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
  assert.throws(() => injectParameters(nb, { "bad name": 1 }), NotebookParameterError);
});

Deno.test("parseParameter rejects non-finite numbers and reserved words (issue 14.11)", () => {
  for (
    const [text, message] of [
      ["x=1e400", "Invalid parameter x: 1e400 is not a finite number"],
      ["x=-1e400", "Invalid parameter x: -1e400 is not a finite number"],
      ["x=[1,1e999]", "Invalid parameter x: [1,1e999] is not a finite number"],
      ['x={"a":{"b":1e400}}', 'Invalid parameter x: {"a":{"b":1e400}} is not a finite number'],
      ["class=1", "Invalid parameter name class: a reserved word cannot be a variable name"],
      ["const=1", "Invalid parameter name const: a reserved word cannot be a variable name"],
      ["await=1", "Invalid parameter name await: a reserved word cannot be a variable name"],
    ]
  ) {
    assert.throws(
      () => parseParameter(text),
      (e: Error) => e instanceof NotebookParameterError && e.message === message,
      text,
    );
  }
  assert.deepEqual(parseParameter("x=1e400", { raw: true }), ["x", "1e400"]);
});

const PARAMETERS_CELL = [
  "// Parameters",
  'const prometheus_url = Deno.env.get("PROMETHEUS_URL") ?? "http://localhost:9090";',
  "const threshold = 80; // CPU % above which a host counts as hot",
  'const window = "5m"; // irate window of the CPU query',
  "const eval_time: string | null = null; // evaluation time (RFC 3339); null = now",
  'const time_zone = "UTC"; // time axis zone',
  'const out_dir: string | null = "../out/charts"; // where charts go; null: do not save',
  "const dry_run: boolean | null = null;",
  "const labels = {",
  '  job: "node", // nested comment; and = sign',
  "};",
  "let hosts: string[] = [];",
  "const started_at = null; // RFC 3339",
].join("\n");

Deno.test("declaredParameters reads kinds from defaults, annotations and comments", () => {
  assert.deepEqual(
    [...declaredParameters(PARAMETERS_CELL).values()].map((p) => [p.name, p.kinds, p.defaultText]),
    [
      ["prometheus_url", ["string"], 'Deno.env.get("PROMETHEUS_URL") ?? "http://localhost:9090"'],
      ["threshold", ["number"], "80"],
      ["window", ["duration"], '"5m"'],
      ["eval_time", ["time", "null"], "null"],
      ["time_zone", ["string"], '"UTC"'],
      ["out_dir", ["string", "null"], '"../out/charts"'],
      ["dry_run", ["boolean", "null"], "null"],
      ["labels", ["object"], '{\n  job: "node", // nested comment; and = sign\n}'],
      ["hosts", ["array"], "[]"],
      ["started_at", ["any"], "null"],
    ],
  );
});

Deno.test("checkParameters: did you mean, literal types, time and duration forms (issue 13.4)", () => {
  const nb = notebook([{ source: PARAMETERS_CELL, tags: ["parameters"] }]);
  const fails = (parameters: Record<string, unknown>, allowUnknown = false) => {
    try {
      checkParameters(nb, parameters, { allowUnknown });
    } catch (e) {
      assert.ok(e instanceof NotebookParameterError);
      return e.problems;
    }
    assert.fail("expected a NotebookParameterError");
  };
  const declared =
    "(declared: prometheus_url, threshold, window, eval_time, time_zone, out_dir, dry_run, labels, hosts, started_at)";
  assert.deepEqual(fails({ treshold: 3 }), [
    `Unknown parameter treshold: did you mean threshold? ${declared}; --allow-unknown-params injects it anyway`,
  ]);
  assert.deepEqual(fails({ Threshold: 3, bogus: 1 }), [
    `Unknown parameter Threshold: did you mean threshold? ${declared}; --allow-unknown-params injects it anyway`,
    `Unknown parameter bogus: not declared in the parameters cell ${declared}; --allow-unknown-params injects it anyway`,
  ]);
  assert.deepEqual(checkParameters(nb, { bogus: 1 }, { allowUnknown: true }), [
    `Unknown parameter bogus: not declared in the parameters cell ${declared}; injected anyway`,
  ]);
  assert.deepEqual(fails({ threshold: "80%" }), [
    'Parameter threshold expects a number (default: 80), got "80%"',
  ]);
  assert.deepEqual(fails({ eval_time: "yesterday" }), [
    'Parameter eval_time expects a time in RFC 3339 such as 2026-11-01T12:00:00Z (or with an offset: +08:00) or null (default: null), got "yesterday"',
  ]);
  assert.deepEqual(fails({ eval_time: 1793534400 }), [
    "Parameter eval_time expects a time in RFC 3339 such as 2026-11-01T12:00:00Z (or with an offset: +08:00) or null (default: null), got 1793534400 (as epoch seconds that is 2026-11-01T12:00:00Z)",
  ]);
  assert.deepEqual(fails({ window: "5 minutes", time_zone: 8, dry_run: "yes" }), [
    'Parameter window expects a Prometheus duration such as 5m or 1h30m (default: "5m"), got "5 minutes"',
    'Parameter time_zone expects a string (default: "UTC"), got 8 (-r time_zone=... passes text as it is)',
    'Parameter dry_run expects true or false or null (default: null), got "yes"',
  ]);
  assert.deepEqual(fails({ labels: [1], hosts: { a: 1 }, x: Infinity }), [
    'Parameter labels expects a JSON object (default: {\n  job: "node", // nested comment; and = sign\n}), got [1]',
    'Parameter hosts expects a JSON array (default: []), got {"a":1}',
    "Invalid parameter x: Infinity is not a finite number",
  ]);
  assert.deepEqual(
    checkParameters(nb, {
      threshold: 90.5,
      window: "1h30m",
      eval_time: "2026-11-01T12:00:00+08:00",
      out_dir: null,
      dry_run: false,
      labels: { job: "x" },
      hosts: ["a"],
      started_at: "anything",
      prometheus_url: "http://prom:9090",
    }),
    [],
  );
  assert.deepEqual(checkParameters(nb, { eval_time: null }), []);
  const bare = notebook([{ source: "1" }]);
  assert.throws(
    () => checkParameters(bare, { x: 1 }),
    /^NotebookParameterError: Unknown parameter x: the notebook has no cell tagged "parameters"; --allow-unknown-params injects it anyway$/,
  );
});

Deno.test("injectParameters writes objects so that every key is an own key (issue 14.11)", () => {
  const nb = notebook([{ source: "const obj = {};", tags: ["parameters"] }]);
  injectParameters(nb, { obj: JSON.parse('{"__proto__":{"polluted":1},"a":[{"__proto__":2}]}') });
  assert.equal(
    nb.cells[1].source,
    '// Parameters\nconst obj = {["__proto__"]:{"polluted":1},"a":[{["__proto__"]:2}]};\n',
  );
  const obj = new Function(`${nb.cells[1].source}; return obj;`)();
  assert.deepEqual(Object.keys(obj), ["__proto__", "a"]);
  assert.equal(Object.getPrototypeOf(obj), Object.prototype);
  assert.deepEqual(obj["__proto__"], { polluted: 1 });
  assert.throws(() => injectParameters(nb, { class: 1 }), NotebookParameterError);
  assert.throws(() => injectParameters(nb, { x: NaN }), NotebookParameterError);
});

Deno.test("the shipped notebooks accept the demo's parameters as checked", async () => {
  const root = new URL("../../notebooks/", import.meta.url);
  for (const name of ["01_query", "02_chart", "03_alert", "04_anomaly"]) {
    const nb = parseNotebook(await Deno.readTextFile(new URL(`${name}.ipynb`, root)));
    const parameters = notebookParameters(name, {
      prometheusUrl: "http://127.0.0.1:9090",
      outDir: "/tmp/out",
    });
    assert.deepEqual(checkParameters(nb, parameters), [], name);
    assert.throws(() => checkParameters(nb, { eval_time: "yesterday" }), NotebookParameterError);
  }
});
