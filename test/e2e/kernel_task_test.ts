/**
 * `deno task kernel` and the demo's next steps (issue 13.8): the kernelspec
 * names a deno that survives npx's cache being cleaned, and the printed
 * commands are the ones that work on Debian (deno on PATH, the classic
 * Notebook; JupyterLab only where installed).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { chooseDeno, findOnPath, isEphemeralDeno, jupyterHints } from "../../scripts/kernel.ts";
import { keepMessage } from "../../scripts/demo.ts";

const SCRIPT = new URL("../../scripts/kernel.ts", import.meta.url).pathname;
const NPX = "/root/.npm/_npx/4a5b6c/node_modules/deno/deno";

Deno.test("kernel: never a deno from npx's cache", () => {
  assert.equal(isEphemeralDeno(NPX), true);
  assert.equal(isEphemeralDeno("/usr/local/lib/node_modules/deno/deno"), false);
  assert.equal(isEphemeralDeno("/usr/bin/deno"), false);
  // The terminal's deno first, the running one when it is stable, else the fix.
  assert.deepEqual(chooseDeno(NPX, "/usr/local/bin/deno"), { deno: "/usr/local/bin/deno" });
  assert.deepEqual(chooseDeno("/usr/bin/deno", undefined), { deno: "/usr/bin/deno" });
  assert.deepEqual(chooseDeno("/usr/bin/deno", NPX), { deno: "/usr/bin/deno" });
  assert.deepEqual(chooseDeno(NPX, undefined), {
    problem: `deno runs from npx's cache (${NPX}): a kernel pointing there breaks when the cache ` +
      "is cleaned. Put deno on PATH once with: npm install -g deno@2.9.6 (then: deno task kernel)",
  });
});

Deno.test("kernel: deno task kernel installs a kernelspec running the deno on PATH", async () => {
  const home = await Deno.makeTempDir({ prefix: "opsbook-kernel-" });
  try {
    const env = { HOME: home, XDG_DATA_HOME: join(home, "data"), NO_COLOR: "1" };
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", SCRIPT],
      env,
      stdin: "null",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const specPath = join(home, "data/jupyter/kernels/deno/kernel.json");
    const spec = JSON.parse(await Deno.readTextFile(specPath));
    const expected = findOnPath("deno") ?? Deno.execPath();
    assert.deepEqual(spec.argv, [expected, "jupyter", "--kernel", "--conn", "{connection_file}"]);
    assert.ok(!isEphemeralDeno(spec.argv[0]));
    assert.equal(
      stdout,
      `Deno kernel installed: ${specPath} runs ${expected}\n` +
        jupyterHints({ jupyterLab: findOnPath("jupyter-lab") !== undefined }) + "\n",
    );
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("kernel: Jupyter hints name the classic Notebook, JupyterLab only where installed", () => {
  const without = jupyterHints({ jupyterLab: false });
  assert.match(without, /^ {2}PROMETHEUS_URL=http:\/\/localhost:9090 jupyter notebook /m);
  assert.ok(!/^ {2}jupyter lab/m.test(without));
  assert.match(without, /JupyterLab is not installed here/);
  assert.match(jupyterHints({ jupyterLab: true }), /^ {2}jupyter lab /m);
});

Deno.test("demo --keep: next steps use commands that work (deno on PATH, deno task kernel)", () => {
  const url = "http://127.0.0.1:9090";
  assert.equal(
    keepMessage(url, { denoOnPath: false, jupyterLab: false }),
    "\nPrometheus keeps running at http://127.0.0.1:9090 (the dataset covers 2026-11-01).\n" +
      "Open the notebooks against it from the repository root, in another terminal:\n" +
      "  npm install -g deno@2.9.6        # once: puts deno on PATH\n" +
      "  deno task kernel                 # once: installs the Deno kernel for Jupyter\n" +
      "  PROMETHEUS_URL=http://127.0.0.1:9090 jupyter notebook\n" +
      'Set eval_time in a notebook\'s parameters cell to a dataset time, e.g. "2026-11-01T12:00:00Z".\n' +
      "Press Ctrl-C here to stop Prometheus.",
  );
  const ready = keepMessage(url, { denoOnPath: true, jupyterLab: true });
  assert.ok(!ready.includes("npm install"));
  assert.match(ready, /jupyter notebook {3}# or: jupyter lab\n/);
  assert.ok(!ready.includes("deno jupyter --install"));
});
