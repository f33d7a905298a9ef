/**
 * Internal: the one retry shape of opsbook's HTTP calls (the Prometheus
 * client and every sink). One options type ({@linkcode RetryOptions}), one
 * loop ({@linkcode retry}) that backs off exponentially with full jitter,
 * honours `Retry-After`, and only retries what a later attempt can fix:
 * network failures and the statuses of {@linkcode isRetriableStatus}.
 *
 * @module
 */

import { redactText } from "../errors.ts";
import { delay } from "./delay.ts";

/**
 * Retry policy of an HTTP client or sink. Only known-retriable failures are
 * retried: network errors, 408, 429, 500, 502, 503, 504, and 413 when the
 * server sends `Retry-After`.
 *
 * @example Retry a flaky server a little longer
 * ```ts
 * import { PrometheusClient, type RetryOptions } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const retry: RetryOptions = { limit: 4, delayMs: 500, maxWaitMs: 10_000 };
 * const prom = new PrometheusClient({ url: "http://prom:9090", retry });
 * assert.equal(prom.url, "http://prom:9090/");
 * ```
 */
export interface RetryOptions {
  /** Retries after the first attempt. @default {2} */
  limit?: number;
  /** Base delay; retry n waits up to `delayMs * 2 ** (n - 1)` (full jitter). @default {300 for Prometheus, 500 for sinks} */
  delayMs?: number;
  /** Upper bound of one backoff delay. @default {10000} */
  backoffLimitMs?: number;
  /** Full jitter: wait a random time between 0 and the backoff delay. @default {true} */
  jitter?: boolean;
  /** Upper bound for a server's `Retry-After` (it is waited for at most this long). @default {60000} */
  maxRetryAfterMs?: number;
  /**
   * Total time all waits of one call may add up to; a wait that would exceed
   * it is not made and the last error is thrown (sinks: the outbox retries
   * at the next evaluation). @default {Infinity for Prometheus, 5000 for sinks}
   */
  maxWaitMs?: number;
}

/** A retry policy: the options, a number (the limit), or `false` (one attempt). */
export type RetryInput = RetryOptions | number | false;

/** {@linkcode RetryOptions} with every default resolved. */
export type NormalizedRetry = Required<RetryOptions>;

/** How {@linkcode retry} should treat one failure. */
export interface RetryDecision {
  /** Whether a later attempt may succeed. */
  retriable: boolean;
  /** The server's `Retry-After`, in milliseconds. */
  retryAfterMs?: number;
}

const DEFAULTS: NormalizedRetry = {
  limit: 2,
  delayMs: 300,
  backoffLimitMs: 10_000,
  jitter: true,
  maxRetryAfterMs: 60_000,
  maxWaitMs: Infinity,
};

/**
 * Resolves a {@linkcode RetryInput} against `defaults` once (a number is the
 * limit, `false` is no retry); throws a RangeError for a bad value.
 *
 * @example
 * ```ts
 * import { normalizeRetry } from "./http.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(normalizeRetry(false).limit, 0);
 * assert.equal(normalizeRetry(5).limit, 5);
 * assert.equal(normalizeRetry({}, { delayMs: 500 }).delayMs, 500);
 * ```
 */
export function normalizeRetry(
  input: RetryInput | undefined,
  defaults: RetryOptions = {},
): NormalizedRetry {
  const given: RetryOptions = input === false
    ? { limit: 0 }
    : typeof input === "number"
    ? { limit: input }
    : input ?? {};
  const all = { ...DEFAULTS, ...stripUndefined(defaults), ...stripUndefined(given) };
  if (!Number.isInteger(all.limit) || all.limit < 0) {
    throw new RangeError(
      `Invalid retry limit: expected a non-negative integer, got ${all.limit}`,
    );
  }
  for (const key of ["delayMs", "backoffLimitMs", "maxRetryAfterMs", "maxWaitMs"] as const) {
    if (!(all[key] >= 0)) {
      throw new RangeError(`Invalid retry ${key}: expected a non-negative number, got ${all[key]}`);
    }
  }
  return all;
}

function stripUndefined(o: RetryOptions): RetryOptions {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

/**
 * Whether an HTTP status is worth retrying: 408, 429, 500, 502, 503, 504, and
 * 413 only when the server said when to come back (`Retry-After`).
 *
 * @example
 * ```ts
 * import { isRetriableStatus } from "./http.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual([400, 408, 429, 501, 503].map((s) => isRetriableStatus(s)), [
 *   false, true, true, false, true,
 * ]);
 * assert.equal(isRetriableStatus(413, true), true);
 * ```
 */
export function isRetriableStatus(status: number, hasRetryAfter = false): boolean {
  if (status === 413) return hasRetryAfter;
  return status === 408 || status === 429 || status === 500 || status === 502 ||
    status === 503 || status === 504;
}

/**
 * Parses a `Retry-After` header (seconds or an HTTP date) into seconds, or
 * `undefined` when absent or malformed.
 *
 * @example
 * ```ts
 * import { parseRetryAfter } from "./http.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseRetryAfter("3"), 3);
 * assert.equal(parseRetryAfter("soon"), undefined);
 * ```
 */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - now) / 1000));
}

/**
 * Runs `attempt` until it succeeds, `classify` says its error is not
 * retriable, the retries are used up, `signal` aborts, or the next wait would
 * exceed `maxWaitMs`; then rethrows the last error. The wait before retry n is
 * the server's `Retry-After` (at most `maxRetryAfterMs`) when given, else
 * `min(backoffLimitMs, delayMs * 2 ** (n - 1))`, times a random factor in
 * [0, 1) with `jitter`.
 *
 * @example Retry a flaky call twice
 * ```ts
 * import { normalizeRetry, retry } from "./http.ts";
 * import assert from "node:assert/strict";
 *
 * let calls = 0;
 * const value = await retry(async () => {
 *   if (++calls < 3) throw new Error("flaky");
 *   return "ok";
 * }, { ...normalizeRetry({ delayMs: 1 }), classify: () => ({ retriable: true }) });
 * assert.equal(value, "ok");
 * assert.equal(calls, 3);
 * ```
 */
export async function retry<T>(
  attempt: (attempt: number) => Promise<T>,
  options: NormalizedRetry & {
    classify: (error: unknown) => RetryDecision;
    signal?: AbortSignal;
  },
): Promise<T> {
  let waited = 0;
  for (let i = 0;; i++) {
    try {
      return await attempt(i);
    } catch (error) {
      if (i >= options.limit || options.signal?.aborted) throw error;
      const decision = options.classify(error);
      if (!decision.retriable) throw error;
      let wait: number;
      if (decision.retryAfterMs !== undefined) {
        wait = Math.min(options.maxRetryAfterMs, decision.retryAfterMs);
      } else {
        wait = Math.min(options.backoffLimitMs, options.delayMs * 2 ** i);
        if (options.jitter) wait = Math.round(Math.random() * wait);
      }
      if (waited + wait > options.maxWaitMs) throw error;
      waited += wait;
      await delay(wait, options.signal);
    }
  }
}

/** Redacts every secret, plus anything that looks like a credential, from `text`. */
export function redact(text: string, secrets: readonly string[]): string {
  return redactText(text, secrets.filter((s) => s.length > 0));
}

/**
 * Keeps `text` within `max` characters (UTF-16 code units, what `length`
 * counts), ending with `…` when cut. Never cuts a surrogate pair in two (a
 * lone surrogate is not valid Unicode and receivers refuse it).
 */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = Math.max(0, max - 1);
  const last = text.charCodeAt(cut - 1);
  if (cut > 0 && last >= 0xd800 && last <= 0xdbff) cut--;
  return text.slice(0, cut) + "…";
}
