/**
 * Private helpers of the chart stage: typed column access on frames, text
 * measure, counts, units and value domains.
 *
 * @module
 */
import pl from "nodejs-polars";
import { createDocument, type Doc } from "./_dom.ts";
import { ChartDataError, CJK_FONT_FAMILY } from "./chart.ts";

/** Characters of CJK scripts (they get the CJK font stack and a wider measure). */
export const CJK = /[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]/;

/** A `font-family` attribute for text with CJK characters, else nothing. */
export function fontAttr(text: string): string {
  return CJK.test(text) ? ` font-family="${CJK_FONT_FAMILY}"` : "";
}

function requireColumn(frame: pl.DataFrame, name: string): pl.Series {
  const columns = frame.columns;
  if (!columns.includes(name)) {
    throw new ChartDataError(
      `Cannot chart frame: no column "${name}" (columns: ${columns.join(", ")})`,
      columns,
    );
  }
  return frame.getColumn(name);
}

/** Label values as strings; null becomes "(none)". */
export function labelColumn(frame: pl.DataFrame, name: string): string[] {
  const values = requireColumn(frame, name).toArray() as unknown[];
  return values.map((v) => (v === null || v === undefined ? "(none)" : String(v)));
}

/** Numeric values; null, NaN and ±Inf all become NaN (never plotted as real values). */
export function valueColumn(frame: pl.DataFrame, name: string): Float64Array {
  const series = requireColumn(frame, name);
  const values = series.dtype.equals(pl.Float64)
    ? series.toArray()
    : series.cast(pl.Float64).toArray();
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number | null;
    out[i] = v === null || !Number.isFinite(v) ? NaN : v;
  }
  return out;
}

/** Timestamps as epoch milliseconds. */
export function timeColumn(frame: pl.DataFrame, name: string): Float64Array {
  const series = requireColumn(frame, name);
  return Float64Array.from(series.cast(pl.Float64).toArray() as number[]);
}

// ---------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------

let sharedDocument: Doc | undefined;
export function plotDocument(): Doc {
  sharedDocument ??= createDocument();
  return sharedDocument;
}

/** Approximate rendered width of `text` in pixels (CJK glyphs are full-width). */
export function textWidth(text: string, fontSize: number): number {
  let width = 0;
  for (const ch of text) {
    width += CJK.test(ch) ? fontSize : fontSize * 0.6;
  }
  return width;
}

/** "1 instance", "2 instances" (a column name used as a noun; "series" stays "series"). */
export function countOf(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 || /s$/.test(noun) ? "" : "s"}`;
}

/** 2 → "2nd", 3 → "3rd", 11 → "11th", 22 → "22nd". */
export function ordinal(n: number): string {
  const suffix = n % 100 >= 11 && n % 100 <= 13 ? "th" : ["th", "st", "nd", "rd"][n % 10] ?? "th";
  return `${n}${suffix}`;
}

export function unitSuffix(unit: string | undefined): string {
  return unit === undefined || unit === "" ? "" : ` (${unit})`;
}

export function finiteExtent(values: ArrayLike<number>): [number, number] | undefined {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return min <= max ? [min, max] : undefined;
}

/** The y domain: 0–100 for percentages, else zero to the largest value or threshold. */
export function valueDomain(
  values: ArrayLike<number>,
  unit: string | undefined,
  threshold: number | undefined,
): [number, number] {
  if (unit === "%") return [0, 100];
  const extent = finiteExtent(values) ?? [0, 1];
  const lo = Math.min(0, extent[0], threshold ?? 0);
  const hi = Math.max(extent[1], threshold ?? -Infinity);
  return [lo, hi > lo ? hi : lo + 1];
}
