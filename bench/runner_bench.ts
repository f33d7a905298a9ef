/**
 * Wall time of the headless runner (`scripts/run_notebook.ts`, as a CLI) versus
 * `jupyter nbconvert --to notebook --execute` on the same three-cell notebook
 * (import nodejs-polars and Plot, build a frame, draw a chart with linkedom),
 * alternating, RUNS times each. Prints medians, the ratio (target ≤ 0.5) and
 * the kernel start time the runner reports.
 *
 * Run: deno run -A bench/runner_bench.ts [runs]
 *
 * @module
 */

const RUNS = Math.max(5, Number(Deno.args[0] ?? 5));
import { denoJupyterHome } from "../dev/stack.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const NOTEBOOK = `${ROOT}test/fixtures/notebooks/three_cells.ipynb`;

function median(xs: number[]): number {
  const s = xs.toSorted((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function timed(cmd: string, args: string[], env?: Record<string, string>) {
  const t0 = performance.now();
  const out = await new Deno.Command(cmd, { args, env, stdin: "null", cwd: ROOT }).output();
  const ms = performance.now() - t0;
  const stderr = new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`${cmd} failed: ${stderr.slice(-2000)}`);
  return { ms, stderr };
}

const dir = await Deno.makeTempDir({ prefix: "opsbook-runner-bench-" });
const jupyter = await denoJupyterHome();
try {
  const jupyterEnv = jupyter.env;
  let nbconvert = true;
  try {
    await timed("/usr/bin/python3", ["-c", "import nbconvert"]);
  } catch {
    nbconvert = false;
    console.log("jupyter nbconvert not installed: measuring the runner only");
  }

  // Warm-up: caches npm modules and compiles the CLI once for both sides.
  await timed(Deno.execPath(), [
    "run",
    "-A",
    "scripts/run_notebook.ts",
    NOTEBOOK,
    "-o",
    `${dir}/warm.ipynb`,
  ]);

  const runner: number[] = [];
  const kernelStart: number[] = [];
  const reference: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const r = await timed(Deno.execPath(), [
      "run",
      "-A",
      "scripts/run_notebook.ts",
      NOTEBOOK,
      "-o",
      `${dir}/runner.ipynb`,
    ]);
    runner.push(r.ms);
    const m = r.stderr.match(/kernel started in (\d+\.\d+) s/);
    if (m) kernelStart.push(Number(m[1]) * 1000);
    if (nbconvert) {
      const n = await timed("/usr/bin/python3", [
        "-m",
        "jupyter",
        "nbconvert",
        "--to",
        "notebook",
        "--execute",
        "--output",
        `${dir}/nbconvert.ipynb`,
        NOTEBOOK,
      ], jupyterEnv);
      reference.push(n.ms);
    }
  }
  const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  console.log(
    `runs: ${RUNS} each, alternating; notebook: test/fixtures/notebooks/three_cells.ipynb`,
  );
  console.log(
    `runner (deno task run-notebook)   median ${fmt(median(runner))}  [${
      runner.map(fmt).join(", ")
    }]`,
  );
  console.log(`  of which kernel start           median ${fmt(median(kernelStart))}`);
  if (nbconvert) {
    console.log(
      `nbconvert --execute (reference)   median ${fmt(median(reference))}  [${
        reference.map(fmt).join(", ")
      }]`,
    );
    const ratio = median(runner) / median(reference);
    console.log(`ratio runner / nbconvert: ${ratio.toFixed(2)}x (target <= 0.50x)`);
  }
} finally {
  await Deno.remove(dir, { recursive: true });
  await jupyter.remove();
}
