/**
 * Internal: the one abortable delay of opsbook.
 *
 * @module
 */

/**
 * Resolves after `ms` milliseconds, or as soon as `signal` aborts (at once
 * when it already has). It never rejects: callers check `signal.aborted`
 * afterwards, which keeps loops that stop on a signal simple.
 *
 * @example Wait, but stop waiting on abort
 * ```ts
 * import { delay } from "./delay.ts";
 * import assert from "node:assert/strict";
 *
 * const abort = new AbortController();
 * const started = performance.now();
 * setTimeout(() => abort.abort(), 10);
 * await delay(10_000, abort.signal);
 * assert.ok(performance.now() - started < 5_000);
 * ```
 */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted || !(ms > 0)) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
