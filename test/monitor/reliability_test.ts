/**
 * Reliability of the monitor as a real process on loopback: a fault-injecting
 * proxy sits between it and Prometheus and between it and a Slack receiver.
 *
 * Faults towards Prometheus are keyed by the evaluation time the query asks
 * for (replay mode: the `end` of the rules' range queries), so every run
 * injects the same faults at the same evaluations; an evaluation makes its
 * range queries one after the other and stops at the first failure, so each
 * scheduled fault fails (or is absorbed by the client's retries in) exactly
 * one evaluation. In replay mode a failed evaluation is retried at the same
 * time, so the transitions are the same as in a fault-free run. Faults
 * towards Slack are keyed by request number.
 *
 * @module
 */

import assert from "node:assert/strict";
import { missingBinaries, startPrometheus } from "../../dev/stack.ts";
import {
  type Fault,
  type FaultProxy,
  type ProxyRequest,
  startFaultProxy,
} from "../support/fault_proxy.ts";
import { startSlackReceiver } from "../support/slack_receiver.ts";
import { type MonitorProcess, startMonitor } from "../support/monitor_process.ts";

const missing = missingBinaries(["prometheus", "promtool"]);

interface LogLine {
  event: string;
  [k: string]: unknown;
}

function events(p: MonitorProcess): LogLine[] {
  return p.lines.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
}

/** `2026-11-01T10:05:00.000Z` → `2026-11-01 10:05 UTC`, as the Slack message shows it. */
function slackTime(iso: string): string {
  return iso.replace("T", " ").replace(/:\d\d\.\d+Z$/, " UTC");
}

/** Transition lines (`group|host|kind|time`) the monitor logged. */
function expectedLines(logs: LogLine[]): string[] {
  return logs.filter((e) => e.event === "transition").map((e) => {
    const host = e.alertname === "MonitoringBlind" ? "" : String(e.host);
    return `${e.alertname}|${host}|${e.kind}|${slackTime(String(e.evaluated_at))}`;
  });
}

/** Transition lines in the messages the receiver accepted, and one key per message. */
function receivedLines(messages: Record<string, unknown>[]): { lines: string[]; keys: string[] } {
  const lines: string[] = [];
  const keys: string[] = [];
  for (const m of messages) {
    const blocks = m.blocks as {
      type: string;
      text?: { text: string };
      elements?: { text: string }[];
    }[];
    const header = blocks[0].text!.text;
    const h = header.match(/(STILL FIRING|FIRING|RESOLVED|DELAYED): (\w+)/);
    assert.ok(h, `unexpected header: ${header}`);
    const [, status, group] = h;
    const context = blocks.filter((b) => b.type === "context").map((b) => b.elements![0].text).join(
      " ",
    );
    const at = context.match(/Evaluated (\d{4}-\d\d-\d\d \d\d:\d\d UTC)/)![1];
    const mine: string[] = [];
    for (const b of blocks) {
      if (b.type !== "section" || !b.text) continue;
      for (const line of b.text.text.split("\n")) {
        const l = line.match(/^(:red_circle:|:white_check_mark:) \*([^*]+)\* —/);
        if (!l) continue;
        const kind = l[1] === ":white_check_mark:"
          ? "resolved"
          : status === "STILL FIRING"
          ? "repeat"
          : "firing";
        const host = group === "MonitoringBlind" ? "" : l[2];
        mine.push(`${group}|${host}|${kind}|${at}`);
      }
    }
    lines.push(...mine);
    keys.push(`${status}|${group}|${at}|${mine.sort().join(",")}`);
  }
  return { lines, keys };
}

function countBy(xs: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
  return m;
}

/** The evaluation time a Prometheus query asks for: `end` of a range query, or `time`. */
function queryTime(req: ProxyRequest): string | undefined {
  const params = new URLSearchParams(req.body);
  const q = new URL(req.path, "http://x").searchParams;
  const t = params.get("end") ?? q.get("end") ?? params.get("time") ?? q.get("time");
  return t === null ? undefined : new Date(Number(t) * 1000).toISOString();
}

/** Faults for the Prometheus side, per evaluation time: consumed one per request. */
function prometheusPlan(schedule: Record<string, Fault[]>): (req: ProxyRequest) => Fault {
  const left = new Map(
    Object.entries(schedule).map(([k, v]) => [new Date(k).toISOString(), [...v]]),
  );
  return (req) => {
    const t = queryTime(req);
    const list = t === undefined ? undefined : left.get(t);
    return list?.shift() ?? "pass";
  };
}

function lostAcks(proxy: FaultProxy): number {
  return proxy.records.filter((r) => r.forwarded && !r.delivered).length;
}

/** The values of `names` in one scrape of `/metrics` (undefined when missing or unreachable). */
async function metrics(port: number, names: string[]): Promise<(number | undefined)[]> {
  let text = "";
  try {
    text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  } catch {
    return names.map(() => undefined);
  }
  const lines = text.split("\n");
  return names.map((name) => {
    const line = lines.find((l) => l.startsWith(name + " "));
    return line === undefined ? undefined : Number(line.slice(name.length + 1));
  });
}

Deno.test({
  name: "monitor reliability: faults, 200+ evaluations, kill -9, bad answers",
  ignore: missing !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async (t) => {
    await using prom = await startPrometheus();
    const dir = await Deno.makeTempDir({ prefix: "opsbook-reliability-" });
    // The seed's CPU rules of the shipped file (HostHighCpu, HostCpuTrend): the other rules
    // are exercised by monitor_rules_test.ts.
    const shipped = await Deno.readTextFile(new URL("../../rules/node.yml", import.meta.url));
    const cpuRules = `${dir}/cpu.yml`;
    await Deno.writeTextFile(
      cpuRules,
      shipped.slice(0, shipped.indexOf("      - alert: HostOutOfMemory")),
    );
    try {
      await t.step(
        "faults on both sides over 250 evaluations: nothing lost, nothing doubled",
        async () => {
          await using slack = startSlackReceiver();
          const promSchedule: Record<string, Fault[]> = {
            // A blackout of four evaluations: MonitoringBlind fires at the third, resolves after.
            "2026-11-01T03:00:00Z": ["500", "500", "500", "500"],
            // Absorbed by the client's retries.
            "2026-11-01T01:00:00Z": ["drop"],
            "2026-11-01T02:00:00Z": ["429"],
            // Bad answers and timeouts: a failed evaluation, then the next one proceeds.
            "2026-11-01T04:00:00Z": ["html"],
            "2026-11-01T05:00:00Z": ["wrong_shape"],
            "2026-11-01T07:00:00Z": ["empty_result"],
            "2026-11-01T08:00:00Z": ["empty_body"],
            "2026-11-01T09:00:00Z": ["delay"],
            "2026-11-01T10:05:00Z": ["truncate"],
            "2026-11-01T11:00:00Z": ["reset"],
            "2026-11-01T12:05:00Z": ["500"],
            "2026-11-01T16:05:00Z": ["delay"],
          };
          await using promProxy = startFaultProxy(prom.url, {
            plan: prometheusPlan(promSchedule),
            delayMs: 1500,
          });
          // Slack: single faults absorbed by the sink's retries, and a run of three that is
          // left to the outbox and delivered at a later evaluation.
          const slackFaults: Record<number, Fault> = {
            2: "500",
            4: "429",
            6: "drop",
            8: "reset",
            10: "lost_ack",
            12: "truncate",
            14: "delay",
            15: "500",
            16: "500",
          };
          await using slackProxy = startFaultProxy(slack.url, {
            plan: (r) => slackFaults[r.n] ?? "pass",
            delayMs: 1500,
          });
          const monitor = startMonitor([
            "--rules",
            cpuRules,
            "--prometheus-url",
            promProxy.url,
            "--state",
            `${dir}/faults/state.json`,
            "--replay-start",
            "2026-11-01T00:05:00Z",
            // Up to the last scripted transition (the stopped host's repeat at 20:05).
            "--replay-end",
            "2026-11-01T20:05:00Z",
            "--replay-step",
            "5m",
            "--interval",
            "10ms",
            "--query-timeout",
            "1s",
            "--send-timeout",
            "1s",
            "--blind-after",
            "3",
            "--metrics-port",
            "0",
            "--log-format",
            "json",
          ], {
            SLACK_WEBHOOK_URL: slack.webhookUrl,
            SLACK_BASE_URL: slackProxy.url,
          });
          await Deno.mkdir(`${dir}/faults`, { recursive: true });
          try {
            const listening = JSON.parse(await monitor.waitFor(/"event":"metrics_listening"/));
            const port = Number(listening.port);
            // Resident memory after 20 and after 200 evaluations, from /metrics.
            const rss: Record<number, number> = {};
            let exited = false;
            monitor.status.then(() => exited = true);
            while (!exited && (rss[20] === undefined || rss[200] === undefined)) {
              // One scrape per 100 ms: scraping competes with the evaluations for the CPU.
              const [ok, bad, mem] = await metrics(port, [
                'opsbook_monitor_evaluations_total{result="success"}',
                'opsbook_monitor_evaluations_total{result="failure"}',
                "process_resident_memory_bytes",
              ]);
              if (ok !== undefined && bad !== undefined && mem !== undefined) {
                const n = ok + bad;
                if (n >= 20 && rss[20] === undefined) rss[20] = mem;
                if (n >= 200 && rss[200] === undefined) rss[200] = mem;
              }
              await new Promise((r) => setTimeout(r, 100));
            }
            const status = await monitor.status;
            assert.equal(status.code, 0, monitor.stderr());
            assert.ok(rss[20] && rss[200], "memory samples missing");
            const growth = rss[200] / rss[20];
            console.log(
              `RSS after 20 evaluations ${(rss[20] / 1e6).toFixed(1)} MB, after 200 ${
                (rss[200] / 1e6).toFixed(1)
              } MB (x${growth.toFixed(3)})`,
            );
            assert.ok(growth <= 1.2 && growth >= 0.8, `RSS changed by x${growth.toFixed(3)}`);

            const logs = events(monitor);
            const evals = logs.filter((e) => e.event === "evaluation");
            assert.ok(evals.length >= 200, `only ${evals.length} evaluations`);
            assert.ok(logs.some((e) => e.event === "replay_done"));
            assert.ok(!logs.some((e) => e.event === "evaluation_crashed"));
            // Every step of the replay was evaluated successfully exactly once.
            const okTimes = evals.filter((e) => e.ok === true).map((e) => String(e.evaluated_at));
            assert.equal(okTimes.length, (20 * 60) / 5 + 1);
            assert.equal(new Set(okTimes).size, okTimes.length);

            // Each bad answer was a logged error of its kind, and the next evaluation (same time) proceeded.
            const failures = evals.filter((e) => e.ok === false);
            const kindAt = (iso: string) =>
              failures.filter((e) => e.evaluated_at === new Date(iso).toISOString()).map((e) =>
                e.error_kind
              );
            assert.deepEqual(
              kindAt("2026-11-01T03:00:00Z"),
              [
                "bad_response",
                "bad_response",
                "bad_response",
                "bad_response",
              ],
            );
            assert.deepEqual(kindAt("2026-11-01T04:00:00Z"), ["bad_response"]);
            assert.deepEqual(kindAt("2026-11-01T05:00:00Z"), ["bad_shape"]);
            assert.deepEqual(kindAt("2026-11-01T07:00:00Z"), ["empty"]);
            assert.equal(kindAt("2026-11-01T08:00:00Z").length, 1);
            assert.deepEqual(kindAt("2026-11-01T09:00:00Z"), ["timeout"]);
            assert.equal(kindAt("2026-11-01T10:05:00Z").length, 1);
            assert.deepEqual(kindAt("2026-11-01T16:05:00Z"), ["timeout"]);
            assert.deepEqual(kindAt("2026-11-01T11:00:00Z"), ["network"]);
            for (
              const iso of ["2026-11-01T01:00:00Z", "2026-11-01T02:00:00Z"]
            ) {
              assert.deepEqual(kindAt(iso), [], `${iso} should be absorbed by retries`);
            }
            assert.equal(failures.length, 4 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1);
            const injected = new Set(promProxy.records.map((r) => r.fault));
            for (
              const f of [
                "500",
                "drop",
                "reset",
                "429",
                "html",
                "wrong_shape",
                "empty_result",
                "empty_body",
                "delay",
                "truncate",
              ]
            ) {
              assert.ok(injected.has(f as Fault), `Prometheus fault ${f} not injected`);
            }
            const slackInjected = new Set(slackProxy.records.map((r) => r.fault));
            for (const f of ["500", "429", "drop", "reset", "lost_ack", "truncate", "delay"]) {
              assert.ok(slackInjected.has(f as Fault), `Slack fault ${f} not injected`);
            }

            // The transitions are exactly those of a fault-free replay (HostHighCpu as
            // test/alert/simulation_test.ts asserts it; HostCpuTrend now has for: 15m) plus the
            // blackout.
            const expected = expectedLines(logs);
            assert.deepEqual(expected, [
              "MonitoringBlind||firing|2026-11-01 03:00 UTC",
              "MonitoringBlind||resolved|2026-11-01 03:00 UTC",
              "HostHighCpu|az-eus-app-01:9100|firing|2026-11-01 06:10 UTC",
              "HostHighCpu|az-eus-app-01:9100|resolved|2026-11-01 09:05 UTC",
              "HostHighCpu|ali-hz-db-01:9100|firing|2026-11-01 10:10 UTC",
              "HostHighCpu|ali-hz-db-01:9100|resolved|2026-11-01 12:05 UTC",
              "HostStoppedReporting|az-weu-cache-01:9100|firing|2026-11-01 16:05 UTC",
              "HostCpuTrend|tc-sh-batch-01:9100|firing|2026-11-01 19:20 UTC",
              "HostStoppedReporting|az-weu-cache-01:9100|repeat|2026-11-01 20:05 UTC",
            ]);
            // Every transition reached Slack; duplicates only for acknowledgements lost after delivery.
            const got = receivedLines(slack.messages);
            const counts = countBy(got.lines);
            for (const e of expected) {
              assert.ok(counts.has(e), `transition never reached Slack: ${e}`);
            }
            for (const k of counts.keys()) {
              assert.ok(expected.includes(k), `unexpected message line: ${k}`);
            }
            const duplicates = got.keys.length - new Set(got.keys).size;
            const window = lostAcks(slackProxy);
            assert.ok(
              window >= 2,
              "the lost_ack and truncate faults should each lose one acknowledgement",
            );
            assert.ok(
              duplicates <= window,
              `${duplicates} duplicates, only ${window} lost acknowledgements`,
            );
            // Outbox empty at the end.
            const outbox = JSON.parse(await Deno.readTextFile(`${dir}/faults/state.outbox.json`));
            assert.equal(outbox.entries.length, 0);
            assert.equal(outbox.dead.length, 0);
          } finally {
            await monitor.kill();
          }
        },
      );

      await t.step(
        "kill -9 during a delivery, then restart: nothing lost, one duplicate at most",
        async () => {
          await using slack = startSlackReceiver();
          let held!: () => void;
          const holding = new Promise<void>((r) => held = r);
          await using slackProxy = startFaultProxy(slack.url, {
            plan: (r) => {
              if (r.n === 2) {
                held();
                return "hold";
              }
              return "pass";
            },
          });
          const state = `${dir}/kill/state.json`;
          await Deno.mkdir(`${dir}/kill`, { recursive: true });
          const args = [
            "--rules",
            cpuRules,
            "--no-trend",
            "--prometheus-url",
            prom.url,
            "--state",
            state,
            "--replay-start",
            "2026-11-01T09:30:00Z",
            "--replay-end",
            "2026-11-01T16:30:00Z",
            "--replay-step",
            "5m",
            "--interval",
            "10ms",
            "--send-timeout",
            "30s",
            "--log-format",
            "json",
          ];
          const env = { SLACK_WEBHOOK_URL: slack.webhookUrl, SLACK_BASE_URL: slackProxy.url };
          const first = startMonitor(args, env);
          let firstLogs: LogLine[];
          try {
            await holding;
            // The second notification reached Slack; its acknowledgement is held. Kill now.
            await new Promise((r) => setTimeout(r, 100));
            first.child.kill("SIGKILL");
            const s = await first.status;
            assert.equal(s.signal, "SIGKILL");
            firstLogs = events(first);
          } finally {
            await first.kill();
          }
          // State and outbox are intact: valid JSON, the held notification still queued.
          const saved = JSON.parse(await Deno.readTextFile(state));
          assert.equal(saved.version, 1);
          const outbox = JSON.parse(await Deno.readTextFile(`${dir}/kill/state.outbox.json`));
          assert.equal(outbox.entries.length, 1);
          assert.equal(outbox.entries[0].notification.kind, "resolved");
          assert.equal(slack.messages.length, 2);

          const second = startMonitor(args, env);
          try {
            const s = await second.status;
            assert.equal(s.code, 0, second.stderr());
            const logs = [...firstLogs, ...events(second)];
            // The killed process could not log the transition it was delivering.
            assert.deepEqual(expectedLines(logs), [
              "HostHighCpu|ali-hz-db-01:9100|firing|2026-11-01 10:10 UTC",
              "HostStoppedReporting|az-weu-cache-01:9100|firing|2026-11-01 16:05 UTC",
            ]);
            const got = receivedLines(slack.messages);
            // The held message twice (the documented window), everything else once.
            assert.deepEqual(got.lines, [
              "HostHighCpu|ali-hz-db-01:9100|firing|2026-11-01 10:10 UTC",
              "HostHighCpu|ali-hz-db-01:9100|resolved|2026-11-01 12:05 UTC",
              "HostHighCpu|ali-hz-db-01:9100|resolved|2026-11-01 12:05 UTC",
              "HostStoppedReporting|az-weu-cache-01:9100|firing|2026-11-01 16:05 UTC",
            ]);
            const after = JSON.parse(await Deno.readTextFile(`${dir}/kill/state.outbox.json`));
            assert.equal(after.entries.length, 0);
            // The restart took over the stale lock of the killed process.
            assert.ok(!second.stderr().includes("Another monitor"));
          } finally {
            await second.kill();
          }
        },
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
