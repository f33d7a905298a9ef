import assert from "node:assert/strict";
import {
  type Notebook,
  NotebookInputError,
  parseNotebook,
  readNotebook,
  serializeNotebook,
  splitLines,
  writeNotebook,
} from "../../lib/notebook/nbformat.ts";
import { validateNotebook } from "../fixtures/notebooks/json_schema.ts";

const FIXTURES = new URL("../fixtures/notebooks/", import.meta.url).pathname;

Deno.test("splitLines keeps newlines and handles empty text", () => {
  assert.deepEqual(splitLines(""), []);
  assert.deepEqual(splitLines("\n\n"), ["\n", "\n"]);
  assert.deepEqual(splitLines("a\n\nb"), ["a\n", "\n", "b"]);
});

Deno.test("parseNotebook upgrades 4.4 to 4.5 with unique ids and joins multiline strings", () => {
  const nb = parseNotebook(JSON.stringify({
    nbformat: 4,
    nbformat_minor: 4,
    metadata: { kernelspec: { name: "deno", display_name: "Deno" } },
    cells: [
      {
        cell_type: "code",
        source: ["a\n", "b"],
        metadata: {},
        outputs: [{ output_type: "stream", name: "stdout", text: ["x\n", "y"] }],
        execution_count: 3,
      },
      { cell_type: "markdown", source: "m", metadata: {}, id: "same" },
      { cell_type: "raw", source: "r", metadata: {}, id: "same" },
      { cell_type: "code", source: "", metadata: {}, id: "bad id!" },
    ],
  }));
  assert.equal(nb.nbformat_minor, 5);
  assert.equal(nb.cells[0].source, "a\nb");
  assert.deepEqual(nb.cells[0].outputs, [{ output_type: "stream", name: "stdout", text: "x\ny" }]);
  assert.equal(nb.cells[1].id, "same");
  assert.notEqual(nb.cells[2].id, "same");
  assert.match(nb.cells[3].id, /^[0-9a-f]{8}$/);
  assert.equal(new Set(nb.cells.map((c) => c.id)).size, 4);
  assert.deepEqual(validateNotebook(JSON.parse(serializeNotebook(nb))), []);
});

Deno.test("parseNotebook rejects what is not an nbformat 4 notebook", () => {
  const cases: [string, RegExp][] = [
    ["{", /^Invalid notebook JSON: x\.ipynb: /],
    ["[]", /^Not a notebook \(no nbformat field\): x\.ipynb$/],
    [
      '{"nbformat": 3, "worksheets": []}',
      /^Unsupported notebook format: nbformat 3, expected 4: x\.ipynb$/,
    ],
    ['{"nbformat": 4, "cells": {}}', /^Not a notebook \(cells is not a list\): x\.ipynb$/],
    [
      '{"nbformat": 4, "cells": [{"cell_type": "weird"}]}',
      /^Not a notebook \(cell 0 has no valid cell_type\): x\.ipynb$/,
    ],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parseNotebook(text, { path: "x.ipynb" }), (e: Error) => {
      assert.ok(e instanceof NotebookInputError);
      assert.match(e.message, message);
      return true;
    });
  }
});

Deno.test("serializeNotebook writes Jupyter's layout and mime data split where nbformat splits", () => {
  const nb: Notebook = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {},
    cells: [{
      id: "c",
      cell_type: "code",
      source: "x\ny",
      metadata: {},
      execution_count: 1,
      outputs: [{
        output_type: "execute_result",
        execution_count: 1,
        metadata: {},
        data: {
          "text/plain": "1\n2",
          "image/png": "iVBOR",
          "application/json": { a: 1 },
          "image/svg+xml": "<svg>\n</svg>",
        },
      }],
    }],
  };
  const text = serializeNotebook(nb);
  assert.ok(text.startsWith('{\n "cells": [\n  {\n   "cell_type": "code",'));
  assert.ok(text.endsWith("}\n"));
  const disk = JSON.parse(text);
  assert.deepEqual(disk.cells[0].source, ["x\n", "y"]);
  assert.deepEqual(disk.cells[0].outputs[0].data, {
    "application/json": { a: 1 },
    "image/png": "iVBOR",
    "image/svg+xml": ["<svg>\n", "</svg>"],
    "text/plain": ["1\n", "2"],
  });
  assert.deepEqual(validateNotebook(disk), []);
  assert.deepEqual(parseNotebook(text), nb);
});

Deno.test("writeNotebook replaces the file atomically and leaves no temporary file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const nb = await readNotebook(`${FIXTURES}mixed.ipynb`);
    await Deno.writeTextFile(`${dir}/nb.ipynb`, "old");
    await writeNotebook(`${dir}/nb.ipynb`, nb);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["nb.ipynb"]);
    assert.deepEqual(await readNotebook(`${dir}/nb.ipynb`), nb);
    await assert.rejects(writeNotebook(`${dir}/missing/nb.ipynb`, nb), Deno.errors.NotFound);
    await assert.rejects(
      readNotebook(`${dir}/none.ipynb`),
      /^NotebookInputError: Cannot read notebook: .*none\.ipynb: file not found$/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the schema validator catches invalid notebooks", () => {
  const ok = JSON.parse(Deno.readTextFileSync(`${FIXTURES}mixed.ipynb`));
  assert.deepEqual(validateNotebook(ok), []);
  const bad = structuredClone(ok);
  delete bad.cells[1].id;
  bad.cells[2].outputs = [{ output_type: "stream", name: "stdout" }];
  const errors = validateNotebook(bad);
  assert.ok(errors.length >= 2, errors.join("\n"));
  assert.ok(errors.some((e) => e.includes("missing required property id")), errors.join("\n"));
});
