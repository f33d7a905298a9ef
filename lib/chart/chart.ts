/**
 * Charts for Prometheus frames: per-host bar charts, time series and
 * host × time heatmaps, built from small Observable Plot marks rendered
 * through a server-side DOM into one self-contained `<svg>`.
 *
 * A {@linkcode Chart} displays inline in the Deno Jupyter kernel as
 * `image/svg+xml` (through `outerHTML` and `Symbol.for("Jupyter.display")`),
 * and exports to SVG or PNG with `lib/chart/export.ts`.
 *
 * @module
 */
import * as Plot from "@observablehq/plot";
import pl from "nodejs-polars";
import { deflateSync } from "node:zlib";
import { createDocument, type Doc, type DomElement, JUPYTER_DISPLAY } from "./_dom.ts";
import { concatBytes } from "../_internal/bytes.ts";
import { escapeHtml, xmlSafe } from "../_internal/escape.ts";
import { formatThreshold, formatValue } from "../_internal/format.ts";
import { OpsbookError } from "../errors.ts";

export { JUPYTER_DISPLAY };

/** Font stack of every chart: DejaVu Sans for Latin text, Noto Sans CJK for Chinese. */
export const FONT_FAMILY = "DejaVu Sans, Noto Sans CJK SC, sans-serif";

/**
 * Font stack set on each text element that contains CJK characters. resvg
 * does not walk a family list per glyph: with DejaVu first it drew mixed text
 * in Noto *Serif* CJK. Laying out text with the huge Noto CJK collection is
 * also ~25 ms per element in resvg (2 s for a 500-host heatmap's labels), so
 * it is used only where needed instead of as the chart-wide font.
 */
export const CJK_FONT_FAMILY = "Noto Sans CJK SC, DejaVu Sans, sans-serif";

const CJK = /[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]/;

function fontAttr(text: string): string {
  return CJK.test(text) ? ` font-family="${CJK_FONT_FAMILY}"` : "";
}

/** Colour of over-threshold bars, threshold rules and highlighted points (Okabe–Ito vermillion). */
export const ALERT_COLOR = "#D55E00";

/** Colour of ordinary bars and lines (Okabe–Ito blue). */
export const NORMAL_COLOR = "#0072B2";

/**
 * Colour-blind-safe categorical palette (Okabe–Ito, without the vermillion
 * reserved for {@linkcode ALERT_COLOR}).
 */
export const PALETTE: readonly string[] = Object.freeze([
  "#0072B2",
  "#E69F00",
  "#009E73",
  "#CC79A7",
  "#56B4E9",
  "#F0E442",
  "#000000",
]);

/** Thrown when a frame cannot be charted: a missing column, or no finite value at all. */
export class ChartDataError extends OpsbookError {
  /** Names of the columns the frame does have. */
  readonly columns: string[];
  /** Builds the error; `columns` lists what the frame offers. */
  constructor(message: string, columns: string[] = []) {
    super(message);
    this.name = "ChartDataError";
    this.columns = columns;
  }
}

/** Size and description of a rendered chart. */
export interface ChartInfo {
  /** Width in CSS pixels. */
  width: number;
  /** Height in CSS pixels. */
  height: number;
  /** Title shown above the plot, if any. */
  title?: string;
}

/**
 * A rendered chart: one standalone SVG document (with `xmlns`, fonts and a
 * white background) that the Deno Jupyter kernel shows inline.
 *
 * @example Display or serialise a chart
 * ```ts
 * import pl from "nodejs-polars";
 * import { barChart } from "./chart.ts";
 *
 * const chart = barChart(pl.DataFrame({ instance: ["a:9100"], value: [42] }), { unit: "%" });
 * console.log(chart.outerHTML.startsWith("<svg"), chart.width);
 * ```
 */
export class Chart {
  #svg: string;
  /** Width in CSS pixels. */
  readonly width: number;
  /** Height in CSS pixels. */
  readonly height: number;
  /** Title shown above the plot, if any. */
  readonly title: string | undefined;

  /**
   * Wraps standalone SVG markup; use the chart functions rather than calling
   * this. Every chart's text enters its SVG here: characters XML forbids (a
   * `\u0007` or `\u0000` in a label) become visible Control Pictures (`␇`,
   * `␀`), so the SVG stays well-formed and exports to PNG.
   */
  constructor(svg: string, info: ChartInfo) {
    if (!svg.startsWith("<svg")) {
      throw new TypeError("Cannot create chart: markup must start with <svg");
    }
    this.#svg = xmlSafe(svg);
    this.width = info.width;
    this.height = info.height;
    this.title = info.title;
  }

  /** The standalone SVG markup (what the Deno kernel looks for). */
  get outerHTML(): string {
    return this.#svg;
  }

  /** The standalone SVG markup. */
  toString(): string {
    return this.#svg;
  }

  /** Jupyter mime bundle: `image/svg+xml` plus a `text/plain` summary. */
  [JUPYTER_DISPLAY](): Record<string, string> {
    return { "image/svg+xml": this.#svg, "text/plain": this.#summary() };
  }

  #summary(): string {
    const name = this.title === undefined ? "Chart" : `Chart "${this.title}"`;
    return `${name} (${this.width}×${this.height} SVG)`;
  }
}

// ---------------------------------------------------------------------------
// Frame access
// ---------------------------------------------------------------------------

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
function labelColumn(frame: pl.DataFrame, name: string): string[] {
  const values = requireColumn(frame, name).toArray() as unknown[];
  return values.map((v) => (v === null || v === undefined ? "(none)" : String(v)));
}

/** Numeric values; null, NaN and ±Inf all become NaN (never plotted as real values). */
function valueColumn(frame: pl.DataFrame, name: string): Float64Array {
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
function timeColumn(frame: pl.DataFrame, name: string): Float64Array {
  const series = requireColumn(frame, name);
  return Float64Array.from(series.cast(pl.Float64).toArray() as number[]);
}

// ---------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------

let sharedDocument: Doc | undefined;
function plotDocument(): Doc {
  sharedDocument ??= createDocument();
  return sharedDocument;
}

/** Approximate rendered width of `text` in pixels (CJK glyphs are full-width). */
function textWidth(text: string, fontSize: number): number {
  let width = 0;
  for (const ch of text) {
    width += CJK.test(ch) ? fontSize : fontSize * 0.6;
  }
  return width;
}

/** "1 instance", "2 instances" (a column name used as a noun; "series" stays "series"). */
function countOf(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 || /s$/.test(noun) ? "" : "s"}`;
}

/** 2 → "2nd", 3 → "3rd", 11 → "11th", 22 → "22nd". */
function ordinal(n: number): string {
  const suffix = n % 100 >= 11 && n % 100 <= 13 ? "th" : ["th", "st", "nd", "rd"][n % 10] ?? "th";
  return `${n}${suffix}`;
}

function unitSuffix(unit: string | undefined): string {
  return unit === undefined || unit === "" ? "" : ` (${unit})`;
}

function finiteExtent(values: ArrayLike<number>): [number, number] | undefined {
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
function valueDomain(
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

const formatterCache = new Map<string, Intl.DateTimeFormat>();
function partsFormatter(timeZone: string): Intl.DateTimeFormat {
  let format = formatterCache.get(timeZone);
  if (format === undefined) {
    try {
      format = new Intl.DateTimeFormat("en-GB", {
        timeZone,
        month: "2-digit",
        day: "2-digit",
        hour: "2-digit",
        minute: "2-digit",
        hourCycle: "h23",
      });
    } catch {
      throw new RangeError(`Cannot format time axis: unknown time zone "${timeZone}"`);
    }
    formatterCache.set(timeZone, format);
  }
  return format;
}

/**
 * Tick formatter for time axes in `timeZone`: "HH:mm", with the date
 * ("MM-DD") on a second line at local midnight or when the span exceeds two days.
 *
 * @example Label ticks in Shanghai time
 * ```ts
 * import { timeTickFormat } from "./chart.ts";
 *
 * const format = timeTickFormat("Asia/Shanghai", 86_400_000);
 * console.log(format(Date.UTC(2026, 10, 1, 0, 0))); // "08:00"
 * ```
 */
export function timeTickFormat(timeZone: string, spanMs: number): (t: Date | number) => string {
  const format = partsFormatter(timeZone);
  const alwaysDate = spanMs > 2 * 86_400_000;
  return (t) => {
    const parts: Record<string, string> = {};
    for (const p of format.formatToParts(t)) parts[p.type] = p.value;
    const hm = `${parts.hour}:${parts.minute}`;
    return alwaysDate || hm === "00:00" ? `${hm}\n${parts.month}-${parts.day}` : hm;
  };
}

// ---------------------------------------------------------------------------
// Marks (exported so notebooks can compose their own charts)
// ---------------------------------------------------------------------------

/** Options for {@linkcode thresholdRule}. */
export interface ThresholdRuleOptions {
  /** Unit appended to the label, e.g. "%". @default "" */
  unit?: string;
  /** Text before the value in the label; `null` hides the label. @default "threshold" */
  label?: string | null;
  /** Rule colour. @default ALERT_COLOR */
  stroke?: string;
}

/**
 * A dashed horizontal rule at `threshold`, labelled at the right edge.
 * The rule's group carries `aria-description="threshold"`.
 *
 * @example Add a threshold to any Plot
 * ```ts
 * import * as Plot from "@observablehq/plot";
 * import { thresholdRule } from "./chart.ts";
 *
 * const marks = [Plot.lineY([1, 5, 3]), thresholdRule(4)];
 * console.log(marks.length);
 * ```
 */
export function thresholdRule(threshold: number, options: ThresholdRuleOptions = {}): Plot.Markish {
  const { unit = "", label = "threshold", stroke = ALERT_COLOR } = options;
  const rule = Plot.ruleY([threshold], {
    stroke,
    strokeWidth: 1.5,
    strokeDasharray: "6,4",
    ariaDescription: "threshold",
  });
  if (label === null) return rule;
  const text = `${label} ${formatThreshold(threshold, unit)}`.trim();
  return [
    rule,
    Plot.text([threshold], {
      y: (d: number) => d,
      text: () => text,
      frameAnchor: "right",
      textAnchor: "end",
      dy: -5,
      fill: stroke,
      ariaDescription: "threshold label",
    }),
  ];
}

/** One bar of {@linkcode alertBars}. */
export interface BarDatum {
  /** Category (host) on the x axis. */
  x: string;
  /** Bar height. */
  y: number;
  /** Fill colour when not over the threshold. */
  fill: string;
}

/** Options for {@linkcode alertBars}. */
export interface AlertBarsOptions {
  /** Bars with `y > threshold` are filled with `alertColor`. */
  threshold?: number;
  /** @default ALERT_COLOR */
  alertColor?: string;
}

/**
 * Vertical bars that turn `alertColor` when strictly above `threshold`; each
 * bar gets a tooltip title "host: value". Group has `aria-label="bar"`.
 *
 * @example Bars from plain rows
 * ```ts
 * import { alertBars } from "./chart.ts";
 *
 * const mark = alertBars([{ x: "a", y: 91, fill: "#0072B2" }], { threshold: 80 });
 * console.log(mark !== undefined);
 * ```
 */
export function alertBars(data: BarDatum[], options: AlertBarsOptions = {}): Plot.Markish {
  const { threshold, alertColor = ALERT_COLOR } = options;
  return Plot.barY(data, {
    x: "x",
    y: "y",
    fill: (d: BarDatum) => (threshold !== undefined && d.y > threshold ? alertColor : d.fill),
    title: (d: BarDatum) => `${d.x}: ${formatValue(d.y)}`,
    insetLeft: 0.5,
    insetRight: 0.5,
  });
}

/** Columns for {@linkcode seriesLines}: parallel arrays, one entry per point. */
export interface SeriesColumns {
  /** Epoch milliseconds. */
  x: ArrayLike<number>;
  /** Values (NaN makes a gap). */
  y: ArrayLike<number>;
  /** Series key (host). */
  z: ArrayLike<string>;
  /** Per-point stroke colour. */
  stroke: ArrayLike<string>;
  /** Facet key, if faceted. */
  fy?: ArrayLike<string>;
}

/**
 * One line per series `z`; NaN values leave gaps. Points must be sorted by
 * time within each series.
 *
 * @example Two short series
 * ```ts
 * import { seriesLines } from "./chart.ts";
 *
 * const mark = seriesLines({
 *   x: [0, 60_000, 0, 60_000],
 *   y: [1, 2, 3, NaN],
 *   z: ["a", "a", "b", "b"],
 *   stroke: ["#0072B2", "#0072B2", "#E69F00", "#E69F00"],
 * });
 * console.log(mark !== undefined);
 * ```
 */
export function seriesLines(
  columns: SeriesColumns,
  options: { strokeOpacity?: number; strokeWidth?: number } = {},
): Plot.Markish {
  const { strokeOpacity = 0.9, strokeWidth = 1.25 } = options;
  return Plot.line({ length: columns.x.length }, {
    x: columns.x,
    y: columns.y,
    z: columns.z,
    stroke: columns.stroke,
    fy: columns.fy,
    strokeOpacity,
    strokeWidth,
    curve: "linear",
  } as unknown as Plot.LineOptions);
}

/**
 * Highlight dots (e.g. samples a detector flagged) in the alert colour,
 * with `aria-description="highlight"`.
 *
 * @example Mark one flagged sample
 * ```ts
 * import { highlightDots } from "./chart.ts";
 *
 * const mark = highlightDots({ x: [60_000], y: [97], z: ["a"] });
 * console.log(mark !== undefined);
 * ```
 */
export function highlightDots(
  columns: {
    x: ArrayLike<number>;
    y: ArrayLike<number>;
    z: ArrayLike<string>;
    fy?: ArrayLike<string>;
  },
  options: { fill?: string; r?: number } = {},
): Plot.Markish {
  const { fill = ALERT_COLOR, r = 3.5 } = options;
  return Plot.dot({ length: columns.x.length }, {
    x: columns.x,
    y: columns.y,
    fy: columns.fy,
    title: Array.from(columns.z),
    fill,
    r,
    stroke: "white",
    strokeWidth: 1,
    ariaDescription: "highlight",
  } as unknown as Plot.DotOptions);
}

/**
 * Shaded time spans (e.g. anomaly spans a detector found): one rectangle per
 * span from `x1` to `x2` over the full height of the plot (or of its facet
 * row with `fy`), drawn translucent in the alert colour behind the lines,
 * with `title` as a tooltip and `aria-description="span"`.
 *
 * @example Shade one span
 * ```ts
 * import { shadedSpans } from "./chart.ts";
 *
 * const mark = shadedSpans({ x1: [60_000], x2: [180_000], title: ["db-01: 95.0 %"] });
 * console.log(mark !== undefined);
 * ```
 */
export function shadedSpans(
  columns: {
    x1: ArrayLike<number>;
    x2: ArrayLike<number>;
    fy?: ArrayLike<string>;
    title?: ArrayLike<string>;
  },
  options: { fill?: string; fillOpacity?: number } = {},
): Plot.Markish {
  const { fill = ALERT_COLOR, fillOpacity = 0.18 } = options;
  return Plot.rect({ length: columns.x1.length }, {
    x1: columns.x1,
    x2: columns.x2,
    fy: columns.fy,
    title: columns.title === undefined ? undefined : Array.from(columns.title),
    fill,
    fillOpacity,
    ariaDescription: "span",
  } as unknown as Plot.RectOptions);
}

/** A colour lookup: value → `[r, g, b]`. */
export type ColorRamp = (value: number) => [number, number, number];

/**
 * A sequential colour ramp from a Plot/d3 scheme (e.g. "ylorrd", "viridis")
 * over `domain`, as a 256-entry lookup table.
 *
 * @example Colour for 50 % on YlOrRd
 * ```ts
 * import { colorRamp } from "./chart.ts";
 *
 * console.log(colorRamp("ylorrd", [0, 100])(50));
 * ```
 */
export function colorRamp(scheme: string, domain: [number, number]): ColorRamp {
  const scale = Plot.scale({
    color: { type: "linear", scheme: scheme as Plot.ColorScheme, domain: [0, 255] },
  });
  const table: [number, number, number][] = [];
  for (let i = 0; i < 256; i++) table.push(parseColor(String(scale.apply(i))));
  const [lo, hi] = domain;
  const span = hi - lo || 1;
  return (value) => {
    const k = Math.round(((value - lo) / span) * 255);
    return table[k < 0 ? 0 : k > 255 ? 255 : k];
  };
}

function parseColor(color: string): [number, number, number] {
  const m = /rgb\((\d+),\s*(\d+),\s*(\d+)/.exec(color);
  if (m) return [Number(m[1]), Number(m[2]), Number(m[3])];
  const h = /^#([0-9a-f]{6})$/i.exec(color);
  if (h) {
    const n = parseInt(h[1], 16);
    return [n >> 16, (n >> 8) & 255, n & 255];
  }
  throw new TypeError(`Cannot parse colour: ${color}`);
}

function hex([r, g, b]: [number, number, number]): string {
  return `#${((1 << 24) | (r << 16) | (g << 8) | b).toString(16).slice(1)}`;
}

/** Cells of {@linkcode heatCells}: one entry per (row, column) cell. */
export interface HeatCellColumns {
  /** Cell start, epoch ms. */
  x1: ArrayLike<number>;
  /** Cell end, epoch ms. */
  x2: ArrayLike<number>;
  /** Row (host). */
  y: ArrayLike<string>;
  /** Value (NaN cells are not drawn). */
  value: ArrayLike<number>;
}

/**
 * Heatmap cells as SVG rects (good up to a few tens of thousands of cells),
 * filled through `ramp`; group has `aria-description="cell"`.
 *
 * @example Two cells
 * ```ts
 * import { colorRamp, heatCells } from "./chart.ts";
 *
 * const mark = heatCells(
 *   { x1: [0, 60_000], x2: [60_000, 120_000], y: ["a", "a"], value: [10, 90] },
 *   colorRamp("ylorrd", [0, 100]),
 * );
 * console.log(mark !== undefined);
 * ```
 */
export function heatCells(columns: HeatCellColumns, ramp: ColorRamp): Plot.Markish {
  const index: number[] = [];
  for (let i = 0; i < columns.value.length; i++) if (!Number.isNaN(columns.value[i])) index.push(i);
  const fill = index.map((i) => hex(ramp(columns.value[i])));
  return Plot.barX(index, {
    x1: (i: number) => columns.x1[i],
    x2: (i: number) => columns.x2[i],
    y: (i: number) => columns.y[i],
    fill,
    title: (i: number) => `${columns.y[i]}: ${formatValue(columns.value[i])}`,
    inset: 0,
    ariaDescription: "cell",
  } as Plot.BarXOptions);
}

/** A dense grid for {@linkcode heatRaster}: `rows × cols` values, row-major, NaN = no data. */
export interface HeatGrid {
  /** Number of rows (hosts), in y-domain order. */
  rows: number;
  /** Number of time columns. */
  cols: number;
  /** Row-major values. */
  values: Float64Array;
  /** Start of the first column, epoch ms. */
  x1: number;
  /** End of the last column, epoch ms. */
  x2: number;
}

/**
 * Heatmap as one embedded PNG `<image>` (one pixel per cell, scaled without
 * smoothing): constant size in the SVG whatever the number of cells. NaN
 * cells are transparent. Element has `aria-label="raster"`.
 *
 * @example A 2 × 2 raster
 * ```ts
 * import { colorRamp, heatRaster } from "./chart.ts";
 *
 * const grid = { rows: 2, cols: 2, values: new Float64Array([1, 2, 3, NaN]), x1: 0, x2: 120_000 };
 * console.log(typeof heatRaster(grid, colorRamp("ylorrd", [0, 4])));
 * ```
 */
export function heatRaster(grid: HeatGrid, ramp: ColorRamp): Plot.RenderFunction {
  return (_index, scales, _values, dimensions, context) => {
    const x = scales.x as (v: number) => number;
    const y = scales.y as ((v: string) => number) & { domain(): string[]; bandwidth(): number };
    const domain = y.domain();
    const top = domain.length ? y(domain[0]) : dimensions.marginTop;
    const bottom = domain.length ? y(domain[domain.length - 1]) + y.bandwidth() : top;
    const left = x(grid.x1);
    const width = x(grid.x2) - left;
    // Replicate cells to about one image pixel per screen pixel, so that
    // renderers which smooth scaled images (browsers) only blur cell edges.
    const sx = Math.max(1, Math.min(8, Math.round(width / Math.max(grid.cols, 1))));
    const sy = Math.max(1, Math.min(8, Math.round((bottom - top) / Math.max(grid.rows, 1))));
    const png = encodeRgbaPng(grid, ramp, sx, sy);
    const image = context.document.createElementNS("http://www.w3.org/2000/svg", "image");
    image.setAttribute("x", String(left));
    image.setAttribute("y", String(top));
    image.setAttribute("width", String(width));
    image.setAttribute("height", String(bottom - top));
    image.setAttribute("preserveAspectRatio", "none");
    image.setAttribute("image-rendering", "optimizeSpeed");
    image.setAttribute("aria-label", "raster");
    image.setAttribute("href", `data:image/png;base64,${encodeBase64(png)}`);
    return image as never;
  };
}

function encodeBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const chunk = new Uint8Array(12 + data.length);
  const view = new DataView(chunk.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) chunk[4 + i] = type.charCodeAt(i);
  chunk.set(data, 8);
  view.setUint32(8 + data.length, crc32(chunk.subarray(4, 8 + data.length)));
  return chunk;
}

function encodeRgbaPng(grid: HeatGrid, ramp: ColorRamp, sx = 1, sy = 1): Uint8Array {
  const { rows, cols, values } = grid;
  const width = cols * sx;
  const height = rows * sy;
  const stride = width * 4 + 1;
  const raw = new Uint8Array(height * stride);
  for (let r = 0; r < rows; r++) {
    const base = r * sy * stride;
    let o = base + 1; // filter byte 0 (none)
    for (let c = 0; c < cols; c++) {
      const v = values[r * cols + c];
      if (Number.isNaN(v)) {
        o += 4 * sx;
        continue;
      }
      const [red, green, blue] = ramp(v);
      for (let k = 0; k < sx; k++, o += 4) {
        raw[o] = red;
        raw[o + 1] = green;
        raw[o + 2] = blue;
        raw[o + 3] = 255;
      }
    }
    for (let k = 1; k < sy; k++) raw.copyWithin(base + k * stride, base, base + stride);
  }
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header.set([8, 6, 0, 0, 0], 8); // 8-bit RGBA
  const parts = [
    new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10]),
    pngChunk("IHDR", header),
    pngChunk("IDAT", new Uint8Array(deflateSync(raw))),
    pngChunk("IEND", new Uint8Array(0)),
  ];
  return concatBytes(parts);
}

// ---------------------------------------------------------------------------
// Composition: header (title, subtitle, legend) + Plot panels → one <svg>
// ---------------------------------------------------------------------------

/** A legend entry: a swatch and its label. */
export interface LegendItem {
  /** Swatch colour. */
  color: string;
  /** Label text. */
  label: string;
}

/** A continuous colour legend: a gradient bar with end labels. */
export interface LegendRamp {
  /** Colour scheme used by {@linkcode colorRamp}. */
  scheme: string;
  /** Value domain. */
  domain: [number, number];
  /** Label before the bar, e.g. "CPU usage (%)". */
  label: string;
}

/** Header and layout options shared by every chart function. */
export interface ChartFrameOptions {
  /** Title (may contain Chinese). */
  title?: string;
  /** Smaller line under the title. */
  subtitle?: string;
  /** Small grey note under the plot (e.g. what was omitted). */
  caption?: string;
  /** Swatches, or a ramp, shown under the title. */
  legend?: LegendItem[] | LegendRamp;
}

interface Panel {
  svg: DomElement;
  label?: string;
}

const HEADER_PAD = 12;

function composeChart(panels: Panel[], frame: ChartFrameOptions): Chart {
  const parts: string[] = [];
  let y = HEADER_PAD;
  const totalWidth = panels.reduce((w, p) => w + Number(p.svg.getAttribute("width")), 0);
  if (frame.title) {
    y += 18;
    parts.push(
      `<text x="${HEADER_PAD}" y="${y}" font-size="17" font-weight="bold" aria-label="title"${
        fontAttr(frame.title)
      }>${escapeHtml(frame.title)}</text>`,
    );
  }
  if (frame.subtitle) {
    y += 20;
    parts.push(
      `<text x="${HEADER_PAD}" y="${y}" font-size="12" fill="#555" aria-label="subtitle"${
        fontAttr(frame.subtitle)
      }>${escapeHtml(frame.subtitle)}</text>`,
    );
  }
  const legend = frame.legend;
  if (Array.isArray(legend) && legend.length > 0) {
    y += 10;
    let x = HEADER_PAD;
    let rowY = y;
    const items: string[] = [];
    for (const item of legend) {
      const w = 18 + textWidth(item.label, 11) + 14;
      if (x + w > totalWidth - HEADER_PAD && x > HEADER_PAD) {
        x = HEADER_PAD;
        rowY += 18;
      }
      items.push(
        `<rect x="${x}" y="${rowY}" width="12" height="12" fill="${escapeHtml(item.color)}"/>` +
          `<text x="${x + 17}" y="${rowY + 10}" font-size="11"${fontAttr(item.label)}>${
            escapeHtml(item.label)
          }</text>`,
      );
      x += w;
    }
    parts.push(`<g aria-label="legend">${items.join("")}</g>`);
    y = rowY + 14;
  } else if (legend !== undefined && !Array.isArray(legend)) {
    y += 10;
    parts.push(legendRampMarkup(legend, HEADER_PAD, y));
    y += 30;
  }
  y += panels.some((p) => p.label) ? 22 : 6;
  let x = 0;
  let height = 0;
  for (const panel of panels) {
    const w = Number(panel.svg.getAttribute("width"));
    const h = Number(panel.svg.getAttribute("height"));
    if (panel.label) {
      parts.push(
        `<text x="${x + w / 2}" y="${
          y - 6
        }" font-size="12" font-weight="bold" text-anchor="middle" aria-label="facet"${
          fontAttr(panel.label)
        }>${escapeHtml(panel.label)}</text>`,
      );
    }
    panel.svg.setAttribute("x", String(x));
    panel.svg.setAttribute("y", String(y));
    for (const style of Array.from(panel.svg.querySelectorAll("style"))) style.remove();
    panel.svg.removeAttribute("class");
    panel.svg.setAttribute("font-family", FONT_FAMILY);
    for (const text of Array.from(panel.svg.querySelectorAll("text"))) {
      if (CJK.test(text.textContent ?? "")) text.setAttribute("font-family", CJK_FONT_FAMILY);
    }
    parts.push(panel.svg.outerHTML);
    x += w;
    height = Math.max(height, h);
  }
  let total = y + height;
  if (frame.caption) {
    parts.push(
      `<text x="${HEADER_PAD}" y="${total + 4}" font-size="11" fill="#666" aria-label="caption"${
        fontAttr(frame.caption)
      }>${escapeHtml(frame.caption)}</text>`,
    );
    total += 14;
  }
  const width = Math.max(totalWidth, 1);
  const height_ = Math.ceil(total + 4);
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${width}" height="${height_}" viewBox="0 0 ${width} ${height_}" font-family="${FONT_FAMILY}" font-size="10" fill="#222" color="#222">` +
    `<rect width="100%" height="100%" fill="white"/>${parts.join("")}</svg>`;
  return new Chart(svg, { width, height: height_, title: frame.title });
}

function legendRampMarkup(ramp: LegendRamp, x: number, y: number): string {
  const color = colorRamp(ramp.scheme, ramp.domain);
  const [lo, hi] = ramp.domain;
  const stops: string[] = [];
  for (let i = 0; i <= 10; i++) {
    stops.push(
      `<stop offset="${i * 10}%" stop-color="${hex(color(lo + ((hi - lo) * i) / 10))}"/>`,
    );
  }
  const labelWidth = textWidth(ramp.label, 11) + 10;
  const barX = x + labelWidth;
  const id = `ramp-${Math.random().toString(36).slice(2, 8)}`;
  return `<g aria-label="legend"><defs><linearGradient id="${id}">${
    stops.join("")
  }</linearGradient></defs>` +
    `<text x="${x}" y="${y + 10}" font-size="11"${fontAttr(ramp.label)}>${
      escapeHtml(ramp.label)
    }</text>` +
    `<rect x="${barX}" y="${y}" width="200" height="12" fill="url(#${id})"/>` +
    `<text x="${barX}" y="${y + 25}" font-size="10">${formatValue(lo)}</text>` +
    `<text x="${barX + 100}" y="${y + 25}" font-size="10" text-anchor="middle">${
      formatValue((lo + hi) / 2)
    }</text>` +
    `<text x="${barX + 200}" y="${y + 25}" font-size="10" text-anchor="end">${
      formatValue(hi)
    }</text></g>`;
}

/** Options for {@linkcode plotChart}: Plot options plus the opsbook header. */
export type PlotChartOptions = Plot.PlotOptions & ChartFrameOptions;

/**
 * Render any Plot specification into a standalone {@linkcode Chart} with the
 * opsbook header (title, subtitle, swatch or ramp legend), fonts and xmlns.
 * Plot's own `title`/`subtitle`/`caption` and `legend` would produce a
 * `<figure>`; here they are drawn inside the SVG instead.
 *
 * @example A custom chart from your own marks
 * ```ts
 * import * as Plot from "@observablehq/plot";
 * import { plotChart, thresholdRule } from "./chart.ts";
 *
 * const chart = plotChart({
 *   title: "自定义 custom",
 *   marks: [Plot.lineY([3, 9, 4]), thresholdRule(8)],
 * });
 * console.log(chart.outerHTML.slice(0, 4));
 * ```
 */
export function plotChart(options: PlotChartOptions): Chart {
  const { title, subtitle, caption, legend, ...plot } = options;
  return composeChart([{ svg: renderPlot(plot) }], { title, subtitle, caption, legend });
}

function renderPlot(options: Plot.PlotOptions): DomElement {
  const color = options.color ?? {};
  const node = Plot.plot({
    ...options,
    color: typeof color === "object" ? { ...color, legend: false } : color,
    document: plotDocument() as never,
  }) as unknown as DomElement;
  if (node.tagName.toLowerCase() !== "svg") {
    throw new TypeError(
      "Cannot render chart: Plot returned a <figure>; pass title and legend to the chart function",
    );
  }
  return node;
}

// ---------------------------------------------------------------------------
// Bar chart
// ---------------------------------------------------------------------------

/** Options for {@linkcode barChart}. */
export interface BarChartOptions extends ChartFrameOptions {
  /** Category column (one bar each). @default "instance" */
  x?: string;
  /** Value column. @default "value" */
  y?: string;
  /** Bars strictly above this value are drawn in {@linkcode ALERT_COLOR}, with a rule at it. */
  threshold?: number;
  /** Column whose values pick the bar colour (e.g. "cloud"); over-threshold bars stay alert-coloured. */
  color?: string;
  /** Column to split into side-by-side panels (e.g. "cloud"), sharing the y axis. */
  facet?: string;
  /** Unit of `y`; "%" fixes the domain to 0–100. @default "" */
  unit?: string;
  /** Y axis label (the unit is appended). @default the `y` column name */
  yLabel?: string;
  /** Bar order. @default "descending" */
  sort?: "descending" | "ascending" | "none";
  /**
   * When a host (an `x` value) has several series, e.g. one per mountpoint or
   * per CPU: by default each gets its own bar, labelled `host · value of the
   * labels that tell them apart` and kept next to its host's other bars, and
   * the caption says so. With this option the host gets one bar holding the
   * max, min, mean or sum of its series instead, and the caption says which.
   * @default undefined (one bar per series)
   */
  aggregate?: "max" | "min" | "mean" | "sum";
  /** Total width in pixels. @default 960 */
  width?: number;
  /** Plot height in pixels (without header). @default 420 */
  height?: number;
  /** Extra Plot marks drawn on top (on every facet panel). */
  marks?: Plot.Markish[];
}

/** Labels that usually name a host's several series, most telling first. */
const SPLIT_PREFERENCE = ["mountpoint", "cpu", "device", "interface", "mode"];

const AGGREGATES: Record<NonNullable<BarChartOptions["aggregate"]>, (v: number[]) => number> = {
  max: (v) => Math.max(...v),
  min: (v) => Math.min(...v),
  mean: (v) => v.reduce((a, b) => a + b, 0) / v.length,
  sum: (v) => v.reduce((a, b) => a + b, 0),
};

/**
 * The classic per-host bar chart: one bar per `x` value, sorted by value,
 * hosts over `threshold` in the alert colour, a dashed rule at the threshold,
 * 0–100 % axis when `unit: "%"`, optional colour or facets by a label such as
 * `cloud`. Rows with NaN/±Inf values are left out (and counted in the
 * caption). A series with several rows (a range frame) shows its last one; a
 * host with several series (per mountpoint, per CPU) shows a labelled bar for
 * each, or one aggregated bar with `aggregate`, the caption saying which:
 * never a silently dropped series.
 *
 * @example CPU usage with a threshold
 * ```ts
 * import pl from "nodejs-polars";
 * import { barChart } from "./chart.ts";
 *
 * const frame = pl.DataFrame({
 *   cloud: ["aliyun", "azure", "tencent"],
 *   instance: ["ali-hz-db-01:9100", "az-web-01:9100", "tx-gz-app-01:9100"],
 *   value: [91.5, 40, 63],
 * });
 * const chart = barChart(frame, { threshold: 80, unit: "%", color: "cloud", title: "CPU 使用率" });
 * console.log(chart.width, chart.height);
 * ```
 *
 * @example Disk usage per mountpoint: a bar for each, or the fullest per host
 * ```ts
 * import pl from "nodejs-polars";
 * import { barChart } from "./chart.ts";
 *
 * const disks = pl.DataFrame({
 *   instance: ["web-1:9100", "web-1:9100", "web-2:9100"],
 *   mountpoint: ["/", "/data", "/"],
 *   value: [41, 97, 55],
 * });
 * barChart(disks, { unit: "%" }); // web-1:9100 · /data, web-2:9100 · /, web-1:9100 · /
 * barChart(disks, { unit: "%", aggregate: "max" }); // caption: max over mountpoint per instance
 * ```
 */
export function barChart(frame: pl.DataFrame, options: BarChartOptions = {}): Chart {
  const {
    x = "instance",
    y = "value",
    threshold,
    color,
    facet,
    unit = "",
    yLabel = y,
    sort = "descending",
    width = 960,
    height = 420,
    marks = [],
  } = options;
  const hosts = labelColumn(frame, x);
  const values = valueColumn(frame, y);
  const colors = color === undefined ? undefined : labelColumn(frame, color);
  const facets = facet === undefined ? undefined : labelColumn(frame, facet);
  const { aggregate } = options;
  if (aggregate !== undefined && !(aggregate in AGGREGATES)) {
    throw new TypeError(
      `Invalid aggregate: expected one of ${Object.keys(AGGREGATES).join(", ")}, got ${aggregate}`,
    );
  }

  // A series is a host plus its other labels (every string column); its last row wins.
  const labelNames = frame.columns
    .filter((c) => c !== x && c !== y && frame.getColumn(c).dtype.equals(pl.String))
    .sort();
  const labelValues = labelNames.map((c) => labelColumn(frame, c));
  const latest = new Map<string, number>();
  for (let i = 0; i < hosts.length; i++) {
    latest.set(JSON.stringify([hosts[i], ...labelValues.map((v) => v[i])]), i);
  }
  const perHost = new Map<string, number[]>();
  for (const i of latest.values()) {
    const list = perHost.get(hosts[i]);
    if (list === undefined) perHost.set(hosts[i], [i]);
    else list.push(i);
  }
  // The labels that tell a host's series apart: one that does it alone when
  // there is one (mountpoint before device, cpu before mode), else all that vary.
  const distinct = (k: number, rows: number[]) => new Set(rows.map((i) => labelValues[k][i])).size;
  const varying = labelNames.filter((_, k) =>
    [...perHost.values()].some((rows) => distinct(k, rows) > 1)
  );
  const alone = [...SPLIT_PREFERENCE.filter((c) => varying.includes(c)), ...varying].find((c) =>
    [...perHost.values()].every((rows) => distinct(labelNames.indexOf(c), rows) === rows.length)
  );
  const splitBy = alone === undefined ? varying : [alone];
  const several = [...perHost.values()].some((rows) => rows.length > 1);
  const splitValues = splitBy.map((c) => labelValues[labelNames.indexOf(c)]);

  const categories = colors === undefined ? [] : [...new Set(colors)].sort();
  const colorOf = new Map(categories.map((c, i) => [c, PALETTE[i % PALETTE.length]]));
  const rows: (BarDatum & { facet: string; host: string })[] = [];
  let omitted = 0;
  const datum = (i: number, label: string, value: number) => ({
    x: label,
    y: value,
    fill: colors === undefined ? NORMAL_COLOR : colorOf.get(colors[i])!,
    facet: facets === undefined ? "" : facets[i],
    host: hosts[i],
  });
  for (const [host, indices] of perHost) {
    if (several && aggregate !== undefined) {
      const finite = indices.map((i) => values[i]).filter((v) => !Number.isNaN(v));
      if (finite.length === 0) omitted++;
      else rows.push(datum(indices[0], host, AGGREGATES[aggregate](finite)));
      continue;
    }
    for (const i of indices) {
      if (Number.isNaN(values[i])) {
        omitted++;
        continue;
      }
      const label = several && splitBy.length > 0
        ? `${host} · ${splitValues.map((v) => v[i]).join(" ")}`
        : host;
      rows.push(datum(i, label, values[i]));
    }
  }
  if (sort !== "none") {
    // A host's bars stay together: hosts by their highest (lowest) bar, then bars by value.
    const sign = sort === "descending" ? -1 : 1;
    const best = new Map<string, number>();
    for (const r of rows) {
      const b = best.get(r.host);
      if (b === undefined || sign * (r.y - b) < 0) best.set(r.host, r.y);
    }
    rows.sort((a, b) =>
      sign * (best.get(a.host)! - best.get(b.host)!) || a.host.localeCompare(b.host) ||
      sign * (a.y - b.y) || a.x.localeCompare(b.x)
    );
  }
  const domain = valueDomain(rows.map((r) => r.y), unit, threshold);
  const groups = facets === undefined
    ? [{ label: undefined as string | undefined, rows }]
    : [...new Set(rows.map((r) => r.facet))].sort().map((label) => ({
      label: label as string | undefined,
      rows: rows.filter((r) => r.facet === label),
    }));

  const longest = rows.reduce((m, r) => Math.max(m, textWidth(r.x, 10)), 0);
  const rotate = rows.length > 6 || longest > width / Math.max(rows.length, 1) - 6;
  const marginBottom = rotate ? Math.min(180, Math.ceil(longest * 0.71 + 24)) : 30;
  const marginLeft = 56;
  const innerWidth = width - marginLeft - 20 - 8 * Math.max(0, groups.length - 1);
  const labelEvery = Math.max(1, Math.ceil((rows.length * 11) / innerWidth));

  const panels: Panel[] = groups.map((group, g) => {
    const share = rows.length === 0 ? 1 : group.rows.length / rows.length;
    const first = g === 0;
    const panelWidth = Math.max(80, Math.round(innerWidth * share) + (first ? marginLeft : 8)) +
      (g === groups.length - 1 ? 20 : 0);
    const xDomain = group.rows.map((r) => r.x);
    return {
      label: group.label,
      svg: renderPlot({
        width: panelWidth,
        height,
        marginLeft: first ? marginLeft : 8,
        marginRight: g === groups.length - 1 ? 20 : 0,
        marginBottom,
        x: {
          type: "band",
          domain: xDomain,
          label: null,
          tickRotate: rotate ? -45 : 0,
          ticks: xDomain.filter((_, i) => i % labelEvery === 0),
          padding: 0.15,
        },
        y: {
          domain,
          nice: unit !== "%",
          clamp: unit === "%",
          grid: true,
          label: first ? `${yLabel}${unitSuffix(unit)}` : null,
          axis: first ? "left" : null,
        },
        marks: [
          Plot.ruleY([domain[0]]),
          alertBars(group.rows, { threshold }),
          threshold === undefined ? null : thresholdRule(threshold, {
            unit,
            label: g === groups.length - 1 ? "threshold" : null,
          }),
          ...marks,
        ],
      }),
    };
  });

  const legend: LegendItem[] = categories.map((c) => ({ color: colorOf.get(c)!, label: c }));
  if (threshold !== undefined) {
    if (colors === undefined) {
      legend.push({ color: NORMAL_COLOR, label: `≤ ${formatThreshold(threshold, unit)}` });
    }
    legend.push({ color: ALERT_COLOR, label: `> ${formatThreshold(threshold, unit)}` });
  }
  const by = splitBy.length > 0 ? splitBy.join(", ") : "series";
  const notes = [
    several
      ? aggregate === undefined ? `one bar per ${x} and ${by}` : `${aggregate} over ${by} per ${x}`
      : "",
    omitted > 0
      ? `${countOf(omitted, several && aggregate === undefined ? "series" : x)} ` +
        "without a finite value omitted"
      : "",
    labelEvery > 1 ? `every ${ordinal(labelEvery)} label shown` : "",
    options.caption ?? "",
  ].filter(Boolean);
  return composeChart(panels, {
    title: options.title,
    subtitle: options.subtitle,
    legend: options.legend ?? (legend.length > 0 ? legend : undefined),
    caption: notes.length > 0 ? notes.join("; ") : undefined,
  });
}

// ---------------------------------------------------------------------------
// Time series
// ---------------------------------------------------------------------------

/** Options for {@linkcode timeSeriesChart}. */
export interface TimeSeriesChartOptions extends ChartFrameOptions {
  /** Time column. @default "timestamp" */
  x?: string;
  /** Value column. @default "value" */
  y?: string;
  /** Series column (one line each). @default "instance" */
  z?: string;
  /** Colour lines by this column (e.g. "cloud"); by default lines are coloured per series when ≤ 7. */
  color?: string;
  /** One row of panels per value of this column (e.g. "cloud"). */
  facet?: string;
  /** Dashed rule at this value. */
  threshold?: number;
  /**
   * Points to mark in the alert colour: a frame with the `x`, `y`, `z`
   * columns (e.g. rows a detector flagged) or a boolean mask over `frame`'s rows.
   */
  highlight?: pl.DataFrame | pl.Series | ArrayLike<boolean>;
  /**
   * Time spans to shade behind the lines (e.g. {@linkcode anomalySpans}' rows):
   * a frame with Datetime `start` and `end` columns, and the `facet` column
   * when faceting. Each span is drawn to one sample step after `end`, so a
   * one-sample span shows; its tooltip is the `z` and `reason` columns when present.
   */
  spans?: pl.DataFrame;
  /** Unit of `y`; "%" fixes the domain to 0–100. @default "" */
  unit?: string;
  /** Y axis label (unit appended). @default the `y` column name */
  yLabel?: string;
  /** IANA time zone of the time axis. @default "UTC" */
  timeZone?: string;
  /**
   * Downsampling rule. "auto": when a series has more than 2 points per
   * horizontal pixel, keep per pixel column the first, min, max and last
   * sample (M4: the drawn line is unchanged, spikes survive). A number sets
   * the maximum number of buckets per series; "none" disables it.
   * @default "auto"
   */
  downsample?: "auto" | "none" | number;
  /** Width in pixels. @default 960 */
  width?: number;
  /** Plot height in pixels (without header). @default 400 */
  height?: number;
  /** Extra Plot marks drawn on top. */
  marks?: Plot.Markish[];
}

/**
 * Min/max-preserving (M4) downsampling of one series into `buckets` equal
 * time buckets: per bucket the first, minimum, maximum and last sample are
 * kept in time order. NaN samples are kept as gap markers (one per bucket).
 * Returns indices into `xs`.
 *
 * @example Reduce 1,000 points to at most 4 per bucket
 * ```ts
 * import { m4Indices } from "./chart.ts";
 *
 * const xs = Float64Array.from({ length: 1000 }, (_, i) => i);
 * const ys = Float64Array.from({ length: 1000 }, (_, i) => Math.sin(i));
 * const kept = m4Indices(xs, ys, Array.from(xs.keys()), 50);
 * console.log(kept.length <= 200);
 * ```
 */
export function m4Indices(
  xs: ArrayLike<number>,
  ys: ArrayLike<number>,
  index: number[],
  buckets: number,
): number[] {
  if (index.length <= buckets * 4 || index.length === 0) return index;
  const t0 = xs[index[0]];
  const span = xs[index[index.length - 1]] - t0 || 1;
  const out: number[] = [];
  let start = 0;
  while (start < index.length) {
    const bucket = Math.min(buckets - 1, Math.floor(((xs[index[start]] - t0) / span) * buckets));
    let end = start;
    let min = -1;
    let max = -1;
    let gap = -1;
    while (
      end < index.length &&
      Math.min(buckets - 1, Math.floor(((xs[index[end]] - t0) / span) * buckets)) === bucket
    ) {
      const v = ys[index[end]];
      if (Number.isNaN(v)) {
        if (gap < 0) gap = end;
      } else {
        if (min < 0 || v < ys[index[min]]) min = end;
        if (max < 0 || v > ys[index[max]]) max = end;
      }
      end++;
    }
    const keep = new Set([start, end - 1]);
    if (min >= 0) keep.add(min);
    if (max >= 0) keep.add(max);
    if (gap >= 0) keep.add(gap);
    for (const k of [...keep].sort((a, b) => a - b)) out.push(index[k]);
    start = end;
  }
  return out;
}

function highlightIndex(
  highlight: NonNullable<TimeSeriesChartOptions["highlight"]>,
  length: number,
): boolean[] | undefined {
  const h = highlight as { getColumn?: unknown; toArray?: unknown };
  if (typeof h.getColumn === "function") return; // a DataFrame of flagged rows
  const mask = typeof h.toArray === "function"
    ? (highlight as pl.Series).toArray() as boolean[]
    : Array.from(highlight as ArrayLike<boolean>);
  if (mask.length !== length) {
    throw new RangeError(
      `Cannot highlight points: mask has ${mask.length} entries, frame has ${length} rows`,
    );
  }
  return mask;
}

/**
 * One line per host over time, with an optional threshold rule, highlighted
 * points (e.g. rows a detector flagged), time axis in UTC or `timeZone`,
 * colour or facets by a label such as `cloud`. NaN/±Inf samples leave gaps.
 * Long series are downsampled (see `downsample`) so the SVG stays small.
 *
 * @example Two hosts over three minutes
 * ```ts
 * import pl from "nodejs-polars";
 * import { timeSeriesChart } from "./chart.ts";
 *
 * const frame = pl.DataFrame({
 *   instance: ["a", "a", "a", "b", "b", "b"],
 *   timestamp: [0, 60_000, 120_000, 0, 60_000, 120_000],
 *   value: [10, 85, 20, 30, 35, NaN],
 * }).withColumn(pl.col("timestamp").cast(pl.Datetime("ms")));
 * const chart = timeSeriesChart(frame, { threshold: 80, unit: "%", timeZone: "Asia/Shanghai" });
 * console.log(chart.height > 0);
 * ```
 */
export function timeSeriesChart(frame: pl.DataFrame, options: TimeSeriesChartOptions = {}): Chart {
  const {
    x = "timestamp",
    y = "value",
    z = "instance",
    color,
    facet,
    threshold,
    highlight,
    spans,
    unit = "",
    yLabel = y,
    timeZone = "UTC",
    downsample = "auto",
    width = 960,
    height = 400,
    marks = [],
  } = options;
  const xs = timeColumn(frame, x);
  const ys = valueColumn(frame, y);
  const zs = labelColumn(frame, z);
  const cs = color === undefined ? undefined : labelColumn(frame, color);
  const fs = facet === undefined ? undefined : labelColumn(frame, facet);

  const bySeries = new Map<string, number[]>();
  for (let i = 0; i < zs.length; i++) {
    let list = bySeries.get(zs[i]);
    if (list === undefined) bySeries.set(zs[i], list = []);
    list.push(i);
  }
  const seriesNames = [...bySeries.keys()].sort();
  const categories = cs !== undefined
    ? [...new Set(cs)].sort()
    : seriesNames.length <= PALETTE.length
    ? seriesNames
    : [];
  const colorOf = new Map(categories.map((c, i) => [c, PALETTE[i % PALETTE.length]]));
  const marginLeft = 56;
  const marginRight = 20;
  const buckets = downsample === "none"
    ? Infinity
    : downsample === "auto"
    ? Math.max(1, Math.floor((width - marginLeft - marginRight) / 2))
    : downsample;
  let kept: number[] = [];
  let downsampled = 0;
  for (const name of seriesNames) {
    const index = bySeries.get(name)!.sort((a, b) => xs[a] - xs[b]);
    const reduced = Number.isFinite(buckets) ? m4Indices(xs, ys, index, buckets) : index;
    if (reduced.length < index.length) downsampled++;
    kept = kept.concat(reduced);
  }
  const n = kept.length;
  const line: SeriesColumns = {
    x: Float64Array.from(kept, (i) => xs[i]),
    y: Float64Array.from(kept, (i) => ys[i]),
    z: kept.map((i) => zs[i]),
    stroke: kept.map((i) =>
      cs !== undefined ? colorOf.get(cs[i])! : colorOf.get(zs[i]) ?? NORMAL_COLOR
    ),
    fy: fs === undefined ? undefined : kept.map((i) => fs[i]),
  };

  const extraMarks: Plot.Markish[] = [];
  if (highlight !== undefined) {
    const mask = highlightIndex(highlight, zs.length);
    if (mask === undefined) {
      const hf = highlight as pl.DataFrame;
      const hx = timeColumn(hf, x);
      const hy = valueColumn(hf, y);
      const hz = labelColumn(hf, z);
      const hfacet = facet === undefined ? undefined : labelColumn(hf, facet);
      const idx = [...hx.keys()].filter((i) => !Number.isNaN(hy[i]));
      extraMarks.push(highlightDots({
        x: idx.map((i) => hx[i]),
        y: idx.map((i) => hy[i]),
        z: idx.map((i) => hz[i]),
        fy: hfacet === undefined ? undefined : idx.map((i) => hfacet[i]),
      }));
    } else {
      const idx = [...mask.keys()].filter((i) => mask[i] && !Number.isNaN(ys[i]));
      extraMarks.push(highlightDots({
        x: idx.map((i) => xs[i]),
        y: idx.map((i) => ys[i]),
        z: idx.map((i) => zs[i]),
        fy: fs === undefined ? undefined : idx.map((i) => fs[i]),
      }));
    }
  }

  const behind: Plot.Markish[] = [];
  if (spans !== undefined && spans.height > 0) {
    let stepMs = Infinity;
    for (const name of seriesNames) {
      const index = bySeries.get(name)!;
      for (let k = 1; k < index.length; k++) {
        const gap = xs[index[k]] - xs[index[k - 1]];
        if (gap > 0 && gap < stepMs) stepMs = gap;
      }
    }
    if (!Number.isFinite(stepMs)) stepMs = 0;
    const ends = timeColumn(spans, "end");
    const who = spans.columns.includes(z) ? labelColumn(spans, z) : undefined;
    const why = spans.columns.includes("reason") ? labelColumn(spans, "reason") : undefined;
    behind.push(shadedSpans({
      x1: timeColumn(spans, "start"),
      x2: Float64Array.from(ends, (t) => t + stepMs),
      fy: facet === undefined ? undefined : labelColumn(spans, facet),
      title: who === undefined && why === undefined
        ? undefined
        : Array.from(ends, (_, i) => [who?.[i], why?.[i]].filter(Boolean).join(": ")),
    }));
  }

  const extent = finiteExtent(xs) ?? [0, 1];
  const facetCount = fs === undefined ? 1 : new Set(fs).size;
  const many = seriesNames.length > 20;
  const svg = renderPlot({
    width,
    height: fs === undefined ? height : Math.max(height, facetCount * 140 + 50),
    marginLeft,
    // Facet labels sit in the right margin: room for the longest (about 7 px per character).
    marginRight: fs === undefined
      ? marginRight
      : Math.max(90, 12 + 7 * Math.max(0, ...[...new Set(fs)].map((f) => f.length))),
    marginBottom: 40,
    x: {
      type: "utc",
      domain: extent,
      label: `Time (${timeZone})`,
      labelAnchor: "right",
      labelArrow: "none",
      tickFormat: timeTickFormat(timeZone, extent[1] - extent[0]),
    },
    y: {
      domain: valueDomain(ys, unit, threshold),
      nice: unit !== "%",
      clamp: unit === "%",
      grid: true,
      label: `${yLabel}${unitSuffix(unit)}`,
    },
    fy: fs === undefined ? undefined : { label: null },
    marks: [
      ...behind,
      seriesLines(line, { strokeOpacity: many ? 0.45 : 0.9, strokeWidth: many ? 0.8 : 1.25 }),
      threshold === undefined ? null : thresholdRule(threshold, { unit }),
      ...extraMarks,
      ...marks,
    ],
  });

  const legend: LegendItem[] = categories.map((c) => ({ color: colorOf.get(c)!, label: c }));
  if (highlight !== undefined) legend.push({ color: ALERT_COLOR, label: "flagged" });
  if (behind.length > 0) legend.push({ color: ALERT_COLOR, label: "flagged span (shaded)" });
  const notes = [
    downsampled > 0
      ? `${downsampled} series downsampled (min/max per ${
        Math.round(width / buckets)
      } px), ${n} points drawn`
      : "",
    options.caption ?? "",
  ].filter(Boolean);
  return composeChart([{ svg }], {
    title: options.title,
    subtitle: options.subtitle ??
      `${seriesNames.length} series by ${z}${color ? `, coloured by ${color}` : ""}`,
    legend: options.legend ?? (legend.length > 0 ? legend : undefined),
    caption: notes.length > 0 ? notes.join("; ") : undefined,
  });
}

// ---------------------------------------------------------------------------
// Heatmap
// ---------------------------------------------------------------------------

/** Options for {@linkcode heatmap}. */
export interface HeatmapOptions extends ChartFrameOptions {
  /** Time column. @default "timestamp" */
  x?: string;
  /** Row column. @default "instance" */
  y?: string;
  /** Value column. @default "value" */
  fill?: string;
  /** Row order: by name, or hottest first by mean or max. @default "name" */
  sort?: "name" | "mean" | "max";
  /** Unit of `fill`; "%" fixes the colour domain to 0–100. @default "" */
  unit?: string;
  /** Legend label (unit appended). @default the `fill` column name */
  fillLabel?: string;
  /** Sequential, colour-blind-safe scheme. @default "ylorrd" */
  scheme?: string;
  /** Colour domain. @default [0, 100] for "%", else the finite extent */
  domain?: [number, number];
  /** IANA time zone of the time axis. @default "UTC" */
  timeZone?: string;
  /** Row height in pixels. @default clamp(900 / rows, 2, 24) */
  rowHeight?: number;
  /**
   * "cells": one SVG rect per cell (hover titles); "raster": one embedded
   * PNG image (size independent of the cell count); "auto": cells up to
   * 20,000 cells.
   * @default "auto"
   */
  render?: "auto" | "cells" | "raster";
  /** Width in pixels. @default 960 */
  width?: number;
  /** Extra Plot marks drawn on top. */
  marks?: Plot.Markish[];
}

/**
 * Host × time heatmap. Readable at 500 hosts: rows are at least 2 px, only
 * every k-th host name is labelled so labels never overlap, and large grids
 * are drawn as one embedded raster instead of hundreds of thousands of rects.
 * NaN/±Inf cells are left empty (white).
 *
 * @example CPU heatmap
 * ```ts
 * import pl from "nodejs-polars";
 * import { heatmap } from "./chart.ts";
 *
 * const frame = pl.DataFrame({
 *   instance: ["a", "a", "b", "b"],
 *   timestamp: [0, 300_000, 0, 300_000],
 *   value: [10, 95, 50, 60],
 * }).withColumn(pl.col("timestamp").cast(pl.Datetime("ms")));
 * console.log(heatmap(frame, { unit: "%", title: "CPU 热力图" }).width);
 * ```
 */
export function heatmap(frame: pl.DataFrame, options: HeatmapOptions = {}): Chart {
  const {
    x = "timestamp",
    y = "instance",
    fill = "value",
    sort = "name",
    unit = "",
    fillLabel = fill,
    scheme = "ylorrd",
    timeZone = "UTC",
    render = "auto",
    width = 960,
    marks = [],
  } = options;
  const ts = timeColumn(frame, x);
  const hosts = labelColumn(frame, y);
  const values = valueColumn(frame, fill);

  // Time grid: columns at the smallest positive step between distinct timestamps.
  const times = [...new Set(ts)].sort((a, b) => a - b);
  let step = Infinity;
  for (let i = 1; i < times.length; i++) step = Math.min(step, times[i] - times[i - 1]);
  if (!Number.isFinite(step)) step = 60_000;
  const t0 = times[0] ?? 0;
  const cols = times.length === 0 ? 0 : Math.round((times[times.length - 1] - t0) / step) + 1;

  const rowOf = new Map<string, number>();
  for (const h of hosts) if (!rowOf.has(h)) rowOf.set(h, rowOf.size);
  const names = [...rowOf.keys()];
  const grid = new Float64Array(names.length * cols).fill(NaN);
  for (let i = 0; i < hosts.length; i++) {
    const c = Math.round((ts[i] - t0) / step);
    grid[rowOf.get(hosts[i])! * cols + c] = values[i];
  }
  const stat = (r: number, kind: "mean" | "max") => {
    let sum = 0;
    let count = 0;
    let max = -Infinity;
    for (let c = 0; c < cols; c++) {
      const v = grid[r * cols + c];
      if (Number.isNaN(v)) continue;
      sum += v;
      count++;
      if (v > max) max = v;
    }
    return count === 0 ? -Infinity : kind === "mean" ? sum / count : max;
  };
  const order = names.map((_, r) => r);
  if (sort === "name") order.sort((a, b) => names[a].localeCompare(names[b]));
  else {
    const key = order.map((r) => stat(r, sort));
    order.sort((a, b) => key[b] - key[a] || names[a].localeCompare(names[b]));
  }
  const domainNames = order.map((r) => names[r]);
  const rows = names.length;
  const rowHeight = options.rowHeight ??
    Math.min(24, Math.max(2, Math.floor(900 / Math.max(rows, 1))));
  const plotHeight = rows * rowHeight;
  const labelEvery = Math.max(1, Math.ceil(12 / rowHeight));
  const longest = domainNames.reduce((m, h) => Math.max(m, textWidth(h, 10)), 0);
  const marginLeft = Math.min(240, Math.ceil(longest + 14));
  const colorDomain = options.domain ??
    (unit === "%" ? [0, 100] : finiteExtent(values) ?? [0, 1]) as [number, number];
  const ramp = colorRamp(scheme, colorDomain);
  const x2 = t0 + cols * step;
  const useRaster = render === "raster" || (render === "auto" && rows * cols > 20_000);

  let cellMark: Plot.Markish;
  if (useRaster) {
    const sorted = new Float64Array(rows * cols);
    order.forEach((r, k) => sorted.set(grid.subarray(r * cols, (r + 1) * cols), k * cols));
    cellMark = heatRaster({ rows, cols, values: sorted, x1: t0, x2 }, ramp);
  } else {
    const n = hosts.length;
    const x1s = new Float64Array(n);
    const x2s = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      x1s[i] = t0 + Math.round((ts[i] - t0) / step) * step;
      x2s[i] = x1s[i] + step;
    }
    cellMark = heatCells({ x1: x1s, x2: x2s, y: hosts, value: values }, ramp);
  }
  const svg = renderPlot({
    width,
    height: plotHeight + 8 + 44,
    marginTop: 8,
    marginLeft,
    marginRight: 20,
    marginBottom: 44,
    x: {
      type: "utc",
      domain: [t0, x2],
      label: `Time (${timeZone})`,
      labelAnchor: "right",
      labelArrow: "none",
      tickFormat: timeTickFormat(timeZone, x2 - t0),
    },
    y: {
      type: "band",
      domain: domainNames,
      padding: 0,
      label: null,
      tickSize: labelEvery > 1 ? 0 : 6,
      ticks: domainNames.filter((_, i) => i % labelEvery === 0),
    },
    marks: [cellMark, ...marks],
  });
  const notes = [
    labelEvery > 1 ? `${countOf(rows, y)}; every ${ordinal(labelEvery)} labelled` : "",
    options.caption ?? "",
  ].filter(Boolean);
  return composeChart([{ svg }], {
    title: options.title,
    subtitle: options.subtitle ??
      `${countOf(rows, y)} × ${cols} steps of ${formatThreshold(step / 1000, "s")}` +
        (sort === "name" ? "" : `, hottest (${sort}) first`),
    legend: options.legend ??
      { scheme, domain: colorDomain, label: `${fillLabel}${unitSuffix(unit)}` },
    caption: notes.length > 0 ? notes.join("; ") : undefined,
  });
}
