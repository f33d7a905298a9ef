import assert from "node:assert/strict";
import pl from "nodejs-polars";
import { NativeHistogramError, OpsbookError, PrometheusError, SchemaError } from "../lib/errors.ts";
import {
  checkQueryData,
  formatSeries,
  parseQueryBody,
  parseSampleValue,
  queryDataToFrame,
} from "../lib/frame.ts";

const T0 = 1793491200; // 2026-11-01T00:00:00Z

function dtypes(frame: pl.DataFrame): Record<string, string> {
  return Object.fromEntries(frame.columns.map((c) => [c, String(frame.getColumn(c).dtype)]));
}

const STR = "DataType(String)"; // polars names Utf8 "String"
const TS = "DataType(Datetime(ms,))";
const F64 = "DataType(Float64)";

Deno.test("parseSampleValue handles the API's number strings", () => {
  assert.equal(parseSampleValue("1"), 1);
  assert.equal(parseSampleValue("-0.5"), -0.5);
  assert.equal(parseSampleValue("1e-07"), 1e-7);
  assert.equal(parseSampleValue("1.5E+10"), 1.5e10);
  assert.equal(parseSampleValue("+Inf"), Infinity);
  assert.equal(parseSampleValue("-Inf"), -Infinity);
  assert.ok(Number.isNaN(parseSampleValue("NaN")));
  for (const bad of ["", " 1", "abc", "1,5", "nan"]) assert.equal(parseSampleValue(bad), undefined);
});

Deno.test("vector: one Utf8 column per label, sorted, nulls for missing, then timestamp and value", () => {
  const frame = queryDataToFrame({
    resultType: "vector",
    result: [
      { metric: { instance: "b:9100", job: "node", __name__: "up" }, value: [T0 + 0.123, "1e-07"] },
      { metric: { zone: "z1", instance: "a:9100" }, value: [T0, "NaN"] },
      { metric: {}, value: [T0, "+Inf"] },
      { metric: { instance: "c" }, value: [T0, "-Inf"] },
    ],
  });
  assert.deepEqual(frame.columns, ["__name__", "instance", "job", "zone", "timestamp", "value"]);
  assert.deepEqual(dtypes(frame), {
    __name__: STR,
    instance: STR,
    job: STR,
    zone: STR,
    timestamp: TS,
    value: F64,
  });
  assert.deepEqual(frame.getColumn("__name__").toArray(), ["up", null, null, null]);
  assert.deepEqual(frame.getColumn("instance").toArray(), ["b:9100", "a:9100", null, "c"]);
  assert.deepEqual(frame.getColumn("zone").toArray(), [null, "z1", null, null]);
  assert.deepEqual(frame.getColumn("value").toArray(), [1e-7, NaN, Infinity, -Infinity]);
  assert.deepEqual(
    (frame.getColumn("timestamp").toArray() as unknown as Date[]).map((d) => d.getTime()),
    [T0 * 1000 + 123, T0 * 1000, T0 * 1000, T0 * 1000],
  );
  assert.equal(frame.getColumn("value").nullCount(), 0);
  // Same dtype as a Date column cast with pl.Datetime("ms"), which other modules build.
  const cast = pl.Series("t", [new Date(0)]).cast(pl.Datetime("ms"));
  assert.ok(frame.getColumn("timestamp").dtype.equals(cast.dtype));
});

Deno.test("matrix: long format, one row per sample, labels repeated per sample", () => {
  const frame = queryDataToFrame({
    resultType: "matrix",
    result: [
      {
        metric: { instance: "a", job: "node" },
        values: [[T0, "1"], [T0 + 15, "2"], [T0 + 30, "3"]],
      },
      { metric: { instance: "b" }, values: [] },
      { metric: { instance: "c", cloud: "azure" }, values: [[T0 + 15.5, "NaN"]] },
    ],
  });
  assert.deepEqual(frame.columns, ["cloud", "instance", "job", "timestamp", "value"]);
  assert.equal(frame.height, 4);
  assert.deepEqual(frame.getColumn("instance").toArray(), ["a", "a", "a", "c"]);
  assert.deepEqual(frame.getColumn("job").toArray(), ["node", "node", "node", null]);
  assert.deepEqual(frame.getColumn("cloud").toArray(), [null, null, null, "azure"]);
  assert.deepEqual(frame.getColumn("value").toArray(), [1, 2, 3, NaN]);
  assert.deepEqual(
    (frame.getColumn("timestamp").toArray() as unknown as Date[]).map((d) => d.toISOString()),
    [
      "2026-11-01T00:00:00.000Z",
      "2026-11-01T00:00:15.000Z",
      "2026-11-01T00:00:30.000Z",
      "2026-11-01T00:00:15.500Z",
    ],
  );
  assert.deepEqual(dtypes(frame).timestamp, TS);
});

Deno.test("matrix without labels and a single series", () => {
  const frame = queryDataToFrame({
    resultType: "matrix",
    result: [{ metric: {}, values: [[T0, "4"], [T0 + 60, "5"]] }],
  });
  assert.deepEqual(frame.columns, ["timestamp", "value"]);
  assert.deepEqual(frame.getColumn("value").toArray(), [4, 5]);
});

Deno.test("scalar gives one (timestamp, value) row and string a Utf8 value", () => {
  const scalar = queryDataToFrame({ resultType: "scalar", result: [T0, "-Inf"] });
  assert.deepEqual(dtypes(scalar), { timestamp: TS, value: F64 });
  assert.deepEqual(scalar.getColumn("value").toArray(), [-Infinity]);
  const text = queryDataToFrame({ resultType: "string", result: [T0, "hello"] });
  assert.deepEqual(dtypes(text), { timestamp: TS, value: STR });
  assert.deepEqual(text.getColumn("value").toArray(), ["hello"]);
});

Deno.test("empty results give timestamp and value columns with zero rows", () => {
  for (
    const data of [
      { resultType: "vector", result: [] },
      { resultType: "matrix", result: [] },
      { resultType: "matrix", result: [{ metric: { a: "1" }, values: [] }] },
    ] as const
  ) {
    const frame = queryDataToFrame(checkQueryData(data));
    assert.deepEqual(dtypes(frame), { timestamp: TS, value: F64 });
    assert.equal(frame.height, 0);
  }
});

Deno.test("native histograms give an error naming the series, never a TypeError", () => {
  const histogram = { count: "10", sum: "3.5", buckets: [[0, "0.1", "0.2", "4"]] };
  const vector = checkQueryData({
    resultType: "vector",
    result: [
      { metric: { __name__: "ok" }, value: [T0, "1"] },
      { metric: { __name__: "rpc_seconds", job: "api" }, histogram: [T0, histogram] },
    ],
  });
  assert.throws(
    () => queryDataToFrame(vector),
    (e) =>
      e instanceof NativeHistogramError && e.series === 'rpc_seconds{job="api"}' &&
      e.message.includes('series rpc_seconds{job="api"}'),
  );
  const matrix = checkQueryData({
    resultType: "matrix",
    result: [{ metric: { __name__: "rpc_seconds" }, histograms: [[T0, histogram]] }],
  });
  assert.throws(() => queryDataToFrame(matrix), NativeHistogramError);
});

Deno.test("wrong shapes give a SchemaError naming the path", () => {
  const cases: [unknown, string][] = [
    [
      { resultType: "matrix", result: [{ metric: {}, values: [[T0, 1]] }] },
      "data.result[0].values[0][1]",
    ],
    [
      { resultType: "vector", result: [{ metric: { a: 1 }, value: [T0, "1"] }] },
      "data.result[0].metric.a",
    ],
    [{ resultType: "table", result: [] }, "data.resultType"],
    [{ resultType: "vector", result: {} }, "data.result"],
    [null, "data"],
  ];
  for (const [data, path] of cases) {
    assert.throws(
      () => checkQueryData(data),
      (e) => e instanceof SchemaError && e.message.includes(` at ${path}: `),
      path,
    );
  }
  assert.throws(
    () =>
      queryDataToFrame(
        checkQueryData({
          resultType: "matrix",
          result: [{ metric: {}, values: [[T0, "1"], [T0, "x1"]] }],
        }),
      ),
    (e) =>
      e instanceof SchemaError &&
      e.message ===
        'Unexpected response shape at data.result[0].values[1][1]: Expected a number string such as "1.5", "1e-07", "NaN" or "+Inf", got "x1"',
  );
});

Deno.test("a label named like a frame column is a clear error", () => {
  assert.throws(
    () =>
      queryDataToFrame({
        resultType: "vector",
        result: [{ metric: { value: "x" }, value: [T0, "1"] }],
      }),
    (e) => e instanceof OpsbookError && /clashes with a frame column: "value"/.test(e.message),
  );
});

Deno.test("parseQueryBody returns the frame with warnings and infos", () => {
  const body = JSON.stringify({
    status: "success",
    data: { resultType: "vector", result: [{ metric: { a: "x" }, value: [T0, "2"] }] },
    warnings: ["partial response"],
    infos: ["metric might not be a counter"],
  });
  const { frame, warnings, infos } = parseQueryBody(body);
  assert.deepEqual(frame.getColumn("a").toArray(), ["x"]);
  assert.deepEqual(warnings, ["partial response"]);
  assert.deepEqual(infos, ["metric might not be a counter"]);
  assert.throws(
    () => parseQueryBody('{"status":"error","errorType":"bad_data","error":"boom"}'),
    PrometheusError,
  );
  assert.throws(() => parseQueryBody("<html>"), SchemaError);
});

Deno.test("formatSeries writes a selector with sorted labels", () => {
  assert.equal(formatSeries({ b: "2", __name__: "m", a: 'q"' }), 'm{a="q\\"",b="2"}');
  assert.equal(formatSeries({}), "{}");
});
