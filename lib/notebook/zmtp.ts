/**
 * A small ZMTP 3.0 client (NULL security mechanism) on `Deno.connect`, enough
 * to talk to one Jupyter kernel: DEALER (shell, control, stdin), SUB (iopub)
 * and REQ (heartbeat), each connected to exactly one peer.
 *
 * Why not `npm:zeromq`: zeromq@6.8.0 loads in Deno 2.9 and a DEALER round-trip
 * works, but the process died with a segmentation fault (exit 139) as soon as a
 * second `receive()` was started while one was pending. A runner that must
 * never lose output or leave a kernel behind cannot sit on a native addon that
 * crashes the whole process. The protocol surface needed here is small (a
 * 64-byte greeting, one READY command each way, length-prefixed frames), and
 * Deno's own kernel speaks ZMTP from plain JavaScript since 2.8.2.
 *
 * @module
 */

import { OpsbookError } from "../errors.ts";

const ENCODER = new TextEncoder();
const DECODER = new TextDecoder();

/** Socket types this client can play toward a single peer. */
export type ZmtpSocketType = "DEALER" | "SUB" | "REQ";

/** Thrown when the connection to the peer is closed or the peer breaks the protocol. */
export class ZmtpError extends OpsbookError {
  /** Creates a ZMTP error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ZmtpError";
  }
}

/** Options for {@linkcode ZmtpSocket.connect}. */
export interface ZmtpConnectOptions {
  /**
   * Host name or address of the peer.
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /**
   * Topics a SUB socket subscribes to (an empty string subscribes to everything).
   * @default {[""]}
   */
  subscribe?: string[];
}

/**
 * Encodes one ZMTP frame (flags, 1- or 8-byte length, body).
 *
 * @example Encode a short final frame
 * ```ts
 * import { encodeFrame } from "./zmtp.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual([...encodeFrame(new Uint8Array([7]), false)], [0, 1, 7]);
 * ```
 */
export function encodeFrame(body: Uint8Array, more: boolean, command = false): Uint8Array {
  const long = body.length > 255;
  const head = long ? 9 : 2;
  const out = new Uint8Array(head + body.length);
  out[0] = (more ? 0x01 : 0) | (long ? 0x02 : 0) | (command ? 0x04 : 0);
  if (long) new DataView(out.buffer).setBigUint64(1, BigInt(body.length));
  else out[1] = body.length;
  out.set(body, head);
  return out;
}

/**
 * Encodes a multipart message as one buffer (a single write keeps Nagle and
 * delayed ACKs from stalling delivery).
 *
 * @example Two frames
 * ```ts
 * import { encodeMessage } from "./zmtp.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = encodeMessage([new Uint8Array([1]), new Uint8Array([2])]);
 * assert.deepEqual([...bytes], [1, 1, 1, 0, 1, 2]);
 * ```
 */
export function encodeMessage(frames: Uint8Array[]): Uint8Array {
  const encoded = frames.map((frame, i) => encodeFrame(frame, i < frames.length - 1));
  const out = new Uint8Array(encoded.reduce((n, f) => n + f.length, 0));
  let offset = 0;
  for (const f of encoded) {
    out.set(f, offset);
    offset += f.length;
  }
  return out;
}

/**
 * The 64-byte ZMTP 3.0 greeting for the NULL mechanism (as-server = 0).
 *
 * @example Signature and version
 * ```ts
 * import { greeting } from "./zmtp.ts";
 * import assert from "node:assert/strict";
 *
 * const g = greeting();
 * assert.deepEqual([g.length, g[0], g[9], g[10], g[11]], [64, 0xff, 0x7f, 3, 0]);
 * ```
 */
export function greeting(): Uint8Array {
  const g = new Uint8Array(64);
  g[0] = 0xff;
  g[9] = 0x7f;
  g[10] = 3;
  g[11] = 0;
  g.set(ENCODER.encode("NULL"), 12);
  return g;
}

/**
 * Encodes a READY command body with the given properties.
 *
 * @example The Socket-Type property
 * ```ts
 * import { readyCommand } from "./zmtp.ts";
 * import assert from "node:assert/strict";
 *
 * const body = readyCommand({ "Socket-Type": "SUB" });
 * assert.deepEqual(new TextDecoder().decode(body.subarray(1, 6)), "READY");
 * ```
 */
export function readyCommand(properties: Record<string, string>): Uint8Array {
  const parts: Uint8Array[] = [new Uint8Array([5]), ENCODER.encode("READY")];
  for (const [name, value] of Object.entries(properties)) {
    const n = ENCODER.encode(name);
    const v = ENCODER.encode(value);
    const len = new Uint8Array(4);
    new DataView(len.buffer).setUint32(0, v.length);
    parts.push(new Uint8Array([n.length]), n, len, v);
  }
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/**
 * A ZMTP socket connected to one peer. Received messages are read by a single
 * background loop and queued, so any number of `receive()` calls may wait.
 *
 * @example Heartbeat round-trip against a kernel
 * ```ts
 * import { ZmtpSocket } from "./zmtp.ts";
 *
 * // Round-trips a heartbeat with a kernel listening on `port`.
 * export async function heartbeat(port: number): Promise<Uint8Array[]> {
 *   const hb = await ZmtpSocket.connect(port, "REQ");
 *   try {
 *     await hb.send([new TextEncoder().encode("ping")]);
 *     return await hb.receive();
 *   } finally {
 *     hb.close();
 *   }
 * }
 * ```
 */
export class ZmtpSocket {
  #conn: Deno.TcpConn;
  #type: ZmtpSocketType;
  #buffer: Uint8Array = new Uint8Array(0);
  #queue: Uint8Array[][] = [];
  #waiters: { resolve: (m: Uint8Array[]) => void; reject: (e: Error) => void }[] = [];
  #closed: Error | null = null;
  #writing: Promise<void> = Promise.resolve();

  private constructor(conn: Deno.TcpConn, type: ZmtpSocketType) {
    this.#conn = conn;
    this.#type = type;
  }

  /** Connects to `port`, performs the ZMTP handshake and starts the read loop. */
  static async connect(
    port: number,
    type: ZmtpSocketType,
    options: ZmtpConnectOptions = {},
  ): Promise<ZmtpSocket> {
    const conn = await Deno.connect({ hostname: options.hostname ?? "127.0.0.1", port });
    conn.setNoDelay(true);
    const socket = new ZmtpSocket(conn, type);
    try {
      await socket.#handshake();
    } catch (error) {
      socket.close();
      throw error;
    }
    socket.#readLoop();
    if (type === "SUB") {
      for (const topic of options.subscribe ?? [""]) {
        // ZMTP 3.0 subscription: a message whose first byte is 1.
        const t = ENCODER.encode(topic);
        const body = new Uint8Array(1 + t.length);
        body[0] = 1;
        body.set(t, 1);
        await socket.#write(encodeFrame(body, false));
      }
    }
    return socket;
  }

  /** The socket type. */
  get type(): ZmtpSocketType {
    return this.#type;
  }

  /** Whether the connection is closed. */
  get closed(): boolean {
    return this.#closed !== null;
  }

  /** Sends a multipart message (REQ adds the empty delimiter frame). */
  send(frames: Uint8Array[]): Promise<void> {
    if (this.#type === "SUB") throw new TypeError("Cannot send on a SUB socket");
    const all = this.#type === "REQ" ? [new Uint8Array(0), ...frames] : frames;
    return this.#write(encodeMessage(all));
  }

  /** Resolves with the next multipart message (REQ strips the empty delimiter). */
  receive(): Promise<Uint8Array[]> {
    const next = this.#queue.shift();
    if (next) return Promise.resolve(next);
    if (this.#closed) return Promise.reject(this.#closed);
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /** Closes the connection; pending receives reject with {@linkcode ZmtpError}. */
  close(): void {
    this.#fail(new ZmtpError("Socket closed"));
  }

  #write(bytes: Uint8Array): Promise<void> {
    const run = this.#writing.then(async () => {
      if (this.#closed) throw this.#closed;
      let offset = 0;
      while (offset < bytes.length) offset += await this.#conn.write(bytes.subarray(offset));
    });
    this.#writing = run.catch(() => {});
    return run;
  }

  #fail(error: Error): void {
    if (this.#closed) return;
    this.#closed = error;
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
    for (const w of this.#waiters.splice(0)) w.reject(error);
  }

  async #fill(n: number): Promise<void> {
    const chunk = new Uint8Array(65536);
    while (this.#buffer.length < n) {
      const read = await this.#conn.read(chunk);
      if (read === null) throw new ZmtpError("Connection closed by peer");
      const merged = new Uint8Array(this.#buffer.length + read);
      merged.set(this.#buffer);
      merged.set(chunk.subarray(0, read), this.#buffer.length);
      this.#buffer = merged;
    }
  }

  async #take(n: number): Promise<Uint8Array> {
    await this.#fill(n);
    const out = this.#buffer.slice(0, n);
    this.#buffer = this.#buffer.subarray(n);
    return out;
  }

  async #readFrame(): Promise<{ body: Uint8Array; more: boolean; command: boolean }> {
    const [flags] = await this.#take(1);
    let size: number;
    if (flags & 0x02) {
      size = Number(new DataView((await this.#take(8)).buffer).getBigUint64(0));
    } else {
      size = (await this.#take(1))[0];
    }
    return {
      body: await this.#take(size),
      more: (flags & 0x01) !== 0,
      command: (flags & 0x04) !== 0,
    };
  }

  async #handshake(): Promise<void> {
    await this.#write(greeting());
    const peer = await this.#take(64);
    if (peer[0] !== 0xff || peer[9] !== 0x7f) throw new ZmtpError("Peer is not a ZMTP endpoint");
    if (peer[10] < 3) throw new ZmtpError(`Unsupported ZMTP version: ${peer[10]}.${peer[11]}`);
    const mechanism = DECODER.decode(peer.subarray(12, 32)).replace(/\0+$/, "");
    if (mechanism !== "NULL") throw new ZmtpError(`Unsupported security mechanism: ${mechanism}`);
    await this.#write(encodeFrame(readyCommand({ "Socket-Type": this.#type }), false, true));
    const ready = await this.#readFrame();
    const name = DECODER.decode(ready.body.subarray(1, 1 + ready.body[0]));
    if (!ready.command || name !== "READY") {
      throw new ZmtpError(`Expected a READY command: got ${name || "a message"}`);
    }
  }

  async #readLoop(): Promise<void> {
    try {
      let frames: Uint8Array[] = [];
      while (true) {
        const frame = await this.#readFrame();
        if (frame.command) {
          // ZMTP 3.1 PING gets a PONG with the same context; others are ignored.
          const name = DECODER.decode(frame.body.subarray(1, 1 + frame.body[0]));
          if (name === "PING") {
            const context = frame.body.subarray(1 + frame.body[0] + 2);
            const pong = new Uint8Array(5 + context.length);
            pong.set([4, ...ENCODER.encode("PONG")]);
            pong.set(context, 5);
            await this.#write(encodeFrame(pong, false, true));
          }
          continue;
        }
        frames.push(frame.body);
        if (frame.more) continue;
        const message = this.#type === "REQ" && frames[0]?.length === 0 ? frames.slice(1) : frames;
        frames = [];
        const waiter = this.#waiters.shift();
        if (waiter) waiter.resolve(message);
        else this.#queue.push(message);
      }
    } catch (error) {
      this.#fail(
        error instanceof ZmtpError ? error : new ZmtpError("Connection failed", { cause: error }),
      );
    }
  }
}
