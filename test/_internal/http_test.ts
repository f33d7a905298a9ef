import assert from "node:assert/strict";
import {
  isRetriableStatus,
  normalizeRetry,
  parseRetryAfter,
  retry,
} from "../../lib/_internal/http.ts";

Deno.test("normalizeRetry resolves numbers, false, defaults and overrides once", () => {
  assert.deepEqual(normalizeRetry(undefined), {
    limit: 2,
    delayMs: 300,
    backoffLimitMs: 10_000,
    jitter: true,
    maxRetryAfterMs: 60_000,
    maxWaitMs: Infinity,
  });
  assert.equal(normalizeRetry(false).limit, 0);
  assert.equal(normalizeRetry(4).limit, 4);
  const sink = normalizeRetry({ limit: 1, delayMs: undefined }, { delayMs: 500, maxWaitMs: 5000 });
  assert.deepEqual([sink.limit, sink.delayMs, sink.maxWaitMs], [1, 500, 5000]);
  assert.throws(() => normalizeRetry(-1), {
    name: "RangeError",
    message: "Invalid retry limit: expected a non-negative integer, got -1",
  });
  assert.throws(() => normalizeRetry({ delayMs: -1 }), RangeError);
});

Deno.test("only known-retriable statuses are retried; 413 only with Retry-After", () => {
  const statuses = [400, 401, 403, 404, 405, 408, 413, 422, 429, 500, 501, 502, 503, 504, 505];
  assert.deepEqual(statuses.filter((s) => isRetriableStatus(s)), [408, 429, 500, 502, 503, 504]);
  assert.equal(isRetriableStatus(413, true), true);
});

Deno.test("parseRetryAfter reads seconds and HTTP dates", () => {
  assert.equal(parseRetryAfter("2"), 2);
  assert.equal(parseRetryAfter(" 1.5 "), 1.5);
  assert.equal(parseRetryAfter(null), undefined);
  assert.equal(parseRetryAfter("later"), undefined);
  const now = Date.parse("2026-12-01T00:00:00Z");
  assert.equal(parseRetryAfter("Tue, 01 Dec 2026 00:00:30 GMT", now), 30);
  assert.equal(parseRetryAfter("Tue, 01 Dec 2026 00:00:00 GMT", now + 5000), 0);
});

function failing(times: number, error: unknown = new Error("flaky")) {
  let calls = 0;
  return {
    get calls() {
      return calls;
    },
    fn: () => {
      calls++;
      return calls <= times ? Promise.reject(error) : Promise.resolve(`ok after ${calls}`);
    },
  };
}

const fast = normalizeRetry({ delayMs: 1, jitter: false });
const always = () => ({ retriable: true });

Deno.test("retry retries up to the limit, then rethrows the last error", async () => {
  const ok = failing(2);
  assert.equal(await retry(ok.fn, { ...fast, classify: always }), "ok after 3");
  const spent = failing(5);
  await assert.rejects(() => retry(spent.fn, { ...fast, classify: always }), { message: "flaky" });
  assert.equal(spent.calls, 3);
});

Deno.test("retry never retries what classify calls final", async () => {
  const final = failing(5);
  await assert.rejects(() => retry(final.fn, { ...fast, classify: () => ({ retriable: false }) }));
  assert.equal(final.calls, 1);
});

Deno.test("retry backs off exponentially, capped by backoffLimitMs", async () => {
  const waits: number[] = [];
  let last = performance.now();
  const run = failing(3);
  await retry(() => {
    const now = performance.now();
    waits.push(now - last);
    last = now;
    return run.fn();
  }, {
    ...normalizeRetry({ limit: 3, delayMs: 40, backoffLimitMs: 100, jitter: false }),
    classify: always,
  });
  // waits before retries 1, 2, 3: 40, 80, min(160, 100) ms
  assert.ok(waits[1] >= 35 && waits[1] < 75, `first wait ${waits[1]}`);
  assert.ok(waits[2] >= 75 && waits[2] < 150, `second wait ${waits[2]}`);
  assert.ok(waits[3] >= 95 && waits[3] < 150, `third wait ${waits[3]}`);
});

Deno.test("retry honours Retry-After, capped by maxRetryAfterMs", async () => {
  const run = failing(1);
  const t0 = performance.now();
  await retry(run.fn, {
    ...normalizeRetry({ delayMs: 1, jitter: false }),
    classify: () => ({ retriable: true, retryAfterMs: 150 }),
  });
  assert.ok(performance.now() - t0 >= 145);
  const capped = failing(1);
  const t1 = performance.now();
  await retry(capped.fn, {
    ...normalizeRetry({ delayMs: 1, maxRetryAfterMs: 10 }),
    classify: () => ({ retriable: true, retryAfterMs: 60_000 }),
  });
  assert.ok(performance.now() - t1 < 1_000);
});

Deno.test("retry does not make a wait beyond the maxWaitMs budget", async () => {
  const run = failing(5);
  const t0 = performance.now();
  await assert.rejects(() =>
    retry(run.fn, {
      ...normalizeRetry({ limit: 5, maxWaitMs: 1_000 }),
      classify: () => ({ retriable: true, retryAfterMs: 30_000 }),
    })
  );
  assert.equal(run.calls, 1);
  assert.ok(performance.now() - t0 < 500);
});

Deno.test("retry stops waiting when the signal aborts", async () => {
  const abort = new AbortController();
  const run = failing(5);
  setTimeout(() => abort.abort(), 20);
  const t0 = performance.now();
  await assert.rejects(
    () =>
      retry(() => abort.signal.aborted ? Promise.reject(new Error("aborted")) : run.fn(), {
        ...normalizeRetry({ limit: 5, delayMs: 10_000, jitter: false }),
        classify: always,
        signal: abort.signal,
      }),
    { message: "aborted" },
  );
  assert.ok(performance.now() - t0 < 2_000);
});
