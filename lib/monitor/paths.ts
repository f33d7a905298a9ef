/**
 * Checks that a path can hold a file this process writes (the monitor's
 * state file, its log file), so a bad `--state` is one clear line at start-up
 * rather than a stack trace in the middle of the first evaluation.
 *
 * @module
 */

function parentOf(path: string): string {
  const i = path.lastIndexOf("/");
  if (i === -1) return ".";
  return i === 0 ? "/" : path.slice(0, i);
}

function cause(error: unknown): string {
  if (error instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (error instanceof Deno.errors.NotFound) return "it does not accept new files";
  // "Not a directory (os error 20): open '/x'" → "not a directory"
  const message = (error as Error).message.replace(/\s*\(os error \d+\).*$/s, "");
  return message.charAt(0).toLowerCase() + message.slice(1);
}

/**
 * Why a file cannot be created or rewritten at `path` by this process, or
 * `undefined` when it can: the first missing folder on the way, a component
 * that is a file and not a folder, the path being a folder, or a folder that
 * refuses new files (no permission, read-only, `/proc`). The answer names the
 * path at fault; nothing is left behind on disk.
 *
 * @example
 * ```ts
 * import { writableFileProblem } from "./paths.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * assert.equal(writableFileProblem(`${dir}/state.json`), undefined);
 * assert.equal(
 *   writableFileProblem(`${dir}/missing/deeper/state.json`),
 *   `folder ${dir}/missing does not exist`,
 * );
 * await Deno.writeTextFile(`${dir}/file`, "");
 * assert.equal(writableFileProblem(`${dir}/file/state.json`), `${dir}/file is a file, not a folder`);
 * assert.equal(writableFileProblem(dir), `${dir} is a folder`);
 * ```
 */
export function writableFileProblem(path: string): string | undefined {
  if (path === "") return "the path is empty";
  const folder = parentOf(path);
  // Walk down from the root, so the message names the first component at fault.
  const absolute = folder.startsWith("/");
  const parts = folder.split("/").filter((p) => p !== "" && p !== ".");
  let prefix = absolute ? "" : ".";
  for (const part of parts) {
    prefix = prefix === "." ? part : `${prefix}/${part}`;
    let info: Deno.FileInfo;
    try {
      info = Deno.statSync(prefix);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return `folder ${prefix} does not exist`;
      return `cannot open folder ${prefix}: ${cause(error)}`;
    }
    if (!info.isDirectory) return `${prefix} is a file, not a folder`;
  }
  try {
    if (Deno.statSync(path).isDirectory) return `${path} is a folder`;
    // The file exists: it must be writable (opened without truncating).
    Deno.openSync(path, { write: true }).close();
    return undefined;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) return `cannot write ${path}: ${cause(error)}`;
  }
  const probe = `${folder === "." ? "" : `${folder}/`}.opsbook-probe-${crypto.randomUUID()}`;
  try {
    Deno.openSync(probe, { write: true, createNew: true }).close();
  } catch (error) {
    return `cannot create files in folder ${folder}: ${cause(error)}`;
  }
  try {
    Deno.removeSync(probe);
  } catch { /* gone already */ }
  return undefined;
}
