// barChart with several series per host (per mountpoint, per CPU): a labelled bar for each, or
// one aggregated bar with a caption; never a silently dropped series (issue 13.6).
import assert from "node:assert/strict";
import pl from "nodejs-polars";
import { ALERT_COLOR } from "../../lib/chart/chart.ts";
import { barChart } from "../../lib/chart/bar.ts";
import { parseMarkup } from "../../lib/chart/_dom.ts";
import { PrometheusClient } from "../../lib/prometheus/client.ts";
import {
  DATASET_START_MS,
  datasetFilesystems,
  expectedFilesystem,
  HOSTS,
} from "../../dev/dataset.ts";
import { missingBinaries, startPrometheus } from "../../dev/stack.ts";

function bars(markup: string): { label: string; value: number; fill: string }[] {
  const svg = parseMarkup(markup);
  return Array.from(svg.querySelectorAll('g[aria-label="bar"] rect'))
    .map((r) => {
      const title = r.querySelector("title")!.textContent!;
      const at = title.lastIndexOf(": ");
      return {
        label: title.slice(0, at),
        value: Number(title.slice(at + 2)),
        fill: r.getAttribute("fill")!,
      };
    });
}

function caption(markup: string): string | undefined {
  return parseMarkup(markup).querySelector('text[aria-label="caption"]')?.textContent ?? undefined;
}

const DISKS = () =>
  pl.DataFrame({
    device: ["/dev/vda1", "/dev/vdb", "/dev/vda1", "/dev/vda1", "/dev/vdb"],
    instance: ["web-1:9100", "web-1:9100", "web-2:9100", "db-1:9100", "db-1:9100"],
    mountpoint: ["/", "/data", "/", "/", "/data"],
    value: [41, 97, 55, 30, NaN],
  });

Deno.test("barChart: a bar per series, labelled by the one label that tells them apart", () => {
  const markup = barChart(DISKS(), { threshold: 90, unit: "%" }).outerHTML;
  // Hosts by their fullest disk, a host's bars together; NaN counted in the caption.
  assert.deepEqual(bars(markup).map((b) => [b.label, b.value]), [
    ["web-1:9100 · /data", 97],
    ["web-1:9100 · /", 41],
    ["web-2:9100 · /", 55],
    ["db-1:9100 · /", 30],
  ]);
  assert.equal(bars(markup)[0].fill, ALERT_COLOR);
  assert.equal(
    caption(markup),
    "one bar per instance and mountpoint; 1 series without a finite value omitted",
  );
});

Deno.test("barChart: aggregate gives one bar per host and says how", () => {
  for (
    const [aggregate, expected] of [
      ["max", [["web-1:9100", 97], ["web-2:9100", 55], ["db-1:9100", 30]]],
      ["min", [["web-2:9100", 55], ["web-1:9100", 41], ["db-1:9100", 30]]],
      ["mean", [["web-1:9100", 69], ["web-2:9100", 55], ["db-1:9100", 30]]],
      ["sum", [["web-1:9100", 138], ["web-2:9100", 55], ["db-1:9100", 30]]],
    ] as const
  ) {
    const markup = barChart(DISKS(), { unit: "%", aggregate }).outerHTML;
    assert.deepEqual(bars(markup).map((b) => [b.label, b.value]), expected, aggregate);
    assert.equal(caption(markup), `${aggregate} over mountpoint per instance`);
  }
  assert.throws(
    () => barChart(DISKS(), { aggregate: "median" as "max" }),
    new TypeError("Invalid aggregate: expected one of max, min, mean, sum, got median"),
  );
});

Deno.test("barChart: one series per host (also a range frame) keeps one plain bar per host", () => {
  const frame = pl.DataFrame({
    instance: ["a:9100", "a:9100", "b:9100", "b:9100"],
    job: ["node", "node", "node", "node"],
    timestamp: [0, 1, 0, 1],
    value: [10, 20, 30, 5],
  });
  const markup = barChart(frame).outerHTML;
  assert.deepEqual(bars(markup).map((b) => [b.label, b.value]), [["a:9100", 20], ["b:9100", 5]]);
  assert.equal(caption(markup), undefined);
});

const missing = missingBinaries(["prometheus", "promtool"]);

Deno.test({
  name: "barChart: a per-mountpoint query of the dataset Prometheus draws every filesystem",
  ignore: missing !== null,
  async fn() {
    await using prom = await startPrometheus();
    const client = new PrometheusClient({ url: prom.url });
    const at = DATASET_START_MS + 21.5 * 3_600_000;
    const frame = await client.queryFrame(
      `100 * (1 - node_filesystem_avail_bytes{fstype!="tmpfs"} / node_filesystem_size_bytes)`,
      { time: new Date(at) },
    );
    const markup = barChart(frame, { threshold: 90, unit: "%" }).outerHTML;
    const expected = HOSTS.flatMap((h) =>
      datasetFilesystems(h.instance).filter((f) => f.fstype !== "tmpfs").flatMap((f) => {
        const fs = expectedFilesystem(h.instance, f.mountpoint, at);
        return fs === null
          ? []
          : [[`${h.instance} · ${f.mountpoint}`, 100 * (1 - fs.avail / fs.size)] as const];
      })
    );
    const reporting = new Set(expected.map(([label]) => label.split(" · ")[0]));
    assert.ok(expected.length > 2 * reporting.size); // several filesystems per host
    const drawn = bars(markup);
    assert.equal(drawn.length, expected.length);
    const byLabel = new Map(drawn.map((b) => [b.label, b]));
    for (const [label, value] of expected) {
      const bar = byLabel.get(label);
      assert.ok(bar, `no bar ${label}`);
      assert.ok(Math.abs(bar.value - value) < 0.01, `${label}: ${bar.value} vs ${value}`);
    }
    // The fuller /data disk of tc-gz-web-01 is drawn, first and in the alert colour.
    assert.equal(drawn[0].label, "tc-gz-web-01:9100 · /data");
    assert.equal(drawn[0].fill, ALERT_COLOR);
    assert.equal(caption(markup), "one bar per instance and mountpoint");

    const worst = barChart(frame, { unit: "%", aggregate: "max" }).outerHTML;
    assert.equal(bars(worst).length, reporting.size);
    assert.equal(bars(worst)[0].label, "tc-gz-web-01:9100");
    assert.equal(caption(worst), "max over mountpoint per instance");
  },
});
