// Network errors keep their cause: a closed port, an unknown host, https
// against an http server and a server that never answers each say what
// happened (and what to do), not `fetch failed`.
import assert from "node:assert/strict";
import {
  AlertmanagerSink,
  DeliveryError,
  NetworkError,
  PrometheusClient,
  TimeoutError,
} from "opsbook";
import { alert, notification } from "../support/alerts.ts";

function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

Deno.test("network errors: a closed port reads connection refused", async () => {
  const port = closedPort();
  const prom = new PrometheusClient({ url: `http://127.0.0.1:${port}`, retry: false });
  const error = await prom.query("up").catch((e) => e);
  assert.ok(error instanceof NetworkError, String(error));
  assert.equal(
    error.message,
    `Cannot reach http://127.0.0.1:${port}/api/v1/query: connection refused ` +
      `(nothing listens at 127.0.0.1:${port}: check the URL's host and port, and that the server runs)`,
  );
});

Deno.test("network errors: an unknown host reads DNS lookup failed for <host>", async () => {
  const prom = new PrometheusClient({ url: "http://nonexistent.invalid:9090", retry: false });
  const error = await prom.query("up").catch((e) => e);
  assert.ok(error instanceof NetworkError, String(error));
  assert.equal(
    error.message,
    "Cannot reach http://nonexistent.invalid:9090/api/v1/query: " +
      "DNS lookup failed for nonexistent.invalid (check the host name in the URL)",
  );
});

Deno.test("network errors: https against an http server reads TLS handshake failed", async () => {
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response("{}"),
  );
  const url = `https://127.0.0.1:${server.addr.port}`;
  const prom = new PrometheusClient({ url, retry: false });
  const error = await prom.query("up").catch((e) => e);
  assert.ok(error instanceof NetworkError, String(error));
  assert.match(
    error.message,
    new RegExp(
      `^Cannot reach ${url}/api/v1/query: TLS handshake failed: .+ ` +
        `\\(the server does not speak TLS: use http:// instead of https://\\)$`,
    ),
  );
  assert.doesNotMatch(error.message, /fetch failed|error sending request/);
});

Deno.test("network errors: a server that accepts and never answers reads timed out after 1 s", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    try {
      for await (const conn of listener) held.push(conn);
    } catch { /* closed */ }
  })();
  try {
    const port = (listener.addr as Deno.NetAddr).port;
    const prom = new PrometheusClient({
      url: `http://127.0.0.1:${port}`,
      retry: false,
      timeoutMs: 1000,
    });
    const error = await prom.query("up").catch((e) => e);
    assert.ok(error instanceof TimeoutError, String(error));
    assert.equal(
      error.message,
      `Request timed out after 1 s: http://127.0.0.1:${port}/api/v1/query`,
    );
  } finally {
    listener.close();
    for (const conn of held) conn.close();
    await accepting;
  }
});

Deno.test("network errors: the alert sinks name the same cause", async () => {
  const port = closedPort();
  const sink = new AlertmanagerSink({ urls: `http://127.0.0.1:${port}`, retries: 0 });
  const error = await sink.send(
    notification("firing", [alert("a:9100")], { receiver: "alertmanager" }),
  ).catch((e) => e);
  assert.ok(error instanceof DeliveryError, String(error));
  assert.match(error.message, /connection refused \(nothing listens at 127\.0\.0\.1:\d+/);
});
