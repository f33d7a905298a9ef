/**
 * Internal: the one HTML/XML escape of opsbook (charts, tables, notebook
 * reports).
 *
 * @module
 */

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/**
 * Escapes `& < > " '` so `text` is safe in HTML/XML text and in quoted
 * attribute values alike.
 *
 * @example Escape a label value
 * ```ts
 * import { escapeHtml } from "./escape.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(escapeHtml(`<b title="x">Tom & Jerry's</b>`),
 *   "&lt;b title=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/b&gt;");
 * ```
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}
