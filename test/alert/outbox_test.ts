import assert from "node:assert/strict";
import { Outbox } from "../../lib/alert/outbox.ts";
import { StoreFileError } from "../../lib/alert/state.ts";
import {
  DeliveryError,
  type Notification,
  type SendOptions,
  type Sink,
} from "../../lib/alert/types.ts";
import { alertFixture, type AlertOptions } from "../support/alerts.ts";

const T0 = Date.UTC(2026, 10, 1, 10, 0);
const MIN = 60_000;
const iso = (minutes: number) => new Date(T0 + minutes * MIN).toISOString();

const alert = alertFixture({ summary: ({ instance }) => `CPU on ${instance}` });
const RESOLVED: AlertOptions = { status: "resolved", endsAt: iso(5) };

function note(id: string, minutes: number, extra: Partial<Notification> = {}): Notification {
  return {
    id,
    receiver: "slack",
    group: "HostHighCpu",
    kind: "firing",
    alerts: [alert(`${id}:9100`)],
    createdAt: iso(minutes),
    context: { evaluatedAt: iso(minutes) },
    ...extra,
  };
}

/** A sink that records deliveries and fails as told. */
class ScriptedSink implements Sink {
  readonly name: string;
  received: string[] = [];
  fail: (n: Notification) => Error | undefined = () => undefined;
  onSend: (n: Notification) => void | Promise<void> = () => {};
  constructor(name = "slack") {
    this.name = name;
  }
  async send(n: Notification, _options?: SendOptions): Promise<void> {
    await this.onSend(n);
    const error = this.fail(n);
    if (error) throw error;
    this.received.push(n.id);
  }
}

async function tempOutbox(): Promise<{ dir: string; path: string } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "opsbook-outbox-" });
  return {
    dir,
    path: `${dir}/outbox.json`,
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

const retriable = (retryAfter?: number) =>
  new DeliveryError("Slack answered 503", { sink: "slack", retriable: true, retryAfter });

Deno.test("outbox: written before sending, removed after the acknowledgement", async () => {
  await using tmp = await tempOutbox();
  const outbox = await Outbox.load(tmp.path);
  await outbox.enqueue([note("a", 0), note("b", 0)]);
  const sink = new ScriptedSink();
  const onDisk: string[][] = [];
  sink.onSend = async () => {
    const file = JSON.parse(await Deno.readTextFile(tmp.path));
    onDisk.push(file.entries.map((e: { notification: Notification }) => e.notification.id));
  };
  const report = await outbox.deliver([sink], { now: iso(0) });
  assert.deepEqual(onDisk, [["a", "b"], ["b"]]);
  assert.deepEqual(sink.received, ["a", "b"]);
  assert.deepEqual(report.sent.map((n) => n.id), ["a", "b"]);
  assert.equal(report.queued, 0);
  assert.equal((await Outbox.load(tmp.path)).size, 0);
});

Deno.test("outbox: retriable failures stay queued in order and are retried", async () => {
  await using tmp = await tempOutbox();
  let outbox = await Outbox.load(tmp.path);
  await outbox.enqueue([note("a", 0), note("b", 0)]);
  const sink = new ScriptedSink();
  sink.fail = () => retriable();
  let report = await outbox.deliver([sink], { now: iso(0) });
  assert.equal(report.failed.length, 1); // stops at the first failure: order is kept
  assert.equal(report.failed[0].retriable, true);
  assert.equal(report.queued, 2);
  // A restart in between: the outbox is read back from disk.
  outbox = await Outbox.load(tmp.path);
  assert.equal(outbox.entries()[0].attempts, 1);
  assert.equal(outbox.entries()[0].lastError, "Slack answered 503");
  await outbox.enqueue([note("c", 5)]);
  sink.fail = () => undefined;
  report = await outbox.deliver([sink], { now: iso(5) });
  assert.deepEqual(sink.received, ["a", "b", "c"]);
  assert.equal(report.queued, 0);
});

Deno.test("outbox: Retry-After is honoured", async () => {
  await using tmp = await tempOutbox();
  const outbox = await Outbox.load(tmp.path);
  await outbox.enqueue([note("a", 0)]);
  const sink = new ScriptedSink();
  sink.fail = () => retriable(600);
  let report = await outbox.deliver([sink], { now: iso(0) });
  assert.equal(report.failed[0].retryAt, iso(10));
  sink.fail = () => undefined;
  report = await outbox.deliver([sink], { now: iso(5) });
  assert.deepEqual(report.waiting, ["slack"]);
  assert.deepEqual(sink.received, []);
  report = await outbox.deliver([sink], { now: iso(10) });
  assert.deepEqual(sink.received, ["a"]);
});

Deno.test("outbox: non-retriable failures become dead letters, never dropped", async () => {
  await using tmp = await tempOutbox();
  const outbox = await Outbox.load(tmp.path);
  await outbox.enqueue([note("a", 0), note("b", 0)]);
  const sink = new ScriptedSink();
  sink.fail = (n) =>
    n.id === "a"
      ? new DeliveryError("Slack rejected the message: no_service", {
        sink: "slack",
        retriable: false,
        code: "no_service",
        status: 404,
      })
      : undefined;
  const report = await outbox.deliver([sink], { now: iso(0) });
  assert.deepEqual(sink.received, ["b"]); // the next one still goes
  assert.equal(report.deadLettered.length, 1);
  assert.deepEqual(report.deadLettered[0].error, {
    message: "Slack rejected the message: no_service",
    code: "no_service",
    status: 404,
  });
  assert.equal(report.deadLetters, 1);
  const again = await Outbox.load(tmp.path);
  assert.deepEqual(again.deadLetters().map((d) => d.notification.id), ["a"]);
  assert.equal(await again.requeueDeadLetters(), 1);
  sink.fail = () => undefined;
  await again.deliver([sink], { now: iso(5) });
  assert.deepEqual(sink.received, ["b", "a"]);
  assert.equal(again.deadLetters().length, 0);
});

Deno.test("outbox: stale notifications collapse into one delayed notification", async () => {
  await using tmp = await tempOutbox();
  const outbox = await Outbox.load(tmp.path);
  const resolvedA = note("a2", 10, { kind: "resolved", alerts: [alert("a:9100", RESOLVED)] });
  await outbox.enqueue([
    note("a1", 0, { alerts: [alert("a:9100")] }),
    note("b", 5, { alerts: [alert("b:9100")] }),
    resolvedA,
    note("other", 0, { receiver: "zammad" }),
    note("fresh", 100),
  ]);
  const slack = new ScriptedSink();
  const zammad = new ScriptedSink("zammad");
  const seen: Notification[] = [];
  slack.onSend = (n) => {
    seen.push(n);
  };
  const report = await outbox.deliver([slack, zammad], { now: iso(100) });
  assert.equal(report.collapsed.length, 1);
  const delayed = seen[0];
  assert.equal(delayed.kind, "delayed");
  assert.deepEqual(delayed.delayed, { count: 3, since: iso(0), ids: ["a1", "b", "a2"] });
  // Every alert is listed, each with its latest status, firing first.
  assert.deepEqual(
    delayed.alerts.map((a) => `${a.labels.instance}:${a.status}`),
    ["b:9100:firing", "a:9100:resolved"],
  );
  assert.deepEqual(slack.received, [delayed.id, "fresh"]);
  assert.deepEqual(zammad.received, ["other"]); // one stale notification is sent as it is
  assert.equal(report.queued, 0);
});

Deno.test("outbox: a crash between send and acknowledgement repeats only that one", async () => {
  await using tmp = await tempOutbox();
  const outbox = await Outbox.load(tmp.path);
  await outbox.enqueue([note("a", 0), note("b", 0)]);
  const receiver: string[] = [];
  const sink = new ScriptedSink();
  let crash = true;
  sink.onSend = (n) => {
    receiver.push(n.id); // the receiver got it...
    if (crash && n.id === "a") throw new Error("process died before the acknowledgement");
  };
  await outbox.deliver([sink], { now: iso(0) });
  crash = false;
  const restarted = await Outbox.load(tmp.path);
  await restarted.deliver([sink], { now: iso(5) });
  assert.deepEqual(receiver, ["a", "a", "b"]); // at least once; same id, nothing lost
  assert.equal(restarted.size, 0);
});

Deno.test("outbox: ids are de-duplicated, supersede carries resolved alerts over", async () => {
  await using tmp = await tempOutbox();
  const outbox = await Outbox.load(tmp.path);
  await outbox.enqueue([note("a", 0)]);
  await outbox.enqueue([note("a", 0)]);
  assert.equal(outbox.size, 1);
  await outbox.enqueue([
    note("s1", 0, { receiver: "am", alerts: [alert("x:9100"), alert("y:9100", RESOLVED)] }),
  ], { supersede: true });
  await outbox.enqueue([note("s2", 5, { receiver: "am", alerts: [alert("x:9100")] })], {
    supersede: true,
  });
  const am = outbox.entries().filter((e) => e.notification.receiver === "am");
  assert.equal(am.length, 1);
  assert.equal(am[0].notification.id, "s2");
  assert.deepEqual(
    am[0].notification.alerts.map((a) => `${a.labels.instance}:${a.status}`),
    ["x:9100:firing", "y:9100:resolved"],
  );
});

Deno.test("outbox: unknown errors are retried with secrets redacted; missing sinks keep entries", async () => {
  await using tmp = await tempOutbox();
  const outbox = await Outbox.load(tmp.path);
  await outbox.enqueue([note("a", 0), note("z", 0, { receiver: "gone" })]);
  const sink = new ScriptedSink();
  sink.fail = () =>
    new TypeError("fetch failed: https://hooks.example/services/T000/B000s3cr3t?token=s3cr3t");
  const report = await outbox.deliver([sink], { now: iso(0) });
  assert.equal(report.failed.length, 2);
  assert.doesNotMatch(JSON.stringify(report), /s3cr3t/);
  assert.doesNotMatch(await Deno.readTextFile(tmp.path), /s3cr3t/);
  assert.equal(report.failed[0].error, "fetch failed: https://hooks.example/***");
  assert.equal(report.failed[1].error, "No sink is configured for receiver: gone");
  assert.equal(report.queued, 2);
});

Deno.test("outbox: a corrupted file throws and stays, or is set aside on recover", async () => {
  await using tmp = await tempOutbox();
  await Deno.writeTextFile(tmp.path, JSON.stringify({ version: 1, seq: -1, entries: [] }));
  await assert.rejects(
    () => Outbox.load(tmp.path),
    (e: Error) => e instanceof StoreFileError && /^Outbox file is unreadable: /.test(e.message),
  );
  const fresh = await Outbox.load(tmp.path, { recover: true });
  assert.equal(fresh.size, 0);
  assert.match(fresh.recoveredFrom ?? "", /outbox\.json\.corrupt-/);
});
