import assert from "node:assert/strict";
import {
  DATASET_END_MS,
  DATASET_START_MS,
  expectedCpuRange,
  expectedCpuUsage,
  expectedUp,
  HOSTS,
  SCENARIO_HOSTS,
  writeDataset,
} from "../../dev/dataset.ts";

const at = (hhmm: string) => {
  const [h, m, s] = hhmm.split(":").map(Number);
  return DATASET_START_MS + (h * 3600 + m * 60 + (s ?? 0)) * 1000;
};

Deno.test("dataset spans 2026-11-01 00:00 to 2026-11-02 00:00 UTC", () => {
  assert.equal(new Date(DATASET_START_MS).toISOString(), "2026-11-01T00:00:00.000Z");
  assert.equal(new Date(DATASET_END_MS).toISOString(), "2026-11-02T00:00:00.000Z");
  assert.equal(HOSTS.length, 12);
  assert.deepEqual([...new Set(HOSTS.map((h) => h.cloud))], ["aliyun", "tencent", "azure"]);
});

// The README's scenario table: keep both in sync.
Deno.test("scenario values at the README's evaluation times", () => {
  assert.equal(expectedCpuUsage(SCENARIO_HOSTS.flapping, at("06:05")), 88);
  assert.equal(expectedCpuUsage(SCENARIO_HOSTS.flapping, at("06:20")), 83);
  assert.equal(expectedCpuUsage(SCENARIO_HOSTS.flapping, at("06:12")), 78);
  assert.equal(expectedCpuUsage(SCENARIO_HOSTS.flapping, at("09:05")), 44.4);
  assert.equal(expectedCpuUsage(SCENARIO_HOSTS.sustained, at("11:00")), 95);
  assert.equal(expectedCpuUsage(SCENARIO_HOSTS.sustained, at("12:05")), 50.1);
  assert.equal(expectedCpuUsage(SCENARIO_HOSTS.spike, at("14:01")), 97);
  assert.equal(expectedCpuUsage(SCENARIO_HOSTS.spike, at("14:05")), 49.1);
  assert.equal(expectedCpuUsage(SCENARIO_HOSTS.trend, at("19:30")), 63.5);
  assert.equal(expectedCpuUsage(SCENARIO_HOSTS.trend, at("23:59:45")), 78);
  assert.equal(expectedCpuUsage(SCENARIO_HOSTS.stops, at("16:00")), 34.9);
  assert.equal(expectedCpuUsage(SCENARIO_HOSTS.stops, at("16:10")), null);
  assert.equal(expectedUp(SCENARIO_HOSTS.stops, at("16:00")), 1);
  assert.equal(expectedUp(SCENARIO_HOSTS.stops, at("16:10")), 0);
});

Deno.test("only the scripted hosts ever exceed 80 %", () => {
  const rows = expectedCpuRange(DATASET_START_MS, DATASET_END_MS, 15_000);
  const over = new Set(rows.filter((r) => r.value > 80).map((r) => r.instance));
  assert.deepEqual(
    [...over].sort(),
    [SCENARIO_HOSTS.flapping, SCENARIO_HOSTS.spike, SCENARIO_HOSTS.sustained].sort(),
  );
  const max = Math.max(
    ...rows.filter((r) => r.instance === SCENARIO_HOSTS.trend).map((r) => r.value),
  );
  assert.ok(max > 77.5 && max < 80, `trend host peaks below the 80 % threshold, got ${max}`);
});

Deno.test("the exposition text is well formed and ends with # EOF", async () => {
  let text = "";
  const dec = new TextDecoder();
  const stream = new WritableStream<Uint8Array>({
    write: (c) => void (text += dec.decode(c, { stream: true })),
  });
  const writer = stream.getWriter();
  await writeDataset(writer, { format: "openmetrics" });
  const lines = text.trimEnd().split("\n");
  assert.equal(lines.at(-1), "# EOF");
  // 96 CPU series (the stopped host's end at 16:00) + 12 `up` series.
  assert.equal(lines.length - 1, 96 * 5761 - 8 * (5760 - 3840) + 12 * 5761);
  const re = /^(node_cpu_seconds_total|up)\{[^}]+\} \d+(\.\d{3})? \d+(\.\d+)?$/;
  for (const line of lines.slice(0, -1)) assert.match(line, re);
});
