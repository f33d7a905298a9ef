import assert from "node:assert/strict";
import { ZammadSink } from "../../lib/alert/sinks/zammad.ts";
import { DeliveryError } from "../../lib/alert/types.ts";
import { alertFixture, type AlertOptions, notificationFixture } from "../support/alerts.ts";
import { startZammadReceiver } from "../support/zammad_receiver.ts";

const TOKEN = "zammad-fake-token-0000";
const CUSTOMER = "monitoring@example.com";

const alert = alertFixture({
  labels: { cloud: "aws" },
  summary: ({ instance }) => `CPU usage above 80% on ${instance}`,
  value: 93.25,
  startsAt: "2024-05-01T11:55:00Z",
});
const RESOLVED: AlertOptions = { status: "resolved", value: 41, endsAt: "2024-05-01T13:00:00Z" };
const notification = notificationFixture({
  receiver: "zammad",
  createdAt: "2024-05-01T12:00:00Z",
  context: {
    evaluatedAt: "2024-05-01T12:00:00Z",
    query: "instance:cpu_usage:percent > 80",
    threshold: 80,
    unit: "%",
  },
});

function sink(url: string, extra: Partial<ConstructorParameters<typeof ZammadSink>[0]> = {}) {
  return new ZammadSink({
    url,
    token: TOKEN,
    group: "Users",
    customer: CUSTOMER,
    backoffMs: 1,
    ...extra,
  });
}

Deno.test("ZammadSink opens one ticket per incident and closes it on resolve", async () => {
  await using zammad = startZammadReceiver({ token: TOKEN });
  const z = sink(zammad.url);
  const a = alert("web-01:9100");
  const b = alert("web-02:9100");

  await z.send(notification("firing", [a, b]));
  assert.deepEqual(zammad.requests.map((r) => `${r.method} ${r.path.split("?")[0]} ${r.status}`), [
    "GET /api/v1/tickets/search 200",
    "POST /api/v1/tickets 201",
    "GET /api/v1/tickets/search 200",
    "POST /api/v1/tickets 201",
  ]);
  const search = new URL(zammad.url + zammad.requests[0].path).searchParams;
  assert.equal(search.get("query"), `tags:${a.fingerprint} AND state.name:(new OR open)`);
  assert.equal(zammad.requests[1].headers.authorization, `Token token=${TOKEN}`);
  const created = zammad.requests[1].body as Record<string, unknown>;
  assert.equal(created.title, "HostHighCpu on web-01:9100");
  assert.equal(created.group, "Users");
  assert.equal(created.customer, CUSTOMER);
  assert.equal(created.tags, `${a.fingerprint},opsbook`);
  const art = created.article as Record<string, unknown>;
  assert.equal(art.subject, "HostHighCpu on web-01:9100");
  assert.equal(art.type, "note");
  assert.equal(art.internal, true);
  assert.ok(
    (art.body as string).startsWith(
      "Firing: CPU usage above 80% on web-01:9100\n\nValue: 93.3 % (threshold 80 %)\n",
    ),
  );
  assert.ok((art.body as string).includes(`Fingerprint: ${a.fingerprint}`));
  assert.deepEqual([...zammad.tickets.values()].map((t) => [t.title, t.state, t.tags]), [
    ["HostHighCpu on web-01:9100", "new", [a.fingerprint, "opsbook"]],
    ["HostHighCpu on web-02:9100", "new", [b.fingerprint, "opsbook"]],
  ]);

  // A repeated delivery of the same firing notification creates nothing.
  await z.send(notification("firing", [a, b]));
  assert.equal(zammad.tickets.size, 2);
  assert.deepEqual([...zammad.tickets.values()].map((t) => t.articles.length), [1, 1]);

  // Still firing: one article per ticket.
  await z.send(notification("repeat", [a, b]));
  assert.deepEqual([...zammad.tickets.values()].map((t) => t.articles.length), [2, 2]);
  assert.equal(
    zammad.tickets.get(1)!.articles[1].subject,
    "Still firing: HostHighCpu on web-01:9100",
  );
  assert.ok(zammad.tickets.get(1)!.articles[1].body.startsWith("Still firing: "));

  // Resolved: a closing article and the state change, in one PUT.
  const before = zammad.requests.length;
  await z.send(notification("resolved", [alert("web-01:9100", RESOLVED)]));
  assert.deepEqual(
    zammad.requests.slice(before).map((r) => `${r.method} ${r.path.split("?")[0]} ${r.status}`),
    [
      "GET /api/v1/tickets/search 200",
      "PUT /api/v1/tickets/1 200",
    ],
  );
  const t1 = zammad.tickets.get(1)!;
  assert.equal(t1.state, "closed");
  assert.equal(t1.articles.length, 3);
  assert.equal(t1.articles[2].subject, "Resolved: HostHighCpu on web-01:9100");
  assert.ok(t1.articles[2].body.includes("Ended: 2024-05-01T13:00:00Z"));
  assert.equal(zammad.tickets.get(2)!.state, "new");

  // Resolving again finds no open ticket and does nothing.
  await z.send(notification("resolved", [alert("web-01:9100", RESOLVED)]));
  assert.equal(zammad.tickets.get(1)!.articles.length, 3);

  // Firing again after the close is a new incident: a new ticket.
  await z.send(notification("firing", [a]));
  assert.equal(zammad.tickets.size, 3);
  assert.equal(zammad.tickets.get(3)!.tags[0], a.fingerprint);
});

Deno.test("ZammadSink: 401 and 422 are not retriable, and name Zammad's reason", async () => {
  await using zammad = startZammadReceiver({ token: TOKEN });
  const wrong = "zammad-wrong-fake-token-9999";
  await assert.rejects(
    sink(zammad.url, { token: wrong }).send(notification("firing", [alert("a")])),
    (e: unknown) => {
      assert.ok(e instanceof DeliveryError);
      assert.equal(e.message, "Zammad rejected the message: Invalid token (401)");
      assert.equal(e.retriable, false);
      assert.equal(e.status, 401);
      assert.ok(!Deno.inspect(e).includes(wrong));
      return true;
    },
  );
  // The receiver itself answers 401 without any Authorization header.
  const res = await fetch(`${zammad.url}/api/v1/tickets/search?query=tags:x`);
  assert.equal(res.status, 401);
  assert.deepEqual(await res.json(), {
    error: "Authentication required",
    error_human: "Authentication required",
  });

  await assert.rejects(
    sink(zammad.url, { group: "NoSuchGroup" }).send(notification("firing", [alert("a")])),
    (e: unknown) => {
      assert.ok(e instanceof DeliveryError);
      assert.equal(
        e.message,
        "Zammad rejected the message: No lookup value found for 'group' (422)",
      );
      assert.equal(e.retriable, false);
      assert.equal(e.status, 422);
      return true;
    },
  );
  const missing = await fetch(`${zammad.url}/api/v1/tickets`, {
    method: "POST",
    headers: { authorization: `Token token=${TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ title: "x", group: "Users" }),
  });
  assert.equal(missing.status, 422);
  assert.equal((await missing.json()).error, "Missing required field: customer");
  assert.equal(zammad.tickets.size, 0);
});

Deno.test("ZammadSink retries 5xx and 429, then gives up retriable", async () => {
  await using zammad = startZammadReceiver({ token: TOKEN });
  const z = sink(zammad.url, { retries: 2 });
  zammad.respond("server_error");
  zammad.respond("rate_limited");
  await z.send(notification("firing", [alert("a")]));
  assert.deepEqual(zammad.requests.map((r) => r.status), [500, 429, 200, 201]);
  assert.equal(zammad.tickets.size, 1);

  zammad.respond("server_error", 3);
  await assert.rejects(z.send(notification("repeat", [alert("a")])), (e: unknown) => {
    assert.ok(e instanceof DeliveryError);
    assert.equal(e.message, "Zammad is unavailable: Internal server error (500)");
    assert.equal(e.retriable, true);
    return true;
  });

  zammad.respond("hang");
  const hasty = sink(zammad.url, { timeoutMs: 150, retries: 0 });
  await assert.rejects(hasty.send(notification("repeat", [alert("a")])), (e: unknown) => {
    assert.ok(e instanceof DeliveryError);
    assert.equal(e.message, "Zammad did not answer within 150 ms");
    assert.equal(e.retriable, true);
    return true;
  });
});

Deno.test("ZammadSink validates its options and never shows the token", () => {
  assert.throws(() => sink("http://127.0.0.1:1", { group: "" }), {
    name: "TypeError",
    message: "Missing Zammad group: set the group option",
  });
  assert.throws(() => sink("ftp://example.com"), TypeError);
  assert.equal(ZammadSink.fromEnv({ env: {} }), undefined);
  assert.throws(
    () => ZammadSink.fromEnv({ env: { ZAMMAD_URL: "http://z", ZAMMAD_TOKEN: TOKEN } }),
    {
      message: "Missing ZAMMAD_GROUP: it is required when ZAMMAD_URL is set",
    },
  );
  const z = ZammadSink.fromEnv({
    env: {
      ZAMMAD_URL: "http://z.example/",
      ZAMMAD_TOKEN: TOKEN,
      ZAMMAD_GROUP: "Users",
      ZAMMAD_CUSTOMER: CUSTOMER,
    },
  })!;
  assert.equal(String(z), "ZammadSink(zammad: http://z.example)");
  const shown = [
    String(z),
    JSON.stringify(z),
    Deno.inspect(z),
    Deno.inspect(z, { showHidden: true }),
  ].join("\n");
  assert.ok(!shown.includes(TOKEN));
});

Deno.test("ZammadSink network errors are retriable and redacted", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  await assert.rejects(
    sink(`http://127.0.0.1:${port}`, { retries: 0 }).send(notification("firing", [alert("a")])),
    (e: unknown) => {
      assert.ok(e instanceof DeliveryError);
      assert.ok(e.message.startsWith("Cannot reach Zammad: "), e.message);
      assert.equal(e.retriable, true);
      assert.ok(!Deno.inspect(e).includes(TOKEN));
      return true;
    },
  );
});
