/**
 * Internal HTTP helpers of the sinks: one request with a timeout and
 * redaction of every secret in every error, typed as {@linkcode DeliveryError},
 * retried with the shared loop of `lib/_internal/http.ts`.
 *
 * @module
 */

import {
  isRetriableStatus,
  type NormalizedRetry,
  normalizeRetry,
  parseRetryAfter,
  redact,
  retry,
  type RetryInput,
} from "../../_internal/http.ts";
import { describeFetchError } from "../../_internal/net.ts";
import { DeliveryError } from "../types.ts";

export { redact, truncate } from "../../_internal/http.ts";

/** One HTTP request of a sink. */
export interface HttpRequest {
  /** HTTP method. */
  method: string;
  /** Full URL; may contain secrets (they are redacted from errors). */
  url: string;
  /** Request headers; may contain secrets. */
  headers?: Record<string, string>;
  /** Request body. */
  body?: BodyInit;
  /** Abort after this many milliseconds. */
  timeoutMs: number;
  /** Caller's abort signal. */
  signal?: AbortSignal;
  /** The sink name for {@linkcode DeliveryError.sink}. */
  sink: string;
  /** The receiver's display name in messages, e.g. `Slack`. */
  receiver: string;
  /** Exact strings never to appear in an error message. */
  secrets: readonly string[];
}

/** The answer to an {@linkcode HttpRequest}: the status, headers and whole body text. */
export interface HttpResponse {
  /** HTTP status. */
  status: number;
  /** Response headers. */
  headers: Headers;
  /** The body as text. */
  text: string;
}

/**
 * Sends one request; throws a retriable {@linkcode DeliveryError} on network
 * errors and timeouts, and an abort error (not retriable) when the caller's
 * signal aborted. Any status is returned, not thrown.
 */
export async function httpRequest(req: HttpRequest): Promise<HttpResponse> {
  const timeout = AbortSignal.timeout(req.timeoutMs);
  const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
  let res: Response;
  try {
    res = await fetch(req.url, {
      method: req.method,
      headers: req.headers,
      body: req.body,
      signal,
    });
  } catch (cause) {
    throw transportError(req, cause);
  }
  let text: string;
  try {
    text = await res.text();
  } catch (cause) {
    throw transportError(req, cause);
  }
  return { status: res.status, headers: res.headers, text };
}

function transportError(req: HttpRequest, cause: unknown): DeliveryError {
  if (req.signal?.aborted) {
    return new DeliveryError(`${req.receiver} delivery was aborted`, {
      sink: req.sink,
      retriable: false,
      code: "aborted",
    });
  }
  const timedOut = cause instanceof DOMException &&
    (cause.name === "TimeoutError" || cause.name === "AbortError");
  if (timedOut) {
    return new DeliveryError(
      `${req.receiver} did not answer within ${req.timeoutMs} ms`,
      { sink: req.sink, retriable: true, code: "timeout" },
    );
  }
  // Deno's fetch errors name the URL: keep only a redacted description, and
  // no `cause`, since the original error (and its stack) carries the URL.
  const detail = describeFetchError(cause, req.url);
  return new DeliveryError(
    `Cannot reach ${req.receiver}: ${redact(detail, req.secrets).slice(0, 300)}`,
    { sink: req.sink, retriable: true, code: "network" },
  );
}

/** The retry options every sink accepts, old names included. */
export interface SinkRetryOptions {
  /** Retry policy (the shape the Prometheus client takes too). */
  retry?: RetryInput;
  /** @deprecated Use `retry: { limit }`. */
  retries?: number;
  /** @deprecated Use `retry: { maxWaitMs }`. */
  maxWaitMs?: number;
  /** @deprecated Use `retry: { delayMs }`. */
  backoffMs?: number;
}

/**
 * A sink's retry policy, resolved once: `retry` wins over the deprecated
 * `retries`/`maxWaitMs`/`backoffMs`; sink defaults are 2 retries, 500 ms base
 * delay and a 5 s budget of waiting (the outbox retries later).
 */
export function sinkRetry(options: SinkRetryOptions): NormalizedRetry {
  const old = { limit: options.retries, delayMs: options.backoffMs, maxWaitMs: options.maxWaitMs };
  const given = options.retry === undefined
    ? old
    : typeof options.retry === "object"
    ? { ...old, ...options.retry }
    : options.retry;
  return normalizeRetry(given, { delayMs: 500, maxWaitMs: 5_000 });
}

/**
 * Runs `attempt` with the shared retry loop, retrying only retriable
 * {@linkcode DeliveryError}s (with their `Retry-After`); a `Retry-After`
 * longer than the remaining budget is not waited for: the error is rethrown
 * for the outbox to retry at the next evaluation.
 */
export function withRetry<T>(
  attempt: () => Promise<T>,
  options: NormalizedRetry & { signal?: AbortSignal },
): Promise<T> {
  return retry(attempt, {
    ...options,
    classify: (error) =>
      error instanceof DeliveryError && error.retriable
        ? {
          retriable: true,
          retryAfterMs: error.retryAfter === undefined ? undefined : error.retryAfter * 1000,
        }
        : { retriable: false },
  });
}

/**
 * The error for an HTTP status: retriable as {@linkcode isRetriableStatus}
 * says (with `Retry-After` when given), not retriable otherwise. The message names the
 * receiver's code and the status, e.g. `Slack rejected the message:
 * no_service (404)`; everything is redacted.
 */
export function statusError(
  res: HttpResponse,
  init: { sink: string; receiver: string; secrets: readonly string[]; code?: string },
): DeliveryError {
  const retryAfter = parseRetryAfter(res.headers.get("retry-after"));
  const retriable = isRetriableStatus(res.status, retryAfter !== undefined);
  const code = redact((init.code ?? "").slice(0, 200), init.secrets) || undefined;
  const what = retriable
    ? `${init.receiver} is unavailable`
    : `${init.receiver} rejected the message`;
  const detail = code === undefined ? `HTTP ${res.status}` : `${code} (${res.status})`;
  return new DeliveryError(`${what}: ${detail}`, {
    sink: init.sink,
    retriable,
    code,
    status: res.status,
    retryAfter,
  });
}
