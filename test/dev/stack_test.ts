import assert from "node:assert/strict";
import { missingBinaries, startPrometheus } from "../../dev/stack.ts";
import { DATASET_START_MS, expectedCpuUsage, HOSTS } from "../../dev/dataset.ts";

const missing = missingBinaries(["prometheus", "promtool"]);
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
