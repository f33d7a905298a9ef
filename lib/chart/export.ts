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
import { xmlSafe } from "../_internal/escape.ts";

/**
 * Anything that serialises to an `<svg>` element: a `Chart`, a Plot `<svg>` node or markup.
 *
 * @example
 * ```ts
 * import pl from "nodejs-polars";
 * import { barChart, type ChartLike, chartToSvg } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const charts: ChartLike[] = [
 *   barChart(pl.DataFrame({ instance: ["a"], value: [1] })),
 *   '<svg width="10" height="10"></svg>', // markup from elsewhere
 * ];
 * assert.ok(charts.map(chartToSvg).every((svg) => svg.startsWith("<svg")));
 * ```
 */
export type ChartLike = { outerHTML: string } | string;

/**
 * The chart as a standalone SVG document string (the `xmlns` attribute is
 * added when missing, e.g. for a bare Plot `<svg>`). Characters XML forbids
 * (C0 controls such as `\u0007` in a label) become their visible Control
 * Pictures (`␇`), as in every {@linkcode Chart}.
 *
 * @example Serialise a chart
 * ```ts
 * import pl from "nodejs-polars";
 * import { barChart, chartToSvg } from "opsbook";
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
  const svg = xmlSafe(markup);
  if (/^<svg[^>]*\sxmlns="/.test(svg)) return svg;
  return `<svg xmlns="http://www.w3.org/2000/svg"${svg.slice(4)}`;
}

/**
 * Options for {@linkcode chartToPng} and {@linkcode saveChart}.
 *
 * @example
 * ```ts
 * import pl from "nodejs-polars";
 * import { barChart, type PngOptions, renderPng } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const chart = barChart(pl.DataFrame({ instance: ["a"], value: [1] }));
 * const options: PngOptions = { scale: 2, background: "#ffffff" };
 * const png = renderPng(chart, options);
 * assert.equal(png.width, 2 * renderPng(chart).width);
 * ```
 */
export interface PngOptions {
  /** Pixel density: 2 gives a 2× wide PNG for sharp Slack previews. @default 1 */
  scale?: number;
  /** Background painted under the chart. @default "white" */
  background?: string;
}

/**
 * Render a chart to PNG bytes with resvg (system fonts: DejaVu and Noto CJK).
 * Markup that is not well-formed XML is a `SyntaxError` quoting the markup
 * around the position resvg names.
 *
 * @example PNG for a Slack attachment
 * ```ts
 * import pl from "nodejs-polars";
 * import { barChart, chartToPng } from "opsbook";
 *
 * const png = chartToPng(barChart(pl.DataFrame({ instance: ["主机"], value: [1] })), { scale: 2 });
 * console.log(png.length > 0);
 * ```
 */
export function chartToPng(chart: ChartLike, options: PngOptions = {}): Uint8Array {
  return renderPng(chart, options).png;
}

/**
 * Rendered PNG with its raw RGBA pixels (used by tests to check content).
 *
 * @example
 * ```ts
 * import pl from "nodejs-polars";
 * import { barChart, type RenderedPng, renderPng } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const rendered: RenderedPng = renderPng(barChart(pl.DataFrame({ instance: ["a"], value: [1] })));
 * assert.equal(rendered.pixels.length, rendered.width * rendered.height * 4); // RGBA
 * ```
 */
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
 * import { barChart, renderPng } from "opsbook";
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
  const svg = chartToSvg(chart);
  let resvg: Resvg;
  try {
    resvg = newResvg(svg, scale, background);
  } catch (error) {
    throw new SyntaxError(`Cannot render PNG: ${describeSvgError(svg, error)}`, { cause: error });
  }
  const image = resvg.render();
  return {
    png: new Uint8Array(image.asPng()),
    width: image.width,
    height: image.height,
    pixels: new Uint8Array(image.pixels),
  };
}

function newResvg(svg: string, scale: number, background: string): Resvg {
  return new Resvg(svg, {
    background,
    fitTo: scale === 1 ? { mode: "original" } : { mode: "zoom", value: scale },
    font: {
      loadSystemFonts: true,
      defaultFontFamily: "DejaVu Sans",
      sansSerifFamily: FONT_FAMILY.split(",")[0].trim(),
    },
    imageRendering: 1, // optimizeSpeed: nearest-neighbour for embedded heatmap rasters
  });
}

/** resvg's parse error with the markup around the position it names (`at LINE:COL`). */
function describeSvgError(svg: string, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const at = [...message.matchAll(/at (\d+):(\d+)/g)].at(-1);
  if (!at) return message;
  const line = [...(svg.split("\n")[Number(at[1]) - 1] ?? "")];
  const col = Number(at[2]) - 1;
  const near = line.slice(Math.max(0, col - 40), col + 40).join("");
  return `${message}; the SVG near there: ${JSON.stringify(near)}`;
}

/**
 * Options for {@linkcode saveChart}.
 *
 * @example
 * ```ts
 * import pl from "nodejs-polars";
 * import { barChart, saveChart, type SaveChartOptions } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const options: SaveChartOptions = { scale: 2 };
 * await saveChart(barChart(pl.DataFrame({ instance: ["a"], value: [1] })), `${dir}/a.png`, options);
 * assert.ok((await Deno.stat(`${dir}/a.png`)).size > 0);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export type SaveChartOptions = PngOptions;

/**
 * Write a chart to `path` as `.svg` or `.png` (chosen by extension),
 * atomically: a temporary file in the same directory is renamed over `path`;
 * a missing folder is created. Any other extension is a `TypeError`.
 *
 * @example Save for a report
 * ```ts
 * import pl from "nodejs-polars";
 * import { barChart, saveChart } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const frame = pl.DataFrame({ instance: ["db-01:9100", "web-01:9100"], value: [95, 40] });
 * const dir = await Deno.makeTempDir();
 * await saveChart(barChart(frame, { threshold: 80, unit: "%" }), `${dir}/charts/cpu.png`, {
 *   scale: 2,
 * });
 * const png = await Deno.readFile(`${dir}/charts/cpu.png`);
 * assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]); // "PNG"
 * await Deno.remove(dir, { recursive: true });
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
