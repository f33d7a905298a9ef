/**
 * Internal: the one URL check of opsbook (Prometheus, Alertmanager, Zammad,
 * Slack base URLs, generator links, settings).
 *
 * @module
 */

/** Options of {@linkcode parseHttpUrl}. */
export interface HttpUrlOptions {
  /** Refuse `user:password@` in the URL. @default {false} */
  noCredentials?: boolean;
  /** Refuse anything but `https:`. @default {false} */
  httpsOnly?: boolean;
  /** Refuse URLs longer than this many characters. @default {Infinity} */
  maxLength?: number;
}

/**
 * Parses an absolute http(s) URL, or returns `undefined` when `url` is not
 * one (not a URL, another scheme, credentials when refused, too long). Callers
 * turn `undefined` into their own error naming the setting and the expected
 * form.
 *
 * @example Accept http and https only
 * ```ts
 * import { parseHttpUrl } from "./url.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseHttpUrl("http://prom:9090/")?.host, "prom:9090");
 * assert.equal(parseHttpUrl("ftp://prom/"), undefined);
 * assert.equal(parseHttpUrl("not a url"), undefined);
 * assert.equal(parseHttpUrl("https://u:p@h/", { noCredentials: true }), undefined);
 * ```
 */
export function parseHttpUrl(
  url: string | URL | undefined,
  options: HttpUrlOptions = {},
): URL | undefined {
  if (url === undefined || url === "") return undefined;
  if (typeof url === "string" && url.length > (options.maxLength ?? Infinity)) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  const ok = options.httpsOnly
    ? parsed.protocol === "https:"
    : parsed.protocol === "http:" || parsed.protocol === "https:";
  if (!ok) return undefined;
  if (options.noCredentials && (parsed.username !== "" || parsed.password !== "")) {
    return undefined;
  }
  return parsed;
}
