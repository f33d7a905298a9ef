/**
 * Chart rendering benchmark: a heatmap of 500 hosts × 288 steps and a time
 * series of 100 hosts × 1,440 points, rendered to SVG and to PNG.
 *
 * Reference, measured in the same run: the same data drawn by a bare
 * `Plot.plot` (one rect per cell, every point of every line, no opsbook
 * options) through the same linkedom document, so ratios compare like with
 * like on this machine. Writes the PNGs to `out/charts/` for a visual check.
 *
 * Run: `deno run -A bench/chart_bench.ts`
 *
 * @module
 */
import * as Plot from "@observablehq/plot";
import pl from "nodejs-polars";
import type { Chart } from "../lib/chart/chart.ts";
import { heatmap } from "../lib/chart/heatmap.ts";
import { timeSeriesChart } from "../lib/chart/time_series.ts";
import { chartToPng } from "../lib/chart/export.ts";
import { createDocument } from "../lib/chart/_dom.ts";

const RUNS = 3;
const T0 = Date.UTC(2026, 10, 1);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function time<T>(fn: () => T): { ms: number; value: T } {
  let value!: T;
  const runs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    value = fn();
    runs.push(performance.now() - t);
  }
  return { ms: median(runs), value };
}

function frame(hosts: number, steps: number, stepMs: number): pl.DataFrame {
  const n = hosts * steps;
  const instance = new Array<string>(n);
  const cloud = new Array<string>(n);
  const timestamp = new Float64Array(n);
  const value = new Float64Array(n);
  const clouds = ["aliyun", "tencent", "azure"];
  for (let h = 0, k = 0; h < hosts; h++) {
    for (let i = 0; i < steps; i++, k++) {
      instance[k] = `${clouds[h % 3]}-host-${String(h).padStart(3, "0")}:9100`;
      cloud[k] = clouds[h % 3];
      timestamp[k] = T0 + i * stepMs;
      const wave = 35 + 25 * Math.sin((i / steps) * 2 * Math.PI + h / 7);
      const noise = ((h * 7919 + i * 104729) % 1000) / 100;
      value[k] = h % 41 === 0 && i > steps / 3 && i < steps / 2 ? 97 : wave + noise;
    }
  }
  return pl.DataFrame({
    cloud,
    instance,
    timestamp: Array.from(timestamp),
    value: Array.from(value),
  })
    .withColumn(pl.col("timestamp").cast(pl.Datetime("ms")));
}

function bareHeatmap(df: pl.DataFrame, stepMs: number): string {
  const document = createDocument();
  const x = df.getColumn("timestamp").cast(pl.Float64).toArray() as number[];
  const svg = Plot.plot({
    document: document as never,
    width: 960,
    height: 1000,
    marginLeft: 140,
    x: { type: "utc" },
    color: { scheme: "ylorrd", domain: [0, 100] },
    marks: [
      Plot.barX({ length: x.length }, {
        x1: x,
        x2: x.map((t) => t + stepMs),
        y: df.getColumn("instance").toArray(),
        fill: df.getColumn("value").toArray(),
      } as never),
    ],
  }) as unknown as { outerHTML: string };
  return svg.outerHTML;
}

function bareLines(df: pl.DataFrame): string {
  const document = createDocument();
  const svg = Plot.plot({
    document: document as never,
    width: 960,
    height: 400,
    x: { type: "utc" },
    marks: [
      Plot.line({ length: df.height }, {
        x: df.getColumn("timestamp").cast(pl.Float64).toArray(),
        y: df.getColumn("value").toArray(),
        z: df.getColumn("instance").toArray(),
      } as never),
    ],
  }) as unknown as { outerHTML: string };
  return svg.outerHTML;
}

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(2)} MB`;
}

function report(
  name: string,
  render: () => Chart,
  reference: () => string,
  png: string,
): void {
  const ref = time(reference);
  const svg = time(render);
  const chart = svg.value;
  const bytes = new TextEncoder().encode(chart.outerHTML).length;
  const refBytes = new TextEncoder().encode(ref.value).length;
  const pngRun = time(() => chartToPng(chart));
  const refPng = time(() =>
    chartToPng(ref.value.replace(/<style>[\s\S]*?<\/style>/g, ""), { scale: 1 })
  );
  Deno.writeFileSync(png, pngRun.value);
  console.log(`\n${name}`);
  console.log(
    `  SVG   opsbook ${svg.ms.toFixed(0).padStart(6)} ms  ${mb(bytes).padStart(9)}   ` +
      `bare Plot ${ref.ms.toFixed(0).padStart(6)} ms  ${mb(refBytes).padStart(9)}   ` +
      `time ×${(svg.ms / ref.ms).toFixed(2)}  size ×${(bytes / refBytes).toFixed(3)}`,
  );
  console.log(
    `  PNG   opsbook ${pngRun.ms.toFixed(0).padStart(6)} ms  ${
      mb(pngRun.value.length).padStart(9)
    }   ` +
      `bare Plot ${refPng.ms.toFixed(0).padStart(6)} ms               ` +
      `time ×${(pngRun.ms / refPng.ms).toFixed(2)}`,
  );
  console.log(
    `  ${chart.width}×${chart.height} px; target < 2000 ms to SVG: ${
      svg.ms < 2000 ? "met" : "MISSED"
    }; SVG < 5 MB: ${bytes < 5e6 ? "yes" : "NO"}; PNG written to ${png}`,
  );
}

await Deno.mkdir("out/charts", { recursive: true });
console.log(`chart bench: median of ${RUNS} runs each (reference: bare Plot.plot, same data)`);

const heat = frame(500, 288, 300_000);
report(
  "heatmap 500 hosts × 288 steps (144,000 cells; raster mode)",
  () => heatmap(heat, { unit: "%", sort: "max", title: "CPU 热力图 · 500 hosts" }),
  () => bareHeatmap(heat, 300_000),
  "out/charts/bench_heatmap.png",
);

const lines = frame(100, 1440, 60_000);
report(
  "time series 100 hosts × 1,440 points (144,000 samples; M4 downsampling to the pixel width)",
  () =>
    timeSeriesChart(lines, {
      unit: "%",
      threshold: 90,
      color: "cloud",
      title: "CPU 时间序列 · 100 hosts",
    }),
  () => bareLines(lines),
  "out/charts/bench_timeseries.png",
);
