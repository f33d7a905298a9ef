/**
 * A pid lock file, so a second monitor with the same state file refuses to
 * start instead of double-alerting. A lock left by a dead process (after
 * `kill -9` or a crash) is taken over.
 *
 * @module
 */

/** Another live process holds the lock. */
export class LockError extends Error {
  /** The lock file. */
  readonly path: string;
  /** The process id holding it. */
  readonly pid: number;

  /** Create the error for a lock path and the holder's pid. */
  constructor(path: string, pid: number) {
    super(`Another monitor (pid ${pid}) holds the lock: ${path}`);
    this.name = "LockError";
    this.path = path;
    this.pid = pid;
  }
}

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === Deno.pid) return true;
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // A zombie (state Z) is as good as dead.
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/** A held lock; release it (or let `using` do it) when done. */
export interface FileLock extends Disposable {
  /** The lock file path. */
  path: string;
  /** Remove the lock file if it is still ours. */
  release(): void;
}

/**
 * Take the lock file `path`, writing this process' pid into it. Throws a
 * {@linkcode LockError} when a live process holds it; a stale lock (its
 * process is gone) is replaced.
 *
 * @example
 * ```ts
 * import { acquireLock, LockError } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile();
 * await Deno.remove(path);
 * using lock = acquireLock(path);
 * assert.throws(() => acquireLock(path), LockError);
 * ```
 */
export function acquireLock(path: string): FileLock {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const file = Deno.openSync(path, { write: true, createNew: true });
      file.writeSync(new TextEncoder().encode(`${Deno.pid}\n`));
      file.close();
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        try {
          if (Number(Deno.readTextFileSync(path).trim()) === Deno.pid) Deno.removeSync(path);
        } catch { /* already gone */ }
      };
      return { path, release, [Symbol.dispose]: release };
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    }
    let pid = NaN;
    try {
      pid = Number(Deno.readTextFileSync(path).trim());
    } catch { /* vanished: retry */ }
    if (alive(pid)) throw new LockError(path, pid);
    try {
      Deno.removeSync(path);
    } catch { /* someone else removed it */ }
  }
  throw new LockError(path, NaN);
}
