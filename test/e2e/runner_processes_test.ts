/**
 * No process and no connection file (it holds the kernel's HMAC key) outlive
 * the runner: not after `kill -9` of the runner mid-run, and not a process a
 * cell spawned, after a successful run (issue 14.6).
 *
 * @module
 */

import assert from "node:assert/strict";
import { runNotebook } from "../../lib/notebook/runner.ts";

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

function cmdline(pid: number): string[] {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0").filter((a) => a !== "");
  } catch {
    return [];
  }
}

/** Live processes whose command line mentions `text`. */
function processesWith(text: string): number[] {
  const pids: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const pid = Number(entry.name);
    if (pid !== Deno.pid && cmdline(pid).some((a) => a.includes(text)) && alive(pid)) {
      pids.push(pid);
    }
  }
  return pids;
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

async function until(what: string, ok: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`Not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function killQuietly(pid: number): void {
  try {
    Deno.kill(pid, "SIGKILL");
  } catch {
    // gone
  }
}

/** A notebook whose first cell spawns `sleep 300` and prints its pid; `wait` adds a 60 s cell. */
function spawningNotebook(wait: boolean): string {
  const cell = (id: string, source: string) => ({
    id,
    cell_type: "code",
    metadata: {},
    source,
    outputs: [],
    execution_count: null,
  });
  return JSON.stringify({
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { display_name: "Deno", language: "typescript", name: "deno" } },
    cells: [
      cell(
        "spawn",
        'const sleeper = new Deno.Command("sleep", { args: ["300"] }).spawn();\n' +
          'console.log("sleeper", sleeper.pid);',
      ),
      ...(wait ? [cell("wait", "await new Promise((r) => setTimeout(r, 60_000));")] : []),
    ],
  });
}

async function sleeperPid(output: string): Promise<number> {
  const nb = JSON.parse(await Deno.readTextFile(output));
  const text = nb.cells[0].outputs[0].text.join("");
  const m = /^sleeper (\d+)\n$/.exec(text);
  assert.ok(m, `the first cell printed the sleeper's pid: ${JSON.stringify(text)}`);
  return Number(m[1]);
}

Deno.test("kill -9 of the runner mid-run leaves no kernel, no cell child and no connection file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "opsbook-kill9-" });
  const leftovers: number[] = [];
  try {
    await Deno.writeTextFile(`${dir}/spawn.ipynb`, spawningNotebook(true));
    const runner = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", CLI, `${dir}/spawn.ipynb`, "-o", `${dir}/out.ipynb`],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    let stderr = "";
    const reader = runner.stderr.pipeThrough(new TextDecoderStream()).getReader();
    while (!stderr.includes("cell 1/2 ok")) {
      const { value, done } = await reader.read();
      if (done) break;
      stderr += value;
    }
    const kernels = children(runner.pid);
    leftovers.push(...kernels);
    assert.equal(kernels.length, 1, `one kernel child: ${stderr}`);
    const kernel = kernels[0];
    const args = cmdline(kernel);
    assert.deepEqual(args.slice(1, 4), ["jupyter", "--kernel", "--conn"], args.join(" "));
    const connection = args[4];
    const sleeper = await sleeperPid(`${dir}/out.ipynb`);
    leftovers.push(sleeper);
    assert.equal(alive(sleeper), true);
    // The kernel read its connection file at start; the key is not left on disk.
    assert.equal(exists(connection), false, "the connection file is removed once connected");

    runner.kill("SIGKILL");
    await runner.status;
    await reader.cancel().catch(() => {});
    await until("the kernel is gone", () => !alive(kernel));
    await until("the cell's child is gone", () => !alive(sleeper));
    await until(
      "no process mentions the connection file",
      () => processesWith(connection).length === 0,
    );
    assert.equal(exists(connection), false);
    assert.equal(exists(connection.replace(/\/connection\.json$/, "")), false);
  } finally {
    for (const pid of leftovers) killQuietly(pid);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a process a cell spawned does not survive a successful run (CLI and runNotebook)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "opsbook-orphan-" });
  const leftovers: number[] = [];
  try {
    await Deno.writeTextFile(`${dir}/spawn.ipynb`, spawningNotebook(false));
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", CLI, `${dir}/spawn.ipynb`, "-o", `${dir}/cli.ipynb`],
      stdin: "null",
    }).output();
    assert.equal(code, 0, new TextDecoder().decode(stderr));
    const fromCli = await sleeperPid(`${dir}/cli.ipynb`);
    leftovers.push(fromCli);
    await until("the sleeper of the CLI run is gone", () => !alive(fromCli), 2_000);

    const result = await runNotebook(`${dir}/spawn.ipynb`, { output: `${dir}/lib.ipynb` });
    const fromLib = await sleeperPid(result.output);
    leftovers.push(fromLib, result.kernelPid);
    // runNotebook resolves after the kernel's process group is gone.
    assert.equal(alive(fromLib), false, "the sleeper of the runNotebook run is gone");
    assert.equal(alive(result.kernelPid), false);
  } finally {
    for (const pid of leftovers) killQuietly(pid);
    await Deno.remove(dir, { recursive: true });
  }
});
