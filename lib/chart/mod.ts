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

export {
  ALERT_COLOR,
  alertBars,
  barChart,
  Chart,
  ChartDataError,
  colorRamp,
  heatCells,
  heatmap,
  heatRaster,
  highlightDots,
  NORMAL_COLOR,
  PALETTE,
  plotChart,
  seriesLines,
  thresholdRule,
  timeSeriesChart,
  timeTickFormat,
} from "./chart.ts";
export type {
  AlertBarsOptions,
  BarChartOptions,
  BarDatum,
  ChartFrameOptions,
  ChartInfo,
  ColorRamp,
  HeatCellColumns,
  HeatGrid,
  HeatmapOptions,
  LegendItem,
  LegendRamp,
  PlotChartOptions,
  SeriesColumns,
  ThresholdRuleOptions,
  TimeSeriesChartOptions,
} from "./chart.ts";
export { chartToPng, chartToSvg, renderPng, saveChart } from "./export.ts";
export type { ChartLike, PngOptions, RenderedPng, SaveChartOptions } from "./export.ts";
export { Table, table } from "./table.ts";
export type { TableOptions } from "./table.ts";
