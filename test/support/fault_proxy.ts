/**
 * A fault-injecting HTTP proxy for reliability tests. It listens on a free
 * loopback port, reads one HTTP/1.1 request per connection and, as its plan
 * says, forwards it to the upstream or injects a fault: a dropped connection,
 * a reset, a delay past the client's timeout, a 500, a 429 with
 * `Retry-After`, a truncated body, an answer lost after forwarding, or a bad
 * answer (HTML, wrong JSON shape, empty result, empty body), or a partial
 * answer (the upstream's answer without some series, with `warnings`, as
 * Thanos or a fleet gives when one store is down).
 *
 * Each request is recorded with whether the upstream received it
 * (`forwarded`) and whether the client got the complete answer
 * (`delivered`), so a test can tell an acknowledgement lost after delivery
 * (the documented at-least-once window) from a request that never arrived.
 *
 * @example
 * ```ts ignore
 * await using proxy = startFaultProxy("http://127.0.0.1:9090", {
 *   plan: (req) => req.n % 5 === 0 ? "500" : "pass",
 * });
 * ```
 *
 * @module
 */

import { delay } from "../../lib/_internal/delay.ts";

/** What the proxy does with one request. */
export type Fault =
  /** Forward and relay the answer. */
  | "pass"
  /** Read the request, close without an answer; not forwarded. */
  | "drop"
  /** Write the first bytes of an answer, then close the connection mid-answer; not forwarded. */
  | "reset"
  /** Hold the request for `delayMs` (past the client's timeout), then close; not forwarded. */
  | "delay"
  /** Answer 500 without forwarding. */
  | "500"
  /** Answer 429 with `Retry-After: 1` without forwarding. */
  | "429"
  /** Forward, then send the headers and half the body and close. */
  | "truncate"
  /** Forward, then close without an answer (the acknowledgement is lost). */
  | "lost_ack"
  /** Forward, then hold the answer until the proxy stops (for `kill -9` mid-request). */
  | "hold"
  /** Answer 200 with an HTML page (a captive proxy). */
  | "html"
  /** Answer 200 with JSON of the wrong shape. */
  | "wrong_shape"
  /** Answer 200 with an empty result (a matrix for `/query_range`, else a vector). */
  | "empty_result"
  /** Answer 200 with an empty body. */
  | "empty_body"
  /**
   * Forward, then relay the answer without the series `partial.drop` selects
   * and with `partial.warnings` (a partial response); errors pass unchanged.
   */
  | "partial";

/** A request as the plan sees it. */
export interface ProxyRequest {
  /** Sequence number, from 1. */
  n: number;
  /** HTTP method. */
  method: string;
  /** Path and query. */
  path: string;
  /** Body text. */
  body: string;
}

/** One recorded request. */
export interface ProxyRecord extends ProxyRequest {
  /** The fault applied. */
  fault: Fault;
  /** The upstream received it. */
  forwarded: boolean;
  /** The client got the complete upstream answer. */
  delivered: boolean;
  /** The upstream's status, when forwarded. */
  status?: number;
}

/** Options of {@linkcode startFaultProxy}. */
export interface FaultProxyOptions {
  /** Chooses the fault per request. @default {() => "pass"} */
  plan?: (request: ProxyRequest) => Fault;
  /** How long `delay` holds a request. @default {1500} */
  delayMs?: number;
  /** What the `partial` fault drops and says (read at each request). */
  partial?: {
    /** Drops a series by its labels. @default {every series whose `cloud` is `ali`} */
    drop?: (metric: Record<string, string>) => boolean;
    /**
     * The `warnings` field sent (any JSON, to test malformed ones).
     * @default {["partial response: store ali unavailable"]}
     */
    warnings?: unknown;
  };
}

/** A running proxy. */
export interface FaultProxy extends AsyncDisposable {
  /** `http://127.0.0.1:PORT`. */
  url: string;
  /** Every request, in arrival order. */
  records: ProxyRecord[];
  /** Replace the plan. */
  setPlan(plan: (request: ProxyRequest) => Fault): void;
  /** Stop listening and close every open connection. */
  close(): Promise<void>;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

function indexOfCrlfCrlf(buf: Uint8Array): number {
  for (let i = 0; i + 3 < buf.length; i++) {
    if (buf[i] === 13 && buf[i + 1] === 10 && buf[i + 2] === 13 && buf[i + 3] === 10) return i;
  }
  return -1;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

async function readRequest(conn: Deno.Conn): Promise<
  { method: string; path: string; headers: Headers; body: Uint8Array<ArrayBuffer> } | null
> {
  let buf = new Uint8Array(0);
  const chunk = new Uint8Array(64 * 1024);
  let end = -1;
  while ((end = indexOfCrlfCrlf(buf)) === -1) {
    const n = await conn.read(chunk);
    if (n === null) return null;
    buf = concat(buf, chunk.subarray(0, n));
  }
  const head = dec.decode(buf.subarray(0, end)).split("\r\n");
  const [method, path] = head[0].split(" ");
  const headers = new Headers();
  for (const line of head.slice(1)) {
    const i = line.indexOf(":");
    if (i > 0) headers.append(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  const length = Number(headers.get("content-length") ?? "0");
  let body = buf.subarray(end + 4);
  while (body.length < length) {
    const n = await conn.read(chunk);
    if (n === null) break;
    body = concat(body, chunk.subarray(0, n));
  }
  return { method, path, headers, body: body.subarray(0, length) };
}

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await conn.write(data.subarray(off));
}

function responseHead(status: number, headers: Record<string, string>, length: number): string {
  let head = `HTTP/1.1 ${status} X\r\n`;
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  return head + `content-length: ${length}\r\nconnection: close\r\n\r\n`;
}

async function answer(
  conn: Deno.Conn,
  status: number,
  body: string,
  headers: Record<string, string> = {},
) {
  const bytes = enc.encode(body);
  await writeAll(conn, enc.encode(responseHead(status, headers, bytes.length)));
  await writeAll(conn, bytes);
}

/**
 * Start a fault proxy in front of `upstream` (an `http://host:port` origin).
 *
 * @example
 * ```ts ignore
 * await using proxy = startFaultProxy(prometheus.url, { plan: () => "html" });
 * ```
 */
export function startFaultProxy(upstream: string, options: FaultProxyOptions = {}): FaultProxy {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const base = upstream.replace(/\/$/, "");
  const delayMs = options.delayMs ?? 1500;
  let plan = options.plan ?? (() => "pass" as Fault);
  // Read at each request: a test may change `options.partial` between requests.
  const drop = (m: Record<string, string>) =>
    (options.partial?.drop ?? ((m: Record<string, string>) => m.cloud === "ali"))(m);
  const partialWarnings = () =>
    options.partial !== undefined && "warnings" in options.partial
      ? options.partial.warnings
      : ["partial response: store ali unavailable"];
  const records: ProxyRecord[] = [];
  const open = new Set<Deno.Conn>();
  const stop = new AbortController();
  let n = 0;
  let closed = false;

  async function handle(conn: Deno.Conn): Promise<void> {
    const seq = ++n;
    let request: Awaited<ReturnType<typeof readRequest>> = null;
    let record: ProxyRecord | undefined;
    try {
      request = await readRequest(conn);
      if (request === null) return;
      const info: ProxyRequest = {
        n: seq,
        method: request.method,
        path: request.path,
        body: dec.decode(request.body),
      };
      const fault = plan(info);
      record = { ...info, fault, forwarded: false, delivered: false };
      records.push(record);
      switch (fault) {
        case "reset": {
          await writeAll(conn, enc.encode("HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{"));
          conn.close();
          open.delete(conn);
          return;
        }
        case "drop":
          return;
        case "delay":
          await Promise.race([
            delay(delayMs),
            new Promise((r) => stop.signal.addEventListener("abort", r)),
          ]);
          return;
        case "500":
          await answer(conn, 500, "internal server error\n", { "content-type": "text/plain" });
          return;
        case "429":
          await answer(conn, 429, "rate_limited", {
            "content-type": "text/plain",
            "retry-after": "1",
          });
          return;
        case "html":
          await answer(conn, 200, "<html><body><h1>Proxy login required</h1></body></html>", {
            "content-type": "text/html",
          });
          return;
        case "wrong_shape":
          await answer(conn, 200, '{"status":"success","data":{"resultType":"banana"}}', {
            "content-type": "application/json",
          });
          return;
        case "empty_result": {
          const type = request.path.includes("/query_range") ? "matrix" : "vector";
          await answer(
            conn,
            200,
            `{"status":"success","data":{"resultType":"${type}","result":[]}}`,
            { "content-type": "application/json" },
          );
          return;
        }
        case "empty_body":
          await answer(conn, 200, "", { "content-type": "application/json" });
          return;
      }
      // Forwarding faults: pass, truncate, lost_ack, hold, partial.
      const headers = new Headers(request.headers);
      for (const h of ["host", "connection", "content-length", "keep-alive"]) headers.delete(h);
      const res = await fetch(base + request.path, {
        method: request.method,
        headers,
        body: ["GET", "HEAD"].includes(request.method) ? undefined : request.body,
        signal: stop.signal,
      });
      let body = new Uint8Array(await res.arrayBuffer());
      if (fault === "partial" && res.ok) {
        const json = JSON.parse(dec.decode(body));
        const data = json.data;
        if (Array.isArray(data?.result)) {
          data.result = data.result.filter((s: { metric: Record<string, string> }) =>
            !drop(s.metric)
          );
        }
        json.warnings = partialWarnings();
        body = enc.encode(JSON.stringify(json));
      }
      record.forwarded = true;
      record.status = res.status;
      const type = res.headers.get("content-type") ?? "application/octet-stream";
      const retry = res.headers.get("retry-after");
      const extra: Record<string, string> = { "content-type": type };
      if (retry !== null) extra["retry-after"] = retry;
      if (fault === "lost_ack") return;
      if (fault === "hold") {
        await new Promise((r) => stop.signal.addEventListener("abort", r));
        return;
      }
      await writeAll(conn, enc.encode(responseHead(res.status, extra, body.length)));
      if (fault === "truncate") {
        await writeAll(conn, body.subarray(0, Math.floor(body.length / 2)));
        return;
      }
      await writeAll(conn, body);
      record.delivered = true;
    } catch {
      // The client went away: nothing to do.
    } finally {
      if (open.delete(conn)) {
        try {
          conn.close();
        } catch { /* closed */ }
      }
    }
  }

  (async () => {
    try {
      for await (const conn of listener) {
        if (closed) {
          conn.close();
          continue;
        }
        open.add(conn);
        handle(conn);
      }
    } catch { /* listener closed */ }
  })();

  const close = async () => {
    if (closed) return;
    closed = true;
    stop.abort();
    try {
      listener.close();
    } catch { /* closed */ }
    for (const c of open) {
      try {
        c.close();
      } catch { /* closed */ }
    }
    open.clear();
    await delay(10);
  };
  return {
    url: `http://127.0.0.1:${port}`,
    records,
    setPlan: (p) => plan = p,
    close,
    [Symbol.asyncDispose]: close,
  };
}
