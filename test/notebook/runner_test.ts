import assert from "node:assert/strict";
import { KernelDiedError, KernelStartError } from "../../lib/notebook/kernel.ts";
import { NotebookInputError } from "../../lib/notebook/nbformat.ts";
import { NotebookParameterError } from "../../lib/notebook/parameters.ts";
import {
  CellTimeoutError,
  NotebookExecutionError,
  runNotebook,
  type RunNotebookResult,
} from "../../lib/notebook/runner.ts";
import { validateNotebook } from "../fixtures/notebooks/json_schema.ts";

const FIXTURES = new URL("../fixtures/notebooks/", import.meta.url).pathname;

// deno-lint-ignore no-explicit-any
type Json = any;

function alive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

async function withTmp<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "opsbook-runner-test-" });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function readOut(path: string): Json {
  const nb = JSON.parse(Deno.readTextFileSync(path));
  assert.deepEqual(validateNotebook(nb), [], "output notebook must match the nbformat 4.5 schema");
  const ids = nb.cells.map((c: Json) => c.id);
  assert.equal(new Set(ids).size, ids.length, "cell ids must be unique");
  return nb;
}

const MIXED_OUTPUTS = [
  null,
  [
    { name: "stdout", output_type: "stream", text: ["out 1\n", "out 2\n"] },
    { name: "stderr", output_type: "stream", text: ["err 1\n"] },
  ],
  [
    { data: { "text/plain": ["step 2"] }, metadata: {}, output_type: "display_data" },
    {
      data: { "text/plain": ['"first"'] },
      execution_count: 2,
      metadata: {},
      output_type: "execute_result",
    },
  ],
  [{
    data: { "text/html": ["<table><tr><td>a</td><td>1</td></tr></table>"] },
    execution_count: 3,
    metadata: {},
    output_type: "execute_result",
  }],
  [{ name: "stdout", output_type: "stream", text: ["updated\n"] }],
  [{ data: { "text/plain": ["kept"] }, metadata: {}, output_type: "display_data" }],
  [{
    data: {
      "image/svg+xml": [
        '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>',
      ],
    },
    execution_count: 6,
    metadata: {},
    output_type: "execute_result",
  }],
  [{
    data: { "text/plain": ["{ answer: 42, list: [ 1, 2 ] }"] },
    execution_count: 7,
    metadata: {},
    output_type: "execute_result",
  }],
];

Deno.test("runNotebook executes mixed outputs and writes a valid nbformat 4.5 notebook", async () => {
  await withTmp(async (dir) => {
    const input = `${FIXTURES}mixed.ipynb`;
    const before = await Deno.readTextFile(input);
    const events: string[] = [];
    const result = await runNotebook(input, {
      output: `${dir}/mixed.ipynb`,
      onProgress: (e) =>
        events.push(e.type === "kernel" ? "kernel" : `${e.type}:${e.n}/${e.total}`),
    });
    assert.equal(await Deno.readTextFile(input), before, "the input is never modified");
    assert.equal(result.executed, 7);
    assert.deepEqual(result.failures, []);
    assert.equal(alive(result.kernelPid), false, "no kernel process survives");
    assert.deepEqual(events.slice(0, 3), ["kernel", "cell-start:1/7", "cell-end:1/7"]);
    assert.equal(events.length, 15);
    const nb = readOut(result.output);
    assert.deepEqual(nb.cells.map((c: Json) => c.outputs ?? null), MIXED_OUTPUTS);
    assert.deepEqual(nb.cells.map((c: Json) => c.execution_count ?? null), [
      null,
      1,
      2,
      3,
      4,
      5,
      6,
      7,
    ]);
    assert.equal(nb.metadata.kernelspec.name, "deno");
    assert.equal(nb.metadata.language_info.name, "typescript");
    assert.deepEqual(Object.keys(nb.cells[1].metadata.execution).sort(), [
      "iopub.execute_input",
      "iopub.status.busy",
      "iopub.status.idle",
      "shell.execute_reply",
    ]);
    assert.equal(nb.nbformat_minor, 5);
  });
});

Deno.test("runNotebook loses no output over 10 runs of the mixed notebook", async () => {
  await withTmp(async (dir) => {
    for (let run = 0; run < 10; run++) {
      const result = await runNotebook(`${FIXTURES}mixed.ipynb`, { output: `${dir}/run.ipynb` });
      const nb = JSON.parse(await Deno.readTextFile(result.output));
      assert.deepEqual(nb.cells.map((c: Json) => c.outputs ?? null), MIXED_OUTPUTS, `run ${run}`);
      assert.equal(alive(result.kernelPid), false);
    }
  });
});

Deno.test("runNotebook stops at a failing cell, marks it and stops the kernel", async () => {
  await withTmp(async (dir) => {
    const error = await runNotebook(`${FIXTURES}failing.ipynb`, { output: `${dir}/f.ipynb` })
      .then(() => null, (e) => e);
    assert.ok(error instanceof NotebookExecutionError);
    assert.equal(error.failure.ename, "RangeError");
    assert.equal(error.failure.evalue, "disk is full");
    assert.equal(error.failure.number, 2, "the second code cell run: In [2]");
    assert.equal(error.failure.cell, 1);
    assert.equal(
      error.failure.outputCell,
      3,
      "index in the written notebook, after two marker cells",
    );
    assert.equal(error.message, "Cell 2 failed: RangeError: disk is full");
    assert.equal(alive(error.result.kernelPid), false);
    const nb = readOut(`${dir}/f.ipynb`);
    assert.equal(nb.cells.length, 5);
    assert.equal(nb.cells[0].cell_type, "markdown");
    assert.deepEqual(nb.cells[0].metadata.tags, ["opsbook-error"]);
    assert.match(
      nb.cells[0].source.join(""),
      /An exception was encountered at <a href="#opsbook-error-cell">cell 2 \(In \[2\]\)<\/a>: RangeError: disk is full/,
    );
    assert.deepEqual(nb.cells[1].outputs, [{
      name: "stdout",
      output_type: "stream",
      text: ["before\n"],
    }]);
    assert.deepEqual(nb.cells[2].metadata.tags, ["opsbook-error"]);
    const err = nb.cells[3].outputs[0];
    assert.deepEqual([err.output_type, err.ename, err.evalue, err.traceback[0]], [
      "error",
      "RangeError",
      "disk is full",
      "RangeError: disk is full",
    ]);
    assert.deepEqual([nb.cells[4].execution_count, nb.cells[4].outputs], [null, []]);

    // A re-run of the output notebook with allowErrors drops the old markers and carries on.
    const result = await runNotebook(`${dir}/f.ipynb`, {
      output: `${dir}/g.ipynb`,
      allowErrors: true,
    });
    assert.equal(result.executed, 3);
    assert.deepEqual(result.failures.map((f) => [f.cell, f.ename]), [[1, "RangeError"]]);
    const again = readOut(`${dir}/g.ipynb`);
    assert.equal(again.cells.length, 3);
    assert.deepEqual(again.cells[2].outputs, [{
      name: "stdout",
      output_type: "stream",
      text: ["never\n"],
    }]);
  });
});

Deno.test("runNotebook interrupts and stops a cell over the timeout", async () => {
  await withTmp(async (dir) => {
    let pid = 0;
    const error = await runNotebook(`${FIXTURES}timeout.ipynb`, {
      output: `${dir}/t.ipynb`,
      timeout: 1_500,
      onProgress: (e) => e.type === "kernel" && (pid = e.pid),
    }).then(() => null, (e) => e);
    assert.ok(error instanceof CellTimeoutError);
    assert.equal(error.failure.evalue, "Cell timed out after 1.5 s");
    assert.equal(alive(pid), false);
    const nb = readOut(`${dir}/t.ipynb`);
    const cell = nb.cells.find((c: Json) => c.id === "c2");
    assert.deepEqual(cell.outputs, [{
      ename: "CellTimeoutError",
      evalue: "Cell timed out after 1.5 s",
      output_type: "error",
      traceback: ["CellTimeoutError: cell timed out after 1.5 s"],
    }]);
    assert.equal(nb.cells.find((c: Json) => c.id === "c3").execution_count, null);
  });
});

Deno.test("runNotebook injects parameters after the parameters cell", async () => {
  await withTmp(async (dir) => {
    const warnings: string[] = [];
    const result: RunNotebookResult = await runNotebook(`${FIXTURES}parameters.ipynb`, {
      output: `${dir}/p.ipynb`,
      parameters: {
        threshold: 0.9,
        host: "web-1",
        labels: { job: "api", n: [1, 2] },
        enabled: true,
        extra: null,
      },
      allowUnknownParameters: true,
      onWarning: (w) => warnings.push(w),
    });
    assert.deepEqual(warnings, [
      "Unknown parameter extra: not declared in the parameters cell (declared: threshold, host, labels, enabled); injected anyway",
    ]);
    assert.deepEqual(result.warnings, warnings);
    const nb = readOut(result.output);
    assert.deepEqual(nb.cells[2].metadata.tags, ["injected-parameters"]);
    assert.deepEqual(nb.cells[2].source, [
      "// Parameters\n",
      "const threshold = 0.9;\n",
      'const host = "web-1";\n',
      'const labels = {"job":"api","n":[1,2]};\n',
      "const enabled = true;\n",
      "const extra = null;\n",
    ]);
    assert.deepEqual(nb.cells[3].outputs, [{
      name: "stdout",
      output_type: "stream",
      text: [
        '{"threshold":0.9,"host":"web-1","labels":{"job":"api","n":[1,2]},"enabled":true,"t":"number"}\n',
      ],
    }]);
    assert.deepEqual(nb.metadata.opsbook.parameters, {
      threshold: 0.9,
      host: "web-1",
      labels: { job: "api", n: [1, 2] },
      enabled: true,
      extra: null,
    });
    // Re-running the output replaces the injected cell rather than adding one.
    const again = await runNotebook(result.output, {
      output: `${dir}/q.ipynb`,
      parameters: { host: "db-1" },
    });
    const nb2 = readOut(again.output);
    assert.equal(
      nb2.cells.filter((c: Json) => c.metadata.tags?.includes("injected-parameters")).length,
      1,
    );
    assert.match(nb2.cells[3].outputs[0].text[0], /"threshold":0.5,"host":"db-1"/);
    // Without allowUnknownParameters an undeclared name stops the run before the kernel starts.
    await assert.rejects(
      runNotebook(`${FIXTURES}parameters.ipynb`, {
        output: `${dir}/r.ipynb`,
        parameters: { extra: 1 },
      }),
      (e: Error) =>
        e instanceof NotebookParameterError &&
        e.message ===
          "Unknown parameter extra: not declared in the parameters cell (declared: threshold, host, labels, enabled); --allow-unknown-params injects it anyway",
    );
    assert.throws(() => Deno.statSync(`${dir}/r.ipynb`), Deno.errors.NotFound);
  });
});

Deno.test("runNotebook runs a notebook importing opsbook from the notebook's folder", async () => {
  await withTmp(async (dir) => {
    const result = await runNotebook(`${FIXTURES}opsbook_import.ipynb`, {
      output: `${dir}/o.ipynb`,
      timeout: 60_000,
    });
    const nb = readOut(result.output);
    assert.deepEqual(nb.cells[0].outputs[0].data, { "text/plain": ['"function"'] });
  });
});

Deno.test("runNotebook rejects unusable inputs with NotebookInputError", async () => {
  await withTmp(async (dir) => {
    await Deno.writeTextFile(`${dir}/broken.ipynb`, '{"nbformat": 4, "cells": [');
    const cases: [string, RegExp][] = [
      [`${dir}/missing.ipynb`, /^Cannot read notebook: .*missing\.ipynb: file not found$/],
      [`${dir}/broken.ipynb`, /^Invalid notebook JSON: .*broken\.ipynb: /],
      [`${FIXTURES}not_a_notebook.ipynb`, /^Not a notebook \(no nbformat field\): /],
      [`${FIXTURES}python.ipynb`, /^Notebook kernel is not Deno's: python3$/],
    ];
    for (const [path, message] of cases) {
      await assert.rejects(runNotebook(path, { output: `${dir}/x.ipynb` }), (e: Error) => {
        assert.ok(e instanceof NotebookInputError, e.message);
        assert.match(e.message, message);
        return true;
      });
    }
  });
});

Deno.test("runNotebook reports a kernel that dies or does not start in time", async () => {
  await withTmp(async (dir) => {
    const nbPath = `${dir}/die.ipynb`;
    await Deno.writeTextFile(
      nbPath,
      JSON.stringify({
        nbformat: 4,
        nbformat_minor: 5,
        metadata: {},
        cells: [{ id: "a", cell_type: "code", source: "Deno.exit(3)", metadata: {}, outputs: [] }],
      }),
    );
    await assert.rejects(runNotebook(nbPath, { output: `${dir}/d.ipynb` }), (e: Error) => {
      assert.ok(e instanceof NotebookExecutionError);
      assert.equal(
        e.message,
        "Cell 1 failed: KernelDiedError: Kernel died while running cell 1: exit code 3",
      );
      assert.equal(e.failure.number, 1);
      assert.ok(e.cause instanceof KernelDiedError);
      assert.equal(e.cause.code, 3);
      assert.match(e.cause.message, /^Kernel exited unexpectedly: code 3/);
      return true;
    });
    const died = readOut(`${dir}/d.ipynb`);
    assert.deepEqual(died.cells[2].outputs, [{
      output_type: "error",
      ename: "KernelDiedError",
      evalue: "Kernel died while running cell 1: exit code 3",
      traceback: ["KernelDiedError: Kernel died while running cell 1: exit code 3"],
    }]);
    await assert.rejects(
      runNotebook(nbPath, { output: `${dir}/s.ipynb`, startTimeout: 1 }),
      (e: Error) => e instanceof KernelStartError && /start timeout/.test(e.message),
    );
  });
});

Deno.test("runNotebook stops the kernel when aborted", async () => {
  await withTmp(async (dir) => {
    const controller = new AbortController();
    let pid = 0;
    const reason = new Error("stop now");
    const run = runNotebook(`${FIXTURES}timeout.ipynb`, {
      output: `${dir}/a.ipynb`,
      signal: controller.signal,
      onProgress: (e) => {
        if (e.type === "kernel") pid = e.pid;
        if (e.type === "cell-start" && e.n === 2) setTimeout(() => controller.abort(reason), 200);
      },
    });
    await assert.rejects(run, (e) => e === reason);
    assert.equal(alive(pid), false);
    const nb = readOut(`${dir}/a.ipynb`);
    assert.deepEqual(nb.cells[0].outputs, [{
      name: "stdout",
      output_type: "stream",
      text: ["start\n"],
    }]);
  });
});
