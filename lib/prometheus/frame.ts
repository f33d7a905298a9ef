/**
 * Prometheus query results → nodejs-polars DataFrames, following the frame
 * contract: one Utf8 column per label name found across all series (sorted by
 * name, `__name__` kept, missing → null), then `timestamp` (`Datetime("ms")`,
 * epoch milliseconds in UTC), then `value` (Float64). Range results are long:
 * one row per sample.
 *
 * The conversion never runs zod per sample: a tight loop checks the shape and
 * fills typed arrays; only when that loop finds a problem is zod run again to
 * name the exact path in a {@linkcode SchemaError}. `parseQueryBody` (in
 * `_scan.ts`) goes further and scans a response body's text straight into typed columns
 * without building the per-sample arrays and strings at all. Label columns
 * are expanded natively (a gather on the series index, or a broadcast literal
 * for a label equal in every series), never through per-sample JS strings.
 *
 * @module
 */

import pl from "nodejs-polars";
import type { Labels } from "../labels.ts";
import { NativeHistogramError, OpsbookError, SchemaError, type SchemaIssue } from "../errors.ts";
import { quoteString } from "./promql.ts";
import {
  HistogramPairSchema,
  type MatrixSeries,
  type QueryData,
  QueryDataSchema,
  type VectorSample,
} from "./schema.ts";

/**
 * A nodejs-polars DataFrame.
 *
 * @example
 * ```ts
 * import { type DataFrame, PrometheusClient } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const prom = new PrometheusClient({ url: Deno.env.get("PROMETHEUS_URL") ?? "http://localhost:9090" });
 * const frame: DataFrame = await prom.queryFrame("up", { time: "2026-11-01T12:00:00Z" });
 * assert.deepEqual(frame.columns, ["__name__", "cloud", "instance", "job", "region", "timestamp", "value"]);
 * ```
 */
export type DataFrame = pl.DataFrame;

/**
 * Parse a sample value the way Prometheus' own clients do: the API sends
 * each value as a JSON string, and `model.SampleValue` in
 * `prometheus/common` reads it with Go's `strconv.ParseFloat(s, 64)` (the
 * syntax Prometheus documents for sample values). Accepted, and nothing else:
 *
 * - decimals with an optional sign, fraction and exponent: `"1"`, `"-0.5"`,
 *   `".5"`, `"5."`, `"1e-07"`, `"1.5E+10"`, `"007"`;
 * - `_` between two digits: `"1_000"`;
 * - hexadecimal with a binary exponent (`p`, required): `"0x1p-2"`,
 *   `"-0X1.8P1"`;
 * - `"NaN"` (no sign), `"Inf"` and `"Infinity"` with an optional sign, in
 *   any letter case (Prometheus writes `"NaN"`, `"+Inf"`, `"-Inf"`).
 *
 * Returns `undefined` for anything else, including what JavaScript's
 * `Number()` would take: surrounding spaces (`"1 "`), `"0x10"` (no `p`),
 * `"0b11"`, `"0o7"`, `""`, `"+NaN"`; and for a finite form beyond the
 * float64 range (`"1e400"`), which `ParseFloat` rejects as out of range.
 *
 * @example
 * ```ts
 * import { parseSampleValue } from "./frame.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseSampleValue("1e-07"), 1e-7);
 * assert.equal(parseSampleValue("+Inf"), Infinity);
 * assert.ok(Number.isNaN(parseSampleValue("NaN")));
 * assert.equal(parseSampleValue("0x1p-2"), 0.25);
 * assert.equal(parseSampleValue("0x10"), undefined);
 * assert.equal(parseSampleValue("1 "), undefined);
 * assert.equal(parseSampleValue("abc"), undefined);
 * ```
 */
export function parseSampleValue(text: string): number | undefined {
  const n = +text;
  return isPlainDecimal(text, n) ? n : parseGoFloat(text);
}

/**
 * Whether `+text` (already computed as `n`) is Go's answer for `text`: a
 * finite number from a string that starts with a digit, sign or `.`, ends
 * with a digit or `.`, and has no `0x`/`0o`/`0b` prefix. JavaScript's
 * decimal grammar is Go's within those bounds (what JavaScript adds is
 * whitespace, base prefixes and `Infinity`), so the common case costs one
 * conversion and a few character tests.
 */
function isPlainDecimal(text: string, n: number): boolean {
  if (n !== n || n === Infinity || n === -Infinity) return false;
  const first = text.charCodeAt(0);
  const last = text.charCodeAt(text.length - 1);
  if (!(last >= 48 && last <= 57 || last === 46)) return false;
  if (!(first >= 48 && first <= 57 || first === 43 || first === 45 || first === 46)) return false;
  const second = text.charCodeAt(1) | 32; // lower case
  return !(first === 48 && (second === 120 || second === 111 || second === 98));
}

const GO_SPECIAL = /^(?:[+-]?inf(?:inity)?|nan)$/i;
const GO_DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const GO_HEX = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?[pP]([+-]?\d+)$/;

/** Go's `strconv.ParseFloat(text, 64)`, or `undefined` for its syntax and range errors. */
function parseGoFloat(text: string): number | undefined {
  if (GO_SPECIAL.test(text)) {
    const lower = text.toLowerCase();
    return lower === "nan" ? NaN : lower.startsWith("-") ? -Infinity : Infinity;
  }
  if (text.includes("_")) {
    if (!underscoresOk(text)) return undefined;
    text = text.replaceAll("_", "");
  }
  if (GO_DECIMAL.test(text)) {
    const n = +text;
    return Number.isFinite(n) ? n : undefined; // beyond float64: Go's ErrRange
  }
  const hex = GO_HEX.exec(text);
  if (hex === null) return undefined;
  const [, sign, whole, fraction = "", exponent] = hex;
  if (whole + fraction === "") return undefined;
  return hexFloat(sign === "-", whole + fraction, Number(exponent) - 4 * fraction.length);
}

/** Go's `underscoreOK`: every `_` sits between two digits (a base prefix counts as one). */
function underscoresOk(text: string): boolean {
  let s = text;
  if (s[0] === "+" || s[0] === "-") s = s.slice(1);
  let hex = false;
  let saw = "^";
  let i = 0;
  if (s.length >= 2 && s[0] === "0" && "bBoOxX".includes(s[1])) {
    i = 2;
    saw = "0";
    hex = s[1] === "x" || s[1] === "X";
  }
  for (; i < s.length; i++) {
    const c = s[i];
    if (c >= "0" && c <= "9" || hex && /[a-fA-F]/.test(c)) saw = "0";
    else if (c === "_") {
      if (saw !== "0") return false;
      saw = "_";
    } else if (saw === "_") return false;
    else saw = "!";
  }
  return saw !== "_";
}

/**
 * `digits` (hexadecimal) × 2^`exponent`, correctly rounded (to nearest, ties
 * to even) as Go's `atofHex`; `undefined` beyond the float64 range.
 */
function hexFloat(negative: boolean, digits: string, exponent: number): number | undefined {
  let m = BigInt(`0x${digits}`);
  if (m === 0n) return negative ? -0 : 0;
  // Beyond these the result is 0 or out of range whatever the digits (Go caps the exponent too).
  const bits = m.toString(2).length;
  if (exponent + bits > 1100) return undefined;
  if (exponent + bits < -1200) return negative ? -0 : 0;
  const top = bits - 1 + exponent; // the value is in [2^top, 2^(top+1))
  if (top < -1075) return negative ? -0 : 0; // below half the smallest subnormal
  const precision = top >= -1022 ? 53 : 53 - (-1022 - top); // fewer bits when subnormal
  const shift = bits - Math.max(precision, 0);
  if (shift > 0) {
    const b = BigInt(shift);
    const rest = m & ((1n << b) - 1n);
    const half = 1n << (b - 1n);
    m >>= b;
    if (rest > half || rest === half && (m & 1n) === 1n) m++;
    exponent += shift;
  }
  let v = Number(m); // at most 54 bits: exact
  if (exponent < -1022) {
    v *= 2 ** -1022; // exact: v < 2^54 stays normal
    exponent += 1022;
  }
  v *= 2 ** exponent; // exact: the result was rounded to what float64 holds
  if (v === Infinity) return undefined;
  return negative ? -v : v;
}

/**
 * Format a label set as a selector, for messages: `up{instance="a:9100",job="node"}`.
 *
 * @example
 * ```ts
 * import { formatSeries } from "./frame.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatSeries({ __name__: "up", job: "node" }), 'up{job="node"}');
 * ```
 */
export function formatSeries(metric: Labels): string {
  const name = metric.__name__ ?? "";
  const labels = Object.keys(metric).filter((k) => k !== "__name__").sort()
    .map((k) => `${k}=${quoteString(metric[k])}`);
  return `${name}{${labels.join(",")}}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function isLabelSet(value: unknown): boolean {
  if (!isObject(value)) return false;
  for (const key in value) if (typeof value[key] !== "string") return false;
  return true;
}

function isPair(value: unknown): boolean {
  return Array.isArray(value) && value.length === 2 && typeof value[0] === "number" &&
    typeof value[1] === "string";
}

function isPairs(value: unknown): boolean {
  if (!Array.isArray(value)) return false;
  for (let i = 0; i < value.length; i++) {
    const p = value[i];
    if (
      !Array.isArray(p) || p.length !== 2 || typeof p[0] !== "number" || typeof p[1] !== "string"
    ) return false;
  }
  return true;
}

function isHistogramPairs(value: unknown): boolean {
  return Array.isArray(value) && value.every((p) => HistogramPairSchema.safeParse(p).success);
}

function fastCheck(data: unknown): boolean {
  if (!isObject(data)) return false;
  const result = data.result;
  switch (data.resultType) {
    case "vector": {
      if (!Array.isArray(result)) return false;
      for (const s of result) {
        if (!isObject(s) || !isLabelSet(s.metric)) return false;
        if (s.value === undefined && s.histogram === undefined) return false;
        if (s.value !== undefined && !isPair(s.value)) return false;
        if (s.histogram !== undefined && !HistogramPairSchema.safeParse(s.histogram).success) {
          return false;
        }
      }
      return true;
    }
    case "matrix": {
      if (!Array.isArray(result)) return false;
      for (const s of result) {
        if (!isObject(s) || !isLabelSet(s.metric)) return false;
        if (s.values !== undefined && !isPairs(s.values)) return false;
        if (s.histograms !== undefined && !isHistogramPairs(s.histograms)) return false;
      }
      return true;
    }
    case "scalar":
    case "string":
      return isPair(result);
    default:
      return false;
  }
}

/**
 * Options for {@linkcode checkQueryData}.
 *
 * @example Name the endpoint in messages
 * ```ts
 * import { checkQueryData, type CheckOptions, SchemaError } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const options: CheckOptions = { endpoint: "http://prom:9090/api/v1/query" };
 * assert.throws(() => checkQueryData({ resultType: "vector", result: {} }, options), SchemaError);
 * ```
 */
export interface CheckOptions {
  /** Path prefix for messages. @default {["data"]} */
  path?: (string | number)[];
  /** The endpoint, for messages (redacted). */
  endpoint?: string;
}

/**
 * Check that a parsed `data` member is a query result (vector, matrix, scalar
 * or string) and return it typed. Large results are checked with a tight loop
 * (no copy, no zod per sample); on a problem zod names the exact path in a
 * {@linkcode SchemaError}.
 *
 * @example
 * ```ts
 * import { checkQueryData, SchemaError } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const data = checkQueryData({ resultType: "scalar", result: [1, "2"] });
 * assert.equal(data.resultType, "scalar");
 * assert.throws(
 *   () => checkQueryData({ resultType: "matrix", result: [{ metric: {}, values: [[1, 2]] }] }),
 *   (e) => e instanceof SchemaError && e.message.includes("data.result[0].values[0][1]"),
 * );
 * ```
 */
export function checkQueryData(data: unknown, options: CheckOptions = {}): QueryData {
  if (fastCheck(data)) return data as QueryData;
  const parsed = QueryDataSchema.safeParse(data);
  if (parsed.success) return parsed.data;
  const prefix = options.path ?? ["data"];
  const issues: SchemaIssue[] = parsed.error.issues.map((issue) => ({
    path: [...prefix, ...issue.path.map((p) => typeof p === "symbol" ? String(p) : p)],
    message: issue.message,
  }));
  throw new SchemaError(issues, { endpoint: options.endpoint });
}

function badValue(path: (string | number)[], text: string): SchemaError {
  const shown = text.length > 40 ? `${text.slice(0, 40)}...` : text;
  return new SchemaError([{
    path,
    message: `Expected a number string such as "1.5", "1e-07", "NaN" or "+Inf", got "${shown}"`,
  }]);
}

function labelNames(metrics: Labels[]): string[] {
  const names = new Set<string>();
  for (const m of metrics) for (const key in m) names.add(key);
  const sorted = [...names].sort();
  for (const name of sorted) {
    if (name === "timestamp" || name === "value") {
      throw new OpsbookError(
        `Label name clashes with a frame column: "${name}"; rename it with label_replace()`,
      );
    }
  }
  return sorted;
}

function emptyFrame(): pl.DataFrame {
  return pl.DataFrame([
    pl.Series("timestamp", [], pl.Datetime("ms")),
    pl.Series("value", [], pl.Float64),
  ]);
}

function labelColumns(names: string[], metrics: Labels[]): pl.Series[] {
  return names.map((name) => {
    const column = new Array<string | null>(metrics.length);
    for (let i = 0; i < metrics.length; i++) column[i] = metrics[i][name] ?? null;
    return pl.Series(name, column, pl.Utf8);
  });
}

// ---------------------------------------------------------------------------
// Columns. Timestamps are written as int64 epoch milliseconds (two int32
// halves, so no BigInt is created) and become `Datetime("ms")` without a
// conversion pass; values are float64. polars copies both when it builds its
// Series, so the arrays are scratch space reused between calls: fresh memory
// costs page faults, which for a large body cost as much as the parsing.

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
/** Index of the low and high int32 half of an int64 in an Int32Array. */
export const LO = LITTLE_ENDIAN ? 0 : 1;
export const HI = 1 - LO;
export const TWO_32 = 4294967296;
/** Scratch arrays up to this many samples are kept for the next call (at most 160 MB virtual). */
const POOL_LIMIT = 8 * 1024 * 1024;

/** Samples of one body or result, in the order of their series. */
export interface Columns {
  /** Epoch milliseconds as int64 halves (`2 * capacity` entries). */
  ts: Int32Array;
  /** Float64 values (`capacity` entries). */
  values: Float64Array;
  /** Samples written so far. */
  rows: number;
}

let pool: Columns | undefined;
let poolIndex: Uint32Array | undefined;

/** Scratch columns for at least `capacity` samples (only the pages written get memory). */
export function scratchColumns(capacity: number): Columns {
  if (pool !== undefined && pool.values.length >= capacity) {
    pool.rows = 0;
    return pool;
  }
  const columns = {
    ts: new Int32Array(2 * capacity),
    values: new Float64Array(capacity),
    rows: 0,
  };
  if (capacity <= POOL_LIMIT) pool = columns;
  return columns;
}

function scratchIndex(rows: number): Uint32Array {
  if (poolIndex !== undefined && poolIndex.length >= rows) return poolIndex;
  const index = new Uint32Array(rows);
  if (rows <= POOL_LIMIT) poolIndex = index;
  return index;
}

/** Whether `ms` can be stored as a timestamp (an integer within ±2^53). */
export function isTimestampMs(ms: number): boolean {
  return ms >= -9007199254740991 && ms <= 9007199254740991;
}

function badTimestamp(path: (string | number)[], seconds: number): SchemaError {
  return new SchemaError([{
    path,
    message: `Expected a timestamp in Unix seconds, got ${seconds}`,
  }]);
}

/** Append one sample (`ms` must pass {@linkcode isTimestampMs}). */
function pushSample(columns: Columns, ms: number, value: number): void {
  const row = columns.rows++;
  const hi = Math.floor(ms / TWO_32);
  columns.ts[2 * row + LO] = ms - hi * TWO_32;
  columns.ts[2 * row + HI] = hi;
  columns.values[row] = value;
}

function timestampSeries(columns: Columns): pl.Series {
  const ts = columns.ts;
  // polars builds an Int64 Series from a BigInt64Array (its typings omit it).
  const int64 = new BigInt64Array(ts.buffer, ts.byteOffset, columns.rows) as unknown as number[];
  return pl.Series("timestamp", int64).cast(pl.Datetime("ms"));
}

function valueSeries(columns: Columns): pl.Series {
  return pl.Series("value", columns.values.subarray(0, columns.rows));
}

function vectorFrame(result: VectorSample[]): pl.DataFrame {
  const n = result.length;
  if (n === 0) return emptyFrame();
  const metrics = new Array<Labels>(n);
  const columns = scratchColumns(n);
  for (let i = 0; i < n; i++) {
    const s = result[i];
    metrics[i] = s.metric;
    if (s.value === undefined) throw new NativeHistogramError(formatSeries(s.metric));
    const ms = Math.round(s.value[0] * 1000);
    if (!isTimestampMs(ms)) throw badTimestamp(["data", "result", i, "value", 0], s.value[0]);
    const v = parseSampleValue(s.value[1]);
    if (v === undefined) throw badValue(["data", "result", i, "value", 1], s.value[1]);
    pushSample(columns, ms, v);
  }
  return buildVectorFrame(metrics, columns);
}

/** The frame of a vector: one row per series, so the label columns need no expansion. */
export function buildVectorFrame(metrics: Labels[], columns: Columns): pl.DataFrame {
  if (metrics.length === 0) return emptyFrame();
  return pl.DataFrame([
    ...labelColumns(labelNames(metrics), metrics),
    timestampSeries(columns),
    valueSeries(columns),
  ]);
}

function matrixFrame(result: MatrixSeries[]): pl.DataFrame {
  const n = result.length;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const s = result[i];
    if (s.histograms !== undefined && s.histograms.length > 0) {
      throw new NativeHistogramError(formatSeries(s.metric));
    }
    total += s.values === undefined ? 0 : s.values.length;
  }
  if (total === 0) return emptyFrame();
  const metrics = new Array<Labels>(n);
  const counts = new Int32Array(n);
  const columns = scratchColumns(total);
  for (let i = 0; i < n; i++) {
    const s = result[i];
    metrics[i] = s.metric;
    const pairs = s.values;
    if (pairs === undefined) continue;
    counts[i] = pairs.length;
    for (let j = 0; j < pairs.length; j++) {
      const pair = pairs[j];
      const text = pair[1];
      // Inline fast path of parseSampleValue for plain numbers.
      let v = +text;
      if (!isPlainDecimal(text, v)) {
        const parsed = parseSampleValue(text);
        if (parsed === undefined) throw badValue(["data", "result", i, "values", j, 1], text);
        v = parsed;
      }
      const ms = Math.round(pair[0] * 1000);
      if (!isTimestampMs(ms)) throw badTimestamp(["data", "result", i, "values", j, 0], pair[0]);
      pushSample(columns, ms, v);
    }
  }
  return buildMatrixFrame(metrics, counts, columns);
}

/**
 * The long frame of a matrix: the `counts[i]` samples of series `i` are
 * consecutive in `columns`. Label columns are built per series (one row each)
 * and expanded natively with a gather on the series index, so no per-sample
 * JS string is ever created. A label with the same value in every series
 * (`job`, often `__name__`) becomes a broadcast literal, which polars keeps as
 * one value until something needs the rows.
 */
export function buildMatrixFrame(
  metrics: Labels[],
  counts: Int32Array,
  columns: Columns,
): pl.DataFrame {
  const total = columns.rows;
  if (total === 0) return emptyFrame();
  const names = labelNames(metrics);
  const constant: pl.Expr[] = [];
  const varying: string[] = [];
  for (const name of names) {
    const first = metrics[0][name];
    let same = first !== undefined;
    for (let i = 1; same && i < metrics.length; i++) same = metrics[i][name] === first;
    if (same) constant.push(pl.lit(first).alias(name));
    else varying.push(name);
  }
  let labels: pl.Series[] = [];
  if (varying.length > 0) {
    const index = scratchIndex(total);
    let row = 0;
    for (let i = 0; i < counts.length; i++) {
      const end = row + counts[i];
      index.fill(i, row, end);
      row = end;
    }
    const perSeries = pl.DataFrame(labelColumns(varying, metrics));
    labels = perSeries.select(pl.all().gather(pl.Series("index", index.subarray(0, total))))
      .getColumns();
  }
  const frame = pl.DataFrame([...labels, timestampSeries(columns), valueSeries(columns)]);
  if (constant.length === 0) return frame;
  return frame.withColumns(...constant).select(...names, "timestamp", "value");
}

/** One-row (`timestamp`, `value`) frame of a scalar or string result. */
function singleFrame(pair: [number, string], text: boolean): pl.DataFrame {
  const ms = Math.round(pair[0] * 1000);
  if (!isTimestampMs(ms)) throw badTimestamp(["data", "result", 0], pair[0]);
  let v = 0;
  if (!text) {
    const parsed = parseSampleValue(pair[1]);
    if (parsed === undefined) throw badValue(["data", "result", 1], pair[1]);
    v = parsed;
  }
  const columns = scratchColumns(1);
  pushSample(columns, ms, v);
  return pl.DataFrame([
    timestampSeries(columns),
    text ? pl.Series("value", [pair[1]], pl.Utf8) : valueSeries(columns),
  ]);
}

/**
 * Convert a query result to a DataFrame following the frame contract.
 *
 * - vector: one row per series; matrix: one row per sample (long format);
 * - scalar: one row (`timestamp`, `value`); string: (`timestamp`, `value` as Utf8);
 * - an empty result: `timestamp` and `value` columns, zero rows;
 * - native-histogram samples: a {@linkcode NativeHistogramError} naming the series.
 *
 * @example
 * ```ts
 * import { queryDataToFrame } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const frame = queryDataToFrame({
 *   resultType: "matrix",
 *   result: [
 *     { metric: { __name__: "up", job: "node" }, values: [[1793491200, "1"], [1793491215, "NaN"]] },
 *     { metric: { __name__: "up", instance: "a:9100" }, values: [[1793491200, "+Inf"]] },
 *   ],
 * });
 * assert.deepEqual(frame.columns, ["__name__", "instance", "job", "timestamp", "value"]);
 * assert.deepEqual(frame.getColumn("job").toArray(), ["node", "node", null]);
 * assert.deepEqual(frame.getColumn("value").toArray(), [1, NaN, Infinity]);
 * ```
 */
export function queryDataToFrame(data: QueryData): pl.DataFrame {
  switch (data.resultType) {
    case "vector":
      return vectorFrame(data.result);
    case "matrix":
      return matrixFrame(data.result);
    case "scalar":
      return singleFrame(data.result, false);
    case "string":
      return singleFrame(data.result, true);
  }
}
