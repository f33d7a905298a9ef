/**
 * Internal: what a failed `fetch` really ran into. Deno's fetch rejects
 * with `TypeError: fetch failed` and keeps the reason in its `cause` chain
 * (`tcp connect error: Connection refused`, `dns error: failed to lookup
 * address information`, `received corrupt message of type
 * InvalidContentType`, ...); this names it in a few words, with the fix.
 *
 * @module
 */

/** The messages of `error` and its causes, outermost first. */
function messages(error: unknown): string[] {
  const out: string[] = [];
  for (let e = error, depth = 0; e !== undefined && e !== null && depth < 8; depth++) {
    if (e instanceof Error) {
      out.push(e.message);
      e = e.cause;
    } else {
      out.push(String(e));
      break;
    }
  }
  return out;
}

/**
 * Describe why a request to `url` failed, e.g. `connection refused (…)`,
 * `DNS lookup failed for nonexistent.invalid (…)`, `TLS handshake failed: …`.
 * The URL itself is never part of the answer (it may carry credentials).
 *
 * @example
 * ```ts
 * import { describeFetchError } from "./net.ts";
 * import assert from "node:assert/strict";
 *
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const url = `http://127.0.0.1:${listener.addr.port}/`;
 * listener.close(); // nothing listens there now
 * try {
 *   await (await fetch(url)).body?.cancel();
 *   assert.fail("expected a connection error");
 * } catch (e) {
 *   assert.match(describeFetchError(e, url), /^connection refused \(nothing listens at 127\.0\.0\.1:\d+/);
 * }
 * ```
 */
export function describeFetchError(error: unknown, url: string | URL): string {
  let host = "";
  let scheme = "";
  try {
    const u = new URL(url);
    host = u.host;
    scheme = u.protocol.replace(/:$/, "");
  } catch { /* keep empty */ }
  const all = messages(error).join(" | ");
  if (/connection refused|ECONNREFUSED/i.test(all)) {
    return `connection refused (nothing listens at ${host}: check the URL's host and port, and that the server runs)`;
  }
  if (
    /dns error|failed to lookup address|ENOTFOUND|EAI_AGAIN|name or service not known/i.test(all)
  ) {
    const name = host.replace(/:\d+$/, "");
    return `DNS lookup failed for ${name} (check the host name in the URL)`;
  }
  const tls =
    /corrupt message|InvalidContentType|invalid peer certificate|certificate|tls|handshake|ssl/i;
  if (tls.test(all)) {
    const inner = innermost(error)
      .replace(/^.*client error \(Connect\):\s*/i, "")
      .replace(/\(https?:\/\/[^)]*\)/g, "")
      .trim();
    const hint = /corrupt message|InvalidContentType|wrong version/i.test(inner)
      ? `the server does not speak TLS: use http:// instead of ${scheme}://`
      : "check the server's certificate, or trust its CA with DENO_CERT=/path/to/ca.pem";
    return `TLS handshake failed: ${inner} (${hint})`;
  }
  if (/connection reset|ECONNRESET|broken pipe/i.test(all)) {
    return `connection reset by ${host} (a proxy or the server closed it: check the server's log)`;
  }
  if (/connection closed|unexpected eof|IncompleteMessage/i.test(all)) {
    return `connection closed by ${host} before an answer (check the server's log)`;
  }
  const inner = innermost(error).replace(/\(https?:\/\/[^)]*\)/g, "").replace(/\s+/g, " ").trim();
  return inner === "" ? "network error" : inner;
}

/** The innermost message of the cause chain, without Deno's `error sending request` prefix. */
function innermost(error: unknown): string {
  const all = messages(error);
  const last = all[all.length - 1] ?? "";
  return last.replace(/^error sending request for url\s*(\([^)]*\))?:\s*/i, "");
}
