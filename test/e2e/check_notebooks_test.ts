import assert from "node:assert/strict";
import { notebookProblems, stripNotebook } from "../../scripts/check_notebooks.ts";

function notebook(source: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    cells: [
      { cell_type: "markdown", source: ["# 01 · a question"], metadata: {} },
      {
        cell_type: "code",
        source: [source],
        metadata: {},
        outputs: [],
        execution_count: null,
        ...extra,
      },
    ],
  });
}

// Built at run time so this file itself holds nothing secret-looking.
const WEBHOOK = ["https://hooks.slack.com/services", "T1A2B3C4D", "B1A2B3C4D", "a1b2c3d4e5f6g7h8i9"]
  .join("/");
const PLACEHOLDER = "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX";

Deno.test("notebookProblems: a clean notebook has none", () => {
  assert.deepEqual(notebookProblems(notebook("const threshold = 80;")), []);
  assert.deepEqual(notebookProblems(notebook(`const url = "${PLACEHOLDER}";`)), []);
});

Deno.test("notebookProblems: outputs, execution counts and invalid JSON", () => {
  assert.deepEqual(
    notebookProblems(notebook("1", { outputs: [{ output_type: "stream" }], execution_count: 4 })),
    ["cell 2: has 1 output(s)", "cell 2: execution count 4"],
  );
  assert.match(notebookProblems("{")[0], /^not valid JSON: /);
});

Deno.test("notebookProblems: secret-looking strings, also after a placeholder", () => {
  assert.deepEqual(notebookProblems(notebook(`const url = "${WEBHOOK}";`)), [
    "contains something that looks like a Slack webhook URL",
  ]);
  assert.deepEqual(
    notebookProblems(notebook(`const a = "${PLACEHOLDER}";\nconst b = "${WEBHOOK}";`)),
    ["contains something that looks like a Slack webhook URL"],
  );
  const token = ["xoxb", "1234567890", "abcdefghij"].join("-");
  assert.deepEqual(notebookProblems(notebook(`const t = "${token}";`)), [
    "contains something that looks like a Slack token",
  ]);
});

Deno.test("stripNotebook: outputs and execution counts removed, sources kept", () => {
  const dirty = notebook("1 + 1", {
    outputs: [{ output_type: "execute_result", data: { "text/plain": "2" } }],
    execution_count: 7,
    metadata: { execution: { "iopub.status.busy": "2026-11-01T00:00:00Z" }, tags: ["x"] },
  });
  const clean = stripNotebook(dirty);
  assert.deepEqual(notebookProblems(clean), []);
  const cell = JSON.parse(clean).cells[1];
  assert.deepEqual(cell.outputs, []);
  assert.equal(cell.execution_count, null);
  assert.deepEqual(cell.metadata, { tags: ["x"] });
  assert.deepEqual(cell.source, ["1 + 1"]);
  assert.equal(stripNotebook(clean), clean);
});
