/**
 * Rewrite the settings table of docs/monitor.md from the settings' single
 * declaration (`SETTINGS` in lib/monitor/config.ts), then format it:
 *
 *     deno run -A scripts/settings_table.ts
 *
 * `test/monitor/settings_doc_test.ts` fails when the table and the
 * declaration disagree.
 *
 * @module
 */

import { settingsTable } from "../lib/monitor/config.ts";

/** The settings table as markdown (unaligned; `deno fmt` aligns it). */
export function settingsMarkdown(): string {
  const rows = [
    ["Setting", "Environment", "Flag", "Default", "Expected", "Meaning"],
    ["---", "---", "---", "---", "---", "---"],
    ...settingsTable(),
  ];
  return rows.map((cells) => `| ${cells.join(" | ")} |`).join("\n");
}

/** Replace the table that starts with `| Setting` in `markdown`. */
export function replaceSettingsTable(markdown: string, table: string): string {
  const lines = markdown.split("\n");
  const start = lines.findIndex((line) => /^\|\s*Setting\s*\|/.test(line));
  if (start === -1) throw new Error("docs/monitor.md has no table starting with | Setting |");
  let end = start;
  while (end < lines.length && lines[end].startsWith("|")) end++;
  return [...lines.slice(0, start), table, ...lines.slice(end)].join("\n");
}

if (import.meta.main) {
  const path = new URL("../docs/monitor.md", import.meta.url);
  const text = await Deno.readTextFile(path);
  await Deno.writeTextFile(path, replaceSettingsTable(text, settingsMarkdown()));
  const fmt = await new Deno.Command(Deno.execPath(), { args: ["fmt", path.pathname] }).output();
  if (!fmt.success) Deno.exit(1);
  console.log("docs/monitor.md: settings table rewritten");
}
