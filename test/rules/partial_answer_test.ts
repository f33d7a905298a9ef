/**
 * Partial answers against a real Prometheus: a fault proxy drops one cloud's
 * series and adds `warnings` (as Thanos does when a store is down), or a
 * fleet member fails. Hosts absent from a partial answer keep their alert
 * state, in the rule evaluator and in the notebooks' alert path
 * (`queryRangeFrame` → `evaluateRules` → `Alerter`), until a complete answer
 * says otherwise; the data coming back never fires a second time.
 */
import assert from "node:assert/strict";
import {
  Alerter,
  cpuUsageQuery,
  createPrometheusClient,
  defaultCpuRules,
  DryRunSink,
  evaluateRules,
  type Notification,
  parseDuration,
  PrometheusClient,
  RuleEvaluator,
} from "opsbook";
import type pl from "nodejs-polars";
import { missingBinaries, startPrometheus } from "../../dev/stack.ts";
import { type Fault, type FaultProxyOptions, startFaultProxy } from "../support/fault_proxy.ts";
import { PLAIN_START_S, plainFleetOpenMetrics } from "../support/plain_fleet.ts";

const missing = missingBinaries(["prometheus", "promtool"]);
const T0 = (PLAIN_START_S + 3600) * 1000;
const at = (m: number) => new Date(T0 + m * 60_000);
const job = "node";
const HOSTS = [
  { labels: { instance: "aws-1:9100", job, cloud: "aws" }, usage: 90 },
  { labels: { instance: "aws-2:9100", job, cloud: "aws" }, usage: 20 },
  { labels: { instance: "ali-1:9100", job, cloud: "ali" }, usage: 95 },
  { labels: { instance: "ali-2:9100", job, cloud: "ali" }, usage: 30 },
];
const STORE_DOWN = "partial response: store ali unavailable";

Deno.test({
  name:
    "partial answers through a fault proxy: the evaluator and the notebook path hold absent hosts",
  ignore: missing !== null,
  fn: async (t) => {
    await using prom = await startPrometheus({ openMetrics: plainFleetOpenMetrics(HOSTS) });
    let fault: Fault = "pass";
    const options: FaultProxyOptions = { plan: () => fault, partial: {} };
    await using proxy = startFaultProxy(prom.url, options);

    await t.step("RuleEvaluator: warnings hold, a complete answer resolves", async () => {
      const client = new PrometheusClient({ url: proxy.url, retry: false });
      const evaluator = new RuleEvaluator(client, [{
        name: "node",
        interval: "1m",
        rules: [{
          alert: "HostHighCpu",
          expr: `${cpuUsageQuery({ by: ["cloud", "instance"] })} > 80`,
          for: "1m",
          annotations: { summary: "CPU {{ $value }} on {{ $labels.instance }}" },
        }],
      }]);
      const firing = (r: { firing: { labels: Record<string, string>; startsAt: string }[] }) =>
        r.firing.map((a) => `${a.labels.instance} since ${a.startsAt.slice(11, 16)}`).sort();
      const changes = (
        r: { outcomes: { changes: { kind: string; labels: Record<string, string> }[] }[] },
      ) => r.outcomes.flatMap((o) => o.changes.map((c) => `${c.kind} ${c.labels.instance}`)).sort();

      await evaluator.evaluate(at(0));
      const fired = await evaluator.evaluate(at(1));
      assert.deepEqual(changes(fired), ["firing ali-1:9100", "firing aws-1:9100"]);

      // One store down: ali's series are gone from the answer, which says so.
      fault = "partial";
      const partial = await evaluator.evaluate(at(2));
      assert.ok(proxy.records.some((r) => r.fault === "partial" && r.forwarded));
      assert.deepEqual(changes(partial), []);
      assert.deepEqual(firing(partial), ["ali-1:9100 since 01:01", "aws-1:9100 since 01:01"]);
      assert.equal(partial.partial, true);
      assert.deepEqual(partial.warnings, [`node/HostHighCpu: ${STORE_DOWN}`]);
      assert.deepEqual(partial.problems, [{
        rule: "node/HostHighCpu",
        kind: "partial",
        reason: `partial answer at ${
          at(2).toISOString()
        } (${STORE_DOWN}): alerts absent from it kept their state`,
      }]);

      // A malformed warnings field (objects) is still a partial answer, printed as JSON.
      options.partial = { warnings: [{ store: "ali", error: "unavailable" }] };
      const malformed = await evaluator.evaluate(at(3));
      assert.deepEqual(changes(malformed), []);
      assert.deepEqual(malformed.warnings, [
        'node/HostHighCpu: {"store":"ali","error":"unavailable"}',
      ]);

      // A fleet member failing is a partial answer too.
      const fleet = createPrometheusClient({
        url: `aws=${prom.url},ali=${proxy.url}`,
        retry: false,
      });
      const viaFleet = new RuleEvaluator(fleet, [{
        name: "node",
        rules: [{ alert: "HostHighCpu", expr: `${cpuUsageQuery({ by: ["instance"] })} > 80` }],
      }]);
      fault = "pass";
      const both = await viaFleet.evaluate(at(0));
      assert.deepEqual(
        both.firing.map((a) => `${a.labels.source}/${a.labels.instance}`).sort(),
        ["ali/ali-1:9100", "ali/aws-1:9100", "aws/ali-1:9100", "aws/aws-1:9100"],
      );
      assert.equal(both.firing.length, 4);
      fault = "500";
      const memberDown = await viaFleet.evaluate(at(1));
      assert.equal(memberDown.firing.length, 4);
      assert.deepEqual(changes(memberDown), []);
      assert.equal(memberDown.partial, true);
      assert.equal(memberDown.warnings.length, 1);
      assert.match(
        memberDown.warnings[0],
        /^node\/HostHighCpu: Prometheus "ali" failed, the answer holds only aws: /,
      );

      // The store is back: a complete answer, nothing fires again.
      fault = "pass";
      const back = await evaluator.evaluate(at(4));
      assert.deepEqual(changes(back), []);
      assert.equal(back.partial, false);
      assert.deepEqual(back.warnings, []);
      assert.deepEqual(firing(back), ["ali-1:9100 since 01:01", "aws-1:9100 since 01:01"]);

      // A complete answer (no warnings) without ali's series: now ali-1 resolves.
      fault = "partial";
      options.partial = { warnings: [] };
      const gone = await evaluator.evaluate(at(5));
      assert.equal(gone.partial, false);
      assert.deepEqual(changes(gone), ["resolved ali-1:9100"]);
      assert.deepEqual(firing(gone), ["aws-1:9100 since 01:01"]);
    });

    await t.step(
      "notebook path: queryRangeFrame warnings into evaluateRules and the Alerter",
      async () => {
        fault = "pass";
        options.partial = {};
        const dir = await Deno.makeTempDir({ prefix: "opsbook-partial-" });
        try {
          // As notebooks/03_alert.ipynb does: one range query per rule, its warnings collected.
          const client = new PrometheusClient({ url: proxy.url, retry: false });
          const query = cpuUsageQuery({ by: ["cloud", "instance"] });
          const rules = defaultCpuRules({ high: { query }, trend: { query } });
          const sent: Notification[] = [];
          const sink = new DryRunSink({ write: () => {} });
          const alerter = new Alerter({ statePath: `${dir}/state.json`, sinks: [sink] });
          const evaluateAt = async (t: Date) => {
            const warnings: string[] = [];
            const frames: Record<string, pl.DataFrame> = {};
            for (const rule of rules) {
              frames[rule.name] = await client.queryRangeFrame(query, {
                start: new Date(t.getTime() - parseDuration(rule.window.range) * 1000),
                end: t,
                step: rule.window.step,
                onWarning: (message, kind) => kind === "warning" && warnings.push(message),
              });
            }
            const result = evaluateRules(rules, frames, {
              at: t,
              firing: await alerter.firing(),
              warnings,
            });
            const report = await alerter.evaluate(result.alerts, { now: t, check: result });
            sent.push(...report.sent);
            return { result, report };
          };
          const summary = (n: Notification) =>
            `${n.group} ${n.kind} ${n.alerts.map((a) => a.labels.instance).join(",")}`;

          const first = await evaluateAt(at(0));
          assert.deepEqual(first.report.sent.map(summary), [
            "HostHighCpu firing ali-1:9100,aws-1:9100",
          ]);

          fault = "partial";
          const partial = await evaluateAt(at(5));
          assert.equal(partial.result.partial, true);
          assert.deepEqual(partial.result.warnings, [STORE_DOWN]);
          assert.deepEqual(partial.result.alerts.map((a) => a.labels.instance), ["aws-1:9100"]);
          assert.equal(partial.report.held, true);
          assert.deepEqual(partial.report.transitions, []);
          assert.deepEqual(
            partial.report.firing.map((a) => a.labels.instance).sort(),
            ["ali-1:9100", "aws-1:9100"],
          );

          fault = "pass";
          const back = await evaluateAt(at(10));
          assert.equal(back.result.partial, false);
          assert.deepEqual(back.report.transitions, []);
          // One notification in all: no RESOLVED for the unseen host, no second FIRING when it returns.
          assert.deepEqual(sent.map(summary), ["HostHighCpu firing ali-1:9100,aws-1:9100"]);
        } finally {
          await Deno.remove(dir, { recursive: true });
        }
      },
    );
  },
});
