/**
 * A process that takes the monitor's lock, for the lock tests:
 * `deno run -A lock_holder.ts PATH hold|churn`. It prints `locked` once it
 * holds the lock (or `busy <pid>` and exits 3 when another process holds it),
 * then either holds it until killed (`hold`) or releases and retakes it in a
 * loop (`churn`), so a `kill -9` can land anywhere in `acquireLock` and
 * `release`.
 *
 * @module
 */
import { acquireLock, LockError } from "../../lib/monitor/lock.ts";

const [path, mode] = Deno.args;
let lock;
try {
  lock = acquireLock(path);
} catch (error) {
  if (!(error instanceof LockError)) throw error;
  console.log(`busy ${error.pid}`);
  Deno.exit(3);
}
console.log("locked");
if (mode === "churn") {
  for (;;) {
    lock.release();
    lock = acquireLock(path);
  }
} else {
  setInterval(() => {}, 1 << 30);
}
