/// <reference lib="dom" />
/**
 * Interactive use, tested as a user would: the classic Jupyter Notebook server
 * (Debian `jupyter-notebook`) with the Deno kernel installed into a temporary
 * Jupyter path, `02_chart.ipynb` opened in headless Chromium through
 * puppeteer-core, every cell run from the page, and the chart (SVG) and the
 * table (HTML) asserted in the DOM. A screenshot is saved to
 * `out/screenshots/browser_02_chart.png`.
 *
 * @module
 */

import assert from "node:assert/strict";
import puppeteer from "puppeteer-core";
import { injectParameters } from "../../lib/notebook/parameters.ts";
import { parseNotebook, serializeNotebook } from "../../lib/notebook/nbformat.ts";
import {
  denoJupyterHome,
  freePort,
  type JupyterHome,
  missingBinaries,
  REPO_ROOT,
  startPrometheus,
} from "../../dev/stack.ts";

const missing = missingBinaries([
  "prometheus",
  "promtool",
  "jupyter",
  "jupyter-notebook",
  "chromium",
]);
const EVAL_TIME = "2026-11-01T12:00:00Z";
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

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The Jupyter server, started on a free loopback port; `stop()` ends it and its kernels. */
async function startNotebookServer(root: string, home: JupyterHome) {
  const port = freePort();
  const token = crypto.randomUUID().replaceAll("-", "");
  const log = `${home.dir}/server.log`;
  const child = new Deno.Command("/usr/bin/jupyter", {
    args: [
      "notebook",
      "--no-browser",
      "--allow-root",
      "--ip=127.0.0.1",
      `--port=${port}`,
      `--NotebookApp.token=${token}`,
      `--notebook-dir=${root}`,
    ],
    cwd: root,
    env: home.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const file = await Deno.open(log, { write: true, create: true, append: true });
  const pump = Promise.all([child.stdout, child.stderr].map(async (stream) => {
    for await (const chunk of stream) await file.write(chunk).catch(() => {});
  })).finally(() => file.close());
  const url = `http://127.0.0.1:${port}`;
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const stop = async () => {
    if (!exited) {
      try {
        child.kill("SIGTERM"); // SIGTERM shuts the server and its kernels down without asking
      } catch { /* already gone */ }
    }
    const timer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
    }, 10_000);
    await status;
    clearTimeout(timer);
    await pump;
  };
  const deadline = Date.now() + 30_000;
  while (true) {
    if (exited) {
      const text = await Deno.readTextFile(log).catch(() => "");
      throw new Error(`Jupyter Notebook exited during start-up:\n${text.slice(-2000)}`);
    }
    try {
      const res = await fetch(`${url}/api/status?token=${token}`);
      await res.body?.cancel();
      if (res.ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) {
      await stop();
      throw new Error("Jupyter Notebook was not ready within 30 s");
    }
    await sleep(150);
  }
  return { url, token, log, stop };
}

Deno.test({
  name:
    "browser: 02_chart.ipynb runs in Jupyter Notebook in Chromium and shows the chart and table",
  ignore: missing !== null,
  // puppeteer keeps internal timers and sockets that outlive a single test step
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await Deno.mkdir(`${REPO_ROOT}/out`, { recursive: true });
    // The copy lives under the repository so the kernel finds the root deno.json (the opsbook alias).
    const root = await Deno.makeTempDir({ dir: `${REPO_ROOT}/out`, prefix: "browser-" });
    const home = await denoJupyterHome();
    // Start the three servers at once; the kernelspec is read when the page starts a kernel.
    const started = await Promise.allSettled(
      [
        startPrometheus({ dataset: true }),
        startNotebookServer(root, home),
        puppeteer.launch({
          executablePath: "/usr/bin/chromium",
          args: CHROMIUM_ARGS,
          defaultViewport: { width: 1280, height: 1000 },
        }),
      ] as const,
    );
    const [prom, server, browser] = started.map((r) =>
      r.status === "fulfilled" ? r.value : undefined
    ) as [
      Awaited<ReturnType<typeof startPrometheus>> | undefined,
      Awaited<ReturnType<typeof startNotebookServer>> | undefined,
      Awaited<ReturnType<typeof puppeteer.launch>> | undefined,
    ];
    try {
      for (const r of started) if (r.status === "rejected") throw r.reason;
      assert.ok(prom && server && browser);
      await home.writeKernelspec({ PROMETHEUS_URL: prom.url });
      // What a user does: open the notebook and set the parameters (here: the dataset's time).
      const nb = parseNotebook(await Deno.readTextFile(`${REPO_ROOT}/notebooks/02_chart.ipynb`));
      injectParameters(nb, { eval_time: EVAL_TIME, out_dir: `${root}/charts` });
      await Deno.writeTextFile(`${root}/02_chart.ipynb`, serializeNotebook(nb));

      const page = await browser.newPage();
      page.setDefaultTimeout(60_000);
      await page.goto(`${server.url}/notebooks/02_chart.ipynb?token=${server.token}`, {
        waitUntil: "domcontentloaded",
      });
      // The kernel is started by the page; wait until it reports idle.
      await page.waitForFunction(() => {
        // deno-lint-ignore no-explicit-any
        const kernel = (globalThis as any).Jupyter?.notebook?.kernel;
        return kernel?.is_connected?.() === true &&
          document.querySelector("#kernel_indicator_icon.kernel_idle_icon") !== null;
      }, { polling: 100 });
      await page.evaluate(() => {
        // deno-lint-ignore no-explicit-any
        const jupyter = (globalThis as any).Jupyter;
        jupyter.notebook.set_autosave_interval(0);
        jupyter.notebook.execute_all_cells();
      });
      // Done when every code cell has an execution count and nothing is running.
      await page.waitForFunction(() => {
        const cells = [...document.querySelectorAll(".code_cell")];
        return cells.length > 0 && cells.every((c) =>
          !c.classList.contains("running") &&
          /\[\d+\]/.test(c.querySelector(".input_prompt")?.textContent ?? "")
        ) && document.querySelector("#kernel_indicator_icon.kernel_idle_icon") !== null;
      }, { polling: 200 });
      const seen = await page.evaluate(() => ({
        svgs: document.querySelectorAll(".output_area svg").length,
        barTitle: [...document.querySelectorAll(".output_area svg text")]
          .some((t) => (t.textContent ?? "").startsWith("CPU usage per host")),
        tables: [...document.querySelectorAll(".output_area table")].map((t) =>
          t.textContent ?? ""
        ),
        errors: [...document.querySelectorAll(".output_error")].map((e) => e.textContent ?? ""),
        text: [...document.querySelectorAll(".output_area pre")].map((e) => e.textContent ?? "")
          .join("\n"),
      }));
      assert.deepEqual(seen.errors, []);
      assert.ok(seen.svgs >= 4, `expected 4 charts, saw ${seen.svgs} SVG elements`);
      assert.ok(seen.barTitle, "the bar chart's title is in the page");
      assert.ok(
        seen.tables.some((t) =>
          t.includes("aliyun") && t.includes("tencent") && t.includes("azure")
        ),
        "the per-cloud table is in the page",
      );
      assert.match(seen.text, /12 hosts at 2026-11-01T12:00:00\.000Z/);
      assert.match(seen.text, /Saved 4 charts as SVG and PNG/);

      // The artifact: the first chart in view.
      await page.evaluate(() => {
        document.querySelector(".output_area svg")?.closest(".cell")?.scrollIntoView();
      });
      await Deno.mkdir(`${REPO_ROOT}/out/screenshots`, { recursive: true });
      const shot = `${REPO_ROOT}/out/screenshots/browser_02_chart.png`;
      await page.screenshot({ path: shot });
      assert.ok((await Deno.stat(shot)).size > 10_000);
      await page.close();
    } finally {
      await browser?.close().catch(() => {});
      await server?.stop();
      await prom?.stop();
      await Deno.remove(root, { recursive: true }).catch(() => {});
      await home.remove();
    }
  },
});
