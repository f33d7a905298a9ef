import assert from "node:assert/strict";
import pl from "nodejs-polars";
import { barChart, plotChart } from "../../lib/chart/chart.ts";
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
    await assert.rejects(() => saveChart(chart, `${dir}/missing/cpu.png`), Deno.errors.NotFound);
    const names = [];
    for await (const entry of Deno.readDir(dir)) names.push(entry.name);
    assert.deepEqual(names.sort(), ["cpu.png", "cpu.svg"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
