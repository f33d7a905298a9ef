import assert from "node:assert/strict";
import { validateNotebook } from "../fixtures/notebooks/json_schema.ts";

const FIXTURES = new URL("../fixtures/notebooks/", import.meta.url).pathname;
const CLI = new URL("../../scripts/run_notebook.ts", import.meta.url).pathname;

function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(Deno.readTextFileSync(`/proc/${pid}/stat`));
  } catch {
    return false;
  }
}

function children(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const task of Deno.readDirSync(`/proc/${pid}/task`)) {
      const text = Deno.readTextFileSync(`/proc/${pid}/task/${task.name}/children`).trim();
      if (text) out.push(...text.split(/\s+/).map(Number));
    }
  } catch {
    // process gone
  }
  return out;
}

async function cli(
  args: string[],
  cwd?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, ...args],
    cwd,
    stdin: "null",
    env: { NO_COLOR: "1" },
  }).output();
  const dec = new TextDecoder();
  return { code, stdout: dec.decode(stdout), stderr: dec.decode(stderr) };
}

async function withTmp<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "opsbook-cli-test-" });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("run_notebook --help and usage errors", async () => {
  const help = await cli(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: deno task run-notebook <input.ipynb> \[options\]/);
  assert.match(help.stdout, /--start-timeout SECONDS/);
  const none = await cli([]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /^Expected one input notebook: got 0/);
  const bad = await cli([`${FIXTURES}mixed.ipynb`, "--timeout", "soon"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^Invalid --timeout: expected seconds, got soon/);
});

Deno.test("run_notebook exits 2 for unusable inputs", async () => {
  await withTmp(async (dir) => {
    await Deno.writeTextFile(`${dir}/broken.ipynb`, '{"nbformat": 4, "cells": [');
    for (
      const [file, message] of [
        [`${dir}/missing.ipynb`, /^Cannot read notebook: .*missing.ipynb: file not found\n$/],
        [`${dir}/broken.ipynb`, /^Invalid notebook JSON: .*broken\.ipynb: /],
        [`${FIXTURES}python.ipynb`, /^Notebook kernel is not Deno's: python3\n$/],
        [`${FIXTURES}not_a_notebook.ipynb`, /^Not a notebook \(no nbformat field\): /],
      ] as const
    ) {
      const r = await cli([file, "-o", `${dir}/x.ipynb`]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
    }
  });
});

Deno.test("run_notebook writes the default output, plain progress and an HTML report", async () => {
  await withTmp(async (dir) => {
    const r = await cli([`${FIXTURES}mixed.ipynb`, "--html", "report.html"], dir);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stderr.trim().split("\n");
    assert.match(lines[0], /^kernel started in \d+\.\d\d s$/);
    assert.match(lines[1], /^cell 1\/7 ok \d+\.\d\ds \(elapsed \d+\.\ds\) \[cell 1\]$/);
    assert.match(lines[8], /^Executed 7 cells in \d+\.\d\d s: .*\/out\/mixed\.ipynb$/);
    const nb = JSON.parse(await Deno.readTextFile(`${dir}/out/mixed.ipynb`));
    assert.deepEqual(validateNotebook(nb), []);
    const html = await Deno.readTextFile(`${dir}/report.html`);
    assert.match(html, /<h1>Mixed outputs<\/h1>/);
    assert.match(html, /<table><tr><td>a<\/td>/);
    assert.match(
      html,
      /<div class="svg"><img class="output-image" alt="[^"]*" src="data:image\/svg\+xml;base64,/,
    );
    assert.doesNotMatch(html, /<script|<link /);
  });
});

Deno.test("run_notebook runs the kernel in --cwd and applies clear_output without wait", async () => {
  await withTmp(async (dir) => {
    await Deno.mkdir(`${dir}/nb`);
    await Deno.mkdir(`${dir}/work`);
    await Deno.writeTextFile(
      `${dir}/nb/cwd.ipynb`,
      JSON.stringify({
        nbformat: 4,
        nbformat_minor: 5,
        metadata: { kernelspec: { display_name: "Deno", language: "typescript", name: "deno" } },
        cells: [
          { id: "a", cell_type: "code", source: "Deno.cwd()", metadata: {}, outputs: [] },
          {
            id: "b",
            cell_type: "code",
            source: [
              'await Deno.jupyter.display({ "text/plain": "gone" }, { raw: true });\n',
              'Deno.jupyter.broadcast("clear_output", { wait: false });\n',
              'await Deno.jupyter.display({ "text/plain": "kept" }, { raw: true });',
            ],
            metadata: {},
            outputs: [],
          },
        ],
      }),
    );
    const r = await cli([
      `${dir}/nb/cwd.ipynb`,
      "-o",
      `${dir}/out.ipynb`,
      "--cwd",
      `${dir}/work`,
      "--start-timeout",
      "60",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const nb = JSON.parse(await Deno.readTextFile(`${dir}/out.ipynb`));
    assert.deepEqual(validateNotebook(nb), []);
    assert.deepEqual(nb.cells[0].outputs[0].data, {
      "text/plain": [JSON.stringify(await Deno.realPath(`${dir}/work`))],
    });
    assert.deepEqual(nb.cells[1].outputs, [
      { data: { "text/plain": ["kept"] }, metadata: {}, output_type: "display_data" },
    ]);
  });
});

Deno.test("run_notebook exits 1 on a failing cell and on a timeout", async () => {
  await withTmp(async (dir) => {
    const fail = await cli([`${FIXTURES}failing.ipynb`, "-o", `${dir}/f.ipynb`]);
    assert.equal(fail.code, 1);
    assert.match(
      fail.stderr,
      /Cell 1 failed: RangeError: disk is full\n {2}RangeError: disk is full\n {6}at /,
    );
    assert.match(fail.stderr, /Output notebook: .*\/f\.ipynb/);
    const allowed = await cli([
      `${FIXTURES}failing.ipynb`,
      "-o",
      `${dir}/g.ipynb`,
      "--allow-errors",
    ]);
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.match(allowed.stderr, /Cell 1 failed \(allowed\): RangeError: disk is full/);
    const slow = await cli([`${FIXTURES}timeout.ipynb`, "-o", `${dir}/t.ipynb`, "--timeout", "1"]);
    assert.equal(slow.code, 1);
    assert.match(slow.stderr, /Cell \d failed: CellTimeoutError: Cell timed out after 1 s/);
    const late = await cli([
      `${FIXTURES}three_cells.ipynb`,
      "-o",
      `${dir}/l.ipynb`,
      "--start-timeout",
      "0.001",
    ]);
    assert.equal(late.code, 1, late.stderr);
    assert.match(late.stderr, /^Kernel did not start within the start timeout/);
  });
});

Deno.test("run_notebook parses -p and -r parameters", async () => {
  await withTmp(async (dir) => {
    const r = await cli([
      `${FIXTURES}parameters.ipynb`,
      "-o",
      `${dir}/p.ipynb`,
      "-p",
      "threshold=0.75",
      "-p",
      'labels={"job":"x"}',
      "-r",
      "host=42",
      "-p",
      "bogus=1",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /Warning: Unknown parameter: bogus is not declared in the parameters cell/,
    );
    const nb = JSON.parse(await Deno.readTextFile(`${dir}/p.ipynb`));
    assert.deepEqual(nb.cells[3].outputs[0].text, [
      '{"threshold":0.75,"host":"42","labels":{"job":"x"},"enabled":false,"t":"number"}\n',
    ]);
  });
});

Deno.test("run_notebook leaves no kernel behind on SIGTERM and SIGINT", async () => {
  await withTmp(async (dir) => {
    for (const [signal, expected] of [["SIGTERM", 143], ["SIGINT", 130]] as const) {
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", CLI, `${FIXTURES}timeout.ipynb`, "-o", `${dir}/s.ipynb`],
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      }).spawn();
      let stderr = "";
      const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
      while (!stderr.includes("cell 1/3 ok")) {
        const { value, done } = await reader.read();
        if (done) break;
        stderr += value;
      }
      const kernels = children(child.pid);
      assert.equal(kernels.length, 1, `one kernel child: ${stderr}`);
      assert.equal(alive(kernels[0]), true);
      child.kill(signal);
      while (true) {
        const { value, done } = await reader.read();
        if (done) break;
        stderr += value;
      }
      const status = await child.status;
      assert.equal(status.code, expected, stderr);
      assert.match(
        stderr,
        new RegExp(`Interrupted by ${signal}: kernel stopped, partial notebook written`),
      );
      assert.equal(alive(kernels[0]), false, "the kernel must not survive the runner");
      const nb = JSON.parse(await Deno.readTextFile(`${dir}/s.ipynb`));
      assert.deepEqual(nb.cells[0].outputs[0].text, ["start\n"]);
    }
  });
});
