/**
 * A self-contained HTML report of an executed notebook: markdown rendered,
 * code shown, outputs inline (HTML tables, SVG/PNG/JPEG embedded as `data:`
 * images, errors highlighted). No external requests, and no script runs:
 *
 * - Markdown is rendered by markdown-it (CommonMark) and sanitized;
 * - `text/html` and `text/markdown` outputs are sanitized with the same
 *   allowlist (sanitize-html);
 * - `image/svg+xml` outputs become `<img src="data:image/svg+xml;base64,…">`,
 *   as nbconvert 7 embeds them: an SVG loaded as an image cannot run scripts;
 * - the page carries a Content-Security-Policy that allows no script at all
 *   (`default-src 'none'`), a second layer should a sanitizer miss something.
 *
 * @module
 */

import { Buffer } from "node:buffer";
// @ts-types="@types/markdown-it"
import MarkdownIt from "markdown-it";
// @ts-types="@types/sanitize-html"
import sanitizeHtml from "sanitize-html";
import { escapeHtml } from "../_internal/escape.ts";
import type { Notebook, NotebookOutput } from "./nbformat.ts";

/** The report's Content-Security-Policy: no scripts, no requests, images only from `data:`. */
export const REPORT_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'";

/** Options for {@linkcode renderHtml}. */
export interface RenderHtmlOptions {
  /**
   * Document title.
   * @default {"Notebook"}
   */
  title?: string;
  /**
   * Warnings of the run (for example an allowed unknown parameter), shown at the top.
   * @default {[]}
   */
  warnings?: readonly string[];
}

const markdownIt = new MarkdownIt({ html: true, linkify: false, typographer: false });

const COLOR = /^(#[0-9a-f]{3,8}|[a-z]{3,20}|(rgb|rgba|hsl|hsla)\([\d\s.,%/]+\))$/i;
const SIZE =
  /^(\d{1,3}(\.\d+)?(px|em|rem|%|pt)?|small|medium|large|x-large|xx-large|smaller|larger)$/;

/**
 * The allowlist every piece of notebook-provided HTML goes through: markdown
 * cells (after rendering), `text/html` and `text/markdown` outputs. What is
 * not listed is dropped: scripts, styles, frames, forms, SVG and MathML
 * (with their content), event handler attributes, and any URL whose scheme
 * is not http, https or mailto (`data:` only for images).
 */
const SANITIZE: sanitizeHtml.IOptions = {
  allowedTags: [
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "p",
    "br",
    "hr",
    "blockquote",
    "pre",
    "code",
    "kbd",
    "samp",
    "var",
    "em",
    "strong",
    "b",
    "i",
    "u",
    "s",
    "del",
    "ins",
    "sub",
    "sup",
    "small",
    "mark",
    "abbr",
    "cite",
    "q",
    "dfn",
    "span",
    "div",
    "section",
    "article",
    "header",
    "footer",
    "main",
    "figure",
    "figcaption",
    "details",
    "summary",
    "ul",
    "ol",
    "li",
    "dl",
    "dt",
    "dd",
    "a",
    "img",
    "table",
    "caption",
    "colgroup",
    "col",
    "thead",
    "tbody",
    "tfoot",
    "tr",
    "th",
    "td",
  ],
  allowedAttributes: {
    "*": ["class", "id", "title", "lang", "dir", "style", "align"],
    a: ["href", "name"],
    img: ["src", "alt", "width", "height"],
    th: ["colspan", "rowspan", "scope"],
    td: ["colspan", "rowspan"],
    ol: ["start", "type", "reversed"],
    col: ["span"],
    colgroup: ["span"],
    details: ["open"],
  },
  allowedSchemes: ["http", "https", "mailto"],
  allowedSchemesByTag: { img: ["http", "https", "data"] },
  allowedSchemesAppliedToAttributes: ["href", "src", "cite"],
  allowProtocolRelative: false,
  allowedStyles: {
    "*": {
      color: [COLOR],
      "background-color": [COLOR],
      "font-size": [SIZE],
      "font-weight": [/^(normal|bold|bolder|lighter|[1-9]00)$/],
      "font-style": [/^(normal|italic|oblique)$/],
      "text-align": [/^(left|right|center|justify|start|end)$/],
      "text-decoration": [/^(none|underline|line-through|overline)$/],
      "caption-side": [/^(top|bottom)$/],
      "vertical-align": [/^(top|middle|bottom|baseline)$/],
      "white-space": [/^(normal|nowrap|pre|pre-wrap|pre-line)$/],
    },
  },
  disallowedTagsMode: "discard",
  nonTextTags: [
    "script",
    "style",
    "textarea",
    "option",
    "noscript",
    "title",
    "xmp",
    "template",
    "iframe",
    "object",
    "embed",
    "svg",
    "math",
    "noembed",
    "noframes",
    "plaintext",
    "select",
  ],
};

/**
 * Sanitizes notebook-provided HTML for the report with an allowlist
 * (sanitize-html): structure, text formatting, tables, links (http, https,
 * mailto, `#anchors`) and images (also `data:`) are kept; scripts, event
 * handlers, `javascript:` URLs, styles beyond a few safe properties, frames,
 * forms, SVG and MathML are removed.
 *
 * @example Drop a script and an event handler
 * ```ts
 * import { sanitizeReportHtml } from "./html.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   sanitizeReportHtml('<b onclick="x()">hi</b><script>x()</script>'),
 *   "<b>hi</b>",
 * );
 * ```
 */
export function sanitizeReportHtml(html: string): string {
  return sanitizeHtml(html, SANITIZE);
}

/**
 * Renders Markdown (CommonMark, with markdown-it) to sanitized HTML. Raw HTML
 * inside the Markdown is kept as Jupyter shows it, then everything goes
 * through {@linkcode sanitizeReportHtml}, so a report cannot run a notebook
 * author's scripts.
 *
 * @example Heading, list and a script that does not survive
 * ```ts
 * import { renderMarkdown } from "./html.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   renderMarkdown("# CPU\n- a\n- **b**\n\n<script>alert(1)</script>"),
 *   "<h1>CPU</h1>\n<ul>\n<li>a</li>\n<li><strong>b</strong></li>\n</ul>\n",
 * );
 * ```
 */
export function renderMarkdown(markdown: string): string {
  return sanitizeReportHtml(markdownIt.render(markdown));
}

function text(value: unknown): string {
  return Array.isArray(value) ? value.join("") : String(value ?? "");
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function dataImage(mime: string, base64: string, alt: string): string {
  return `<img class="output-image" alt="${escapeHtml(alt)}" src="data:${mime};base64,${base64}">`;
}

function renderOutput(output: NotebookOutput): string {
  switch (output.output_type) {
    case "stream":
      return `<pre class="stream ${output.name === "stderr" ? "stderr" : "stdout"}">${
        escapeHtml(output.text)
      }</pre>`;
    case "error":
      return `<pre class="error"><strong>${escapeHtml(output.ename)}: ${
        escapeHtml(output.evalue)
      }</strong>\n${escapeHtml(output.traceback.join("\n"))}</pre>`;
    default: {
      const data = output.data;
      const alt = "text/plain" in data ? text(data["text/plain"]) : "";
      if ("image/svg+xml" in data) {
        const svg = Buffer.from(text(data["image/svg+xml"]), "utf8").toString("base64");
        return `<div class="svg">${dataImage("image/svg+xml", svg, alt)}</div>`;
      }
      if ("text/html" in data) {
        return `<div class="html">${sanitizeReportHtml(text(data["text/html"]))}</div>`;
      }
      for (const mime of ["image/png", "image/jpeg", "image/gif"]) {
        if (mime in data) {
          const b64 = text(data[mime]).replace(/\s+/g, "");
          if (BASE64.test(b64)) return dataImage(mime, b64, alt);
          return `<pre class="error">${escapeHtml(`Invalid ${mime} output: not base64`)}</pre>`;
        }
      }
      if ("text/markdown" in data) {
        return `<div class="markdown">${renderMarkdown(text(data["text/markdown"]))}</div>`;
      }
      if ("application/json" in data) {
        return `<pre>${escapeHtml(JSON.stringify(data["application/json"], null, 2))}</pre>`;
      }
      if ("text/plain" in data) return `<pre>${escapeHtml(alt)}</pre>`;
      return "";
    }
  }
}

function renderParameters(nb: Notebook): string {
  const opsbook = nb.metadata.opsbook as Record<string, unknown> | undefined;
  const parameters = opsbook?.parameters;
  if (!parameters || typeof parameters !== "object") return "";
  const rows = Object.entries(parameters as Record<string, unknown>).map(([name, value]) =>
    `<tr><th scope="row"><code>${escapeHtml(name)}</code></th><td><code>${
      escapeHtml(JSON.stringify(value) ?? String(value))
    }</code></td></tr>`
  );
  if (rows.length === 0) return "";
  return `<section class="parameters"><h2>Parameters</h2>` +
    `<table class="parameters"><tbody>${rows.join("")}</tbody></table></section>`;
}

function renderWarnings(warnings: readonly string[]): string {
  if (warnings.length === 0) return "";
  return `<section class="warnings"><h2>Warnings</h2><ul>${
    warnings.map((w) => `<li>${escapeHtml(w)}</li>`).join("")
  }</ul></section>`;
}

const STYLE =
  `body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
.cell{margin:1em 0}.code pre.source{background:#f5f5f7;border-left:3px solid #4a7;padding:.6em;overflow:auto}
.prompt{color:#888;font:12px monospace}.outputs pre{margin:.3em 0;padding:.4em;overflow:auto}
pre.stderr{background:#fff4e5}pre.error{background:#fdecea;color:#a00;border-left:3px solid #d33}
.html table{border-collapse:collapse}.html td,.html th{border:1px solid #ccc;padding:2px 6px}
img{max-width:100%}.warnings{background:#fff4e5;border-left:3px solid #e90;padding:.2em .8em}
table.parameters{border-collapse:collapse}table.parameters th,table.parameters td{text-align:left;padding:1px 8px}`;

/**
 * Renders an executed notebook as one self-contained HTML document.
 *
 * @example A markdown cell and an output
 * ```ts
 * import { renderHtml } from "./html.ts";
 * import assert from "node:assert/strict";
 *
 * const html = renderHtml({
 *   nbformat: 4,
 *   nbformat_minor: 5,
 *   metadata: {},
 *   cells: [
 *     { id: "m", cell_type: "markdown", source: "# Report", metadata: {} },
 *     {
 *       id: "c",
 *       cell_type: "code",
 *       source: "1 + 1",
 *       metadata: {},
 *       execution_count: 1,
 *       outputs: [{ output_type: "execute_result", execution_count: 1, data: { "text/plain": "2" }, metadata: {} }],
 *     },
 *   ],
 * });
 * assert.match(html, /<h1>Report<\/h1>/);
 * assert.match(html, /<pre>2<\/pre>/);
 * ```
 */
export function renderHtml(nb: Notebook, options: RenderHtmlOptions = {}): string {
  const title = escapeHtml(options.title ?? "Notebook");
  const cells = nb.cells.map((cell) => {
    if (cell.cell_type === "markdown") {
      return `<section class="cell markdown">${renderMarkdown(cell.source)}</section>`;
    }
    if (cell.cell_type === "raw") {
      return `<section class="cell raw"><pre>${escapeHtml(cell.source)}</pre></section>`;
    }
    const count = cell.execution_count;
    const prompt = `In [${count ?? " "}]`;
    const id = typeof count === "number" ? ` id="cell-${count}"` : "";
    const outputs = (cell.outputs ?? []).map(renderOutput).join("\n");
    return `<section class="cell code"${id}><div class="prompt">${prompt}</div>` +
      `<pre class="source"><code>${escapeHtml(cell.source)}</code></pre>` +
      `<div class="outputs">${outputs}</div></section>`;
  });
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${REPORT_CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title><style>${STYLE}</style></head>
<body>
${renderWarnings(options.warnings ?? [])}${renderParameters(nb)}${cells.join("\n")}
</body></html>
`;
}
