/**
 * `PrometheusClient`: a typed client of the Prometheus HTTP API (also
 * VictoriaMetrics, Thanos, Mimir) built on ky and zod, returning typed
 * results with their warnings, or nodejs-polars DataFrames.
 *
 * @module
 */

import ky, {
  HTTPError as KyHTTPError,
  type KyInstance,
  NetworkError as KyNetworkError,
  TimeoutError as KyTimeoutError,
} from "ky";
import type { Labels } from "../labels.ts";
import type { z } from "zod";
import { describeFetchError } from "../_internal/net.ts";
import {
  EmptyResultError,
  NetworkError,
  redactText,
  redactUrl,
  SchemaError,
  TimeoutError,
} from "../errors.ts";
import { checkQueryData, type DataFrame, queryDataToFrame } from "./frame.ts";
import { parseQueryBody } from "./_scan.ts";
import { describeInstant, describeRange } from "./_when.ts";
import {
  type BodyContext,
  type Envelope,
  errorFromBody,
  parseEnvelope,
  zodIssues,
} from "./_envelope.ts";
import {
  type ApiAlert,
  ApiAlertsSchema,
  type ApiRules,
  ApiRulesSchema,
  type ApiTargets,
  ApiTargetsSchema,
  type BuildInfo,
  BuildInfoSchema,
  type MatrixData,
  type MatrixSeries,
  type QueryData,
  SeriesListSchema,
  StringListSchema,
} from "./schema.ts";
import {
  isRetriableStatus,
  type NormalizedRetry,
  normalizeRetry,
  parseRetryAfter,
  retry,
  type RetryDecision,
  type RetryInput,
} from "../_internal/http.ts";
import { parseHttpUrl } from "../_internal/url.ts";
import {
  type DurationInput,
  formatDuration,
  formatSeconds,
  parseDuration,
  type TimeInput,
  toSeconds,
} from "../time.ts";

export type { RetryOptions } from "../_internal/http.ts";

/**
 * A callback receiving warnings and infos that arrived with data.
 *
 * @example Collect warnings instead of printing them
 * ```ts
 * import { PrometheusClient, type WarningHandler } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const notes: string[] = [];
 * const onWarning: WarningHandler = (message, kind) => notes.push(`${kind}: ${message}`);
 * const prom = new PrometheusClient({
 *   url: Deno.env.get("PROMETHEUS_URL") ?? "http://localhost:9090",
 *   onWarning,
 * });
 * await prom.queryFrame("up", { time: "2026-11-01T12:00:00Z" });
 * assert.deepEqual(notes, []); // a single Prometheus answered completely
 * ```
 */
export type WarningHandler = (message: string, kind: "warning" | "info") => void;

/**
 * What the frame helpers do when a query returns no series: `"warn"` sends
 * `query returned no series: <query> at <time>` through the warnings path,
 * `"error"` throws {@linkcode EmptyResultError} with that sentence,
 * `"ignore"` returns the empty frame silently.
 *
 * @example Stop when a query matches nothing
 * ```ts
 * import { type EmptyResultAction, EmptyResultError, PrometheusClient } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const onEmpty: EmptyResultAction = "error";
 * const prom = new PrometheusClient({
 *   url: Deno.env.get("PROMETHEUS_URL") ?? "http://localhost:9090",
 *   onEmpty,
 * });
 * await assert.rejects(
 *   prom.queryFrame('up{job="no-such-job"}', { time: "2026-11-01T12:00:00Z" }),
 *   EmptyResultError,
 * );
 * ```
 */
export type EmptyResultAction = "warn" | "error" | "ignore";

/**
 * Options of {@linkcode PrometheusClient}.
 *
 * @example Mimir behind a path prefix, with a tenant
 * ```ts
 * import { PrometheusClient, type PrometheusClientOptions } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const options: PrometheusClientOptions = {
 *   url: "https://mimir.example.com/prometheus",
 *   headers: { "X-Scope-OrgID": "team-a" },
 *   timeoutMs: 30_000,
 *   maxPointsPerSeries: 11_000,
 * };
 * assert.equal(new PrometheusClient(options).url, "https://mimir.example.com/prometheus");
 * ```
 */
export interface PrometheusClientOptions {
  /**
   * Base URL, with an optional path prefix (`https://mimir/prometheus`,
   * `http://vmselect:8481/select/0/prometheus`). Userinfo becomes Basic auth.
   */
  url: string | URL;
  /** Extra headers on every request, e.g. `{ "X-Scope-OrgID": "tenant" }`. @default {{}} */
  headers?: Record<string, string>;
  /** Sent as `Authorization: Bearer <token>`. */
  bearerToken?: string;
  /** Sent as `Authorization: Basic ...`. */
  basicAuth?: { username: string; password: string };
  /** Timeout of each attempt, including reading the body. @default {30000} */
  timeoutMs?: number;
  /**
   * Retry policy (network errors, 408, 429, 502, 503, 504; `Retry-After`
   * honoured; never a server-side timeout nor Prometheus' 500 `internal`); a number is the limit; `false`
   * disables retries. @default {{ limit: 2, delayMs: 300 }}
   */
  retry?: RetryInput;
  /** Points per series above which `queryRange` splits the range (VictoriaMetrics: 30000). @default {11000} */
  maxPointsPerSeries?: number;
  /** Chunks of one range fetched at the same time. @default {4} */
  concurrency?: number;
  /** Send queries as POST form bodies (falls back to GET on 405) or always GET. @default {"POST"} */
  method?: "POST" | "GET";
  /** Extra parameters on every query and query_range request, e.g. `{ nocache: "1" }`. @default {{}} */
  params?: Record<string, string>;
  /** Where the frame helpers report warnings and infos. @default {writes to stderr} */
  onWarning?: WarningHandler;
  /** What the frame helpers do with an answer without series. @default {"warn"} */
  onEmpty?: EmptyResultAction;
}

/**
 * Options of {@linkcode PrometheusClient.prototype.query}.
 *
 * @example
 * ```ts
 * import { PrometheusClient, type QueryOptions } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const prom = new PrometheusClient({ url: Deno.env.get("PROMETHEUS_URL") ?? "http://localhost:9090" });
 * const options: QueryOptions = { time: "2026-11-01T12:00:00Z", timeout: "10s" };
 * const result = await prom.query("count(up)", options);
 * assert.equal(result.resultType, "vector");
 * ```
 */
export interface QueryOptions {
  /** Evaluation time. @default {the server's now} */
  time?: TimeInput;
  /** Server-side evaluation timeout. */
  timeout?: DurationInput;
  /** Maximum number of returned series (Prometheus 2.52+). */
  limit?: number;
  /** Extra request parameters. */
  params?: Record<string, string>;
  /** Abort the request. */
  signal?: AbortSignal;
}

/**
 * Options of {@linkcode PrometheusClient.prototype.queryRange}.
 *
 * @example
 * ```ts
 * import { PrometheusClient, type QueryRangeOptions } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const prom = new PrometheusClient({ url: Deno.env.get("PROMETHEUS_URL") ?? "http://localhost:9090" });
 * const lastHour: QueryRangeOptions = {
 *   start: "2026-11-01T11:00:00Z",
 *   end: "2026-11-01T12:00:00Z",
 *   step: "5m",
 * };
 * const range = await prom.queryRange("count(up)", lastHour);
 * assert.equal(range.result[0]?.values?.length, 13);
 * ```
 */
export interface QueryRangeOptions {
  /** First evaluation time. */
  start: TimeInput;
  /** Last evaluation time (inclusive when on the step grid). */
  end: TimeInput;
  /** Resolution step, a duration or seconds. */
  step: DurationInput;
  /** Server-side evaluation timeout. */
  timeout?: DurationInput;
  /** Maximum number of returned series (Prometheus 2.52+). */
  limit?: number;
  /** Override the client's points limit for this call. */
  maxPointsPerSeries?: number;
  /** Override the client's chunk concurrency for this call. */
  concurrency?: number;
  /** Extra request parameters. */
  params?: Record<string, string>;
  /** Abort the requests. */
  signal?: AbortSignal;
}

/**
 * Options of the frame helpers.
 *
 * @example
 * ```ts
 * import { type FrameOptions, PrometheusClient } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const prom = new PrometheusClient({ url: Deno.env.get("PROMETHEUS_URL") ?? "http://localhost:9090" });
 * const options: FrameOptions = { onEmpty: "ignore" }; // an empty frame is fine here
 * const frame = await prom.queryFrame('up{job="no-such-job"}', { ...options, time: "2026-11-01T12:00:00Z" });
 * assert.equal(frame.height, 0);
 * ```
 */
export interface FrameOptions {
  /** Receives warnings and infos instead of the client's handler. */
  onWarning?: WarningHandler;
  /** Overrides the client's {@linkcode PrometheusClientOptions.onEmpty}. */
  onEmpty?: EmptyResultAction;
}

/**
 * Options of the metadata calls taking a time range.
 *
 * @example
 * ```ts
 * import { type MetadataOptions, PrometheusClient } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const prom = new PrometheusClient({ url: Deno.env.get("PROMETHEUS_URL") ?? "http://localhost:9090" });
 * const day: MetadataOptions = { start: "2026-11-01T00:00:00Z", end: "2026-11-02T00:00:00Z" };
 * assert.equal((await prom.labelValues("instance", day)).length, 12);
 * ```
 */
export interface MetadataOptions {
  /** Range start. */
  start?: TimeInput;
  /** Range end. */
  end?: TimeInput;
  /** Series selectors restricting the answer. */
  matchers?: string[];
  /** Maximum number of returned items (Prometheus 2.52+). */
  limit?: number;
  /** Abort the request. */
  signal?: AbortSignal;
}

/**
 * A query result with the warnings and infos that came with it.
 *
 * @example Narrow by resultType
 * ```ts
 * import { PrometheusClient, type QueryResult } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const prom = new PrometheusClient({ url: Deno.env.get("PROMETHEUS_URL") ?? "http://localhost:9090" });
 * const result: QueryResult = await prom.query("count(up)", { time: "2026-11-01T12:00:00Z" });
 * if (result.resultType !== "vector") throw new Error(`expected a vector, got ${result.resultType}`);
 * assert.equal(result.result[0]?.value?.[1], "12");
 * ```
 */
export type QueryResult<D extends QueryData = QueryData> = D & {
  /** Warnings: the data may be partial. */
  warnings: string[];
  /** Informational notes (Prometheus 2.52+). */
  infos: string[];
};

/**
 * Range results are always matrices.
 *
 * @example
 * ```ts
 * import { PrometheusClient, type RangeResult } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const prom = new PrometheusClient({ url: Deno.env.get("PROMETHEUS_URL") ?? "http://localhost:9090" });
 * const range: RangeResult = await prom.queryRange("count(up)", {
 *   start: "2026-11-01T00:00:00Z",
 *   end: "2026-11-01T01:00:00Z",
 *   step: "1m",
 * });
 * assert.deepEqual([range.chunks, range.result.length, range.warnings], [1, 1, []]);
 * ```
 */
export type RangeResult = QueryResult<MatrixData> & {
  /** How many requests the range was split into. */
  chunks: number;
};

type Params = Record<string, string | string[] | undefined>;

const SENSITIVE_HEADER = /auth|token|key|secret|cookie|password|session/i;

function defaultWarningHandler(message: string, kind: "warning" | "info"): void {
  console.error(`Prometheus ${kind}: ${message}`);
}

/** Which failures of a ky call a later attempt may fix (see {@linkcode isRetriableStatus}). */
function classifyKyError(error: unknown): RetryDecision {
  if (error instanceof KyHTTPError) {
    // A query that timed out on the server would time out again.
    // Prometheus answers 500 for `internal` errors, which a retry repeats.
    const data = error.data as { errorType?: unknown } | undefined;
    if (
      data?.errorType === "timeout" || data?.errorType === "canceled" ||
      error.response.status === 500
    ) {
      return { retriable: false };
    }
    const after = parseRetryAfter(error.response.headers.get("retry-after"));
    return {
      retriable: isRetriableStatus(error.response.status, after !== undefined),
      retryAfterMs: after === undefined ? undefined : after * 1000,
    };
  }
  return { retriable: error instanceof KyNetworkError };
}

function toBody(params: Params): URLSearchParams {
  const body = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) { for (const v of value) body.append(key, v); }
    else body.append(key, value);
  }
  return body;
}

function labelKey(metric: Labels): string {
  const keys = Object.keys(metric).sort();
  let key = "";
  for (const k of keys) key += `${k}\u0000${metric[k]}\u0001`;
  return key;
}

function compareLabels(a: Labels, b: Labels): number {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  const n = Math.min(ka.length, kb.length);
  for (let i = 0; i < n; i++) {
    if (ka[i] !== kb[i]) return ka[i] < kb[i] ? -1 : 1;
    const va = a[ka[i]];
    const vb = b[kb[i]];
    if (va !== vb) return va < vb ? -1 : 1;
  }
  return ka.length - kb.length;
}

function mergeUnique(target: string[], source: readonly string[]): void {
  for (const item of source) if (!target.includes(item)) target.push(item);
}

/**
 * Merge matrix results of consecutive chunks of one range: series are joined
 * by label set, samples at or before the previous chunk's last timestamp are
 * dropped (no duplicated boundaries), and series are sorted as Prometheus
 * sorts them.
 *
 * @example
 * ```ts
 * import { mergeMatrices } from "./client.ts";
 * import assert from "node:assert/strict";
 *
 * const merged = mergeMatrices([
 *   { resultType: "matrix", result: [{ metric: { a: "1" }, values: [[1, "1"], [2, "2"]] }] },
 *   { resultType: "matrix", result: [{ metric: { a: "1" }, values: [[2, "2"], [3, "3"]] }] },
 * ]);
 * assert.deepEqual(merged.result[0].values, [[1, "1"], [2, "2"], [3, "3"]]);
 * ```
 */
export function mergeMatrices(parts: readonly MatrixData[]): MatrixData {
  if (parts.length === 1) return parts[0];
  const byKey = new Map<string, MatrixSeries>();
  for (const part of parts) {
    for (const series of part.result) {
      const key = labelKey(series.metric);
      const existing = byKey.get(key);
      if (existing === undefined) {
        byKey.set(key, {
          metric: series.metric,
          ...(series.values === undefined ? {} : { values: series.values.slice() }),
          ...(series.histograms === undefined ? {} : { histograms: series.histograms.slice() }),
        });
        continue;
      }
      if (series.values !== undefined) {
        const values = existing.values ?? (existing.values = []);
        const last = values.length === 0 ? -Infinity : values[values.length - 1][0];
        for (const pair of series.values) if (pair[0] > last) values.push(pair);
      }
      if (series.histograms !== undefined) {
        const histograms = existing.histograms ?? (existing.histograms = []);
        const last = histograms.length === 0 ? -Infinity : histograms[histograms.length - 1][0];
        for (const pair of series.histograms) if (pair[0] > last) histograms.push(pair);
      }
    }
  }
  const result = [...byKey.values()].sort((a, b) => compareLabels(a.metric, b.metric));
  return { resultType: "matrix", result };
}

/**
 * Split `[start, end]` at `step` into chunks of at most `maxPoints`
 * evaluation points each, on the same grid as a single query (times in
 * seconds).
 *
 * @example
 * ```ts
 * import { planChunks } from "./client.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(planChunks(0, 100, 10, 5), [{ start: 0, end: 40 }, { start: 50, end: 90 }, {
 *   start: 100,
 *   end: 100,
 * }]);
 * ```
 */
export function planChunks(
  start: number,
  end: number,
  step: number,
  maxPoints: number,
): { start: number; end: number }[] {
  if (!(step > 0)) throw new RangeError(`Invalid step: expected a positive duration, got ${step}`);
  if (end < start) throw new RangeError("Invalid range: end is before start");
  if (!Number.isInteger(maxPoints) || maxPoints < 1) {
    throw new RangeError(
      `Invalid maxPointsPerSeries: expected a positive integer, got ${maxPoints}`,
    );
  }
  const points = Math.floor((end - start) / step + 1e-9) + 1;
  const chunks: { start: number; end: number }[] = [];
  for (let first = 0; first < points; first += maxPoints) {
    const last = Math.min(first + maxPoints, points) - 1;
    chunks.push({ start: start + first * step, end: start + last * step });
  }
  if (chunks.length === 1) chunks[0].end = end;
  return chunks;
}

async function pool<T>(count: number, concurrency: number, task: (i: number) => Promise<T>) {
  const results = new Array<T>(count);
  let next = 0;
  let failed = false;
  async function worker(): Promise<void> {
    while (!failed && next < count) {
      const i = next++;
      try {
        results[i] = await task(i);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  }
  const workers = Array.from({ length: Math.max(1, Math.min(concurrency, count)) }, worker);
  await Promise.all(workers);
  return results;
}

/**
 * A typed client of the Prometheus HTTP API.
 *
 * Queries go as POST form bodies (falling back to GET on 405); failures are
 * typed ({@linkcode PrometheusError}, {@linkcode ResponseError},
 * {@linkcode NetworkError}, {@linkcode TimeoutError}, {@linkcode SchemaError});
 * credentials never appear in messages.
 *
 * @example Query a vector and a range into DataFrames
 * ```ts
 * import { cpuUsageQuery, PrometheusClient } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * // `deno task test:doc` sets PROMETHEUS_URL to a Prometheus holding the
 * // synthetic dataset: 12 hosts scraped every 15 s on 2026-11-01.
 * const prom = new PrometheusClient({
 *   url: Deno.env.get("PROMETHEUS_URL") ?? "http://localhost:9090",
 *   timeoutMs: 10_000,
 * });
 * const noon = await prom.queryFrame(cpuUsageQuery({ window: "5m" }), {
 *   time: "2026-11-01T12:00:00Z",
 * });
 * assert.deepEqual(noon.columns, ["instance", "timestamp", "value"]);
 * assert.equal(noon.height, 12); // one row per host
 * const day = await prom.queryRangeFrame(cpuUsageQuery(), {
 *   start: "2026-11-01T00:00:00Z",
 *   end: "2026-11-02T00:00:00Z",
 *   step: "1m",
 * });
 * assert.equal(day.height, 16_804); // one row per sample
 * ```
 */
export class PrometheusClient {
  #ky: KyInstance;
  #base: URL;
  #secrets: string[];
  #timeoutMs: number;
  #retry: NormalizedRetry;
  #maxPoints: number;
  #concurrency: number;
  #usePost: boolean;
  #params: Record<string, string>;
  #onWarning: WarningHandler;
  #onEmpty: EmptyResultAction;

  /** Create a client; options are checked and normalised once here. */
  constructor(options: PrometheusClientOptions) {
    const base = parseHttpUrl(options.url);
    if (base === undefined) {
      throw new TypeError(
        `Invalid url: expected an absolute http(s) URL such as http://localhost:9090, got "${
          redactUrl(options.url)
        }"`,
      );
    }
    const headers: Record<string, string> = { Accept: "application/json" };
    const secrets: string[] = [];
    let basic = options.basicAuth;
    if (base.username !== "" || base.password !== "") {
      basic ??= {
        username: decodeURIComponent(base.username),
        password: decodeURIComponent(base.password),
      };
      base.username = "";
      base.password = "";
    }
    for (const [name, value] of Object.entries(options.headers ?? {})) {
      headers[name] = value;
      if (SENSITIVE_HEADER.test(name)) secrets.push(value);
    }
    if (options.bearerToken !== undefined) {
      headers.Authorization = `Bearer ${options.bearerToken}`;
      secrets.push(options.bearerToken);
    } else if (basic !== undefined) {
      const token = btoa(`${basic.username}:${basic.password}`);
      headers.Authorization = `Basic ${token}`;
      secrets.push(basic.password, token);
    }
    base.pathname = base.pathname.replace(/\/+$/, "");
    base.hash = "";
    this.#base = base;
    this.#secrets = secrets.filter((s) => s.length > 0);
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    if (!(this.#timeoutMs > 0)) {
      throw new RangeError("Invalid timeoutMs: expected a positive number");
    }
    this.#retry = normalizeRetry(options.retry);
    this.#maxPoints = options.maxPointsPerSeries ?? 11_000;
    this.#concurrency = options.concurrency ?? 4;
    this.#usePost = (options.method ?? "POST") === "POST";
    this.#params = { ...options.params };
    this.#onWarning = options.onWarning ?? defaultWarningHandler;
    this.#onEmpty = options.onEmpty ?? "warn";
    if (!["warn", "error", "ignore"].includes(this.#onEmpty)) {
      throw new TypeError(
        `Invalid onEmpty: expected "warn", "error" or "ignore", got ${
          JSON.stringify(this.#onEmpty)
        }`,
      );
    }
    // Retries are ours (lib/_internal/http.ts), the same loop the sinks use.
    this.#ky = ky.create({ headers, timeout: this.#timeoutMs, throwHttpErrors: true, retry: 0 });
  }

  /** The base URL with credentials redacted. */
  get url(): string {
    return redactUrl(this.#base);
  }

  #endpoint(path: string, params?: URLSearchParams): URL {
    const url = new URL(this.#base.href);
    url.pathname = `${this.#base.pathname.replace(/\/+$/, "")}${path}`;
    if (params !== undefined) { for (const [k, v] of params) url.searchParams.append(k, v); }
    return url;
  }

  #redact(text: string): string {
    return redactText(text, this.#secrets);
  }

  async #readText(response: Response, endpoint: string, abort: AbortController): Promise<string> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        abort.abort();
        reject(new TimeoutError(endpoint, this.#timeoutMs));
      }, this.#timeoutMs);
    });
    try {
      return await Promise.race([response.text(), timeout]);
    } catch (error) {
      if (error instanceof TimeoutError) throw error;
      throw new NetworkError(endpoint, { detail: "connection lost while reading the body" });
    } finally {
      clearTimeout(timer);
    }
  }

  /** Send one API request and return its success envelope. */
  async #call(
    path: string,
    params: Params,
    options: { post?: boolean; signal?: AbortSignal } = {},
  ): Promise<Envelope> {
    const { text, status, endpoint } = await this.#fetchText(path, params, options);
    return parseEnvelope(text, this.#context(status, endpoint));
  }

  /**
   * Send one query request and turn its body straight into a DataFrame with
   * {@linkcode parseQueryBody} (typed columns scanned from the text, no
   * per-sample objects). Any body the fast path rejects goes through
   * the shared envelope reading (`_envelope.ts`), so errors are exactly the same as
   * for {@linkcode PrometheusClient.query}.
   */
  async #callFrame(
    path: string,
    params: Params,
    options: { signal?: AbortSignal; expect?: "matrix" },
  ): Promise<{ frame: DataFrame; warnings: string[]; infos: string[] }> {
    const { text, status, endpoint } = await this.#fetchText(path, params, {
      post: true,
      signal: options.signal,
    });
    // The scanner, or for a body it does not fully accept the envelope path:
    // the same typed errors as query() either way.
    const parsed = parseQueryBody(text, this.#context(status, endpoint));
    if (options.expect === "matrix") {
      const type = parsed.resultType;
      if (type !== "matrix") {
        throw new SchemaError([{
          path: ["data", "resultType"],
          message: `Expected "matrix" for a range query, got "${type}"`,
        }], { endpoint });
      }
    }
    return { frame: parsed.frame, warnings: parsed.warnings, infos: parsed.infos };
  }

  /** Send one API request and return the body text (HTTP and network errors typed). */
  async #fetchText(
    path: string,
    params: Params,
    options: { post?: boolean; signal?: AbortSignal } = {},
  ): Promise<{ text: string; status: number; endpoint: string }> {
    const body = toBody(params);
    const post = (options.post ?? false) && this.#usePost;
    const url = post ? this.#endpoint(path) : this.#endpoint(path, body);
    const endpoint = redactUrl(this.#endpoint(path));
    const abort = new AbortController();
    const signal = options.signal === undefined
      ? abort.signal
      : AbortSignal.any([abort.signal, options.signal]);
    let response: Response;
    try {
      response = await retry(
        () => this.#ky(url, { method: post ? "post" : "get", signal, ...(post ? { body } : {}) }),
        { ...this.#retry, signal: options.signal, classify: classifyKyError },
      );
    } catch (error) {
      if (error instanceof KyHTTPError) {
        if (error.response.status === 405 && post) {
          this.#usePost = false;
          return this.#fetchText(path, params, { ...options, post: false });
        }
        throw errorFromBody(error.data, this.#context(error.response.status, endpoint));
      }
      if (error instanceof KyTimeoutError) throw new TimeoutError(endpoint, this.#timeoutMs);
      if (options.signal?.aborted) throw error;
      if (error instanceof KyNetworkError || error instanceof TypeError) {
        const detail = this.#redact(describeFetchError(error, this.#base));
        throw new NetworkError(endpoint, { detail });
      }
      throw error;
    }
    const text = await this.#readText(response, endpoint, abort);
    return { text, status: response.status, endpoint };
  }

  /** Where a response came from, for the typed errors its body may turn into. */
  #context(status: number, endpoint: string): BodyContext {
    return { status, endpoint, redact: (text) => this.#redact(text) };
  }

  async #metadata<T>(
    schema: z.ZodType<T>,
    path: string,
    params: Params,
    options: { post?: boolean; signal?: AbortSignal } = {},
  ): Promise<T> {
    const envelope = await this.#call(path, params, options);
    const parsed = schema.safeParse(envelope.data);
    if (!parsed.success) {
      throw new SchemaError(zodIssues(parsed.error, ["data"]), {
        endpoint: redactUrl(this.#endpoint(path)),
      });
    }
    return parsed.data;
  }

  #queryParams(promql: string, options: QueryOptions): Params {
    return {
      ...this.#params,
      ...options.params,
      query: promql,
      time: options.time === undefined ? undefined : formatSeconds(toSeconds(options.time)),
      timeout: options.timeout === undefined
        ? undefined
        : formatDuration(parseDuration(options.timeout)),
      limit: options.limit === undefined ? undefined : String(options.limit),
    };
  }

  /**
   * Evaluate an instant query (`/api/v1/query`).
   *
   * @example
   * ```ts
   * import { PrometheusClient } from "opsbook";
   * import assert from "node:assert/strict";
   *
   * const prom = new PrometheusClient({ url: Deno.env.get("PROMETHEUS_URL") ?? "http://localhost:9090" });
   * const result = await prom.query("up", { time: "2026-11-01T12:00:00Z" });
   * assert.equal(result.resultType, "vector");
   * if (result.resultType === "vector") assert.equal(result.result.length, 12);
   * assert.deepEqual(result.warnings, []);
   * ```
   */
  async query(promql: string, options: QueryOptions = {}): Promise<QueryResult> {
    const params = this.#queryParams(promql, options);
    const endpoint = this.#endpoint("/api/v1/query");
    const envelope = await this.#call("/api/v1/query", params, {
      post: true,
      signal: options.signal,
    });
    const data = checkQueryData(envelope.data, { endpoint: redactUrl(endpoint) });
    return { ...data, warnings: envelope.warnings, infos: envelope.infos } as QueryResult;
  }

  /**
   * Evaluate a range query (`/api/v1/query_range`), split into chunks of at
   * most `maxPointsPerSeries` points fetched with bounded concurrency and
   * merged without duplicated boundary samples.
   *
   * @example
   * ```ts
   * import { PrometheusClient } from "opsbook";
   * import assert from "node:assert/strict";
   *
   * const prom = new PrometheusClient({ url: Deno.env.get("PROMETHEUS_URL") ?? "http://localhost:9090" });
   * const range = await prom.queryRange("up", {
   *   start: "2026-11-01T00:00:00Z",
   *   end: "2026-11-02T00:00:00Z",
   *   step: "5s", // 17,281 points: more than one request may carry
   * });
   * assert.equal(range.chunks, 2);
   * assert.equal(range.result.length, 12);
   * ```
   */
  async queryRange(promql: string, options: QueryRangeOptions): Promise<RangeResult> {
    const start = toSeconds(options.start);
    const end = toSeconds(options.end);
    const step = parseDuration(options.step);
    const chunks = planChunks(start, end, step, options.maxPointsPerSeries ?? this.#maxPoints);
    const concurrency = options.concurrency ?? this.#concurrency;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new RangeError(`Invalid concurrency: expected a positive integer, got ${concurrency}`);
    }
    const endpoint = redactUrl(this.#endpoint("/api/v1/query_range"));
    const parts = await pool(chunks.length, concurrency, async (i) => {
      const envelope = await this.#call(
        "/api/v1/query_range",
        this.#chunkParams(promql, chunks[i], step, options),
        { post: true, signal: options.signal },
      );
      const data = checkQueryData(envelope.data, { endpoint });
      if (data.resultType !== "matrix") {
        throw new SchemaError([{
          path: ["data", "resultType"],
          message: `Expected "matrix" for a range query, got "${data.resultType}"`,
        }], { endpoint });
      }
      return { data, warnings: envelope.warnings, infos: envelope.infos };
    });
    const warnings: string[] = [];
    const infos: string[] = [];
    for (const part of parts) {
      mergeUnique(warnings, part.warnings);
      mergeUnique(infos, part.infos);
    }
    const merged = mergeMatrices(parts.map((p) => p.data));
    return { ...merged, warnings, infos, chunks: chunks.length };
  }

  #chunkParams(
    promql: string,
    chunk: { start: number; end: number },
    step: number,
    options: QueryRangeOptions,
  ): Params {
    return {
      ...this.#params,
      ...options.params,
      query: promql,
      start: formatSeconds(chunk.start),
      end: formatSeconds(chunk.end),
      step: formatSeconds(step),
      timeout: options.timeout === undefined
        ? undefined
        : formatDuration(parseDuration(options.timeout)),
      limit: options.limit === undefined ? undefined : String(options.limit),
    };
  }

  #report(result: { warnings: string[]; infos: string[] }, options: FrameOptions): void {
    const handler = options.onWarning ?? this.#onWarning;
    for (const w of result.warnings) handler(this.#redact(w), "warning");
    for (const i of result.infos) handler(this.#redact(i), "info");
  }

  /** Report (or throw) an answer without series, as `onEmpty` says. */
  #checkEmpty(frame: DataFrame, promql: string, when: string, options: FrameOptions): void {
    if (frame.height > 0) return;
    const action = options.onEmpty ?? this.#onEmpty;
    if (action === "ignore") return;
    if (action === "error") {
      throw new EmptyResultError(promql, { when, endpoint: this.url });
    }
    (options.onWarning ?? this.#onWarning)(
      this.#redact(`query returned no series: ${promql} ${when}`),
      "warning",
    );
  }

  /**
   * Evaluate an instant query into a DataFrame (labels…, `timestamp`,
   * `value`). Warnings and infos go to `onWarning` (stderr by default).
   *
   * @example
   * ```ts
   * import { PrometheusClient } from "opsbook";
   * import assert from "node:assert/strict";
   *
   * const prom = new PrometheusClient({ url: Deno.env.get("PROMETHEUS_URL") ?? "http://localhost:9090" });
   * const frame = await prom.queryFrame('up{instance="ali-hz-db-01:9100"}', {
   *   time: "2026-11-01T12:00:00Z",
   *   onWarning: (message) => console.warn(message),
   * });
   * assert.deepEqual(frame.getColumn("value").toArray(), [1]);
   * ```
   */
  async queryFrame(promql: string, options: QueryOptions & FrameOptions = {}): Promise<DataFrame> {
    const result = await this.#callFrame("/api/v1/query", this.#queryParams(promql, options), {
      signal: options.signal,
    });
    this.#report(result, options);
    this.#checkEmpty(result.frame, promql, describeInstant(options.time), options);
    return result.frame;
  }

  /**
   * Evaluate a range query into a long DataFrame: one row per sample.
   *
   * @example
   * ```ts
   * import { cpuUsageQuery, PrometheusClient } from "opsbook";
   * import assert from "node:assert/strict";
   *
   * const prom = new PrometheusClient({ url: Deno.env.get("PROMETHEUS_URL") ?? "http://localhost:9090" });
   * const frame = await prom.queryRangeFrame(cpuUsageQuery(), {
   *   start: "2026-11-01T11:00:00Z",
   *   end: "2026-11-01T12:00:00Z",
   *   step: "1m",
   * });
   * assert.equal(frame.height, 12 * 61); // 12 hosts, 61 steps
   * ```
   */
  async queryRangeFrame(
    promql: string,
    options: QueryRangeOptions & FrameOptions,
  ): Promise<DataFrame> {
    const step = parseDuration(options.step);
    const chunks = planChunks(
      toSeconds(options.start),
      toSeconds(options.end),
      step,
      options.maxPointsPerSeries ?? this.#maxPoints,
    );
    if (chunks.length === 1) {
      // One request: scan the body straight into columns.
      const result = await this.#callFrame(
        "/api/v1/query_range",
        this.#chunkParams(promql, chunks[0], step, options),
        { signal: options.signal, expect: "matrix" },
      );
      this.#report(result, options);
      this.#checkEmpty(result.frame, promql, describeRange(options), options);
      return result.frame;
    }
    const result = await this.queryRange(promql, options);
    this.#report(result, options);
    const frame = queryDataToFrame(result);
    this.#checkEmpty(frame, promql, describeRange(options), options);
    return frame;
  }

  /**
   * Find series by matchers (`/api/v1/series`).
   *
   * @example
   * ```ts
   * import { PrometheusClient } from "opsbook";
   * import assert from "node:assert/strict";
   *
   * const prom = new PrometheusClient({ url: Deno.env.get("PROMETHEUS_URL") ?? "http://localhost:9090" });
   * const series = await prom.series(['up{job="node"}'], { start: "2026-11-01T00:00:00Z", end: "2026-11-02T00:00:00Z" });
   * assert.equal(series.length, 12);
   * ```
   */
  series(
    matchers: string | string[],
    options: Omit<MetadataOptions, "matchers"> = {},
  ): Promise<Labels[]> {
    return this.#metadata(SeriesListSchema, "/api/v1/series", {
      "match[]": typeof matchers === "string" ? [matchers] : matchers,
      ...this.#rangeParams(options),
    }, { post: true, signal: options.signal });
  }

  #rangeParams(options: MetadataOptions): Params {
    return {
      start: options.start === undefined ? undefined : formatSeconds(toSeconds(options.start)),
      end: options.end === undefined ? undefined : formatSeconds(toSeconds(options.end)),
      limit: options.limit === undefined ? undefined : String(options.limit),
    };
  }

  /**
   * List label names (`/api/v1/labels`).
   *
   * @example
   * ```ts
   * import { PrometheusClient } from "opsbook";
   * import assert from "node:assert/strict";
   *
   * const prom = new PrometheusClient({ url: Deno.env.get("PROMETHEUS_URL") ?? "http://localhost:9090" });
   * const names = await prom.labelNames({ start: "2026-11-01T00:00:00Z", end: "2026-11-02T00:00:00Z" });
   * assert.ok(names.includes("instance"));
   * ```
   */
  labelNames(options: MetadataOptions = {}): Promise<string[]> {
    return this.#metadata(StringListSchema, "/api/v1/labels", {
      "match[]": options.matchers,
      ...this.#rangeParams(options),
    }, { post: true, signal: options.signal });
  }

  /**
   * List the values of one label (`/api/v1/label/<name>/values`).
   *
   * @example
   * ```ts
   * import { PrometheusClient } from "opsbook";
   * import assert from "node:assert/strict";
   *
   * const prom = new PrometheusClient({ url: Deno.env.get("PROMETHEUS_URL") ?? "http://localhost:9090" });
   * const clouds = await prom.labelValues("cloud", {
   *   matchers: ['up{job="node"}'],
   *   start: "2026-11-01T00:00:00Z",
   *   end: "2026-11-02T00:00:00Z",
   * });
   * assert.deepEqual(clouds, ["aliyun", "azure", "tencent"]);
   * ```
   */
  labelValues(name: string, options: MetadataOptions = {}): Promise<string[]> {
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name)) {
      throw new TypeError(`Invalid label name: "${name}"`);
    }
    return this.#metadata(StringListSchema, `/api/v1/label/${name}/values`, {
      "match[]": options.matchers,
      ...this.#rangeParams(options),
    }, { signal: options.signal });
  }

  /**
   * Scrape targets (`/api/v1/targets`).
   *
   * @example
   * ```ts
   * import { PrometheusClient } from "opsbook";
   * import assert from "node:assert/strict";
   *
   * const prom = new PrometheusClient({ url: Deno.env.get("PROMETHEUS_URL") ?? "http://localhost:9090" });
   * const { activeTargets } = await prom.targets();
   * assert.deepEqual(activeTargets.map((t) => t.labels?.job), ["prometheus"]);
   * ```
   */
  targets(options: { state?: "active" | "dropped" | "any" } = {}): Promise<ApiTargets> {
    return this.#metadata(ApiTargetsSchema, "/api/v1/targets", { state: options.state });
  }

  /**
   * Active alerts of the server's alerting rules (`/api/v1/alerts`).
   *
   * @example
   * ```ts
   * import { PrometheusClient } from "opsbook";
   * import assert from "node:assert/strict";
   *
   * const prom = new PrometheusClient({ url: Deno.env.get("PROMETHEUS_URL") ?? "http://localhost:9090" });
   * const alerts = await prom.alerts();
   * assert.deepEqual(alerts, []); // nothing fires on the live (empty) data
   * ```
   */
  async alerts(): Promise<ApiAlert[]> {
    return (await this.#metadata(ApiAlertsSchema, "/api/v1/alerts", {})).alerts;
  }

  /**
   * Recording and alerting rules (`/api/v1/rules`).
   *
   * @example
   * ```ts
   * import { PrometheusClient } from "opsbook";
   * import assert from "node:assert/strict";
   *
   * const prom = new PrometheusClient({ url: Deno.env.get("PROMETHEUS_URL") ?? "http://localhost:9090" });
   * const { groups } = await prom.rules({ type: "alert" });
   * assert.deepEqual(groups.flatMap((g) => g.rules.map((r) => r.name)), ["HostHighCpu"]);
   * ```
   */
  rules(options: { type?: "alert" | "record" } = {}): Promise<ApiRules> {
    return this.#metadata(ApiRulesSchema, "/api/v1/rules", { type: options.type });
  }

  /**
   * Server version (`/api/v1/status/buildinfo`).
   *
   * @example
   * ```ts
   * import { PrometheusClient } from "opsbook";
   * import assert from "node:assert/strict";
   *
   * const prom = new PrometheusClient({ url: Deno.env.get("PROMETHEUS_URL") ?? "http://localhost:9090" });
   * const info = await prom.buildInfo();
   * assert.match(info.version ?? "", /^2\./);
   * ```
   */
  buildInfo(): Promise<BuildInfo> {
    return this.#metadata(BuildInfoSchema, "/api/v1/status/buildinfo", {});
  }
}
