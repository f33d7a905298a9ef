/**
 * The marks opsbook's charts are made of, exported so a notebook can compose
 * its own chart with {@linkcode plotChart}: threshold rule, alert bars,
 * series lines, highlight dots, shaded spans, heat cells and rasters, colour
 * ramps and time tick formats.
 *
 * @module
 */
import * as Plot from "@observablehq/plot";
import { encodeBase64, encodeRgbaPng } from "./_png.ts";
import { ALERT_COLOR } from "./chart.ts";
import { formatThreshold, formatValue } from "../_internal/format.ts";

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
 * import { timeTickFormat } from "opsbook";
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

/**
 * Options for {@linkcode thresholdRule}.
 *
 * @example
 * ```ts
 * import * as Plot from "@observablehq/plot";
 * import { plotChart, thresholdRule, type ThresholdRuleOptions } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const options: ThresholdRuleOptions = { unit: "%", label: "limit 80 %" };
 * const chart = plotChart({ marks: [Plot.lineY([60, 90, 70]), thresholdRule(80, options)] });
 * assert.ok(chart.outerHTML.includes("limit 80 %"));
 * ```
 */
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
 * import { thresholdRule } from "opsbook";
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

/**
 * One bar of {@linkcode alertBars}.
 *
 * @example
 * ```ts
 * import { alertBars, type BarDatum, plotChart } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const bars: BarDatum[] = [
 *   { x: "db-01", y: 95, fill: "#0072B2" },
 *   { x: "web-01", y: 40, fill: "#0072B2" },
 * ];
 * assert.ok(plotChart({ marks: [alertBars(bars, { threshold: 80 })] }).outerHTML.startsWith("<svg"));
 * ```
 */
export interface BarDatum {
  /** Category (host) on the x axis. */
  x: string;
  /** Bar height. */
  y: number;
  /** Fill colour when not over the threshold. */
  fill: string;
}

/**
 * Options for {@linkcode alertBars}.
 *
 * @example
 * ```ts
 * import { ALERT_COLOR, alertBars, type AlertBarsOptions, plotChart } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const options: AlertBarsOptions = { threshold: 80, alertColor: ALERT_COLOR };
 * const chart = plotChart({ marks: [alertBars([{ x: "db-01", y: 95, fill: "#0072B2" }], options)] });
 * assert.ok(chart.outerHTML.includes(ALERT_COLOR)); // 95 is over 80
 * ```
 */
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
 * import { alertBars } from "opsbook";
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

/**
 * Columns for {@linkcode seriesLines}: parallel arrays, one entry per point.
 *
 * @example
 * ```ts
 * import { plotChart, type SeriesColumns, seriesLines } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const columns: SeriesColumns = {
 *   x: [0, 60_000, 0, 60_000],
 *   y: [40, 85, 30, 35],
 *   z: ["a", "a", "b", "b"],
 *   stroke: ["#0072B2", "#0072B2", "#E69F00", "#E69F00"],
 * };
 * assert.ok(plotChart({ marks: [seriesLines(columns)] }).outerHTML.includes("#E69F00"));
 * ```
 */
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
 * import { seriesLines } from "opsbook";
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
 * import { highlightDots } from "opsbook";
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
 * import { shadedSpans } from "opsbook";
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

/**
 * A colour lookup: value → `[r, g, b]`.
 *
 * @example
 * ```ts
 * import { type ColorRamp, colorRamp } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const ramp: ColorRamp = colorRamp("ylorrd", [0, 100]);
 * const [r, g, b] = ramp(100);
 * assert.ok(r > g && r > b); // the hot end is red
 * ```
 */
export type ColorRamp = (value: number) => [number, number, number];

/**
 * A sequential colour ramp from a Plot/d3 scheme (e.g. "ylorrd", "viridis")
 * over `domain`, as a 256-entry lookup table.
 *
 * @example Colour for 50 % on YlOrRd
 * ```ts
 * import { colorRamp } from "opsbook";
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

export function hex([r, g, b]: [number, number, number]): string {
  return `#${((1 << 24) | (r << 16) | (g << 8) | b).toString(16).slice(1)}`;
}

/**
 * Cells of {@linkcode heatCells}: one entry per (row, column) cell.
 *
 * @example
 * ```ts
 * import { colorRamp, heatCells, type HeatCellColumns, plotChart } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const cells: HeatCellColumns = {
 *   x1: [0, 60_000],
 *   x2: [60_000, 120_000],
 *   y: ["a", "a"],
 *   value: [10, 90],
 * };
 * const chart = plotChart({ marks: [heatCells(cells, colorRamp("ylorrd", [0, 100]))] });
 * assert.ok(chart.outerHTML.startsWith("<svg"));
 * ```
 */
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
 * import { colorRamp, heatCells } from "opsbook";
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

/**
 * A dense grid for {@linkcode heatRaster}: `rows × cols` values, row-major, NaN = no data.
 *
 * @example
 * ```ts
 * import { colorRamp, type HeatGrid, heatRaster, plotChart } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * // 2 hosts × 2 minutes, row by row; NaN is a gap
 * const grid: HeatGrid = { rows: 2, cols: 2, values: new Float64Array([10, 90, 50, NaN]), x1: 0, x2: 120_000 };
 * const render = heatRaster(grid, colorRamp("ylorrd", [0, 100])); // a Plot render function
 * assert.equal(typeof render, "function"); // use it as a mark with x (time) and y (band) scales
 * ```
 */
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
 * import { colorRamp, heatRaster } from "opsbook";
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
