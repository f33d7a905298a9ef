/**
 * The host × time heatmap of a range frame (SVG cells, or a PNG raster for
 * large frames).
 *
 * @module
 */
import type * as Plot from "@observablehq/plot";
import type pl from "nodejs-polars";
import {
  countOf,
  finiteExtent,
  labelColumn,
  ordinal,
  textWidth,
  timeColumn,
  unitSuffix,
  valueColumn,
} from "./_common.ts";
import type { Chart } from "./chart.ts";
import { colorRamp, heatCells, heatRaster, timeTickFormat } from "./marks.ts";
import { type ChartFrameOptions, composeChart, renderPlot } from "./plot_chart.ts";
import { formatThreshold } from "../_internal/format.ts";

/**
 * Options for {@linkcode heatmap}.
 *
 * @example
 * ```ts
 * import pl from "nodejs-polars";
 * import { heatmap, type HeatmapOptions } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const t0 = Date.UTC(2026, 10, 1);
 * const frame = pl.DataFrame({
 *   instance: ["a", "a", "a", "b", "b", "b"],
 *   timestamp: pl.Series([0, 1, 2, 0, 1, 2].map((i) => t0 + i * 60_000)).cast(pl.Datetime("ms")),
 *   value: [40, 85, 90, 30, 35, 32],
 * });
 * const options: HeatmapOptions = { unit: "%", domain: [0, 100], sort: "max", width: 600 };
 * assert.equal(heatmap(frame, options).width, 600);
 * ```
 */
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
 * import { heatmap } from "opsbook";
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
