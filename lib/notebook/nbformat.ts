/**
 * Read, check and write Jupyter notebooks in nbformat 4.5.
 *
 * In memory, multiline strings (sources, stream text, text mime data) are
 * plain strings; {@linkcode serializeNotebook} splits them into lines as
 * Jupyter writes them.
 *
 * @module
 */

import { writeFileAtomic } from "../_internal/fs.ts";
import { OpsbookError } from "../errors.ts";

/**
 * Thrown for a notebook the runner cannot use: missing, invalid JSON, not a notebook, wrong kernel.
 *
 * @example A missing notebook
 * ```ts
 * import { NotebookInputError, runNotebook } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * await assert.rejects(runNotebook("no/such/notebook.ipynb"), (e) => {
 *   assert.ok(e instanceof NotebookInputError);
 *   assert.equal(e.message, "Cannot read notebook: no/such/notebook.ipynb: file not found");
 *   return true;
 * });
 * ```
 */
export class NotebookInputError extends OpsbookError {
  /** The path involved, when known. */
  readonly path?: string;
  /** Creates a notebook input error. */
  constructor(message: string, options?: ErrorOptions & { path?: string }) {
    super(message, options);
    this.name = "NotebookInputError";
    this.path = options?.path;
  }
}

/** A `stream` output. */
export interface StreamOutput {
  /** Output type. */
  output_type: "stream";
  /** `stdout` or `stderr`. */
  name: "stdout" | "stderr";
  /** The text. */
  text: string;
}

/** A `display_data` output. */
export interface DisplayDataOutput {
  /** Output type. */
  output_type: "display_data";
  /** Mime bundle. */
  data: Record<string, unknown>;
  /** Output metadata. */
  metadata: Record<string, unknown>;
}

/** An `execute_result` output. */
export interface ExecuteResultOutput {
  /** Output type. */
  output_type: "execute_result";
  /** The execution count of the cell. */
  execution_count: number | null;
  /** Mime bundle. */
  data: Record<string, unknown>;
  /** Output metadata. */
  metadata: Record<string, unknown>;
}

/** An `error` output. */
export interface ErrorOutput {
  /** Output type. */
  output_type: "error";
  /** Error name. */
  ename: string;
  /** Error message. */
  evalue: string;
  /** Traceback lines. */
  traceback: string[];
}

/** Any output of a code cell. */
export type NotebookOutput = StreamOutput | DisplayDataOutput | ExecuteResultOutput | ErrorOutput;

/** A notebook cell (sources joined into one string). */
export interface NotebookCell {
  /** Unique cell id (nbformat 4.5). */
  id: string;
  /** Cell type. */
  cell_type: "code" | "markdown" | "raw";
  /** Source text. */
  source: string;
  /** Cell metadata (`tags`, `execution`, …). */
  metadata: Record<string, unknown>;
  /** Outputs (code cells). */
  outputs?: NotebookOutput[];
  /** Execution count (code cells). */
  execution_count?: number | null;
  /** Attachments (markdown and raw cells). */
  attachments?: Record<string, unknown>;
}

/** A notebook. */
export interface Notebook {
  /** Major format version: 4. */
  nbformat: 4;
  /** Minor format version: 5 after reading. */
  nbformat_minor: number;
  /** Notebook metadata (`kernelspec`, `language_info`, …). */
  metadata: Record<string, unknown>;
  /** The cells. */
  cells: NotebookCell[];
}

const ID_PATTERN = /^[a-zA-Z0-9-_]{1,64}$/;

function joinMultiline(value: unknown): string {
  if (Array.isArray(value)) return value.join("");
  return typeof value === "string" ? value : "";
}

function isSplitMime(mime: string): boolean {
  return !/^application\/(.*\+)?json$/.test(mime) &&
    (mime.startsWith("text/") || mime === "image/svg+xml" || mime === "application/javascript");
}

/**
 * Splits a string into lines, each keeping its `\n` (Jupyter's on-disk form).
 *
 * @example Lines keep their newline
 * ```ts
 * import { splitLines } from "./nbformat.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(splitLines("a\nb\n"), ["a\n", "b\n"]);
 * assert.deepEqual(splitLines("a\nb"), ["a\n", "b"]);
 * ```
 */
export function splitLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

/**
 * A fresh cell id (8 hex characters, as Jupyter makes them).
 *
 * @example Matches the nbformat 4.5 id pattern
 * ```ts
 * import { newCellId } from "./nbformat.ts";
 * import assert from "node:assert/strict";
 *
 * assert.match(newCellId(), /^[0-9a-f]{8}$/);
 * ```
 */
export function newCellId(): string {
  return crypto.randomUUID().replaceAll("-", "").slice(0, 8);
}

function normalizeOutput(raw: Record<string, unknown>): NotebookOutput {
  const out = { ...raw } as Record<string, unknown>;
  if (out.output_type === "stream") out.text = joinMultiline(out.text);
  if (out.data && typeof out.data === "object") {
    const data: Record<string, unknown> = {};
    for (const [mime, value] of Object.entries(out.data as Record<string, unknown>)) {
      data[mime] = Array.isArray(value) && isSplitMime(mime) ? value.join("") : value;
    }
    out.data = data;
  }
  return out as unknown as NotebookOutput;
}

/**
 * Parses notebook JSON into the in-memory form: nbformat 4.x is upgraded to
 * 4.5 (missing or duplicate cell ids are replaced); anything else throws
 * {@linkcode NotebookInputError}.
 *
 * @example Parse a minimal notebook
 * ```ts
 * import { parseNotebook } from "./nbformat.ts";
 * import assert from "node:assert/strict";
 *
 * const nb = parseNotebook(JSON.stringify({
 *   nbformat: 4,
 *   nbformat_minor: 2,
 *   metadata: {},
 *   cells: [{ cell_type: "code", source: ["1 +\n", "1"], metadata: {}, outputs: [] }],
 * }));
 * assert.deepEqual([nb.nbformat_minor, nb.cells[0].source], [5, "1 +\n1"]);
 * ```
 */
export function parseNotebook(text: string, options: { path?: string } = {}): Notebook {
  const where = options.path ? `: ${options.path}` : "";
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new NotebookInputError(`Invalid notebook JSON${where}: ${(error as Error).message}`, {
      path: options.path,
      cause: error,
    });
  }
  const nb = raw as Record<string, unknown>;
  if (!nb || typeof nb !== "object" || Array.isArray(nb) || !("nbformat" in nb)) {
    throw new NotebookInputError(`Not a notebook (no nbformat field)${where}`, {
      path: options.path,
    });
  }
  if (nb.nbformat !== 4) {
    throw new NotebookInputError(
      `Unsupported notebook format: nbformat ${String(nb.nbformat)}, expected 4${where}`,
      { path: options.path },
    );
  }
  if (!Array.isArray(nb.cells)) {
    throw new NotebookInputError(`Not a notebook (cells is not a list)${where}`, {
      path: options.path,
    });
  }
  const seen = new Set<string>();
  const cells = (nb.cells as Record<string, unknown>[]).map((c, i) => {
    if (
      !c || typeof c !== "object" || !["code", "markdown", "raw"].includes(c.cell_type as string)
    ) {
      throw new NotebookInputError(`Not a notebook (cell ${i} has no valid cell_type)${where}`, {
        path: options.path,
      });
    }
    let id = typeof c.id === "string" && ID_PATTERN.test(c.id) ? c.id : newCellId();
    while (seen.has(id)) id = newCellId();
    seen.add(id);
    const cell: NotebookCell = {
      ...c,
      id,
      cell_type: c.cell_type as NotebookCell["cell_type"],
      source: joinMultiline(c.source),
      metadata: (c.metadata && typeof c.metadata === "object" ? c.metadata : {}) as Record<
        string,
        unknown
      >,
    };
    if (cell.cell_type === "code") {
      cell.outputs = Array.isArray(c.outputs)
        ? (c.outputs as Record<string, unknown>[]).map(normalizeOutput)
        : [];
      cell.execution_count = typeof c.execution_count === "number" ? c.execution_count : null;
    } else {
      delete cell.outputs;
      delete cell.execution_count;
    }
    return cell;
  });
  return {
    nbformat: 4,
    nbformat_minor: Math.max(5, typeof nb.nbformat_minor === "number" ? nb.nbformat_minor : 0),
    metadata: (nb.metadata && typeof nb.metadata === "object" ? nb.metadata : {}) as Record<
      string,
      unknown
    >,
    cells,
  };
}

/**
 * Reads and parses a notebook file; a missing or unreadable file throws
 * {@linkcode NotebookInputError}.
 *
 * @example Read a notebook
 * ```ts
 * import { parseNotebook, readNotebook, writeNotebook } from "./nbformat.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const nb = parseNotebook(JSON.stringify({
 *   nbformat: 4,
 *   nbformat_minor: 5,
 *   metadata: {},
 *   cells: [{ id: "a1", cell_type: "code", source: "1 + 1", metadata: {}, outputs: [] }],
 * }));
 * await writeNotebook(`${dir}/one.ipynb`, nb);
 * const read = await readNotebook(`${dir}/one.ipynb`);
 * assert.deepEqual(read.cells.map((c) => c.source), ["1 + 1"]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readNotebook(path: string): Promise<Notebook> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    const reason = error instanceof Deno.errors.NotFound
      ? "file not found"
      : (error as Error).message;
    throw new NotebookInputError(`Cannot read notebook: ${path}: ${reason}`, {
      path,
      cause: error,
    });
  }
  return parseNotebook(text, { path });
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      out[key] = sortKeys((value as Record<string, unknown>)[key]);
    }
    return out;
  }
  return value;
}

function toDisk(nb: Notebook): unknown {
  return {
    ...nb,
    cells: nb.cells.map((cell) => {
      const out: Record<string, unknown> = { ...cell, source: splitLines(cell.source) };
      if (cell.outputs) {
        out.outputs = cell.outputs.map((o) => {
          const copy: Record<string, unknown> = { ...o };
          if (o.output_type === "stream") copy.text = splitLines(o.text);
          if ("data" in o) {
            const data: Record<string, unknown> = {};
            for (const [mime, v] of Object.entries(o.data)) {
              data[mime] = typeof v === "string" && isSplitMime(mime) ? splitLines(v) : v;
            }
            copy.data = data;
          }
          return copy;
        });
      }
      return out;
    }),
  };
}

/**
 * Serialises a notebook as Jupyter does (sorted keys, one-space indent,
 * line-split strings, trailing newline).
 *
 * @example Sources are split into lines
 * ```ts
 * import { serializeNotebook } from "./nbformat.ts";
 * import assert from "node:assert/strict";
 *
 * const text = serializeNotebook({
 *   nbformat: 4,
 *   nbformat_minor: 5,
 *   metadata: {},
 *   cells: [{ id: "a", cell_type: "markdown", source: "# T\nx", metadata: {} }],
 * });
 * assert.deepEqual(JSON.parse(text).cells[0].source, ["# T\n", "x"]);
 * ```
 */
export function serializeNotebook(nb: Notebook): string {
  return JSON.stringify(sortKeys(toDisk(nb)), null, 1) + "\n";
}

/**
 * Writes a notebook atomically (temporary file in the same folder, fsync,
 * rename), so readers never see a half-written file.
 *
 * @example Write a notebook
 * ```ts
 * import { parseNotebook, readNotebook, writeNotebook } from "./nbformat.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const nb = parseNotebook(JSON.stringify({
 *   nbformat: 4,
 *   nbformat_minor: 5,
 *   metadata: {},
 *   cells: [{ id: "a1", cell_type: "code", source: "1 + 1", metadata: {}, outputs: [] }],
 * }));
 * await writeNotebook(`${dir}/copy.ipynb`, nb); // temp file, fsync, rename
 * assert.equal((await readNotebook(`${dir}/copy.ipynb`)).cells[0].id, "a1");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function writeNotebook(path: string, nb: Notebook): Promise<void> {
  return writeFileAtomic(path, serializeNotebook(nb), { mkdir: false });
}
