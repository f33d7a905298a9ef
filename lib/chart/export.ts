/**
 * Export charts to standalone SVG text or PNG bytes (via resvg with the
 * system fonts, so Chinese renders with Noto Sans CJK), and save them to disk
 * atomically.
 *
 * @module
 */
import { Resvg } from "@resvg/resvg-js";
import { FONT_FAMILY } from "./chart.ts";
import { writeFileAtomic } from "../_internal/fs.ts";

/** Anything that serialises to an `<svg>` element: a `Chart`, a Plot `<svg>` node or markup. */
export type ChartLike = { outerHTML: string } | string;

/**
 * The chart as a standalone SVG document string (the `xmlns` attribute is
 * added when missing, e.g. for a bare Plot `<svg>`).
 *
 * @example Serialise a chart
 * ```ts
 * import pl from "nodejs-polars";
 * import { barChart } from "./chart.ts";
 * import { chartToSvg } from "./export.ts";
 *
 * const svg = chartToSvg(barChart(pl.DataFrame({ instance: ["a"], value: [1] })));
 * console.log(svg.includes('xmlns="http://www.w3.org/2000/svg"'));
 * ```
 */
export function chartToSvg(chart: ChartLike): string {
  const markup = typeof chart === "string" ? chart : chart.outerHTML;
  if (typeof markup !== "string" || !markup.startsWith("<svg")) {
    throw new TypeError(
      "Cannot export chart: expected an <svg> element (a Plot <figure> is not standalone; use plotChart)",
    );
  }
  if (/^<svg[^>]*\sxmlns="/.test(markup)) return markup;
  return `<svg xmlns="http://www.w3.org/2000/svg"${markup.slice(4)}`;
}

/** Options for {@linkcode chartToPng} and {@linkcode saveChart}. */
export interface PngOptions {
  /** Pixel density: 2 gives a 2× wide PNG for sharp Slack previews. @default 1 */
  scale?: number;
  /** Background painted under the chart. @default "white" */
  background?: string;
}

/**
 * Render a chart to PNG bytes with resvg (system fonts: DejaVu and Noto CJK).
 *
 * @example PNG for a Slack attachment
 * ```ts
 * import pl from "nodejs-polars";
 * import { barChart } from "./chart.ts";
 * import { chartToPng } from "./export.ts";
 *
 * const png = chartToPng(barChart(pl.DataFrame({ instance: ["主机"], value: [1] })), { scale: 2 });
 * console.log(png.length > 0);
 * ```
 */
export function chartToPng(chart: ChartLike, options: PngOptions = {}): Uint8Array {
  return renderPng(chart, options).png;
}

/** Rendered PNG with its raw RGBA pixels (used by tests to check content). */
export interface RenderedPng {
  /** Encoded PNG file. */
  png: Uint8Array;
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** Raw RGBA pixels, row-major. */
  pixels: Uint8Array;
}

/**
 * Render a chart with resvg and return both the PNG file and its raw pixels.
 *
 * @example Inspect pixels
 * ```ts
 * import pl from "nodejs-polars";
 * import { barChart } from "./chart.ts";
 * import { renderPng } from "./export.ts";
 *
 * const { width, pixels } = renderPng(barChart(pl.DataFrame({ instance: ["a"], value: [1] })));
 * console.log(pixels.length === width * 4 * (pixels.length / width / 4));
 * ```
 */
export function renderPng(chart: ChartLike, options: PngOptions = {}): RenderedPng {
  const { scale = 1, background = "white" } = options;
  if (!(scale > 0 && scale <= 8)) {
    throw new RangeError(`Cannot render PNG: scale must be in (0, 8], got ${scale}`);
  }
  const resvg = new Resvg(chartToSvg(chart), {
    background,
    fitTo: scale === 1 ? { mode: "original" } : { mode: "zoom", value: scale },
    font: {
      loadSystemFonts: true,
      defaultFontFamily: "DejaVu Sans",
      sansSerifFamily: FONT_FAMILY.split(",")[0].trim(),
    },
    imageRendering: 1, // optimizeSpeed: nearest-neighbour for embedded heatmap rasters
  });
  const image = resvg.render();
  return {
    png: new Uint8Array(image.asPng()),
    width: image.width,
    height: image.height,
    pixels: new Uint8Array(image.pixels),
  };
}

/** Options for {@linkcode saveChart}. */
export type SaveChartOptions = PngOptions;

/**
 * Write a chart to `path` as `.svg` or `.png` (chosen by extension),
 * atomically: a temporary file in the same directory is renamed over `path`.
 * Any other extension is a `TypeError`.
 *
 * @example Save for a report
 * ```ts ignore
 * import { barChart, saveChart } from "opsbook";
 *
 * await saveChart(barChart(frame, { threshold: 80, unit: "%" }), "out/charts/cpu.png", { scale: 2 });
 * ```
 */
export async function saveChart(
  chart: ChartLike,
  path: string,
  options: SaveChartOptions = {},
): Promise<void> {
  const ext = /\.([^./\\]+)$/.exec(path)?.[1]?.toLowerCase();
  let bytes: Uint8Array;
  if (ext === "svg") bytes = new TextEncoder().encode(chartToSvg(chart));
  else if (ext === "png") bytes = chartToPng(chart, options);
  else {
    throw new TypeError(
      `Cannot save chart: unsupported extension ${
        ext ? `".${ext}"` : "(none)"
      }, expected .svg or .png`,
    );
  }
  await writeFileAtomic(path, bytes); // creates a missing folder, as the notebooks expect
}
