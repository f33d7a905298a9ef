import assert from "node:assert/strict";
import {
  NetworkError,
  PrometheusError,
  ResponseError,
  SchemaError,
  TimeoutError,
} from "../../lib/errors.ts";
import { mergeMatrices, planChunks, PrometheusClient } from "../../lib/prometheus/client.ts";
import { parseQueryBody } from "../../lib/prometheus/_scan.ts";

interface Hit {
  method: string;
  path: string;
  params: URLSearchParams;
  headers: Headers;
  bodyLength: number;
  at: number;
}

type Handler = (req: Request, hit: Hit, hits: Hit[]) => Response | Promise<Response>;

/** A fake Prometheus on a free loopback port, stopped when disposed. */
function fake(handler: Handler) {
  const hits: Hit[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const url = new URL(req.url);
    const body = req.method === "POST" ? await req.text() : "";
    const params = new URLSearchParams(req.method === "POST" ? body : url.search);
    const hit = {
      method: req.method,
      path: url.pathname,
      params,
      headers: req.headers,
      bodyLength: body.length,
      at: performance.now(),
    };
    hits.push(hit);
    return await handler(req, hit, hits);
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    hits,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}

function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

function success(data: unknown, extra: Record<string, unknown> = {}): Response {
  return json({ status: "success", data, ...extra });
}

const VECTOR = {
  resultType: "vector",
  result: [{ metric: { instance: "a:9100", job: "node" }, value: [1793491200, "42.5"] }],
};

const FAST = { delayMs: 1, jitter: false };

Deno.test("query sends a POST form body with prefix, headers and bearer token", async () => {
  await using server = fake(() => success(VECTOR, { warnings: ["w1"], infos: ["i1"] }));
  const prom = new PrometheusClient({
    url: `${server.url}/prometheus/`,
    headers: { "X-Scope-OrgID": "tenant-1" },
    bearerToken: "tok",
  });
  const result = await prom.query("up", { time: "2026-11-01T00:00:00Z", timeout: "30s", limit: 5 });
  assert.equal(result.resultType, "vector");
  assert.deepEqual(result.warnings, ["w1"]);
  assert.deepEqual(result.infos, ["i1"]);
  const [hit] = server.hits;
  assert.equal(hit.method, "POST");
  assert.equal(hit.path, "/prometheus/api/v1/query");
  assert.equal(hit.headers.get("content-type"), "application/x-www-form-urlencoded;charset=UTF-8");
  assert.equal(hit.headers.get("x-scope-orgid"), "tenant-1");
  assert.equal(hit.headers.get("authorization"), "Bearer tok");
  assert.deepEqual(Object.fromEntries(hit.params), {
    query: "up",
    time: "1793491200",
    timeout: "30s",
    limit: "5",
  });
});

Deno.test("URL userinfo and basicAuth become a Basic header, never part of the URL", async () => {
  await using server = fake(() => success(VECTOR));
  const url = server.url.replace("http://", "http://alice:s%40cret@");
  await new PrometheusClient({ url }).query("up");
  assert.equal(server.hits[0].headers.get("authorization"), `Basic ${btoa("alice:s@cret")}`);
  await new PrometheusClient({ url: server.url, basicAuth: { username: "b", password: "p" } })
    .query("up");
  assert.equal(server.hits[1].headers.get("authorization"), `Basic ${btoa("b:p")}`);
});

Deno.test("a 20 KB query goes in the POST body", async () => {
  await using server = fake(() => success(VECTOR));
  const long = Array.from({ length: 800 }, (_, i) => `up{instance="host-${i}"}`).join(" or ");
  assert.ok(long.length > 20_000);
  await new PrometheusClient({ url: server.url }).query(long);
  assert.equal(server.hits[0].method, "POST");
  assert.equal(server.hits[0].params.get("query"), long);
  assert.ok(server.hits[0].bodyLength > 20_000);
});

Deno.test("405 on POST falls back to GET, and later calls go straight to GET", async () => {
  await using server = fake((req) =>
    req.method === "POST" ? new Response("method not allowed", { status: 405 }) : success(VECTOR)
  );
  const prom = new PrometheusClient({ url: server.url });
  await prom.query('up{job="a b"}');
  await prom.query("up");
  assert.deepEqual(server.hits.map((h) => h.method), ["POST", "GET", "GET"]);
  assert.equal(server.hits[1].params.get("query"), 'up{job="a b"}');
});

Deno.test("retriable failures are retried: 503, 502 HTML, 504 then success", async () => {
  const statuses = [503, 502, 504];
  await using server = fake((_req, _hit, hits) => {
    const status = statuses[hits.length - 1];
    if (status === 502) {
      return new Response("<html>bad gateway</html>", {
        status,
        headers: { "content-type": "text/html" },
      });
    }
    if (status !== undefined) return new Response("busy", { status });
    return success(VECTOR);
  });
  const prom = new PrometheusClient({ url: server.url, retry: { limit: 3, ...FAST } });
  const result = await prom.query("up");
  assert.equal(result.resultType, "vector");
  assert.equal(server.hits.length, 4);
});

Deno.test("an HTML 502 gives status and the first bytes once retries are spent", async () => {
  const page = `<html><head><title>502 Bad Gateway</title></head><body>${
    "x".repeat(400)
  }</body></html>`;
  await using server = fake(() =>
    new Response(page, { status: 502, headers: { "content-type": "text/html" } })
  );
  const prom = new PrometheusClient({ url: server.url, retry: { limit: 2, ...FAST } });
  const error = await prom.query("up").catch((e) => e);
  assert.ok(error instanceof ResponseError);
  assert.equal(error.status, 502);
  assert.equal(error.bodyStart, page.slice(0, 200));
  assert.equal(
    error.message,
    `Unexpected non-JSON response (HTTP 502) from ${server.url}/api/v1/query: ${
      page.slice(0, 200)
    }`,
  );
  assert.equal(server.hits.length, 3);
});

Deno.test("400 and 422 are never retried and carry Prometheus' errorType and message", async () => {
  await using server = fake((_req, _hit, hits) =>
    hits.length === 1
      ? json({ status: "error", errorType: "bad_data", error: "1:5: parse error: x" }, 400)
      : json({ status: "error", errorType: "execution", error: "too many samples" }, 422)
  );
  const prom = new PrometheusClient({ url: server.url, retry: { limit: 3, ...FAST } });
  const bad = await prom.query("sum(").catch((e) => e);
  assert.ok(bad instanceof PrometheusError);
  assert.equal(bad.errorType, "bad_data");
  assert.equal(bad.error, "1:5: parse error: x");
  assert.equal(bad.status, 400);
  assert.equal(bad.message, "Prometheus returned bad_data (HTTP 400): 1:5: parse error: x");
  const exec = await prom.query("x").catch((e) => e);
  assert.ok(exec instanceof PrometheusError);
  assert.equal(exec.errorType, "execution");
  assert.equal(exec.status, 422);
  assert.equal(server.hits.length, 2);
});

Deno.test("a server-side timeout (503 errorType timeout) is not retried", async () => {
  await using server = fake(() =>
    json({ status: "error", errorType: "timeout", error: "query timed out" }, 503)
  );
  const prom = new PrometheusClient({ url: server.url, retry: { limit: 3, ...FAST } });
  const error = await prom.query("x").catch((e) => e);
  assert.ok(error instanceof PrometheusError);
  assert.equal(error.errorType, "timeout");
  assert.equal(server.hits.length, 1);
});

Deno.test("429 honours Retry-After", async () => {
  await using server = fake((_req, _hit, hits) =>
    hits.length === 1
      ? new Response("slow down", { status: 429, headers: { "Retry-After": "1" } })
      : success(VECTOR)
  );
  const prom = new PrometheusClient({ url: server.url, retry: { limit: 1, ...FAST } });
  await prom.query("up");
  assert.equal(server.hits.length, 2);
  // Lower bound only: the second attempt waited for the server's Retry-After.
  assert.ok(server.hits[1].at - server.hits[0].at >= 950);
});

Deno.test("retry: false gives one attempt", async () => {
  await using server = fake(() => new Response("busy", { status: 503 }));
  const prom = new PrometheusClient({ url: server.url, retry: false });
  const error = await prom.query("up").catch((e) => e);
  assert.ok(error instanceof ResponseError);
  assert.equal(error.status, 503);
  assert.equal(server.hits.length, 1);
});

Deno.test("an unreachable server gives a NetworkError naming the endpoint without credentials", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const prom = new PrometheusClient({
    url: `http://bob:hunter2secret@127.0.0.1:${port}/prom`,
    retry: { limit: 1, ...FAST },
  });
  const error = await prom.query("up").catch((e) => e);
  assert.ok(error instanceof NetworkError, String(error));
  assert.ok(
    error.message.startsWith(`Cannot reach http://127.0.0.1:${port}/prom/api/v1/query: `),
    error.message,
  );
  assert.equal(error.endpoint, `http://127.0.0.1:${port}/prom/api/v1/query`);
  for (const text of [error.message, String(error.stack), Deno.inspect(error)]) {
    assert.ok(!text.includes("hunter2secret"));
    assert.ok(!text.includes(btoa("bob:hunter2secret")));
  }
});

Deno.test("no response within timeoutMs gives a TimeoutError, also for a stalled body", async () => {
  const release = Promise.withResolvers<void>();
  await using server = fake(async (_req, hit) => {
    if (hit.params.get("query") === "stall-body") {
      const stream = new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('{"status":"success",'));
          release.promise.then(() => controller.close(), () => {});
        },
      });
      return new Response(stream, { headers: { "content-type": "application/json" } });
    }
    await release.promise;
    return success(VECTOR);
  });
  const prom = new PrometheusClient({
    url: server.url,
    timeoutMs: 150,
    retry: { limit: 2, ...FAST },
  });
  try {
    const error = await prom.query("slow").catch((e) => e);
    assert.ok(error instanceof TimeoutError, String(error));
    assert.equal(error.timeoutMs, 150);
    assert.equal(error.message, `Request timed out after 150 ms: ${server.url}/api/v1/query`);
    assert.equal(server.hits.length, 1);
    const stalled = await prom.query("stall-body").catch((e) => e);
    assert.ok(stalled instanceof TimeoutError, String(stalled));
  } finally {
    release.resolve();
  }
});

Deno.test("JSON of the wrong shape gives a SchemaError naming the path", async () => {
  const bodies = [
    {
      body: {
        status: "success",
        data: { resultType: "vector", result: [{ metric: {}, value: [1, 2] }] },
      },
      path: "data.result[0].value[1]",
    },
    { body: { hello: "world" }, path: "status" },
  ];
  await using server = fake((_req, _hit, hits) => json(bodies[hits.length - 1].body));
  const prom = new PrometheusClient({ url: server.url });
  for (const { path } of bodies) {
    const error = await prom.query("up").catch((e) => e);
    assert.ok(error instanceof SchemaError, String(error));
    assert.ok(
      error.message.startsWith(
        `Unexpected response shape from ${server.url}/api/v1/query at ${path}: `,
      ),
      error.message,
    );
  }
});

Deno.test("a 200 with a non-JSON body is a ResponseError", async () => {
  await using server = fake(() => new Response("<html>login</html>", { status: 200 }));
  const error = await new PrometheusClient({ url: server.url }).query("up").catch((e) => e);
  assert.ok(error instanceof ResponseError);
  assert.equal(error.status, 200);
  assert.equal(error.bodyStart, "<html>login</html>");
});

Deno.test("secrets never appear in error messages, even when the server echoes them", async () => {
  const token = "tok-SECRET-0123456789";
  await using server = fake((req) =>
    json({
      status: "error",
      errorType: "bad_data",
      error: `rejected header ${req.headers.get("authorization")} and raw ${token}`,
    }, 400)
  );
  const prom = new PrometheusClient({ url: `${server.url}/?x=1`, bearerToken: token });
  const error = await prom.query("up").catch((e) => e);
  assert.ok(error instanceof PrometheusError);
  for (const text of [error.message, error.error, Deno.inspect(error)]) {
    assert.ok(!text.includes(token), text);
  }
  assert.equal(error.error, "rejected header Bearer *** and raw ***");

  await using html = fake((req) =>
    new Response(`<html>${req.headers.get("authorization")}</html>`, { status: 502 })
  );
  const basic = new PrometheusClient({
    url: html.url,
    basicAuth: { username: "u", password: "pw-SECRET-987" },
    retry: false,
  });
  const error2 = await basic.query("up").catch((e) => e);
  assert.ok(error2 instanceof ResponseError);
  assert.ok(!error2.message.includes(btoa("u:pw-SECRET-987")), error2.message);
  assert.ok(!error2.message.includes("pw-SECRET-987"));
});

function rangeServer(options: { overlap?: boolean; delayMs?: number } = {}) {
  let inFlight = 0;
  let maxInFlight = 0;
  const handler: Handler = async (_req, hit) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
      let start = Number(hit.params.get("start"));
      const end = Number(hit.params.get("end"));
      const step = Number(hit.params.get("step"));
      if (options.overlap && start > 0) start -= step; // like a snapping server
      const values: [number, string][] = [];
      const odd: [number, string][] = [];
      for (let t = start; t <= end + 1e-9; t += step) {
        values.push([t, String(t * 2)]);
        if (t % 20 === 0) odd.push([t, "1"]);
      }
      return success({
        resultType: "matrix",
        result: [
          { metric: { __name__: "m", a: "x" }, values },
          ...(odd.length > 0 ? [{ metric: { __name__: "m", z: "1" }, values: odd }] : []),
        ],
      }, start === 0 ? { warnings: ["first chunk is partial"] } : {});
    } finally {
      inFlight--;
    }
  };
  return { handler, max: () => maxInFlight };
}

Deno.test("planChunks splits on the single query's grid", () => {
  assert.deepEqual(planChunks(0, 9, 1, 20), [{ start: 0, end: 9 }]);
  assert.deepEqual(planChunks(0, 9, 1, 5), [{ start: 0, end: 4 }, { start: 5, end: 9 }]);
  assert.deepEqual(planChunks(0, 10, 1, 5), [{ start: 0, end: 4 }, { start: 5, end: 9 }, {
    start: 10,
    end: 10,
  }]);
  assert.equal(planChunks(0, 86400, 5, 11_000).length, 2);
  assert.throws(() => planChunks(10, 0, 1, 5), RangeError);
  assert.throws(() => planChunks(0, 10, 0, 5), RangeError);
});

Deno.test("queryRange chunks a long range and merges it exactly like one query", async () => {
  const fakeRange = rangeServer({ delayMs: 20 });
  await using server = fake(fakeRange.handler);
  const prom = new PrometheusClient({ url: server.url, maxPointsPerSeries: 10, concurrency: 3 });
  const chunked = await prom.queryRange("m", { start: 0, end: 95, step: 1 });
  assert.equal(chunked.chunks, 10);
  assert.equal(server.hits.length, 10);
  assert.deepEqual(
    server.hits.map((h) => [h.params.get("start"), h.params.get("end")]).sort((a, b) =>
      Number(a[0]) - Number(b[0])
    ),
    Array.from({ length: 10 }, (_, i) => [String(i * 10), String(Math.min(i * 10 + 9, 95))]),
  );
  assert.ok(fakeRange.max() <= 3 && fakeRange.max() > 1, `max in flight ${fakeRange.max()}`);
  assert.deepEqual(chunked.warnings, ["first chunk is partial"]);

  const single = await prom.queryRange("m", {
    start: 0,
    end: 95,
    step: 1,
    maxPointsPerSeries: 1000,
  });
  assert.equal(single.chunks, 1);
  assert.deepEqual(chunked.result, single.result);
  assert.deepEqual(chunked.result.map((s) => s.metric), [{ __name__: "m", a: "x" }, {
    __name__: "m",
    z: "1",
  }]);
});

Deno.test("overlapping chunk boundaries are merged without duplicated samples", async () => {
  await using server = fake(rangeServer({ overlap: true }).handler);
  const prom = new PrometheusClient({ url: server.url, maxPointsPerSeries: 10, concurrency: 1 });
  const frame = await prom.queryRangeFrame("m", {
    start: 0,
    end: 29,
    step: 1,
    onWarning: () => {},
  });
  const times = frame.filter(frame.getColumn("a").isNotNull()).getColumn("timestamp").toArray()
    .map((d) => (d as unknown as Date).getTime() / 1000);
  assert.deepEqual(times, Array.from({ length: 30 }, (_, i) => i));
});

Deno.test("mergeMatrices keeps series order of Prometheus and drops repeated timestamps", () => {
  const merged = mergeMatrices([
    { resultType: "matrix", result: [{ metric: { b: "1" }, values: [[1, "1"]] }] },
    {
      resultType: "matrix",
      result: [{ metric: { a: "1" }, values: [[2, "2"]] }, {
        metric: { b: "1" },
        values: [[1, "1"], [2, "2"]],
      }],
    },
  ]);
  assert.deepEqual(merged.result, [
    { metric: { a: "1" }, values: [[2, "2"]] },
    { metric: { b: "1" }, values: [[1, "1"], [2, "2"]] },
  ]);
});

Deno.test("frame helpers report warnings and infos to onWarning", async () => {
  await using server = fake(() =>
    success(VECTOR, { warnings: ["partial: store down"], infos: ["not a counter"] })
  );
  const seen: string[] = [];
  const prom = new PrometheusClient({
    url: server.url,
    onWarning: (message, kind) => seen.push(`client ${kind}: ${message}`),
  });
  const frame = await prom.queryFrame("up");
  assert.deepEqual(frame.columns, ["instance", "job", "timestamp", "value"]);
  assert.deepEqual(frame.getColumn("value").toArray(), [42.5]);
  await prom.queryFrame("up", {
    onWarning: (message, kind) => seen.push(`call ${kind}: ${message}`),
  });
  assert.deepEqual(seen, [
    "client warning: partial: store down",
    "client info: not a counter",
    "call warning: partial: store down",
    "call info: not a counter",
  ]);
});

Deno.test("query, queryFrame, queryRange, queryRangeFrame and parseQueryBody read malformed warnings alike", async () => {
  // Prometheus sends an array of strings. Whatever else arrives still says
  // "this answer may be partial": every path keeps it, as text (an object as
  // its JSON, never [object Object]), and none rejects the data.
  const cases: {
    warnings: unknown;
    infos?: unknown;
    expected: string[];
    expectedInfos?: string[];
  }[] = [
    {
      warnings: ["partial response: store ali unavailable", { code: "store_down", store: "ali" }],
      infos: [{ hint: "not a counter" }],
      expected: ["partial response: store ali unavailable", '{"code":"store_down","store":"ali"}'],
      expectedInfos: ['{"hint":"not a counter"}'],
    },
    { warnings: "oops", expected: ["oops"] },
    { warnings: { store: "ali" }, expected: ['{"store":"ali"}'] },
    { warnings: [1, null, true, ["x"]], expected: ["1", "null", "true", '["x"]'] },
    { warnings: null, expected: [] },
    { warnings: [], expected: [] },
  ];
  const MATRIX = {
    resultType: "matrix",
    result: [{ metric: { instance: "a:9100" }, values: [[1793491200, "42.5"]] }],
  };
  let current = cases[0];
  await using server = fake((_req, hit) => {
    const extra: Record<string, unknown> = { warnings: current.warnings };
    if (current.infos !== undefined) extra.infos = current.infos;
    return success(hit.path.endsWith("/query_range") ? MATRIX : VECTOR, extra);
  });
  for (const c of cases) {
    current = c;
    const infos = c.expectedInfos ?? [];
    const seen: string[] = [];
    const prom = new PrometheusClient({
      url: server.url,
      onWarning: (message, kind) => seen.push(`${kind}: ${message}`),
    });
    const label = JSON.stringify(c.warnings);
    const instant = await prom.query("up");
    assert.deepEqual(instant.warnings, c.expected, label);
    assert.deepEqual(instant.infos, infos, label);
    const range = await prom.queryRange("up", { start: 1793491200, end: 1793491200, step: 1 });
    assert.deepEqual(range.warnings, c.expected, label);
    const frame = await prom.queryFrame("up");
    assert.deepEqual(frame.getColumn("value").toArray(), [42.5]);
    await prom.queryRangeFrame("up", { start: 1793491200, end: 1793491200, step: 1 });
    const reported = [...c.expected.map((w) => `warning: ${w}`), ...infos.map((i) => `info: ${i}`)];
    assert.deepEqual(seen, [...reported, ...reported], label);
    // The body parser, on its scanned path (a vector) and its validated path (a scalar).
    const body = (data: unknown) =>
      JSON.stringify({ status: "success", data, warnings: c.warnings, infos: c.infos });
    assert.deepEqual(parseQueryBody(body(VECTOR)).warnings, c.expected, label);
    const scalar = parseQueryBody(body({ resultType: "scalar", result: [1, "2"] }));
    assert.deepEqual(scalar.warnings, c.expected, label);
    assert.deepEqual(scalar.infos, infos, label);
  }
});

Deno.test("frame helpers print warnings to stderr by default, chunked ranges included", async () => {
  await using server = fake(rangeServer().handler);
  const printed: string[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => void printed.push(args.join(" "));
  try {
    const prom = new PrometheusClient({ url: server.url, maxPointsPerSeries: 10 });
    const chunked = await prom.queryRangeFrame("m", { start: 0, end: 29, step: 1 });
    assert.equal(server.hits.length, 3);
    assert.equal(chunked.height, 32);
    const single = await prom.queryRangeFrame("m", { start: 0, end: 9, step: 1 });
    assert.equal(server.hits.length, 4);
    assert.equal(single.height, 11);
  } finally {
    console.error = original;
  }
  assert.deepEqual(printed, [
    "Prometheus warning: first chunk is partial",
    "Prometheus warning: first chunk is partial",
  ]);
});

Deno.test("metadata endpoints are typed and validated", async () => {
  await using server = fake((_req, hit) => {
    switch (hit.path) {
      case "/api/v1/series":
        return success([{ __name__: "up", job: "node" }]);
      case "/api/v1/labels":
        return success(["__name__", "job"]);
      case "/api/v1/label/job/values":
        return success(["node"]);
      case "/api/v1/targets":
        return success({
          activeTargets: [{ labels: { job: "node" }, health: "up", scrapeUrl: "http://x" }],
          droppedTargets: [],
        });
      case "/api/v1/alerts":
        return success({ alerts: [{ labels: { alertname: "A" }, state: "firing" }] });
      case "/api/v1/rules":
        return success({
          groups: [{ name: "g", rules: [{ name: "r", query: "up", type: "recording" }] }],
        });
      case "/api/v1/status/buildinfo":
        return success({ version: "2.42.0", revision: "abc" });
      default:
        return success({ unexpected: true });
    }
  });
  const prom = new PrometheusClient({ url: server.url });
  assert.deepEqual(await prom.series(["up", 'up{job="node"}'], { start: 0, end: 60 }), [{
    __name__: "up",
    job: "node",
  }]);
  assert.deepEqual(server.hits[0].params.getAll("match[]"), ["up", 'up{job="node"}']);
  assert.equal(server.hits[0].params.get("start"), "0");
  assert.deepEqual(await prom.labelNames(), ["__name__", "job"]);
  assert.deepEqual(await prom.labelValues("job", { matchers: ["up"] }), ["node"]);
  assert.equal(server.hits[2].method, "GET");
  assert.deepEqual(server.hits[2].params.getAll("match[]"), ["up"]);
  assert.equal((await prom.targets()).activeTargets[0].health, "up");
  assert.equal((await prom.alerts())[0].state, "firing");
  assert.equal((await prom.rules()).groups[0].rules[0].name, "r");
  assert.equal((await prom.buildInfo()).version, "2.42.0");
  assert.throws(() => prom.labelValues("bad/name"), TypeError);
});

Deno.test("metadata of the wrong shape names the path", async () => {
  await using server = fake(() => success([{ job: 1 }]));
  const error = await new PrometheusClient({ url: server.url }).series("up").catch((e) => e);
  assert.ok(error instanceof SchemaError);
  assert.ok(error.message.includes(" at data[0].job: "), error.message);
});

Deno.test("the constructor rejects bad options with TypeError or RangeError", () => {
  assert.throws(() => new PrometheusClient({ url: "localhost:9090/x" }), TypeError);
  assert.throws(() => new PrometheusClient({ url: "ftp://h" }), TypeError);
  assert.throws(() => new PrometheusClient({ url: "http://h", retry: -1 }), RangeError);
  assert.throws(() => new PrometheusClient({ url: "http://h", timeoutMs: 0 }), RangeError);
  assert.equal(new PrometheusClient({ url: "http://u:p@h:1/p/" }).url, "http://h:1/p");
});

Deno.test("frame queries scan the body but fail exactly like query on bad bodies", async () => {
  const bodies: unknown[] = [
    { status: "success", data: { resultType: "vector", result: [{ metric: {}, value: [1, 2] }] } },
    { hello: "world" },
    "<html>login</html>",
    { status: "error", errorType: "bad_data", error: "parse error at char 3" },
  ];
  await using server = fake((_req, _hit, hits) => {
    const body = bodies[Math.floor((hits.length - 1) / 2)]; // query, then queryFrame
    return typeof body === "string"
      ? new Response(body, { status: 200 })
      : json(body, (body as { status?: string }).status === "error" ? 400 : 200);
  });
  const prom = new PrometheusClient({ url: server.url, retry: false });
  for (let i = 0; i < bodies.length; i++) {
    const viaQuery = await prom.query("up").catch((e) => e);
    const viaFrame = await prom.queryFrame("up").catch((e) => e);
    assert.equal(viaFrame.constructor, viaQuery.constructor, `body ${i}`);
    assert.equal(viaFrame.message, viaQuery.message, `body ${i}`);
  }
});

Deno.test("a single-chunk range frame rejects a non-matrix result", async () => {
  await using server = fake(() => success(VECTOR));
  const prom = new PrometheusClient({ url: server.url });
  const error = await prom.queryRangeFrame("up", { start: 0, end: 60, step: 15 }).catch((e) => e);
  assert.ok(error instanceof SchemaError, String(error));
  assert.match(
    error.message,
    /data\.resultType: Expected "matrix" for a range query, got "vector"/,
  );
});

Deno.test("the shared retry shape: 408 and a 413 with Retry-After are retried, 500 and 501 are not", async () => {
  const script: Response[] = [
    new Response("timeout", { status: 408 }),
    new Response("too large", { status: 413, headers: { "Retry-After": "0" } }),
  ];
  await using server = fake((_req, _hit, hits) => script[hits.length - 1] ?? success(VECTOR));
  const prom = new PrometheusClient({ url: server.url, retry: { limit: 3, ...FAST } });
  assert.equal((await prom.query("up")).resultType, "vector");
  assert.equal(server.hits.length, 3);

  for (const status of [413, 500, 501]) {
    await using once = fake(() => new Response("no", { status }));
    const client = new PrometheusClient({ url: once.url, retry: { limit: 3, ...FAST } });
    await assert.rejects(() => client.query("up"), ResponseError);
    assert.equal(once.hits.length, 1, `status ${status}`);
  }
});

Deno.test("retry.maxWaitMs bounds the total wait: a long Retry-After is not waited for", async () => {
  await using server = fake(() =>
    new Response("slow down", { status: 429, headers: { "Retry-After": "30" } })
  );
  const prom = new PrometheusClient({ url: server.url, retry: { limit: 3, maxWaitMs: 1000 } });
  const t0 = performance.now();
  await assert.rejects(() => prom.query("up"), ResponseError);
  assert.equal(server.hits.length, 1);
  assert.ok(performance.now() - t0 < 1000);
});
