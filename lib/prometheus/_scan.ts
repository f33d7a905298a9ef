/**
 * The body scanner behind `PrometheusClient.queryFrame` and
 * `queryRangeFrame`: `vector` and `matrix` bodies straight from the response
 * text into typed columns, with the validated path (`JSON.parse`,
 * `checkQueryData`, `queryDataToFrame`) for anything it does not fully accept.
 *
 * @module
 */

import type pl from "nodejs-polars";
import type { Labels } from "../labels.ts";
import { noteLines } from "./_notes.ts";
import { type BodyContext, parseEnvelope } from "./_envelope.ts";
import type { QueryData } from "./schema.ts";
import {
  buildMatrixFrame,
  buildVectorFrame,
  checkQueryData,
  type Columns,
  HI,
  isLabelSet,
  isTimestampMs,
  LO,
  parseSampleValue,
  queryDataToFrame,
  scratchColumns,
  TWO_32,
} from "./frame.ts";

// ---------------------------------------------------------------------------
// The body scanner: the `vector` and `matrix` shapes straight from the text.
//
// It walks the response text once, fills typed arrays with timestamps (ms) and
// values, and `JSON.parse`s only the small per-series `metric` objects and
// the envelope's other members. It is strict: anything it does not fully
// understand (escapes in sample strings, unknown keys inside `data`,
// histograms, duplicate keys, an error envelope, a value `parseSampleValue`
// rejects...) makes it give up, and the caller runs the validated path
// (`JSON.parse`, zod, `queryDataToFrame`), which gives the exact error or
// result. So it never accepts a body the validated path would reject, and
// both give the same frame.

/** Exact powers of ten: `m / POW10[k]` is correctly rounded for `m < 2 ** 53`, `k <= 22`. */
const POW10 = [
  1e0,
  1e1,
  1e2,
  1e3,
  1e4,
  1e5,
  1e6,
  1e7,
  1e8,
  1e9,
  1e10,
  1e11,
  1e12,
  1e13,
  1e14,
  1e15,
  1e16,
  1e17,
  1e18,
  1e19,
  1e20,
  1e21,
  1e22,
];

/** What the scanner collects from a `vector` or `matrix` body. */
interface Scan {
  resultType: string | undefined;
  metrics: Labels[];
  /** Samples per series (matrix: `values.length`; vector: 1). */
  counts: number[];
  /** Series that had a `value` member (vector shape). */
  withValue: number;
  /** Series that had a `values` member (matrix shape). */
  withValues: number;
  /** The samples of all series, in order. */
  columns: Columns;
}

function skipWs(s: string, i: number): number {
  let c = s.charCodeAt(i);
  while (c === 32 || c === 10 || c === 13 || c === 9) c = s.charCodeAt(++i);
  return i;
}

/** End (exclusive) of the JSON value starting at `i`, found by bracket matching; -1 if none. */
function skipValue(s: string, i: number): number {
  const n = s.length;
  let c = s.charCodeAt(i);
  if (c === 34) return skipString(s, i);
  if (c === 123 || c === 91) {
    let depth = 0;
    for (let j = i; j < n; j++) {
      c = s.charCodeAt(j);
      if (c === 34) {
        j = skipString(s, j) - 1;
        if (j < 0) return -1;
      } else if (c === 123 || c === 91) depth++;
      else if (c === 125 || c === 93) {
        if (--depth === 0) return j + 1;
      }
    }
    return -1;
  }
  let j = i;
  while (j < n) {
    c = s.charCodeAt(j);
    if (c === 44 || c === 125 || c === 93 || c === 32 || c === 10 || c === 13 || c === 9) break;
    j++;
  }
  return j === i ? -1 : j;
}

/** End (exclusive) of the JSON string starting at `i` (a quote); -1 if unterminated. */
function skipString(s: string, i: number): number {
  const n = s.length;
  for (let j = i + 1; j < n; j++) {
    const c = s.charCodeAt(j);
    if (c === 34) return j + 1;
    if (c === 92) j++;
  }
  return -1;
}

/** Parse the JSON value at `i..end` on its own; `undefined` on a syntax error. */
function parseSlice(s: string, i: number, end: number): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(s.slice(i, end)) };
  } catch {
    return undefined;
  }
}

/** Read a key without escapes at `i` (a quote); sets `keyEnd`. */
let keyEnd = 0;
function readKey(s: string, i: number): string | undefined {
  if (s.charCodeAt(i) !== 34) return undefined;
  const n = s.length;
  for (let j = i + 1; j < n; j++) {
    const c = s.charCodeAt(j);
    if (c === 34) {
      keyEnd = j + 1;
      return s.slice(i + 1, j);
    }
    if (c === 92 || c < 32) return undefined;
  }
  return undefined;
}

/**
 * Scan a `[[t, "v"], ...]` array (`pairs`) or a single `[t, "v"]` (`!pairs`)
 * at `i` into `scan`; returns the index after it, or -1.
 */
function scanPairs(s: string, i: number, scan: Scan, pairs: boolean): number {
  const columns = scan.columns;
  const ts = columns.ts;
  const vs = columns.values;
  const cap = vs.length;
  let row = columns.rows;
  let c = s.charCodeAt(i);
  if (pairs) {
    if (c !== 91) return -1;
    c = s.charCodeAt(++i);
    if (c <= 32) c = s.charCodeAt(i = skipWs(s, i));
    if (c === 93) return i + 1;
  }
  for (;;) {
    if (c !== 91 || row >= cap) return -1;
    c = s.charCodeAt(++i);
    if (c <= 32) c = s.charCodeAt(i = skipWs(s, i));
    // The timestamp: a JSON number.
    let start = i;
    let negative = false;
    if (c === 45) {
      negative = true;
      c = s.charCodeAt(++i);
    }
    if (!(c >= 48 && c <= 57)) return -1;
    let m = c - 48;
    let digits = 1;
    let fraction = 0;
    c = s.charCodeAt(++i);
    if (m === 0) {
      if (c >= 48 && c <= 57) return -1; // leading zero
    } else {
      while (c >= 48 && c <= 57) {
        m = m * 10 + (c - 48);
        digits++;
        c = s.charCodeAt(++i);
      }
    }
    if (c === 46) {
      c = s.charCodeAt(++i);
      if (!(c >= 48 && c <= 57)) return -1;
      do {
        m = m * 10 + (c - 48);
        digits++;
        fraction++;
        c = s.charCodeAt(++i);
      } while (c >= 48 && c <= 57);
    }
    let t: number;
    if (c === 101 || c === 69) {
      c = s.charCodeAt(++i);
      if (c === 43 || c === 45) c = s.charCodeAt(++i);
      if (!(c >= 48 && c <= 57)) return -1;
      do c = s.charCodeAt(++i); while (c >= 48 && c <= 57);
      t = +s.slice(start, i);
    } else if (digits > 15) {
      t = +s.slice(start, i);
    } else {
      t = negative ? -(m / POW10[fraction]) : m / POW10[fraction];
    }
    if (c <= 32) c = s.charCodeAt(i = skipWs(s, i));
    if (c !== 44) return -1;
    c = s.charCodeAt(++i);
    if (c <= 32) c = s.charCodeAt(i = skipWs(s, i));
    if (c !== 34) return -1;
    // The value: a string such as "1.5"; plain decimals are converted here,
    // anything else ("1e-07", "NaN", "+Inf", ".5") by parseSampleValue.
    start = ++i;
    c = s.charCodeAt(i);
    let v = NaN;
    let fast = false;
    negative = c === 45;
    if (negative) c = s.charCodeAt(++i);
    if (c >= 48 && c <= 57) {
      m = 0;
      digits = 0;
      fraction = 0;
      do {
        m = m * 10 + (c - 48);
        digits++;
        c = s.charCodeAt(++i);
      } while (c >= 48 && c <= 57);
      if (c === 46) {
        c = s.charCodeAt(++i);
        while (c >= 48 && c <= 57) {
          m = m * 10 + (c - 48);
          digits++;
          fraction++;
          c = s.charCodeAt(++i);
        }
      }
      if (c === 34 && s.charCodeAt(i - 1) !== 46) {
        // A plain decimal: exact division when the digits fit in 2^53, else
        // the engine's correctly rounded conversion (as `+text` would do).
        v = digits > 15
          ? +s.slice(start, i)
          : negative
          ? -(m / POW10[fraction])
          : m / POW10[fraction];
        fast = true;
      }
    }
    if (!fast) {
      const end = s.indexOf('"', start);
      if (end < 0) return -1;
      const text = s.slice(start, end);
      if (text.indexOf("\\") >= 0) return -1;
      for (let k = 0; k < text.length; k++) if (text.charCodeAt(k) < 32) return -1;
      const parsed = parseSampleValue(text);
      if (parsed === undefined) return -1;
      v = parsed;
      i = end;
    }
    c = s.charCodeAt(++i);
    if (c <= 32) c = s.charCodeAt(i = skipWs(s, i));
    if (c !== 93) return -1;
    const ms = Math.round(t * 1000);
    if (!isTimestampMs(ms)) return -1;
    const hi = Math.floor(ms / TWO_32);
    ts[2 * row + LO] = ms - hi * TWO_32;
    ts[2 * row + HI] = hi;
    vs[row] = v;
    row++;
    if (!pairs) {
      columns.rows = row;
      return i + 1;
    }
    c = s.charCodeAt(++i);
    if (c <= 32) c = s.charCodeAt(i = skipWs(s, i));
    if (c === 44) {
      c = s.charCodeAt(++i);
      if (c <= 32) c = s.charCodeAt(i = skipWs(s, i));
      continue;
    }
    columns.rows = row;
    return c === 93 ? i + 1 : -1;
  }
}

/** Scan one element of `result` (`{"metric": {...}, "values": [...]}`) at `i`. */
function scanSeries(s: string, i: number, scan: Scan): number {
  if (s.charCodeAt(i) !== 123) return -1;
  i = skipWs(s, i + 1);
  let metric: Labels | undefined;
  let hasValue = false;
  let hasValues = false;
  const before = scan.columns.rows;
  if (s.charCodeAt(i) === 125) return -1; // no metric
  for (;;) {
    const key = readKey(s, i);
    if (key === undefined) return -1;
    i = skipWs(s, keyEnd);
    if (s.charCodeAt(i) !== 58) return -1;
    i = skipWs(s, i + 1);
    if (key === "metric" && metric === undefined) {
      if (s.charCodeAt(i) !== 123) return -1;
      const end = skipValue(s, i);
      if (end < 0) return -1;
      const parsed = parseSlice(s, i, end);
      if (parsed === undefined || !isLabelSet(parsed.value)) return -1;
      metric = parsed.value as Labels;
      i = end;
    } else if (key === "values" && !hasValues && !hasValue) {
      hasValues = true;
      i = scanPairs(s, i, scan, true);
    } else if (key === "value" && !hasValue && !hasValues) {
      hasValue = true;
      i = scanPairs(s, i, scan, false);
    } else {
      return -1;
    }
    if (i < 0) return -1;
    i = skipWs(s, i);
    const c = s.charCodeAt(i);
    if (c === 44) {
      i = skipWs(s, i + 1);
      continue;
    }
    if (c !== 125 || metric === undefined) return -1;
    scan.metrics.push(metric);
    scan.counts.push(scan.columns.rows - before);
    if (hasValue) scan.withValue++;
    if (hasValues) scan.withValues++;
    return i + 1;
  }
}

/** Scan `data` (`{"resultType": ..., "result": [...]}`) at `i`. */
function scanData(s: string, i: number, scan: Scan): number {
  if (s.charCodeAt(i) !== 123) return -1;
  i = skipWs(s, i + 1);
  let sawResult = false;
  for (;;) {
    const key = readKey(s, i);
    if (key === undefined) return -1;
    i = skipWs(s, keyEnd);
    if (s.charCodeAt(i) !== 58) return -1;
    i = skipWs(s, i + 1);
    if (key === "resultType" && scan.resultType === undefined) {
      const end = s.charCodeAt(i) === 34 ? skipString(s, i) : -1;
      if (end < 0) return -1;
      const parsed = parseSlice(s, i, end);
      if (parsed === undefined) return -1;
      scan.resultType = parsed.value as string;
      i = end;
    } else if (key === "result" && !sawResult) {
      sawResult = true;
      if (s.charCodeAt(i) !== 91) return -1;
      i = skipWs(s, i + 1);
      if (s.charCodeAt(i) === 93) i++;
      else {
        for (;;) {
          i = scanSeries(s, i, scan);
          if (i < 0) return -1;
          i = skipWs(s, i);
          const c = s.charCodeAt(i);
          if (c === 93) {
            i++;
            break;
          }
          if (c !== 44) return -1;
          i = skipWs(s, i + 1);
        }
      }
    } else {
      return -1;
    }
    i = skipWs(s, i);
    const c = s.charCodeAt(i);
    if (c === 44) {
      i = skipWs(s, i + 1);
      continue;
    }
    if (c !== 125 || !sawResult) return -1;
    return i + 1;
  }
}

/** A success body scanned into columns, or `undefined` when the validated path must decide. */
function scanBody(
  s: string,
): { scan: Scan; warnings: string[]; infos: string[] } | undefined {
  // A sample takes at least 7 characters (`[1,"1"]`): an upper bound for the
  // columns; pages past the rows actually written never get memory.
  const scan: Scan = {
    resultType: undefined,
    metrics: [],
    counts: [],
    withValue: 0,
    withValues: 0,
    columns: scratchColumns(Math.floor(s.length / 7) + 1),
  };
  let warnings: unknown;
  let infos: unknown;
  let status: unknown;
  let sawData = false;
  const seen = new Set<string>();
  let i = skipWs(s, 0);
  if (s.charCodeAt(i) !== 123) return undefined;
  i = skipWs(s, i + 1);
  for (;;) {
    const key = readKey(s, i);
    if (key === undefined || seen.has(key)) return undefined;
    seen.add(key);
    i = skipWs(s, keyEnd);
    if (s.charCodeAt(i) !== 58) return undefined;
    i = skipWs(s, i + 1);
    if (key === "data") {
      sawData = true;
      i = scanData(s, i, scan);
      if (i < 0) return undefined;
    } else {
      const end = skipValue(s, i);
      if (end < 0) return undefined;
      const parsed = parseSlice(s, i, end);
      if (parsed === undefined) return undefined;
      if (key === "status") status = parsed.value;
      else if (key === "warnings") warnings = parsed.value;
      else if (key === "infos") infos = parsed.value;
      i = end;
    }
    i = skipWs(s, i);
    const c = s.charCodeAt(i);
    if (c === 44) {
      i = skipWs(s, i + 1);
      continue;
    }
    if (c !== 125) return undefined;
    break;
  }
  if (skipWs(s, i + 1) !== s.length || status !== "success" || !sawData) return undefined;
  const n = scan.metrics.length;
  if (scan.resultType === "matrix") {
    if (scan.withValue > 0) return undefined;
  } else if (scan.resultType === "vector") {
    if (scan.withValue !== n) return undefined;
  } else {
    return undefined;
  }
  return {
    scan,
    warnings: noteLines(warnings),
    infos: noteLines(infos),
  };
}

function scannedFrame(scan: Scan): pl.DataFrame {
  if (scan.resultType === "vector") return buildVectorFrame(scan.metrics, scan.columns);
  return buildMatrixFrame(scan.metrics, Int32Array.from(scan.counts), scan.columns);
}

/** What {@linkcode parseQueryBody} returns. */
export interface ParsedBody {
  /** The frame, following the module's frame contract. */
  frame: pl.DataFrame;
  /** The result type, known without parsing `data`. */
  resultType: QueryData["resultType"];
  /** The checked result (parsed lazily after a scan). */
  readonly data: QueryData;
  /** The response's warnings. */
  warnings: string[];
  /** The response's infos. */
  infos: string[];
}

/**
 * Parse a whole query response body (`/api/v1/query` or `/api/v1/query_range`)
 * straight to a DataFrame, with the same checks and typed errors as the
 * client (one envelope reading, `_envelope.ts`): a body that is not JSON
 * throws a `ResponseError`, the API's error envelope a
 * `PrometheusError`, anything else that is not a success envelope a
 * `SchemaError` naming the path. `context` gives the status,
 * endpoint and redaction for those errors (status 200 when omitted).
 *
 * Vector and matrix bodies are scanned straight from the text into typed
 * columns (only the small `metric` objects go through `JSON.parse`); any
 * body the scanner does not fully accept takes the validated path
 * (`JSON.parse`, {@linkcode checkQueryData}, {@linkcode queryDataToFrame}),
 * which gives the same frame or the exact error. After a scan, `data` is
 * parsed when first read.
 *
 * @example
 * ```ts
 * import { parseQueryBody } from "./_scan.ts";
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
  context: BodyContext = { status: 200 },
): ParsedBody {
  const scanned = scanBody(body);
  if (scanned === undefined) return validatedBody(body, context);
  const frame = scannedFrame(scanned.scan);
  let data: QueryData | undefined;
  return {
    frame,
    resultType: scanned.scan.resultType === "matrix" ? "matrix" : "vector",
    get data(): QueryData {
      return data ??= checkQueryData(parseEnvelope(body, context).data, {
        endpoint: context.endpoint,
      });
    },
    warnings: scanned.warnings,
    infos: scanned.infos,
  };
}

/** The validated path: `JSON.parse`, the shape check (zod on a problem), then the frame. */
function validatedBody(body: string, context: BodyContext): ParsedBody {
  const { data: raw, warnings, infos } = parseEnvelope(body, context);
  const data = checkQueryData(raw, { endpoint: context.endpoint });
  return { frame: queryDataToFrame(data), resultType: data.resultType, data, warnings, infos };
}
