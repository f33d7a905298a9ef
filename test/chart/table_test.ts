import assert from "node:assert/strict";
import pl from "nodejs-polars";
import { table } from "../../lib/chart/table.ts";
import { JUPYTER_DISPLAY } from "../../lib/chart/_dom.ts";

function frame(rows: number): pl.DataFrame {
  return pl.DataFrame({
    instance: Array.from({ length: rows }, (_, i) => `host-${i}:9100`),
    timestamp: Array.from({ length: rows }, (_, i) => Date.UTC(2026, 10, 1) + i * 60_000),
    value: Array.from({ length: rows }, (_, i) => i + 0.5),
  }).withColumn(pl.col("timestamp").cast(pl.Datetime("ms")));
}

Deno.test("table shows every row of a small frame as escaped HTML and aligned text", () => {
  const df = pl.DataFrame({
    instance: ["<script>alert(1)</script>", "主机-01", null],
    value: [1.5, NaN, Infinity],
  });
  const t = table(df);
  const bundle = t[JUPYTER_DISPLAY]();
  assert.deepEqual(Object.keys(bundle).sort(), ["text/html", "text/plain"]);
  const html = bundle["text/html"];
  assert.ok(!html.includes("<script>"));
  assert.ok(html.includes("<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>"));
  assert.equal((html.match(/<tr>/g) ?? []).length, 4); // header + 3 rows
  assert.ok(html.includes("<td>主机-01</td><td>NaN</td>"));
  assert.ok(html.includes("<td>null</td><td>+Inf</td>"));
  assert.ok(html.includes("3 rows × 2 columns</caption>"));
  assert.equal(
    bundle["text/plain"],
    [
      "instance                   value",
      "String                     Float64",
      "-------------------------  -------",
      "<script>alert(1)</script>  1.5",
      "主机-01                    NaN",
      "null                       +Inf",
      "3 rows × 2 columns",
    ].join("\n"),
  );
  assert.equal(t.rows, 3);
  assert.equal(t.omitted, 0);
});

Deno.test("table truncates to maxRows with first and last rows and the total count", () => {
  const t = table(frame(25), { maxRows: 10, caption: "CPU <now>" });
  const html = t.toHtml();
  assert.equal((html.match(/<tr>/g) ?? []).length, 11); // header + 10 rows
  assert.ok(html.includes('<td colspan="3">… 15 more rows …</td>'));
  assert.ok(html.includes("CPU &lt;now&gt; — 25 rows × 3 columns (showing 10)"));
  for (const i of [0, 4, 20, 24]) assert.ok(html.includes(`<td>host-${i}:9100</td>`), `row ${i}`);
  for (const i of [5, 19]) assert.ok(!html.includes(`<td>host-${i}:9100</td>`), `row ${i}`);
  assert.ok(html.includes("<td>2026-11-01 00:00:00Z</td>"));
  const text = t.toString().split("\n");
  assert.equal(text[0], "CPU <now>");
  assert.equal(text.at(-1), "25 rows × 3 columns (showing 10)");
  assert.ok(text.includes("… 15 more rows …"));
  assert.equal(t.omitted, 15);
});

Deno.test("table rejects a non-positive maxRows and cuts long cells", () => {
  assert.throws(() => table(frame(3), { maxRows: 0 }), RangeError);
  const t = table(pl.DataFrame({ s: ["x".repeat(100)] }), { maxCellWidth: 10 });
  assert.ok(t.toHtml().includes(`<td>${"x".repeat(9)}…</td>`));
});
