/**
 * Runs `scripts/monitor.ts` as a child process for the monitor tests and
 * follows its log lines.
 *
 * @module
 */

/** A running monitor process. */
export interface MonitorProcess extends AsyncDisposable {
  /** The child. */
  child: Deno.ChildProcess;
  /** Stdout lines so far. */
  lines: string[];
  /** Stderr text so far. */
  stderr(): string;
  /** Resolves with the first stdout line (past or future) matching `re`. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with the exit status. */
  status: Promise<Deno.CommandStatus>;
  /** Kill (SIGKILL) if still running and wait. */
  kill(): Promise<void>;
}

const SCRIPT = new URL("../../scripts/monitor.ts", import.meta.url).pathname;

function baseEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of ["PATH", "HOME", "DENO_DIR", "XDG_CACHE_HOME", "TMPDIR", "LANG"]) {
    const v = Deno.env.get(k);
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/** Options of {@linkcode startMonitor} and {@linkcode runMonitor}. */
export interface MonitorProcessOptions {
  /**
   * A command the monitor runs under, e.g. `["unshare", "-Urpf",
   * "--kill-child", "--mount-proc"]` to run it as PID 1 of a new PID
   * namespace (a container).
   */
  wrap?: string[];
}

/** Start the monitor with `args` and extra environment variables. */
export function startMonitor(
  args: string[],
  env: Record<string, string> = {},
  options: MonitorProcessOptions = {},
): MonitorProcess {
  const argv = [Deno.execPath(), "run", "-A", "--no-check", SCRIPT, ...args];
  const [command, ...rest] = [...(options.wrap ?? []), ...argv];
  const child = new Deno.Command(command, {
    args: rest,
    env: { ...baseEnv(), NO_COLOR: "1", ...env },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  let err = "";
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  const pump = (async () => {
    let buf = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      buf += chunk;
      let i;
      while ((i = buf.indexOf("\n")) !== -1) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        lines.push(line);
        for (const w of [...waiters]) {
          if (w.re.test(line)) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(line);
          }
        }
      }
    }
  })();
  const pumpErr = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) err += chunk;
  })();
  const status = child.status.then(async (s) => {
    await Promise.all([pump, pumpErr]).catch(() => {});
    return s;
  });
  let exited = false;
  status.then(() => exited = true);
  const kill = async () => {
    if (!exited) {
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
    }
    await status;
  };
  return {
    child,
    lines,
    stderr: () => err,
    status,
    kill,
    [Symbol.asyncDispose]: kill,
    waitFor(re, timeoutMs = 30_000) {
      const found = lines.find((l) => re.test(l));
      if (found !== undefined) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(
            new Error(
              `No log line matched ${re} within ${timeoutMs} ms:\n${
                lines.slice(-20).join("\n")
              }\n${err}`,
            ),
          );
        }, timeoutMs);
        const w = {
          re,
          resolve: (l: string) => {
            clearTimeout(timer);
            resolve(l);
          },
        };
        waiters.push(w);
        status.then(() => {
          if (waiters.includes(w)) {
            clearTimeout(timer);
            waiters.splice(waiters.indexOf(w), 1);
            reject(
              new Error(
                `Monitor exited before a line matched ${re}:\n${
                  lines.slice(-20).join("\n")
                }\n${err}`,
              ),
            );
          }
        });
      });
    },
  };
}

/** Run the monitor to completion; returns exit code, stdout lines and stderr. */
export async function runMonitor(
  args: string[],
  env: Record<string, string> = {},
  options: MonitorProcessOptions = {},
): Promise<{ code: number; lines: string[]; stderr: string }> {
  const p = startMonitor(args, env, options);
  const s = await p.status;
  return { code: s.code, lines: p.lines, stderr: p.stderr() };
}
