/**
 * Internal HTTP helpers of the sinks: one request with a timeout and
 * redaction of every secret in every error, and a bounded retry loop that
 * honours `Retry-After`. Not exported from `lib/mod.ts`.
 *
 * @module
 */

import { redactText } from "../errors.ts";
import { describeFetchError } from "./net.ts";
import { DeliveryError } from "../alert/types.ts";

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

/** Redacts every secret, plus anything that looks like a credential, from `text`. */
export function redact(text: string, secrets: readonly string[]): string {
  return redactText(text, secrets.filter((s) => s.length > 0));
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

/**
 * Parses a `Retry-After` header (seconds or an HTTP date) into seconds, or
 * `undefined` when absent or malformed.
 */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - now) / 1000));
}

/** Options of {@linkcode withRetry}. */
export interface RetryOptions {
  /** Retries after the first attempt. */
  retries: number;
  /** Total time the loop may spend waiting between attempts. */
  maxWaitMs: number;
  /** First backoff delay; doubles each retry, with full jitter. */
  backoffMs: number;
  /** Caller's abort signal: stops waiting. */
  signal?: AbortSignal;
}

/**
 * Runs `attempt` until it succeeds, it throws a non-retriable error, the
 * retries are used up, or the next wait would exceed the `maxWaitMs` budget;
 * then rethrows the last error. A `Retry-After` longer than the remaining
 * budget is not waited for: the error is rethrown for the outbox to retry at
 * the next evaluation.
 */
export async function withRetry<T>(
  attempt: () => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  let waited = 0;
  for (let i = 0;; i++) {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof DeliveryError) || !error.retriable || i >= options.retries) {
        throw error;
      }
      const delay = error.retryAfter !== undefined
        ? error.retryAfter * 1000
        : Math.round(Math.random() * options.backoffMs * 2 ** i);
      if (waited + delay > options.maxWaitMs || options.signal?.aborted) throw error;
      waited += delay;
      await sleep(delay, options.signal);
    }
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

/**
 * The error for an HTTP status: retriable for 408, 429 and 5xx (with
 * `Retry-After` when given), not retriable otherwise. The message names the
 * receiver's code and the status, e.g. `Slack rejected the message:
 * no_service (404)`; everything is redacted.
 */
export function statusError(
  res: HttpResponse,
  init: { sink: string; receiver: string; secrets: readonly string[]; code?: string },
): DeliveryError {
  const retriable = res.status === 408 || res.status === 429 || res.status >= 500;
  const code = redact((init.code ?? "").slice(0, 200), init.secrets) || undefined;
  const retryAfter = res.status === 429 || res.status === 503
    ? parseRetryAfter(res.headers.get("retry-after"))
    : undefined;
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

/** Keeps `text` within `max` characters, ending with `…` when cut. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  return text.slice(0, Math.max(0, max - 1)) + "…";
}
