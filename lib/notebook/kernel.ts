/**
 * Start, talk to, interrupt and stop a Deno Jupyter kernel
 * (`deno jupyter --kernel --conn FILE`) without any Python or kernelspec.
 *
 * Nothing outlives its owner: the kernel starts in a process group of its own
 * through a small `sh` launcher ({@linkcode KERNEL_LAUNCHER}) that leaves a
 * watchdog behind; the watchdog reads a pipe from the owning process and,
 * when that pipe closes (the owner exited, even by `kill -9`), removes the
 * connection folder and kills the whole group, kernel and any process a cell
 * started. A normal shutdown kills the group too. The connection file holds
 * the HMAC key: it is removed as soon as the kernel has read it.
 *
 * @module
 */

import {
  createMessage,
  decodeJupyter,
  encodeJupyter,
  type JupyterMessage,
  Signer,
} from "./wire.ts";
import { ZmtpSocket } from "./zmtp.ts";
import { delay } from "../_internal/delay.ts";
import { OpsbookError } from "../errors.ts";

/**
 * Thrown when the kernel does not start within the start timeout or exits while starting.
 *
 * @example Tell a missing kernel from a failing cell
 * ```ts
 * import { KernelStartError, runNotebook } from "opsbook";
 *
 * // Exit code 3 when the kernel cannot start (e.g. deno missing from PATH).
 * export async function run(path: string): Promise<number> {
 *   try {
 *     await runNotebook(path);
 *     return 0;
 *   } catch (e) {
 *     if (e instanceof KernelStartError) return 3;
 *     throw e;
 *   }
 * }
 * ```
 */
export class KernelStartError extends OpsbookError {
  /** Creates a kernel start error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "KernelStartError";
  }
}

/**
 * Thrown when the kernel process exits while a request is pending.
 *
 * @example
 * ```ts
 * import { KernelDiedError } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const e = new KernelDiedError("Kernel died while running cell 3", null, {
 *   signal: "SIGKILL",
 *   stderr: "out of memory",
 * });
 * assert.deepEqual([e.code, e.signal, e.stderr], [null, "SIGKILL", "out of memory"]);
 * ```
 */
export class KernelDiedError extends OpsbookError {
  /** Exit code of the kernel process, or null when killed by a signal. */
  readonly code: number | null;
  /** The signal that killed it, or null when it exited. */
  readonly signal: string | null;
  /** The end of what the kernel wrote to stderr. */
  readonly stderr: string;
  /** Creates a kernel died error. */
  constructor(
    message: string,
    code: number | null,
    options: { signal?: string | null; stderr?: string } = {},
  ) {
    super(message);
    this.name = "KernelDiedError";
    this.code = code;
    this.signal = options.signal ?? null;
    this.stderr = options.stderr ?? "";
  }
}

/** Thrown when a kernel request is not answered in time. */
export class KernelTimeoutError extends OpsbookError {
  /** Creates a kernel timeout error. */
  constructor(message: string) {
    super(message);
    this.name = "KernelTimeoutError";
  }
}

/** Options for {@linkcode Kernel.start}. */
export interface StartKernelOptions {
  /**
   * Working directory of the kernel process.
   * @default {Deno.cwd()}
   */
  cwd?: string;
  /**
   * Extra environment variables (`NO_COLOR=1` is always set).
   * @default {{}}
   */
  env?: Record<string, string>;
  /**
   * Milliseconds to wait for the kernel to answer its first `kernel_info_request`.
   * @default {60000}
   */
  startTimeout?: number;
  /**
   * The Deno executable that runs the kernel.
   * @default {Deno.execPath()}
   */
  denoPath?: string;
}

/** Options for {@linkcode Kernel.execute}. */
export interface ExecuteOptions {
  /**
   * Milliseconds before the execution counts as timed out (0: no limit).
   * @default {0}
   */
  timeout?: number;
  /** Called with the `msg_id` right before the request is sent (to route its iopub messages). */
  onSend?: (msgId: string) => void;
}

/** What {@linkcode Kernel.execute} returns. */
export interface ExecuteResult {
  /** The `msg_id` of the execute_request. */
  msgId: string;
  /** The execute_reply message. */
  reply: JupyterMessage;
  /** ISO time the reply arrived. */
  replyAt: string;
}

type Channel = "shell" | "control";

interface Pending {
  resolve: (m: JupyterMessage) => void;
}

async function freePorts(count: number): Promise<number[]> {
  const listeners = Array.from(
    { length: count },
    () => Deno.listen({ hostname: "127.0.0.1", port: 0 }),
  );
  const ports = listeners.map((l) => (l.addr as Deno.NetAddr).port);
  for (const l of listeners) l.close();
  return await Promise.resolve(ports);
}

/**
 * The `sh` script the kernel is launched through: `$1` is the connection
 * folder, the rest is the kernel's command. It keeps the pipe on its standard
 * input in a background watchdog (in the kernel's process group: the runner
 * starts it detached, in a session of its own), then becomes the kernel
 * (`exec`, same pid). When the owner's end of the pipe closes, the watchdog
 * removes the connection folder and kills the group.
 */
export const KERNEL_LAUNCHER = [
  'dir="$1"; shift',
  "exec 3<&0",
  '( cat <&3 >/dev/null 2>&1; rm -rf "$dir"; kill -9 0 ) </dev/null >/dev/null 2>&1 &',
  'exec 3<&- </dev/null "$@"',
].join("\n");

/**
 * A running Deno kernel with its shell, control and iopub connections.
 *
 * @example Run one expression
 * ```ts
 * import { Kernel } from "./kernel.ts";
 *
 * // Starts `deno jupyter --kernel`, prints what the cell publishes, stops it.
 * export async function evaluate(code: string): Promise<void> {
 *   await using kernel = await Kernel.start();
 *   kernel.onIopub((msg) => console.log(msg.header.msg_type, msg.content));
 *   await kernel.execute(code);
 * }
 * ```
 */
export class Kernel {
  #child: Deno.ChildProcess;
  #dir: string;
  #signer: Signer;
  #session = crypto.randomUUID();
  #shell!: ZmtpSocket;
  #control!: ZmtpSocket;
  #iopub!: ZmtpSocket;
  #pending = new Map<string, Pending>();
  #listeners = new Set<(msg: JupyterMessage) => void>();
  #exit: Promise<Deno.CommandStatus>;
  #died: Promise<never>;
  #stopped: Promise<void> | null = null;
  #stderr = "";
  #info: Record<string, unknown> = {};
  #startMs = 0;

  private constructor(child: Deno.ChildProcess, dir: string, signer: Signer) {
    this.#child = child;
    this.#dir = dir;
    this.#signer = signer;
    this.#exit = child.status;
    this.#died = this.#exit.then((status) => {
      throw new KernelDiedError(
        `Kernel exited unexpectedly: ${
          status.signal ? `signal ${status.signal}` : `code ${status.code}`
        }${this.#stderrTail()}`,
        status.signal ? null : status.code,
        { signal: status.signal, stderr: this.#stderrTail().replace(/^: /, "") },
      );
    });
    this.#died.catch(() => {});
  }

  /** Spawns a kernel, connects to it and waits until iopub delivers. */
  static async start(options: StartKernelOptions = {}): Promise<Kernel> {
    const t0 = performance.now();
    const startTimeout = options.startTimeout ?? 60_000;
    const dir = await Deno.makeTempDir({ prefix: "opsbook-kernel-" });
    const [shell, iopub, stdin, control, hb] = await freePorts(5);
    const key = crypto.randomUUID();
    const connection = {
      shell_port: shell,
      iopub_port: iopub,
      stdin_port: stdin,
      control_port: control,
      hb_port: hb,
      ip: "127.0.0.1",
      key,
      transport: "tcp",
      signature_scheme: "hmac-sha256",
      kernel_name: "deno",
    };
    const file = `${dir}/connection.json`;
    await Deno.writeTextFile(file, JSON.stringify(connection));
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command("/bin/sh", {
        args: [
          "-c",
          KERNEL_LAUNCHER,
          "opsbook-kernel",
          dir,
          options.denoPath ?? Deno.execPath(),
          "jupyter",
          "--kernel",
          "--conn",
          file,
        ],
        cwd: options.cwd,
        env: { ...options.env, NO_COLOR: "1" },
        // The watchdog's pipe: it closes when this process exits, however it exits.
        stdin: "piped",
        stdout: "null",
        stderr: "piped",
        // A session (and process group) of its own, killed as a whole.
        detached: true,
      }).spawn();
    } catch (error) {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      throw new KernelStartError(`Cannot start the kernel: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const kernel = new Kernel(child, dir, await Signer.create(key));
    kernel.#drainStderr();
    const deadline = Date.now() + startTimeout;
    try {
      await kernel.#connect(connection, deadline);
      kernel.#startMs = performance.now() - t0;
      // The kernel has read the file: the key does not stay on disk.
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      return kernel;
    } catch (error) {
      await kernel.shutdown({ timeout: 0 });
      if (error instanceof KernelDiedError) {
        throw new KernelStartError(`Kernel exited while starting: ${error.message}`, {
          cause: error,
        });
      }
      throw error;
    }
  }

  /** Process id of the kernel. */
  get pid(): number {
    return this.#child.pid;
  }

  /** Content of the `kernel_info_reply` received at start. */
  get info(): Record<string, unknown> {
    return this.#info;
  }

  /** Milliseconds from spawn until iopub delivered. */
  get startMs(): number {
    return this.#startMs;
  }

  /** Resolves with the exit status once the kernel process ends. */
  get exited(): Promise<Deno.CommandStatus> {
    return this.#exit;
  }

  /** Registers a listener for every iopub message; returns an unsubscribe function. */
  onIopub(listener: (msg: JupyterMessage) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Sends a request and resolves with its reply; rejects with
   * {@linkcode KernelDiedError} or {@linkcode KernelTimeoutError}.
   */
  async request(
    msgType: string,
    content: Record<string, unknown>,
    options: { channel?: Channel; timeout?: number; onSend?: (msgId: string) => void } = {},
  ): Promise<JupyterMessage> {
    const msg = createMessage(msgType, content, { session: this.#session });
    const reply = new Promise<JupyterMessage>((resolve) => {
      this.#pending.set(msg.header.msg_id, { resolve });
    });
    options.onSend?.(msg.header.msg_id);
    const socket = options.channel === "control" ? this.#control : this.#shell;
    try {
      await socket.send(await encodeJupyter(msg, this.#signer));
      return await this.#race(reply, options.timeout ?? 0, `${msgType} timed out`);
    } finally {
      this.#pending.delete(msg.header.msg_id);
    }
  }

  /**
   * Executes code; resolves once both `execute_reply` and iopub `status: idle`
   * for the request have arrived. Outputs reach {@linkcode Kernel.onIopub} listeners.
   */
  async execute(code: string, options: ExecuteOptions = {}): Promise<ExecuteResult> {
    let msgId = "";
    let idle!: () => void;
    const idlePromise = new Promise<void>((resolve) => (idle = resolve));
    const off = this.onIopub((m) => {
      if (
        m.parent_header.msg_id === msgId && m.header.msg_type === "status" &&
        m.content.execution_state === "idle"
      ) idle();
    });
    try {
      const t0 = Date.now();
      const reply = await this.request("execute_request", {
        code,
        silent: false,
        store_history: true,
        user_expressions: {},
        allow_stdin: false,
        stop_on_error: true,
      }, {
        timeout: options.timeout,
        onSend: (id) => {
          msgId = id;
          options.onSend?.(id);
        },
      });
      const replyAt = new Date().toISOString();
      const left = options.timeout ? Math.max(1, options.timeout - (Date.now() - t0)) : 0;
      await this.#race(idlePromise, left, "execute_request timed out waiting for idle");
      return { msgId, reply, replyAt };
    } finally {
      off();
    }
  }

  /**
   * A flush barrier: a `kernel_info_request` round trip whose reply and iopub
   * idle have both arrived, so everything the kernel published before it is in.
   */
  async barrier(timeout = 10_000): Promise<void> {
    let msgId = "";
    let idle!: () => void;
    const idlePromise = new Promise<void>((resolve) => (idle = resolve));
    const off = this.onIopub((m) => {
      if (m.parent_header.msg_id === msgId && m.content.execution_state === "idle") idle();
    });
    try {
      await this.request("kernel_info_request", {}, { timeout, onSend: (id) => (msgId = id) });
      await this.#race(idlePromise, timeout, "kernel_info_request timed out waiting for idle");
    } finally {
      off();
    }
  }

  /**
   * Interrupts the running cell: `interrupt_request` on control, then SIGINT
   * when the kernel does not reply within `timeout` ms. Resolves true when the
   * kernel acknowledged.
   */
  async interrupt(timeout = 2_000): Promise<boolean> {
    try {
      await this.request("interrupt_request", {}, { channel: "control", timeout });
      return true;
    } catch (error) {
      if (error instanceof KernelDiedError) throw error;
      try {
        this.#child.kill("SIGINT");
      } catch {
        // already gone
      }
      return false;
    }
  }

  /**
   * Stops the kernel: `shutdown_request` on control, SIGKILL when it has not
   * exited after `timeout` ms; closes sockets and removes the connection file.
   * Safe to call more than once.
   */
  shutdown(options: { timeout?: number } = {}): Promise<void> {
    this.#stopped ??= this.#shutdown(options.timeout ?? 2_000);
    return this.#stopped;
  }

  /** Kills the kernel at once (SIGKILL) and cleans up. */
  kill(): Promise<void> {
    return this.shutdown({ timeout: 0 });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown();
  }

  async #shutdown(timeout: number): Promise<void> {
    const exited = this.#exit.then(() => true);
    if (timeout > 0 && this.#control && !this.#control.closed) {
      try {
        await this.request("shutdown_request", { restart: false }, { channel: "control", timeout });
        // Acknowledged: the Deno kernel would exit after a 100 ms grace period
        // that only serves to flush the reply we already have.
        this.#child.kill("SIGTERM");
      } catch {
        // the kernel is gone already or did not answer: killed below
      }
    }
    const done = await Promise.race([exited, delay(timeout).then(() => false)]);
    if (!done) {
      try {
        this.#child.kill("SIGKILL");
      } catch {
        // already exited
      }
    }
    await this.#exit;
    // Whatever the cells started (and the watchdog) go with the kernel.
    try {
      Deno.kill(-this.#child.pid, "SIGKILL");
    } catch {
      // the group is empty already
    }
    await this.#child.stdin.close().catch(() => {});
    for (const s of [this.#shell, this.#control, this.#iopub]) s?.close();
    await Deno.remove(this.#dir, { recursive: true }).catch(() => {});
  }

  #stderrTail(): string {
    const tail = this.#stderr.replace(/.*"deno jupyter" is unstable.*\n?/, "").trim();
    return tail ? `: ${tail.slice(-500)}` : "";
  }

  async #drainStderr(): Promise<void> {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of this.#child.stderr) {
        this.#stderr = (this.#stderr + decoder.decode(chunk, { stream: true })).slice(-4000);
      }
    } catch {
      // stream closed
    }
  }

  #race<T>(promise: Promise<T>, timeout: number, message: string): Promise<T> {
    const racers: Promise<T>[] = [promise, this.#died];
    let timer: ReturnType<typeof setTimeout> | undefined;
    if (timeout > 0) {
      racers.push(
        new Promise<T>((_, reject) => {
          timer = setTimeout(() => reject(new KernelTimeoutError(message)), timeout);
        }),
      );
    }
    return Promise.race(racers).finally(() => clearTimeout(timer));
  }

  async #connect(
    conn: { shell_port: number; iopub_port: number; control_port: number },
    deadline: number,
  ): Promise<void> {
    const connectOne = async (port: number, type: "DEALER" | "SUB") => {
      while (true) {
        try {
          return await ZmtpSocket.connect(port, type);
        } catch (error) {
          if (Date.now() > deadline) {
            throw new KernelStartError(
              `Kernel did not start within the start timeout: ${(error as Error).message}`,
            );
          }
          await this.#race(delay(20), 0, "");
        }
      }
    };
    this.#iopub = await connectOne(conn.iopub_port, "SUB");
    this.#shell = await connectOne(conn.shell_port, "DEALER");
    this.#control = await connectOne(conn.control_port, "DEALER");
    this.#readLoop(this.#shell);
    this.#readLoop(this.#control);
    this.#readLoop(this.#iopub);
    // A SUB socket joins late: repeat kernel_info_request until iopub delivers.
    let heard = false;
    const off = this.onIopub(() => (heard = true));
    try {
      while (!heard) {
        const left = deadline - Date.now();
        if (left <= 0) throw new KernelStartError("Kernel did not start within the start timeout");
        try {
          const reply = await this.request("kernel_info_request", {}, {
            timeout: Math.min(left, 1_000),
          });
          this.#info = reply.content;
        } catch (error) {
          if (!(error instanceof KernelTimeoutError)) throw error;
        }
        if (!heard) await this.#race(delay(Math.min(100, Math.max(1, left))), 0, "");
      }
    } finally {
      off();
    }
  }

  async #readLoop(socket: ZmtpSocket): Promise<void> {
    while (!socket.closed) {
      let msg: JupyterMessage;
      try {
        msg = await decodeJupyter(await socket.receive(), this.#signer);
      } catch (error) {
        if (socket.closed) return;
        if ((error as Error).name === "WireError") continue;
        return;
      }
      if (socket === this.#iopub) {
        for (const listener of [...this.#listeners]) listener(msg);
      } else {
        const id = msg.parent_header.msg_id;
        if (id) this.#pending.get(id)?.resolve(msg);
      }
    }
  }
}
