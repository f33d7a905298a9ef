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
import { JUPYTER_DISPLAY } from "./_dom.ts";
import { xmlSafe } from "../_internal/escape.ts";
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

/**
 * Colour of over-threshold bars, threshold rules and highlighted points (Okabe–Ito vermillion).
 *
 * @example Mark a custom layer in the alert colour
 * ```ts
 * import * as Plot from "@observablehq/plot";
 * import { ALERT_COLOR, plotChart } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const chart = plotChart({
 *   marks: [Plot.ruleY([80], { stroke: ALERT_COLOR })],
 *   y: { domain: [0, 100] },
 * });
 * assert.ok(chart.outerHTML.includes(`stroke="${ALERT_COLOR}"`));
 * ```
 */
export const ALERT_COLOR = "#D55E00";

/**
 * Colour of ordinary bars and lines (Okabe–Ito blue).
 *
 * @example
 * ```ts
 * import { NORMAL_COLOR } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * assert.equal(NORMAL_COLOR, "#0072B2"); // Okabe–Ito blue, e.g. for a notebook's own marks
 * ```
 */
export const NORMAL_COLOR = "#0072B2";

/**
 * Colour-blind-safe categorical palette (Okabe–Ito, without the vermillion
 * reserved for {@linkcode ALERT_COLOR}).
 *
 * @example Colour series consistently
 * ```ts
 * import { ALERT_COLOR, PALETTE } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const hosts = ["db-01", "web-01", "web-02"];
 * const colour = new Map(hosts.map((h, i) => [h, PALETTE[i % PALETTE.length]]));
 * assert.equal(colour.get("db-01"), "#0072B2");
 * assert.ok(!PALETTE.includes(ALERT_COLOR)); // vermillion stays reserved for alerts
 * ```
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

/**
 * Thrown when a frame cannot be charted: a missing column, or no finite value at all.
 *
 * @example A frame without the value column
 * ```ts
 * import pl from "nodejs-polars";
 * import { barChart, ChartDataError } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const frame = pl.DataFrame({ instance: ["db-01:9100"], cpu: [95] });
 * assert.throws(() => barChart(frame), (e) => {
 *   assert.ok(e instanceof ChartDataError);
 *   assert.deepEqual(e.columns, ["instance", "cpu"]);
 *   return true;
 * });
 * ```
 */
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

/**
 * Size and description of a rendered chart.
 *
 * @example
 * ```ts
 * import { Chart, type ChartInfo } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const info: ChartInfo = { width: 10, height: 10, title: "Empty" };
 * const chart = new Chart('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>', info);
 * assert.deepEqual([chart.width, chart.title], [10, "Empty"]);
 * ```
 */
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
 * import { barChart } from "opsbook";
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
