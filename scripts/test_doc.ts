/**
 * Runs every JSDoc `@example` (`deno test --doc`) against real servers: one
 * Prometheus loaded with the synthetic dataset (see `dev/dataset.ts`) and one
 * Alertmanager, started once for the whole run and stopped afterwards. The
 * examples read their addresses from `PROMETHEUS_URL` and `ALERTMANAGER_URL`
 * (falling back to `localhost`, so a reader can paste them as they are).
 * `deno task test:doc` runs this script.
 *
 * Usage: `deno run -A scripts/test_doc.ts [paths...]` (default: `lib/ dev/
 * scripts/check_notebooks.ts`; extra `deno test` flags after `--`).
 *
 * @module
 */

import { startAlertmanager, startPrometheus } from "../dev/stack.ts";

/** What `deno task test:doc` checks when given no paths. */
export const DOC_PATHS: readonly string[] = ["lib/", "dev/", "scripts/check_notebooks.ts"];

/**
 * The `deno test` arguments for a doc run over `paths` (or {@linkcode DOC_PATHS}).
 *
 * @example
 * ```ts
 * import { docTestArgs } from "./test_doc.ts";
 * console.log(docTestArgs(["lib/chart/"])); // ["test", "-A", "--parallel", "--doc", "lib/chart/"]
 * ```
 */
export function docTestArgs(
  paths: readonly string[] = [],
  flags: readonly string[] = [],
): string[] {
  return [
    "test",
    "-A",
    "--parallel",
    "--doc",
    ...flags,
    ...(paths.length ? paths : DOC_PATHS),
  ];
}

async function main(args: string[]): Promise<number> {
  const dash = args.indexOf("--");
  const paths = dash < 0 ? args : args.slice(0, dash);
  const flags = dash < 0 ? [] : args.slice(dash + 1);
  await using prometheus = await startPrometheus({
    dataset: true,
    onProgress: (msg) => console.error(msg),
  });
  await using alertmanager = await startAlertmanager();
  const child = new Deno.Command(Deno.execPath(), {
    args: docTestArgs(paths, flags),
    env: { PROMETHEUS_URL: prometheus.url, ALERTMANAGER_URL: alertmanager.url },
    stdin: "null",
  }).spawn();
  const abort = () => child.kill("SIGTERM");
  Deno.addSignalListener("SIGINT", abort);
  try {
    return (await child.status).code;
  } finally {
    Deno.removeSignalListener("SIGINT", abort);
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
