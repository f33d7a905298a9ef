import assert from "node:assert/strict";
import {
  EmptyResultError,
  FleetError,
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
import { DeliveryError } from "../lib/alert/types.ts";
import { StoreFileError } from "../lib/alert/_store.ts";
import { ChartDataError } from "../lib/chart/chart.ts";
import { ConfigError } from "../lib/monitor/config.ts";
import { LockError } from "../lib/_internal/lock.ts";
import { RuleFileError } from "../lib/rules/rule_file.ts";
import { TemplateError } from "../lib/rules/template.ts";
import { WireError } from "../lib/notebook/wire.ts";
import { ZmtpError } from "../lib/notebook/zmtp.ts";
import { KernelDiedError, KernelStartError, KernelTimeoutError } from "../lib/notebook/kernel.ts";
import { NotebookInputError } from "../lib/notebook/nbformat.ts";
import {
  CellTimeoutError,
  NotebookExecutionError,
  NotebookOutputError,
  type RunNotebookResult,
} from "../lib/notebook/runner.ts";

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

// One error base (issue 12): every error a caller may handle is an OpsbookError
// and keeps its own name. `ParseFailure` and `ExecFailure` are the Go-template
// engine's internal signals: `compileTemplate` and `expandTemplate` turn them into
// `TemplateError`.
const INTERNAL_SIGNALS = new Set(["ParseFailure", "ExecFailure"]);

Deno.test("every error class in lib/ extends OpsbookError", async () => {
  const errorClasses = new Map<string, unknown>();
  const root = new URL("../lib/", import.meta.url);
  const files: URL[] = [];
  const walk = async (dir: URL) => {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isDirectory) await walk(new URL(`${entry.name}/`, dir));
      else if (entry.name.endsWith(".ts")) files.push(new URL(entry.name, dir));
    }
  };
  await walk(root);
  for (const file of files) {
    const module: Record<string, unknown> = await import(file.href);
    for (const [name, value] of Object.entries(module)) {
      if (typeof value === "function" && value.prototype instanceof Error) {
        errorClasses.set(name, value);
      }
    }
  }
  const outside = [...errorClasses].filter(([name, cls]) =>
    !INTERNAL_SIGNALS.has(name) && cls !== OpsbookError &&
    !((cls as { prototype: unknown }).prototype instanceof OpsbookError)
  ).map(([name]) => name);
  assert.deepEqual(outside, []);
  // the walk found them all (a new error class is checked by the assertion above)
  const found = [...errorClasses.keys()];
  const expected = [
    "CellTimeoutError",
    "ChartDataError",
    "ConfigError",
    "DeliveryError",
    "EmptyResultError",
    "FleetError",
    "KernelDiedError",
    "KernelStartError",
    "KernelTimeoutError",
    "LockError",
    "NativeHistogramError",
    "NetworkError",
    "NotebookExecutionError",
    "NotebookInputError",
    "NotebookOutputError",
    "OpsbookError",
    "PrometheusError",
    "ResponseError",
    "RuleFileError",
    "SchemaError",
    "StoreFileError",
    "TemplateError",
    "TimeoutError",
    "WireError",
    "ZmtpError",
  ];
  assert.deepEqual(expected.filter((name) => !found.includes(name)), []);
});

Deno.test("each error keeps its own name and is caught as an OpsbookError", () => {
  const failure = {
    number: 1,
    cell: 0,
    outputCell: 0,
    cellId: "c1",
    ename: "Error",
    evalue: "boom",
    traceback: [],
  };
  const result = {
    notebook: { cells: [], metadata: {}, nbformat: 4, nbformat_minor: 5 },
    output: "/tmp/out.ipynb",
    failures: [failure],
    warnings: [],
    executed: 1,
    kernelPid: 1,
    kernelStartMs: 1,
    durationMs: 1,
  } as unknown as RunNotebookResult;
  const position = { file: "r.yml", line: 1, column: 1 };
  const errors: Error[] = [
    new OpsbookError("x"),
    new PrometheusError({ errorType: "bad_data", error: "x", status: 400 }),
    new ResponseError({ status: 502, bodyStart: "x" }),
    new NetworkError("http://h/"),
    new TimeoutError("http://h/", 1000),
    new SchemaError([{ path: ["data"], message: "x" }]),
    new NativeHistogramError("up"),
    new EmptyResultError("up"),
    new FleetError({ a: new Error("x") }),
    new DeliveryError("x", { sink: "slack", retriable: false }),
    new StoreFileError("x", { path: "/tmp/s.json" }),
    new ChartDataError("x"),
    new ConfigError("x", { setting: "threshold", source: "env", expected: "a number" }),
    new LockError("/tmp/l.lock", 1),
    new RuleFileError([{ ...position, detail: "x", message: "r.yml:1:1: x" }]),
    new TemplateError({
      kind: "parse",
      templateName: "summary",
      line: 1,
      column: 1,
      detail: "x",
      goMessage: "x",
    }),
    new WireError("x"),
    new ZmtpError("x"),
    new KernelStartError("x"),
    new KernelDiedError("x", 1),
    new KernelTimeoutError("x"),
    new NotebookInputError("x"),
    new NotebookOutputError("x", "/tmp/o.ipynb"),
    new NotebookExecutionError(failure, result),
    new CellTimeoutError(failure, result),
  ];
  for (const error of errors) {
    assert.ok(error instanceof OpsbookError, error.name);
    assert.equal(error.name, error.constructor.name);
  }
});
