import assert from "node:assert/strict";
import { acquireLock, LockError } from "../../lib/_internal/lock.ts";
import { Alerter } from "../../lib/alert/alerter.ts";
import { runMonitor, startMonitor } from "../support/monitor_process.ts";

const HOLDER = new URL("../support/lock_holder.ts", import.meta.url).pathname;

/** Start `lock_holder.ts`; resolves with its first stdout line and the child. */
async function holder(
  path: string,
  mode: "hold" | "churn" | "alerter",
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

Deno.test("Alerter fuzz: kill -9 anywhere in an evaluation, the state and outbox stay readable and the lock free", async () => {
  const seed = Number(Deno.env.get("LOCK_FUZZ_SEED") ?? 20261201);
  const rounds = Number(Deno.env.get("LOCK_FUZZ_ROUNDS") ?? 20);
  const next = random(seed + 1);
  const dir = await Deno.makeTempDir();
  try {
    const state = `${dir}/alerts.json`;
    let updatedAt = new Date(0).toISOString();
    for (let round = 0; round < rounds; round++) {
      // Each process evaluates in a loop (lock, load, update, outbox, save, deliver, release)
      // and is killed 0-60 ms after its first evaluation, anywhere in one.
      const p = await holder(state, "alerter");
      assert.equal(p.first, "ready", `seed ${seed}, round ${round}: ${p.first}`);
      await new Promise((r) => setTimeout(r, Math.floor(next() * 60)));
      p.child.kill("SIGKILL");
      assert.equal((await p.exited).signal, "SIGKILL");
      // What the next start does: load both files (a corrupt one would throw) and take the lock.
      const alerter = new Alerter({ statePath: state, sinks: [] });
      const loaded = await alerter.state();
      await alerter.outbox();
      assert.ok(loaded.updatedAt > updatedAt, `round ${round}: the state moved on`);
      updatedAt = loaded.updatedAt;
      using lock = acquireLock(`${state}.alerter.lock`);
      assert.equal(lock.path, `${state}.alerter.lock`);
      // No temporary file of an interrupted write is mistaken for the state.
      for await (const e of Deno.readDir(dir)) {
        assert.ok(!e.name.endsWith(".json") || /^alerts(\.outbox)?\.json$/.test(e.name), e.name);
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** `unshare` can give a child its own PID namespace here (root, or user namespaces allowed). */
const PID_NAMESPACE = ["unshare", "-Urpf", "--kill-child", "--mount-proc"];
const noPidNamespace = await (async () => {
  try {
    const out = await new Deno.Command(PID_NAMESPACE[0], {
      args: [...PID_NAMESPACE.slice(1), Deno.execPath(), "eval", "console.log(Deno.pid)"],
      stdout: "piped",
      stderr: "null",
    }).output();
    return !(out.success && new TextDecoder().decode(out.stdout).trim() === "1");
  } catch {
    return true;
  }
})();

Deno.test({
  name:
    "monitor CLI as PID 1 (a container): its own pid in the lock file never blocks; another PID 1 holding it does",
  ignore: noPidNamespace,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const state = `${dir}/state.json`;
      const args = ["--prometheus-url", "http://127.0.0.1:1", "--interval", "1h", "--state", state];
      const wrap = { wrap: PID_NAMESPACE };
      // A container restarted with a persistent state folder: the old lock names pid 1, which
      // is alive and is the new monitor itself.
      await Deno.writeTextFile(`${state}.lock`, "1\n");
      const a = startMonitor(args, {}, wrap);
      try {
        await a.waitFor(/event=evaluation /);
        assert.equal(await Deno.readTextFile(`${state}.lock`), "1\n");
        // A second container on the same volume is PID 1 too: refused, exit 2.
        const b = await runMonitor([...args, "--once"], {}, wrap);
        assert.equal(b.code, 2);
        assert.equal(
          b.stderr,
          "opsbook monitor: Another monitor is running (pid 1) with this state file: " +
            `stop it or use another --state (lock file ${state}.lock)\n`,
        );
      } finally {
        await a.kill(); // SIGKILL to unshare, which kills the namespace's PID 1
      }
      // The first container is gone (kill -9): its lock file stays, naming pid 1, and blocks nobody.
      assert.equal(await Deno.readTextFile(`${state}.lock`), "1\n");
      const c = await runMonitor([...args, "--once"], {}, wrap);
      assert.equal(c.code, 1, c.stderr); // the evaluation failed; the lock was taken
      assert.ok(!c.stderr.includes("Another monitor"), c.stderr);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
