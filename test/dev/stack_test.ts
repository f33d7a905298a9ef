import assert from "node:assert/strict";
import { missingBinaries, startPrometheus } from "../../dev/stack.ts";
import {
  DATASET_START_MS,
  expectedCpuUsage,
  expectedFilesystem,
  expectedIowait,
  expectedMemory,
  HOSTS,
  SCENARIO_HOSTS,
} from "../../dev/dataset.ts";

const missing = missingBinaries(["prometheus", "promtool"]);
const MEM = "node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes * 100";
const IOWAIT = 'avg by(instance)(rate(node_cpu_seconds_total{mode="iowait"}[5m])) * 100';
const CPU = '100 - (avg by(instance)(irate(node_cpu_seconds_total{mode="idle"}[5m])) * 100)';

Deno.test({
  name: "stack: Prometheus serves the synthetic dataset exactly and stops cleanly",
  ignore: missing !== null,
  fn: async () => {
    const prom = await startPrometheus();
    let pid = prom.pid;
    try {
      for (const hours of [6.25, 11, 14.02, 16.1, 23.5]) {
        const t = DATASET_START_MS + hours * 3_600_000;
        const q = new URLSearchParams({ query: CPU, time: String(t / 1000) });
        const body = await (await fetch(`${prom.url}/api/v1/query?${q}`)).json();
        const got = new Map<string, number>(
          body.data.result.map((s: { metric: { instance: string }; value: [number, string] }) => [
            s.metric.instance,
            Number(s.value[1]),
          ]),
        );
        const want = HOSTS.map((h) => [h.instance, expectedCpuUsage(h.instance, t)] as const)
          .filter(([, v]) => v !== null);
        assert.equal(got.size, want.length, `hosts at ${hours} h`);
        for (const [instance, value] of want) {
          assert.ok(Math.abs(got.get(instance)! - value!) < 1e-6, `${instance} at ${hours} h`);
        }
      }
    } finally {
      await prom.stop();
    }
    // The process is gone and its directory removed.
    await assert.rejects(Deno.stat(prom.dir));
    assert.throws(() => Deno.kill(pid, "SIGCONT"));
    pid = 0;
  },
});

Deno.test({
  name: "stack: with nodeExporter, startPrometheus returns after the first scrape has landed",
  ignore: missingBinaries(["prometheus", "promtool", "prometheus-node-exporter"]) !== null,
  fn: async () => {
    // A long interval makes the first scrape's random offset (up to the interval) visible.
    await using prom = await startPrometheus({
      dataset: false,
      nodeExporter: true,
      scrapeInterval: "5s",
    });
    const q = new URLSearchParams({ query: 'up{job="node",cloud="local"}' });
    const body = await (await fetch(`${prom.url}/api/v1/query?${q}`)).json();
    assert.equal(body.data.result.length, 1);
    assert.equal(body.data.result[0].value[1], "1");
  },
});

Deno.test({
  name: "stack: openMetrics backfills the given series instead of the dataset",
  ignore: missing !== null,
  fn: async () => {
    const t = 1_700_000_000;
    await using prom = await startPrometheus({
      openMetrics: `# TYPE x gauge\nx{instance="a:9100",job="node"} 1 ${t}\n` +
        `x{instance="a:9100",job="node"} 2 ${t + 15}\n# EOF\n`,
    });
    const q = new URLSearchParams({ query: "x", time: String(t + 20) });
    const body = await (await fetch(`${prom.url}/api/v1/query?${q}`)).json();
    assert.deepEqual(body.data.result, [{
      metric: { __name__: "x", instance: "a:9100", job: "node" },
      value: [t + 20, "2"],
    }]);
    const all = new URLSearchParams({ query: "count(node_cpu_seconds_total)", time: String(t) });
    assert.deepEqual(
      (await (await fetch(`${prom.url}/api/v1/query?${all}`)).json()).data.result,
      [],
    );
  },
});

Deno.test({
  name: "stack: Prometheus serves the node_exporter incidents exactly (memory, /data, iowait, up)",
  ignore: missing !== null,
  fn: async () => {
    await using prom = await startPrometheus();
    const query = async (expr: string, hours: number) => {
      const q = new URLSearchParams({
        query: expr,
        time: String((DATASET_START_MS + hours * 3_600_000) / 1000),
      });
      const body = await (await fetch(`${prom.url}/api/v1/query?${q}`)).json();
      return body.data.result.map((
        s: { metric: Record<string, string>; value: [number, string] },
      ) => [s.metric.instance, s.metric.mountpoint ?? "", Number(s.value[1])]);
    };
    for (const hours of [1.5, 2.5, 3.75, 4.25, 16.1, 19, 20.8, 21.5, 21.6]) {
      const t = DATASET_START_MS + hours * 3_600_000;
      for (const [instance, , v] of await query(MEM, hours)) {
        const m = expectedMemory(instance, t)!;
        assert.ok(
          Math.abs(v - (m.available / m.total) * 100) < 1e-9,
          `memory ${instance} ${hours}`,
        );
      }
      for (const [instance, mountpoint, v] of await query("node_filesystem_avail_bytes", hours)) {
        assert.equal(v, expectedFilesystem(instance, mountpoint, t)!.avail, `${instance} ${hours}`);
      }
      for (const [instance, , v] of await query(IOWAIT, hours)) {
        assert.ok(Math.abs(v - expectedIowait(instance, t)!) < 1e-9, `iowait ${instance} ${hours}`);
      }
    }
    // Each rule-shaped condition holds for its scripted host only.
    assert.deepEqual(await query(`${MEM} < 10`, 2.5), [[SCENARIO_HOSTS.memory, "", 6]]);
    assert.deepEqual(await query(`${IOWAIT} > 10`, 4), [[SCENARIO_HOSTS.iowait, "", 20]]);
    assert.deepEqual(
      await query(
        'node_filesystem_avail_bytes{fstype!="tmpfs"} / node_filesystem_size_bytes * 100 < 10',
        21.5,
      ),
      [[SCENARIO_HOSTS.disk, "/data", 4]],
    );
    const fill = await query(
      'predict_linear(node_filesystem_avail_bytes{fstype!="tmpfs"}[1h], 86400) < 0',
      18,
    );
    assert.deepEqual(fill.map((r: unknown[]) => r.slice(0, 2)), [[SCENARIO_HOSTS.disk, "/data"]]);
    assert.deepEqual(await query("up == 0", 16.1), [[SCENARIO_HOSTS.stops, "", 0]]);
    assert.deepEqual(await query("count(node_uname_info)", 16.1), [[undefined, "", 11]]);
  },
});
