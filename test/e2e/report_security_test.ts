/// <reference lib="dom" />
/**
 * The `--html` report cannot run scripts: known XSS payloads and a seeded
 * fuzz of markdown/HTML/SVG mutations are rendered by `renderHtml`, opened in
 * headless Chromium from a file (as a user opens the report), and every
 * payload tries to call `pwn(id)` or set a flag on `document.body.dataset`.
 *
 * Each page is checked twice: with the report's Content-Security-Policy
 * removed (the sanitizer alone must hold) and as written (both layers). A
 * positive control inserts the raw payloads unsanitized and shows that the
 * harness does see scripts run.
 *
 * @module
 */

import assert from "node:assert/strict";
import puppeteer, { type Browser } from "puppeteer-core";
import { renderHtml } from "../../lib/notebook/html.ts";
import type { Notebook, NotebookCell, NotebookOutput } from "../../lib/notebook/nbformat.ts";

const CHROMIUM = "/usr/bin/chromium";
const hasChromium = (() => {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
})();
const CHROMIUM_ARGS = [
  "--headless=new",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-dev-shm-usage",
];

/** Where a payload is placed in the notebook. */
type Place = "markdown" | "html" | "svg" | "md-output" | "stream" | "error" | "plain" | "png";

interface Payload {
  place: Place;
  text: string;
}

/** Known payloads; `ID` is replaced by a unique number per payload. */
const KNOWN: Payload[] = [
  // The nested image: a link inside the alt text broke out of the attribute.
  {
    place: "markdown",
    text: '![x[q](http://a)](http:/src/onerror=document.body.dataset.md="MDXSS"//)',
  },
  { place: "markdown", text: "![x[q](http://a)](http:/src/onerror=pwn(ID)//)" },
  { place: "markdown", text: "<img src=x onerror=pwn(ID)>" },
  { place: "markdown", text: '<img src="x" onerror="pwn(ID)">' },
  { place: "markdown", text: "<svg onload=pwn(ID)></svg>" },
  { place: "markdown", text: "<script>pwn(ID)</script>" },
  { place: "markdown", text: "<details open ontoggle=pwn(ID)>x</details>" },
  { place: "markdown", text: "<input autofocus onfocus=pwn(ID)>" },
  { place: "markdown", text: "<body onload=pwn(ID)>" },
  { place: "markdown", text: "<iframe srcdoc='<script>parent.pwn(ID)</script>'></iframe>" },
  { place: "markdown", text: "<iframe src=javascript:parent.pwn(ID)></iframe>" },
  { place: "markdown", text: "<object data=javascript:pwn(ID)></object>" },
  { place: "markdown", text: "<embed src=javascript:pwn(ID)>" },
  { place: "markdown", text: "<math><mtext><table><mglyph><style><img src=x onerror=pwn(ID)>" },
  { place: "markdown", text: '<svg></p><style><a id="</style><img src=1 onerror=pwn(ID)>">' },
  { place: "markdown", text: '<noscript><p title="</noscript><img src=x onerror=pwn(ID)>">' },
  { place: "markdown", text: "<a href=javascript:pwn(ID)>link</a>" },
  { place: "markdown", text: "[a](javascript:pwn(ID))" },
  { place: "markdown", text: "[a](JaVaScRiPt:pwn(ID))" },
  { place: "markdown", text: "[a](&#106;avascript:pwn(ID))" },
  { place: "markdown", text: "[a](&#x6A;&#x61;vascript&colon;pwn(ID))" },
  { place: "markdown", text: "<a href='jav&#x09;ascript:pwn(ID)'>tab</a>" },
  { place: "markdown", text: "<a href=' javascript:pwn(ID)'>space</a>" },
  { place: "markdown", text: "<a href='&#0000106avascript:pwn(ID)'>zeros</a>" },
  { place: "markdown", text: "[a](<javascript:pwn(ID)>)" },
  { place: "markdown", text: "[a][r]\n\n[r]: javascript:pwn(ID)" },
  { place: "markdown", text: "<javascript:pwn(ID)>" },
  { place: "markdown", text: "![a](javascript:pwn(ID))" },
  { place: "markdown", text: '<a href="data:text/html,<script>pwn(ID)</script>">d</a>' },
  { place: "markdown", text: "<a href=vbscript:pwn(ID)>vb</a>" },
  { place: "markdown", text: "<form><button formaction=javascript:pwn(ID)>b</button></form>" },
  { place: "markdown", text: "<meta http-equiv=refresh content='0;url=javascript:pwn(ID)'>" },
  { place: "markdown", text: "<base href=javascript:pwn(ID)//>" },
  { place: "markdown", text: '<div style="background:url(javascript:pwn(ID))">s</div>' },
  { place: "markdown", text: '<span style="color:red;x:expression(pwn(ID))">e</span>' },
  { place: "markdown", text: "`<img src=x onerror=pwn(ID)>`" },
  { place: "markdown", text: "<!-- --><img src=x onerror=pwn(ID)> -->" },
  { place: "markdown", text: "<![CDATA[<img src=x onerror=pwn(ID)>]]>" },
  { place: "markdown", text: "<img src=x onerror\u000C=pwn(ID)>" },
  { place: "markdown", text: "<img/src=x/onerror=pwn(ID)>" },
  { place: "markdown", text: '<img src="x" alt="``<img src=x onerror=pwn(ID)>``">' },
  { place: "markdown", text: "<<img src=x onerror=pwn(ID)>img src=x>" },
  {
    place: "markdown",
    text: "<svg><foreignObject><img src=x onerror=pwn(ID)></foreignObject></svg>",
  },
  { place: "markdown", text: "<svg><a xlink:href=javascript:pwn(ID)><text y=9>s</text></a></svg>" },
  { place: "markdown", text: "<svg><animate onbegin=pwn(ID) attributeName=x dur=1s>" },
  { place: "markdown", text: "<template><img src=x onerror=pwn(ID)></template>" },
  { place: "markdown", text: "<textarea></textarea><img src=x onerror=pwn(ID)>" },
  { place: "markdown", text: "<title></title><img src=x onerror=pwn(ID)>" },
  { place: "markdown", text: "<video><source onerror=pwn(ID)></video>" },
  { place: "markdown", text: "<audio src=x onerror=pwn(ID)>" },
  { place: "markdown", text: "<marquee onstart=pwn(ID)>m</marquee>" },
  { place: "markdown", text: "<isindex type=image src=1 onerror=pwn(ID)>" },
  { place: "markdown", text: "<img src=x onerror=&#112;&#119;&#110;&#40;ID&#41;>" },
  { place: "html", text: "<table><tr><td>1</td></tr></table><script>pwn(ID)</script>" },
  { place: "html", text: "<img src=x onerror=pwn(ID)>" },
  { place: "html", text: "<svg><script>pwn(ID)</script></svg>" },
  { place: "html", text: "<svg onload=pwn(ID)><rect/></svg>" },
  { place: "html", text: "<style>@import 'javascript:pwn(ID)';</style>" },
  { place: "html", text: "<a href=javascript:pwn(ID)>x</a>" },
  { place: "html", text: '<iframe src="data:text/html,<script>parent.pwn(ID)</script>"></iframe>' },
  { place: "html", text: "<div onmouseover=pwn(ID) style=position:fixed;inset:0>cover</div>" },
  {
    place: "svg",
    text: '<svg xmlns="http://www.w3.org/2000/svg"><script>pwn(ID)</script></svg>',
  },
  { place: "svg", text: '<svg xmlns="http://www.w3.org/2000/svg" onload="pwn(ID)"/>' },
  {
    place: "svg",
    text:
      '<svg xmlns="http://www.w3.org/2000/svg"><foreignObject width="9" height="9"><img xmlns="http://www.w3.org/1999/xhtml" src="x" onerror="pwn(ID)"/></foreignObject></svg>',
  },
  { place: "svg", text: "</div><img src=x onerror=pwn(ID)><div>" },
  {
    place: "svg",
    text:
      '<svg xmlns="http://www.w3.org/2000/svg"><a href="javascript:pwn(ID)"><rect width="9" height="9"/></a></svg>',
  },
  { place: "md-output", text: "<img src=x onerror=pwn(ID)> ![a](javascript:pwn(ID))" },
  { place: "stream", text: "<img src=x onerror=pwn(ID)>" },
  { place: "error", text: "<img src=x onerror=pwn(ID)>" },
  { place: "plain", text: "</pre><img src=x onerror=pwn(ID)>" },
  { place: "png", text: '"><img src=x onerror=pwn(ID)>' },
];

/** mulberry32: a small seeded PRNG, so a failing case can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const JS = [
  "pwn(ID)",
  "document.body.dataset.fID=1",
  "&#112;&#119;&#110;&#40;ID&#41;",
  "pwn&lpar;ID&rpar;",
  "top['pw'+'n'](ID)",
];
const SCHEMES = [
  "javascript:",
  "JAVASCRIPT:",
  "java\tscript:",
  "java&#x09;script:",
  "&#106;avascript:",
  "&#x6a;avascript&colon;",
  " javascript:",
  "\u0001javascript:",
  "jav&NewLine;ascript:",
  "vbscript:",
  "data:text/html,<script>parent.pwn(ID)</script>#",
];
const EVENTS = [
  "onerror",
  "onload",
  "onfocus",
  "ontoggle",
  "onmouseover",
  "onbegin",
  "onanimationstart",
  "onpageshow",
  "OnErRoR",
];
const TAGS = [
  "img src=x",
  "svg",
  "body",
  "input autofocus",
  "details open",
  "iframe",
  "video src=x",
  "audio src=x",
  "a href=#",
  "div style=animation-name:spin",
  "math",
  "select autofocus",
  "textarea autofocus",
  "object",
  "image src=x",
];
const WRAPS: ((s: string, r: () => number) => string)[] = [
  (s) => s,
  (s, r) => `![x[${s}](http://a)](http:/src/onerror=${pick(JS, r)}//)`,
  (s) => `[${s}](http://a)`,
  (s) => `![${s}](x)`,
  (s) => `**${s}**`,
  (s) => `> ${s}`,
  (s) => `- ${s}`,
  (s) => `<div>${s}</div>`,
  (s) => `<svg>${s}</svg>`,
  (s) => `<math><mtext>${s}</mtext></math>`,
  (s) => `<table><td>${s}</td></table>`,
  (s) => `<noscript>${s}</noscript>`,
  (s) => `<style>${s}</style>`,
  (s) => `<!--${s}-->`,
  (s) => `<a title="${s}">t</a>`,
  (s) => `\`${s}\``,
  (s) => `<p>${s}`,
  (s) => `<svg><desc>${s}</desc></svg>`,
  (s) => `<svg><foreignObject>${s}</foreignObject></svg>`,
  (s) => `<template>${s}</template>`,
];

function pick<T>(list: readonly T[], r: () => number): T {
  return list[Math.floor(r() * list.length)];
}

function mutate(s: string, r: () => number): string {
  switch (Math.floor(r() * 6)) {
    case 0:
      return s.replace(/ /g, pick(["/", "\n", "\t", "\u000C", " "], r));
    case 1:
      return s.replace(/=/g, pick([" = ", "=", "\n=\n"], r));
    case 2:
      return s.replace(/>/g, pick([">", " >", "/>", "//>"], r));
    case 3:
      return s.toUpperCase().replace(/PWN\(/g, "pwn(").replace(
        /DOCUMENT\.BODY\.DATASET/g,
        "document.body.dataset",
      ).replace(/&#(X?)/g, (_, x) => `&#${x.toLowerCase()}`).replace(
        /&LPAR;|&RPAR;|&COLON;|&NEWLINE;/g,
        (e) => e.toLowerCase(),
      );
    case 4:
      return s + pick(["<", "<!--", "</", "]]>", "\"'", "`"], r);
    default:
      return s;
  }
}

function fuzzPayload(r: () => number): Payload {
  const js = pick(JS, r);
  let core: string;
  switch (Math.floor(r() * 5)) {
    case 0:
      core = `<${pick(TAGS, r)} ${pick(EVENTS, r)}=${js}>`;
      break;
    case 1:
      core = `<a href="${pick(SCHEMES, r)}${js}">x</a>`;
      break;
    case 2:
      core = `[x](${pick(SCHEMES, r)}${js})`;
      break;
    case 3:
      core = `<script>${js}</script>`;
      break;
    default:
      core = `<svg><a xlink:href="${
        pick(SCHEMES, r)
      }${js}"><text>t</text></a><script>${js}</script></svg>`;
  }
  const text = mutate(pick(WRAPS, r)(core, r), r);
  const place = pick<Place>(["markdown", "markdown", "markdown", "html", "svg", "md-output"], r);
  return { place, text };
}

function notebookOf(payloads: Payload[]): Notebook {
  const cells: NotebookCell[] = [];
  payloads.forEach(({ place, text: raw }, i) => {
    const text = raw.replaceAll("ID", String(i + 1));
    if (place === "markdown") {
      cells.push({ id: `m${i}`, cell_type: "markdown", metadata: {}, source: text });
      return;
    }
    let output: NotebookOutput;
    switch (place) {
      case "stream":
        output = { output_type: "stream", name: "stdout", text };
        break;
      case "error":
        output = { output_type: "error", ename: text, evalue: text, traceback: [text] };
        break;
      default: {
        const mime = {
          html: "text/html",
          svg: "image/svg+xml",
          "md-output": "text/markdown",
          plain: "text/plain",
          png: "image/png",
        }[place];
        output = { output_type: "display_data", metadata: {}, data: { [mime]: text } };
      }
    }
    cells.push({
      id: `c${i}`,
      cell_type: "code",
      metadata: {},
      source: text,
      execution_count: i + 1,
      outputs: [output],
    });
  });
  return { nbformat: 4, nbformat_minor: 5, metadata: {}, cells };
}

interface Seen {
  pwned: string[];
  dataset: string[];
  bad: string[];
  requests: string[];
}

/** Opens an HTML file, interacts with it and reports what ran and what the DOM holds. */
async function inspect(browser: Browser, html: string): Promise<Seen> {
  const dir = await Deno.makeTempDir({ prefix: "opsbook-report-xss-" });
  const page = await browser.newPage();
  try {
    const file = `${dir}/report.html`;
    await Deno.writeTextFile(file, html);
    const requests: string[] = [];
    let loaded = false;
    await page.setRequestInterception(true);
    page.on("request", (req) => {
      const url = req.url();
      // Stay on the report: a clicked link must not replace the page being inspected.
      if (loaded && req.isNavigationRequest()) return void req.abort();
      if (url.startsWith("file:") || url.startsWith("data:")) return void req.continue();
      requests.push(url);
      return void req.abort();
    });
    page.on("dialog", (d) => void d.dismiss());
    await page.evaluateOnNewDocument(() => {
      // deno-lint-ignore no-explicit-any
      const w = globalThis as any;
      w.__pwned = [];
      w.pwn = (id: unknown) => w.__pwned.push(String(id));
      // Clicks run `javascript:` links but follow no other link: the page under test stays.
      addEventListener("click", (e) => {
        const a = (e.target as Element | null)?.closest?.("a[href], area[href]");
        if (a && (a as HTMLAnchorElement).protocol !== "javascript:") e.preventDefault();
      }, true);
    });
    await page.goto(`file://${file}`, { waitUntil: "load" });
    loaded = true;
    // Give error/load/animation handlers time, then interact with every element.
    await new Promise((r) => setTimeout(r, 400));
    await page.evaluate(() => {
      for (const el of document.querySelectorAll("body *")) {
        for (const type of ["mouseover", "focus", "click"]) {
          try {
            if (type === "click" && el instanceof HTMLAnchorElement && /^https?:/.test(el.href)) {
              continue;
            }
            el.dispatchEvent(new Event(type, { bubbles: true }));
            if (type === "click" && el instanceof HTMLElement) el.click();
          } catch { /* keep going */ }
        }
      }
    });
    await new Promise((r) => setTimeout(r, 300));
    return await page.evaluate((reqs) => {
      const allowed = new Set([
        "A",
        "ABBR",
        "ARTICLE",
        "B",
        "BLOCKQUOTE",
        "BR",
        "CAPTION",
        "CITE",
        "CODE",
        "COL",
        "COLGROUP",
        "DD",
        "DEL",
        "DETAILS",
        "DFN",
        "DIV",
        "DL",
        "DT",
        "EM",
        "FIGCAPTION",
        "FIGURE",
        "FOOTER",
        "H1",
        "H2",
        "H3",
        "H4",
        "H5",
        "H6",
        "HEADER",
        "HR",
        "I",
        "IMG",
        "INS",
        "KBD",
        "LI",
        "MAIN",
        "MARK",
        "OL",
        "P",
        "PRE",
        "Q",
        "S",
        "SAMP",
        "SECTION",
        "SMALL",
        "SPAN",
        "STRONG",
        "SUB",
        "SUMMARY",
        "SUP",
        "TABLE",
        "TBODY",
        "TD",
        "TFOOT",
        "TH",
        "THEAD",
        "TR",
        "U",
        "UL",
        "VAR",
      ]);
      const bad: string[] = [];
      for (const el of document.querySelectorAll("body *")) {
        if (!allowed.has(el.tagName)) {
          bad.push(`element <${el.tagName.toLowerCase()}> in ${location.href}`);
        }
        for (const attr of el.attributes) {
          // deno-lint-ignore no-control-regex
          const value = attr.value.replace(/[\u0000-\u0020]/g, "").toLowerCase();
          if (attr.name.toLowerCase().startsWith("on")) bad.push(`attribute ${attr.name}`);
          if (/^(javascript|vbscript):/.test(value) || /^data:text/.test(value)) {
            bad.push(`${attr.name}=${attr.value}`);
          }
          if (attr.name === "style" && /url\(|expression|@import/i.test(attr.value)) {
            bad.push(`style=${attr.value}`);
          }
        }
      }
      // deno-lint-ignore no-explicit-any
      const w = globalThis as any;
      return {
        pwned: w.__pwned as string[],
        dataset: Object.keys(document.body.dataset),
        bad,
        requests: reqs,
      };
    }, requests);
  } finally {
    await page.close();
    await Deno.remove(dir, { recursive: true });
  }
}

function withoutCsp(html: string): string {
  const out = html.replace(/<meta http-equiv="Content-Security-Policy"[^>]*>/, "");
  return out;
}

async function withBrowser(fn: (browser: Browser) => Promise<void>): Promise<void> {
  const browser = await puppeteer.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  try {
    await fn(browser);
  } finally {
    await browser.close();
  }
}

const FUZZ_SEED = 20261201;
const FUZZ_CASES = 400;

Deno.test({
  name: "report: known XSS payloads run no script in Chromium, with or without the CSP",
  ignore: !hasChromium,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withBrowser(async (browser) => {
      const html = renderHtml(notebookOf(KNOWN), { title: "<img src=x onerror=pwn(0)>" });
      assert.match(
        html,
        /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">/,
      );
      for (const page of [withoutCsp(html), html]) {
        const seen = await inspect(browser, page);
        assert.deepEqual(seen.pwned, [], "no payload may call pwn()");
        assert.deepEqual(seen.dataset, [], "no payload may set a flag on document.body.dataset");
        assert.deepEqual(seen.bad, [], "no unsafe element or attribute in the DOM");
      }
    }),
});

Deno.test({
  name: `report: ${FUZZ_CASES} fuzzed markdown/HTML/SVG payloads (seed ${FUZZ_SEED}) run no script`,
  ignore: !hasChromium,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withBrowser(async (browser) => {
      const r = prng(FUZZ_SEED);
      const payloads = Array.from({ length: FUZZ_CASES }, () => fuzzPayload(r));
      const html = renderHtml(notebookOf(payloads));
      const seen = await inspect(browser, withoutCsp(html));
      const show = (ids: string[]) =>
        ids.slice(0, 5).map((id) => `#${id}: ${JSON.stringify(payloads[Number(id) - 1])}`)
          .join("\n");
      assert.deepEqual(seen.pwned, [], `payloads ran:\n${show(seen.pwned)}`);
      assert.deepEqual(seen.dataset, [], "no payload may set a flag on document.body.dataset");
      assert.deepEqual(seen.bad, [], "no unsafe element or attribute in the DOM");
      assert.deepEqual((await inspect(browser, html)).pwned, []);
    }),
});

Deno.test({
  name: "report security harness: the same payloads inserted raw do run (positive control)",
  ignore: !hasChromium,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withBrowser(async (browser) => {
      const r = prng(FUZZ_SEED);
      const payloads = [...KNOWN, ...Array.from({ length: FUZZ_CASES }, () => fuzzPayload(r))];
      const body = payloads.map((p, i) => `<div>${p.text.replaceAll("ID", String(i + 1))}</div>`);
      const seen = await inspect(
        browser,
        `<!DOCTYPE html><html><body>${body.join("\n")}</body></html>`,
      );
      // Known payloads that need no user gesture and no unsanitized markdown.
      for (const text of ["<img src=x onerror=pwn(ID)>", "<svg onload=pwn(ID)></svg>"]) {
        const id = String(KNOWN.findIndex((p) => p.text === text && p.place === "markdown") + 1);
        assert.ok(seen.pwned.includes(id), `payload ${id} (${text}) must run when not sanitized`);
      }
      assert.ok(
        seen.pwned.filter((id) => Number(id) > KNOWN.length).length >= FUZZ_CASES / 10,
        `at least a tenth of the fuzz cases run raw: ${seen.pwned.length} did`,
      );
      assert.ok(seen.bad.length > 0);
    }),
});
