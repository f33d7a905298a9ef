import assert from "node:assert/strict";
import { escapeHtml, renderHtml, renderMarkdown } from "../../lib/notebook/html.ts";
import type { Notebook } from "../../lib/notebook/nbformat.ts";

Deno.test("renderMarkdown renders the common subset and escapes raw HTML", () => {
  assert.equal(
    renderMarkdown(
      "## Title\n\nSome *em*, **strong**, `a<b` and [link](https://x.test).\n\n1. one\n2. two\n\n```ts\nconst a = 1 < 2;\n```\n\n> quoted\n\n---\n<script>alert(1)</script>",
    ),
    [
      "<h2>Title</h2>",
      '<p>Some <em>em</em>, <strong>strong</strong>, <code>a&lt;b</code> and <a href="https://x.test">link</a>.</p>',
      "<ol><li>one</li><li>two</li></ol>",
      "<pre><code>const a = 1 &lt; 2;</code></pre>",
      "<blockquote><p>quoted</p></blockquote>",
      "<hr>",
      "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>",
    ].join("\n"),
  );
  assert.equal(renderMarkdown("[x](javascript:alert(1))"), "<p>x)</p>");
  assert.equal(escapeHtml('"&'), "&quot;&amp;");
});

Deno.test("renderHtml embeds every output kind in one self-contained page", () => {
  const nb: Notebook = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {},
    cells: [
      { id: "m", cell_type: "markdown", source: "# Report", metadata: {} },
      {
        id: "c",
        cell_type: "code",
        source: "show()",
        metadata: {},
        execution_count: 4,
        outputs: [
          { output_type: "stream", name: "stdout", text: "out <1>\n" },
          { output_type: "stream", name: "stderr", text: "warn\n" },
          {
            output_type: "display_data",
            data: { "image/png": "iVBORw0KGgo=", "text/plain": "<img>" },
            metadata: {},
          },
          {
            output_type: "display_data",
            data: { "image/svg+xml": "<svg></svg>", "text/plain": "svg" },
            metadata: {},
          },
          {
            output_type: "execute_result",
            execution_count: 4,
            data: { "text/html": "<table><tr><td>1</td></tr></table>", "text/plain": "t" },
            metadata: {},
          },
          {
            output_type: "error",
            ename: "Error",
            evalue: "boom <x>",
            traceback: ["Error: boom <x>", "    at f"],
          },
        ],
      },
    ],
  };
  const html = renderHtml(nb, { title: "cpu <report>" });
  assert.match(html, /^<!DOCTYPE html>/);
  assert.match(html, /<title>cpu &lt;report&gt;<\/title>/);
  assert.match(html, /<h1>Report<\/h1>/);
  assert.match(html, /In \[4\]/);
  assert.match(html, /<pre class="stream stdout">out &lt;1&gt;\n<\/pre>/);
  assert.match(html, /<pre class="stream stderr">warn/);
  assert.match(html, /<img src="data:image\/png;base64,iVBORw0KGgo=">/);
  assert.match(html, /<div class="svg"><svg><\/svg><\/div>/);
  assert.match(html, /<div class="html"><table><tr><td>1<\/td>/);
  assert.match(
    html,
    /<pre class="error"><strong>Error: boom &lt;x&gt;<\/strong>\nError: boom &lt;x&gt;\n {4}at f<\/pre>/,
  );
  assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//);
});
