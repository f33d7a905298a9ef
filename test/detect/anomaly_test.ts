/**
 * The streaming anomaly scorer: causality, state round trip, missing data,
 * constant series, scale invariance, step onsets, and the `deno task nab`
 * path on the small NAB-format fixture under `test/fixtures/nab/`.
 */

import assert from "node:assert/strict";
import pl from "nodejs-polars";
import { AnomalyScorer, anomalyScores } from "../../lib/mod.ts";
import { parseScores, runNab, scoreTable } from "../../scripts/nab.ts";

const T0 = Date.UTC(2026, 10, 1);
const STEP = 300_000;
const FIXTURE = new URL("../fixtures/nab/data", import.meta.url).pathname;

/** Deterministic noise in [0, 1). */
function noise(i: number): number {
  const x = Math.sin(i * 12.9898) * 43758.5453;
  return x - Math.floor(x);
}

/** A daily wave (288 steps) with noise, a +25 step from `step` and a spike at `spike`. */
function series(n: number, step = 1500, spike = 1200): number[] {
  return Array.from(
    { length: n },
    (_, i) =>
      40 + 10 * Math.sin((2 * Math.PI * i) / 288) + 3 * noise(i) + (i >= step ? 25 : 0) +
      (i === spike ? 40 : 0),
  );
}

function frame(series: Record<string, (number | null)[]>, times?: number[]): pl.DataFrame {
  const inst: string[] = [], ts: number[] = [], vs: (number | null)[] = [];
  for (const [name, values] of Object.entries(series)) {
    values.forEach((v, i) => {
      inst.push(name);
      ts.push(times ? times[i] : T0 + i * STEP);
      vs.push(v);
    });
  }
  return pl.DataFrame([
    pl.Series("instance", inst, pl.Utf8),
    pl.Series("timestamp", ts, pl.Float64).cast(pl.Int64).cast(pl.Datetime("ms")),
    pl.Series("value", vs, pl.Float64),
  ]);
}

function scoresOf(out: pl.DataFrame): number[] {
  return out.getColumn("score").toArray() as number[];
}

function argmax(xs: ArrayLike<number>, from = 0, to = xs.length): number {
  let best = from;
  for (let i = from; i < to; i++) if (xs[i] > xs[best]) best = i;
  return best;
}

Deno.test("anomalyScores: one row per input row, labels kept, scores in [0, 1]", () => {
  const a = series(800), b = series(600).map((v) => v * 2);
  const out = anomalyScores(frame({ a, b }));
  assert.deepEqual(out.columns, ["instance", "timestamp", "value", "score"]);
  assert.equal(out.height, 1400);
  assert.deepEqual(out.getColumn("value").toArray(), [...a, ...b]);
  for (const s of scoresOf(out)) assert.ok(s >= 0 && s <= 1, `score ${s}`);
  // series are independent: b alone scores the same as b beside a
  assert.deepEqual(scoresOf(out).slice(800), scoresOf(anomalyScores(frame({ b }))));
});

Deno.test("anomalyScores: causal, a prefix scores as the prefix of the full scores", () => {
  const values = series(2000);
  const full = scoresOf(anomalyScores(frame({ a: values })));
  for (const k of [1, 151, 700, 1200, 1201, 1500, 1501]) {
    assert.deepEqual(scoresOf(anomalyScores(frame({ a: values.slice(0, k) }))), full.slice(0, k));
  }
  // and sample by sample through the stateful form
  const scorer = new AnomalyScorer();
  assert.deepEqual(values.map((v) => scorer.score(v)), full);
});

Deno.test("AnomalyScorer: JSON round trip mid-series gives exactly the same scores", () => {
  const values: (number | null)[] = series(2000);
  values[3] = NaN;
  values[900] = null;
  const all = Array.from(new AnomalyScorer().scoreMany(values));
  for (const cut of [0, 1, 2, 500, 1000, 1201]) {
    const first = new AnomalyScorer();
    const head = Array.from(first.scoreMany(values.slice(0, cut)));
    const json = JSON.stringify(first);
    const restored = AnomalyScorer.fromJSON(JSON.parse(json));
    assert.equal(restored.count, first.count);
    const tail = Array.from(restored.scoreMany(values.slice(cut)));
    assert.deepEqual([...head, ...tail], all, `cut at ${cut}`);
  }
  // a NaN before anything was seen leaves ±Infinity bounds: still restorable
  const empty = new AnomalyScorer();
  empty.score(NaN);
  const back = AnomalyScorer.fromJSON(JSON.parse(JSON.stringify(empty)));
  assert.deepEqual(Array.from(back.scoreMany(values)), all);
  assert.throws(
    () => AnomalyScorer.fromJSON({ version: 2 } as never),
    new TypeError("Invalid anomaly scorer state: expected version 1"),
  );
});

Deno.test("anomalyScores: NaN, null, ±Inf and gaps give finite scores in [0, 1]", () => {
  const values: (number | null)[] = series(1000);
  for (const i of [0, 5, 400, 401, 402, 999]) values[i] = NaN;
  values[600] = null;
  values[700] = Infinity;
  values[701] = -Infinity;
  // a 3-day gap in the timestamps half way
  const times = values.map((_, i) => T0 + i * STEP + (i >= 500 ? 3 * 86_400_000 : 0));
  const out = scoresOf(anomalyScores(frame({ a: values }, times)));
  assert.equal(out.length, 1000);
  for (const s of out) assert.ok(Number.isFinite(s) && s >= 0 && s <= 1);
  for (const i of [0, 5, 400, 600, 700, 701, 999]) assert.equal(out[i], 0);
  // the missing samples are skipped, not learned: scores of the finite ones are unchanged
  const finite = values.filter((v): v is number => v !== null && Number.isFinite(v));
  const alone = scoresOf(anomalyScores(frame({ a: finite })));
  assert.deepEqual(out.filter((_, i) => values[i] !== null && Number.isFinite(values[i]!)), alone);
});

Deno.test("anomalyScores: a constant series scores 0 everywhere, then a change stands out", () => {
  assert.deepEqual(scoresOf(anomalyScores(frame({ a: new Array(2000).fill(42) }))), [
    ...new Array(2000).fill(0),
  ]);
  assert.deepEqual(scoresOf(anomalyScores(frame({ a: new Array(500).fill(0) }))), [
    ...new Array(500).fill(0),
  ]);
  const flat = [...new Array(1000).fill(7), ...new Array(500).fill(9)];
  const out = scoresOf(anomalyScores(frame({ a: flat })));
  assert.equal(argmax(out), 1000);
  assert.ok(out[1000] > 0.5);
  assert.equal(Math.max(...out.slice(0, 1000)), 0);
});

Deno.test("anomalyScores: a step change scores highest at its onset", () => {
  const values = series(2000, 1500, -1);
  const out = scoresOf(anomalyScores(frame({ a: values })));
  const peak = argmax(out, 600);
  assert.ok(peak >= 1500 && peak <= 1502, `peak at ${peak}`);
  assert.ok(out[peak] > 0.5, `peak ${out[peak]}`);
});

Deno.test("anomalyScores: ×1000 + constant gives near-identical scores", () => {
  const values = series(3000);
  const base = scoresOf(anomalyScores(frame({ a: values })));
  for (const [k, c] of [[1000, 0], [1000, 123_456], [0.001, -5], [1e6, 1e9]]) {
    const scaled = scoresOf(anomalyScores(frame({ a: values.map((v) => v * k + c) })));
    let same = 0;
    for (let i = 0; i < base.length; i++) if (Math.abs(base[i] - scaled[i]) < 1e-6) same++;
    assert.ok(same >= 0.995 * base.length, `×${k}+${c}: ${same} of ${base.length} equal`);
    assert.equal(argmax(scaled, 600), argmax(base, 600));
  }
});

Deno.test("anomalyScores: rejects a bad frame or option", () => {
  assert.throws(() => anomalyScores({} as never), TypeError);
  assert.throws(() => anomalyScores(frame({ a: [1] }), { column: "nope" }), TypeError);
  assert.throws(() => anomalyScores(frame({ a: [1] }), { warmup: 0 }), RangeError);
  const empty = anomalyScores(frame({}));
  assert.deepEqual(empty.columns, ["instance", "timestamp", "value", "score"]);
  assert.equal(empty.height, 0);
});

Deno.test("runNab: the fixture gives one correctly shaped result file per data file", async () => {
  const out = await Deno.makeTempDir();
  try {
    const lines: string[] = [];
    const result = runNab({
      data: FIXTURE,
      out,
      name: "opsbookTest",
      detector: "anomaly",
      log: (l) => lines.push(l),
    });
    assert.deepEqual(result.files, [
      "artificial/opsbookTest_flat.csv",
      "artificial/opsbookTest_step.csv",
      "server/opsbookTest_cpu.csv",
    ]);
    assert.equal(result.points, 320 + 400 + 360);
    assert.equal(lines.length, 3);
    const onsets: Record<string, number> = {
      "artificial/flat.csv": 250,
      "artificial/step.csv": 300,
      "server/cpu.csv": 280,
    };
    for (const [rel, onset] of Object.entries(onsets)) {
      const input = Deno.readTextFileSync(`${FIXTURE}/${rel}`).split(/\r?\n/).filter((l) => l);
      const [corpus, file] = rel.split("/");
      const text = Deno.readTextFileSync(`${out}/${corpus}/opsbookTest_${file}`);
      const rows = text.trimEnd().split("\n");
      assert.equal(rows[0], "timestamp,value,anomaly_score,label");
      assert.equal(rows.length, input.length);
      const scores: number[] = [];
      for (let i = 1; i < rows.length; i++) {
        const cells = rows[i].split(",");
        assert.equal(cells.length, 4);
        assert.equal(`${cells[0]},${cells[1]}`, input[i]);
        assert.equal(cells[3], "0");
        const s = Number(cells[2]);
        assert.ok(s >= 0 && s <= 1);
        scores.push(s);
      }
      assert.equal(argmax(scores), onset, rel);
    }
    // the baseline detector through the same path
    const base = runNab({ data: FIXTURE, out, name: "opsbookBase", detector: "baseline" });
    assert.equal(base.points, 1080);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("deno task nab: a missing data folder is named with what to do", async () => {
  const run = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../../scripts/nab.ts", import.meta.url).pathname,
      "--data",
      "/nonexistent/nab/data",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(run.code, 1);
  const err = new TextDecoder().decode(run.stderr);
  assert.match(err, /NAB data not found at \/nonexistent\/nab\/data: pass --data/);
});

Deno.test("deno task nab: the fixture without a scorer writes results and says so", async () => {
  const out = await Deno.makeTempDir();
  try {
    const run = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("../../scripts/nab.ts", import.meta.url).pathname,
        "--data",
        FIXTURE,
        "--out",
        out,
        "--name",
        "fx",
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(run.stdout);
    assert.equal(run.code, 0, text + new TextDecoder().decode(run.stderr));
    assert.match(text, /^3 files, 1080 points/);
    assert.match(text, /No NAB scorer at .*fixtures\/nab\/score: result files written, not scored/);
    assert.ok(Deno.statSync(`${out}/server/fx_cpu.csv`).isFile);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("parseScores and scoreTable read and print the scorer's lines", () => {
  const scores = parseScores(
    "Final score for 'x' detector on 'standard' profile = 71.25\n" +
      "Final score for 'x' detector on 'reward_low_FP_rate' profile = 60.5\n" +
      "Final score for 'x' detector on 'reward_low_FN_rate' profile = -3.00\n",
  );
  assert.deepEqual(scores, { standard: 71.25, reward_low_FP_rate: 60.5, reward_low_FN_rate: -3 });
  const table = scoreTable("x", scores, {
    numenta: { standard: 70.1, reward_low_FP_rate: 63.1, reward_low_FN_rate: 74.3 },
  });
  assert.equal(
    table,
    [
      "detector               standard  low_FP  low_FN",
      "* x                       71.3    60.5    -3.0",
      "  numenta                 70.1    63.1    74.3",
    ].join("\n"),
  );
});
