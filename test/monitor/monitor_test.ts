import assert from "node:assert/strict";
import { defaultCpuRules } from "../../lib/rules/cpu_rules.ts";
import { loadConfig } from "../../lib/monitor/config.ts";
import { monitorRules } from "../../lib/monitor/daemon.ts";
import { freePort, missingBinaries, startPrometheus } from "../../dev/stack.ts";
import { runMonitor, startMonitor } from "../support/monitor_process.ts";

const missing = missingBinaries(["prometheus", "promtool"]);

function field(line: string, name: string): string | undefined {
  const m = line.match(new RegExp(`(?:^| )${name}=("(?:[^"\\\\]|\\\\.)*"|\\S*)`));
  if (!m) return undefined;
  return m[1].startsWith('"') ? JSON.parse(m[1]) : m[1];
}

Deno.test("monitorRules: the shared rules, configured from the settings", () => {
  const rules = monitorRules(loadConfig({ env: {} }));
  const shared = defaultCpuRules();
  assert.deepEqual(rules.map((r) => r.name), shared.map((r) => r.name));
  assert.deepEqual(rules[0].window, shared[0].window);
  assert.equal(rules[0].context.threshold, 80);
  assert.equal(rules[1].repeatInterval, "24h");
  assert.equal(rules[1].context.threshold, 100);

  const custom = monitorRules(
    loadConfig({ env: { CPU_THRESHOLD: "90", CPU_LOW: "70", CPU_TREND_LOOKBACK: "3h" } }),
    { graphURL: "http://prom/graph" },
  );
  assert.equal(custom[0].context.threshold, 90);
  assert.equal(custom[0].context.graphURL, "http://prom/graph");
  assert.deepEqual(custom[1].window, { range: 3 * 3600, step: "5m" });
  assert.deepEqual(
    monitorRules(loadConfig({ env: { CPU_TREND: "false" } })).map((r) => r.name),
    ["HostHighCpu"],
  );
});

Deno.test({
  name: "monitor CLI: exit codes, config, lock, signals, /metrics",
  ignore: missing !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async (t) => {
    await using prom = await startPrometheus();
    const dir = await Deno.makeTempDir({ prefix: "opsbook-monitor-test-" });
    try {
      const common = ["--prometheus-url", prom.url, "--query-timeout", "2s"];

      await t.step("--once exits 0 after a good evaluation and logs it", async () => {
        const r = await runMonitor([
          ...common,
          "--once",
          "--state",
          `${dir}/once.json`,
          "--replay-start",
          "2026-11-01T10:30:00Z",
        ]);
        assert.equal(r.code, 0, r.stderr + r.lines.join("\n"));
        const evaluation = r.lines.find((l) => l.includes("event=evaluation "))!;
        assert.equal(field(evaluation, "ok"), "true");
        assert.equal(field(evaluation, "hosts"), "12");
        // rules/node.yml: HostHighCpu, warmed up over its 5 m `for`, fires at the first evaluation.
        assert.equal(field(evaluation, "firing"), "1");
        assert.equal(field(evaluation, "rules"), "8");
        assert.equal(field(evaluation, "evaluated_at"), "2026-11-01T10:30:00.000Z");
        assert.deepEqual(
          r.lines.filter((l) => l.includes("event=transition ")).map((l) =>
            `${field(l, "alertname")} ${field(l, "host")} ${field(l, "kind")} ${
              field(l, "summary")
            }`
          ),
          [
            "HostHighCpu ali-hz-db-01:9100 firing CPU 95.0 % on ali-hz-db-01:9100",
          ],
        );
        assert.ok(r.lines.some((l) => l.includes("event=dry_run_notification")));
        assert.ok(r.lines.some((l) => l.includes("event=stopped")));

        // The trend rule: tc-sh-batch-01 climbs from 12:00, the trend detector holds from 19:04 and
        // fires after its for: 15m (README's table: 19:19 at 1 m evaluations); at 19:20 the disk
        // and the stopped host fire too.
        const trend = await runMonitor([
          ...common,
          "--once",
          "--state",
          `${dir}/trend.json`,
          "--replay-start",
          "2026-11-01T19:20:00Z",
        ]);
        assert.equal(trend.code, 0, trend.stderr);
        const transitions = trend.lines.filter((l) => l.includes("event=transition "));
        assert.deepEqual(
          transitions.map((l) =>
            `${field(l, "alertname")} ${field(l, "host")} ${field(l, "kind")}`
          ),
          [
            "HostCpuTrend tc-sh-batch-01:9100 firing",
            "HostDiskWillFillIn24Hours tc-gz-web-01:9100 firing",
            "HostDown az-weu-cache-01:9100 firing",
          ],
        );
        const noTrend = await runMonitor([
          ...common,
          "--once",
          "--no-trend",
          "--state",
          `${dir}/no-trend.json`,
          "--replay-start",
          "2026-11-01T19:20:00Z",
        ]);
        assert.equal(noTrend.code, 0, noTrend.stderr);
        assert.ok(
          !noTrend.lines.some((l) => /event=transition .*alertname=HostCpuTrend/.test(l)),
        );
        assert.equal(
          field(noTrend.lines.find((l) => l.includes("event=evaluation "))!, "rules"),
          "7",
        );
      });

      await t.step("--once exits 1 when Prometheus is unreachable", async () => {
        const r = await runMonitor([
          "--once",
          "--prometheus-url",
          `http://127.0.0.1:${freePort()}`,
          "--query-timeout",
          "1s",
          "--state",
          `${dir}/unreachable.json`,
        ]);
        assert.equal(r.code, 1, r.stderr);
        const evaluation = r.lines.find((l) => l.includes("event=evaluation "))!;
        assert.ok(evaluation.includes("level=error"));
        assert.equal(field(evaluation, "ok"), "false");
        assert.equal(field(evaluation, "error_kind"), "network");
      });

      await t.step("a bad value exits 2 naming the setting", async () => {
        const r = await runMonitor(["--once", "--state", `${dir}/bad.json`], {
          CPU_THRESHOLD: "hot",
        });
        assert.equal(r.code, 2);
        assert.equal(
          r.stderr.trim(),
          "opsbook monitor: Invalid threshold from environment variable CPU_THRESHOLD: " +
            "expected a number between 0 and 100, got not a number",
        );
        const flag = await runMonitor(["--once", "--interval", "soon"]);
        assert.equal(flag.code, 2);
        assert.match(
          flag.stderr,
          /Invalid interval from flag --interval: expected a positive duration/,
        );
        const unknown = await runMonitor(["--once", "--threshhold", "80"]);
        assert.equal(unknown.code, 2);
        assert.match(unknown.stderr, /Unknown flag: --threshhold/);
      });

      await t.step(
        "a sink misconfiguration exits 2 naming the setting, never the secret",
        async () => {
          const secret = "NotASlackHookSecret123";
          const slack = await runMonitor(["--once", "--state", `${dir}/sink.json`], {
            SLACK_WEBHOOK_URL: `https://example.com/services/T1/B1/${secret}`,
          });
          assert.equal(slack.code, 2);
          assert.equal(
            slack.stderr.trim(),
            "opsbook monitor: Invalid slackWebhookUrl from environment variable SLACK_WEBHOOK_URL: " +
              "expected the form https://hooks.slack.com/services/T…/B…/…; for a relay or a " +
              "Slack-compatible endpoint (Mattermost's /hooks/<id>) at another host, also set " +
              "SLACK_BASE_URL (the sink's baseUrl option) to the origin that webhook posts go to " +
              "instead of hooks.slack.com",
          );
          assert.ok(!(slack.stderr + slack.lines.join("\n")).includes(secret), "secret leaked");
          await assert.rejects(Deno.stat(`${dir}/sink.json.lock`)); // stopped before the lock

          const zammad = await runMonitor(["--once", "--state", `${dir}/sink.json`], {
            ZAMMAD_URL: "https://support.example.com",
            ZAMMAD_TOKEN: "zammad-secret-token",
          });
          assert.equal(zammad.code, 2);
          assert.match(
            zammad.stderr,
            /Invalid zammadCustomer from default: .*required with zammadUrl/,
          );
          assert.ok(!zammad.stderr.includes("zammad-secret-token"));
        },
      );

      await t.step("the effective config is printed with secrets redacted", async () => {
        const secret = "T0001/B0001/TopSecretWebhookPart";
        const r = await runMonitor([
          ...common,
          "--once",
          "--state",
          `${dir}/secret.json`,
          "--replay-start",
          "2026-11-01T10:30:00Z",
          "--send-timeout",
          "1s",
        ], {
          SLACK_WEBHOOK_URL: `https://hooks.slack.com/services/${secret}`,
          // Nothing listens there: the delivery fails and its error is logged.
          SLACK_BASE_URL: `http://127.0.0.1:${freePort()}`,
          ZAMMAD_TOKEN: "zammad-token-value",
        });
        assert.equal(r.code, 0, r.stderr);
        const start = r.lines.find((l) => l.includes("event=start"))!;
        const config = JSON.parse(field(start, "config")!);
        assert.equal(config.slackWebhookUrl, "***");
        assert.equal(config.zammadToken, "***");
        assert.equal(config.threshold, 80);
        assert.equal(config.state, `${dir}/secret.json`);
        assert.ok(r.lines.some((l) => l.includes("event=delivery_failed receiver=slack")));
        const all = r.lines.join("\n") + r.stderr;
        assert.ok(!all.includes("TopSecretWebhookPart"), "webhook secret leaked");
        assert.ok(!all.includes("zammad-token-value"), "token leaked");
        const printed = await runMonitor(["--print-config"], {
          ZAMMAD_TOKEN: "zammad-token-value",
        });
        assert.equal(printed.code, 0);
        assert.equal(JSON.parse(printed.lines.join("\n")).zammadToken, "***");
      });

      await t.step("lock, /metrics, SIGTERM and SIGINT", async () => {
        const state = `${dir}/daemon.json`;
        const args = [
          ...common,
          "--state",
          state,
          "--replay-start",
          "2026-11-01T10:30:00Z",
          "--interval",
          "1h",
          "--metrics-port",
          "0",
        ];
        const a = startMonitor(args);
        try {
          const listening = await a.waitFor(/event=metrics_listening/);
          await a.waitFor(/event=evaluation /);
          const port = Number(field(listening, "port"));
          const res = await fetch(`http://127.0.0.1:${port}/metrics`);
          const text = await res.text();
          const value = (sel: string) => {
            const line = text.split("\n").find((l) => l.startsWith(sel + " "));
            return line === undefined ? undefined : Number(line.slice(sel.length + 1));
          };
          assert.equal(value('opsbook_monitor_evaluations_total{result="success"}'), 1);
          assert.equal(value('opsbook_monitor_evaluations_total{result="failure"}'), 0);
          assert.equal(value('opsbook_monitor_alerts_firing{alertname="HostHighCpu"}'), 1);
          assert.equal(value('opsbook_monitor_alerts_firing{alertname="HostCpuTrend"}'), 0);
          assert.equal(value('opsbook_monitor_alerts_firing{alertname="HostOutOfMemory"}'), 0);
          assert.equal(value('opsbook_monitor_notifications_sent_total{receiver="dry-run"}'), 1);
          assert.equal(value('opsbook_monitor_rule_series{rule="node/HostHighCpu"}'), 1);
          assert.equal(
            value('opsbook_monitor_rule_problem{rule="node/HostHighCpu",kind="blind"}'),
            0,
          );
          assert.equal(value("opsbook_monitor_hosts"), 12);
          assert.equal(value("opsbook_monitor_outbox_size"), 0);
          assert.equal(value("opsbook_monitor_consecutive_failures"), 0);
          const last = value("opsbook_monitor_last_success_timestamp_seconds")!;
          assert.ok(Math.abs(last - Date.now() / 1000) < 120);
          assert.ok(value("process_resident_memory_bytes")! > 1e7);
          for (
            const name of [
              "process_heap_bytes",
              "process_start_time_seconds",
              "process_cpu_seconds_total",
            ]
          ) {
            assert.ok(text.includes(`\n${name} `), name);
          }

          // A second monitor on the same state refuses to start.
          const b = await runMonitor([...args, "--once"]);
          assert.equal(b.code, 2);
          assert.match(
            b.stderr,
            new RegExp(`Another monitor is running \\(pid ${a.child.pid}\\) with this state file`),
          );

          const stopAt = Date.now();
          a.child.kill("SIGTERM");
          const status = await Promise.race([
            a.status,
            new Promise<null>((r) => setTimeout(() => r(null), 10_000)),
          ]);
          assert.ok(status !== null, "did not exit within 10 s of SIGTERM");
          assert.equal(status.code, 0);
          assert.ok(Date.now() - stopAt < 10_000);
          assert.ok(a.lines.some((l) => l.includes("event=signal signal=SIGTERM")));
        } finally {
          await a.kill();
        }
        // State flushed, lock released.
        const saved = JSON.parse(await Deno.readTextFile(state));
        const firing = saved.alerts.filter((x: { status: string }) => x.status === "firing");
        assert.deepEqual(
          firing.map((x: { labels: { alertname: string; instance: string } }) =>
            `${x.labels.alertname} ${x.labels.instance}`
          ).sort(),
          ["HostHighCpu ali-hz-db-01:9100"],
        );
        await assert.rejects(Deno.stat(`${state}.lock`));

        // Restart: continues from the saved replay cursor, no second notification; SIGINT stops it.
        const c = startMonitor(args);
        try {
          const evaluation = await c.waitFor(/event=evaluation /);
          assert.equal(field(evaluation, "evaluated_at"), "2026-11-01T10:35:00.000Z");
          assert.equal(field(evaluation, "transitions"), "0");
          c.child.kill("SIGINT");
          const status = await c.status;
          assert.equal(status.code, 0);
        } finally {
          await c.kill();
        }
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
