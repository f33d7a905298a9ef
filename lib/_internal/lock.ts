/**
 * The single-instance lock of the monitor and of an `Alerter` given a lock
 * path (kept here so the alert stage does not import the monitor): an
 * exclusive `flock(2)` on an open file kept for the life of the process, so a
 * second monitor with the same state file refuses to start instead of
 * double-alerting. The kernel releases
 * the lock when the process dies, however it dies (`kill -9`, a crash, a
 * reboot, a container restart), so a lock file left behind never blocks: only
 * a process that holds the lock does. The file holds the holder's pid, for
 * the message only.
 *
 * @module
 */

import { OpsbookError } from "../errors.ts";

/**
 * Another live process holds the lock.
 *
 * @example A second holder is refused
 * ```ts
 * import { acquireLock, LockError } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile();
 * using _lock = acquireLock(path);
 * try {
 *   acquireLock(path); // this process already holds it
 *   assert.fail("expected a LockError");
 * } catch (e) {
 *   assert.ok(e instanceof LockError);
 *   assert.equal(e.path, path);
 *   assert.equal(e.pid, Deno.pid);
 * }
 * ```
 */
export class LockError extends OpsbookError {
  /** The lock file. */
  readonly path: string;
  /** The process id holding it, as it wrote it into the file (`NaN` when unknown). */
  readonly pid: number;

  /** Create the error for a lock path and the holder's pid. */
  constructor(path: string, pid: number) {
    super(
      `Another monitor (pid ${Number.isNaN(pid) ? "unknown" : pid}) holds the lock: ${path}`,
    );
    this.name = "LockError";
    this.path = path;
    this.pid = pid;
  }
}

/**
 * A held lock; release it (or let `using` do it) when done.
 *
 * @example
 * ```ts
 * import { acquireLock, type FileLock } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile();
 * const lock: FileLock = acquireLock(path);
 * assert.equal(lock.path, path);
 * lock.release(); // or `using lock = acquireLock(path)`
 * ```
 */
export interface FileLock extends Disposable {
  /** The lock file path. */
  path: string;
  /** Release the lock and remove the lock file (the kernel releases it anyway when the process exits). */
  release(): void;
}

function readPid(file: Deno.FsFile): number {
  try {
    const buf = new Uint8Array(32);
    file.seekSync(0, Deno.SeekMode.Start);
    const n = file.readSync(buf) ?? 0;
    const text = new TextDecoder().decode(buf.subarray(0, n)).trim();
    return /^\d+$/.test(text) ? Number(text) : NaN;
  } catch {
    return NaN;
  }
}

function sameFile(file: Deno.FsFile, path: string): boolean {
  try {
    const a = file.statSync();
    const b = Deno.statSync(path);
    return a.ino === b.ino && a.dev === b.dev;
  } catch {
    return false;
  }
}

/**
 * Take the lock file `path`: an exclusive `flock` on it, held until
 * {@linkcode FileLock.release} or the end of the process, and this
 * process' pid written into it. Throws a {@linkcode LockError} naming the
 * holder's pid when another open file holds the lock (another process, or
 * another `acquireLock` of this one). What the file contains does not
 * matter: a lock file left by a dead process, a pid reused after a reboot,
 * or this very pid (a container's PID 1) never blocks.
 *
 * @example
 * ```ts
 * import { acquireLock, LockError } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "1\n"); // a stale lock naming a live pid
 * using lock = acquireLock(path);
 * assert.throws(() => acquireLock(path), LockError);
 * ```
 */
export function acquireLock(path: string): FileLock {
  // The inode check catches a holder that removed the file between our open
  // and our flock (we would then hold a lock on a file nobody else can see).
  for (;;) {
    const file = Deno.openSync(path, { read: true, write: true, create: true, mode: 0o644 });
    let locked = false;
    try {
      locked = file.tryLockSync(true);
    } catch (error) {
      file.close();
      throw error;
    }
    if (!locked) {
      const pid = readPid(file);
      file.close();
      throw new LockError(path, pid);
    }
    if (!sameFile(file, path)) {
      file.close();
      continue;
    }
    file.truncateSync(0);
    file.seekSync(0, Deno.SeekMode.Start);
    file.writeSync(new TextEncoder().encode(`${Deno.pid}\n`));
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      // Remove while still holding the lock, so nobody locks the old inode in between.
      try {
        if (sameFile(file, path)) Deno.removeSync(path);
      } catch { /* already gone */ }
      try {
        file.close();
      } catch { /* already closed */ }
    };
    return { path, release, [Symbol.dispose]: release };
  }
}
