import assert from "node:assert/strict";
import { escapeHtml } from "../../lib/_internal/escape.ts";

Deno.test("escapeHtml escapes the five characters, & first", () => {
  assert.equal(escapeHtml(`&<>"'`), "&amp;&lt;&gt;&quot;&#39;");
  assert.equal(escapeHtml("&amp;"), "&amp;amp;");
  assert.equal(escapeHtml("plain text ✓"), "plain text ✓");
  assert.equal(
    escapeHtml(`<a title='x' href="y">`),
    "&lt;a title=&#39;x&#39; href=&quot;y&quot;&gt;",
  );
});
