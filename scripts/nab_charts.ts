/**
 * Charts of NAB anomaly windows with the scores of a detector, to see what it
 * catches and what it misses: the series around the window (shaded), the
 * points the detector flags at `--threshold` (highlighted).
 *
 * `deno run -A scripts/nab_charts.ts [--data DIR] [--out DIR] [--threshold T] FILE:START-END...`
 *
 * `FILE` is `<corpus>/<file>.csv` under NAB's `data/`, `START-END` the row
 * numbers (0-based, data rows) of the window; each chart is written to
 * `OUT/<file>_<START>.png` (default `docs/anomaly`).
 *
 * @module
 */

import { parseArgs } from "node:util";
import * as Plot from "@observablehq/plot";
import pl from "nodejs-polars";
import { anomalyScores, saveChart, timeSeriesChart } from "../lib/mod.ts";

const REPO_ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/** Draws one window of one NAB file with the anomaly scores flagged at `threshold`. */
export async function windowChart(
  data: string,
  spec: string,
  options: { out: string; threshold: number },
): Promise<string> {
  const m = /^(.+\.csv):(\d+)-(\d+)$/.exec(spec);
  if (!m) throw new SyntaxError(`Invalid window: ${spec} (expected <corpus>/<file>.csv:START-END)`);
  const [, rel, a, b] = m;
  const start = Number(a), end = Number(b);
  const rows = Deno.readTextFileSync(`${data}/${rel}`).trim().split(/\r?\n/).slice(1);
  const ts = rows.map((r) => Date.parse(`${r.split(",")[0].replace(" ", "T")}Z`));
  const values = rows.map((r) => Number(r.split(",")[1]));
  const frame = pl.DataFrame([
    pl.Series("instance", rows.map(() => rel.split("/")[1].replace(/\.csv$/, "")), pl.Utf8),
    pl.Series("timestamp", ts).cast(pl.Int64).cast(pl.Datetime("ms")),
    pl.Series("value", values),
  ]);
  const scores = anomalyScores(frame).getColumn("score").toArray() as number[];
  const pad = Math.max(end - start, 100);
  const from = Math.max(0, start - 2 * pad), to = Math.min(rows.length, end + pad + 1);
  const part = frame.slice(from, to - from);
  const flagged = scores.slice(from, to).map((s) => s >= options.threshold);
  const band = Plot.rectX([{ x1: new Date(ts[start]), x2: new Date(ts[end]) }], {
    x1: "x1",
    x2: "x2",
    fill: "#f2a900",
    fillOpacity: 0.15,
  });
  const chart = timeSeriesChart(part, {
    highlight: flagged,
    marks: [band],
    width: 720,
    height: 260,
  });
  const file = `${options.out}/${rel.split("/")[1].replace(/\.csv$/, "")}_${start}.png`;
  await saveChart(chart, file);
  return file;
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: {
      data: { type: "string", default: `${REPO_ROOT}/../shared/nab/data` },
      out: { type: "string", default: `${REPO_ROOT}/docs/anomaly` },
      threshold: { type: "string", default: "0.385" },
    },
  });
  const threshold = Number(values.threshold);
  if (!(threshold > 0 && threshold <= 1) || positionals.length === 0) {
    console.error(
      "Usage: deno run -A scripts/nab_charts.ts [--data DIR] [--out DIR] [--threshold T in (0, 1]]" +
        " <corpus>/<file>.csv:START-END...",
    );
    Deno.exit(2);
  }
  for (const spec of positionals) {
    console.log(await windowChart(values.data, spec, { out: values.out, threshold }));
  }
}
