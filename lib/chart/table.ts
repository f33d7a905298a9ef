/**
 * Readable DataFrame display for notebooks: `table(frame)` renders in every
 * Jupyter front end and in headless runs, because it returns a plain object
 * with a `Symbol.for("Jupyter.display")` bundle (`text/html` + `text/plain`)
 * instead of relying on how the kernel treats a nodejs-polars DataFrame.
 *
 * @module
 */
import type { DataFrame } from "nodejs-polars";
import { JUPYTER_DISPLAY } from "./_dom.ts";
import { escapeHtml } from "../_internal/escape.ts";

/**
 * Options for {@linkcode table}.
 *
 * @example
 * ```ts
 * import pl from "nodejs-polars";
 * import { table, type TableOptions } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const frame = pl.DataFrame({ instance: ["a", "b", "c", "d"], value: [1, 2, 3, 4] });
 * const options: TableOptions = { maxRows: 2, caption: "CPU usage" };
 * const t = table(frame, options);
 * assert.deepEqual([t.rows, t.omitted], [4, 2]);
 * ```
 */
export interface TableOptions {
  /** Rows shown; longer frames show the first and last halves with a row count. @default 20 */
  maxRows?: number;
  /** Longest cell text before it is cut with "…". @default 60 */
  maxCellWidth?: number;
  /** Caption above the table (escaped). */
  caption?: string;
}

interface Cells {
  columns: string[];
  dtypes: string[];
  head: string[][];
  tail: string[][];
  height: number;
  omitted: number;
}

function formatCell(value: unknown, maxWidth: number): string {
  let text: string;
  if (value === null || value === undefined) text = "null";
  else if (value instanceof Date) {
    text = Number.isNaN(value.getTime())
      ? "invalid date"
      : value.toISOString().replace("T", " ").replace(/\.000Z$/, "Z");
  } else if (typeof value === "number") {
    text = Number.isNaN(value)
      ? "NaN"
      : !Number.isFinite(value)
      ? (value > 0 ? "+Inf" : "-Inf")
      : Number.isInteger(value)
      ? String(value)
      : String(Number(value.toPrecision(6)));
  } else if (typeof value === "bigint") text = value.toString();
  else if (typeof value === "object") text = JSON.stringify(value);
  else text = String(value);
  return text.length > maxWidth ? `${text.slice(0, maxWidth - 1)}…` : text;
}

/** Terminal columns taken by `text`: CJK and full-width characters take two. */
function displayWidth(text: string): number {
  let width = 0;
  for (const ch of text) {
    width +=
      /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/
          .test(ch)
        ? 2
        : 1;
  }
  return width;
}

/**
 * A DataFrame snapshot ready for display; see {@linkcode table}.
 *
 * @example Text and HTML forms
 * ```ts
 * import pl from "nodejs-polars";
 * import { Table } from "opsbook";
 *
 * const t = new Table(pl.DataFrame({ a: [1, 2] }), { maxRows: 5 });
 * console.log(t.toString());
 * ```
 */
export class Table {
  #cells: Cells;
  #caption: string | undefined;

  /** Snapshot `frame` (only the displayed rows are converted). */
  constructor(frame: DataFrame, options: TableOptions = {}) {
    const { maxRows = 20, maxCellWidth = 60, caption } = options;
    if (!Number.isInteger(maxRows) || maxRows < 1) {
      throw new RangeError(
        `Cannot build table: maxRows must be a positive integer, got ${maxRows}`,
      );
    }
    const height = frame.height;
    const truncated = height > maxRows;
    const headRows = truncated ? Math.ceil(maxRows / 2) : height;
    const tailRows = truncated ? maxRows - headRows : 0;
    const rowsOf = (part: DataFrame): string[][] => {
      const cols = part.columns.map((c) => part.getColumn(c).toArray() as unknown[]);
      return Array.from(
        { length: part.height },
        (_, r) => cols.map((col) => formatCell(col[r], maxCellWidth)),
      );
    };
    this.#cells = {
      columns: frame.columns,
      dtypes: frame.dtypes.map((d) => String(d).replace(/^DataType\((.*)\)$/, "$1")),
      head: rowsOf(frame.head(headRows)),
      tail: tailRows > 0 ? rowsOf(frame.tail(tailRows)) : [],
      height,
      omitted: height - headRows - tailRows,
    };
    this.#caption = caption;
  }

  /** Total rows in the frame. */
  get rows(): number {
    return this.#cells.height;
  }

  /** Rows not shown (0 when the whole frame fits). */
  get omitted(): number {
    return this.#cells.omitted;
  }

  /** An HTML `<table>` with every header and cell escaped. */
  toHtml(): string {
    const { columns, dtypes, head, tail, height, omitted } = this.#cells;
    const th = columns.map((c, i) =>
      `<th title="${escapeHtml(dtypes[i])}">${escapeHtml(c)}<br><small>${
        escapeHtml(dtypes[i])
      }</small></th>`
    ).join("");
    const tr = (row: string[]) =>
      `<tr>${row.map((cell) => `<td>${escapeHtml(cell)}</td>`).join("")}</tr>`;
    const gap = omitted > 0
      ? `<tr class="opsbook-gap"><td colspan="${columns.length}">… ${omitted} more rows …</td></tr>`
      : "";
    const shown = height - omitted;
    const summary = omitted > 0
      ? `${height} rows × ${columns.length} columns (showing ${shown})`
      : `${height} rows × ${columns.length} columns`;
    const caption = this.#caption === undefined ? "" : `${escapeHtml(this.#caption)} — `;
    return `<table class="opsbook-table"><caption style="caption-side:bottom;text-align:left">` +
      `${caption}${summary}</caption><thead><tr>${th}</tr></thead><tbody>` +
      `${head.map(tr).join("")}${gap}${tail.map(tr).join("")}</tbody></table>`;
  }

  /** Plain text with aligned columns and the row count. */
  toString(): string {
    const { columns, dtypes, head, tail, height, omitted } = this.#cells;
    const widths = columns.map((c, i) =>
      Math.max(
        displayWidth(c),
        displayWidth(dtypes[i]),
        ...head.map((r) => displayWidth(r[i])),
        ...tail.map((r) => displayWidth(r[i])),
        1,
      )
    );
    const line = (cells: string[]) =>
      cells.map((c, i) => c + " ".repeat(widths[i] - displayWidth(c))).join("  ").trimEnd();
    const lines = [
      line(columns),
      line(dtypes),
      line(widths.map((w) => "-".repeat(w))),
      ...head.map(line),
      ...(omitted > 0 ? [`… ${omitted} more rows …`] : []),
      ...tail.map(line),
    ];
    const summary = omitted > 0
      ? `${height} rows × ${columns.length} columns (showing ${height - omitted})`
      : `${height} rows × ${columns.length} columns`;
    if (this.#caption !== undefined) lines.unshift(this.#caption);
    lines.push(summary);
    return lines.join("\n");
  }

  /** Jupyter mime bundle: `text/html` and `text/plain`. */
  [JUPYTER_DISPLAY](): Record<string, string> {
    return { "text/html": this.toHtml(), "text/plain": this.toString() };
  }
}

/**
 * Display a DataFrame reliably in Jupyter (HTML) and in plain-text outputs,
 * showing at most `maxRows` rows (first and last halves) with the total row
 * count when truncated. Every cell is HTML-escaped; NaN/±Inf and nulls are
 * shown as such.
 *
 * @example Last expression of a notebook cell
 * ```ts
 * import pl from "nodejs-polars";
 * import { table } from "opsbook";
 *
 * const frame = pl.DataFrame({ instance: ["<b>x</b>", "y"], value: [1.5, NaN] });
 * console.log(table(frame, { maxRows: 10 }).toString());
 * ```
 */
export function table(frame: DataFrame, options: TableOptions = {}): Table {
  return new Table(frame, options);
}
