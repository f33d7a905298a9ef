/**
 * The README's first command, end to end: `scripts/demo.ts` (what
 * `deno task demo` runs) against a real Prometheus with the dataset and this
 * machine's node_exporter, into a temporary results folder.
 */
import assert from "node:assert/strict";
import { missingBinaries, REPO_ROOT } from "../../dev/stack.ts";

const missing = missingBinaries(["prometheus", "promtool", "prometheus-node-exporter"]);

Deno.test({
  name:
    "demo: runs every notebook, writes reports, charts and the dry-run alerts, stops Prometheus",
  ignore: missing !== null,
  fn: async () => {
    await Deno.mkdir(`${REPO_ROOT}/out`, { recursive: true });
    const out = await Deno.makeTempDir({ dir: `${REPO_ROOT}/out`, prefix: "demo-test-" });
    try {
      const env: Record<string, string> = { ...Deno.env.toObject(), NO_COLOR: "1" };
      delete env.SLACK_WEBHOOK_URL;
      const run = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", `${REPO_ROOT}/scripts/demo.ts`, "--out", out],
        cwd: REPO_ROOT,
        env,
        clearEnv: true,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stdout = new TextDecoder().decode(run.stdout);
      const stderr = new TextDecoder().decode(run.stderr);
      assert.equal(run.code, 0, `demo failed:\n${stdout}\n${stderr}`);

      // The summary.
      assert.match(stdout, /hosts: +12 in the dataset \(aliyun, azure, tencent\) \+ 1 live/);
      assert.match(
        stdout,
        /alerts: +3 fired: HostCpuTrend tc-sh-batch-01:9100 \(firing\), HostHighCpu az-eus-app-01:9100 \(resolved\), HostHighCpu ali-hz-db-01:9100 \(resolved\)/,
      );
      assert.match(stdout, /dry run: 5 notification\(s\)/);
      // The monitor's day on rules/node.yml (5 m replay): every scenario under its own rule.
      for (
        const line of [
          "HostOutOfMemory ali-bj-cache-01:9100 02:00–03:05",
          "HostHighIowait az-weu-web-01:9100 03:45–04:35",
          "HostHighCpu az-eus-app-01:9100 06:10–09:05",
          "HostHighCpu ali-hz-db-01:9100 10:10–12:05",
          "HostDown az-weu-cache-01:9100 16:10–(firing)",
          "HostMetricsMissing az-weu-cache-01:9100 16:15–17:10",
          "HostDiskWillFillIn24Hours tc-gz-web-01:9100 19:10–22:20",
          "HostCpuTrend tc-sh-batch-01:9100 19:20–(firing)",
          "HostDiskFull tc-gz-web-01:9100 20:55–21:35",
        ]
      ) assert.ok(stdout.includes(`\n    ${line}\n`), `monitor: ${line}\n${stdout}`);
      assert.doesNotMatch(stdout, /tc-gz-api-01/, "the 2-minute spike never alerts");
      // One page per stopped host: HostDown, not also the built-in HostStoppedReporting.
      assert.doesNotMatch(stdout, /HostStoppedReporting/);

      // Every notebook executed, with an HTML report.
      for (const name of ["01_query", "02_chart", "03_alert", "04_anomaly", "05_rules"]) {
        const nb = JSON.parse(await Deno.readTextFile(`${out}/${name}.ipynb`));
        const errors = nb.cells.flatMap((c: { outputs?: { output_type: string }[] }) =>
          (c.outputs ?? []).filter((o) => o.output_type === "error")
        );
        assert.deepEqual(errors, [], `${name} has no error output`);
        assert.ok((await Deno.stat(`${out}/${name}.html`)).size > 1000, `${name}.html`);
      }

      // The dry-run notifications, exactly.
      const alerts = [];
      for await (const e of Deno.readDir(`${out}/alerts`)) {
        if (e.name.endsWith(".json") && !e.name.startsWith("state")) alerts.push(e.name);
      }
      assert.deepEqual(alerts.sort().map((n) => n.replace(/-[0-9a-f]{16}\.json$/, "")), [
        "2026-11-01T06-10-00-000Z-HostHighCpu-firing",
        "2026-11-01T09-05-00-000Z-HostHighCpu-resolved",
        "2026-11-01T10-10-00-000Z-HostHighCpu-firing",
        "2026-11-01T12-05-00-000Z-HostHighCpu-resolved",
        "2026-11-01T19-05-00-000Z-HostCpuTrend-firing",
      ]);

      // Charts in both formats.
      const charts: string[] = [];
      for await (const e of Deno.readDir(`${out}/charts`)) charts.push(e.name);
      const svg = charts.filter((c) => c.endsWith(".svg")).map((c) => c.slice(0, -4)).sort();
      const png = charts.filter((c) => c.endsWith(".png")).map((c) => c.slice(0, -4)).sort();
      assert.ok(svg.length >= 4, `SVG charts: ${svg}`);
      assert.deepEqual(png, svg);

      // Prometheus was stopped.
      const url = stdout.match(/Prometheus ready at (http:\/\/127\.0\.0\.1:\d+)/)?.[1];
      assert.ok(url, "the demo prints Prometheus' URL");
      await assert.rejects(fetch(`${url}/-/ready`));
    } finally {
      await Deno.remove(out, { recursive: true }).catch(() => {});
    }
  },
});
