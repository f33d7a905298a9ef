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

export { ALERT_COLOR, Chart, ChartDataError, NORMAL_COLOR, PALETTE } from "./chart.ts";
export type { ChartInfo } from "./chart.ts";
export {
  alertBars,
  colorRamp,
  heatCells,
  heatRaster,
  highlightDots,
  seriesLines,
  shadedSpans,
  thresholdRule,
  timeTickFormat,
} from "./marks.ts";
export type {
  AlertBarsOptions,
  BarDatum,
  ColorRamp,
  HeatCellColumns,
  HeatGrid,
  SeriesColumns,
  ThresholdRuleOptions,
} from "./marks.ts";
export { plotChart } from "./plot_chart.ts";
export type { ChartFrameOptions, LegendItem, LegendRamp, PlotChartOptions } from "./plot_chart.ts";
export { barChart } from "./bar.ts";
export type { BarChartOptions } from "./bar.ts";
export { timeSeriesChart } from "./time_series.ts";
export type { TimeSeriesChartOptions } from "./time_series.ts";
export { heatmap } from "./heatmap.ts";
export type { HeatmapOptions } from "./heatmap.ts";
export { Table, table } from "./table.ts";
export type { TableOptions } from "./table.ts";
export { chartToPng, chartToSvg, renderPng, saveChart } from "./export.ts";
export type { ChartLike, PngOptions, RenderedPng, SaveChartOptions } from "./export.ts";
