// The monitor evaluates rule files: the shipped rules/node.yml on the dataset (memory and disk
// scenarios fire and resolve with their own names and texts, routed to named receivers), a
// misspelled metric (warned every evaluation, MonitoringRuleBlind after rule-blind-after), no
// data and partial answers (states kept, MonitoringPartial when it persists).
import assert from "node:assert/strict";
import {
  loadConfig,
  loadMonitorRules,
  Logger,
  Monitor,
  PrometheusClient,
  type QueryOptions,
  type QueryResult,
} from "opsbook";
import { stoppedHostRule } from "../../lib/monitor/daemon.ts";
import { missingBinaries, startPrometheus } from "../../dev/stack.ts";
import { runMonitor } from "../support/monitor_process.ts";
import { startSlackReceiver } from "../support/slack_receiver.ts";
import { startZammadReceiver } from "../support/zammad_receiver.ts";

const missing = missingBinaries(["prometheus", "promtool"]);

function field(line: string, name: string): string | undefined {
  const m = line.match(new RegExp(`(?:^| )${name}=("(?:[^"\\\\]|\\\\.)*"|\\S*)`));
  if (!m) return undefined;
  return m[1].startsWith('"') ? JSON.parse(m[1]) : m[1];
}

/** `alertname host kind at` of each transition line. */
function transitions(lines: string[]): string[] {
  return lines.filter((l) => l.includes("event=transition ")).map((l) =>
    `${field(l, "alertname")} ${field(l, "host")} ${field(l, "kind")} ${
      field(l, "evaluated_at")!.slice(11, 16)
    }`
  );
}

/** Header and section texts of each Slack message. */
function texts(messages: Record<string, unknown>[]): string[] {
  return messages.map((m) =>
    (m.blocks as { type: string; text?: { text: string } }[])
      .filter((b) => b.text !== undefined).map((b) => b.text!.text).join(" | ")
  );
}

Deno.test({
  name: "monitor with rule files: memory and disk scenarios, named receivers and routes",
  ignore: missing !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async (t) => {
    await using prom = await startPrometheus();
    const dir = await Deno.makeTempDir({ prefix: "opsbook-monitor-rules-" });
    try {
      await using pager = startSlackReceiver({ webhookPath: "/services/T1/B1/pagerSecret1" });
      await using team = startSlackReceiver({ webhookPath: "/services/T2/B2/teamSecret22" });
      await using zammad = startZammadReceiver();
      const config = `${dir}/monitor.json`;
      await Deno.writeTextFile(
        config,
        JSON.stringify({
          prometheusUrl: prom.url,
          replayStep: "5m",
          interval: "10ms",
          receivers: {
            pager: { type: "slack", webhookUrl: pager.webhookUrl, baseUrl: pager.url },
            team: { type: "slack", webhookUrl: team.webhookUrl, baseUrl: team.url },
            tickets: {
              type: "zammad",
              url: zammad.url,
              token: zammad.token,
              customer: "monitoring@example.com",
            },
          },
          route: {
            receiver: "team",
            routes: [
              { match_re: { alertname: "HostDisk.*" }, receiver: "tickets", continue: true },
              { match: { severity: "critical" }, receiver: "pager" },
              // Routed by a label the CPU rule keeps since avg without(cpu, mode).
              { match: { cloud: "tencent" }, receiver: "team" },
            ],
          },
        }),
      );

      await t.step("memory: HostOutOfMemory fires and resolves, to the team", async () => {
        const r = await runMonitor([
          "--config",
          config,
          "--state",
          `${dir}/memory.json`,
          "--replay-start",
          "2026-11-01T01:45:00Z",
          "--replay-end",
          "2026-11-01T03:10:00Z",
        ]);
        assert.equal(r.code, 0, r.stderr + r.lines.slice(-5).join("\n"));
        assert.deepEqual(transitions(r.lines), [
          "HostOutOfMemory ali-bj-cache-01:9100 firing 02:00",
          "HostOutOfMemory ali-bj-cache-01:9100 resolved 03:05",
        ]);
        assert.deepEqual(pager.messages, []);
        assert.equal(zammad.tickets.size, 0);
        const got = texts(team.messages);
        assert.equal(got.length, 2);
        assert.match(got[0], /FIRING.*HostOutOfMemory/);
        assert.match(got[0], /Memory low on ali-bj-cache-01:9100: 6\.0 % available/);
        assert.match(got[1], /RESOLVED.*HostOutOfMemory/);
        for (const text of got) assert.doesNotMatch(text, /CPU/);
        // The config as logged: receivers' webhooks redacted.
        const all = r.lines.join("\n") + r.stderr;
        assert.ok(!all.includes("pagerSecret1") && !all.includes("teamSecret22"), "secret leaked");
      });

      await t.step("disk: HostDiskFull to the pager, the rest to the team", async () => {
        team.messages.length = 0;
        const r = await runMonitor([
          "--config",
          config,
          "--state",
          `${dir}/disk.json`,
          "--replay-start",
          "2026-11-01T20:40:00Z",
          "--replay-end",
          "2026-11-01T21:35:00Z",
        ]);
        assert.equal(r.code, 0, r.stderr + r.lines.slice(-5).join("\n"));
        // Warmed up over their `for`: the stopped host, the disk filling and the CPU trend
        // already fire at the first evaluation; the full disk fires and resolves on its own.
        assert.deepEqual(transitions(r.lines), [
          "HostCpuTrend tc-sh-batch-01:9100 firing 20:40",
          "HostDiskWillFillIn24Hours tc-gz-web-01:9100 firing 20:40",
          "HostDown az-weu-cache-01:9100 firing 20:40",
          "HostDiskFull tc-gz-web-01:9100 firing 20:55",
          "HostDiskFull tc-gz-web-01:9100 resolved 21:35",
        ]);
        const paged = texts(pager.messages);
        assert.deepEqual(
          paged.map((m) => m.match(/(FIRING|RESOLVED): (\w+)/)?.slice(1).join(" ")),
          [
            "FIRING HostDown",
            "FIRING HostDiskFull",
            "RESOLVED HostDiskFull",
          ],
        );
        assert.match(paged[1], /Disk almost full on tc-gz-web-01:9100 \/data: \d+\.\d % free/);
        assert.doesNotMatch(paged[1], /CPU/);
        assert.deepEqual(
          texts(team.messages).map((m) => m.match(/(FIRING|RESOLVED): (\w+)/)?.slice(1).join(" "))
            .sort(),
          ["FIRING HostCpuTrend", "FIRING HostDiskWillFillIn24Hours"],
        );
        // Disk alerts also open tickets (continue: true); the full disk's is closed on resolve.
        assert.deepEqual(
          [...zammad.tickets.values()].map((t) => `${t.title} ${t.state}`).sort(),
          [
            "HostDiskFull on tc-gz-web-01:9100 closed",
            "HostDiskWillFillIn24Hours on tc-gz-web-01:9100 new",
          ],
        );
      });

      await t.step("--clear-below is --low (the rule file's clear_below)", async () => {
        const r = await runMonitor(["--print-config", "--threshold", "90", "--clear-below", "70"]);
        assert.equal(r.code, 0, r.stderr);
        const printed = JSON.parse(r.lines.join("\n"));
        assert.equal(printed.threshold, 90);
        assert.equal(printed.low, 70);
      });

      await t.step("a bad rule file or route exits 2 naming the place", async () => {
        await Deno.writeTextFile(
          `${dir}/bad.yml`,
          "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n        for: 5 minutes\n",
        );
        const bad = await runMonitor(["--once", "--rules", `${dir}/bad.yml`], {
          OPSBOOK_STATE: `${dir}/bad.json`,
        });
        assert.equal(bad.code, 2);
        assert.match(
          bad.stderr,
          new RegExp(`${dir}/bad\\.yml:6:14: rule A: for: invalid duration`),
        );
        const route = await runMonitor(["--once", "--dry-run", "--state", `${dir}/route.json`], {
          OPSBOOK_ROUTE: '{"routes": [{"match": {"severity": "critical"}, "receiver": "nobody"}]}',
        });
        assert.equal(route.code, 2);
        assert.match(
          route.stderr,
          /Invalid route from environment variable OPSBOOK_ROUTE: .*"nobody"/,
        );
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/** A client whose answers at chosen times are emptied or made partial. */
class ScriptedClient extends PrometheusClient {
  /** Evaluation time (ms) → what to do with the answers at that time. */
  script = new Map<number, "empty" | "partial">();

  override async query(promql: string, options: QueryOptions = {}): Promise<QueryResult> {
    const result = await super.query(promql, options);
    const at = options.time === undefined ? NaN : new Date(options.time as Date).getTime();
    const what = this.script.get(at);
    if (what === "empty" && result.resultType === "vector") return { ...result, result: [] };
    if (what === "partial" && result.resultType === "vector") {
      // A proxy that lost one cloud's store, as in issue 14.4.
      return {
        ...result,
        result: result.result.filter((s) => s.metric.cloud !== "aliyun"),
        warnings: [...result.warnings, "partial response: store ali unavailable"],
      };
    }
    return result;
  }
}

Deno.test({
  name: "monitor with rule files: blind rule, no data and partial answers keep states",
  ignore: missing !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async (t) => {
    await using prom = await startPrometheus();
    const dir = await Deno.makeTempDir({ prefix: "opsbook-monitor-rules-" });
    const lines: string[] = [];
    const logger = new Logger({ stdout: false, onLine: (l) => lines.push(l) });
    const at = (hhmm: string) => Date.parse(`2026-11-01T${hhmm}:00Z`);
    try {
      await t.step("a misspelled metric warns at every evaluation, then meta-alerts", async () => {
        await Deno.writeTextFile(
          `${dir}/typo.yml`,
          "groups:\n  - name: typo\n    rules:\n      - alert: MemoryTypo\n" +
            "        expr: node_memory_MemAvailabel_bytes / node_memory_MemTotal_bytes * 100 < 10\n" +
            "        for: 2m\n",
        );
        const config = loadConfig({
          env: {},
          flags: { state: `${dir}/typo.json`, rules: `${dir}/typo.yml`, ruleBlindAfter: "10m" },
        });
        const monitor = await Monitor.open(config, {
          prometheus: new PrometheusClient({ url: prom.url }),
          logger,
        });
        const fired: string[] = [];
        for (const hhmm of ["01:00", "01:05", "01:10", "01:15"]) {
          lines.length = 0;
          const r = await monitor.runEvaluation({ at: at(hhmm) });
          assert.equal(r.ok, true);
          const warning = lines.find((l) => l.includes("event=rule_problem"));
          assert.ok(warning, `no warning at ${hhmm}`);
          assert.equal(field(warning, "rule"), "typo/MemoryTypo");
          assert.equal(field(warning, "kind"), "blind");
          assert.equal(
            field(warning, "error"),
            "blind: node_memory_MemAvailabel_bytes never matched any series (since 2026-11-01T01:00:00.000Z)",
          );
          fired.push(...r.transitions.map((x) => `${x.kind} ${x.alert.labels.alertname} ${hhmm}`));
        }
        assert.deepEqual(fired, ["firing MonitoringRuleBlind 01:10"]);
        const [alert] = await monitor.firingAlerts();
        assert.deepEqual(alert.labels, {
          alertname: "MonitoringRuleBlind",
          rule: "MemoryTypo",
          rulegroup: "typo",
          severity: "warning",
        });
        const metrics = monitor.metrics.registry.render();
        assert.match(
          metrics,
          /opsbook_monitor_rule_problem\{rule="typo\/MemoryTypo",kind="blind"\} 1/,
        );
        assert.match(metrics, /opsbook_monitor_alerts_firing\{alertname="MonitoringRuleBlind"\} 1/);
      });

      await t.step(
        "no data keeps the firing alerts; a partial answer keeps absent hosts",
        async () => {
          const client = new ScriptedClient({ url: prom.url });
          const config = loadConfig({ env: {}, flags: { state: `${dir}/keep.json` } });
          const monitor = await Monitor.open(config, { prometheus: client, logger });
          const log: string[] = [];
          const run = async (hhmm: string) => {
            lines.length = 0;
            const r = await monitor.runEvaluation({ at: at(hhmm) });
            for (const x of r.transitions) {
              log.push(
                `${hhmm} ${x.kind} ${x.alert.labels.alertname} ${x.alert.labels.instance ?? ""}`,
              );
            }
            return r;
          };
          assert.equal((await run("10:30")).ok, true);
          assert.deepEqual(log.splice(0), [
            "10:30 firing HostHighCpu ali-hz-db-01:9100",
          ]);

          // Prometheus answers nothing: a failed evaluation, nothing resolves.
          client.script.set(at("10:35"), "empty");
          const empty = await run("10:35");
          assert.equal(empty.ok, false);
          assert.equal(empty.errorKind, "empty");
          assert.equal(empty.firing, 1);
          assert.deepEqual(log, []);

          // The aliyun hosts are missing from partial answers: kept, not resolved, not stopped.
          for (const hhmm of ["10:40", "10:45", "10:50"]) client.script.set(at(hhmm), "partial");
          for (const hhmm of ["10:40", "10:45", "10:50"]) {
            const r = await run(hhmm);
            assert.equal(r.ok, true);
            const warned = lines.find((l) => l.includes("event=partial_answer"));
            assert.ok(warned, `no partial_answer line at ${hhmm}`);
            assert.match(field(warned, "error")!, /partial response: store ali unavailable/);
          }
          assert.deepEqual(log.splice(0), ["10:50 firing MonitoringPartial "]);
          const firing = (await monitor.firingAlerts()).map((a) =>
            `${a.labels.alertname} ${a.labels.instance ?? ""}`
          ).sort();
          assert.deepEqual(firing, [
            "HostHighCpu ali-hz-db-01:9100",
            "MonitoringPartial ",
          ]);
          const metrics = monitor.metrics.registry.render();
          assert.match(metrics, /\nopsbook_monitor_partial_answers_total 3\n/);
          assert.match(
            metrics,
            /opsbook_monitor_rule_problem\{rule="node\/HostHighCpu",kind="partial"\} 1/,
          );

          // A complete answer again: the partial meta-alert resolves, the CPU alert still fires.
          const back = await run("10:55");
          assert.equal(back.ok, true);
          assert.deepEqual(log.splice(0), ["10:55 resolved MonitoringPartial "]);
        },
      );
    } finally {
      logger.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("loadMonitorRules: CPU flags apply to HostHighCpu; --no-trend drops HostCpuTrend", async () => {
  const plain = await loadMonitorRules(loadConfig({ env: {} }));
  const rule = (set: typeof plain, name: string) =>
    set.groups.flatMap((g) => g.rules).find((r) => "alert" in r && r.alert === name) as
      | {
        expr: string;
        for?: number;
        opsbook?: Record<string, unknown>;
        annotations?: Record<string, string>;
      }
      | undefined;
  assert.equal(
    rule(plain, "HostHighCpu")!.expr,
    '100 - (avg without(cpu, mode)(irate(node_cpu_seconds_total{mode="idle"}[5m])) * 100) > 80',
  );
  const custom = await loadMonitorRules(
    loadConfig({ env: { CPU_THRESHOLD: "90", CPU_FOR: "10m", CPU_TREND_WITHIN: "6h" } }),
  );
  const cpu = rule(custom, "HostHighCpu")!;
  assert.equal(
    cpu.expr,
    '100 - (avg without(cpu, mode)(irate(node_cpu_seconds_total{mode="idle"}[5m])) * 100) > 90',
  );
  assert.equal(cpu.for, 600);
  assert.deepEqual(cpu.opsbook, { detector: "hysteresis", clear_below: 85 });
  assert.match(cpu.annotations!.description, /above 90 % for/);
  assert.deepEqual(rule(custom, "HostCpuTrend")!.opsbook, {
    detector: "trend",
    lookback: "6h",
    step: "5m",
    within: "21600s",
    min_r2: 0.9,
    repeat_interval: "24h",
  });
  const noTrend = await loadMonitorRules(loadConfig({ env: { CPU_TREND: "false" } }));
  assert.equal(rule(noTrend, "HostCpuTrend"), undefined);
  assert.equal(noTrend.groups[0].rules.length, 7);
});

Deno.test({
  name:
    "monitor with rule files: a rule's repeat_interval (HostCpuTrend 24h) replaces --repeat-interval",
  ignore: missing !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using prom = await startPrometheus();
    const dir = await Deno.makeTempDir({ prefix: "opsbook-monitor-repeat-" });
    const at = (hhmm: string) => Date.parse(`2026-11-01T${hhmm}:00Z`);
    try {
      const config = loadConfig({ env: {}, flags: { state: `${dir}/state.json` } });
      assert.equal(config.repeatInterval, 4 * 3600);
      const monitor = await Monitor.open(config, {
        prometheus: new PrometheusClient({ url: prom.url }),
        logger: new Logger({ stdout: false }),
      });
      const log: string[] = [];
      // 19:20: the trend, the filling disk and the stopped host fire (warmed up over their for);
      // 4 hours later only the rule without a repeat_interval of its own is sent again.
      for (const hhmm of ["19:20", "23:20"]) {
        const r = await monitor.runEvaluation({ at: at(hhmm) });
        assert.equal(r.ok, true);
        for (const x of r.transitions) {
          log.push(`${hhmm} ${x.kind} ${x.alert.labels.alertname} ${x.alert.labels.instance}`);
        }
      }
      assert.deepEqual(log, [
        "19:20 firing HostCpuTrend tc-sh-batch-01:9100",
        "19:20 firing HostDiskWillFillIn24Hours tc-gz-web-01:9100",
        "19:20 firing HostDown az-weu-cache-01:9100",
        "23:20 repeat HostDown az-weu-cache-01:9100",
        "23:20 resolved HostDiskWillFillIn24Hours tc-gz-web-01:9100",
      ]);
      assert.equal(
        (await monitor.firingAlerts()).filter((a) => a.labels.alertname === "HostCpuTrend").length,
        1,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("stoppedHostRule: the rules that page for a stopped host", async () => {
  const shipped = await loadMonitorRules(loadConfig({ env: {} }));
  assert.equal(stoppedHostRule(shipped.groups), "node/HostDown");
  const group = (expr: string) => [{ name: "g", rules: [{ alert: "A", expr }] }];
  assert.equal(stoppedHostRule(group('up{job="node"} == 0')), "g/A");
  assert.equal(stoppedHostRule(group('{__name__="up", job="node"} == 0')), "g/A");
  assert.equal(stoppedHostRule(group("absent(node_uname_info)")), "g/A");
  assert.equal(
    stoppedHostRule(group("count by (instance) (x offset 1h) unless count by (instance) (x)")),
    "g/A",
  );
  // CPU only (the reliability test's file): the built-in meta-alert stays on.
  assert.equal(stoppedHostRule(group("avg by (instance) (uptime_seconds) > 80")), undefined);
  assert.equal(stoppedHostRule([{ name: "g", rules: [{ record: "r", expr: "up" }] }]), undefined);
});

Deno.test({
  name:
    "monitor with rule files: one stopped host pages once (HostDown), not also HostStoppedReporting",
  ignore: missing !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async (t) => {
    await using prom = await startPrometheus();
    const dir = await Deno.makeTempDir({ prefix: "opsbook-monitor-stopped-" });
    const at = (hhmm: string) => Date.parse(`2026-11-01T${hhmm}:00Z`);
    const run = async (monitor: Monitor, times: string[]) => {
      const log: string[] = [];
      for (const hhmm of times) {
        const r = await monitor.runEvaluation({ at: at(hhmm) });
        assert.equal(r.ok, true);
        for (const x of r.transitions) {
          log.push(`${hhmm} ${x.kind} ${x.alert.labels.alertname} ${x.alert.labels.instance}`);
        }
      }
      return log;
    };
    const open = (state: string, stoppedReporting?: string) =>
      Monitor.open(
        loadConfig({
          env: {},
          flags: { state, ...(stoppedReporting ? { stoppedReporting } : {}) },
        }),
        {
          prometheus: new PrometheusClient({ url: prom.url }),
          logger: new Logger({ stdout: false }),
        },
      );
    const times = ["15:55", "16:00", "16:05", "16:10", "16:15"];
    try {
      await t.step(
        "auto (default) with rules/node.yml: HostDown and HostMetricsMissing only",
        async () => {
          const monitor = await open(`${dir}/auto.json`);
          assert.deepEqual(monitor.stoppedReporting, {
            enabled: false,
            coveredBy: "node/HostDown",
          });
          assert.deepEqual(await run(monitor, times), [
            "16:10 firing HostDown az-weu-cache-01:9100",
            "16:15 firing HostMetricsMissing az-weu-cache-01:9100",
          ]);
        },
      );

      await t.step("on: the built-in meta-alert too, at 16:05", async () => {
        const monitor = await open(`${dir}/on.json`, "on");
        assert.deepEqual(monitor.stoppedReporting, { enabled: true });
        assert.deepEqual(await run(monitor, times), [
          "16:05 firing HostStoppedReporting az-weu-cache-01:9100",
          "16:10 firing HostDown az-weu-cache-01:9100",
          "16:15 firing HostMetricsMissing az-weu-cache-01:9100",
        ]);
      });

      await t.step(
        "a HostStoppedReporting already firing is kept, never falsely resolved",
        async () => {
          const before = await open(`${dir}/switch.json`, "on");
          assert.deepEqual(await run(before, ["15:55", "16:05"]), [
            "16:05 firing HostStoppedReporting az-weu-cache-01:9100",
          ]);
          const after = await open(`${dir}/switch.json`);
          assert.deepEqual(await run(after, ["16:10"]), [
            "16:10 firing HostDown az-weu-cache-01:9100",
          ]);
          assert.deepEqual(
            (await after.firingAlerts()).map((a) => a.labels.alertname).sort(),
            ["HostDown", "HostStoppedReporting"],
          );
        },
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
