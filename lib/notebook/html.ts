/**
 * A self-contained HTML report of an executed notebook: markdown rendered,
 * code shown, outputs inline (SVG inline, HTML tables, PNG/JPEG embedded as
 * data URIs, errors highlighted). No external requests.
 *
 * @module
 */

import type { Notebook, NotebookOutput } from "./nbformat.ts";

/** Options for {@linkcode renderHtml}. */
export interface RenderHtmlOptions {
  /**
   * Document title.
   * @default {"Notebook"}
   */
  title?: string;
}

/**
 * Escapes `&`, `<`, `>` and `"` for HTML.
 *
 * @example Escape a tag
 * ```ts
 * import { escapeHtml } from "./html.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(escapeHtml("<b>&"), "&lt;b&gt;&amp;");
 * ```
 */
export function escapeHtml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");
}

function inline(text: string): string {
  const codes: string[] = [];
  let out = text.replace(/`([^`]+)`/g, (_, code: string) => {
    codes.push(`<code>${escapeHtml(code)}</code>`);
    return `\uE000${codes.length - 1}\uE001`;
  });
  out = escapeHtml(out)
    .replace(
      /!\[([^\]]*)\]\(([^)\s]+)\)/g,
      (_, alt, src) =>
        /^(https?:|data:image\/)/.test(src) ? `<img alt="${alt}" src="${src}">` : alt,
    )
    .replace(
      /\[([^\]]+)\]\(([^)\s]+)\)/g,
      (_, label, href) =>
        /^(https?:|mailto:|#)/.test(href) ? `<a href="${href}">${label}</a>` : label,
    )
    .replace(/\*\*([^*]+)\*\*/g, "<strong>$1</strong>")
    .replace(/__([^_]+)__/g, "<strong>$1</strong>")
    .replace(/\*([^*]+)\*/g, "<em>$1</em>")
    .replace(/(^|\W)_([^_]+)_(?=\W|$)/g, "$1<em>$2</em>");
  return out.replace(/\uE000(\d+)\uE001/g, (_, i) => codes[Number(i)]);
}

/**
 * Renders the common Markdown subset (headings, paragraphs, lists, fenced
 * code, block quotes, rules, emphasis, code spans, links). Raw HTML is
 * escaped, so a report cannot run a notebook author's scripts.
 *
 * @example Heading and list
 * ```ts
 * import { renderMarkdown } from "./html.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(renderMarkdown("# CPU\n- a\n- **b**"), "<h1>CPU</h1>\n<ul><li>a</li><li><strong>b</strong></li></ul>");
 * ```
 */
export function renderMarkdown(markdown: string): string {
  const lines = markdown.replace(/\r\n?/g, "\n").split("\n");
  const blocks: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    const fence = line.match(/^\s*(```|~~~)\s*(\S*)/);
    if (fence) {
      const body: string[] = [];
      i++;
      while (i < lines.length && !lines[i].trim().startsWith(fence[1])) body.push(lines[i++]);
      i++;
      blocks.push(`<pre><code>${escapeHtml(body.join("\n"))}</code></pre>`);
      continue;
    }
    const heading = line.match(/^(#{1,6})\s+(.*?)\s*#*\s*$/);
    if (heading) {
      const n = heading[1].length;
      blocks.push(`<h${n}>${inline(heading[2])}</h${n}>`);
      i++;
      continue;
    }
    if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) {
      blocks.push("<hr>");
      i++;
      continue;
    }
    if (/^\s*[-*+]\s+/.test(line) || /^\s*\d+[.)]\s+/.test(line)) {
      const ordered = /^\s*\d/.test(line);
      const items: string[] = [];
      while (i < lines.length && /^\s*([-*+]|\d+[.)])\s+/.test(lines[i])) {
        items.push(`<li>${inline(lines[i].replace(/^\s*([-*+]|\d+[.)])\s+/, ""))}</li>`);
        i++;
      }
      blocks.push(ordered ? `<ol>${items.join("")}</ol>` : `<ul>${items.join("")}</ul>`);
      continue;
    }
    if (/^\s*>/.test(line)) {
      const quoted: string[] = [];
      while (i < lines.length && /^\s*>/.test(lines[i])) {
        quoted.push(lines[i++].replace(/^\s*>\s?/, ""));
      }
      blocks.push(`<blockquote>${renderMarkdown(quoted.join("\n"))}</blockquote>`);
      continue;
    }
    if (line.trim() === "") {
      i++;
      continue;
    }
    const para: string[] = [];
    while (
      i < lines.length && lines[i].trim() !== "" &&
      !/^(#{1,6}\s|\s*(```|~~~)|\s*[-*+]\s|\s*\d+[.)]\s|\s*>)/.test(lines[i])
    ) para.push(lines[i++]);
    blocks.push(`<p>${inline(para.join("\n"))}</p>`);
  }
  return blocks.join("\n");
}

function text(value: unknown): string {
  return Array.isArray(value) ? value.join("") : String(value ?? "");
}

function renderOutput(output: NotebookOutput): string {
  switch (output.output_type) {
    case "stream":
      return `<pre class="stream ${output.name}">${escapeHtml(output.text)}</pre>`;
    case "error":
      return `<pre class="error"><strong>${escapeHtml(output.ename)}: ${
        escapeHtml(output.evalue)
      }</strong>\n${escapeHtml(output.traceback.join("\n"))}</pre>`;
    default: {
      const data = output.data;
      if ("image/svg+xml" in data) return `<div class="svg">${text(data["image/svg+xml"])}</div>`;
      if ("text/html" in data) return `<div class="html">${text(data["text/html"])}</div>`;
      for (const mime of ["image/png", "image/jpeg", "image/gif"]) {
        if (mime in data) {
          const b64 = text(data[mime]).replace(/\s+/g, "");
          return `<img src="data:${mime};base64,${b64}">`;
        }
      }
      if ("text/markdown" in data) {
        return `<div>${renderMarkdown(text(data["text/markdown"]))}</div>`;
      }
      if ("application/json" in data) {
        return `<pre>${escapeHtml(JSON.stringify(data["application/json"], null, 2))}</pre>`;
      }
      if ("text/plain" in data) return `<pre>${escapeHtml(text(data["text/plain"]))}</pre>`;
      return "";
    }
  }
}

const STYLE =
  `body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
.cell{margin:1em 0}.code pre.source{background:#f5f5f7;border-left:3px solid #4a7;padding:.6em;overflow:auto}
.prompt{color:#888;font:12px monospace}.outputs pre{margin:.3em 0;padding:.4em;overflow:auto}
pre.stderr{background:#fff4e5}pre.error{background:#fdecea;color:#a00;border-left:3px solid #d33}
.html table{border-collapse:collapse}.html td,.html th{border:1px solid #ccc;padding:2px 6px}
img,.svg svg{max-width:100%}`;

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
      const tags = Array.isArray(cell.metadata.tags) ? cell.metadata.tags : [];
      // The runner's own error markers are trusted HTML.
      const body = tags.includes("opsbook-error")
        ? `<div class="marker">${cell.source}</div>`
        : renderMarkdown(cell.source);
      return `<section class="cell markdown">${body}</section>`;
    }
    if (cell.cell_type === "raw") {
      return `<section class="cell raw"><pre>${escapeHtml(cell.source)}</pre></section>`;
    }
    const prompt = `In [${cell.execution_count ?? " "}]`;
    const outputs = (cell.outputs ?? []).map(renderOutput).join("\n");
    return `<section class="cell code"><div class="prompt">${prompt}</div>` +
      `<pre class="source"><code>${escapeHtml(cell.source)}</code></pre>` +
      `<div class="outputs">${outputs}</div></section>`;
  });
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title><style>${STYLE}</style></head>
<body>
${cells.join("\n")}
</body></html>
`;
}
