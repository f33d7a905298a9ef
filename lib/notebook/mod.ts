/**
 * The notebook stage: a headless runner for Deno Jupyter notebooks (its own
 * ZMTP and Jupyter wire protocol client), papermill-style parameters, and an
 * HTML report of the executed notebook.
 *
 * @example A missing notebook is an input error
 * ```ts
 * import { NotebookInputError, runNotebook } from "opsbook/notebook";
 * import assert from "node:assert/strict";
 *
 * await assert.rejects(() => runNotebook("no-such-notebook.ipynb"), NotebookInputError);
 * ```
 *
 * @module
 */

export {
  CellTimeoutError,
  ERROR_MARKER_TAG,
  NotebookExecutionError,
  NotebookOutputError,
  runNotebook,
} from "./runner.ts";
export type { CellFailure, RunNotebookOptions, RunNotebookResult, RunProgress } from "./runner.ts";
export { KernelDiedError, KernelStartError } from "./kernel.ts";
export { NotebookInputError } from "./nbformat.ts";
export { NotebookParameterError } from "./parameters.ts";
