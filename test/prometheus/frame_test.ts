import assert from "node:assert/strict";
import pl from "nodejs-polars";
import {
  NativeHistogramError,
  OpsbookError,
  PrometheusError,
  ResponseError,
  SchemaError,
} from "../../lib/errors.ts";
import {
  checkQueryData,
  formatSeries,
  parseSampleValue,
  queryDataToFrame,
} from "../../lib/prometheus/frame.ts";
import { parseQueryBody } from "../../lib/prometheus/_scan.ts";
import { parseEnvelope } from "../../lib/prometheus/_envelope.ts";

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
  for (const bad of ["", " 1", "abc", "1,5"]) assert.equal(parseSampleValue(bad), undefined);
});

/**
 * Go's `strconv.ParseFloat(s, 64)`, which `model.SampleValue` in
 * prometheus/common uses for API sample values: inputs and results from Go's
 * own float64 table (src/strconv/atof_test.go, `atoftests`; an `ErrRange` or
 * `ErrSyntax` there is `undefined` here), then what JavaScript's `Number()`
 * accepts and Go does not (issue 14.9).
 */
const GO_PARSE_FLOAT: [string, number | undefined][] = [
  ["", undefined],
  ["1", 1],
  ["+1", 1],
  ["1x", undefined],
  ["1.1.", undefined],
  ["1e23", 1e23],
  ["1E23", 1e23],
  ["100000000000000000000000", 1e23],
  ["1e-100", 1e-100],
  ["123456700", 1.234567e8],
  ["99999999999999974834176", 9.999999999999997e22],
  ["100000000000000000000001", 1.0000000000000001e23],
  ["100000000000000008388608", 1.0000000000000001e23],
  ["100000000000000016777215", 1.0000000000000001e23],
  ["100000000000000016777216", 1.0000000000000003e23],
  ["-1", -1],
  ["-0.1", -0.1],
  ["-0", -0],
  ["1e-20", 1e-20],
  ["625e-3", 0.625],
  // Hexadecimal: the binary exponent is required.
  ["0x1p0", 1],
  ["0x1p1", 2],
  ["0x1p-1", 0.5],
  ["0x1ep-1", 15],
  ["-0x1ep-1", -15],
  ["-0x1_ep-1", -15],
  ["0x1p-200", 6.223015277861142e-61],
  ["0x1p200", 1.6069380442589903e60],
  ["0x1fFe2.p0", 131042],
  ["0x1fFe2.P0", 131042],
  ["-0x2p3", -16],
  ["0x0.fp4", 15],
  ["0x0.fp0", 0.9375],
  ["0x1e2", undefined],
  ["1p2", undefined],
  // Zeros.
  ["0", 0],
  ["0e0", 0],
  ["-0e0", -0],
  ["+0e0", 0],
  ["0e-0", 0],
  ["-0e+0", -0],
  ["0e+01234567890123456789", 0],
  ["0.00e-01234567890123456789", 0],
  ["-0e+01234567890123456789", -0],
  ["-0.00e-01234567890123456789", -0],
  ["0x0p+01234567890123456789", 0],
  ["0x0.00p-01234567890123456789", 0],
  ["-0x0p+01234567890123456789", -0],
  ["0e348", 0],
  ["-0e348", -0],
  ["0x0p1026", 0],
  ["-0x0p1026", -0],
  // NaN (no sign) and infinities, any letter case.
  ["nan", NaN],
  ["NaN", NaN],
  ["NAN", NaN],
  ["inf", Infinity],
  ["-Inf", -Infinity],
  ["+INF", Infinity],
  ["-Infinity", -Infinity],
  ["+INFINITY", Infinity],
  ["Infinity", Infinity],
  // The largest float64, and just beyond it (Go: ErrRange).
  ["1.7976931348623157e308", 1.7976931348623157e308],
  ["-1.7976931348623157e308", -1.7976931348623157e308],
  ["0x1.fffffffffffffp1023", 1.7976931348623157e308],
  ["-0x1.fffffffffffffp1023", -1.7976931348623157e308],
  ["0x1fffffffffffffp+971", 1.7976931348623157e308],
  ["0x.1fffffffffffffp1027", 1.7976931348623157e308],
  ["1.7976931348623159e308", undefined],
  ["-1.7976931348623159e308", undefined],
  ["0x1p1024", undefined],
  ["0x2p1023", undefined],
  ["0x.1p1028", undefined],
  ["0x.2p1027", undefined],
  ["1.7976931348623158e308", 1.7976931348623157e308],
  ["0x1.fffffffffffff7fffp1023", 1.7976931348623157e308],
  ["1.797693134862315808e308", undefined],
  ["0x1.fffffffffffff8p1023", undefined],
  ["0x1fffffffffffff.8p+971", undefined],
  ["-0x1fffffffffffff8p+967", undefined],
  ["0x.1fffffffffffff8p1027", undefined],
  ["1e308", 1e308],
  ["2e308", undefined],
  ["1e309", undefined],
  ["1e400", undefined],
  ["-1e400", undefined],
  ["1e400000", undefined],
  ["0x1p1030", undefined],
  ["0x1p2000000000", undefined],
  // Subnormals and underflow.
  ["1e-308", 1e-308],
  ["1e-322", 1e-322],
  ["5e-324", 5e-324],
  ["4e-324", 5e-324],
  ["3e-324", 5e-324],
  ["2e-324", 0],
  ["1e-400000", 0],
  ["0x2.00000000000000p-1010", 1.8227805048890994e-304],
  ["0x1.fffffffffffff0p-1010", 1.8227805048890992e-304],
  ["0x1.fffffffffffff7p-1010", 1.8227805048890992e-304],
  ["0x1.fffffffffffff8p-1010", 1.8227805048890994e-304],
  ["0x1.fffffffffffff9p-1010", 1.8227805048890994e-304],
  ["0x2.00000000000000p-1022", 4.450147717014403e-308],
  ["0x1.fffffffffffff0p-1022", 4.4501477170144023e-308],
  ["0x1.fffffffffffff8p-1022", 4.450147717014403e-308],
  ["0x1.00000000000000p-1022", 2.2250738585072014e-308],
  ["0x0.fffffffffffff0p-1022", 2.225073858507201e-308],
  ["0x0.ffffffffffffe0p-1022", 2.2250738585072004e-308],
  ["0x0.ffffffffffffe7p-1022", 2.2250738585072004e-308],
  ["0x1.ffffffffffffe8p-1023", 2.225073858507201e-308],
  ["0x1.ffffffffffffe9p-1023", 2.225073858507201e-308],
  ["0x0.00000003fffff0p-1022", 2.072261e-317],
  ["0x0.00000003456780p-1022", 1.694649e-317],
  ["0x0.00000003456787p-1022", 1.694649e-317],
  ["0x0.00000003456788p-1022", 1.694649e-317],
  ["0x0.00000003456790p-1022", 1.6946496e-317],
  ["0x0.00000003456789p-1022", 1.6946496e-317],
  ["0x0.0000000345678800000000000000000000000001p-1022", 1.6946496e-317],
  ["0x0.000000000000f0p-1022", 7.4e-323],
  ["0x0.00000000000060p-1022", 3e-323],
  ["0x0.00000000000058p-1022", 3e-323],
  ["0x0.00000000000057p-1022", 2.5e-323],
  ["0x0.00000000000050p-1022", 2.5e-323],
  ["0x0.00000000000010p-1022", 5e-324],
  ["0x0.000000000000081p-1022", 5e-324],
  ["0x0.00000000000008p-1022", 0],
  ["0x0.00000000000007fp-1022", 0],
  ["1e-4294967296", 0],
  ["1e+4294967296", undefined],
  ["1e+18446744073709551616", undefined],
  ["0x1p-4294967296", 0],
  ["0x1p+4294967296", undefined],
  // Syntax errors.
  ["1e", undefined],
  ["1e-", undefined],
  [".e-1", undefined],
  ["1\x00.2", undefined],
  ["0x", undefined],
  ["0x.", undefined],
  ["0x1", undefined],
  ["0x.1", undefined],
  ["0x1p", undefined],
  ["0x.1p", undefined],
  ["0x1p+", undefined],
  ["0x1p-", undefined],
  ["0x1p+2", 4],
  ["0x.1p+2", 0.25],
  ["0x1p-2", 0.25],
  ["0x.1p-2", 0.015625],
  // Correct rounding.
  ["2.2250738585072012e-308", 2.2250738585072014e-308],
  ["2.2250738585072011e-308", 2.225073858507201e-308],
  ["4.630813248087435e+307", 4.630813248087435e307],
  ["22.222222222222222", 22.22222222222222],
  [`2.${"2".repeat(4000)}e+1`, 22.22222222222222],
  ["0x1.1111111111111p222", 7.18931911124017e66],
  ["0x2.2222222222222p221", 7.18931911124017e66],
  [`0x2.${"2".repeat(4000)}p221`, 7.18931911124017e66],
  ["1.00000000000000011102230246251565404236316680908203125", 1],
  ["0x1.00000000000008p0", 1],
  ["0x1.00000000000007Fp0", 1],
  ["1.00000000000000011102230246251565404236316680908203126", 1.0000000000000002],
  ["0x1.000000000000081p0", 1.0000000000000002],
  ["0x1.00000000000009p0", 1.0000000000000002],
  [
    `1.00000000000000011102230246251565404236316680908203125${"0".repeat(10000)}1`,
    1.0000000000000002,
  ],
  [`0x1.00000000000008${"0".repeat(10000)}1p0`, 1.0000000000000002],
  ["0x1.00000000000018p0", 1.0000000000000004],
  // Underscores: only between digits (a base prefix counts as one).
  ["1_23.50_0_0e+1_2", 1.235e14],
  ["-_123.5e+12", undefined],
  ["+_123.5e+12", undefined],
  ["_123.5e+12", undefined],
  ["1__23.5e+12", undefined],
  ["123_.5e+12", undefined],
  ["123._5e+12", undefined],
  ["123.5_e+12", undefined],
  ["123.5__0e+12", undefined],
  ["123.5e_+12", undefined],
  ["123.5e+_12", undefined],
  ["123.5e-_12", undefined],
  ["123.5e+1__2", undefined],
  ["123.5e+12_", undefined],
  ["0x_1_2.3_4_5p+1_2", 74565],
  ["-_0x12.345p+12", undefined],
  ["_0x12.345p+12", undefined],
  ["0x__12.345p+12", undefined],
  ["0x1__2.345p+12", undefined],
  ["0x12_.345p+12", undefined],
  ["0x12._345p+12", undefined],
  ["0x12.345_p+12", undefined],
  ["0x12.345p_+12", undefined],
  ["0x12.345p+_12", undefined],
  ["0x12.345p+12_", undefined],
  // What JavaScript's Number() takes and Go does not.
  ["0x10", undefined],
  ["0X10", undefined],
  ["0b11", undefined],
  ["0B11", undefined],
  ["0o7", undefined],
  ["1 ", undefined],
  [" 1", undefined],
  ["\t1", undefined],
  ["1\n", undefined],
  ["\u00a01", undefined],
  ["1\ufeff", undefined],
  ["\u20281", undefined],
  [" ", undefined],
  ["+NaN", undefined],
  ["-nan", undefined],
  ["infin", undefined],
  ["Infinityx", undefined],
  ["+", undefined],
  ["-", undefined],
  [".", undefined],
  ["1e400 ", undefined],
  // Forms both accept.
  [".5", 0.5],
  ["5.", 5],
  ["+.5e1", 5],
  ["-5.e-1", -0.5],
  ["007", 7],
  ["1E+3", 1000],
  ["0.1", 0.1],
  ["123456789012345678901234567890", 1.2345678901234568e29],
];

Deno.test("parseSampleValue accepts exactly Go's ParseFloat syntax, as Prometheus' clients do (issue 14.9)", () => {
  for (const [text, expected] of GO_PARSE_FLOAT) {
    const got = parseSampleValue(text);
    assert.ok(
      Object.is(got, expected),
      `parseSampleValue(${JSON.stringify(text.slice(0, 60))}) = ${got}, expected ${expected}`,
    );
  }
});

Deno.test("a sample value outside Go's syntax is a SchemaError on every frame path (issue 14.9)", () => {
  for (const bad of ["0x10", "0b11", "1 ", "+NaN", "1e400"]) {
    const body = JSON.stringify({
      status: "success",
      data: { resultType: "matrix", result: [{ metric: { instance: "a" }, values: [[T0, bad]] }] },
    });
    assert.throws(() => parseQueryBody(body), SchemaError, bad);
    assert.throws(
      () => queryDataToFrame({ resultType: "vector", result: [{ metric: {}, value: [T0, bad] }] }),
      SchemaError,
      bad,
    );
  }
  const ok = parseQueryBody(JSON.stringify({
    status: "success",
    data: {
      resultType: "matrix",
      result: [{ metric: {}, values: [[T0, "0x1p-2"], [T0 + 1, "1_000"]] }],
    },
  }));
  assert.deepEqual(ok.frame.getColumn("value").toArray(), [0.25, 1000]);
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
  assert.throws(() => parseQueryBody("<html>"), ResponseError); // as the client reports it
});

Deno.test("formatSeries writes a selector with sorted labels", () => {
  assert.equal(formatSeries({ b: "2", __name__: "m", a: 'q"' }), 'm{a="q\\"",b="2"}');
  assert.equal(formatSeries({}), "{}");
});

// ---------------------------------------------------------------------------
// parseQueryBody's scanner against the validated path.

interface Snapshot {
  columns: string[];
  dtypes: Record<string, string>;
  values: unknown[][];
}

function snapshot(frame: pl.DataFrame): Snapshot {
  return {
    columns: frame.columns,
    dtypes: dtypes(frame),
    values: frame.columns.map((c) => frame.getColumn(c).toArray() as unknown[]),
  };
}

/** The validated path: JSON.parse, the shape check, queryDataToFrame. */
function validatedFrame(body: string): pl.DataFrame {
  return queryDataToFrame(checkQueryData((JSON.parse(body) as { data: unknown }).data));
}

/** parseQueryBody, asserting that the scanner (not the fallback) produced the frame. */
function scannedFrame(body: string): ReturnType<typeof parseQueryBody> {
  const parsed = parseQueryBody(body);
  assert.ok(
    Object.getOwnPropertyDescriptor(parsed, "data")?.get !== undefined,
    "expected the scanner to accept the body",
  );
  return parsed;
}

function matrixBody(result: unknown[], extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ status: "success", data: { resultType: "matrix", result }, ...extra });
}

const VARIED_MATRIX = [
  {
    metric: { __name__: "up", instance: "a:9100", job: "node" },
    values: [
      [T0, "1"],
      [T0 + 15.5, "NaN"],
      [T0 + 30.123, "+Inf"],
      [T0 + 45, "-Inf"],
      [T0 + 60, "1e-07"],
      [T0 + 75, "-0"],
      [T0 + 90, "0.30000000000000004"],
      [T0 + 105, "-12345.678"],
      [T0 + 120, "1.5E+10"],
      [T0 + 135, "123456789012345678"],
      [T0 + 150, "007.50"],
      [T0 + 165, "Inf"],
    ],
  },
  { metric: { instance: "b", zone: "z1" }, values: [] },
  { metric: { job: "node", instance: "c" }, values: [[T0 - 86400 * 365 * 60, "2"]] },
  { metric: {}, values: [[0, "3"], [0.001, "4"]] },
];

Deno.test("parseQueryBody scans matrices into the same frame as the validated path", () => {
  const bodies = [
    matrixBody(VARIED_MATRIX),
    // One series, constant labels only.
    matrixBody([{ metric: { __name__: "m", a: "1" }, values: [[T0, "5"], [T0 + 1, "6"]] }]),
    // Many series with a constant, a varying and a sometimes-missing label.
    matrixBody(
      Array.from({ length: 40 }, (_, s) => ({
        metric: { job: "node", instance: `h${s}`, ...(s % 3 === 0 ? {} : { cpu: String(s % 4) }) },
        values: Array.from({ length: 25 }, (_, i) => [T0 + i * 15, String((s * 25 + i) / 7)]),
      })),
    ),
    // Unicode, escaped quotes, backslashes, brackets and control escapes in labels.
    matrixBody([
      {
        metric: {
          path: 'C:\\temp\\"x"',
          city: "北京",
          emoji: "🔥 hot",
          odd: '}],[{"',
          nl: "a\nb\tc\u2028",
        },
        values: [[T0, "1"]],
      },
      { metric: { city: "Zürich" }, values: [[T0, "2"]] },
    ]),
    // Warnings, infos, an unknown top-level member, pretty-printed.
    JSON.stringify(
      {
        status: "success",
        data: { resultType: "matrix", result: VARIED_MATRIX.slice(0, 1) },
        warnings: ["partial"],
        infos: ["might not be a counter"],
        stats: { seriesFetched: "1" },
      },
      null,
      2,
    ),
    // Exponent and long timestamps.
    matrixBody([{
      metric: {},
      values: [[1.7934912e9, "1"], [1793491200.1234567, "2"], [1e-3, "3"]],
    }]),
    // Members in another order.
    `{"data":{"result":[{"values":[[${T0},"1"]],"metric":{"a":"b"}}],"resultType":"matrix"},` +
    `"status":"success"}`,
  ];
  for (const body of bodies) {
    const parsed = scannedFrame(body);
    assert.deepEqual(snapshot(parsed.frame), snapshot(validatedFrame(body)));
    assert.deepEqual(parsed.data, JSON.parse(body).data);
  }
});

Deno.test("parseQueryBody scans the exact values and labels", () => {
  const { frame, warnings, infos } = scannedFrame(matrixBody(VARIED_MATRIX, { warnings: ["w"] }));
  assert.deepEqual(warnings, ["w"]);
  assert.deepEqual(infos, []);
  assert.deepEqual(frame.columns, ["__name__", "instance", "job", "zone", "timestamp", "value"]);
  assert.deepEqual(frame.getColumn("value").toArray(), [
    1,
    NaN,
    Infinity,
    -Infinity,
    1e-7,
    -0,
    0.30000000000000004,
    -12345.678,
    1.5e10,
    123456789012345678,
    7.5,
    Infinity,
    2,
    3,
    4,
  ]);
  assert.deepEqual(frame.getColumn("instance").toArray(), [
    ...Array(12).fill("a:9100"),
    "c",
    null,
    null,
  ]);
  assert.deepEqual(frame.getColumn("zone").toArray(), Array(15).fill(null));
  const ms = (frame.getColumn("timestamp").toArray() as unknown as Date[]).map((d) => d.getTime());
  assert.deepEqual(ms.slice(0, 3), [T0 * 1000, T0 * 1000 + 15500, T0 * 1000 + 30123]);
  assert.deepEqual(ms.slice(12), [(T0 - 86400 * 365 * 60) * 1000, 0, 1]);
  assert.equal(dtypes(frame).timestamp, TS);
});

Deno.test("parseQueryBody scans vectors and empty results like the validated path", () => {
  const bodies = [
    JSON.stringify({
      status: "success",
      data: {
        resultType: "vector",
        result: [
          { metric: { instance: "b:9100", __name__: "up" }, value: [T0 + 0.5, "1e-07"] },
          { metric: { zone: "z1" }, value: [T0, "NaN"] },
          { metric: {}, value: [T0, "-Inf"] },
        ],
      },
      infos: ["i"],
    }),
    '{"status":"success","data":{"resultType":"vector","result":[]}}',
    '{"status":"success","data":{"resultType":"matrix","result":[]}}',
    '{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"a":"1"},"values":[]}]}}',
    '{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"a":"1"}}]}}',
  ];
  for (const body of bodies) {
    const parsed = scannedFrame(body);
    assert.deepEqual(snapshot(parsed.frame), snapshot(validatedFrame(body)));
  }
  assert.deepEqual(parseQueryBody(bodies[0]).infos, ["i"]);
});

Deno.test("parseQueryBody falls back to the validated path for unusual bodies", () => {
  const bodies = [
    // An escaped sample string, an unknown member in a series, empty histograms.
    `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[${T0},"\\u0031"]]}]}}`,
    `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"extra":1,"values":[[${T0},"1"]]}]}}`,
    `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[${T0},"1"]],"histograms":[]}]}}`,
    // Scalar and string results.
    `{"status":"success","data":{"resultType":"scalar","result":[${T0},"2"]}}`,
    `{"status":"success","data":{"resultType":"string","result":[${T0},"hi"]}}`,
  ];
  for (const body of bodies) {
    const parsed = parseQueryBody(body);
    assert.equal(Object.getOwnPropertyDescriptor(parsed, "data")?.get, undefined, body);
    assert.deepEqual(snapshot(parsed.frame), snapshot(validatedFrame(body)));
  }
});

Deno.test("malformed bodies give the validated path's errors", () => {
  const pathCases: [string, string][] = [
    [matrixBody([{ metric: {}, values: [[T0, 1]] }]), "data.result[0].values[0][1]"],
    [matrixBody([{ metric: {}, values: [[T0, "1"], [T0]] }]), "data.result[0].values[1]"],
    [matrixBody([{ metric: { a: 1 }, values: [[T0, "1"]] }]), "data.result[0].metric.a"],
    [matrixBody([{ values: [[T0, "1"]] }]), "data.result[0].metric"],
    [matrixBody([{ metric: {}, values: [["x", "1"]] }]), "data.result[0].values[0][0]"],
    [
      '{"status":"success","data":{"resultType":"vector","result":[{"metric":{}}]}}',
      "data.result[0]",
    ],
    ['{"status":"success","data":{"resultType":"table","result":[]}}', "data.resultType"],
  ];
  for (const [body, path] of pathCases) {
    assert.throws(
      () => parseQueryBody(body),
      (e) => e instanceof SchemaError && e.message.includes(` at ${path}: `),
      path,
    );
  }
  assert.throws(
    () => parseQueryBody(matrixBody([{ metric: {}, values: [[T0, "1"], [T0, "x1"]] }])),
    (e) =>
      e instanceof SchemaError &&
      e.message ===
        'Unexpected response shape at data.result[0].values[1][1]: Expected a number string such as "1.5", "1e-07", "NaN" or "+Inf", got "x1"',
  );
  const truncated = matrixBody(VARIED_MATRIX).slice(0, -20);
  assert.throws(
    () => parseQueryBody(truncated),
    (e) =>
      e instanceof ResponseError &&
      e.message.startsWith("Unexpected non-JSON response (HTTP 200): "),
  );
  assert.throws(
    () => parseQueryBody(matrixBody(VARIED_MATRIX) + "x"),
    (e) =>
      e instanceof ResponseError &&
      e.message.startsWith("Unexpected non-JSON response (HTTP 200): "),
  );
  assert.throws(
    () => parseQueryBody(matrixBody([{ metric: {}, values: [[1e300, "1"]] }])),
    (e) => e instanceof SchemaError && e.message.includes(" at data.result[0].values[0][0]: "),
  );
  assert.throws(
    () => parseQueryBody('{"status":"error","errorType":"bad_data","error":"parse error"}'),
    (e) => e instanceof PrometheusError && e.errorType === "bad_data",
  );
  assert.throws(
    () => parseQueryBody(matrixBody([{ metric: { value: "x" }, values: [[T0, "1"]] }])),
    (e) => e instanceof OpsbookError && /clashes with a frame column: "value"/.test(e.message),
  );
  const histogram = { count: "10", sum: "3.5" };
  assert.throws(
    () =>
      parseQueryBody(
        matrixBody([{ metric: { __name__: "rpc", job: "api" }, histograms: [[T0, histogram]] }]),
      ),
    (e) => e instanceof NativeHistogramError && e.series === 'rpc{job="api"}',
  );
});

Deno.test("frames from earlier bodies are not changed by later ones (scratch columns)", () => {
  const first = scannedFrame(matrixBody(VARIED_MATRIX)).frame;
  const before = snapshot(first);
  scannedFrame(matrixBody([{ metric: { instance: "z" }, values: [[T0 + 999, "42"]] }]));
  queryDataToFrame({ resultType: "matrix", result: [{ metric: {}, values: [[T0, "7"]] }] });
  assert.deepEqual(snapshot(first), before);
});

/** What the validated path gives for a body: a snapshot or the error's class and message. */
function validatedOutcome(body: string): unknown {
  try {
    // the one reading of the envelope (shared with the client), then the checked data
    const { data } = parseEnvelope(body, { status: 200 });
    return snapshot(queryDataToFrame(checkQueryData(data)));
  } catch (e) {
    return { error: (e as Error).name, message: (e as Error).message };
  }
}

function outcome(body: string): unknown {
  try {
    return snapshot(parseQueryBody(body).frame);
  } catch (e) {
    return { error: (e as Error).name, message: (e as Error).message };
  }
}

Deno.test("one-character corruptions give the validated path's frame or error", () => {
  const base = JSON.stringify({
    status: "success",
    data: {
      resultType: "matrix",
      result: [
        { metric: { __name__: "up", a: 'q"\\' }, values: [[T0, "1.5"], [T0 + 15.25, "-2e-3"]] },
        { metric: { b: "ü" }, values: [[T0, "NaN"]] },
      ],
    },
    warnings: ["w"],
  });
  const alphabet = '0123456789.-+eE"[]{},: \\nNaIf';
  let seed = 42;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  for (let k = 0; k < 400; k++) {
    const at = rand(base.length);
    const ch = alphabet[rand(alphabet.length)];
    const op = rand(3);
    const body = op === 0
      ? base.slice(0, at) + ch + base.slice(at + 1)
      : op === 1
      ? base.slice(0, at) + base.slice(at + 1)
      : base.slice(0, at) + ch + base.slice(at);
    assert.deepEqual(outcome(body), validatedOutcome(body), body);
  }
});
