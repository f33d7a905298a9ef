/**
 * `deno task kernel`: installs the Deno Jupyter kernel (kernelspec `deno`)
 * pointing at a deno that stays where it is. `npx -y deno@2.9.6 jupyter
 * --install` would point it into npx's cache, which `npm cache clean` or the
 * next npx version removes, and Jupyter then fails to start the kernel. So the
 * kernelspec always names a deno on PATH (e.g. after
 * `npm install -g deno@2.9.6`) or the deno running this script when that one
 * is not in a cache; run from npx with no deno on PATH, it stops and says how
 * to get one.
 *
 * Exit codes: 0 installed, 1 `deno jupyter --install` failed, 2 no stable deno.
 *
 * @module
 */

import { delimiter, join } from "node:path";

/** Whether `path` is a deno inside npx's cache (gone after `npm cache clean`). */
export function isEphemeralDeno(path: string): boolean {
  return /[\\/]_npx[\\/]/.test(path) || /[\\/]\.npm[\\/]/.test(path);
}

/** The first executable `name` on `PATH` (as given, not resolved), or `undefined`. */
export function findOnPath(
  name: string,
  path: string = Deno.env.get("PATH") ?? "",
): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, name);
    try {
      const info = Deno.statSync(candidate);
      if (info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The deno a kernelspec should run, or the problem and its fix. */
export type DenoChoice = { deno: string } | { problem: string };

/**
 * Picks the deno for the kernelspec: a `deno` on PATH that is not in npx's
 * cache first (what a terminal's `deno` runs), else `execPath` when it is
 * not in a cache either.
 *
 * @example
 * ```ts
 * import { chooseDeno } from "./kernel.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(chooseDeno("/usr/bin/deno", undefined), { deno: "/usr/bin/deno" });
 * assert.ok("problem" in chooseDeno("/root/.npm/_npx/1a2b/node_modules/deno/deno", undefined));
 * ```
 */
export function chooseDeno(execPath: string, onPath: string | undefined): DenoChoice {
  if (onPath !== undefined && !isEphemeralDeno(onPath)) return { deno: onPath };
  if (!isEphemeralDeno(execPath)) return { deno: execPath };
  return {
    problem: `deno runs from npx's cache (${execPath}): a kernel pointing there breaks when the ` +
      "cache is cleaned. Put deno on PATH once with: npm install -g deno@2.9.6 " +
      "(then: deno task kernel)",
  };
}

/** Where Jupyter looks for notebooks' kernels, and how to start it, as printed after installing. */
export function jupyterHints(options: { jupyterLab: boolean }): string {
  const lab = options.jupyterLab
    ? "  jupyter lab                                  # JupyterLab\n"
    : "  (JupyterLab is not installed here: the classic Notebook above does the same)\n";
  return "Start Jupyter from the repository root (or your own project's folder):\n" +
    "  PROMETHEUS_URL=http://localhost:9090 jupyter notebook   # the classic Notebook (Debian: jupyter-notebook)\n" +
    lab +
    "and pick the Deno kernel.";
}

/** Runs the task; returns the exit code. */
export async function main(): Promise<number> {
  const choice = chooseDeno(Deno.execPath(), findOnPath("deno"));
  if ("problem" in choice) {
    console.error(choice.problem);
    return 2;
  }
  const out = await new Deno.Command(choice.deno, {
    args: ["jupyter", "--install", "--force"],
    stdin: "null",
    env: { NO_COLOR: "1" },
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  const dir = /installed successfully at (.+?)\.?\s*$/m.exec(text)?.[1];
  if (!out.success || dir === undefined) {
    console.error(
      `${choice.deno} jupyter --install failed (exit ${out.code}): ${text.trim()}\n` +
        "Check that the Jupyter data folder (~/.local/share/jupyter) is writable",
    );
    return 1;
  }
  const spec = JSON.parse(await Deno.readTextFile(join(dir, "kernel.json")));
  console.log(`Deno kernel installed: ${join(dir, "kernel.json")} runs ${spec.argv[0]}`);
  console.log(jupyterHints({ jupyterLab: findOnPath("jupyter-lab") !== undefined }));
  return 0;
}

if (import.meta.main) Deno.exit(await main());
