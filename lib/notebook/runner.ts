/**
 * `runNotebook`: execute a notebook's code cells in order on a fresh Deno
 * kernel and write the executed notebook (papermill for Deno, without Python).
 *
 * Output routing: every iopub message goes to the cell whose execute_request
 * `msg_id` is its parent, whenever it arrives. The Deno kernel publishes some
 * outputs (notably `execute_result`) through a queue that can drain after its
 * `idle` status, so after each cell the runner repeats a `kernel_info_request`
 * round trip (reply and idle) until one passes with no new message for the
 * cell: nothing the cell produced is lost or left stale.
 *
 * @module
 */

import { basename, dirname, join, resolve } from "node:path";
import { OpsbookError } from "../errors.ts";
import { escapeHtml } from "../_internal/escape.ts";
import { renderHtml } from "./html.ts";
import { Kernel, KernelDiedError, KernelTimeoutError } from "./kernel.ts";
import {
  type ErrorOutput,
  newCellId,
  type Notebook,
  type NotebookCell,
  NotebookInputError,
  type NotebookOutput,
  readNotebook,
  writeNotebook,
} from "./nbformat.ts";
import { checkParameters, injectParameters } from "./parameters.ts";
import type { JupyterMessage } from "./wire.ts";

/**
 * Thrown before the kernel starts when the output notebook or the HTML
 * report cannot be written there: the path is a folder, its folder cannot be
 * created, or it is not writable.
 *
 * @example An output path that is a folder
 * ```ts
 * import { NotebookOutputError, runNotebook } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/n.ipynb`, JSON.stringify({
 *   nbformat: 4,
 *   nbformat_minor: 5,
 *   metadata: { kernelspec: { name: "deno", display_name: "Deno", language: "typescript" } },
 *   cells: [],
 * }));
 * await assert.rejects(runNotebook(`${dir}/n.ipynb`, { output: dir }), NotebookOutputError);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class NotebookOutputError extends OpsbookError {
  /** The path given. */
  readonly path: string;
  /** Creates a notebook output error. */
  constructor(message: string, path: string, options: ErrorOptions = {}) {
    super(message, options);
    this.name = "NotebookOutputError";
    this.path = path;
  }
}

/**
 * Tag of the marker cells the runner adds when a cell fails.
 *
 * @example Find the marker cells of a failed run
 * ```ts
 * import { ERROR_MARKER_TAG } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const cells = [
 *   { cell_type: "code", metadata: { tags: [] } },
 *   { cell_type: "markdown", metadata: { tags: [ERROR_MARKER_TAG] } },
 * ];
 * const markers = cells.filter((c) => c.metadata.tags.includes(ERROR_MARKER_TAG));
 * assert.equal(ERROR_MARKER_TAG, "opsbook-error");
 * assert.equal(markers.length, 1);
 * ```
 */
export const ERROR_MARKER_TAG = "opsbook-error";

/**
 * Progress events reported through {@linkcode RunNotebookOptions.onProgress}.
 *
 * @example Print a line per cell
 * ```ts
 * import { type RunProgress, runNotebook } from "opsbook";
 *
 * const onProgress = (event: RunProgress) => {
 *   if (event.type === "cell-start") console.error(`[${event.n}/${event.total}] ${event.firstLine}`);
 *   if (event.type === "cell-end" && event.status !== "ok") console.error(`  ${event.status}`);
 * };
 * // Runs a notebook with progress on stderr.
 * export async function runVerbose(path: string): Promise<void> {
 *   await runNotebook(path, { onProgress });
 * }
 * ```
 */
export type RunProgress =
  | { type: "kernel"; pid: number; startMs: number }
  | {
    type: "cell-start";
    /**
     * The cell's number: 1-based position among the code cells that run,
     * which is also its execution count (`In [n]` in the notebook and the report).
     */
    n: number;
    /** Number of code cells that run. */
    total: number;
    /** Index in the output notebook. */
    cell: number;
    /** The cell's first non-empty source line. */
    firstLine: string;
    /** Milliseconds since the run started. */
    elapsedMs: number;
  }
  | {
    type: "cell-end";
    n: number;
    total: number;
    cell: number;
    /** `died`: the kernel exited while the cell ran. */
    status: "ok" | "error" | "timeout" | "died";
    durationMs: number;
    elapsedMs: number;
  };

/**
 * Options for {@linkcode runNotebook}.
 *
 * @example
 * ```ts
 * import { runNotebook, type RunNotebookOptions } from "opsbook";
 *
 * const options: RunNotebookOptions = {
 *   output: "out/cpu.ipynb",
 *   html: "out/cpu.html",
 *   parameters: { threshold: 90 },
 *   timeout: 60_000,
 *   env: { PROMETHEUS_URL: "http://prom:9090" },
 * };
 * // Runs a notebook with the team's defaults.
 * export async function runReport(path: string): Promise<string> {
 *   return (await runNotebook(path, options)).output;
 * }
 * ```
 */
export interface RunNotebookOptions {
  /**
   * Where the executed notebook is written; may name the input.
   * @default {"out/<input name>.ipynb" under the current directory}
   */
  output?: string;
  /**
   * Parameters injected after the cell tagged `parameters`.
   * @default {{}}
   */
  parameters?: Record<string, unknown>;
  /**
   * Inject parameters the parameters cell does not declare (with a warning)
   * instead of rejecting the run with `NotebookParameterError`.
   * @default {false}
   */
  allowUnknownParameters?: boolean;
  /**
   * Working directory of the kernel.
   * @default {the notebook's folder}
   */
  cwd?: string;
  /**
   * Per-cell time limit in milliseconds (0: none).
   * @default {0}
   */
  timeout?: number;
  /**
   * Milliseconds the kernel may take to start.
   * @default {60000}
   */
  startTimeout?: number;
  /**
   * Record failing cells and carry on instead of stopping.
   * @default {false}
   */
  allowErrors?: boolean;
  /**
   * Also write a self-contained HTML report to this path.
   * @default {undefined}
   */
  html?: string;
  /**
   * Extra environment variables for the kernel.
   * @default {{}}
   */
  env?: Record<string, string>;
  /** Called on kernel start and before and after each cell. */
  onProgress?: (event: RunProgress) => void;
  /** Called for each warning (for example an allowed unknown parameter name). */
  onWarning?: (message: string) => void;
  /** Aborting stops the kernel, writes the partial notebook and rejects with the reason. */
  signal?: AbortSignal;
}

/**
 * A cell that raised, timed out or took the kernel down.
 *
 * @example List the failing cells without stopping
 * ```ts
 * import { type CellFailure, runNotebook } from "opsbook";
 *
 * export async function failingCells(path: string): Promise<string[]> {
 *   const { failures } = await runNotebook(path, { allowErrors: true });
 *   return failures.map((f: CellFailure) => `In [${f.number}]: ${f.ename}: ${f.evalue}`);
 * }
 * ```
 */
export interface CellFailure {
  /**
   * The cell's number, as the CLI, the notebook and the report show it: its
   * execution count (`In [number]`), the 1-based position among the code cells run.
   */
  number: number;
  /** Index of the cell in the notebook as run (counts an injected parameters cell). */
  cell: number;
  /** Index of the cell in the written notebook (after any error marker cells). */
  outputCell: number;
  /** The cell's id. */
  cellId: string;
  /** Error name (`CellTimeoutError` for a timeout, `KernelDiedError` when the kernel died). */
  ename: string;
  /** Error message. */
  evalue: string;
  /** Traceback lines. */
  traceback: string[];
}

/**
 * What {@linkcode runNotebook} resolves with.
 *
 * @example
 * ```ts
 * import { runNotebook, type RunNotebookResult } from "opsbook";
 *
 * // One line for a CI log.
 * export async function summary(path: string): Promise<string> {
 *   const result: RunNotebookResult = await runNotebook(path, { allowErrors: true });
 *   return `${result.executed} cells, ${result.failures.length} failed, ` +
 *     `${Math.round(result.durationMs)} ms -> ${result.output}`;
 * }
 * ```
 */
export interface RunNotebookResult {
  /** The executed notebook as written. */
  notebook: Notebook;
  /** Absolute path of the written notebook. */
  output: string;
  /** Absolute path of the HTML report, when requested. */
  html?: string;
  /** Failing cells (only with `allowErrors`; otherwise the run rejects). */
  failures: CellFailure[];
  /** Warnings such as unknown parameter names. */
  warnings: string[];
  /** Code cells executed. */
  executed: number;
  /** Process id the kernel had. */
  kernelPid: number;
  /** Milliseconds until the kernel answered. */
  kernelStartMs: number;
  /** Milliseconds for the whole run. */
  durationMs: number;
}

/**
 * Thrown when a cell fails (without `allowErrors`), or when the kernel dies
 * while running a cell (`failure.ename` is `KernelDiedError`, also with
 * `allowErrors`); the output notebook is written first.
 *
 * @example Report the failing cell
 * ```ts
 * import { NotebookExecutionError, runNotebook } from "opsbook";
 *
 * // Prints which cell failed; the output notebook was written before the throw.
 * export async function runAndReport(path: string): Promise<boolean> {
 *   try {
 *     await runNotebook(path, { output: "out/report.ipynb" });
 *     return true;
 *   } catch (e) {
 *     if (!(e instanceof NotebookExecutionError)) throw e;
 *     console.error(`cell ${e.failure.number}: ${e.failure.ename}: ${e.failure.evalue}`);
 *     return false;
 *   }
 * }
 * ```
 */
export class NotebookExecutionError extends OpsbookError {
  /** The failing cell. */
  readonly failure: CellFailure;
  /** The run so far. */
  readonly result: RunNotebookResult;
  /** Creates a notebook execution error. */
  constructor(failure: CellFailure, result: RunNotebookResult, options: ErrorOptions = {}) {
    super(`Cell ${failure.number} failed: ${failure.ename}: ${failure.evalue}`, options);
    this.name = "NotebookExecutionError";
    this.failure = failure;
    this.result = result;
  }
}

/**
 * Thrown when a cell runs over the timeout; the kernel is stopped and the notebook written.
 *
 * @example
 * ```ts
 * import { CellTimeoutError, runNotebook } from "opsbook";
 *
 * // A cell over 60 s is a hung query: say so rather than "cell failed".
 * export async function runWithDeadline(path: string): Promise<void> {
 *   try {
 *     await runNotebook(path, { timeout: 60_000 });
 *   } catch (e) {
 *     if (e instanceof CellTimeoutError) {
 *       throw new Error(`Cell ${e.failure.number} ran over 60 s: check Prometheus`, { cause: e });
 *     }
 *     throw e;
 *   }
 * }
 * ```
 */
export class CellTimeoutError extends NotebookExecutionError {
  /** Creates a cell timeout error. */
  constructor(failure: CellFailure, result: RunNotebookResult) {
    super(failure, result);
    this.name = "CellTimeoutError";
  }
}

// deno-lint-ignore no-control-regex
const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07/g;

function stripAnsi(text: string): string {
  return text.replace(ANSI, "");
}

function cleanData(data: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [mime, value] of Object.entries((data ?? {}) as Record<string, unknown>)) {
    out[mime] = mime === "text/plain" && typeof value === "string" ? stripAnsi(value) : value;
  }
  return out;
}

function tagsOf(cell: NotebookCell): string[] {
  const t = cell.metadata.tags;
  return Array.isArray(t) ? t : [];
}

function firstLine(source: string): string {
  return source.split("\n").find((l) => l.trim() !== "")?.trim() ?? "";
}

type CellStatus = "ok" | "error" | "timeout" | "died";

interface CellState {
  cell: NotebookCell;
  /** Execution count announced by `execute_input`. */
  count?: number;
  clearPending: boolean;
  seq: number;
  error?: ErrorOutput;
}

function isDenoKernel(nb: Notebook): boolean {
  const spec = nb.metadata.kernelspec as Record<string, unknown> | undefined;
  if (!spec || typeof spec !== "object") return true;
  const name = String(spec.name ?? "");
  return name.startsWith("deno") || spec.language === "typescript";
}

/**
 * Checks that a file can be written at `path` (creating its folder): not a
 * folder, folder creatable and writable. Throws {@linkcode NotebookOutputError}.
 */
async function checkWritable(path: string, what: string, example: string): Promise<void> {
  const info = await Deno.stat(path).catch(() => null);
  if (info?.isDirectory) {
    throw new NotebookOutputError(
      `${what} ${path} is a folder: give a file name, for example ${join(path, example)}`,
      path,
    );
  }
  const folder = dirname(path);
  const probe = join(folder, `.${basename(path)}.${crypto.randomUUID()}.probe`);
  try {
    await Deno.mkdir(folder, { recursive: true });
    await Deno.writeTextFile(probe, "", { createNew: true });
    await Deno.remove(probe);
  } catch (error) {
    const reason = error instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : error instanceof Deno.errors.NotADirectory || /not a directory/i.test(String(error))
      ? "a part of the path is a file, not a folder"
      : error instanceof Deno.errors.AlreadyExists
      ? "a part of the path is a file, not a folder"
      : (error as Error).message;
    throw new NotebookOutputError(
      `Cannot write ${what.toLowerCase()} ${path}: ${reason}: choose a writable path`,
      path,
      { cause: error },
    );
  }
}

function defaultOutput(path: string): string {
  const base = path.split(/[\\/]/).pop()!.replace(/\.ipynb$/, "");
  return join(Deno.cwd(), "out", `${base}.ipynb`);
}

/**
 * Runs a notebook on a fresh Deno kernel and writes the executed notebook
 * (after every cell, atomically). Before the kernel starts it rejects with
 * `NotebookInputError` for an unusable input, `NotebookParameterError` for a
 * parameter the parameters cell does not declare or of the wrong type, and
 * {@linkcode NotebookOutputError} for an output path that cannot be written.
 * Then `KernelStartError` for kernel trouble,
 * {@linkcode NotebookExecutionError} or {@linkcode CellTimeoutError} for a
 * failing cell; the kernel is always stopped.
 *
 * @example Run a notebook with a parameter
 * ```ts
 * import { runNotebook } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const code = (id: string, source: string, tags: string[] = []) => ({
 *   id, cell_type: "code", source, metadata: { tags }, outputs: [], execution_count: null,
 * });
 * await Deno.writeTextFile(`${dir}/double.ipynb`, JSON.stringify({
 *   nbformat: 4,
 *   nbformat_minor: 5,
 *   metadata: { kernelspec: { name: "deno", display_name: "Deno", language: "typescript" } },
 *   cells: [code("p", "const threshold = 80;", ["parameters"]), code("c", "threshold * 2")],
 * }));
 * const result = await runNotebook(`${dir}/double.ipynb`, {
 *   output: `${dir}/out/double.ipynb`,
 *   parameters: { threshold: 45 },
 *   timeout: 60_000,
 * });
 * assert.equal(result.output, `${dir}/out/double.ipynb`);
 * const out = JSON.parse(await Deno.readTextFile(result.output));
 * assert.deepEqual(out.cells.at(-1).outputs[0].data["text/plain"], ["90"]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function runNotebook(
  path: string,
  options: RunNotebookOptions = {},
): Promise<RunNotebookResult> {
  const t0 = performance.now();
  const nb = await readNotebook(path);
  if (!isDenoKernel(nb)) {
    const spec = nb.metadata.kernelspec as Record<string, unknown>;
    throw new NotebookInputError(
      `Notebook kernel is not Deno's: ${String(spec.name ?? spec.display_name)}`,
      { path },
    );
  }
  const warnings: string[] = [];
  const warn = (message: string) => {
    warnings.push(message);
    options.onWarning?.(message);
  };

  // Fresh state: no stale outputs, markers or timings.
  nb.cells = nb.cells.filter((c) => !tagsOf(c).includes(ERROR_MARKER_TAG));
  for (const cell of nb.cells) {
    if (cell.cell_type !== "code") continue;
    cell.outputs = [];
    cell.execution_count = null;
    delete cell.metadata.execution;
  }
  // Parameters are checked against the parameters cell before anything runs.
  const parameters = options.parameters ?? {};
  for (
    const message of checkParameters(nb, parameters, {
      allowUnknown: options.allowUnknownParameters,
    })
  ) warn(message);
  injectParameters(nb, parameters);

  // Every path is checked before the kernel starts (and before a cell can send an alert).
  const output = resolve(options.output ?? defaultOutput(path));
  const name = basename(path).replace(/\.ipynb$/, "");
  await checkWritable(output, "Output notebook", `${name}.ipynb`);
  const htmlPath = options.html === undefined ? undefined : resolve(options.html);
  if (htmlPath !== undefined) await checkWritable(htmlPath, "HTML report", `${name}.html`);
  const cwd = resolve(options.cwd ?? dirname(resolve(path)));
  const result: RunNotebookResult = {
    notebook: nb,
    output,
    failures: [],
    warnings,
    executed: 0,
    kernelPid: 0,
    kernelStartMs: 0,
    durationMs: 0,
  };
  const signal = options.signal;
  signal?.throwIfAborted();

  const aborted = new Promise<never>((_, reject) => {
    signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
  aborted.catch(() => {});
  const guard = <T>(p: Promise<T>) => signal ? Promise.race([p, aborted]) : p;

  let kernel: Kernel | undefined;
  const states = new Map<string, CellState>();
  const displays = new Map<string, Set<Record<string, unknown>>>();
  let failure: CellFailure | undefined;
  /** A failure that stops the run even with `allowErrors`: a timeout or the kernel's death. */
  let fatal: KernelDiedError | KernelTimeoutError | undefined;
  let thrown: unknown;
  let saving = Promise.resolve();
  const save = () => {
    saving = saving.then(() => writeNotebook(output, nb));
    return saving;
  };

  try {
    const starting = Kernel.start({ cwd, env: options.env, startTimeout: options.startTimeout });
    if (signal) {
      // Stop a kernel that finishes starting after an abort.
      starting.then((k) => {
        if (signal.aborted) k.kill();
      }).catch(() => {});
    }
    kernel = await guard(starting);
    result.kernelPid = kernel.pid;
    result.kernelStartMs = kernel.startMs;
    options.onProgress?.({ type: "kernel", pid: kernel.pid, startMs: kernel.startMs });
    nb.metadata.kernelspec = { display_name: "Deno", language: "typescript", name: "deno" };
    if (kernel.info.language_info) nb.metadata.language_info = kernel.info.language_info;
    kernel.onIopub((msg) => route(msg, states, displays));
    await save();

    const codeCells = nb.cells
      .map((cell, index) => ({ cell, index }))
      .filter(({ cell }) => cell.cell_type === "code" && cell.source.trim() !== "");
    let last: { cell: NotebookCell; index: number; n: number } | undefined;
    const record = (cell: NotebookCell, index: number, n: number, err: ErrorOutput) => {
      // One number everywhere: the execution count, which is the position among the cells run.
      cell.execution_count ??= n;
      failure = {
        number: cell.execution_count,
        cell: index,
        outputCell: index,
        cellId: cell.id,
        ...pick(err),
      };
      result.failures.push(failure);
    };
    const died = (cell: NotebookCell, index: number, n: number, error: KernelDiedError) => {
      const err = diedOutput(cell.execution_count ?? n, error);
      cell.outputs!.push(err);
      record(cell, index, n, err);
      fatal = error;
    };
    for (const [i, { cell, index }] of codeCells.entries()) {
      signal?.throwIfAborted();
      const n = i + 1;
      last = { cell, index, n };
      const started = performance.now();
      options.onProgress?.({
        type: "cell-start",
        n,
        total: codeCells.length,
        cell: index,
        firstLine: firstLine(cell.source),
        elapsedMs: started - t0,
      });
      const state: CellState = { cell, clearPending: false, seq: 0 };
      const execution: Record<string, string> = {};
      cell.metadata.execution = execution;
      let status: CellStatus = "ok";
      try {
        const { reply } = await guard(kernel.execute(cell.source, {
          timeout: options.timeout ?? 0,
          onSend: (id) => states.set(id, state),
        }));
        execution["shell.execute_reply"] = reply.header.date;
        cell.execution_count = typeof reply.content.execution_count === "number"
          ? reply.content.execution_count
          : state.count ?? null;
        await guard(flush(kernel, state));
        if (reply.content.status !== "ok") {
          status = "error";
          const err = state.error ?? {
            output_type: "error" as const,
            ename: String(reply.content.ename ?? "Error"),
            evalue: String(reply.content.evalue ?? ""),
            traceback: (reply.content.traceback as string[] | undefined ?? []).map(stripAnsi),
          };
          if (!state.error) cell.outputs!.push(err);
          record(cell, index, n, err);
        }
      } catch (error) {
        if (error instanceof KernelDiedError) {
          status = "died";
          cell.execution_count ??= state.count ?? null;
          died(cell, index, n, error);
        } else if (error instanceof KernelTimeoutError) {
          status = "timeout";
          cell.execution_count ??= state.count ?? null;
          const seconds = (options.timeout ?? 0) / 1000;
          const err: ErrorOutput = {
            output_type: "error",
            ename: "CellTimeoutError",
            evalue: `Cell timed out after ${seconds} s`,
            traceback: [`CellTimeoutError: cell timed out after ${seconds} s`],
          };
          cell.outputs!.push(err);
          record(cell, index, n, err);
          fatal = error;
          await kernel.interrupt(1_000).catch(() => false);
          await kernel.shutdown({ timeout: 1_000 });
        } else throw error;
      }
      result.executed++;
      await save();
      options.onProgress?.({
        type: "cell-end",
        n,
        total: codeCells.length,
        cell: index,
        status,
        durationMs: performance.now() - started,
        elapsedMs: performance.now() - t0,
      });
      if (fatal || (status === "error" && !options.allowErrors)) break;
    }
    if (!failure || (options.allowErrors && !fatal)) {
      try {
        await guard(kernel.barrier());
      } catch (error) {
        // Output of the last cell can still take the kernel down (a timer calling Deno.exit).
        if (!(error instanceof KernelDiedError) || !last) throw error;
        died(last.cell, last.index, last.n, error);
      }
    }
  } catch (error) {
    thrown = error;
  } finally {
    await kernel?.shutdown();
  }

  const stopped = failure && (!options.allowErrors || fatal !== undefined);
  if (stopped && failure) addErrorMarkers(nb, failure, result);
  result.durationMs = performance.now() - t0;
  await saving.catch(() => {});
  await writeNotebook(output, nb);
  if (htmlPath !== undefined) {
    result.html = htmlPath;
    await Deno.mkdir(dirname(htmlPath), { recursive: true });
    await Deno.writeTextFile(
      htmlPath,
      renderHtml(nb, { title: basename(path), warnings: result.warnings }),
    );
  }
  if (thrown) throw thrown;
  if (stopped && failure) {
    throw failure.ename === "CellTimeoutError"
      ? new CellTimeoutError(failure, result)
      : new NotebookExecutionError(failure, result, fatal ? { cause: fatal } : {});
  }
  return result;
}

/** The error output recorded on a cell during which the kernel died. */
function diedOutput(number: number, error: KernelDiedError): ErrorOutput {
  const how = error.signal ? `killed by ${error.signal}` : `exit code ${error.code}`;
  const evalue = `Kernel died while running cell ${number}: ${how}`;
  const stderr = error.stderr.split("\n").filter((l) => l.trim() !== "");
  return {
    output_type: "error",
    ename: "KernelDiedError",
    evalue,
    traceback: [`KernelDiedError: ${evalue}`, ...stderr.slice(-20)],
  };
}

function pick(err: ErrorOutput): { ename: string; evalue: string; traceback: string[] } {
  return { ename: err.ename, evalue: err.evalue, traceback: err.traceback };
}

/**
 * Repeats a flush barrier until one passes without a new message for the
 * cell (at most 5 rounds).
 */
async function flush(kernel: Kernel, state: CellState): Promise<void> {
  for (let round = 0; round < 5; round++) {
    const before = state.seq;
    await kernel.barrier();
    if (state.seq === before) return;
  }
}

function addErrorMarkers(nb: Notebook, failure: CellFailure, result: RunNotebookResult): void {
  const label = `cell ${failure.number} (In [${failure.number}])`;
  const anchor: NotebookCell = {
    id: newCellId(),
    cell_type: "markdown",
    metadata: { tags: [ERROR_MARKER_TAG] },
    source: `<span id="opsbook-error-cell" style="color:red; font-size:1.5em">` +
      `Execution stopped here, at ${label}: ${escapeHtml(failure.ename)}: ${
        escapeHtml(failure.evalue)
      }</span>`,
  };
  nb.cells.splice(failure.cell, 0, anchor);
  const top: NotebookCell = {
    id: newCellId(),
    cell_type: "markdown",
    metadata: { tags: [ERROR_MARKER_TAG] },
    source: `<span style="color:red; font-size:2em">An exception was encountered at ` +
      `<a href="#opsbook-error-cell">${label}</a>: ` +
      `${escapeHtml(failure.ename)}: ${escapeHtml(failure.evalue)}</span>`,
  };
  nb.cells.unshift(top);
  for (const f of result.failures) f.outputCell = f.cell + (f.cell >= failure.cell ? 2 : 1);
}

function route(
  msg: JupyterMessage,
  states: Map<string, CellState>,
  displays: Map<string, Set<Record<string, unknown>>>,
): void {
  const state = states.get(msg.parent_header.msg_id ?? "");
  if (!state) return;
  state.seq++;
  const { cell } = state;
  const outputs = cell.outputs!;
  const c = msg.content as Record<string, unknown>;
  const execution = (cell.metadata.execution ?? {}) as Record<string, string>;
  const push = (output: NotebookOutput) => {
    if (state.clearPending) {
      outputs.length = 0;
      state.clearPending = false;
    }
    outputs.push(output);
  };
  const track = (output: Record<string, unknown>) => {
    const id = (c.transient as Record<string, unknown> | undefined)?.display_id;
    if (typeof id !== "string") return;
    if (!displays.has(id)) displays.set(id, new Set());
    displays.get(id)!.add(output);
  };
  switch (msg.header.msg_type) {
    case "status":
      if (c.execution_state === "busy") execution["iopub.status.busy"] ??= msg.header.date;
      if (c.execution_state === "idle") execution["iopub.status.idle"] = msg.header.date;
      break;
    case "execute_input":
      execution["iopub.execute_input"] = msg.header.date;
      if (typeof c.execution_count === "number") state.count = c.execution_count;
      break;
    case "stream": {
      const name = c.name === "stderr" ? "stderr" : "stdout";
      const text = stripAnsi(String(c.text ?? ""));
      if (state.clearPending) push({ output_type: "stream", name, text });
      else {
        const last = outputs.at(-1);
        if (last?.output_type === "stream" && last.name === name) last.text += text;
        else outputs.push({ output_type: "stream", name, text });
      }
      break;
    }
    case "display_data": {
      const output = {
        output_type: "display_data" as const,
        data: cleanData(c.data),
        metadata: (c.metadata ?? {}) as Record<string, unknown>,
      };
      push(output);
      track(output);
      break;
    }
    case "execute_result": {
      const output = {
        output_type: "execute_result" as const,
        execution_count: typeof c.execution_count === "number" ? c.execution_count : null,
        data: cleanData(c.data),
        metadata: (c.metadata ?? {}) as Record<string, unknown>,
      };
      push(output);
      track(output);
      break;
    }
    case "update_display_data": {
      const id = (c.transient as Record<string, unknown> | undefined)?.display_id;
      for (const output of displays.get(String(id)) ?? []) {
        output.data = cleanData(c.data);
        output.metadata = (c.metadata ?? {}) as Record<string, unknown>;
      }
      break;
    }
    case "error": {
      const output: ErrorOutput = {
        output_type: "error",
        ename: String(c.ename ?? "Error"),
        evalue: String(c.evalue ?? ""),
        traceback: (Array.isArray(c.traceback) ? c.traceback : []).map((l) => stripAnsi(String(l))),
      };
      push(output);
      state.error = output;
      break;
    }
    case "clear_output":
      if (c.wait) state.clearPending = true;
      else {
        outputs.length = 0;
        state.clearPending = false;
      }
      break;
  }
}
