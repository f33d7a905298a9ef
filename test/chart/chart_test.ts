import assert from "node:assert/strict";
import * as Plot from "@observablehq/plot";
import pl from "nodejs-polars";
import {
  ALERT_COLOR,
  ChartDataError,
  CJK_FONT_FAMILY,
  NORMAL_COLOR,
  PALETTE,
} from "../../lib/chart/chart.ts";
import { barChart } from "../../lib/chart/bar.ts";
import { heatmap } from "../../lib/chart/heatmap.ts";
import { m4Indices, timeSeriesChart } from "../../lib/chart/time_series.ts";
import { plotChart } from "../../lib/chart/plot_chart.ts";
import { thresholdRule, timeTickFormat } from "../../lib/chart/marks.ts";
import { JUPYTER_DISPLAY } from "../../lib/chart/_dom.ts";
import { type DomElement, parseMarkup } from "../../lib/chart/_dom.ts";

const T0 = Date.UTC(2026, 10, 1);
const CLOUDS = ["aliyun", "tencent", "azure"];

/** 12 hosts like the synthetic dataset; one has a Chinese name, one an HTML-ish name. */
function hosts(): { cloud: string[]; instance: string[] } {
  const cloud: string[] = [];
  const instance: string[] = [];
  for (let i = 0; i < 12; i++) {
    cloud.push(CLOUDS[i % 3]);
    instance.push(i === 5 ? "tx-gz-数据库-01:9100" : `${CLOUDS[i % 3]}-host-${i}:9100`);
  }
  return { cloud, instance };
}

function instantFrame(values: number[]): pl.DataFrame {
  const { cloud, instance } = hosts();
  return pl.DataFrame({
    cloud,
    instance,
    timestamp: instance.map(() => T0),
    value: values,
  }).withColumn(pl.col("timestamp").cast(pl.Datetime("ms")));
}

function rangeFrame(series: number, points: number, f: (s: number, i: number) => number) {
  const cloud: string[] = [];
  const instance: string[] = [];
  const timestamp: number[] = [];
  const value: number[] = [];
  for (let s = 0; s < series; s++) {
    for (let i = 0; i < points; i++) {
      cloud.push(CLOUDS[s % 3]);
      instance.push(`h${String(s).padStart(3, "0")}:9100`);
      timestamp.push(T0 + i * 300_000);
      value.push(f(s, i));
    }
  }
  return pl.DataFrame({ cloud, instance, timestamp, value })
    .withColumn(pl.col("timestamp").cast(pl.Datetime("ms")));
}

const assertEquals: typeof assert.deepEqual = assert.deepEqual;

function assertThrows<E extends Error>(fn: () => unknown, type: new (...a: never[]) => E): E {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof type, `expected ${type.name}, got ${error}`);
    return error;
  }
  throw new assert.AssertionError({ message: `expected ${type.name} to be thrown` });
}

function all(root: DomElement, selector: string): DomElement[] {
  return Array.from(root.querySelectorAll(selector));
}

/** Y pixel of the tick labelled `label` on the first y axis. */
function yTick(root: DomElement, label: string): number {
  const text = all(root, 'g[aria-label="y-axis tick label"] text').find((t) =>
    t.textContent === label
  );
  assert.ok(text, `no y tick ${label}`);
  return Number(/translate\([^,]+,([^)]+)\)/.exec(text.getAttribute("transform")!)![1]);
}

const VALUES = [95, 12, 81, 40, 80, 88, 55, 3, 70, 99.5, 20, 60];

Deno.test("barChart draws one bar per host, alert colour exactly on hosts over the threshold", () => {
  const chart = barChart(instantFrame(VALUES), {
    threshold: 80,
    unit: "%",
    yLabel: "CPU usage",
    title: "CPU 使用率 最近五分钟",
  });
  const svg = parseMarkup(chart.outerHTML);
  assertEquals(svg.tagName.toLowerCase(), "svg");
  assertEquals(svg.getAttribute("xmlns"), "http://www.w3.org/2000/svg");
  const bars = all(svg, 'g[aria-label="bar"] rect');
  assertEquals(bars.length, 12);
  const byHost = bars.map((r) => {
    const [host, value] = r.querySelector("title")!.textContent!.split(": ");
    return { host, value: Number(value), fill: r.getAttribute("fill") };
  });
  // Sorted by value, descending.
  assertEquals(byHost.map((b) => b.value), [...VALUES].sort((a, b) => b - a));
  // Strictly above 80 → alert colour; 80 itself is not over.
  for (const b of byHost) assertEquals(b.fill, b.value > 80 ? ALERT_COLOR : NORMAL_COLOR, b.host);
  assertEquals(byHost.filter((b) => b.fill === ALERT_COLOR).length, 4);
});

Deno.test("barChart puts the threshold rule at the threshold's y pixel on a 0–100 % axis", () => {
  for (const threshold of [80, 75]) {
    const svg = parseMarkup(barChart(instantFrame(VALUES), { threshold, unit: "%" }).outerHTML);
    const y0 = yTick(svg, "0");
    const y100 = yTick(svg, "100");
    const rule = all(svg, 'g[aria-description="threshold"] line');
    assertEquals(rule.length, 1);
    const expected = y0 + (y100 - y0) * (threshold / 100);
    assert.ok(Math.abs(Number(rule[0].getAttribute("y1")) - expected) < 1e-6);
    assertEquals(rule[0].getAttribute("y1"), rule[0].getAttribute("y2"));
    assert.ok(
      all(svg, 'g[aria-description="threshold label"] text').some((t) =>
        t.textContent === `threshold ${threshold} %`
      ),
    );
  }
});

Deno.test("barChart labels axes, renders CJK text with the CJK font, and displays in Jupyter", () => {
  const chart = barChart(instantFrame(VALUES), {
    threshold: 80,
    unit: "%",
    yLabel: "CPU usage",
    title: "CPU 使用率",
  });
  const svg = parseMarkup(chart.outerHTML);
  const texts = all(svg, "text");
  assert.ok(texts.some((t) => t.textContent?.includes("CPU usage (%)")), "y axis label");
  const title = svg.querySelector('text[aria-label="title"]')!;
  assertEquals(title.textContent, "CPU 使用率");
  assertEquals(title.getAttribute("font-family"), CJK_FONT_FAMILY);
  const cjkHost = texts.find((t) => t.textContent === "tx-gz-数据库-01:9100");
  assert.ok(cjkHost, "CJK host tick label");
  assertEquals(cjkHost.getAttribute("font-family"), CJK_FONT_FAMILY);
  const legend = all(svg, 'g[aria-label="legend"] text').map((t) => t.textContent);
  assertEquals(legend, ["≤ 80 %", "> 80 %"]);
  const bundle = chart[JUPYTER_DISPLAY]();
  assertEquals(Object.keys(bundle).sort(), ["image/svg+xml", "text/plain"]);
  assert.ok(bundle["image/svg+xml"].startsWith("<svg"));
  assertEquals(bundle["text/plain"], `Chart "CPU 使用率" (${chart.width}×${chart.height} SVG)`);
});

Deno.test("barChart colours and facets by cloud; NaN/Inf values are omitted, not plotted", () => {
  const values = [...VALUES];
  values[3] = NaN;
  values[7] = Infinity;
  const colored = parseMarkup(
    barChart(instantFrame(values), { threshold: 80, unit: "%", color: "cloud" }).outerHTML,
  );
  const { cloud, instance } = hosts();
  const bars = all(colored, 'g[aria-label="bar"] rect');
  assertEquals(bars.length, 10);
  const palette = new Map([...CLOUDS].sort().map((c, i) => [c, PALETTE[i]]));
  for (const r of bars) {
    const [host, value] = r.querySelector("title")!.textContent!.split(": ");
    const expected = Number(value) > 80 ? ALERT_COLOR : palette.get(cloud[instance.indexOf(host)]);
    assertEquals(r.getAttribute("fill"), expected);
  }
  assertEquals(
    colored.querySelector('text[aria-label="caption"]')!.textContent,
    "2 instances without a finite value omitted",
  );

  const faceted = parseMarkup(barChart(instantFrame(VALUES), { facet: "cloud" }).outerHTML);
  assertEquals(
    all(faceted, 'text[aria-label="facet"]').map((t) => t.textContent),
    ["aliyun", "azure", "tencent"],
  );
  const panels = all(faceted, "svg > svg");
  assertEquals(panels.length, 3);
  for (const p of panels) assertEquals(all(p, 'g[aria-label="bar"] rect').length, 4);
});

Deno.test("barChart escapes label values and reports missing columns with a typed error", () => {
  const frame = pl.DataFrame({ instance: ['<b>"x"</b>&'], value: [1] });
  const markup = barChart(frame).outerHTML;
  assert.ok(!markup.includes("<b>"));
  const svg = parseMarkup(markup);
  assert.ok(all(svg, "text").some((t) => t.textContent === '<b>"x"</b>&'));
  const error = assertThrows(() => barChart(frame, { x: "host" }), ChartDataError);
  assertEquals(error.message, 'Cannot chart frame: no column "host" (columns: instance, value)');
  assertEquals(error.columns, ["instance", "value"]);
});

Deno.test("timeSeriesChart draws a line per host, gaps for NaN/Inf and highlighted points", () => {
  const frame = rangeFrame(
    4,
    12,
    (s, i) => (s === 1 && i === 5 ? NaN : s === 2 && i === 3 ? Infinity : 10 * s + i),
  );
  const flagged = frame.getColumn("value").toArray().map((v) => Number(v) >= 30);
  const svg = parseMarkup(
    timeSeriesChart(frame, { threshold: 35, unit: "%", highlight: flagged, title: "时间序列" })
      .outerHTML,
  );
  const paths = all(svg, 'g[aria-label="line"] path');
  assertEquals(paths.length, 4);
  const moves = paths.map((p) => (p.getAttribute("d")!.match(/M/g) ?? []).length);
  assertEquals(moves, [1, 2, 2, 1]);
  for (const p of paths) assert.ok(!/NaN|Infinity/.test(p.getAttribute("d")!));
  // h003: 30..41 (12 points) and h002's 30, 31 are flagged; its +Inf is not highlighted.
  assertEquals(all(svg, 'g[aria-description="highlight"] circle').length, 14);
  assertEquals(all(svg, 'g[aria-description="threshold"] line').length, 1);
  assert.ok(all(svg, "text").some((t) => t.textContent?.includes("Time (UTC)")));
  const legend = all(svg, 'g[aria-label="legend"] text').map((t) => t.textContent);
  assertEquals(legend, ["h000:9100", "h001:9100", "h002:9100", "h003:9100", "flagged"]);
});

Deno.test("timeSeriesChart highlights rows of a flagged frame and colours by cloud", () => {
  const frame = rangeFrame(6, 10, (s, i) => s + i);
  const flagged = frame.filter(pl.col("value").gt(12));
  const svg = parseMarkup(timeSeriesChart(frame, { color: "cloud", highlight: flagged }).outerHTML);
  assertEquals(all(svg, 'g[aria-description="highlight"] circle').length, flagged.height);
  const strokes = new Set(
    all(svg, 'g[aria-label="line"] path').map((p) => p.getAttribute("stroke")),
  );
  assertEquals(strokes, new Set(PALETTE.slice(0, 3)));
});

Deno.test("timeSeriesChart shades spans behind the lines, one step past their end, per facet", () => {
  const frame = rangeFrame(3, 12, (s, i) => 10 * s + i);
  const spans = pl.DataFrame({
    cloud: ["aliyun", "azure"],
    instance: ["h000:9100", "h002:9100"],
    start: [T0 + 2 * 300_000, T0 + 5 * 300_000],
    end: [T0 + 2 * 300_000, T0 + 7 * 300_000],
    reason: ["97.0 % where 48.2–51.8 % is normal in the last 1h", "x"],
  }).withColumns(pl.col("start").cast(pl.Datetime("ms")), pl.col("end").cast(pl.Datetime("ms")));
  const svg = parseMarkup(timeSeriesChart(frame, { spans, facet: "cloud" }).outerHTML);
  const rects = all(svg, 'g[aria-description="span"] rect');
  assertEquals(rects.length, 2);
  // A one-sample span is one step (5 minutes) wide; the three-sample span three steps.
  const widths = rects.map((r) => Number(r.getAttribute("width")));
  assert.ok(widths[0] > 0);
  assert.ok(Math.abs(widths[1] / widths[0] - 3) < 0.05, String(widths));
  assertEquals(
    all(svg, 'g[aria-description="span"] title').map((t) => t.textContent),
    ["h000:9100: 97.0 % where 48.2–51.8 % is normal in the last 1h", "h002:9100: x"],
  );
  // Behind the lines: the spans' group comes first in the document.
  const html = timeSeriesChart(frame, { spans }).outerHTML;
  assert.ok(html.includes(`fill="${ALERT_COLOR}" aria-description="span"`));
  assert.ok(html.indexOf('aria-description="span"') < html.indexOf('aria-label="line"'));
  const legend = all(svg, 'g[aria-label="legend"] text').map((t) => t.textContent);
  assertEquals(legend.at(-1), "flagged span (shaded)");
  // No spans: no rectangles, no legend entry.
  const none = parseMarkup(timeSeriesChart(frame, { spans: spans.head(0) }).outerHTML);
  assertEquals(all(none, 'g[aria-description="span"] rect').length, 0);
});

Deno.test("timeSeriesChart labels the time axis in the chosen time zone", () => {
  const frame = rangeFrame(1, 289, (_, i) => i % 100);
  const utc = parseMarkup(timeSeriesChart(frame).outerHTML);
  const sh = parseMarkup(timeSeriesChart(frame, { timeZone: "Asia/Shanghai" }).outerHTML);
  const ticks = (svg: DomElement) =>
    all(svg, 'g[aria-label="x-axis tick label"] text').map((t) => t.textContent);
  assertEquals(ticks(utc)[0], "00:0011-01");
  assertEquals(ticks(sh)[0], "08:00");
  assert.ok(all(sh, "text").some((t) => t.textContent?.includes("Time (Asia/Shanghai)")));
  assertThrows(() => timeSeriesChart(frame, { timeZone: "Mars/Olympus" }), RangeError);
  assertEquals(timeTickFormat("UTC", 86_400_000)(T0 + 3_600_000 * 13), "13:00");
});

Deno.test("timeSeriesChart downsamples long series keeping the extremes", () => {
  const frame = rangeFrame(
    2,
    5000,
    (s, i) => (i === 2345 ? 1000 : i === 777 ? -50 : (i * 7919) % 97 + s),
  );
  const chart = timeSeriesChart(frame, { width: 500 });
  const svg = parseMarkup(chart.outerHTML);
  const points = all(svg, 'g[aria-label="line"] path').map((p) =>
    (p.getAttribute("d")!.match(/[ML]/g) ?? []).length
  );
  for (const n of points) assert.ok(n <= 4 * 212 && n > 400, `points ${n}`);
  assert.ok(all(svg, "text").some((t) => t.textContent?.includes("2 series downsampled")));
  // The spike (1000) and the dip (-50) of series h000 survive downsampling.
  const y0 = yTick(svg, "0");
  const y1000 = yTick(svg, "1,000");
  const d = all(svg, 'g[aria-label="line"] path')[0].getAttribute("d")!;
  const ys = [...d.matchAll(/[ML][^,]+,([-\d.]+)/g)].map((m) => Number(m[1]));
  assert.ok(Math.abs(Math.min(...ys) - y1000) < 0.01);
  assert.ok(Math.abs(Math.max(...ys) - (y0 - (y1000 - y0) * 0.05)) < 0.01);

  const xs = Float64Array.from({ length: 1000 }, (_, i) => i);
  const values = Float64Array.from(
    { length: 1000 },
    (_, i) => (i === 500 ? 99 : i === 501 ? -99 : 0),
  );
  const kept = m4Indices(xs, values, [...xs.keys()], 10);
  assert.ok(kept.length <= 40);
  for (const i of [0, 500, 501, 999]) assert.ok(kept.includes(i), `keeps ${i}`);
  assertEquals(kept, [...kept].sort((a, b) => a - b));
});

Deno.test("heatmap draws one cell per finite sample, coloured on the ramp", () => {
  const frame = rangeFrame(3, 4, (s, i) => (s === 1 && i === 2 ? NaN : s * 40 + i));
  const svg = parseMarkup(heatmap(frame, { unit: "%", title: "热力图" }).outerHTML);
  const cells = all(svg, 'g[aria-description="cell"] rect');
  assertEquals(cells.length, 11);
  const fills = new Set(cells.map((c) => c.getAttribute("fill")));
  assert.ok(fills.size >= 9);
  assertEquals(
    all(svg, 'g[aria-label="y-axis tick label"] text').map((t) => t.textContent),
    ["h000:9100", "h001:9100", "h002:9100"],
  );
  assert.ok(all(svg, 'g[aria-label="legend"] text').some((t) => t.textContent === "value (%)"));

  const renamed = frame.rename({ instance: "host", timestamp: "t", value: "cpu" });
  const custom = parseMarkup(
    heatmap(renamed, { x: "t", y: "host", fill: "cpu", unit: "%" }).outerHTML,
  );
  assertEquals(
    all(custom, 'g[aria-description="cell"] rect').map((c) => c.getAttribute("fill")),
    cells.map((c) => c.getAttribute("fill")),
  );
  assert.ok(all(custom, 'g[aria-label="legend"] text').some((t) => t.textContent === "cpu (%)"));
});

Deno.test("heatmap stays readable at 500 hosts: raster image, thinned labels, hottest first", () => {
  const frame = rangeFrame(500, 48, (s, i) => (s === 321 ? 99 : (s + i) % 50));
  const chart = heatmap(frame, { unit: "%", sort: "max" });
  const svg = parseMarkup(chart.outerHTML);
  assertEquals(all(svg, "rect").length, 2); // background + legend ramp only
  const image = svg.querySelector('image[aria-label="raster"]')!;
  const href = image.getAttribute("href")!;
  assert.ok(href.startsWith("data:image/png;base64,"));
  const png = Uint8Array.from(atob(href.slice(22)), (c) => c.charCodeAt(0));
  const view = new DataView(png.buffer);
  const sx = Math.min(8, Math.round(Number(image.getAttribute("width")) / 48));
  assertEquals([view.getUint32(16), view.getUint32(20)], [48 * sx, 500 * 2]);
  assertEquals(Number(image.getAttribute("height")), 1000);
  const labels = all(svg, 'g[aria-label="y-axis tick label"] text').map((t) => t.textContent);
  assertEquals(labels.length, 84); // every 6th of 500 rows (2 px each, ≥ 12 px apart)
  assertEquals(labels[0], "h321:9100");
  assertEquals(
    svg.querySelector('text[aria-label="caption"]')!.textContent,
    "500 instances; every 6th labelled",
  );
  assertEquals(
    svg.querySelector('text[aria-label="subtitle"]')!.textContent,
    "500 instances × 48 steps of 300 s, hottest (max) first",
  );
  assert.ok(chart.outerHTML.length < 500_000);
});

Deno.test("every chart draws extra Plot marks from the notebook; plotChart wraps any marks", () => {
  const extra = () => Plot.ruleY([50], { stroke: "green", ariaDescription: "target" });
  const bars = parseMarkup(
    barChart(instantFrame(VALUES), { unit: "%", marks: [extra()] }).outerHTML,
  );
  const target = all(bars, 'g[aria-description="target"] line');
  assertEquals(target.length, 1);
  const expected = yTick(bars, "0") + (yTick(bars, "100") - yTick(bars, "0")) * 0.5;
  assert.ok(Math.abs(Number(target[0].getAttribute("y1")) - expected) < 1e-6);
  const faceted = parseMarkup(
    barChart(instantFrame(VALUES), { facet: "cloud", marks: [extra()] }).outerHTML,
  );
  assertEquals(all(faceted, 'g[aria-description="target"] line').length, 3);
  const lines = parseMarkup(
    timeSeriesChart(rangeFrame(2, 10, (s, i) => s * 40 + i), { marks: [extra()] }).outerHTML,
  );
  assertEquals(all(lines, 'g[aria-description="target"] line').length, 1);
  const heat = parseMarkup(
    heatmap(rangeFrame(2, 4, (s, i) => s + i), {
      marks: [Plot.frame({ stroke: "green", ariaDescription: "outline" })],
    }).outerHTML,
  );
  assertEquals(all(heat, 'rect[aria-description="outline"]').length, 1);

  const custom = plotChart({
    title: "自定义 custom",
    marks: [Plot.lineY([3, 9, 4]), thresholdRule(8, { unit: "%" })],
  });
  const svg = parseMarkup(custom.outerHTML);
  assertEquals(svg.getAttribute("xmlns"), "http://www.w3.org/2000/svg");
  assertEquals(svg.querySelector('text[aria-label="title"]')!.textContent, "自定义 custom");
  assertEquals(all(svg, 'g[aria-description="threshold"] line').length, 1);
  assert.ok(
    all(svg, 'g[aria-description="threshold label"] text').some((t) =>
      t.textContent === "threshold 8 %"
    ),
  );
});
