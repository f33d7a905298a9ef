/**
 * Installs what opsbook's demo and tests need and is missing: Debian packages
 * (when running as root with apt-get; otherwise prints the exact command) and
 * the synthetic dataset's cached TSDB blocks. npm packages are fetched by Deno
 * itself from the pinned versions in `deno.json` / `deno.lock`.
 *
 * Usage: `deno task setup [--check]`
 *
 * @module
 */

import { prepareDataset, which } from "../dev/stack.ts";

/** Debian packages and a file each one provides, to tell whether it is installed. */
const DEBIAN: ReadonlyArray<[pkg: string, probe: string]> = [
  ["prometheus", "/usr/bin/prometheus"],
  ["prometheus-node-exporter", "/usr/bin/prometheus-node-exporter"],
  ["prometheus-alertmanager", "/usr/bin/prometheus-alertmanager"],
  ["victoria-metrics", "/usr/bin/victoria-metrics"],
  ["jupyter-notebook", "/usr/bin/jupyter-notebook"],
  ["jupyter-nbconvert", "/usr/bin/jupyter-nbconvert"],
  ["python3-nbformat", "/usr/lib/python3/dist-packages/nbformat/__init__.py"],
  ["chromium", "/usr/bin/chromium"],
  ["fonts-dejavu-core", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"],
  ["fonts-noto-cjk", "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"],
];

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

async function run(cmd: string, args: string[]): Promise<boolean> {
  const p = new Deno.Command(cmd, {
    args,
    env: { DEBIAN_FRONTEND: "noninteractive" },
    stdout: "inherit",
    stderr: "inherit",
  });
  return (await p.output()).success;
}

/** Returns the missing Debian packages. */
export function missingPackages(): string[] {
  return DEBIAN.filter(([, probe]) => !exists(probe)).map(([pkg]) => pkg);
}

/**
 * Installs missing Debian packages when possible. Returns the packages still
 * missing afterwards.
 *
 * @example
 * ```ts ignore
 * const missing = await installPackages();
 * ```
 */
export async function installPackages(log: (msg: string) => void = console.log): Promise<string[]> {
  const missing = missingPackages();
  if (missing.length === 0) return [];
  const command = `apt-get update && apt-get install -y --no-install-recommends ${
    missing.join(" ")
  }`;
  const root = Deno.uid?.() === 0;
  if (!root || !which("apt-get")) {
    log(
      `opsbook needs Debian packages: ${missing.join(", ")}. Install them with:\n  sudo ${command}`,
    );
    return missing;
  }
  log(`installing Debian packages: ${missing.join(", ")} (a few minutes the first time)`);
  if (!(await run("apt-get", ["update", "-qq"]))) {
    log("apt-get update failed; trying the install anyway");
  }
  const ok = await run("apt-get", [
    "install",
    "-y",
    "-qq",
    "--no-install-recommends",
    "-o",
    "Dpkg::Use-Pty=0",
    ...missing,
  ]);
  if (!ok) log(`apt-get install failed: run it yourself:\n  ${command}`);
  return missingPackages();
}

if (import.meta.main) {
  const checkOnly = Deno.args.includes("--check");
  const missing = checkOnly ? missingPackages() : await installPackages();
  if (missing.length > 0) {
    console.error(`missing Debian packages: ${missing.join(", ")}`);
    if (Deno.env.get("CI") === "true") Deno.exit(1);
  }
  if (which("promtool")) {
    const t0 = performance.now();
    await prepareDataset({ onProgress: (m) => console.log(m) });
    console.log(`dataset ready (${Math.round(performance.now() - t0)} ms)`);
  }
  console.log("setup done");
}
