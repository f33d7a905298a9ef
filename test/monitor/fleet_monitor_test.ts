// The monitor on a fleet: PROMETHEUS_URL=a=http://…,b=http://… queries both
// servers; a host of either fires; a server that fails is a logged warning naming it.
import assert from "node:assert/strict";
import { configSecrets, loadConfig, redactConfig } from "opsbook";
import { freePort, missingBinaries, startPrometheus } from "../../dev/stack.ts";
import { runMonitor } from "../support/monitor_process.ts";
import { PLAIN_START_S, plainFleetOpenMetrics } from "../support/plain_fleet.ts";

const missing = missingBinaries(["prometheus", "promtool"]);

function field(line: string, name: string): string | undefined {
  const m = line.match(new RegExp(`(?:^| )${name}=("(?:[^"\\\\]|\\\\.)*"|\\S*)`));
  if (!m) return undefined;
  return m[1].startsWith('"') ? JSON.parse(m[1]) : m[1];
}

Deno.test({
  name: "monitor: PROMETHEUS_URL with name=url pairs evaluates the whole fleet",
  ignore: missing !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const job = "node";
    const [a, b] = await Promise.all([
      startPrometheus({
        openMetrics: plainFleetOpenMetrics([{ labels: { instance: "a-1:9100", job }, usage: 20 }]),
      }),
      startPrometheus({
        openMetrics: plainFleetOpenMetrics([{ labels: { instance: "b-1:9100", job }, usage: 95 }]),
      }),
    ]);
    const dir = await Deno.makeTempDir({ prefix: "opsbook-fleet-monitor-" });
    try {
      const at = new Date((PLAIN_START_S + 3600) * 1000).toISOString();
      const args = ["--once", "--dry-run", "--replay-start", at, "--state", `${dir}/state.json`];
      const r = await runMonitor(args, { PROMETHEUS_URL: `east=${a.url},west=${b.url}` });
      assert.equal(r.code, 0, r.stderr + r.lines.join("\n"));
      const evaluation = r.lines.find((l) => l.includes("event=evaluation "))!;
      assert.equal(field(evaluation, "ok"), "true", evaluation);
      assert.equal(field(evaluation, "hosts"), "2", evaluation);
      const fired = r.lines.filter((l) => l.includes("event=transition "));
      assert.deepEqual(fired.map((l) => [field(l, "kind"), field(l, "host")]), [
        ["firing", "b-1:9100"],
      ]);

      // The west server is gone: the east answer is kept and the failure is logged by name.
      const gone = `http://127.0.0.1:${freePort()}`;
      const partial = await runMonitor(
        ["--once", "--dry-run", "--replay-start", at, "--state", `${dir}/partial.json`],
        { PROMETHEUS_URL: `east=${a.url},west=${gone}` },
      );
      const warning = partial.lines.find((l) => l.includes("event=partial_answer "));
      assert.ok(warning !== undefined, partial.stderr + partial.lines.join("\n"));
      assert.match(
        field(warning, "error")!,
        /^Partial answer \(Prometheus "west" failed, the answer holds only east: Cannot reach http:\/\/127\.0\.0\.1:\d+\/api\/v1\/query: connection refused/,
      );
      assert.match(
        partial.lines.find((l) => l.includes("event=rule_problem "))!,
        /rule=node\/HostHighCpu kind=partial/,
      );
    } finally {
      await Promise.all([a.stop(), b.stop()]);
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("config: PROMETHEUS_URL takes name=url pairs; each member's credentials are redacted", () => {
  const config = loadConfig({
    env: { PROMETHEUS_URL: "east=http://bob:pw%2Cx@prom-a:9090,west=https://prom-b/prometheus" },
  });
  assert.equal(
    config.prometheusUrl,
    "east=http://bob:pw%2Cx@prom-a:9090,west=https://prom-b/prometheus",
  );
  assert.equal(
    redactConfig(config).prometheusUrl,
    "east=http://***@prom-a:9090/,west=https://prom-b/prometheus",
  );
  assert.deepEqual(configSecrets(config), ["pw%2Cx", "pw,x"]);
  assert.throws(
    () => loadConfig({ env: { PROMETHEUS_URL: "east=http://prom-a:9090,west=prom-b:9090" } }),
    /Invalid prometheusUrl from environment variable PROMETHEUS_URL: expected an http\(s\) URL such as http:\/\/localhost:9090 \(a path prefix is kept\), or several servers as name=url pairs/,
  );
});
