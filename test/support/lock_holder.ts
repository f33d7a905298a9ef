/**
 * A process that takes the monitor's lock, for the lock tests:
 * `deno run -A lock_holder.ts PATH hold|churn|alerter`. It prints `locked`
 * once it holds the lock (or `busy <pid>` and exits 3 when another process
 * holds it), then either holds it until killed (`hold`) or releases and
 * retakes it in a loop (`churn`), so a `kill -9` can land anywhere in
 * `acquireLock` and `release`.
 *
 * `alerter` treats PATH as an alert state file and runs the real
 * `Alerter` on it in a loop (its lock `PATH.alerter.lock` taken and released
 * around each load → update → outbox → save, hosts firing and resolving,
 * a dry-run sink delivering), printing `ready` after the first evaluation,
 * so a `kill -9` lands anywhere in an evaluation, a write included.
 *
 * @module
 */
import { acquireLock, type FileLock, LockError } from "../../lib/_internal/lock.ts";
import { Alerter } from "../../lib/alert/alerter.ts";
import { DryRunSink } from "../../lib/alert/sinks/dry_run.ts";
import { alert } from "./alerts.ts";

const [path, mode] = Deno.args;
let ready = false;

if (mode === "alerter") {
  const alerter = new Alerter({
    statePath: path,
    sinks: [new DryRunSink({ write: () => {} })],
    repeatInterval: "1m",
  });
  const start = Date.UTC(2026, 10, 1, 10);
  // Continue after the saved state, so every evaluation changes something.
  let minute = Math.max(0, (Date.parse((await alerter.state()).updatedAt) - start) / 60_000 + 1);
  for (;;) {
    const hosts = Array.from(
      { length: 1 + (minute % 7) * 3 },
      (_, i) => `host-${(minute + i) % 11}`,
    );
    await alerter.evaluate(hosts.map((h) => alert(h, { value: 80 + (minute % 20) })), {
      now: new Date(start + minute * 60_000),
    });
    minute++;
    if (!ready) console.log("ready");
    ready = true;
  }
}

let lock: FileLock;
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
