import assert from "node:assert/strict";
import { alertmanagerAlerts, AlertmanagerSink } from "../../lib/alert/sinks/alertmanager.ts";
import { DeliveryError } from "../../lib/alert/types.ts";
import { missingBinaries, startAlertmanager } from "../../dev/stack.ts";
import { alertFixture, notificationFixture } from "../support/alerts.ts";

const missing = missingBinaries(["prometheus-alertmanager"]);

const alert = alertFixture(() => ({
  labels: { severity: "warning" },
  summary: ({ instance }) => `CPU usage above 80% on ${instance}`,
  value: 93.5,
  startsAt: new Date(Date.now() - 60_000).toISOString(),
}));
const notification = notificationFixture(() => {
  const now = new Date().toISOString();
  return {
    id: crypto.randomUUID(),
    receiver: "alertmanager",
    createdAt: now,
    context: {
      evaluatedAt: now,
      query: "instance:cpu_usage:percent > 80",
      graphURL: "http://127.0.0.1:9090/graph?g0.expr=up",
    },
  };
});

interface WebhookPayload {
  status: string;
  alerts: { status: string; labels: Record<string, string> }[];
}

/** A local webhook receiver recording Alertmanager's notifications. */
function startRecorder() {
  const received: WebhookPayload[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    received.push(await req.json());
    return new Response("ok");
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}/hook`,
    received,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined> | T | undefined,
  ms = 10_000,
) {
  const deadline = Date.now() + ms;
  while (true) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface GettableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  generatorURL: string;
  status: { state: string };
  fingerprint: string;
}

async function getAlerts(url: string): Promise<GettableAlert[]> {
  const res = await fetch(`${url}/api/v2/alerts`);
  return await res.json();
}

Deno.test("alertmanagerAlerts sets endsAt ahead for firing and keeps it for resolved", () => {
  const n = notification("firing", [
    alert("a"),
    alert("b", { status: "resolved", endsAt: "2024-05-01T12:00:00.000Z" }),
  ]);
  n.context.evaluatedAt = "2024-05-01T12:05:00.000Z";
  const body = alertmanagerAlerts(n, { firingTtlMs: 60_000 });
  assert.equal(body[0].endsAt, "2024-05-01T12:06:00.000Z");
  assert.equal(body[1].endsAt, "2024-05-01T12:00:00.000Z");
  assert.deepEqual(body[0].annotations, { summary: "CPU usage above 80% on a", value: "93.5" });
  assert.equal(body[0].generatorURL, "http://127.0.0.1:9090/graph?g0.expr=up");
  assert.throws(() => new AlertmanagerSink({ urls: "nope" }), TypeError);
  assert.throws(() => new AlertmanagerSink({ urls: [] }), TypeError);
  const sink = new AlertmanagerSink({ urls: "http://bob:s3cr3t-pass@127.0.0.1:9093/" });
  assert.equal(String(sink), "AlertmanagerSink(alertmanager: http://127.0.0.1:9093)");
  assert.ok(!Deno.inspect(sink).includes("s3cr3t") && !JSON.stringify(sink).includes("s3cr3t"));
  assert.equal(sink.resendFiring, true);
});

Deno.test({
  name: "real Alertmanager: posted alerts appear, resolved ones resolve, 400 is not retriable",
  ignore: missing !== null,
  sanitizeResources: false,
  fn: async () => {
    await using hook = startRecorder();
    await using am = await startAlertmanager({ webhookUrl: hook.url });
    const sink = new AlertmanagerSink({ urls: am.url, backoffMs: 10 });

    await sink.send(notification("firing", [alert("web-01:9100"), alert("web-02:9100")]));
    const active = await getAlerts(am.url);
    assert.deepEqual(
      active.map((a) => [a.labels, a.annotations, a.status.state, a.generatorURL]).sort((x, y) =>
        JSON.stringify(x) < JSON.stringify(y) ? -1 : 1
      ),
      ["web-01:9100", "web-02:9100"].map((h) => [
        { alertname: "HostHighCpu", instance: h, severity: "warning" },
        { summary: `CPU usage above 80% on ${h}`, value: "93.5" },
        "active",
        "http://127.0.0.1:9090/graph?g0.expr=up",
      ]),
    );
    assert.deepEqual(
      active.map((a) => a.fingerprint).sort(),
      [alert("web-01:9100").fingerprint, alert("web-02:9100").fingerprint].sort(),
    );
    await waitFor(
      "the firing notification",
      () => hook.received.find((p) => p.status === "firing"),
    );

    // Resolve web-01: Alertmanager drops it from the active list and notifies the resolve.
    await sink.send(
      notification("resolved", [
        alert("web-01:9100", {
          status: "resolved",
          endsAt: new Date(Date.now() - 1000).toISOString(),
        }),
      ]),
    );
    const after = await getAlerts(am.url);
    assert.deepEqual(
      after.filter((a) => a.status.state === "active").map((a) => a.labels.instance),
      [
        "web-02:9100",
      ],
    );
    await waitFor(
      "the resolve notification",
      () =>
        hook.received.find((p) =>
          p.alerts.some((a) => a.labels.instance === "web-01:9100" && a.status === "resolved")
        ),
    );

    // A malformed alert: 400, not retriable, with Alertmanager's reason.
    const bad = {
      ...alert("web-03"),
      labels: { alertname: "HostHighCpu", "bad-label": "x" },
    };
    await assert.rejects(sink.send(notification("firing", [bad])), (e: unknown) => {
      assert.ok(e instanceof DeliveryError);
      assert.equal(e.retriable, false);
      assert.equal(e.status, 400);
      assert.ok(e.message.startsWith(`Alertmanager ${am.url} rejected the message: `), e.message);
      assert.ok(e.message.includes("bad-label"), e.message);
      return true;
    });

    // Two URLs, one down: one acknowledgement is enough; both down is retriable.
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const dead = `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`;
    listener.close();
    const pair = new AlertmanagerSink({ urls: [dead, am.url], retries: 0 });
    await pair.send(notification("firing", [alert("web-04:9100")]));
    assert.ok((await getAlerts(am.url)).some((a) => a.labels.instance === "web-04:9100"));
    const strict = new AlertmanagerSink({ urls: [dead, am.url], retries: 0, requireAll: true });
    await assert.rejects(
      strict.send(notification("firing", [alert("web-04:9100")])),
      (e: unknown) => {
        assert.ok(e instanceof DeliveryError);
        assert.equal(e.retriable, true);
        assert.equal(e.code, "network");
        return true;
      },
    );
  },
});

Deno.test({
  name: "real Alertmanager cluster: the same alert from two senders notifies once",
  ignore: missing !== null,
  sanitizeResources: false,
  fn: async () => {
    await using hook = startRecorder();
    await using a = await startAlertmanager({ cluster: true, webhookUrl: hook.url });
    await using b = await startAlertmanager({ peers: [a.clusterAddress!], webhookUrl: hook.url });
    // Wait until both peers see each other.
    for (const am of [a, b]) {
      await waitFor("the cluster to form", async () => {
        const status = await (await fetch(`${am.url}/api/v2/status`)).json();
        return status.cluster?.peers?.length === 2 && status.cluster.status === "ready"
          ? true
          : undefined;
      }, 15_000);
    }
    // Two senders (e.g. two Prometheus replicas), each posting to both peers.
    const senderA = new AlertmanagerSink({ urls: [a.url, b.url] });
    const senderB = new AlertmanagerSink({ urls: [b.url, a.url] });
    const shared = alert("db-01:9100");
    await Promise.all([
      senderA.send(notification("firing", [shared])),
      senderB.send(notification("firing", [shared])),
    ]);
    await waitFor("a notification", () => hook.received.length > 0 ? true : undefined);
    // Give the second peer time to notify if deduplication failed: its wait
    // is peer_timeout (2 s) behind the first, plus group_interval (1 s).
    await new Promise((r) => setTimeout(r, 4000));
    const firing = hook.received.filter((p) => p.status === "firing");
    assert.equal(firing.length, 1);
    assert.deepEqual(firing[0].alerts.map((x) => x.labels.instance), ["db-01:9100"]);
    for (const am of [a, b]) {
      assert.deepEqual((await getAlerts(am.url)).map((x) => x.labels.instance), ["db-01:9100"]);
    }
  },
});
