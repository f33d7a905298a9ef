import assert from "node:assert/strict";
import * as Plot from "@observablehq/plot";
import pl from "nodejs-polars";
import { barChart } from "../../lib/chart/bar.ts";
import { heatmap } from "../../lib/chart/heatmap.ts";
import { plotChart } from "../../lib/chart/plot_chart.ts";
import { timeSeriesChart } from "../../lib/chart/time_series.ts";
import { chartToPng, chartToSvg, renderPng, saveChart } from "../../lib/chart/export.ts";

const frame = pl.DataFrame({
  instance: ["ali-hz-db-01:9100", "tx-gz-数据库-02:9100", "az-eu-web-01:9100"],
  value: [91, 40, 65],
});

function pngSize(png: Uint8Array): [number, number] {
  assert.deepEqual([...png.subarray(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10]);
  assert.equal(new TextDecoder().decode(png.subarray(12, 16)), "IHDR");
  const view = new DataView(png.buffer, png.byteOffset);
  return [view.getUint32(16), view.getUint32(20)];
}

/** Pixels in the box that differ from white. */
function inked(
  img: { width: number; pixels: Uint8Array },
  box: [number, number, number, number],
): number {
  const [x0, y0, x1, y1] = box;
  let n = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const o = (y * img.width + x) * 4;
      if (img.pixels[o] < 200 || img.pixels[o + 1] < 200 || img.pixels[o + 2] < 200) n++;
    }
  }
  return n;
}

Deno.test("chartToSvg returns standalone SVG and adds xmlns to bare Plot markup", () => {
  const chart = barChart(frame, { threshold: 80, unit: "%" });
  assert.equal(chartToSvg(chart), chart.outerHTML);
  assert.equal(
    chartToSvg('<svg width="1" height="1"></svg>'),
    '<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"></svg>',
  );
  assert.throws(() => chartToSvg({ outerHTML: "<figure><svg></svg></figure>" }), TypeError);
});

Deno.test("chartToPng renders at the chart's exact size, scaled on request", () => {
  const chart = barChart(frame, { threshold: 80, unit: "%", title: "CPU 使用率" });
  assert.deepEqual(pngSize(chartToPng(chart)), [chart.width, chart.height]);
  assert.deepEqual(pngSize(chartToPng(chart, { scale: 2 })), [chart.width * 2, chart.height * 2]);
  assert.throws(() => chartToPng(chart, { scale: 0 }), RangeError);
});

Deno.test("PNG is not blank and CJK titles render as distinct glyphs", () => {
  const render = (title: string) =>
    renderPng(plotChart({ title, width: 400, height: 200, marks: [] }));
  const a = render("中文标题测试");
  const b = render("监控告警主机");
  const titleBox: [number, number, number, number] = [12, 12, 120, 34];
  assert.ok(inked(a, titleBox) > 100, "title pixels are drawn");
  // Missing glyphs would draw identical "tofu" boxes for both titles.
  let differing = 0;
  for (let i = 0; i < a.pixels.length; i++) if (a.pixels[i] !== b.pixels[i]) differing++;
  assert.ok(differing > 200, `titles differ in ${differing} bytes`);

  const bars = renderPng(barChart(frame, { threshold: 80, unit: "%" }));
  let alert = 0;
  for (let i = 0; i < bars.pixels.length; i += 4) {
    // ALERT_COLOR #D55E00 = rgb(213, 94, 0)
    if (bars.pixels[i] === 213 && bars.pixels[i + 1] === 94 && bars.pixels[i + 2] === 0) alert++;
  }
  assert.ok(alert > 1000, `alert-coloured pixels: ${alert}`);
});

Deno.test("saveChart writes .svg and .png atomically and rejects other extensions", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const chart = barChart(frame, { threshold: 80, unit: "%" });
    await saveChart(chart, `${dir}/cpu.svg`);
    await saveChart(chart, `${dir}/cpu.png`, { scale: 2 });
    assert.equal(await Deno.readTextFile(`${dir}/cpu.svg`), chart.outerHTML);
    assert.deepEqual(pngSize(await Deno.readFile(`${dir}/cpu.png`)), [
      chart.width * 2,
      chart.height * 2,
    ]);
    await assert.rejects(() => saveChart(chart, `${dir}/cpu.jpg`), {
      name: "TypeError",
      message: 'Cannot save chart: unsupported extension ".jpg", expected .svg or .png',
    });
    // A missing folder is created (fcc131e: the notebooks save into out/charts on a first run).
    await saveChart(chart, `${dir}/missing/deeper/cpu.svg`);
    assert.equal(await Deno.readTextFile(`${dir}/missing/deeper/cpu.svg`), chartToSvg(chart));
    const names = [];
    for await (const entry of Deno.readDir(dir)) names.push(entry.name);
    assert.deepEqual(names.sort(), ["cpu.png", "cpu.svg", "missing"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("control characters in labels: every chart stays well-formed XML and exports to PNG (issue 14.8)", () => {
  // Every code point XML 1.0 forbids: C0 controls but tab/LF/CR, a lone surrogate, U+FFFE, U+FFFF.
  const forbidden = [
    ...Array.from({ length: 32 }, (_, c) => String.fromCharCode(c)).filter((c) =>
      !"\t\n\r".includes(c)
    ),
    "\udc00", // a low surrogate first, then a high one not followed by a low one: both lone
    "\ud83d",
    "\ufffe",
    "\uffff",
  ].join("");
  const shown = [
    ...Array.from({ length: 32 }, (_, c) => String.fromCharCode(0x2400 + c)).filter((_, c) =>
      c !== 9 && c !== 10 && c !== 13
    ),
    "\ufffd\ufffd\ufffd\ufffd",
  ].join("");
  const labels = ["bell\u0007-1:9100", `all${forbidden}:9100`, "nul\u0000:9100"];
  const visible = ["bell␇-1:9100", `all${shown}:9100`, "nul␀:9100"];
  const clouds = ["ali\u0001", "aws", "tx"];
  const t0 = Date.UTC(2026, 10, 1);
  const instant = pl.DataFrame({ cloud: clouds, instance: labels, value: [91, 40, 65] });
  const range = pl.DataFrame({
    cloud: clouds.flatMap((c) => [c, c, c]),
    instance: labels.flatMap((l) => [l, l, l]),
    timestamp: labels.flatMap(() => [t0, t0 + 300_000, t0 + 600_000]),
    value: [10, 20, 95, 40, 50, 60, 70, 80, 90],
  }).withColumn(pl.col("timestamp").cast(pl.Datetime("ms")));
  const frame = { title: "CPU\u0007", subtitle: "sub\u0000", caption: "note\u001b" };
  const charts = {
    bar: barChart(instant, { ...frame, threshold: 80, unit: "%" }),
    barFacets: barChart(instant, { facet: "cloud", color: "cloud", ...frame }),
    timeSeries: timeSeriesChart(range, { color: "instance", threshold: 80, ...frame }),
    timeSeriesFacets: timeSeriesChart(range, { facet: "cloud", ...frame }),
    heatmapCells: heatmap(range, { render: "cells", ...frame }),
    heatmapRaster: heatmap(range, { render: "raster", ...frame }),
    plot: plotChart({ ...frame, marks: [Plot.text(labels, { x: 0, y: (_, i) => i })] }),
  };
  // deno-lint-ignore no-control-regex -- matching the control characters is the point
  const notXml = /[\0-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|\p{Cs}/u;
  for (const [name, chart] of Object.entries(charts)) {
    const svg = chartToSvg(chart);
    assert.equal(svg, chart.outerHTML, name);
    assert.equal(notXml.exec(svg), null, name);
    for (const text of ["CPU␇", "sub␀", "note␛"]) assert.ok(svg.includes(`>${text}</text>`), name);
    for (const label of visible) assert.ok(svg.includes(label), `${name}: ${label}`);
    if (name.endsWith("Facets")) assert.ok(svg.includes(">ali␁</text>"), name);
    const [width, height] = pngSize(chartToPng(chart));
    assert.deepEqual([width, height], [chart.width, chart.height], name);
  }
  // Markup that did not come from a chart function is made well-formed the same way.
  const raw = `<svg width="40" height="20"><text y="10">${labels[1]}</text></svg>`;
  assert.equal(
    chartToSvg(raw),
    `<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><text y="10">${
      visible[1]
    }</text></svg>`,
  );
  assert.deepEqual(pngSize(chartToPng(raw)), [40, 20]);
  // Markup that is not XML at all: the error quotes the markup where resvg stopped.
  assert.throws(
    () => chartToPng('<svg width="4" height="2"><text>数据 a & b</text></svg>'),
    (e: Error) =>
      e instanceof SyntaxError &&
      e.message ===
        "Cannot render PNG: SVG data parsing failed cause malformed entity reference at 1:73; " +
          'the SVG near there: "00/svg\\" width=\\"4\\" height=\\"2\\"><text>数据 a & b</text></svg>"',
  );
});
