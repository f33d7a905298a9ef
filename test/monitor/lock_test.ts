import assert from "node:assert/strict";
import { acquireLock, LockError } from "../../lib/monitor/lock.ts";
import { runMonitor, startMonitor } from "../support/monitor_process.ts";

const HOLDER = new URL("../support/lock_holder.ts", import.meta.url).pathname;

/** Start `lock_holder.ts`; resolves with its first stdout line and the child. */
async function holder(
  path: string,
  mode: "hold" | "churn",
): Promise<{ child: Deno.ChildProcess; first: string; exited: Promise<Deno.CommandStatus> }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-check", HOLDER, path, mode],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  // Keep draining so a chatty child never blocks on a full pipe.
  (async () => {
    while (!(await reader.read()).done) { /* drain */ }
  })().catch(() => {});
  return { child, first: text.split("\n")[0], exited: child.status };
}

/** A small seeded generator (mulberry32), so a failing run can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

Deno.test("acquireLock: writes the pid, refuses a second holder, releases", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/state.json.lock`;
    const lock = acquireLock(path);
    assert.equal(await Deno.readTextFile(path), `${Deno.pid}\n`);
    // flock is per open file: a second acquire in the same process is refused too.
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

Deno.test("acquireLock: a lock file nobody holds never blocks, whatever pid it names", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/state.json.lock`;
    for (
      const stale of [
        "1\n", // `echo 1 > S.json.lock`: pid 1 is alive (init, or the container's own process)
        `${Deno.pid}\n`, // a lock from before a reboot that happens to name our pid (PID 1 in a container)
        `${Deno.ppid}\n`, // a live process that does not hold the lock
        "999999999\n", // no such process (after kill -9 of the previous monitor)
        "not a pid\n",
        "",
      ]
    ) {
      await Deno.writeTextFile(path, stale);
      const lock = acquireLock(path);
      assert.equal(await Deno.readTextFile(path), `${Deno.pid}\n`, JSON.stringify(stale));
      lock.release();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("acquireLock: another process holds it until it dies, even by kill -9", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/state.json.lock`;
    const a = await holder(path, "hold");
    try {
      assert.equal(a.first, "locked");
      assert.throws(
        () => acquireLock(path),
        (e: unknown) => e instanceof LockError && e.pid === a.child.pid,
      );
      // A second process is refused too, and told who holds it.
      const b = await holder(path, "hold");
      assert.equal(b.first, `busy ${a.child.pid}`);
      assert.equal((await b.exited).code, 3);
    } finally {
      a.child.kill("SIGKILL");
      await a.exited;
    }
    // The file is still there with the dead holder's pid, and blocks nobody.
    assert.equal(await Deno.readTextFile(path), `${a.child.pid}\n`);
    using lock = acquireLock(path);
    assert.equal(lock.path, path);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("acquireLock fuzz: kill -9 at random points, the next process always acquires", async () => {
  const seed = Number(Deno.env.get("LOCK_FUZZ_SEED") ?? 20261201);
  const rounds = Number(Deno.env.get("LOCK_FUZZ_ROUNDS") ?? 20);
  const next = random(seed);
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/state.json.lock`;
    for (let round = 0; round < rounds; round++) {
      // Each process takes the lock once (it must get it), then releases and
      // retakes it in a loop; it is killed 0-60 ms later, anywhere in that loop.
      const p = await holder(path, "churn");
      assert.equal(p.first, "locked", `seed ${seed}, round ${round}: ${p.first}`);
      await new Promise((r) => setTimeout(r, Math.floor(next() * 60)));
      p.child.kill("SIGKILL");
      const status = await p.exited;
      assert.equal(status.signal, "SIGKILL");
    }
    // And this process too, after the last kill.
    using lock = acquireLock(path);
    assert.equal(await Deno.readTextFile(path), `${Deno.pid}\n`);
    assert.equal(lock.path, path);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("monitor CLI: one monitor per state file; a stale lock file never blocks", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const state = `${dir}/state.json`;
    // Nothing listens on port 1: evaluations fail, the loop keeps running (and holding the lock).
    const args = ["--prometheus-url", "http://127.0.0.1:1", "--interval", "1h", "--state", state];
    // A lock file naming a live pid (1) nobody holds: as after a reboot, or in a container.
    await Deno.writeTextFile(`${state}.lock`, "1\n");
    const a = startMonitor(args);
    try {
      await a.waitFor(/event=evaluation /);
      assert.equal(await Deno.readTextFile(`${state}.lock`), `${a.child.pid}\n`);
      const b = await runMonitor([...args, "--once"]);
      assert.equal(b.code, 2);
      assert.equal(
        b.stderr,
        `opsbook monitor: Another monitor is running (pid ${a.child.pid}) with this state file: ` +
          `stop it or use another --state (lock file ${state}.lock)\n`,
      );
    } finally {
      await a.kill(); // SIGKILL: the lock file stays behind
    }
    assert.equal(await Deno.readTextFile(`${state}.lock`), `${a.child.pid}\n`);
    const c = await runMonitor([...args, "--once"]);
    assert.equal(c.code, 1, c.stderr); // the evaluation failed; the lock was taken
    assert.ok(!c.stderr.includes("Another monitor"), c.stderr);
    await assert.rejects(Deno.stat(`${state}.lock`), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
