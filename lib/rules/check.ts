/**
 * `rules check`: validate rule files as `promtool check rules` does, plus
 * opsbook's template and detector checks, and report every problem.
 *
 * @module
 */

import { loadRuleFiles, type RuleFile, RuleFileError, type RuleFileProblem } from "./rule_file.ts";

/**
 * What {@linkcode checkRuleFiles} found.
 *
 * @example
 * ```ts
 * import { checkRuleFiles, type RuleCheckResult } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/node.yml`, "groups:\n  - name: node\n    rules:\n      - alert: Down\n        expr: up == 0\n");
 * const result: RuleCheckResult = await checkRuleFiles([`${dir}/node.yml`]);
 * assert.deepEqual([result.ok, result.problems.length], [true, 0]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export interface RuleCheckResult {
  /** `true` when every file loaded. */
  ok: boolean;
  /** The files that loaded (a file with a problem is absent). */
  files: RuleFile[];
  /** Every problem, `file:line:col: rule NAME: detail`. */
  problems: RuleFileProblem[];
  /** Notices of the files that loaded (recording rules not evaluated here, ...). */
  notices: RuleFileProblem[];
}

/**
 * Check rule files: each is loaded on its own, so a problem in one does not
 * hide the others. Never throws for a bad rule file; the problems are in the
 * result.
 *
 * @example Check the shipped rule file
 * ```ts
 * import { checkRuleFiles } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const result = await checkRuleFiles(["rules/node.yml"]);
 * assert.equal(result.ok, true);
 * assert.deepEqual(result.problems, []);
 * ```
 */
export async function checkRuleFiles(paths: readonly string[]): Promise<RuleCheckResult> {
  const files: RuleFile[] = [];
  const problems: RuleFileProblem[] = [];
  for (const path of paths) {
    try {
      files.push(...await loadRuleFiles([path]));
    } catch (error) {
      if (!(error instanceof RuleFileError)) throw error;
      problems.push(...error.problems);
    }
  }
  return { ok: problems.length === 0, files, problems, notices: files.flatMap((f) => f.notices) };
}
