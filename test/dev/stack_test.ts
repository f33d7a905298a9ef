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
