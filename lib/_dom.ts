/**
 * Server-side DOM for Observable Plot (internal).
 *
 * Why linkedom and not jsdom: Plot only needs `createElementNS`, attributes,
 * text nodes and `outerHTML`; it never lays out, measures or runs scripts.
 * linkedom builds exactly that on a flat linked list, loads in a few
 * milliseconds and serialises large trees (100k+ elements) much faster than
 * jsdom, which also pulls in a full HTML parser, CSSOM, a window with timers
 * and a heavier dependency tree that slows every notebook cell's first import.
 *
 * @module
 */
import { parseHTML } from "linkedom";

/** The subset of the DOM that chart code touches. */
export type Doc = Document;

/** A fresh, empty HTML document Plot can render into. */
export function createDocument(): Doc {
  const { document } = parseHTML(
    "<!DOCTYPE html><html><head></head><body></body></html>",
  );
  return document as unknown as Doc;
}

/** Parse SVG (or HTML) markup into a document; returns its first element. */
export function parseMarkup(markup: string): Element {
  const { document } = parseHTML(
    `<!DOCTYPE html><html><head></head><body>${markup}</body></html>`,
  );
  const element = document.body.firstElementChild;
  if (element === null) throw new SyntaxError("Cannot parse markup: no element found");
  return element as unknown as Element;
}

/** Escape text for XML/HTML text and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => XML_ESCAPES[c]);
}

const XML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};
