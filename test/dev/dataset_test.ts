import assert from "node:assert/strict";
import {
  DATASET_END_MS,
  DATASET_START_MS,
  expectedCpuRange,
  expectedCpuUsage,
  expectedFilesystem,
  expectedIowait,
  expectedMemory,
  expectedUp,
  HOSTS,
  SCENARIO_HOSTS,
  writeDataset,
} from "../../dev/dataset.ts";
import type { ExpectedFilesystem, ExpectedMemory } from "../../dev/dataset.ts";

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

// The scenario table of docs/dataset.md: keep both in sync.
Deno.test("scenario values at the documented evaluation times", () => {
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

const memPct = (m: ExpectedMemory | null) => m && (m.available / m.total) * 100;
const fsPct = (f: ExpectedFilesystem | null) => f && (f.avail / f.size) * 100;

// docs/dataset.md's node_exporter scenarios: keep both in sync.
Deno.test("node_exporter incidents at the documented evaluation times", () => {
  const { memory, disk, iowait, stops } = SCENARIO_HOSTS;
  assert.equal(memPct(expectedMemory(memory, at("01:00:15"))), 49.8);
  assert.equal(memPct(expectedMemory(memory, at("01:50"))), 10);
  assert.equal(memPct(expectedMemory(memory, at("01:50:15"))), 9.8);
  assert.equal(memPct(expectedMemory(memory, at("02:30"))), 6);
  assert.equal(memPct(expectedMemory(memory, at("03:00"))), 6);
  assert.ok(memPct(expectedMemory(memory, at("03:00:15")))! > 45);
  assert.equal(fsPct(expectedFilesystem(disk, "/data", at("17:00"))), 40);
  assert.equal(fsPct(expectedFilesystem(disk, "/data", at("20:45"))), 10);
  assert.ok(fsPct(expectedFilesystem(disk, "/data", at("20:45:15")))! < 10);
  assert.equal(fsPct(expectedFilesystem(disk, "/data", at("21:30"))), 4);
  assert.equal(fsPct(expectedFilesystem(disk, "/data", at("21:30:15"))), 60);
  assert.equal(expectedFilesystem(disk, "/data", at("21:30"))!.size, 491_520_000_000);
  assert.ok(expectedIowait(iowait, at("03:30"))! < 3);
  assert.equal(expectedIowait(iowait, at("03:35")), 20);
  assert.equal(expectedIowait(iowait, at("04:30")), 20);
  assert.ok(expectedIowait(iowait, at("04:35"))! < 3);
  assert.equal(expectedMemory(stops, at("16:05")) !== null, true);
  assert.equal(expectedMemory(stops, at("16:05:15")), null);
  assert.equal(expectedFilesystem(stops, "/", at("16:05:15")), null);
  assert.equal(expectedUp(stops, at("16:00:15")), 0);
});

Deno.test("only the scripted hosts run low on memory, disk or iowait", () => {
  const low = new Set<string>(), full = new Set<string>(), waits = new Set<string>();
  for (let t = DATASET_START_MS; t <= DATASET_END_MS; t += 60_000) {
    for (const { instance } of HOSTS) {
      if ((memPct(expectedMemory(instance, t)) ?? 100) < 10) low.add(instance);
      for (const mp of ["/", "/boot/efi", "/run", "/data"]) {
        if ((fsPct(expectedFilesystem(instance, mp, t)) ?? 100) < 10) full.add(`${instance} ${mp}`);
      }
      if ((expectedIowait(instance, t) ?? 0) > 10) waits.add(instance);
    }
  }
  assert.deepEqual([...low], [SCENARIO_HOSTS.memory]);
  assert.deepEqual([...full], [`${SCENARIO_HOSTS.disk} /data`]);
  assert.deepEqual([...waits], [SCENARIO_HOSTS.iowait]);
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
  // 96 CPU series (the stopped host's end at 16:00) + 12 `up` series + 159 memory,
  // filesystem and uname series (15 of them the stopped host's, ending at 16:00).
  assert.equal(
    lines.length - 1,
    96 * 5761 - 8 * (5760 - 3840) + 12 * 5761 + 159 * 5761 - 15 * (5760 - 3840),
  );
  const names = new Set(lines.slice(0, -1).map((l) => l.slice(0, l.indexOf("{"))));
  assert.deepEqual([...names], [
    "node_cpu_seconds_total",
    "up",
    "node_memory_MemAvailable_bytes",
    "node_memory_MemTotal_bytes",
    "node_filesystem_avail_bytes",
    "node_filesystem_size_bytes",
    "node_filesystem_readonly",
    "node_uname_info",
  ]);
  const re = /^[a-zA-Z_]+\{[^}]+\} \d+(\.\d{3})? \d+(\.\d+)?$/;
  for (const line of lines.slice(0, -1)) assert.match(line, re);
});
