// An empty answer says so where it happens: `query returned no series: <query> at <time>`
// through the warnings path, or an EmptyResultError with that sentence.
import assert from "node:assert/strict";
import { EmptyResultError, PrometheusClient } from "opsbook";

function emptyServer(resultType: "vector" | "matrix") {
  return Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => Response.json({ status: "success", data: { resultType, result: [] } }),
  );
}

Deno.test("queryFrame of a misspelled metric warns: query returned no series: <query> at <time>", async () => {
  await using server = emptyServer("vector");
  const warnings: string[] = [];
  const prom = new PrometheusClient({
    url: `http://127.0.0.1:${server.addr.port}`,
    onWarning: (message, kind) => warnings.push(`${kind}: ${message}`),
  });
  const frame = await prom.queryFrame("node_cpu_seconds_totl", { time: "2026-11-01T12:00:00Z" });
  assert.equal(frame.height, 0);
  assert.deepEqual(warnings, [
    "warning: query returned no series: node_cpu_seconds_totl at 2026-11-01T12:00:00.000Z",
  ]);
  await prom.queryFrame("up");
  assert.equal(warnings[1], "warning: query returned no series: up at now");
});

Deno.test("queryRangeFrame of an empty range warns with the range, in one request or chunks", async () => {
  await using server = emptyServer("matrix");
  const warnings: string[] = [];
  const prom = new PrometheusClient({
    url: `http://127.0.0.1:${server.addr.port}`,
    onWarning: (message) => warnings.push(message),
  });
  const options = { start: "2027-01-01T00:00:00Z", end: "2027-01-01T01:00:00Z", step: "1m" };
  await prom.queryRangeFrame("up", options);
  await prom.queryRangeFrame("up", { ...options, maxPointsPerSeries: 10 });
  const sentence =
    "query returned no series: up from 2027-01-01T00:00:00.000Z to 2027-01-01T01:00:00.000Z";
  assert.deepEqual(warnings, [sentence, sentence]);
});

Deno.test("onEmpty: error throws EmptyResultError with that sentence, ignore stays silent", async () => {
  await using server = emptyServer("vector");
  const warnings: string[] = [];
  const prom = new PrometheusClient({
    url: `http://127.0.0.1:${server.addr.port}`,
    onEmpty: "error",
    onWarning: (message) => warnings.push(message),
  });
  const error = await prom.queryFrame('up{job="nod"}', { time: "2026-11-01T12:00:00Z" })
    .catch((e) => e);
  assert.ok(error instanceof EmptyResultError, String(error));
  assert.equal(
    error.message,
    'Query returned no series: up{job="nod"} at 2026-11-01T12:00:00.000Z ' +
      "(check the metric and label names, and that the time lies within the data)",
  );
  assert.equal(error.query, 'up{job="nod"}');
  const frame = await prom.queryFrame("up", { onEmpty: "ignore" });
  assert.equal(frame.height, 0);
  assert.deepEqual(warnings, []);
  assert.throws(
    () => new PrometheusClient({ url: "http://x", onEmpty: "loud" as "warn" }),
    /Invalid onEmpty: expected "warn", "error" or "ignore", got "loud"/,
  );
});
