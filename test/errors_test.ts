import assert from "node:assert/strict";
import {
  formatPath,
  NativeHistogramError,
  NetworkError,
  OpsbookError,
  PrometheusError,
  redactText,
  redactUrl,
  ResponseError,
  SchemaError,
  TimeoutError,
} from "../lib/errors.ts";

Deno.test("redactUrl removes userinfo and secret query parameters", () => {
  assert.equal(
    redactUrl("https://alice:pa55@prom.example:9090/prometheus/api/v1/query?x=1&access_token=t0k"),
    "https://***@prom.example:9090/prometheus/api/v1/query?x=1&access_token=***",
  );
  assert.equal(redactUrl("http://127.0.0.1:9090/api"), "http://127.0.0.1:9090/api");
  assert.equal(redactUrl(new URL("http://u@h/?API_KEY=zz#f")), "http://***@h/?API_KEY=***#f");
  assert.equal(redactUrl("not a url token=abc"), "not a url token=abc");
});

Deno.test("redactText removes credentials inside free text", () => {
  assert.equal(
    redactText("error sending request for url (http://bob:secretpw@h:1/x?token=abc&a=b)"),
    "error sending request for url (http://***@h:1/x?token=***&a=b)",
  );
  assert.equal(redactText('{"Authorization":"Bearer xyz"}'), '{"Authorization":"***"}');
  assert.equal(redactText("got Bearer eyJhbGciOi.x-y_z"), "got Bearer ***");
  assert.equal(redactText("the value hunter22 leaked", ["hunter22"]), "the value *** leaked");
  assert.equal(redactText("encoded p%40ss%2F leaked", ["p@ss/"]), "encoded *** leaked");
});

Deno.test("errors form a catchable family with exact messages", () => {
  const prom = new PrometheusError({
    errorType: "bad_data",
    error: "1:5: parse error: unexpected <EOF>",
    status: 400,
    endpoint: "http://u:p@h/api/v1/query",
  });
  assert.ok(prom instanceof OpsbookError && prom instanceof Error);
  assert.equal(prom.name, "PrometheusError");
  assert.equal(
    prom.message,
    "Prometheus returned bad_data (HTTP 400): 1:5: parse error: unexpected <EOF>",
  );
  assert.equal(prom.errorType, "bad_data");
  assert.equal(prom.status, 400);
  assert.equal(prom.endpoint, "http://***@h/api/v1/query");

  const html = "<html><body>" + "x".repeat(500) + "</body></html>";
  const resp = new ResponseError({ status: 502, bodyStart: html, endpoint: "http://h/api" });
  assert.equal(resp.bodyStart.length, 200);
  assert.equal(
    resp.message,
    `Unexpected non-JSON response (HTTP 502) from http://h/api: ${html.slice(0, 200)}`,
  );
  assert.equal(
    new ResponseError({ status: 200, bodyStart: "" }).message,
    "Unexpected non-JSON response (HTTP 200): <empty body>",
  );

  const net = new NetworkError("http://u:pw@127.0.0.1:1/api/v1/query?token=abc", {
    detail: "connection refused",
  });
  assert.equal(
    net.message,
    "Cannot reach http://***@127.0.0.1:1/api/v1/query?token=***: connection refused",
  );
  assert.equal(net.name, "NetworkError");

  const timeout = new TimeoutError("http://h/api/v1/query", 250);
  assert.equal(timeout.timeoutMs, 250);
  assert.equal(timeout.message, "Request timed out after 250 ms: http://h/api/v1/query");

  const schema = new SchemaError([
    { path: ["data", "result", 0, "values", 3, 1], message: "Invalid input: expected string" },
    { path: ["data"], message: "x" },
  ]);
  assert.deepEqual(schema.path, ["data", "result", 0, "values", 3, 1]);
  assert.equal(
    schema.message,
    "Unexpected response shape at data.result[0].values[3][1]: Invalid input: expected string (and 1 more)",
  );

  const hist = new NativeHistogramError('rpc{job="a"}');
  assert.equal(hist.series, 'rpc{job="a"}');
  assert.match(
    hist.message,
    /^Native histogram samples cannot become a frame of floats: series rpc\{job="a"\}; /,
  );
  for (const e of [prom, resp, net, timeout, schema, hist]) assert.ok(!e.message.endsWith("."));
});

Deno.test("formatPath writes dotted paths with indices", () => {
  assert.equal(formatPath([]), "(root)");
  assert.equal(formatPath(["data", "result", 2, "value", 1]), "data.result[2].value[1]");
});
