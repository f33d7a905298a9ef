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

/** The subset of a DOM element that opsbook touches (Deno has no DOM lib types). */
export interface DomElement {
  readonly tagName: string;
  readonly outerHTML: string;
  textContent: string | null;
  readonly firstElementChild: DomElement | null;
  getAttribute(name: string): string | null;
  setAttribute(name: string, value: string): void;
  removeAttribute(name: string): void;
  querySelector(selector: string): DomElement | null;
  querySelectorAll(selector: string): ArrayLike<DomElement>;
  remove(): void;
}

/** The subset of a DOM document that opsbook touches. */
export interface Doc {
  createElementNS(namespace: string, name: string): DomElement;
  readonly body: DomElement;
}

function parse(html: string): Doc {
  return (parseHTML(html) as unknown as { document: Doc }).document;
}

/** A fresh, empty HTML document Plot can render into. */
export function createDocument(): Doc {
  return parse("<!DOCTYPE html><html><head></head><body></body></html>");
}

/** Parse SVG (or HTML) markup into a document; returns its first element. */
export function parseMarkup(markup: string): DomElement {
  const document = parse(`<!DOCTYPE html><html><head></head><body>${markup}</body></html>`);
  const element = document.body.firstElementChild;
  if (element === null) throw new SyntaxError("Cannot parse markup: no element found");
  return element;
}

/**
 * The key the Deno Jupyter kernel calls to get a value's mime bundle, typed
 * as a unique symbol so classes can declare `[JUPYTER_DISPLAY]()`.
 */
export const JUPYTER_DISPLAY: unique symbol = Symbol.for("Jupyter.display") as never;
