/**
 * Checks (or with `--fix`, strips) the notebooks under `notebooks/`: no
 * outputs, no execution counts, no secret-looking strings. Part of
 * `deno task check`.
 *
 * Usage: `deno run -A scripts/check_notebooks.ts [--fix] [files...]`
 *
 * @module
 */

import { writeFileAtomic } from "../lib/_internal/fs.ts";

/** Patterns of things that must never be committed in a notebook. */
export const SECRET_PATTERNS: ReadonlyArray<[name: string, re: RegExp]> = [
  [
    "Slack webhook URL",
    /hooks\.slack\.com\/services\/T[A-Z0-9]{6,}\/B[A-Z0-9]{6,}\/[A-Za-z0-9]{12,}/,
  ],
  ["Slack token", /xox[abpr]-[0-9A-Za-z-]{10,}/],
  ["bearer/API token", /(?:token|bearer)[=: ]+["']?[A-Za-z0-9_\-]{24,}/i],
  ["private key", /-----BEGIN [A-Z ]*PRIVATE KEY-----/],
];

interface Cell {
  cell_type: string;
  source: string | string[];
  outputs?: unknown[];
  execution_count?: number | null;
  metadata?: Record<string, unknown>;
}

/**
 * Lists the problems of one notebook's JSON text (empty when clean).
 *
 * @example
 * ```ts
 * import { notebookProblems } from "./check_notebooks.ts";
 * const nb = { cells: [{ cell_type: "code", source: "1", outputs: [], execution_count: 3 }] };
 * console.log(notebookProblems(JSON.stringify(nb))); // ["cell 1: execution count 3"]
 * ```
 */
export function notebookProblems(text: string): string[] {
  const problems: string[] = [];
  let nb: { cells?: Cell[] };
  try {
    nb = JSON.parse(text);
  } catch (e) {
    return [`not valid JSON: ${(e as Error).message}`];
  }
  (nb.cells ?? []).forEach((cell, i) => {
    if (cell.cell_type !== "code") return;
    if ((cell.outputs?.length ?? 0) > 0) {
      problems.push(`cell ${i + 1}: has ${cell.outputs!.length} output(s)`);
    }
    if (cell.execution_count != null) {
      problems.push(`cell ${i + 1}: execution count ${cell.execution_count}`);
    }
  });
  for (const [name, re] of SECRET_PATTERNS) {
    // Every match counts: a placeholder earlier in the file must not hide a real secret.
    const all = text.matchAll(
      new RegExp(re.source, re.flags.includes("g") ? re.flags : `${re.flags}g`),
    );
    if ([...all].some((m) => !/XXXX|T0000|EXAMPLE/.test(m[0]))) {
      problems.push(`contains something that looks like a ${name}`);
    }
  }
  return problems;
}

/**
 * Returns the notebook with outputs and execution counts removed.
 *
 * @example
 * ```ts
 * import { stripNotebook } from "./check_notebooks.ts";
 * const nb = { cells: [{ cell_type: "code", source: "1", outputs: [{}], execution_count: 1 }] };
 * console.log(stripNotebook(JSON.stringify(nb)).includes('"outputs": []')); // true
 * ```
 */
export function stripNotebook(text: string): string {
  const nb = JSON.parse(text);
  for (const cell of nb.cells ?? []) {
    if (cell.cell_type !== "code") continue;
    cell.outputs = [];
    cell.execution_count = null;
    if (cell.metadata?.execution) delete cell.metadata.execution;
  }
  return JSON.stringify(nb, null, 1) + "\n";
}

if (import.meta.main) {
  const fix = Deno.args.includes("--fix");
  let files = Deno.args.filter((a) => !a.startsWith("--"));
  if (files.length === 0) {
    files = [];
    try {
      for await (const e of Deno.readDir("notebooks")) {
        if (e.isFile && e.name.endsWith(".ipynb")) files.push(`notebooks/${e.name}`);
      }
    } catch { /* no notebooks yet */ }
  }
  let bad = 0;
  for (const f of files.sort()) {
    const text = await Deno.readTextFile(f);
    if (fix) {
      const stripped = stripNotebook(text);
      if (stripped !== text) {
        await writeFileAtomic(f, stripped);
        console.log(`stripped ${f}`);
      }
      continue;
    }
    for (const p of notebookProblems(text)) {
      console.error(`${f}: ${p}`);
      bad++;
    }
  }
  if (bad > 0) {
    console.error(
      `${bad} notebook problem(s): run \`deno run -A scripts/check_notebooks.ts --fix\``,
    );
    Deno.exit(1);
  }
  if (!fix) console.log(`notebooks clean (${files.length} checked)`);
}
