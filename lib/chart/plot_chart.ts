/**
 * Composition: a header (title, subtitle, legend) and Observable Plot panels
 * become one self-contained `<svg>` {@linkcode Chart}; {@linkcode plotChart}
 * renders any Plot options that way.
 *
 * @module
 */
import * as Plot from "@observablehq/plot";
import { CJK, fontAttr, plotDocument, textWidth } from "./_common.ts";
import type { DomElement } from "./_dom.ts";
import { Chart, CJK_FONT_FAMILY, FONT_FAMILY } from "./chart.ts";
import { colorRamp, hex } from "./marks.ts";
import { escapeHtml } from "../_internal/escape.ts";
import { formatValue } from "../_internal/format.ts";

/**
 * A legend entry: a swatch and its label.
 *
 * @example
 * ```ts
 * import * as Plot from "@observablehq/plot";
 * import { ALERT_COLOR, type LegendItem, NORMAL_COLOR, plotChart } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const legend: LegendItem[] = [
 *   { color: NORMAL_COLOR, label: "CPU" },
 *   { color: ALERT_COLOR, label: "over 80 %" },
 * ];
 * assert.ok(plotChart({ marks: [Plot.lineY([1, 2])], legend }).outerHTML.includes("over 80 %"));
 * ```
 */
export interface LegendItem {
  /** Swatch colour. */
  color: string;
  /** Label text. */
  label: string;
}

/**
 * A continuous colour legend: a gradient bar with end labels.
 *
 * @example
 * ```ts
 * import * as Plot from "@observablehq/plot";
 * import { type LegendRamp, plotChart } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const legend: LegendRamp = { scheme: "ylorrd", domain: [0, 100], label: "CPU %" };
 * assert.ok(plotChart({ marks: [Plot.lineY([1, 2])], legend }).outerHTML.includes("CPU %"));
 * ```
 */
export interface LegendRamp {
  /** Colour scheme used by {@linkcode colorRamp}. */
  scheme: string;
  /** Value domain. */
  domain: [number, number];
  /** Label before the bar, e.g. "CPU usage (%)". */
  label: string;
}

/**
 * Header and layout options shared by every chart function.
 *
 * @example
 * ```ts
 * import * as Plot from "@observablehq/plot";
 * import { type ChartFrameOptions, plotChart } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const frame: ChartFrameOptions = { title: "CPU usage", subtitle: "last hour", caption: "source: prom" };
 * const chart = plotChart({ ...frame, marks: [Plot.lineY([1, 2])] });
 * assert.equal(chart.title, "CPU usage");
 * ```
 */
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

export interface Panel {
  svg: DomElement;
  label?: string;
}

const HEADER_PAD = 12;

export function composeChart(panels: Panel[], frame: ChartFrameOptions): Chart {
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

/**
 * Options for {@linkcode plotChart}: Plot options plus the opsbook header.
 *
 * @example
 * ```ts
 * import * as Plot from "@observablehq/plot";
 * import { plotChart, type PlotChartOptions } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const options: PlotChartOptions = {
 *   title: "Load",
 *   width: 400,
 *   y: { domain: [0, 4] },
 *   marks: [Plot.lineY([1, 3, 2])],
 * };
 * assert.equal(plotChart(options).width, 400);
 * ```
 */
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
 * import { plotChart, thresholdRule } from "opsbook";
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

export function renderPlot(options: Plot.PlotOptions): DomElement {
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
