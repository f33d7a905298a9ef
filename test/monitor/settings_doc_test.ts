import assert from "node:assert/strict";
import { settingsTable } from "../../lib/monitor/config.ts";

/** The cells of the markdown table starting with `| Setting |`, header and rule dropped. */
function tableRows(markdown: string): string[][] {
  const lines = markdown.split("\n");
  const start = lines.findIndex((line) => /^\|\s*Setting\s*\|/.test(line));
  assert.notEqual(start, -1, "docs/monitor.md has no settings table");
  const rows: string[][] = [];
  for (let i = start + 2; i < lines.length && lines[i].startsWith("|"); i++) {
    rows.push(
      lines[i].slice(1, -1).split(/(?<!\\)\|/).map((cell) => cell.trim()),
    );
  }
  return rows;
}

Deno.test("docs/monitor.md's settings table is the settings' declaration", async () => {
  const doc = await Deno.readTextFile(new URL("../../docs/monitor.md", import.meta.url));
  assert.deepEqual(
    tableRows(doc),
    settingsTable(),
    "docs/monitor.md is out of date: run deno run -A scripts/settings_table.ts",
  );
});
