import assert from "node:assert/strict";
import { Alerter } from "../../lib/alert/alerter.ts";
import { DryRunSink } from "../../lib/alert/sinks/dry_run.ts";
import {
  type Alert,
  DeliveryError,
  type Notification,
  type SendOptions,
  type Sink,
} from "../../lib/alert/types.ts";
import { acquireLock, LockError } from "../../lib/_internal/lock.ts";
import { alertFixture } from "../support/alerts.ts";

const T0 = Date.UTC(2026, 10, 1, 10, 0);
const MIN = 60_000;
const at = (minutes: number) => new Date(T0 + minutes * MIN);

const alert = alertFixture({
  labels: { cloud: "aliyun" },
  summary: ({ alertname, value, instance }) => `${alertname} ${value} on ${instance}`,
});

class RecordingSink implements Sink {
  readonly name: string;
  readonly resendFiring: boolean;
  received: Notification[] = [];
  down = false;
  constructor(name: string, resendFiring = false) {
    this.name = name;
    this.resendFiring = resendFiring;
  }
  send(n: Notification, _options?: SendOptions): Promise<void> {
    if (this.down) {
      return Promise.reject(
        new DeliveryError(`${this.name} is down: 503`, { sink: this.name, retriable: true }),
      );
    }
    this.received.push(structuredClone(n));
    return Promise.resolve();
  }
}

async function tempDir(): Promise<{ dir: string } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "opsbook-alerter-" });
  return { dir, [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }) };
}

const summary = (n: Notification) =>
  `${n.receiver} ${n.group} ${n.kind} ${
    n.alerts.map((a) => `${a.labels.instance}:${a.status}`).join(",")
  }`;

Deno.test("alerter: one grouped notification per receiver and group, not per host", async () => {
  await using tmp = await tempDir();
  const slack = new RecordingSink("slack");
  const zammad = new RecordingSink("zammad");
  const alerter = new Alerter({ statePath: `${tmp.dir}/alerts.json`, sinks: [slack, zammad] });
  const hosts = ["a:9100", "b:9100", "c:9100"].map((h) => alert(h));
  const report = await alerter.evaluate([
    ...hosts,
    alert("a:9100", { alertname: "HostCpuTrend", value: 60 }),
  ], {
    now: at(0),
    context: { query: "cpu", unit: "%" },
    contexts: { HostHighCpu: { threshold: 80 } },
  });
  assert.deepEqual(report.sent.map(summary), [
    "slack HostCpuTrend firing a:9100:firing",
    "slack HostHighCpu firing a:9100:firing,b:9100:firing,c:9100:firing",
    "zammad HostCpuTrend firing a:9100:firing",
    "zammad HostHighCpu firing a:9100:firing,b:9100:firing,c:9100:firing",
  ]);
  assert.deepEqual(report.sent[1].context, {
    query: "cpu",
    unit: "%",
    threshold: 80,
    evaluatedAt: at(0).toISOString(),
  });
  assert.equal(report.firing.length, 4);
  assert.equal(report.queued, 0);
  assert.deepEqual(report.failed, []);
  assert.equal(slack.received.length, 2);

  // Still firing: nothing; one resolves: one resolved notice per receiver.
  const trend = alert("a:9100", { alertname: "HostCpuTrend", value: 60 });
  assert.deepEqual((await alerter.evaluate([...hosts, trend], { now: at(5) })).sent, []);
  const r3 = await alerter.evaluate([...hosts.slice(0, 2), trend], { now: at(10) });
  assert.deepEqual(r3.sent.map(summary), [
    "slack HostHighCpu resolved c:9100:resolved",
    "zammad HostHighCpu resolved c:9100:resolved",
  ]);
  assert.equal(r3.resolved.length, 1);
  // A new host and a resolved one in the same group: one message, firing first.
  const r4 = await alerter.evaluate([hosts[0], alert("d:9100"), trend], { now: at(15) });
  assert.deepEqual(r4.sent.map(summary), [
    "slack HostHighCpu firing d:9100:firing,b:9100:resolved",
    "zammad HostHighCpu firing d:9100:firing,b:9100:resolved",
  ]);
});

Deno.test("alerter: repeat interval, per group, and a restart neither re-sends nor forgets", async () => {
  await using tmp = await tempDir();
  const statePath = `${tmp.dir}/alerts.json`;
  const slack = new RecordingSink("slack");
  const make = () =>
    new Alerter({
      statePath,
      sinks: [slack],
      repeatInterval: "1h",
      groupRepeatInterval: { HostCpuTrend: "24h" },
    });
  const alerts = [alert("a:9100"), alert("t:9100", { alertname: "HostCpuTrend" })];
  for (let m = 0; m <= 120; m += 5) {
    await make().evaluate(alerts, { now: at(m) }); // a new Alerter each time: a headless run
  }
  assert.deepEqual(slack.received.map((n) => `${n.createdAt.slice(11, 16)} ${n.group} ${n.kind}`), [
    "10:00 HostCpuTrend firing",
    "10:00 HostHighCpu firing",
    "11:00 HostHighCpu repeat",
    "12:00 HostHighCpu repeat",
  ]);
  const records = await make().records();
  assert.deepEqual(records.map((r) => r.status), ["firing", "firing"]);
  assert.deepEqual([...await make().firing()].sort(), alerts.map((a) => a.fingerprint).sort());
});

Deno.test("alerter: resendFiring sinks get every firing alert each evaluation", async () => {
  await using tmp = await tempDir();
  const am = new RecordingSink("alertmanager", true);
  const slack = new RecordingSink("slack");
  const alerter = new Alerter({ statePath: `${tmp.dir}/s.json`, sinks: [am, slack] });
  await alerter.evaluate([alert("a:9100"), alert("b:9100")], { now: at(0) });
  await alerter.evaluate([alert("a:9100"), alert("b:9100")], { now: at(5) });
  await alerter.evaluate([alert("a:9100")], { now: at(10) });
  await alerter.evaluate([], { now: at(15) });
  await alerter.evaluate([], { now: at(20) });
  assert.deepEqual(am.received.map(summary), [
    "alertmanager HostHighCpu firing a:9100:firing,b:9100:firing",
    "alertmanager HostHighCpu repeat a:9100:firing,b:9100:firing",
    "alertmanager HostHighCpu resolved a:9100:firing,b:9100:resolved",
    "alertmanager HostHighCpu resolved a:9100:resolved",
  ]);
  assert.deepEqual(slack.received.map(summary), [
    "slack HostHighCpu firing a:9100:firing,b:9100:firing",
    "slack HostHighCpu resolved b:9100:resolved",
    "slack HostHighCpu resolved a:9100:resolved",
  ]);
  assert.equal(am.received[2].alerts[1].endsAt, at(10).toISOString());
});

Deno.test("alerter: a sink outage delays, never loses; the report says so", async () => {
  await using tmp = await tempDir();
  const slack = new RecordingSink("slack");
  const alerter = new Alerter({ statePath: `${tmp.dir}/alerts.json`, sinks: [slack] });
  slack.down = true;
  const r1 = await alerter.evaluate([alert("a:9100")], { now: at(0) });
  assert.equal(r1.sent.length, 0);
  assert.equal(r1.failed.length, 1);
  assert.equal(r1.failed[0].error, "slack is down: 503");
  assert.equal(r1.queued, 1);
  const r2 = await alerter.evaluate([], { now: at(5) });
  assert.equal(r2.queued, 2);
  slack.down = false;
  const r3 = await alerter.evaluate([], { now: at(10) });
  assert.deepEqual(r3.sent.map(summary), [
    "slack HostHighCpu firing a:9100:firing",
    "slack HostHighCpu resolved a:9100:resolved",
  ]);
  assert.equal(r3.queued, 0);
  assert.deepEqual(r3.deadLetters, []);
});

Deno.test("alerter: no data and missing series are reported, never alerted", async () => {
  await using tmp = await tempDir();
  const alerter = new Alerter({ statePath: `${tmp.dir}/alerts.json`, sinks: [] });
  const report = await alerter.evaluate([], {
    now: at(0),
    check: { noData: true, missing: [{ instance: "x:9100" }] },
  });
  assert.equal(report.noData, true);
  assert.deepEqual(report.missing, [{ instance: "x:9100" }]);
  assert.deepEqual(report.notifications, []);
});

Deno.test("alerter: a partial or empty answer keeps absent alerts as they are; a complete one resolves", async () => {
  await using tmp = await tempDir();
  const slack = new RecordingSink("slack");
  const alerter = new Alerter({
    statePath: `${tmp.dir}/alerts.json`,
    sinks: [slack],
    pendingFor: "2m",
  });
  // 10:00 a and b pending; 10:02 both firing; c pending since 10:02.
  await alerter.evaluate([alert("a:9100"), alert("b:9100")], { now: at(0) });
  const fired = await alerter.evaluate([alert("a:9100"), alert("b:9100"), alert("c:9100")], {
    now: at(2),
  });
  assert.deepEqual(fired.sent.map(summary), [
    "slack HostHighCpu firing a:9100:firing,b:9100:firing",
  ]);
  // 10:03 a partial answer (one store down) holds only a: b stays firing, c stays pending.
  const warning = "partial response: store ali unavailable";
  const partial = await alerter.evaluate([alert("a:9100")], {
    now: at(3),
    check: { noData: false, missing: [], warnings: [warning, warning] },
  });
  assert.equal(partial.partial, true);
  assert.equal(partial.held, true);
  assert.deepEqual(partial.warnings, [warning, warning]);
  assert.deepEqual(partial.transitions, []);
  assert.deepEqual(partial.resolved, []);
  assert.deepEqual(partial.notifications, []);
  assert.deepEqual(partial.firing.map((a) => a.labels.instance).sort(), ["a:9100", "b:9100"]);
  assert.deepEqual(partial.pending.map((a) => a.labels.instance), ["c:9100"]);
  // 10:04 an empty answer (no data) is not all-clear either.
  const empty = await alerter.evaluate([], {
    now: at(4),
    check: { noData: true, missing: [] },
  });
  assert.equal(empty.partial, false);
  assert.equal(empty.held, true);
  assert.deepEqual(empty.transitions, []);
  assert.deepEqual(empty.firing.map((a) => a.labels.instance).sort(), ["a:9100", "b:9100"]);
  // c still pends from 10:02: present again at 10:04, it fires (its activeAt was kept).
  const back = await alerter.evaluate([alert("a:9100"), alert("c:9100")], {
    now: at(4),
    absent: "hold",
  });
  assert.deepEqual(back.transitions.map((t) => `${t.kind} ${t.alert.labels.instance}`), [
    "firing c:9100",
  ]);
  // 10:05 a complete answer without b resolves it, once.
  const complete = await alerter.evaluate([alert("a:9100"), alert("c:9100")], {
    now: at(5),
    check: { noData: false, missing: [], warnings: [] },
  });
  assert.equal(complete.partial, false);
  assert.equal(complete.held, false);
  assert.deepEqual(complete.resolved.map((a) => a.labels.instance), ["b:9100"]);
  assert.deepEqual(slack.received.map(summary), [
    "slack HostHighCpu firing a:9100:firing,b:9100:firing",
    "slack HostHighCpu firing c:9100:firing",
    "slack HostHighCpu resolved b:9100:resolved",
  ]);
});

Deno.test("alerter: one writer at a time", async () => {
  await using tmp = await tempDir();
  const statePath = `${tmp.dir}/alerts.json`;
  // Another holder (an open, flock-ed file) keeps the alerter out.
  const held = acquireLock(`${statePath}.alerter.lock`);
  const alerter = new Alerter({ statePath, sinks: [] });
  await assert.rejects(() => alerter.evaluate([], { now: at(0) }), LockError);
  held.release();
  // A lock file nobody holds, naming a live process (this test's parent), is taken over.
  await Deno.writeTextFile(`${statePath}.alerter.lock`, `${Deno.ppid}\n`);
  const report = await alerter.evaluate([], { now: at(0) });
  assert.equal(report.firing.length, 0);
  await assert.rejects(() => Deno.stat(`${statePath}.alerter.lock`), Deno.errors.NotFound);
});

Deno.test("alerter: invalid options give clear errors", () => {
  assert.throws(() => new Alerter({ statePath: "", sinks: [] }), /Invalid statePath/);
  assert.throws(
    () => new Alerter({ statePath: "/tmp/x.json", sinks: [], repeatInterval: "often" }),
    /Invalid repeatInterval/,
  );
  const s = new RecordingSink("slack");
  assert.throws(
    () => new Alerter({ statePath: "/tmp/x.json", sinks: [s, s] }),
    /Invalid sinks: duplicate name: slack/,
  );
});

Deno.test("dry run: prints exactly what would be sent and writes JSON files", async () => {
  await using tmp = await tempDir();
  const lines: string[] = [];
  const sink = new DryRunSink({ write: (t) => lines.push(t), dir: `${tmp.dir}/out/alerts` });
  const alerter = new Alerter({ statePath: `${tmp.dir}/alerts.json`, sinks: [sink] });
  await alerter.evaluate([alert("db:9100")], {
    now: at(5),
    context: {
      threshold: 80,
      unit: "%",
      query: "100 - avg(cpu)",
      graphURL: "https://bob:hunter2@prom.example/graph?g0.expr=cpu",
    },
  });
  const id = sink.sent[0].id;
  assert.deepEqual(lines, [
    [
      "[FIRING] HostHighCpu: 1 alert for dry-run",
      "  - firing cloud=aliyun instance=db:9100 value=95.0 % since 2026-11-01T10:00:00.000Z: HostHighCpu 95 on db:9100",
      `  (evaluated 2026-11-01T10:05:00.000Z; threshold 80 %; query 100 - avg(cpu); graph https://***@prom.example/graph?g0.expr=cpu; id ${id})`,
    ].join("\n"),
  ]);
  const files = [];
  for await (const e of Deno.readDir(`${tmp.dir}/out/alerts`)) files.push(e.name);
  assert.deepEqual(files, [`2026-11-01T10-05-00-000Z-HostHighCpu-firing-${id}.json`]);
  const written = JSON.parse(await Deno.readTextFile(`${tmp.dir}/out/alerts/${files[0]}`));
  assert.equal(written.alerts[0].labels.instance, "db:9100");
});

Deno.test("alerter: creates the missing folders of the state, the outbox and the lock", async () => {
  await using tmp = await tempDir();
  const statePath = `${tmp.dir}/fresh/state/alerts.json`;
  const outboxPath = `${tmp.dir}/other/queue/outbox.json`;
  const slack = new RecordingSink("slack");
  const alerter = new Alerter({ statePath, outboxPath, sinks: [slack] });
  const report = await alerter.evaluate([alert("a:9100")], { now: at(0) });
  assert.deepEqual(report.sent.map(summary), ["slack HostHighCpu firing a:9100:firing"]);
  assert.ok((await Deno.stat(statePath)).isFile);
  assert.ok((await Deno.stat(outboxPath)).isFile);
  // The lock is released; the folder may also vanish between runs (a cleaned results folder).
  await assert.rejects(() => Deno.stat(`${statePath}.alerter.lock`), Deno.errors.NotFound);
  await Deno.remove(`${tmp.dir}/fresh`, { recursive: true });
  const again = new Alerter({ statePath, sinks: [slack], lock: `${tmp.dir}/locks/a/alerter.lock` });
  assert.equal((await again.evaluate([alert("a:9100")], { now: at(5) })).firing.length, 1);
  assert.ok((await Deno.stat(`${tmp.dir}/fresh/state/alerts.outbox.json`)).isFile);
});

Deno.test("alerter: a resolve notice's text is the same whatever changed meanwhile", async () => {
  // The description changes at every evaluation (like a detector's "for 14m");
  // quiet evaluations do not write the state, so the latest text on disk depends
  // on when another alert last changed. The resolve notice must not.
  const hot = (m: number) => ({
    ...alert("db:9100", { value: 90 + m / 5 }),
    startsAt: at(0).toISOString(),
    annotations: { summary: "CPU high on db:9100", description: `above 80 % for ${m}m` },
  });
  const run = async (others: (m: number) => Alert[]) => {
    await using tmp = await tempDir();
    const slack = new RecordingSink("slack");
    for (let m = 5; m <= 60; m += 5) {
      const alerts = m < 60 ? [hot(m), ...others(m)] : others(m);
      await new Alerter({ statePath: `${tmp.dir}/alerts.json`, sinks: [slack] })
        .evaluate(alerts, { now: at(m) });
    }
    const resolved = slack.received.flatMap((n) => n.alerts)
      .filter((a) => a.status === "resolved" && a.labels.instance === "db:9100");
    assert.equal(resolved.length, 1);
    return resolved[0];
  };
  const alone = await run(() => []);
  // Another host fires at 20 and resolves at 50: two state writes in between.
  const busy = await run((m) => (m >= 20 && m < 50 ? [alert("web:9100")] : []));
  assert.deepEqual(busy, alone);
  assert.deepEqual(alone.annotations, {
    summary: "CPU high on db:9100",
    description: "Resolved at 2026-11-01 11:00:00 UTC after 1h firing (since 10:00:00). " +
      "When it fired: above 80 % for 5m",
  });
  assert.equal(alone.value, 91); // the value it fired with, not whichever was saved last
  assert.equal(alone.startsAt, at(0).toISOString());
  assert.equal(alone.endsAt, at(60).toISOString());
});
