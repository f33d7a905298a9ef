/**
 * Every notebook against a plain Prometheus: node_exporter series that carry
 * only `instance` and `job` (no `cloud`, no `region`). Grouping labels the
 * series lack are left out with a one-line note; an `eval_time` outside the
 * data stops 01 and 02 with "Query returned no series: …" instead of a polars
 * error, and 03 and 04 warn and say there is no data (issue 13.2, 13.3).
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Notebook } from "../../lib/notebook/nbformat.ts";
import { NotebookExecutionError, runNotebook } from "../../lib/notebook/runner.ts";
import { notebookParameters, NOTEBOOKS } from "../../scripts/demo.ts";
import { missingBinaries, REPO_ROOT, startPrometheus } from "../../dev/stack.ts";
import { plainFleetOpenMetrics, type PlainHost } from "../support/plain_fleet.ts";

const missing = missingBinaries(["prometheus", "promtool"]);

const HOSTS: PlainHost[] = [
  { labels: { instance: "web-1:9100", job: "node" }, usage: 20 },
  { labels: { instance: "web-2:9100", job: "node" }, usage: 45 },
  { labels: { instance: "cache-1:9100", job: "node" }, usage: 60 },
  { labels: { instance: "db-1:9100", job: "node" }, usage: 92 },
];

function text(value: unknown): string {
  return Array.isArray(value) ? value.join("") : typeof value === "string" ? value : "";
}

function allText(nb: Notebook): string {
  return nb.cells.flatMap((c) => c.outputs ?? []).map((o) => {
    if (o.output_type === "stream") return text(o.text);
    if (o.output_type === "error") return `${o.ename}: ${o.evalue}`;
    return text(o.data["text/plain"]) + text(o.data["text/html"]);
  }).join("\n");
}

function errors(nb: Notebook): string[] {
  return nb.cells.flatMap((c) => c.outputs ?? []).flatMap((o) =>
    o.output_type === "error" ? [`${o.ename}: ${o.evalue}`] : []
  );
}

Deno.test({
  name: "plain Prometheus (instance and job only): every notebook runs, and says what is missing",
  ignore: missing !== null,
  async fn(t) {
    await using prom = await startPrometheus({ openMetrics: plainFleetOpenMetrics(HOSTS, 24) });
    const outDir = await Deno.makeTempDir({ prefix: "opsbook-plain-" });
    const targets = { prometheusUrl: prom.url, outDir };
    const run = async (name: string, parameters = notebookParameters(name, targets)) => {
      const result = await runNotebook(`${REPO_ROOT}/notebooks/${name}.ipynb`, {
        output: `${outDir}/${name}.ipynb`,
        parameters,
        timeout: 120_000,
      });
      assert.deepEqual(result.warnings, []);
      assert.deepEqual(errors(result.notebook), []);
      return allText(result.notebook);
    };
    try {
      // A new notebook gets a step here too.
      assert.deepEqual(NOTEBOOKS, ["01_query", "02_chart", "03_alert", "04_anomaly", "05_rules"]);

      await t.step("01_query: grouped by what the series carry, with a one-line note", async () => {
        const out = await run("01_query");
        assert.ok(
          out.includes(
            'No "cloud" or "region" label on these series: left out ' +
              "(set group_by to labels they carry: instance, job)\n",
          ),
          out,
        );
        for (const h of HOSTS) assert.ok(out.includes(h.labels.instance), h.labels.instance);
        assert.match(out, /Every target is up\n/);
        assert.match(out, /Targets up and down(?! by)/);
        assert.ok(!out.includes("Targets up and down by"), out);
        assert.match(out, /Every target \(4\)/);
      });

      await t.step("02_chart: one chart for the whole fleet instead of one per cloud", async () => {
        const out = await run("02_chart");
        assert.ok(
          out.includes(
            'No "cloud" label on these series: one chart for the whole fleet ' +
              "(set facet to a label they carry: instance, job)\n",
          ),
          out,
        );
        assert.match(out, /Chart "CPU usage, whole fleet"/);
        assert.equal(out.match(/^Chart ".*" \(\d+×\d+ SVG\)$/gm)?.length, 4, out);
        assert.match(out, /CPU per fleet at 2026-11-01T12:00:00\.000Z/);
      });

      await t.step("02_chart: facet set to a label they carry (job)", async () => {
        const out = await run("02_chart", {
          ...notebookParameters("02_chart", targets),
          facet: "job",
        });
        assert.ok(!out.includes("No "), out);
        assert.match(out, /Chart "CPU usage per job"/);
      });

      await t.step("03_alert: the hot host fires once, from the plain series", async () => {
        const out = await run("03_alert");
        const printed = [...out.matchAll(/^\[(\w+)\] (\w+): .*\n {2}- \w+ .*instance=(\S+)/gm)]
          .map((m) => `${m[1]} ${m[2]} ${m[3]}`);
        assert.deepEqual(printed, ["FIRING HostHighCpu db-1:9100"]);
        // Still firing all day: repeated every 4 h, and only ever for db-1.
        const named = new Set([...out.matchAll(/instance=(\S+)/g)].map((m) => m[1]));
        assert.deepEqual([...named], ["db-1:9100"]);
        const headings = [...out.matchAll(/^\[(FIRING|STILL FIRING)\] HostHighCpu: /gm)].length;
        assert.ok(out.includes(`\n${headings} notification(s) written to `), out);
      });

      await t.step("04_anomaly: runs on instance and job alone", async () => {
        const out = await run("04_anomaly");
        assert.match(out, /samples of 4 hosts, 2026-11-01T00:00:00\.000Z to 2026-11-01T20:00/);
      });

      await t.step(
        "05_rules: the CPU rules fire on the plain series, the others say blind",
        async () => {
          const out = await run("05_rules");
          assert.match(out, /HostHighCpu/);
          assert.match(out, /db-1:9100/);
          assert.match(out, /blind, .* never matched any series/);
        },
      );

      await t.step("01_query over two servers as one fleet, grouped by source", async () => {
        await using west = await startPrometheus({
          openMetrics: plainFleetOpenMetrics([
            { labels: { instance: "west-1:9100", job: "node" }, usage: 85 },
          ], 24),
        });
        const out = await run("01_query", {
          ...notebookParameters("01_query", targets),
          prometheus_url: `east=${prom.url},west=${west.url}`,
          group_by: ["source"],
        });
        assert.ok(!out.includes("No "), out);
        assert.match(out, /Every target \(5\)/);
        assert.match(out, /Targets up and down by source/);
        assert.match(out, /<td>east<\/td><td>4<\/td><td>0<\/td>/);
        assert.match(out, /<td>west<\/td><td>1<\/td><td>0<\/td>/);
      });

      await t.step("an eval_time outside the data stops 01 and 02 saying so", async () => {
        for (const name of ["01_query", "02_chart"]) {
          const parameters = {
            ...notebookParameters(name, targets),
            eval_time: "2026-10-01T00:00:00Z",
          };
          const error = await runNotebook(`${REPO_ROOT}/notebooks/${name}.ipynb`, {
            output: `${outDir}/${name}-empty.ipynb`,
            parameters,
            timeout: 120_000,
          }).then(() => undefined, (e) => e);
          assert.ok(error instanceof NotebookExecutionError, `${name}: ${error}`);
          assert.equal(error.failure.ename, "EmptyResultError", name);
          assert.match(
            error.failure.evalue,
            /^Query returned no series: .*node_cpu_seconds_total.* at 2026-10-01T00:00:00\.000Z \(check the metric and label names/,
            `${name}: ${error.failure.evalue}`,
          );
          assert.ok(!/polars|FAILED HERE|not found/i.test(error.failure.evalue), name);
        }
        // 04 warns and says "No data: …" (its sections stay empty).
        const anomaly = await run("04_anomaly", {
          ...notebookParameters("04_anomaly", targets),
          eval_time: "2026-10-01T00:00:00Z",
        });
        assert.match(anomaly, /query returned no series: .*node_cpu_seconds_total/);
        assert.match(anomaly, /^No data: .* has no CPU samples between /m);
        // 03 warns and keeps its alert states: no data is never "all clear".
        const out = await run("03_alert", {
          ...notebookParameters("03_alert", targets),
          eval_time: "2026-10-01T00:00:00Z",
          catch_up: false,
          state_path: `${outDir}/empty/state.json`,
          alerts_dir: `${outDir}/empty`,
        });
        assert.match(out, /query returned no series: .*node_cpu_seconds_total/);
        assert.match(
          out,
          /No data between 2026-09-30T\d\d:00:00\.000Z and 2026-10-01T00:00:00\.000Z/,
        );
        assert.match(out, /no data for HostHighCpu and HostCpuTrend .*nothing resolved/);
      });
    } finally {
      await Deno.remove(outDir, { recursive: true });
    }
  },
});
