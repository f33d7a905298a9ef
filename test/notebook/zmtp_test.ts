import assert from "node:assert/strict";
import {
  encodeFrame,
  greeting,
  readyCommand,
  ZmtpError,
  ZmtpSocket,
} from "../../lib/notebook/zmtp.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A minimal ZMTP peer (the kernel side) that records what it gets and runs `serve`. */
async function withPeer(
  serve: (peer: Peer) => Promise<void>,
  client: (port: number) => Promise<void>,
  peerGreeting = greeting(),
): Promise<void> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const served = (async () => {
    const conn = await listener.accept();
    const peer = new Peer(conn);
    try {
      await conn.write(peerGreeting);
      await peer.take(64);
      const ready = await peer.frame();
      assert.equal(ready.command, true);
      await conn.write(encodeFrame(readyCommand({ "Socket-Type": "ROUTER" }), false, true));
      await serve(peer);
    } finally {
      try {
        conn.close();
      } catch {
        // closed by the test
      }
    }
  })();
  try {
    await client(port);
  } finally {
    await served.catch(() => {});
    listener.close();
  }
}

class Peer {
  #buf = new Uint8Array(0);
  constructor(readonly conn: Deno.Conn) {}
  async take(n: number): Promise<Uint8Array> {
    const chunk = new Uint8Array(4096);
    while (this.#buf.length < n) {
      const r = await this.conn.read(chunk);
      if (r === null) throw new Error("closed");
      const m = new Uint8Array(this.#buf.length + r);
      m.set(this.#buf);
      m.set(chunk.subarray(0, r), this.#buf.length);
      this.#buf = m;
    }
    const out = this.#buf.slice(0, n);
    this.#buf = this.#buf.subarray(n);
    return out;
  }
  async frame(): Promise<{ body: Uint8Array; more: boolean; command: boolean }> {
    const [flags] = await this.take(1);
    const size = flags & 2
      ? Number(new DataView((await this.take(8)).buffer).getBigUint64(0))
      : (await this.take(1))[0];
    return { body: await this.take(size), more: (flags & 1) === 1, command: (flags & 4) === 4 };
  }
  async message(): Promise<string[]> {
    const frames: string[] = [];
    while (true) {
      const f = await this.frame();
      frames.push(dec.decode(f.body));
      if (!f.more) return frames;
    }
  }
  async send(frames: string[]): Promise<void> {
    for (const [i, f] of frames.entries()) {
      await this.conn.write(encodeFrame(enc.encode(f), i < frames.length - 1));
    }
  }
}

Deno.test("encodeFrame uses 1-byte sizes up to 255 and 8-byte sizes beyond", () => {
  assert.deepEqual([...encodeFrame(new Uint8Array(255), true).subarray(0, 2)], [0x01, 255]);
  const long = encodeFrame(new Uint8Array(256), false, true);
  assert.deepEqual([...long.subarray(0, 9)], [0x06, 0, 0, 0, 0, 0, 0, 1, 0]);
  assert.equal(long.length, 9 + 256);
});

Deno.test("readyCommand encodes name and properties", () => {
  const body = readyCommand({ "Socket-Type": "DEALER" });
  assert.deepEqual([...body], [
    5,
    ...enc.encode("READY"),
    11,
    ...enc.encode("Socket-Type"),
    0,
    0,
    0,
    6,
    ...enc.encode("DEALER"),
  ]);
});

Deno.test("DEALER sends and receives multipart messages, short and long", async () => {
  const big = "x".repeat(70_000);
  await withPeer(async (peer) => {
    assert.deepEqual(await peer.message(), ["a", big]);
    await peer.send(["reply", big]);
    await peer.send(["second"]);
  }, async (port) => {
    const s = await ZmtpSocket.connect(port, "DEALER");
    try {
      // Two receives pending at once are fine (one read loop feeds both).
      const first = s.receive();
      const second = s.receive();
      await s.send([enc.encode("a"), enc.encode(big)]);
      assert.deepEqual((await first).map((f) => dec.decode(f)), ["reply", big]);
      assert.deepEqual((await second).map((f) => dec.decode(f)), ["second"]);
    } finally {
      s.close();
    }
  });
});

Deno.test("REQ adds and strips the empty delimiter; SUB subscribes with a 0x01 message", async () => {
  await withPeer(async (peer) => {
    assert.deepEqual(await peer.message(), ["", "ping"]);
    await peer.send(["", "ping"]);
  }, async (port) => {
    const s = await ZmtpSocket.connect(port, "REQ");
    try {
      await s.send([enc.encode("ping")]);
      assert.deepEqual((await s.receive()).map((f) => dec.decode(f)), ["ping"]);
    } finally {
      s.close();
    }
  });
  await withPeer(async (peer) => {
    const sub = await peer.frame();
    assert.deepEqual([...sub.body], [1]);
    await peer.send(["topic", "body"]);
  }, async (port) => {
    const s = await ZmtpSocket.connect(port, "SUB");
    try {
      assert.throws(() => s.send([]), TypeError);
      assert.deepEqual((await s.receive()).map((f) => dec.decode(f)), ["topic", "body"]);
    } finally {
      s.close();
    }
  });
});

Deno.test("a PING command gets a PONG with the same context", async () => {
  await withPeer(async (peer) => {
    const ping = new Uint8Array([4, ...enc.encode("PING"), 0, 10, ...enc.encode("ctx")]);
    await peer.conn.write(encodeFrame(ping, false, true));
    const pong = await peer.frame();
    assert.equal(pong.command, true);
    assert.equal(dec.decode(pong.body), "\x04PONGctx");
  }, async (port) => {
    const s = await ZmtpSocket.connect(port, "DEALER");
    await s.receive().catch(() => {});
    s.close();
  });
});

Deno.test("a closed peer rejects pending receives with ZmtpError", async () => {
  await withPeer((peer) => {
    peer.conn.close();
    return Promise.resolve();
  }, async (port) => {
    const s = await ZmtpSocket.connect(port, "DEALER");
    await assert.rejects(
      s.receive(),
      (e) => e instanceof ZmtpError && e.message === "Connection closed by peer",
    );
    assert.equal(s.closed, true);
  });
});

Deno.test("a peer with another mechanism is refused", async () => {
  const curve = greeting();
  curve.set(enc.encode("CURVE"), 12);
  await withPeer(async () => {}, async (port) => {
    await assert.rejects(
      ZmtpSocket.connect(port, "DEALER"),
      (e) => e instanceof ZmtpError && e.message === "Unsupported security mechanism: CURVE",
    );
  }, curve);
});
