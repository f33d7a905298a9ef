/**
 * The five notebooks, executed headless with `runNotebook` against a real
 * Prometheus holding the synthetic dataset, with the demo's parameters: zero
 * error outputs, and the key outputs asserted.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Notification } from "../../lib/alert/types.ts";
import type { Notebook } from "../../lib/notebook/nbformat.ts";
import { runNotebook } from "../../lib/notebook/runner.ts";
import { notebookProblems } from "../../scripts/check_notebooks.ts";
import { HOSTS, SCENARIO_HOSTS } from "../../dev/dataset.ts";
import { notebookParameters, NOTEBOOKS } from "../../scripts/demo.ts";
import { missingBinaries, REPO_ROOT, startPrometheus } from "../../dev/stack.ts";
import { plainFleetOpenMetrics } from "../support/plain_fleet.ts";

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

/** The rows of the first text table in `text` (columns cut at the dashes under the header). */
function tableRows(text: string): Record<string, string>[] {
  const lines = text.split("\n");
  const rule = lines.findIndex((l) => /^-+( +-+)+ *$/.test(l));
  assert.ok(rule >= 2, "a table");
  const spans = [...lines[rule].matchAll(/-+/g)].map((m) => [m.index!, m.index! + m[0].length]);
  const cut = (line: string) =>
    spans.map(([a], i) => line.slice(a, i + 1 < spans.length ? spans[i + 1][0] : undefined).trim());
  const names = cut(lines[rule - 2]);
  const out: Record<string, string>[] = [];
  for (const line of lines.slice(rule + 1)) {
    if (line.trim() === "" || /^\d+ rows? × /.test(line)) break;
    const cells = cut(line);
    out.push(Object.fromEntries(names.map((n, i) => [n, cells[i]])));
  }
  return out;
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
    if (name === "05_rules") {
      assert.match(params, /const rules_path = "\.\.\/rules\/node\.yml";/, name);
      assert.match(params, /const start: string \| null = null;/, name);
      assert.match(params, /const end: string \| null = null;/, name);
    } else {
      assert.match(params, /const threshold = 80;/, name);
      assert.match(params, /const window = "5m";/, name);
      assert.match(params, /const eval_time: string \| null = null;/, name);
      assert.match(params, /const range = "/, name);
    }
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
  name: "notebooks: all five run headless against the dataset with their key outputs",
  ignore: missing !== null,
  fn: async (t) => {
    const prom = await startPrometheus({ dataset: true });
    const outDir = await Deno.makeTempDir({ prefix: "opsbook-notebooks-" });
    const targets = { prometheusUrl: prom.url, outDir };
    const run = async (
      name: string,
      options: { parameters?: Record<string, unknown>; env?: Record<string, string> } = {},
    ) => {
      const result = await runNotebook(`${REPO_ROOT}/notebooks/${name}.ipynb`, {
        output: `${outDir}/${name}.ipynb`,
        parameters: options.parameters ?? notebookParameters(name, targets),
        env: { PROMETHEUS_URL: prom.url, ...options.env },
        // 05_rules' backtest cell replays the trend detector at 1,441 evaluations (about 30 s
        // on an idle machine, near 60 s under load).
        timeout: name === "05_rules" ? 240_000 : 60_000,
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
          cellText(cellWith(nb, "now.groupBy(facets)")),
          /aliyun[\s\S]*azure[\s\S]*tencent/,
        );
      });

      await t.step(
        "03_alert: the shared rules over the day: flapping and sustained hosts once each, the trend warning, never the spike host; no repeats",
        async () => {
          const { flapping, sustained, spike, trend } = SCENARIO_HOSTS;
          const nb = await run("03_alert");
          const sent = cellText(cellWith(nb, "alerter.evaluate(result.alerts"));
          assert.match(
            sent,
            /^Dry run: 288 evaluation\(s\) of HostHighCpu and HostCpuTrend, 0 skipped$/m,
          );
          // What the dry run printed, in order: heading and the instance of each alert.
          const printed = [...sent.matchAll(/^\[(\w+)\] (\w+): .*\n {2}- \w+ .*instance=(\S+)/gm)]
            .map((m) => `${m[1]} ${m[2]} ${m[3]}`);
          assert.deepEqual(printed, [
            `FIRING HostHighCpu ${flapping}`,
            `RESOLVED HostHighCpu ${flapping}`,
            `FIRING HostHighCpu ${sustained}`,
            `RESOLVED HostHighCpu ${sustained}`,
            `FIRING HostCpuTrend ${trend}`,
          ]);
          assert.ok(!sent.includes(spike), "the spike host is never named");
          assert.match(sent, /^5 notification\(s\) written to /m);
          // The same notifications as JSON files: when, which group, which hosts.
          const notifications = async () => {
            const out: Notification[] = [];
            const names = Array.from(Deno.readDirSync(`${outDir}/alerts`)).map((e) => e.name)
              .filter((n) => /-(firing|resolved|repeat|delayed)-/.test(n)).sort();
            for (const n of names) {
              out.push(JSON.parse(await Deno.readTextFile(`${outDir}/alerts/${n}`)));
            }
            return out;
          };
          const written = await notifications();
          assert.deepEqual(
            written.map((n) =>
              `${n.createdAt.slice(11, 16)} ${n.group} ${n.kind} ${
                n.alerts.map((a) => `${a.labels.instance}:${a.status}`).join(",")
              }`
            ),
            [
              `06:10 HostHighCpu firing ${flapping}:firing`,
              `09:05 HostHighCpu resolved ${flapping}:resolved`,
              `10:10 HostHighCpu firing ${sustained}:firing`,
              `12:05 HostHighCpu resolved ${sustained}:resolved`,
              `19:05 HostCpuTrend firing ${trend}:firing`,
            ],
          );
          assert.ok(!JSON.stringify(written).includes(spike));
          // The resolve notice says when it fired and resolved, whatever the last detector row said.
          assert.deepEqual(written[3].alerts[0].annotations, {
            summary: `CPU 95.0 % on ${sustained} (above 80 % for 5m)`,
            description:
              "Resolved at 2026-11-01 12:05:00 UTC after 2h4m45s firing (since 10:00:15). " +
              "When it fired: 95.0 % > 80 % for 9m45s since 2026-11-01T10:00:15Z; " +
              "fires above 80 % sustained for 5m, clears below 75 %",
          });

          const preview = cellText(cellWith(nb, "slackMessage("));
          const message = JSON.parse(preview);
          assert.equal(message.blocks[0].type, "header");
          assert.equal(message.blocks[0].text.text, ":red_circle: FIRING: HostHighCpu — 1 host");
          assert.ok(preview.includes(sustained));
          assert.match(
            cellText(cellWith(nb, "const preview = evaluateAt")),
            new RegExp(
              `^At 2026-11-01T10:10:00\\.000Z the rules hold for: HostHighCpu ${sustained}$`,
              "m",
            ),
          );
          // The threshold detector alone would have flagged the spike host; sustained alone
          // fires the flapping host again and again, hysteresis once.
          const detectors = cellText(cellWith(nb, "compareDetectors(history)"));
          assert.match(detectors, new RegExp(`${spike}\\s+2\\s+0\\s+1\\b`));
          assert.match(detectors, new RegExp(`${flapping}\\s+120\\s+12\\s+1\\b`));
          assert.match(detectors, new RegExp(`${sustained}\\s+120\\s+1\\s+1\\b`));
          assert.match(
            allText(nb),
            /Second evaluation at 2026-11-02T00:00:00\.000Z: 1 firing, 0 sent/,
          );

          // The next timer run over the same state sends nothing again.
          const again = await run("03_alert");
          const sentAgain = cellText(cellWith(again, "alerter.evaluate(result.alerts"));
          // Evaluations before the state's last change (the trend warning at 19:05) are skipped.
          assert.match(
            sentAgain,
            /^Dry run: 60 evaluation\(s\) of HostHighCpu and HostCpuTrend, 228 skipped \(the state's last change was at 2026-11-01T19:05:00\.000Z\)$/m,
          );
          assert.match(sentAgain, /^0 notification\(s\) written to /m);
          assert.ok(!/\[(FIRING|RESOLVED|STILL FIRING)\]/.test(sentAgain), sentAgain);
          assert.deepEqual(await notifications(), written);
          const states = cellText(cellWith(again, "alerter.records()"));
          assert.match(states, new RegExp(`HostCpuTrend\\s+${trend}\\s+firing`));
          assert.match(states, new RegExp(`HostHighCpu\\s+${flapping}\\s+resolved`));
          assert.match(states, new RegExp(`HostHighCpu\\s+${sustained}\\s+resolved`));
          assert.ok(!states.includes(spike));
        },
      );

      await t.step(
        "03_alert: with SLACK_WEBHOOK_URL the message goes to Slack, the URL never in the outputs",
        async () => {
          const posts: { path: string; body: string }[] = [];
          await using server = Deno.serve(
            { port: 0, hostname: "127.0.0.1", onListen() {} },
            async (req) => {
              posts.push({ path: new URL(req.url).pathname, body: await req.text() });
              return new Response("ok");
            },
          );
          const secretPath = "/services/T0000/B0000/notebookSecret42";
          const nb = await run("03_alert", {
            parameters: {
              ...notebookParameters("03_alert", { ...targets, outDir: `${outDir}/slack` }),
              eval_time: "2026-11-01T10:30:00Z",
              range: "1h",
            },
            env: {
              SLACK_WEBHOOK_URL: `https://hooks.slack.com${secretPath}`,
              SLACK_BASE_URL: `http://127.0.0.1:${server.addr.port}`,
            },
          });
          const sent = cellText(cellWith(nb, "alerter.evaluate(result.alerts"));
          assert.match(sent, /^Sending to Slack: 12 evaluation\(s\) of /m);
          assert.match(sent, /^1 notification\(s\) sent to Slack$/m);
          assert.equal(posts.length, 1);
          assert.equal(posts[0].path, secretPath);
          const body = JSON.parse(posts[0].body);
          assert.equal(body.blocks[0].text.text, ":red_circle: FIRING: HostHighCpu — 1 host");
          assert.ok(posts[0].body.includes(SCENARIO_HOSTS.sustained));
          assert.ok(!posts[0].body.includes(SCENARIO_HOSTS.spike));
          assert.ok(!JSON.stringify(nb).includes("notebookSecret42"), "the webhook is never shown");
          // Not a dry run: nothing written as a notification file, only the state.
          const files = Array.from(Deno.readDirSync(`${outDir}/slack/alerts`)).map((e) => e.name);
          assert.deepEqual(files.sort(), ["state.json", "state.outbox.json"]);
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
        assert.match(
          comparison,
          /instance +threshold +sustained_10m +fleet_outlier +baseline +anomaly +trend/,
        );
        const spans = cellText(cellWith(nb, "spans.select("));
        assert.match(
          spans,
          /ali-hz-db-01:9100 +2026-11-01 10:01:00Z +2026-11-01 12:00:00Z +0\.72 +95\.0 % where 42\.5–46\.9 % is normal in the last 1h/,
        );
        assert.match(
          spans,
          /az-eus-app-01:9100 +2026-11-01 06:01:00Z +2026-11-01 09:00:00Z +0\.79 /,
        );
        assert.match(spans, /tc-gz-api-01:9100 +2026-11-01 14:01:00Z +2026-11-01 14:02:00Z +0\.7 /);
        assert.match(spans, /3 rows × 5 columns/);
        const grades = cellText(cellWith(nb, "const DATASET_INCIDENTS"));
        assert.match(grades, /anomaly +06:01 +10:01 +14:01 +— +0\n/);
        assert.match(grades, /threshold +06:01 +10:01 +14:01 +— +0\n/);
        assert.match(grades, /trend +— +— +— +20:00 +0\n/);
        const svgs = nb.cells.flatMap((c) => c.outputs ?? [])
          .filter((o) => o.output_type !== "stream" && o.output_type !== "error")
          .map((o) => text(o.data["image/svg+xml"]))
          .filter((svg) => svg !== "");
        const spanSvg = svgs.find((svg) => svg.includes("Anomaly spans: 3 on 3 host(s)"));
        assert.ok(spanSvg, "the span chart is shown");
        assert.equal(spanSvg.match(/<rect [^>]*>\s*<title>/g)?.length, 3, "three shaded spans");
        assert.match(allText(nb), /Saved 5 charts as SVG and PNG/);
      });

      await t.step(
        "05_rules: the backtest of rules/node.yml finds each scripted incident at its time; timeline, notifications per day, what if",
        async () => {
          const nb = await run("05_rules");
          const out = allText(nb);
          assert.match(
            out,
            /^\/.*\/rules\/node\.yml: 1 group\(s\), 8 alerting rule\(s\); backtest from 2026-11-01T00:00:00\.000Z to 2026-11-02T00:00:00\.000Z$/m,
          );
          // Every rule's scripted incident (the dataset's table in the README), at 1 m evaluations.
          const rows = cellText(cellWith(nb, "await backtest(prom, groups"));
          const fired = tableRows(rows).filter((r) => r.fired_at !== "").map((r) =>
            `${r.alertname} ${r.labels.match(/instance="([^"]+)"/)?.[1]} ${
              r.fired_at.slice(11, 16)
            } ${r.resolved_at === "" ? "-" : r.resolved_at.slice(11, 16)}`
          );
          for (
            const expected of [
              `HostOutOfMemory ${SCENARIO_HOSTS.memory} 01:53 03:01`,
              `HostHighIowait ${SCENARIO_HOSTS.iowait} 03:43 04:33`,
              `HostHighCpu ${SCENARIO_HOSTS.flapping} 06:06 09:01`,
              `HostHighCpu ${SCENARIO_HOSTS.sustained} 10:06 12:01`,
              `HostDown ${SCENARIO_HOSTS.stops} 16:03 -`,
              `HostMetricsMissing ${SCENARIO_HOSTS.stops} 16:11 17:06`,
              `HostDiskWillFillIn24Hours ${SCENARIO_HOSTS.disk} 19:07 22:17`,
              `HostCpuTrend ${SCENARIO_HOSTS.trend} 19:19 -`,
              `HostDiskFull ${SCENARIO_HOSTS.disk} 20:48 21:31`,
            ]
          ) assert.ok(fired.includes(expected), `${expected} in\n${fired.join("\n")}`);
          // The spike is pending only.
          assert.match(
            rows,
            new RegExp(
              `^HostHighCpu +\\{[^}]*instance="${SCENARIO_HOSTS.spike}".*2026-11-01T14:01:00Z +2026-11-01T14:03:00Z `,
              "m",
            ),
          );
          // The timeline is one SVG chart.
          const svgs = nb.cells.flatMap((c) => c.outputs ?? [])
            .filter((o) => "data" in o && typeof o.data["image/svg+xml"] !== "undefined");
          assert.equal(svgs.length, 1);
          // Notifications per rule and day: HostHighCpu fired and resolved twice.
          assert.match(cellText(cellWith(nb, "notifiedAt")), /^HostHighCpu +4 +4$/m);
          // What if: 90 % misses the flapping host (83-88 %); for 0s catches both 5 minutes earlier.
          const whatIf = cellText(cellWith(nb, "const whatIf"));
          assert.match(
            whatIf,
            /^HostHighCpu as written \(> 80, for 5m\): 2 incident\(s\); 12 variants replayed$/m,
          );
          assert.match(whatIf, /^80 +5m +yes +4 +2 +0 min +0 min +2\/2$/m);
          assert.match(whatIf, /^80 +0s +\d+ +\d+ +-5 min +-5 min +2\/2$/m);
          assert.match(whatIf, /^90 +5m +\d+ +1 +missed +0 min +1\/2$/m);
        },
      );
    } finally {
      await prom.stop();
      await Deno.remove(outDir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name:
    "03_alert: no data is never all clear: an empty Prometheus keeps the firing alert and says why; an earlier eval_time resolves nothing",
  ignore: missing !== null,
  fn: async () => {
    const { sustained } = SCENARIO_HOSTS;
    await using prom = await startPrometheus({ dataset: true });
    await using empty = await startPrometheus({ dataset: false });
    const outDir = await Deno.makeTempDir({ prefix: "opsbook-nodata-" });
    // One state_path for the three runs, as a timer would use it.
    const run = async (url: string, evalTime: string) => {
      const result = await runNotebook(`${REPO_ROOT}/notebooks/03_alert.ipynb`, {
        output: `${outDir}/03_alert.ipynb`,
        parameters: {
          ...notebookParameters("03_alert", { prometheusUrl: url, outDir }),
          eval_time: evalTime,
          range: "1h",
          catch_up: false,
        },
        env: { PROMETHEUS_URL: url },
        timeout: 60_000,
      });
      assert.deepEqual(result.warnings, []);
      assert.deepEqual(errorOutputs(result.notebook), []);
      return result.notebook;
    };
    try {
      const first = await run(prom.url, "2026-11-01T10:10:00Z");
      assert.match(
        cellText(cellWith(first, "alerter.evaluate(result.alerts")),
        new RegExp(`^\\[FIRING\\] HostHighCpu: [\\s\\S]*instance=${sustained}`, "m"),
      );

      // 10:15 against a Prometheus without that data: nothing resolves, and it says why.
      const second = await run(empty.url, "2026-11-01T10:15:00Z");
      const sent = cellText(cellWith(second, "alerter.evaluate(result.alerts"));
      assert.match(
        sent,
        /^2026-11-01T10:15:00\.000Z: no data for HostHighCpu and HostCpuTrend \(no samples of the CPU query in HostHighCpu's last 15m, HostCpuTrend's last 6h\): alert states kept, 1 firing alert\(s\) stay firing, nothing resolved$/m,
      );
      assert.match(sent, /^0 notification\(s\) written to /m);
      assert.doesNotMatch(allText(second), /RESOLVED/);
      assert.match(
        cellText(cellWith(second, "alerter.records()")),
        new RegExp(`HostHighCpu\\s+${sustained}\\s+firing`),
      );

      // An eval_time before the state's last change resolves nothing either ("after 0s").
      const third = await run(prom.url, "2025-01-01T00:00:00Z");
      const out = allText(third);
      assert.match(
        out,
        /^Dry run: 0 evaluation\(s\) of HostHighCpu and HostCpuTrend, 1 skipped \(the state's last change was at 2026-11-01T10:10:00\.000Z\)$/m,
      );
      assert.match(
        out,
        /^Second evaluation skipped: 2025-01-01T00:00:00\.000Z is before the state's last change \(2026-11-01T10:10:00\.000Z\); alert states kept\./m,
      );
      assert.doesNotMatch(out, /RESOLVED|after 0s/);
      assert.match(
        cellText(cellWith(third, "alerter.records()")),
        new RegExp(`HostHighCpu\\s+${sustained}\\s+firing`),
      );
      const files = Array.from(Deno.readDirSync(`${outDir}/alerts`)).map((e) => e.name)
        .filter((n) => /-(firing|resolved|repeat|delayed)-/.test(n));
      assert.equal(files.length, 1, `one notification in all: ${files.join(", ")}`);
    } finally {
      await Deno.remove(outDir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name:
    "04_anomaly: on a plain Prometheus (instance and job only) every section runs; on an empty one it says there is no data",
  ignore: missing !== null,
  fn: async () => {
    await using plain = await startPrometheus({
      openMetrics: plainFleetOpenMetrics([
        { labels: { instance: "web-1:9100", job: "node" }, usage: 30 },
        { labels: { instance: "db-1:9100", job: "node" }, usage: 60 },
      ], 4),
    });
    await using empty = await startPrometheus({ dataset: false });
    const outDir = await Deno.makeTempDir({ prefix: "opsbook-04-" });
    const run = async (url: string) => {
      const result = await runNotebook(`${REPO_ROOT}/notebooks/04_anomaly.ipynb`, {
        output: `${outDir}/04_anomaly.ipynb`,
        parameters: {
          ...notebookParameters("04_anomaly", { prometheusUrl: url, outDir }),
          eval_time: "2026-11-01T04:00:00Z",
          range: "4h",
        },
        env: { PROMETHEUS_URL: url },
        timeout: 60_000,
      });
      assert.deepEqual(result.warnings, []);
      assert.deepEqual(errorOutputs(result.notebook), []);
      return result.notebook;
    };
    try {
      const nb = await run(plain.url);
      const out = allText(nb);
      assert.match(
        out,
        /^480 samples of 2 hosts, 2026-11-01T00:00:00\.000Z to 2026-11-01T04:00:00\.000Z$/m,
      );
      assert.match(out, /Chart "No anomaly span \(level 0\.25\)"/);
      assert.match(
        out,
        /^No known incidents in this range: false_flags counts every run of flags\. Pass known_incidents to grade the detectors\.$/m,
      );
      assert.match(out, /Saved 5 charts as SVG and PNG/);

      const none = allText(await run(empty.url));
      const noData = new RegExp(
        `^No data: ${
          empty.url.replace(/[.]/g, "\\.")
        } has no CPU samples between 2026-11-01T00:00:00\\.000Z and 2026-11-01T04:00:00\\.000Z\\.$`,
        "m",
      );
      assert.match(none, noData);
      assert.match(none, /Check that node_exporter is scraped/);
      assert.match(none, /has no CPU samples between [^\n]*: no charts saved$/m);
      assert.doesNotMatch(none, /Saved \d+ charts/);
    } finally {
      await Deno.remove(outDir, { recursive: true }).catch(() => {});
    }
  },
});
