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
    assert.match(lines[1], /^cell 1\/7 ok \d+\.\d\ds \(elapsed \d+\.\ds\)$/);
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
      /Cell 2 failed: RangeError: disk is full\n {2}RangeError: disk is full\n {6}at /,
    );
    assert.match(fail.stderr, /Output notebook: .*\/f\.ipynb/);
    const allowed = await cli([
      `${FIXTURES}failing.ipynb`,
      "-o",
      `${dir}/g.ipynb`,
      "--allow-errors",
    ]);
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.match(allowed.stderr, /Cell 2 failed \(allowed\): RangeError: disk is full/);
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
      "--allow-unknown-params",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /Warning: Unknown parameter bogus: not declared in the parameters cell \(declared: threshold, host, labels, enabled\); injected anyway/,
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

function notebookJson(cells: { md?: string; code?: string; tags?: string[] }[]): string {
  return JSON.stringify({
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { display_name: "Deno", language: "typescript", name: "deno" } },
    cells: cells.map((c, i) =>
      c.md !== undefined ? { id: `m${i}`, cell_type: "markdown", metadata: {}, source: c.md } : {
        id: `c${i}`,
        cell_type: "code",
        metadata: c.tags ? { tags: c.tags } : {},
        source: c.code,
        outputs: [],
        execution_count: null,
      }
    ),
  });
}

Deno.test("a failing cell has one number in the CLI, the notebook and the report", async () => {
  await withTmp(async (dir) => {
    await Deno.writeTextFile(
      `${dir}/n.ipynb`,
      notebookJson([
        { md: "# Numbering" },
        { code: "const limit = 1;", tags: ["parameters"] },
        { md: "Some text" },
        { code: "console.log(limit);" },
        { md: "More text" },
        { code: 'throw new RangeError("boom");' },
        { code: 'console.log("never");' },
      ]),
    );
    const r = await cli([
      `${dir}/n.ipynb`,
      "-o",
      `${dir}/out.ipynb`,
      "--html",
      `${dir}/out.html`,
      "-p",
      "limit=2",
    ]);
    assert.equal(r.code, 1, r.stderr);
    // Code cells run: parameters (1), injected parameters (2), console.log (3), throw (4).
    assert.match(r.stderr, /^cell 4\/5 error \d+\.\d\ds \(elapsed \d+\.\ds\)$/m);
    assert.match(r.stderr, /^Cell 4 failed: RangeError: boom$/m);
    assert.doesNotMatch(r.stderr, /\[cell \d+\]/);
    const nb = JSON.parse(await Deno.readTextFile(`${dir}/out.ipynb`));
    const failing = nb.cells.find((c: { id: string }) => c.id === "c5");
    assert.equal(failing.execution_count, 4);
    assert.equal(failing.outputs[0].ename, "RangeError");
    assert.match(nb.cells[0].source.join(""), /encountered at <a [^>]*>cell 4 \(In \[4\]\)<\/a>/);
    const html = await Deno.readTextFile(`${dir}/out.html`);
    assert.match(html, /encountered at <a href="#opsbook-error-cell">cell 4 \(In \[4\]\)<\/a>/);
    assert.match(
      html,
      /<section class="cell code" id="cell-4"><div class="prompt">In \[4\]<\/div><pre class="source"><code>throw new RangeError/,
    );
  });
});

Deno.test("Deno.exit in a cell is reported as the kernel dying in that cell", async () => {
  await withTmp(async (dir) => {
    await Deno.writeTextFile(
      `${dir}/exit.ipynb`,
      notebookJson([
        { md: "# Exit" },
        { code: 'console.log("before");' },
        { code: "Deno.exit(1);" },
        { code: 'console.log("never");' },
      ]),
    );
    for (const extra of [[], ["--allow-errors"]]) {
      const r = await cli([
        `${dir}/exit.ipynb`,
        "-o",
        `${dir}/out.ipynb`,
        "--html",
        `${dir}/out.html`,
        ...extra,
      ]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /^cell 2\/3 died /m);
      assert.match(
        r.stderr,
        /^Cell 2 failed: KernelDiedError: Kernel died while running cell 2: exit code 1$/m,
      );
      const nb = JSON.parse(await Deno.readTextFile(`${dir}/out.ipynb`));
      const cell = nb.cells.find((c: { id: string }) => c.id === "c2");
      assert.equal(cell.execution_count, 2);
      assert.deepEqual(cell.outputs.at(-1), {
        output_type: "error",
        ename: "KernelDiedError",
        evalue: "Kernel died while running cell 2: exit code 1",
        traceback: ["KernelDiedError: Kernel died while running cell 2: exit code 1"],
      });
      assert.equal(nb.cells.find((c: { id: string }) => c.id === "c3").execution_count, null);
      assert.match(
        nb.cells[0].source.join(""),
        /cell 2 \(In \[2\]\)<\/a>: KernelDiedError: Kernel died while running cell 2: exit code 1/,
      );
      const html = await Deno.readTextFile(`${dir}/out.html`);
      assert.match(
        html,
        /id="cell-2"><div class="prompt">In \[2\]<\/div>.*<pre class="error"><strong>KernelDiedError: Kernel died while running cell 2: exit code 1<\/strong>/s,
      );
    }
  });
});

Deno.test("unusable output paths are refused before the kernel starts (exit 2, one line)", async () => {
  await withTmp(async (dir) => {
    await Deno.writeTextFile(
      `${dir}/side.ipynb`,
      notebookJson([{ code: `Deno.writeTextFileSync(${JSON.stringify(`${dir}/ran`)}, "yes");` }]),
    );
    await Deno.mkdir(`${dir}/folder`);
    await Deno.writeTextFile(`${dir}/file`, "");
    const cases: [string[], string][] = [
      [
        ["-o", `${dir}/folder`],
        `Output notebook ${dir}/folder is a folder: give a file name, for example ${dir}/folder/side.ipynb`,
      ],
      [
        ["-o", `${dir}/o.ipynb`, "--html", `${dir}/folder`],
        `HTML report ${dir}/folder is a folder: give a file name, for example ${dir}/folder/side.html`,
      ],
      [
        ["-o", `${dir}/o.ipynb`, "--html", `${dir}/file/r.html`],
        `Cannot write html report ${dir}/file/r.html: a part of the path is a file, not a folder: choose a writable path`,
      ],
      [
        ["-o", `${dir}/file/deeper/o.ipynb`],
        `Cannot write output notebook ${dir}/file/deeper/o.ipynb: a part of the path is a file, not a folder: choose a writable path`,
      ],
      [
        ["-o", `${dir}/o.ipynb`, "--html", "/proc/opsbook/r.html"],
        "Cannot write html report /proc/opsbook/r.html: ",
      ],
    ];
    for (const [args, message] of cases) {
      const r = await cli([`${dir}/side.ipynb`, ...args]);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stderr.split("\n").length, 2, `one line: ${r.stderr}`);
      assert.ok(r.stderr.startsWith(message), `${r.stderr} should start with ${message}`);
      assert.doesNotMatch(r.stderr, /kernel started/);
    }
    assert.throws(() => Deno.statSync(`${dir}/ran`), Deno.errors.NotFound, "no cell ran");
  });
});

Deno.test("parameter mistakes exit 2 before the kernel starts, with the expected form", async () => {
  await withTmp(async (dir) => {
    await Deno.writeTextFile(
      `${dir}/p.ipynb`,
      notebookJson([
        {
          code: [
            "const threshold = 80; // CPU %",
            'const window = "5m";',
            "const eval_time: string | null = null; // evaluation time (RFC 3339); null = now",
            "const obj = {};",
          ].join("\n"),
          tags: ["parameters"],
        },
        { code: `Deno.writeTextFileSync(${JSON.stringify(`${dir}/ran`)}, "yes");` },
      ]),
    );
    const declared = "(declared: threshold, window, eval_time, obj)";
    const cases: [string[], string][] = [
      [
        ["-p", "treshold=3"],
        `Unknown parameter treshold: did you mean threshold? ${declared}; --allow-unknown-params injects it anyway`,
      ],
      [["-p", "threshold=80%"], 'Parameter threshold expects a number (default: 80), got "80%"'],
      [
        ["-r", "eval_time=yesterday"],
        'Parameter eval_time expects a time in RFC 3339 such as 2026-11-01T12:00:00Z (or with an offset: +08:00) or null (default: null), got "yesterday"',
      ],
      [
        ["-p", "window=5 minutes"],
        'Parameter window expects a Prometheus duration such as 5m or 1h30m (default: "5m"), got "5 minutes"',
      ],
      [["-p", "threshold=1e400"], "Invalid parameter threshold: 1e400 is not a finite number"],
      [
        ["-p", "class=1", "--allow-unknown-params"],
        "Invalid parameter name class: a reserved word cannot be a variable name",
      ],
    ];
    for (const [args, message] of cases) {
      const r = await cli([`${dir}/p.ipynb`, "-o", `${dir}/out.ipynb`, ...args]);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stderr, `${message}\n`);
    }
    assert.throws(() => Deno.statSync(`${dir}/ran`), Deno.errors.NotFound, "no cell ran");
    assert.throws(() => Deno.statSync(`${dir}/out.ipynb`), Deno.errors.NotFound);
  });
});

Deno.test("an injected object keeps __proto__ as an own key, and the report shows the parameters", async () => {
  await withTmp(async (dir) => {
    await Deno.writeTextFile(
      `${dir}/p.ipynb`,
      notebookJson([
        { code: "const obj = {};\nconst eval_time: string | null = null;", tags: ["parameters"] },
        {
          code: "console.log(JSON.stringify([Object.keys(obj), Object.getPrototypeOf(obj) === " +
            "Object.prototype, obj.polluted ?? null, ({} as Record<string, unknown>).polluted ?? null]));",
        },
      ]),
    );
    const r = await cli([
      `${dir}/p.ipynb`,
      "-o",
      `${dir}/out.ipynb`,
      "--html",
      `${dir}/out.html`,
      "-p",
      'obj={"__proto__":{"polluted":1}}',
      "-p",
      "eval_time=2026-11-01T12:00:00Z",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const nb = JSON.parse(await Deno.readTextFile(`${dir}/out.ipynb`));
    assert.deepEqual(nb.cells[1].source, [
      "// Parameters\n",
      'const obj = {["__proto__"]:{"polluted":1}};\n',
      'const eval_time = "2026-11-01T12:00:00Z";\n',
    ]);
    assert.deepEqual(nb.cells[2].outputs[0].text, ['[["__proto__"],true,null,null]\n']);
    const html = await Deno.readTextFile(`${dir}/out.html`);
    assert.ok(
      html.includes(
        '<section class="parameters"><h2>Parameters</h2><table class="parameters"><tbody>' +
          '<tr><th scope="row"><code>obj</code></th><td><code>{&quot;__proto__&quot;:{&quot;polluted&quot;:1}}</code></td></tr>' +
          '<tr><th scope="row"><code>eval_time</code></th><td><code>&quot;2026-11-01T12:00:00Z&quot;</code></td></tr>' +
          "</tbody></table></section>",
      ),
      html,
    );
  });
});
