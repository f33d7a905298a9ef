import assert from "node:assert/strict";
import { delay } from "../../lib/_internal/delay.ts";

Deno.test("delay waits about the given time", async () => {
  const t0 = performance.now();
  await delay(50);
  assert.ok(performance.now() - t0 >= 45);
});

Deno.test("delay resolves early on abort and at once when already aborted", async () => {
  const abort = new AbortController();
  const t0 = performance.now();
  setTimeout(() => abort.abort(), 20);
  await delay(60_000, abort.signal);
  assert.ok(performance.now() - t0 < 2_000);
  const t1 = performance.now();
  await delay(60_000, abort.signal);
  assert.ok(performance.now() - t1 < 100);
});

Deno.test("delay leaves no timer or listener behind (the test sanitizers check)", async () => {
  const abort = new AbortController();
  await delay(1, abort.signal);
  await delay(0);
  await delay(-5);
});
