/**
 * Where the user typed the command. `deno task --config ~/opsbook/deno.json
 * rules check my.yml` runs the task in the repository and sets `INIT_CWD` to
 * the folder the command was typed in; relative paths on the command line
 * (rule files, `--state`, `--config`, `--html`) mean that folder.
 *
 * @module
 */

import { resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root: where `deno task` runs these scripts. */
const REPOSITORY = resolve(fileURLToPath(new URL("..", import.meta.url)));

/**
 * The folder the user typed the `deno task` command in, when the task was
 * started from another folder than the repository; `undefined` for a run
 * from the repository or a `deno run` from anywhere.
 *
 * @example
 * ```ts
 * import { userCwd } from "./_user_cwd.ts";
 * console.log(userCwd() ?? "(the current folder)");
 * ```
 */
export function userCwd(): string | undefined {
  const init = Deno.env.get("INIT_CWD");
  // Only when started by the task in the repository: INIT_CWD may also be
  // inherited from an outer `deno task` (the test suite).
  if (init === undefined || resolve(Deno.cwd()) !== REPOSITORY) return undefined;
  const here = resolve(init);
  return here === REPOSITORY ? undefined : here;
}

/**
 * Changes into {@linkcode userCwd} when there is one, so relative paths on
 * the command line mean that folder. Returns it, or `undefined`.
 *
 * @example
 * ```ts
 * import { enterUserCwd } from "./_user_cwd.ts";
 * const moved = enterUserCwd();
 * console.log(moved ?? Deno.cwd());
 * ```
 */
export function enterUserCwd(): string | undefined {
  const here = userCwd();
  if (here === undefined) return undefined;
  try {
    Deno.chdir(here);
  } catch {
    return undefined; // the folder is gone: stay, paths will say what is missing
  }
  return here;
}
