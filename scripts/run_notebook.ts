/**
 * Headless notebook runner: executes a Deno notebook without Python or Jupyter.
 *
 * ```sh
 * deno task run-notebook notebooks/cpu.ipynb -o out/cpu.ipynb -p threshold=0.9 --html out/cpu.html
 * ```
 *
 * Exit codes: 0 success, 1 a cell failed or timed out or the kernel failed,
 * 2 bad usage, bad parameters, an unusable input notebook or an output path
 * that cannot be written (checked before the kernel starts), 130/143
 * interrupted by SIGINT/SIGTERM.
 *
 * Cells are numbered one way everywhere: `cell N` is the N-th code cell run,
 * which is its execution count, `In [N]` in the notebook and the HTML report.
 *
 * It imports the runner modules directly rather than `lib/mod.ts`: the full
 * surface loads nodejs-polars and friends, which only costs start-up time here.
 *
 * @module
 */

import { basename, join, resolve } from "node:path";
import { userCwd } from "./_user_cwd.ts";
import { parseArgs } from "node:util";
import { KernelDiedError, KernelStartError } from "../lib/notebook/kernel.ts";
import { NotebookInputError } from "../lib/notebook/nbformat.ts";
import { NotebookParameterError, parseParameter } from "../lib/notebook/parameters.ts";
import {
  NotebookExecutionError,
  NotebookOutputError,
  runNotebook,
  type RunProgress,
} from "../lib/notebook/runner.ts";

const HELP = `Usage: deno task run-notebook <input.ipynb> [options]

Runs every code cell of a Deno notebook on a fresh Deno kernel and writes the
executed notebook. No Python or Jupyter needed.

Options:
  -o, --output FILE         executed notebook (default: out/<name>.ipynb under the current directory)
  -p, --parameter NAME=VAL  inject a parameter; numbers, booleans, null and JSON parse as such
  -r, --raw-parameter NAME=VAL  inject a parameter as a string
      --allow-unknown-params  inject parameters the parameters cell does not declare
      --cwd DIR             kernel working directory (default: the notebook's folder)
      --timeout SECONDS     per-cell time limit (default: none)
      --start-timeout SECONDS  kernel start limit (default: 60)
      --allow-errors        record failing cells and continue
      --html FILE           also write a self-contained HTML report
  -h, --help                show this help

Parameters are checked against the cell tagged "parameters" before anything runs:
the name must be declared there (else a "did you mean"), and the value must fit
the default's type: a number stays a number, a *_time (RFC 3339) parameter takes
2026-11-01T12:00:00Z or null, a duration default ("5m") takes a Prometheus duration.

From another folder: deno task --config ~/opsbook/deno.json run-notebook report.ipynb
(paths are relative to where you type the command; out/ is created there).

Cell N in messages is In [N] in the notebook and the report (the N-th code cell run).

Exit codes: 0 ok, 1 cell failed/timed out or kernel failure, 2 usage, parameter,
input or output-path error (checked before the kernel starts), 130/143 interrupted.`;

class UsageError extends Error {}

function seconds(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) {
    throw new UsageError(`Invalid --${name}: expected seconds, got ${value}`);
  }
  return n * 1000;
}

function progressPrinter(): { onProgress: (e: RunProgress) => void; done: () => void } {
  const tty = Deno.stderr.isTerminal();
  const encoder = new TextEncoder();
  const write = (s: string) => Deno.stderr.writeSync(encoder.encode(s));
  let drawn = false;
  const width = () => {
    try {
      return Deno.consoleSize().columns;
    } catch {
      return 80;
    }
  };
  return {
    onProgress(e) {
      if (e.type === "kernel") {
        if (!tty) write(`kernel started in ${(e.startMs / 1000).toFixed(2)} s\n`);
        return;
      }
      const elapsed = `${(e.elapsedMs / 1000).toFixed(1)}s`;
      if (tty) {
        if (e.type !== "cell-start") return;
        const filled = Math.round((20 * (e.n - 1)) / e.total);
        const bar = `[${"#".repeat(filled)}${"-".repeat(20 - filled)}]`;
        const line = `${bar} cell ${e.n}/${e.total} ${elapsed} ${e.firstLine}`;
        write(`\r\x1b[K${line.slice(0, width() - 1)}`);
        drawn = true;
      } else if (e.type === "cell-end") {
        write(
          `cell ${e.n}/${e.total} ${e.status} ${(e.durationMs / 1000).toFixed(2)}s ` +
            `(elapsed ${elapsed})\n`,
        );
      }
    },
    done() {
      if (drawn) write("\r\x1b[K");
    },
  };
}

/** Runs the command line; resolves with the exit code. */
export async function main(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        output: { type: "string", short: "o" },
        parameter: { type: "string", short: "p", multiple: true },
        "raw-parameter": { type: "string", short: "r", multiple: true },
        cwd: { type: "string" },
        timeout: { type: "string" },
        "start-timeout": { type: "string" },
        "allow-errors": { type: "boolean" },
        "allow-unknown-params": { type: "boolean" },
        html: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    console.error(`Invalid arguments: ${(error as Error).message}\n\n${HELP}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const controller = new AbortController();
  let signalCode = 0;
  const handlers: [Deno.Signal, () => void][] = (["SIGINT", "SIGTERM"] as const).map((sig) => [
    sig,
    () => {
      signalCode = sig === "SIGINT" ? 130 : 143;
      controller.abort(new Error(`Interrupted by ${sig}`));
    },
  ]);
  for (const [sig, handler] of handlers) Deno.addSignalListener(sig, handler);
  const progress = progressPrinter();
  try {
    if (positionals.length !== 1) {
      throw new UsageError(`Expected one input notebook: got ${positionals.length}`);
    }
    const parameters: Record<string, unknown> = {};
    for (const p of values.parameter ?? []) {
      const [name, value] = parseParameter(p);
      parameters[name] = value;
    }
    for (const p of values["raw-parameter"] ?? []) {
      const [name, value] = parseParameter(p, { raw: true });
      parameters[name] = value;
    }
    // `deno task` runs in the repository and sets INIT_CWD to where the user
    // typed the command, so `deno task --config ~/opsbook/deno.json run-notebook
    // report.ipynb` works from any folder: relative paths (and the default out/)
    // are taken from there (scripts/_user_cwd.ts).
    const here = userCwd();
    const fromHere = (p: string | undefined) =>
      p === undefined || here === undefined ? p : resolve(here, p);
    const input = fromHere(positionals[0])!;
    const result = await runNotebook(input, {
      output: fromHere(values.output) ??
        (here === undefined
          ? undefined
          : join(here, "out", `${basename(input).replace(/\.ipynb$/i, "")}.ipynb`)),
      parameters,
      cwd: fromHere(values.cwd),
      timeout: seconds("timeout", values.timeout),
      startTimeout: seconds("start-timeout", values["start-timeout"]),
      allowErrors: values["allow-errors"],
      allowUnknownParameters: values["allow-unknown-params"],
      html: fromHere(values.html),
      signal: controller.signal,
      onProgress: progress.onProgress,
      onWarning: (message) => {
        progress.done();
        console.error(`Warning: ${message}`);
      },
    });
    progress.done();
    for (const f of result.failures) {
      console.error(`Cell ${f.number} failed (allowed): ${f.ename}: ${f.evalue}`);
    }
    console.error(
      `Executed ${result.executed} cells in ${
        (result.durationMs / 1000).toFixed(2)
      } s: ${result.output}`,
    );
    if (result.html) console.error(`HTML report: ${result.html}`);
    return 0;
  } catch (error) {
    progress.done();
    if (signalCode) {
      console.error(`${(error as Error).message}: kernel stopped, partial notebook written`);
      return signalCode;
    }
    if (error instanceof UsageError || error instanceof TypeError) {
      console.error(`${error.message}\n\n${HELP}`);
      return 2;
    }
    if (
      error instanceof NotebookInputError || error instanceof NotebookOutputError ||
      error instanceof NotebookParameterError
    ) {
      console.error(error.message);
      return 2;
    }
    if (error instanceof NotebookExecutionError) {
      const f = error.failure;
      console.error(`Cell ${f.number} failed: ${f.ename}: ${f.evalue}`);
      for (const line of f.traceback.slice(0, 8)) console.error(`  ${line}`);
      console.error(`Output notebook: ${error.result.output}`);
      return 1;
    }
    if (error instanceof KernelStartError || error instanceof KernelDiedError) {
      console.error(error.message);
      return 1;
    }
    console.error(`Run failed: ${(error as Error)?.message ?? String(error)}`);
    return 1;
  } finally {
    for (const [sig, handler] of handlers) Deno.removeSignalListener(sig, handler);
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
