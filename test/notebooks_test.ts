/**
 * The four notebooks, executed headless with `runNotebook` against a real
 * Prometheus holding the synthetic dataset, with the demo's parameters: zero
 * error outputs, and the key outputs asserted.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Notebook } from "../lib/notebook/nbformat.ts";
import { runNotebook } from "../lib/notebook/runner.ts";
import { notebookProblems } from "../scripts/check_notebooks.ts";
import { HOSTS, SCENARIO_HOSTS } from "../scripts/dataset.ts";
import { notebookParameters, NOTEBOOKS } from "../scripts/demo.ts";
import { missingBinaries, REPO_ROOT, startPrometheus } from "../scripts/stack.ts";

const missing = missingBinaries(["prometheus", "promtool"]);

function text(value: unknown): string {
  return Array.isArray(value) ? value.join("") : typeof value === "string" ? value : "";
}

/** Every output of one cell as text (streams, text/plain and text/html). */
function cellText(cell: Notebook["cells"][number]): string {
  return (cell.outputs ?? []).map((o) => {
    if (o.output_type === "stream") return text(o.text);
    if (o.output_type === "error") return `${o.ename}: ${o.evalue}`;
    return text(o.data["text/plain"]) + text(o.data["text/html"]);
  }).join("\n");
}

function allText(nb: Notebook): string {
  return nb.cells.map(cellText).join("\n");
}

function errorOutputs(nb: Notebook): string[] {
  return nb.cells.flatMap((c) => c.outputs ?? []).filter((o) => o.output_type === "error")
    .map((o) => o.output_type === "error" ? `${o.ename}: ${o.evalue}` : "");
}

/** The code cell whose source contains `marker`. */
function cellWith(nb: Notebook, marker: string): Notebook["cells"][number] {
  const cell = nb.cells.find((c) => c.cell_type === "code" && c.source.includes(marker));
  assert.ok(cell, `a code cell containing ${marker}`);
  return cell;
}

Deno.test("notebooks: committed clean, documented, parameterised and importing opsbook", async () => {
  for (const name of NOTEBOOKS) {
    const raw = await Deno.readTextFile(`${REPO_ROOT}/notebooks/${name}.ipynb`);
    assert.deepEqual(notebookProblems(raw), [], name);
    const nb = JSON.parse(raw);
    assert.equal(nb.metadata.kernelspec.name, "deno", name);
    const [first, second] = nb.cells;
    assert.equal(first.cell_type, "markdown", `${name}: starts with a markdown cell`);
    assert.match(text(first.source), /^# 0\d · /, name);
    assert.equal(second.cell_type, "code", name);
    assert.deepEqual(second.metadata.tags, ["parameters"], name);
    const params = text(second.source);
    assert.match(
      params,
      /const prometheus_url = Deno\.env\.get\("PROMETHEUS_URL"\) \?\? "http:\/\/localhost:9090";/,
      name,
    );
    assert.match(params, /const threshold = 80;/, name);
    assert.match(params, /const window = "5m";/, name);
    assert.match(params, /const eval_time: string \| null = null;/, name);
    assert.match(params, /const range = "/, name);
    const code = nb.cells.filter((c: { cell_type: string }) => c.cell_type === "code")
      .map((c: { source: unknown }) => text(c.source)).join("\n");
    assert.match(code, /from "opsbook";/, name);
    assert.ok(
      nb.cells.filter((c: { cell_type: string }) => c.cell_type === "markdown").length >= 4,
      `${name}: explains its steps`,
    );
  }
});

Deno.test({
  name: "notebooks: all four run headless against the dataset with their key outputs",
  ignore: missing !== null,
  fn: async (t) => {
    const prom = await startPrometheus({ dataset: true });
    const outDir = await Deno.makeTempDir({ prefix: "opsbook-notebooks-" });
    const targets = { prometheusUrl: prom.url, outDir };
    const run = async (name: string, options: { parameters?: Record<string, unknown> } = {}) => {
      const result = await runNotebook(`${REPO_ROOT}/notebooks/${name}.ipynb`, {
        output: `${outDir}/${name}.ipynb`,
        parameters: options.parameters ?? notebookParameters(name, targets),
        env: { PROMETHEUS_URL: prom.url },
        timeout: 60_000,
      });
      assert.deepEqual(result.warnings, []);
      assert.deepEqual(errorOutputs(result.notebook), []);
      return result.notebook;
    };
    try {
      await t.step(
        "01_query: every dataset host, the down target, PROMETHEUS_URL from the env",
        async () => {
          const { prometheus_url: _, ...parameters } = notebookParameters("01_query", targets);
          const nb = await run("01_query", { parameters });
          const out = allText(nb);
          assert.match(
            out,
            new RegExp(`Prometheus [^ ]+ at ${prom.url}, evaluating at 2026-11-01T16:30`),
          );
          const targetsTable = cellText(cellWith(nb, "table(targets"));
          for (const host of HOSTS) {
            assert.ok(
              targetsTable.includes(host.instance),
              `${host.instance} in the targets table`,
            );
          }
          assert.match(targetsTable, /Every target \(12\)/);
          assert.match(out, new RegExp(`Down: ${SCENARIO_HOSTS.stops}\n`));
          const summary = cellText(cellWith(nb, "queryRangeFrame"));
          for (const host of HOSTS) assert.ok(summary.includes(host.instance), host.instance);
          assert.match(out, /<table/);
        },
      );

      await t.step("02_chart: four charts shown and saved as SVG and PNG", async () => {
        const nb = await run("02_chart");
        const svgs = nb.cells.flatMap((c) => c.outputs ?? [])
          .filter((o) => o.output_type !== "stream" && o.output_type !== "error")
          .filter((o) => "data" in o && typeof o.data["image/svg+xml"] !== "undefined");
        assert.equal(svgs.length, 4);
        assert.match(allText(nb), /Chart "CPU usage per host at 2026-11-01 12:00 UTC"/);
        const files = [];
        for await (const e of Deno.readDir(`${outDir}/charts`)) files.push(e.name);
        for (const base of ["cpu_bars", "cpu_lines", "cpu_heatmap", "cpu_per_cloud"]) {
          assert.ok(files.includes(`${base}.svg`) && files.includes(`${base}.png`), base);
          const png = await Deno.readFile(`${outDir}/charts/${base}.png`);
          assert.deepEqual([...png.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
          const svg = await Deno.readTextFile(`${outDir}/charts/${base}.svg`);
          assert.ok(svg.startsWith("<svg"), base);
        }
        assert.match(
          cellText(cellWith(nb, 'groupBy("cloud")')),
          /aliyun[\s\S]*azure[\s\S]*tencent/,
        );
      });

      await t.step(
        "03_alert: dry run names the sustained host, not the spike host; no repeats",
        async () => {
          const nb = await run("03_alert");
          const sent = cellText(cellWith(nb, "alerter.evaluate(hostsFiringAt(t)"));
          assert.match(sent, /^Dry run: 108 evaluation\(s\), 0 skipped$/m);
          assert.match(sent, /\[FIRING\] HostHighCpu: 1 alert for dry-run/);
          assert.match(sent, /\[RESOLVED\] HostHighCpu: 1 alert for dry-run/);
          assert.ok(sent.includes(SCENARIO_HOSTS.sustained), "the sustained host is named");
          assert.ok(!sent.includes(SCENARIO_HOSTS.spike), "the spike host is not named");
          assert.match(sent, /^2 notification\(s\) written to /m);
          const preview = cellText(cellWith(nb, "slackMessage("));
          assert.equal(JSON.parse(preview).blocks[0].type, "header");
          assert.ok(preview.includes(SCENARIO_HOSTS.sustained));
          // The threshold detector alone would have flagged the spike host.
          assert.ok(cellText(cellWith(nb, "overThreshold(history")).includes(SCENARIO_HOSTS.spike));
          assert.match(
            allText(nb),
            /Second evaluation at 2026-11-01T14:30:00\.000Z: 0 firing, 0 sent/,
          );
          const files = () =>
            Array.from(Deno.readDirSync(`${outDir}/alerts`)).map((e) => e.name).filter((n) =>
              n.includes("HostHighCpu")
            ).sort();
          assert.equal(files().length, 2);

          // The next timer run over the same state sends nothing again.
          const again = await run("03_alert");
          const sentAgain = cellText(cellWith(again, "alerter.evaluate(hostsFiringAt(t)"));
          // Evaluations up to the state's last change are skipped; the rest change nothing.
          const counts = sentAgain.match(/^Dry run: (\d+) evaluation\(s\), (\d+) skipped/m);
          assert.ok(counts, sentAgain);
          assert.equal(Number(counts[1]) + Number(counts[2]), 108);
          assert.ok(Number(counts[2]) >= 78, `skipped ${counts[2]}`);
          assert.match(sentAgain, /^0 notification\(s\) written to /m);
          assert.ok(!sentAgain.includes("[FIRING]"));
          assert.equal(files().length, 2);
          const states = cellText(cellWith(again, "alerter.records()"));
          assert.match(states, /HostHighCpu\s+ali-hz-db-01:9100\s+resolved/);
        },
      );

      await t.step("04_anomaly: flags the trending host and compares the detectors", async () => {
        const nb = await run("04_anomaly");
        const trendTable = cellText(cellWith(nb, "trend(history"));
        assert.ok(trendTable.includes(SCENARIO_HOSTS.trend), "the trending host is flagged");
        assert.match(trendTable, /1 rows? × 6 columns/);
        const comparison = cellText(cellWith(nb, "const caught"));
        const trendRow = comparison.split("\n").find((l) => l.startsWith(SCENARIO_HOSTS.trend));
        assert.ok(trendRow, "the trending host is in the comparison");
        assert.match(trendRow, /yes\s*$/, "caught by the trend detector");
        for (
          const host of [SCENARIO_HOSTS.sustained, SCENARIO_HOSTS.spike, SCENARIO_HOSTS.flapping]
        ) {
          assert.ok(comparison.includes(host), host);
        }
        assert.match(allText(nb), /Saved 3 charts as SVG and PNG/);
      });
    } finally {
      await prom.stop();
      await Deno.remove(outDir, { recursive: true }).catch(() => {});
    }
  },
});
