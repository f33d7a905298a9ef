import assert from "node:assert/strict";
import { acquireLock, LockError } from "../../lib/monitor/lock.ts";

Deno.test("acquireLock: writes the pid, refuses a second holder, releases", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/state.json.lock`;
    const lock = acquireLock(path);
    assert.equal(await Deno.readTextFile(path), `${Deno.pid}\n`);
    assert.throws(
      () => acquireLock(path),
      (e: unknown) =>
        e instanceof LockError && e.path === path && e.pid === Deno.pid &&
        e.message === `Another monitor (pid ${Deno.pid}) holds the lock: ${path}`,
    );
    lock.release();
    await assert.rejects(Deno.stat(path), Deno.errors.NotFound);
    lock.release(); // twice is harmless
    {
      using again = acquireLock(path);
      assert.equal(again.path, path);
    }
    await assert.rejects(Deno.stat(path), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("acquireLock: a stale or unreadable lock is taken over", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/state.json.lock`;
    // Above any pid_max: no such process (as after kill -9 of the previous monitor).
    for (const stale of ["999999999\n", "not a pid\n", ""]) {
      await Deno.writeTextFile(path, stale);
      const lock = acquireLock(path);
      assert.equal(await Deno.readTextFile(path), `${Deno.pid}\n`);
      lock.release();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("acquireLock: release leaves a lock that another process took over", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/state.json.lock`;
    const lock = acquireLock(path);
    await Deno.writeTextFile(path, "999999999\n");
    lock.release();
    assert.equal(await Deno.readTextFile(path), "999999999\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
