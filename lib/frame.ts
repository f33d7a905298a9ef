/**
 * Prometheus query results → nodejs-polars DataFrames, following the frame
 * contract: one Utf8 column per label name found across all series (sorted by
 * name, `__name__` kept, missing → null), then `timestamp` (`Datetime("ms")`,
 * epoch milliseconds in UTC), then `value` (Float64). Range results are long:
 * one row per sample.
 *
 * The conversion never runs zod per sample: a tight loop checks the shape and
 * fills typed arrays; only when that loop finds a problem is zod run again to
 * name the exact path in a {@linkcode SchemaError}.
 *
 * @module
 */

import pl from "nodejs-polars";
import {
  NativeHistogramError,
  OpsbookError,
  PrometheusError,
  SchemaError,
  type SchemaIssue,
} from "./errors.ts";
import { quoteString } from "./promql.ts";
import {
  HistogramPairSchema,
  type LabelSet,
  type MatrixSeries,
  type QueryData,
  QueryDataSchema,
  type VectorSample,
} from "./schema.ts";

/** A nodejs-polars DataFrame. */
export type DataFrame = pl.DataFrame;

/**
 * Parse a sample value as the API encodes it: decimal and exponent forms
 * (`"1e-07"`), `"NaN"`, `"+Inf"`, `"-Inf"` (and `"Inf"`). Returns `undefined`
 * for anything else.
 *
 * @example
 * ```ts
 * import { parseSampleValue } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseSampleValue("1e-07"), 1e-7);
 * assert.equal(parseSampleValue("+Inf"), Infinity);
 * assert.ok(Number.isNaN(parseSampleValue("NaN")));
 * assert.equal(parseSampleValue("abc"), undefined);
 * ```
 */
export function parseSampleValue(text: string): number | undefined {
  const n = +text;
  if (n === n) return text.length === 0 || text.charCodeAt(0) <= 32 ? undefined : n;
  switch (text) {
    case "NaN":
      return NaN;
    case "+Inf":
    case "Inf":
      return Infinity;
    case "-Inf":
      return -Infinity;
    default:
      return undefined;
  }
}

/**
 * Format a label set as a selector, for messages: `up{instance="a:9100",job="node"}`.
 *
 * @example
 * ```ts
 * import { formatSeries } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatSeries({ __name__: "up", job: "node" }), 'up{job="node"}');
 * ```
 */
export function formatSeries(metric: LabelSet): string {
  const name = metric.__name__ ?? "";
  const labels = Object.keys(metric).filter((k) => k !== "__name__").sort()
    .map((k) => `${k}=${quoteString(metric[k])}`);
  return `${name}{${labels.join(",")}}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isLabelSet(value: unknown): boolean {
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

/** Options for {@linkcode checkQueryData}. */
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

function labelNames(metrics: LabelSet[]): string[] {
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

function timestampSeries(ms: Float64Array): pl.Series {
  return pl.Series("timestamp", ms).cast(pl.Int64).cast(pl.Datetime("ms"));
}

function emptyFrame(): pl.DataFrame {
  return pl.DataFrame([
    pl.Series("timestamp", [], pl.Datetime("ms")),
    pl.Series("value", [], pl.Float64),
  ]);
}

function labelColumns(names: string[], metrics: LabelSet[]): pl.Series[] {
  return names.map((name) => {
    const column = new Array<string | null>(metrics.length);
    for (let i = 0; i < metrics.length; i++) column[i] = metrics[i][name] ?? null;
    return pl.Series(name, column, pl.Utf8);
  });
}

function vectorFrame(result: VectorSample[]): pl.DataFrame {
  const n = result.length;
  if (n === 0) return emptyFrame();
  const metrics = new Array<LabelSet>(n);
  const ts = new Float64Array(n);
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const s = result[i];
    metrics[i] = s.metric;
    if (s.value === undefined) throw new NativeHistogramError(formatSeries(s.metric));
    ts[i] = Math.round(s.value[0] * 1000);
    const v = parseSampleValue(s.value[1]);
    if (v === undefined) throw badValue(["data", "result", i, "value", 1], s.value[1]);
    values[i] = v;
  }
  return pl.DataFrame([
    ...labelColumns(labelNames(metrics), metrics),
    timestampSeries(ts),
    pl.Series("value", values),
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
  const metrics = new Array<LabelSet>(n);
  const ts = new Float64Array(total);
  const values = new Float64Array(total);
  const index = new Int32Array(total);
  let row = 0;
  for (let i = 0; i < n; i++) {
    const s = result[i];
    metrics[i] = s.metric;
    const pairs = s.values;
    if (pairs === undefined) continue;
    for (let j = 0; j < pairs.length; j++) {
      const pair = pairs[j];
      const text = pair[1];
      // Inline fast path of parseSampleValue for plain numbers.
      let v = +text;
      if (v !== v || text.length === 0 || text.charCodeAt(0) <= 32) {
        const parsed = parseSampleValue(text);
        if (parsed === undefined) throw badValue(["data", "result", i, "values", j, 1], text);
        v = parsed;
      }
      ts[row] = Math.round(pair[0] * 1000);
      values[row] = v;
      index[row] = i;
      row++;
    }
  }
  const names = labelNames(metrics);
  let labels: pl.Series[] = [];
  if (names.length > 0) {
    const perSeries = pl.DataFrame(labelColumns(names, metrics));
    labels = perSeries.select(pl.all().gather(pl.Series("index", index))).getColumns();
  }
  return pl.DataFrame([...labels, timestampSeries(ts), pl.Series("value", values)]);
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
    case "scalar": {
      const v = parseSampleValue(data.result[1]);
      if (v === undefined) throw badValue(["data", "result", 1], data.result[1]);
      return pl.DataFrame([
        timestampSeries(new Float64Array([Math.round(data.result[0] * 1000)])),
        pl.Series("value", new Float64Array([v])),
      ]);
    }
    case "string":
      return pl.DataFrame([
        timestampSeries(new Float64Array([Math.round(data.result[0] * 1000)])),
        pl.Series("value", [data.result[1]], pl.Utf8),
      ]);
  }
}

/**
 * Parse a whole query response body (`/api/v1/query` or `/api/v1/query_range`)
 * straight to a DataFrame, with the same checks as the client. The API's
 * error envelope throws a {@linkcode PrometheusError} (status 200 assumed);
 * anything else that is not a success envelope throws a
 * {@linkcode SchemaError}.
 *
 * @example
 * ```ts
 * import { parseQueryBody } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const body = '{"status":"success","data":{"resultType":"vector","result":' +
 *   '[{"metric":{"instance":"a"},"value":[1793491200,"1e-07"]}]}}';
 * const { frame, warnings } = parseQueryBody(body);
 * assert.deepEqual(frame.getColumn("value").toArray(), [1e-7]);
 * assert.deepEqual(warnings, []);
 * ```
 */
export function parseQueryBody(
  body: string,
): { frame: pl.DataFrame; data: QueryData; warnings: string[]; infos: string[] } {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (cause) {
    throw new SchemaError([{ path: [], message: `Invalid JSON: ${(cause as Error).message}` }]);
  }
  if (isObject(json) && json.status === "error") {
    throw new PrometheusError({
      errorType: String(json.errorType),
      error: String(json.error),
      status: 200,
    });
  }
  if (!isObject(json) || json.status !== "success") {
    throw new SchemaError([{ path: ["status"], message: 'Expected "success"' }]);
  }
  const data = checkQueryData(json.data);
  const warnings = Array.isArray(json.warnings) ? json.warnings.map(String) : [];
  const infos = Array.isArray(json.infos) ? json.infos.map(String) : [];
  return { frame: queryDataToFrame(data), data, warnings, infos };
}
