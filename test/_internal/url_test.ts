import assert from "node:assert/strict";
import { parseHttpUrl } from "../../lib/_internal/url.ts";

Deno.test("parseHttpUrl accepts absolute http(s) URLs only", () => {
  assert.equal(parseHttpUrl("http://prom:9090/x")?.href, "http://prom:9090/x");
  assert.equal(parseHttpUrl(new URL("https://h/"))?.href, "https://h/");
  for (
    const bad of [undefined, "", "prom:9090", "/api", "ftp://h/", "javascript:alert(1)", "x y"]
  ) {
    assert.equal(parseHttpUrl(bad), undefined, String(bad));
  }
});

Deno.test("parseHttpUrl options: no credentials, https only, a length limit", () => {
  assert.equal(parseHttpUrl("https://u:p@h/")?.username, "u");
  assert.equal(parseHttpUrl("https://u:p@h/", { noCredentials: true }), undefined);
  assert.equal(parseHttpUrl("https://u@h/", { noCredentials: true }), undefined);
  assert.equal(parseHttpUrl("http://h/", { httpsOnly: true }), undefined);
  assert.equal(parseHttpUrl("https://h/", { httpsOnly: true })?.host, "h");
  assert.equal(parseHttpUrl(`https://h/${"a".repeat(20)}`, { maxLength: 20 }), undefined);
  assert.equal(parseHttpUrl("https://h/a", { maxLength: 20 })?.pathname, "/a");
});
