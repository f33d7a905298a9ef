/**
 * A peer executor: `jupyter nbconvert --to notebook --execute` (Debian's
 * nbconvert, Python) with the Deno kernel installed into a temporary Jupyter
 * path runs every notebook without errors. The notebooks are ordinary Jupyter
 * notebooks, not tied to opsbook's runner. The parameters are set the way a
 * user or papermill would: a cell after the one tagged `parameters`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type Notebook, parseNotebook, serializeNotebook } from "../../lib/notebook/nbformat.ts";
import { injectParameters } from "../../lib/notebook/parameters.ts";
import { notebookParameters, NOTEBOOKS } from "../../scripts/demo.ts";
import { denoJupyterHome, missingBinaries, REPO_ROOT, startPrometheus } from "../../dev/stack.ts";

const missing = missingBinaries(["prometheus", "promtool", "jupyter", "jupyter-nbconvert"]);

Deno.test({
  name:
    "nbconvert: jupyter nbconvert --execute runs every notebook on the Deno kernel without errors",
  ignore: missing !== null,
  fn: async () => {
    await Deno.mkdir(`${REPO_ROOT}/out`, { recursive: true });
    // Under the repository, so the kernel finds the root deno.json (the opsbook alias).
    const work = await Deno.makeTempDir({ dir: `${REPO_ROOT}/out`, prefix: "nbconvert-" });
    const jupyter = await denoJupyterHome();
    const prom = await startPrometheus({ dataset: true });
    try {
      const inputs: string[] = [];
      for (const name of NOTEBOOKS) {
        const nb = parseNotebook(await Deno.readTextFile(`${REPO_ROOT}/notebooks/${name}.ipynb`));
        // prometheus_url comes from the environment (the notebooks' default).
        const { prometheus_url: _, ...parameters } = notebookParameters(name, {
          prometheusUrl: prom.url,
          outDir: `${work}/results`,
        });
        injectParameters(nb, parameters);
        await Deno.writeTextFile(`${work}/${name}.ipynb`, serializeNotebook(nb));
        inputs.push(`${work}/${name}.ipynb`);
      }
      const out = await new Deno.Command("/usr/bin/jupyter", {
        args: [
          "nbconvert",
          "--to",
          "notebook",
          "--execute",
          "--ExecutePreprocessor.kernel_name=deno",
          "--ExecutePreprocessor.timeout=300", // 05_rules' backtest cell
          "--output-dir",
          `${work}/executed`,
          ...inputs,
        ],
        cwd: work,
        env: { ...jupyter.env, PROMETHEUS_URL: prom.url },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stderr = new TextDecoder().decode(out.stderr);
      assert.ok(out.success, `nbconvert failed:\n${stderr.slice(-3000)}`);

      const texts: Record<string, string> = {};
      for (const name of NOTEBOOKS) {
        const nb: Notebook = parseNotebook(
          await Deno.readTextFile(`${work}/executed/${name}.ipynb`),
        );
        const code = nb.cells.filter((c) => c.cell_type === "code" && c.source.trim() !== "");
        assert.ok(code.length > 0);
        for (const cell of code) {
          assert.equal(typeof cell.execution_count, "number", `${name}: every cell ran`);
        }
        const outputs = nb.cells.flatMap((c) => c.outputs ?? []);
        const errors = outputs.filter((o) => o.output_type === "error");
        assert.deepEqual(errors, [], `${name}: no error outputs`);
        texts[name] = outputs.map((o) =>
          o.output_type === "stream"
            ? o.text
            : o.output_type === "error"
            ? ""
            : String(o.data["text/plain"] ?? "")
        ).join("\n");
      }
      // Streams only where it matters: the Deno kernel can publish a cell's
      // execute_result after its idle, where nbconvert stops listening.
      assert.match(texts["01_query"], /^Down: az-weu-cache-01:9100$/m);
      assert.match(texts["02_chart"], /Saved 4 charts as SVG and PNG/);
      assert.match(texts["03_alert"], /\[FIRING\] HostHighCpu: 1 alert for dry-run/);
      assert.match(texts["04_anomaly"], /tc-sh-batch-01:9100/);
      assert.match(
        texts["05_rules"],
        /rules\/node\.yml: 1 group\(s\), 8 alerting rule\(s\); backtest from 2026-11-01T00:00:00\.000Z to 2026-11-02T00:00:00\.000Z$/m,
      );
      assert.match(
        texts["05_rules"],
        /^8 rule\(s\) replayed over 1441 evaluations each in [\d.]+ s: \d+ alert instance\(s\), 9 fired, \d+ notification\(s\)$/m,
      );
    } finally {
      await prom.stop();
      await Deno.remove(work, { recursive: true }).catch(() => {});
      await jupyter.remove();
    }
  },
});
