/**
 * The chart stage: Observable Plot charts of query frames (bar, time series,
 * heatmap, and the marks they are made of), HTML tables the Jupyter kernel
 * displays inline, and SVG/PNG export.
 *
 * @example A bar chart as standalone SVG
 * ```ts
 * import pl from "nodejs-polars";
 * import { barChart, chartToSvg } from "opsbook/chart";
 * import assert from "node:assert/strict";
 *
 * const chart = barChart(pl.DataFrame({ instance: ["a:9100"], value: [42] }), { unit: "%" });
 * assert.ok(chartToSvg(chart).startsWith("<svg"));
 * ```
 *
 * @module
 */

export * from "./chart.ts";
export * from "./export.ts";
export * from "./table.ts";
