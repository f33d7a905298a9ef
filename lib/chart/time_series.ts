/**
 * The time series chart of a range frame (M4-downsampled lines, threshold,
 * highlighted samples and spans).
 *
 * @module
 */
import type * as Plot from "@observablehq/plot";
import type pl from "nodejs-polars";
import {
  finiteExtent,
  labelColumn,
  timeColumn,
  unitSuffix,
  valueColumn,
  valueDomain,
} from "./_common.ts";
import { ALERT_COLOR, type Chart, NORMAL_COLOR, PALETTE } from "./chart.ts";
import {
  highlightDots,
  type SeriesColumns,
  seriesLines,
  shadedSpans,
  thresholdRule,
  timeTickFormat,
} from "./marks.ts";
import { type ChartFrameOptions, composeChart, type LegendItem, renderPlot } from "./plot_chart.ts";

/**
 * Options for {@linkcode timeSeriesChart}.
 *
 * @example
 * ```ts
 * import pl from "nodejs-polars";
 * import { timeSeriesChart, type TimeSeriesChartOptions } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const t0 = Date.UTC(2026, 10, 1);
 * const frame = pl.DataFrame({
 *   instance: ["a", "a", "a", "b", "b", "b"],
 *   timestamp: pl.Series([0, 1, 2, 0, 1, 2].map((i) => t0 + i * 60_000)).cast(pl.Datetime("ms")),
 *   value: [40, 85, 90, 30, 35, 32],
 * });
 * const options: TimeSeriesChartOptions = { threshold: 80, unit: "%", timeZone: "UTC", width: 640 };
 * assert.equal(timeSeriesChart(frame, options).width, 640);
 * ```
 */
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
 * import { m4Indices } from "./time_series.ts";
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
 * import { timeSeriesChart } from "opsbook";
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
