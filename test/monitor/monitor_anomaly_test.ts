// The monitor with the anomaly rule (rules/anomaly.yml): the trackers live in the monitor's state
// between evaluations, and the alert text says what is normal.
import assert from "node:assert/strict";
import { missingBinaries, startPrometheus } from "../../dev/stack.ts";
import { runMonitor } from "../support/monitor_process.ts";
import { startSlackReceiver } from "../support/slack_receiver.ts";

const missing = missingBinaries(["prometheus", "promtool"]);

function field(line: string, name: string): string | undefined {
  const m = line.match(new RegExp(`(?:^| )${name}=("(?:[^"\\\\]|\\\\.)*"|\\S*)`));
  if (!m) return undefined;
  return m[1].startsWith('"') ? JSON.parse(m[1]) : m[1];
}

Deno.test({
  name:
    "monitor --rules rules/anomaly.yml: the sustained host fires at 10:06 and resolves at 12:01, saying what is normal",
  ignore: missing !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using prom = await startPrometheus();
    await using slack = startSlackReceiver({ webhookPath: "/services/T1/B1/anomalySecret7" });
    const dir = await Deno.makeTempDir({ prefix: "opsbook-monitor-anomaly-" });
    try {
      const config = `${dir}/monitor.json`;
      await Deno.writeTextFile(
        config,
        JSON.stringify({
          prometheusUrl: prom.url,
          replayStep: "1m",
          interval: "10ms",
          receivers: {
            team: { type: "slack", webhookUrl: slack.webhookUrl, baseUrl: slack.url },
          },
          route: { receiver: "team" },
        }),
      );
      const args = (start: string, end: string) => [
        "--config",
        config,
        "--rules",
        "rules/anomaly.yml",
        "--state",
        `${dir}/state.json`,
        "--replay-start",
        start,
        "--replay-end",
        end,
      ];
      // Two runs on one state: the second continues from the trackers the first saved.
      const first = await runMonitor(args("2026-11-01T09:55:00Z", "2026-11-01T10:30:00Z"));
      assert.equal(first.code, 0, first.stderr + first.lines.slice(-5).join("\n"));
      // The trackers are saved with the alert states: one per host, read up to the last evaluation.
      const saved = async () =>
        JSON.parse(await Deno.readTextFile(`${dir}/state.monitor.json`)).rules
          .rules["anomaly/HostCpuUnusual"].anomaly;
      const after = await saved();
      assert.equal(Object.keys(after.series).length, 12);
      assert.equal(after.until, Date.parse("2026-11-01T10:30:00Z"));
      const second = await runMonitor(args("2026-11-01T10:31:00Z", "2026-11-01T12:05:00Z"));
      assert.equal(second.code, 0, second.stderr + second.lines.slice(-5).join("\n"));
      assert.equal((await saved()).until, Date.parse("2026-11-01T12:05:00Z"));
      const transitions = [...first.lines, ...second.lines]
        .filter((l) => l.includes("event=transition "))
        .map((l) =>
          `${field(l, "alertname")} ${field(l, "host")} ${field(l, "kind")} ${
            field(l, "evaluated_at")!.slice(11, 16)
          }`
        );
      assert.deepEqual(transitions, [
        "HostCpuUnusual ali-hz-db-01:9100 firing 10:06",
        "HostCpuUnusual ali-hz-db-01:9100 resolved 12:01",
      ]);
      const texts = slack.messages.map((m) =>
        (m.blocks as { text?: { text: string } }[]).map((b) => b.text?.text ?? "").join(" | ")
      );
      assert.equal(texts.length, 2);
      assert.match(texts[0], /FIRING: HostCpuUnusual/);
      assert.match(
        texts[0],
        /CPU on ali-hz-db-01:9100 is unusual: 95\.0 % where 42\.5–46\.9 % is normal in the last 1h/,
      );
      assert.match(texts[1], /RESOLVED: HostCpuUnusual/);
      for (const l of [...first.lines, ...second.lines]) {
        assert.doesNotMatch(l, /level=(warn|error)/, l);
      }
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
