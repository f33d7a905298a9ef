import assert from "node:assert/strict";
import {
  renderHtml,
  renderMarkdown,
  REPORT_CSP,
  sanitizeReportHtml,
} from "../../lib/notebook/html.ts";
import { escapeHtml } from "../../lib/_internal/escape.ts";
import type { Notebook } from "../../lib/notebook/nbformat.ts";

Deno.test("renderMarkdown renders CommonMark and removes scripts, handlers and javascript: URLs", () => {
  assert.equal(
    renderMarkdown(
      "## Title\n\nSome *em*, **strong**, `a<b` and [link](https://x.test).\n\n1. one\n2. two\n\n```ts\nconst a = 1 < 2;\n```\n\n> quoted\n\n---\n<script>alert(1)</script>",
    ),
    [
      "<h2>Title</h2>",
      '<p>Some <em>em</em>, <strong>strong</strong>, <code>a&lt;b</code> and <a href="https://x.test">link</a>.</p>',
      "<ol>\n<li>one</li>\n<li>two</li>\n</ol>",
      '<pre><code class="language-ts">const a = 1 &lt; 2;\n</code></pre>',
      "<blockquote>\n<p>quoted</p>\n</blockquote>",
      "<hr />\n",
    ].join("\n"),
  );
  assert.equal(renderMarkdown("[x](javascript:alert(1))"), "<p>[x](javascript:alert(1))</p>\n");
  // Issue 14.1: a link nested in an image's alt text broke out of the attribute.
  assert.equal(
    renderMarkdown('![x[q](http://a)](http:/src/onerror=document.body.dataset.md="MDXSS"//)'),
    '<p><img src="http:/src/onerror=document.body.dataset.md=%22MDXSS%22//" alt="xq" /></p>\n',
  );
  // Raw HTML is kept as Jupyter shows it, minus what could run.
  assert.equal(
    renderMarkdown(
      '<span style="color:red;background:url(x)" onclick="f()">red</span> <a href="jav&#x09;ascript:f()">a</a>',
    ),
    '<p><span style="color:red">red</span> <a>a</a></p>\n',
  );
  assert.equal(
    sanitizeReportHtml("<svg><script>f()</script><text>t</text></svg><b>ok</b>"),
    "<b>ok</b>",
  );
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
            data: {
              "image/svg+xml": "<svg><script>alert(1)</script></svg>",
              "text/plain": "svg <1>",
            },
            metadata: {},
          },
          {
            output_type: "execute_result",
            execution_count: 4,
            data: {
              "text/html": '<table><tr><td onclick="f()">1</td></tr></table><script>f()</script>',
              "text/plain": "t",
            },
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
  assert.ok(html.includes(`<meta http-equiv="Content-Security-Policy" content="${REPORT_CSP}">`));
  assert.match(
    html,
    /<img class="output-image" alt="&lt;img&gt;" src="data:image\/png;base64,iVBORw0KGgo=">/,
  );
  // SVG is embedded as an image, as nbconvert 7 does: its scripts cannot run.
  const svg = btoa("<svg><script>alert(1)</script></svg>");
  assert.ok(
    html.includes(
      `<div class="svg"><img class="output-image" alt="svg &lt;1&gt;" src="data:image/svg+xml;base64,${svg}"></div>`,
    ),
  );
  assert.ok(html.includes('<div class="html"><table><tr><td>1</td></tr></table></div>'));
  assert.match(
    html,
    /<pre class="error"><strong>Error: boom &lt;x&gt;<\/strong>\nError: boom &lt;x&gt;\n {4}at f<\/pre>/,
  );
  assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//);
});
