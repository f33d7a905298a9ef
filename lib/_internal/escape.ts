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

/**
 * Characters XML 1.0 forbids anywhere in a document (C0 controls other than
 * tab, line feed and carriage return; lone surrogates; U+FFFE and U+FFFF),
 * not even as `&#…;` references.
 */
const NOT_XML_ALL =
  // deno-lint-ignore no-control-regex -- matching the control characters is the point
  /[\0-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
/** Quick check without the `u` flag (several times faster on large charts); may match a valid pair. */
// deno-lint-ignore no-control-regex -- matching the control characters is the point
const MAYBE_NOT_XML = /[\0-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]/;

/**
 * Makes `text` well-formed XML character data: each C0 control character
 * XML forbids becomes its visible Control Pictures symbol (`\u0007` → `␇`,
 * `\u0000` → `␀`), so two labels that differ only by one stay apart; a lone
 * surrogate, U+FFFE and U+FFFF become `�`. Markup is left alone, so it
 * applies to a whole SVG document as well as to one label.
 *
 * @example A label with a bell and a NUL
 * ```ts
 * import { xmlSafe } from "./escape.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(xmlSafe("<text>web\u0007-1\u0000</text>"), "<text>web␇-1␀</text>");
 * assert.equal(xmlSafe("tab\tok \ud83d"), "tab\tok \ufffd");
 * ```
 */
export function xmlSafe(text: string): string {
  if (!MAYBE_NOT_XML.test(text)) return text;
  return text.replace(NOT_XML_ALL, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x20 ? String.fromCharCode(0x2400 + code) : "\ufffd";
  });
}
