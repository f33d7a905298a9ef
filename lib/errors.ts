/**
 * The error base of the library, the typed error family of the Prometheus
 * client, and the redaction helpers that keep credentials out of every message.
 *
 * Every error opsbook throws for a condition a caller may want to handle
 * extends {@linkcode OpsbookError} (Prometheus, delivery, chart data, settings,
 * lock, rule file, template and notebook errors alike), so
 * `catch (e) { if (e instanceof OpsbookError) … }` catches anything opsbook
 * threw on purpose; each subclass keeps its own `name`. Misuse (a malformed
 * duration, an invalid label name) throws the built-in `TypeError` or
 * `RangeError` instead.
 *
 * @module
 */

const SECRET_PARAM =
  /^(?:token|access_token|id_token|refresh_token|api_key|apikey|api-key|key|password|passwd|pass|secret|client_secret|auth|authorization|sig|signature|x-amz-signature|x-goog-signature)$/i;

/**
 * Return a URL with its credentials removed: userinfo becomes `***`, and the
 * value of any query parameter whose name looks secret (`token`,
 * `access_token`, `api_key`, `password`, `signature`, ...) becomes `***`.
 *
 * Strings that are not absolute URLs are returned through
 * {@linkcode redactText}.
 *
 * @example Redact a URL
 * ```ts
 * import { redactUrl } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   redactUrl("https://bob:hunter2@prom.example/api?token=abc&x=1"),
 *   "https://***@prom.example/api?token=***&x=1",
 * );
 * ```
 */
export function redactUrl(url: string | URL): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return redactText(String(url));
  }
  const hadUser = parsed.username !== "" || parsed.password !== "";
  parsed.username = "";
  parsed.password = "";
  let text = parsed.href;
  if (hadUser) text = text.replace("://", "://***@");
  const query = text.indexOf("?");
  if (query === -1) return text;
  const hash = text.indexOf("#", query);
  const end = hash === -1 ? text.length : hash;
  const pairs = text.slice(query + 1, end).split("&").map((pair) => {
    const eq = pair.indexOf("=");
    if (eq === -1) return pair;
    let name = pair.slice(0, eq);
    try {
      name = decodeURIComponent(name);
    } catch {
      // keep the raw name
    }
    return SECRET_PARAM.test(name) ? `${pair.slice(0, eq)}=***` : pair;
  });
  return text.slice(0, query + 1) + pairs.join("&") + text.slice(end);
}

/**
 * Redact credentials inside free text: URL userinfo (`scheme://user:pass@`),
 * secret-looking query parameters (`token=...`), `Authorization` header values
 * and `Bearer`/`Basic` credentials, plus every exact string in `secrets`.
 *
 * @example Redact a header line and a known secret
 * ```ts
 * import { redactText } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * assert.equal(redactText("sent Bearer abc.def with s3cr3t", ["s3cr3t"]), "sent Bearer *** with ***");
 * assert.equal(redactText("Authorization: Basic dXNlcjpwdw=="), "Authorization: ***");
 * ```
 */
export function redactText(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 3) out = out.split(secret).join("***");
    if (secret.length >= 3) {
      const encoded = encodeURIComponent(secret);
      if (encoded !== secret) out = out.split(encoded).join("***");
    }
  }
  return out
    .replace(/([a-z][a-z0-9+.-]*:\/\/)[^\s/@?#]*@/gi, "$1***@")
    .replace(
      /([?&](?:token|access_token|id_token|refresh_token|api_key|apikey|api-key|key|password|passwd|pass|secret|client_secret|auth|authorization|sig|signature|x-amz-signature|x-goog-signature)=)(?!\*\*\*)[^&\s#"']*/gi,
      "$1***",
    )
    .replace(/(authorization["']?\s*[:=]\s*["']?)[^\r\n"',}]*/gi, "$1***")
    .replace(/\b(Bearer|Basic|Token)\s+(?!\*\*\*)[A-Za-z0-9._~+/=:-]+/g, "$1 ***");
}

/**
 * Options shared by the constructors of {@linkcode OpsbookError} and its subclasses.
 *
 * @example
 * ```ts
 * import { OpsbookError, type OpsbookErrorOptions } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const options: OpsbookErrorOptions = { endpoint: "http://prom:9090/api/v1/query" };
 * const error = new OpsbookError("Query failed: the server is shutting down", options);
 * assert.equal(error.endpoint, "http://prom:9090/api/v1/query");
 * ```
 */
export interface OpsbookErrorOptions extends ErrorOptions {
  /** The endpoint the failing request went to, already redacted. */
  endpoint?: string;
}

/**
 * Base class of every opsbook error a caller is expected to catch: the
 * Prometheus errors below, `DeliveryError`, `ChartDataError`, `ConfigError`,
 * `LockError`, `RuleFileError`, `TemplateError`, the notebook runner's errors
 * and `EmptyResultError` all extend it. The message is redacted (credentials
 * in URLs, headers and tokens become `***`) before it is stored.
 *
 * @example Catch any opsbook error
 * ```ts
 * import { OpsbookError, PrometheusError } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const error = new PrometheusError({ errorType: "bad_data", error: "parse error", status: 400 });
 * assert.ok(error instanceof OpsbookError);
 * ```
 */
export class OpsbookError extends Error {
  /** The endpoint of the failing request with credentials redacted, when there was one. */
  readonly endpoint: string | undefined;

  /** Create an error; the message is redacted before it is stored. */
  constructor(message: string, options: OpsbookErrorOptions = {}) {
    super(redactText(message), options.cause === undefined ? {} : { cause: options.cause });
    this.name = "OpsbookError";
    this.endpoint = options.endpoint === undefined ? undefined : redactUrl(options.endpoint);
  }
}

/**
 * Fields of a Prometheus API error response.
 *
 * @example
 * ```ts
 * import { PrometheusError, type PrometheusErrorInit } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const init: PrometheusErrorInit = {
 *   errorType: "bad_data",
 *   error: 'parse error: unexpected "}"',
 *   status: 400,
 * };
 * assert.equal(new PrometheusError(init).errorType, "bad_data");
 * ```
 */
export interface PrometheusErrorInit {
  /** Prometheus' `errorType`: `bad_data`, `execution`, `timeout`, `canceled`, `internal`, ... */
  errorType: string;
  /** Prometheus' own message, e.g. `1:5: parse error: unexpected <EOF>`. */
  error: string;
  /** The HTTP status of the response. */
  status: number;
  /** The endpoint, redacted. */
  endpoint?: string;
  /** Warnings that came with the error response. */
  warnings?: string[];
}

/**
 * The server answered with the API's error envelope
 * (`{"status":"error","errorType":...,"error":...}`).
 *
 * @example Inspect a Prometheus error
 * ```ts
 * import { PrometheusError } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const error = new PrometheusError({ errorType: "bad_data", error: "1:4: parse error", status: 400 });
 * assert.equal(error.message, "Prometheus returned bad_data (HTTP 400): 1:4: parse error");
 * ```
 */
export class PrometheusError extends OpsbookError {
  /** Prometheus' `errorType`. */
  readonly errorType: string;
  /** Prometheus' own message. */
  readonly error: string;
  /** HTTP status. */
  readonly status: number;
  /** Warnings sent with the error, if any. */
  readonly warnings: string[];

  /** Create the error from the API's error fields. */
  constructor(init: PrometheusErrorInit, options: ErrorOptions = {}) {
    super(`Prometheus returned ${init.errorType} (HTTP ${init.status}): ${init.error}`, {
      ...options,
      endpoint: init.endpoint,
    });
    this.name = "PrometheusError";
    this.errorType = init.errorType;
    this.error = redactText(init.error);
    this.status = init.status;
    this.warnings = init.warnings ?? [];
  }
}

/**
 * The server answered with something that is not the API's JSON: a proxy's
 * HTML 502, an empty body, a truncated document.
 *
 * @example
 * ```ts
 * import { ResponseError } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const error = new ResponseError({ status: 502, bodyStart: "<html>Bad gateway</html>" });
 * assert.equal(error.message, "Unexpected non-JSON response (HTTP 502): <html>Bad gateway</html>");
 * ```
 */
export class ResponseError extends OpsbookError {
  /** HTTP status. */
  readonly status: number;
  /** The first bytes of the body (at most 200 characters), redacted. */
  readonly bodyStart: string;

  /** Create the error; `bodyStart` is truncated to 200 characters. */
  constructor(
    init: { status: number; bodyStart: string; endpoint?: string; reason?: string },
    options: ErrorOptions = {},
  ) {
    const start = redactText(init.bodyStart.slice(0, 200));
    const where = init.endpoint === undefined ? "" : ` from ${redactUrl(init.endpoint)}`;
    const reason = init.reason ?? "Unexpected non-JSON response";
    super(`${reason} (HTTP ${init.status})${where}: ${start === "" ? "<empty body>" : start}`, {
      ...options,
      endpoint: init.endpoint,
    });
    this.name = "ResponseError";
    this.status = init.status;
    this.bodyStart = start;
  }
}

/**
 * The request never got a response: connection refused, DNS failure, reset.
 *
 * @example
 * ```ts
 * import { NetworkError } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const error = new NetworkError("http://user:pw@127.0.0.1:1/api/v1/query");
 * assert.equal(error.message, "Cannot reach http://***@127.0.0.1:1/api/v1/query: network error");
 * ```
 */
export class NetworkError extends OpsbookError {
  /** Create the error for an endpoint; `detail` defaults to `network error`. */
  constructor(endpoint: string, options: ErrorOptions & { detail?: string } = {}) {
    super(`Cannot reach ${redactUrl(endpoint)}: ${options.detail ?? "network error"}`, {
      cause: options.cause,
      endpoint,
    });
    this.name = "NetworkError";
  }
}

/**
 * No response arrived within `timeoutMs`.
 *
 * @example
 * ```ts
 * import { TimeoutError } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const error = new TimeoutError("http://127.0.0.1:9090/api/v1/query", 500);
 * assert.equal(error.message, "Request timed out after 500 ms: http://127.0.0.1:9090/api/v1/query");
 * ```
 */
export class TimeoutError extends OpsbookError {
  /** The timeout that expired. */
  readonly timeoutMs: number;

  /** Create the error for an endpoint and the timeout that expired. */
  constructor(endpoint: string, timeoutMs: number, options: ErrorOptions = {}) {
    const after = timeoutMs < 1000 ? `${timeoutMs} ms` : `${timeoutMs / 1000} s`;
    super(`Request timed out after ${after}: ${redactUrl(endpoint)}`, {
      ...options,
      endpoint,
    });
    this.name = "TimeoutError";
    this.timeoutMs = timeoutMs;
  }
}

/**
 * One problem found by schema validation.
 *
 * @example
 * ```ts
 * import { SchemaError, type SchemaIssue } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const issues: SchemaIssue[] = [{ path: ["data", "result", 0, "value"], message: "expected an array" }];
 * assert.deepEqual(new SchemaError(issues).path, ["data", "result", 0, "value"]);
 * ```
 */
export interface SchemaIssue {
  /** Path into the JSON document, e.g. `["data", "result", 0, "values", 3, 1]`. */
  path: (string | number)[];
  /** What was wrong. */
  message: string;
}

/**
 * Format a JSON path the way messages show it: `data.result[0].values[3][1]`.
 *
 * @example
 * ```ts
 * import { formatPath } from "./errors.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatPath(["data", "result", 0, "metric"]), "data.result[0].metric");
 * ```
 */
export function formatPath(path: readonly (string | number | symbol)[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? String(part) : `.${String(part)}`;
  }
  return out === "" ? "(root)" : out;
}

/**
 * A body that is JSON but not the shape the API documents.
 *
 * @example
 * ```ts
 * import { SchemaError } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const error = new SchemaError([{ path: ["data", "resultType"], message: "Invalid input" }]);
 * assert.equal(error.message, "Unexpected response shape at data.resultType: Invalid input");
 * ```
 */
export class SchemaError extends OpsbookError {
  /** Every problem found (the message names the first). */
  readonly issues: SchemaIssue[];
  /** Path of the first problem. */
  readonly path: (string | number)[];

  /** Create the error from validation issues (at least one). */
  constructor(issues: SchemaIssue[], options: OpsbookErrorOptions = {}) {
    const first = issues[0] ?? { path: [], message: "Invalid input" };
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : "";
    const where = options.endpoint === undefined ? "" : ` from ${redactUrl(options.endpoint)}`;
    super(
      `Unexpected response shape${where} at ${formatPath(first.path)}: ${first.message}${more}`,
      options,
    );
    this.name = "SchemaError";
    this.issues = issues;
    this.path = first.path;
  }
}

/**
 * A query returned native-histogram samples where a frame of floats was
 * requested. Use `histogram_count()`, `histogram_sum()` or
 * `histogram_quantile()` to get floats, or `query()` for the raw objects.
 *
 * @example
 * ```ts
 * import { NativeHistogramError } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const error = new NativeHistogramError('http_request_duration_seconds{job="api"}');
 * assert.ok(error.message.includes('http_request_duration_seconds{job="api"}'));
 * ```
 */
export class NativeHistogramError extends OpsbookError {
  /** The first series carrying histogram samples, formatted as a selector. */
  readonly series: string;

  /** Create the error for a series (formatted as a selector). */
  constructor(series: string, options: OpsbookErrorOptions = {}) {
    super(
      `Native histogram samples cannot become a frame of floats: series ${series}; ` +
        "wrap the query in histogram_count(), histogram_sum() or histogram_quantile()",
      options,
    );
    this.name = "NativeHistogramError";
    this.series = series;
  }
}

/**
 * A query returned no series where data was expected: a misspelled metric or
 * label, a server without that data, or an evaluation time outside the data.
 * `when` says at which time (or range) it was evaluated.
 *
 * @example
 * ```ts
 * import { EmptyResultError } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const error = new EmptyResultError("up{job=\"nod\"}", { when: "at 2026-11-01T12:00:00.000Z" });
 * assert.equal(
 *   error.message,
 *   'Query returned no series: up{job="nod"} at 2026-11-01T12:00:00.000Z ' +
 *     "(check the metric and label names, and that the time lies within the data)",
 * );
 * ```
 */
export class EmptyResultError extends OpsbookError {
  /** The PromQL query. */
  readonly query: string;

  /** Create the error for a query evaluated `when` (e.g. `at <time>`, `from <start> to <end>`). */
  constructor(query: string, options: OpsbookErrorOptions & { when?: string } = {}) {
    super(
      `Query returned no series: ${query}${options.when ? ` ${options.when}` : ""} ` +
        "(check the metric and label names, and that the time lies within the data)",
      options,
    );
    this.name = "EmptyResultError";
    this.query = query;
  }
}

/**
 * Every server of a {@linkcode FleetClient} failed; `errors` holds each
 * server's error by name (when only some fail, the answer keeps the others
 * and each failure is a warning instead).
 *
 * @example
 * ```ts
 * import { FleetError, NetworkError } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const error = new FleetError({ a: new NetworkError("http://a:9090/api/v1/query") });
 * assert.equal(error.message, "Every Prometheus failed: a: Cannot reach http://a:9090/api/v1/query: network error");
 * ```
 */
export class FleetError extends OpsbookError {
  /** Each server's error, by name. */
  readonly errors: Readonly<Record<string, Error>>;

  /** Create the error from each server's error. */
  constructor(errors: Record<string, Error>) {
    const parts = Object.entries(errors).map(([name, e]) => `${name}: ${e.message}`);
    super(`Every Prometheus failed: ${parts.join("; ")}`, {
      cause: Object.values(errors)[0],
    });
    this.name = "FleetError";
    this.errors = { ...errors };
  }
}
