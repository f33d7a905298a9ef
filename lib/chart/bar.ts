/**
 * The per-host bar chart of an instant frame.
 *
 * @module
 */
import * as Plot from "@observablehq/plot";
import pl from "nodejs-polars";
import {
  countOf,
  labelColumn,
  ordinal,
  textWidth,
  unitSuffix,
  valueColumn,
  valueDomain,
} from "./_common.ts";
import { ALERT_COLOR, type Chart, NORMAL_COLOR, PALETTE } from "./chart.ts";
import { alertBars, type BarDatum, thresholdRule } from "./marks.ts";
import {
  type ChartFrameOptions,
  composeChart,
  type LegendItem,
  type Panel,
  renderPlot,
} from "./plot_chart.ts";
import { formatThreshold } from "../_internal/format.ts";

/**
 * Options for {@linkcode barChart}.
 *
 * @example
 * ```ts
 * import pl from "nodejs-polars";
 * import { barChart, type BarChartOptions } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const frame = pl.DataFrame({ instance: ["db-01:9100", "web-01:9100"], value: [95, 40] });
 * const options: BarChartOptions = { threshold: 80, unit: "%", sort: "descending", width: 480 };
 * assert.equal(barChart(frame, options).width, 480);
 * ```
 */
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
 * import { barChart } from "opsbook";
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
 * import { barChart } from "opsbook";
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
