/**
 * The streaming anomaly scorer: causality, state round trip, missing data,
 * constant series, scale invariance, step onsets, and the `deno task nab`
 * path on the small NAB-format fixture under `test/fixtures/nab/`.
 */

import assert from "node:assert/strict";
import pl from "nodejs-polars";
import { AnomalyScorer, anomalyScores } from "../../lib/mod.ts";
import { parseScores, runNab, scoreTable } from "../../scripts/nab.ts";
import { fastNabScores } from "../../scripts/_nab_score.ts";

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
  // and sample by sample through the stateful form, times as numbers or Dates
  const scorer = new AnomalyScorer();
  assert.deepEqual(values.map((v, i) => scorer.score(v, T0 + i * STEP)), full);
  const dated = new AnomalyScorer();
  assert.deepEqual(values.map((v, i) => dated.score(v, new Date(T0 + i * STEP))), full);
  // without timestamps the seasonal signal is off: causal all the same
  const plain = Array.from(new AnomalyScorer().scoreMany(values));
  const head = Array.from(new AnomalyScorer().scoreMany(values.slice(0, 1300)));
  assert.deepEqual(head, plain.slice(0, 1300));
});

Deno.test("AnomalyScorer: JSON round trip mid-series gives exactly the same scores", () => {
  const values: (number | null)[] = series(2000);
  values[3] = NaN;
  values[900] = null;
  const times = values.map((_, i) => T0 + i * STEP);
  const all = Array.from(new AnomalyScorer().scoreMany(values, { timestamps: times }));
  for (const cut of [0, 1, 2, 500, 1000, 1201]) {
    const first = new AnomalyScorer();
    const head = Array.from(first.scoreMany(values.slice(0, cut), { timestamps: times }));
    const json = JSON.stringify(first);
    const restored = AnomalyScorer.fromJSON(JSON.parse(json));
    assert.equal(restored.count, first.count);
    const tail = Array.from(
      restored.scoreMany(values.slice(cut), { timestamps: times.slice(cut) }),
    );
    assert.deepEqual([...head, ...tail], all, `cut at ${cut}`);
  }
  // a NaN before anything was seen leaves ±Infinity bounds and no first time: still restorable
  const empty = new AnomalyScorer();
  empty.score(NaN);
  const back = AnomalyScorer.fromJSON(JSON.parse(JSON.stringify(empty)));
  assert.deepEqual(Array.from(back.scoreMany(values, { timestamps: times })), all);
  assert.throws(
    () => AnomalyScorer.fromJSON({ version: 1 } as never),
    new TypeError(
      "Invalid anomaly scorer state: expected version 2, got 1 (a state from another opsbook" +
        " version or not a scorer state: start a new AnomalyScorer)",
    ),
  );
  const state = JSON.parse(JSON.stringify(new AnomalyScorer()));
  state.model.seen = [-1];
  assert.throws(
    () => AnomalyScorer.fromJSON(state),
    new TypeError("Invalid anomaly scorer state: field seen is missing or malformed"),
  );
  assert.throws(
    () => new AnomalyScorer().scoreMany([1, 2], { timestamps: [1] }),
    new RangeError("Invalid timestamps: expected one per value (2), got 1"),
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
  const keep = values.map((v) => v !== null && Number.isFinite(v));
  const finite = values.filter((_, i) => keep[i]);
  const alone = scoresOf(anomalyScores(frame({ a: finite }, times.filter((_, i) => keep[i]))));
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
    // today's detectors through the same path
    for (const detector of ["baseline", "threshold", "outliers"] as const) {
      const other = runNab({ data: FIXTURE, out, name: `opsbook-${detector}`, detector });
      assert.equal(other.points, 1080);
      assert.equal(other.files.length, 3);
    }
    // threshold: the fraction of earlier values below each point (causal)
    const step = Deno.readTextFileSync(`${out}/artificial/opsbook-threshold_step.csv`)
      .trimEnd().split("\n").slice(1).map((l) => Number(l.split(",")[2]));
    assert.equal(step[0], 0);
    assert.equal(step[300], 1); // the step's first sample is above everything before
    // outliers needs a fleet: one series per file flags nothing
    const fleet = Deno.readTextFileSync(`${out}/server/opsbook-outliers_cpu.csv`)
      .trimEnd().split("\n").slice(1).map((l) => Number(l.split(",")[2]));
    assert.deepEqual(new Set(fleet), new Set([0]));
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

Deno.test("anomalyScores: a counter reset is one event, then the model recovers", () => {
  // a request counter: +40..60 per step, reset to 0 at 1200 (a restart)
  const values: number[] = [];
  let c = 0;
  for (let i = 0; i < 2400; i++) {
    if (i === 1200) c = 0;
    c += 40 + 20 * noise(i);
    values.push(c);
  }
  const out = scoresOf(anomalyScores(frame({ a: values })));
  for (const s of out) assert.ok(Number.isFinite(s) && s >= 0 && s <= 1);
  // the raw counter: a steady climb is not news (each new high is a tiny
  // step beyond the range); the reset is the one high score, and the climb
  // through already-seen values afterwards stays low
  assert.equal(argmax(out, 150), 1200);
  assert.ok(out[1200] > 0.5, `reset ${out[1200]}`);
  assert.ok(Math.max(...out.slice(150, 1200)) < 0.3);
  assert.ok(Math.max(...out.slice(1201)) < 0.3);
  // the same counter as a rate with Prometheus' reset rule (what a monitor
  // should score): the reset leaves no trace
  const rate = values.map((v, i) => (i === 0 ? 0 : v >= values[i - 1] ? v - values[i - 1] : v));
  const r = scoresOf(anomalyScores(frame({ a: rate })));
  assert.ok(Math.max(...r.slice(1190, 1400)) < 0.3);
});

Deno.test("runNab: ×1000 + 12345 on the NAB-format fixture gives near-identical result files", async () => {
  const out = await Deno.makeTempDir();
  try {
    const base = runNab({ data: FIXTURE, out: `${out}/a`, name: "opsbookA", detector: "anomaly" });
    const scaled = runNab({
      data: FIXTURE,
      out: `${out}/b`,
      name: "opsbookA",
      detector: "anomaly",
      scale: 1000,
      offset: 12345,
    });
    assert.deepEqual(scaled.files, base.files);
    const rows = (path: string) =>
      Deno.readTextFileSync(path).trimEnd().split("\n").slice(1).map((l) => l.split(","));
    for (const f of base.files) {
      const a = rows(`${out}/a/${f}`), b = rows(`${out}/b/${f}`);
      assert.equal(b.length, a.length);
      for (let i = 0; i < a.length; i++) {
        // same rows and values; scores equal up to the last bits of a float
        assert.deepEqual([b[i][0], b[i][1], b[i][3]], [a[i][0], a[i][1], a[i][3]]);
        assert.equal(Number(b[i][2]) > 0, Number(a[i][2]) > 0, `${f} row ${i + 2}`);
        assert.ok(Math.abs(Number(b[i][2]) - Number(a[i][2])) < 1e-9, `${f} row ${i + 2}`);
      }
    }
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("fastNabScores: NAB's sweep, optimizer and normalization on hand-made detections", () => {
  const windows = JSON.parse(
    Deno.readTextFileSync(new URL("../fixtures/nab/labels/combined_windows.json", import.meta.url)),
  );
  const rows: Record<string, number> = {
    "artificial/flat.csv": 320,
    "artificial/step.csv": 400,
    "server/cpu.csv": 360,
  };
  const starts: Record<string, number> = {
    "artificial/flat.csv": 240,
    "artificial/step.csv": 290,
    "server/cpu.csv": 270,
  };
  const t0 = Date.UTC(2014, 3, 1);
  const files = (mark: (rel: string, i: number) => number) =>
    Object.entries(rows).map(([rel, n]) => ({
      rel,
      times: Array.from({ length: n }, (_, i) => t0 + i * STEP),
      scores: Array.from({ length: n }, (_, i) => mark(rel, i)),
    }));
  // never detecting is the null detector: 0 on every profile
  const none = fastNabScores(files(() => 0), windows);
  assert.deepEqual(none.scores, { standard: 0, reward_low_FP_rate: 0, reward_low_FN_rate: 0 });
  // the first row of every window: perfect
  const perfect = fastNabScores(files((rel, i) => (i === starts[rel] ? 1 : 0)), windows);
  for (const s of Object.values(perfect.scores)) assert.ok(Math.abs(s - 100) < 1e-9);
  assert.deepEqual(perfect.corpora.standard.server, { score: 100, found: 1, windows: 1, fp: 0 });
  // plus one false positive before any window (after the probation): it costs the FP weight;
  // one in the probation (row 10) costs nothing
  const fp = fastNabScores(
    files((
      rel,
      i,
    ) => (i === starts[rel] || (rel === "server/cpu.csv" && (i === 100 || i === 10)) ? 1 : 0)),
    windows,
  );
  assert.ok(Math.abs(fp.scores.standard - 100 * (6 - 0.11) / 6) < 1e-9);
  assert.ok(Math.abs(fp.scores.reward_low_FP_rate - 100 * (6 - 0.22) / 6) < 1e-9);
  assert.ok(Math.abs(fp.scores.reward_low_FN_rate - 100 * (9 - 0.11) / 9) < 1e-9);
  assert.equal(fp.corpora.standard.server.fp, 1);
  // a window missing from the labels is named
  assert.throws(
    () => fastNabScores(files(() => 0), {}),
    new RangeError("No NAB windows for artificial/flat.csv"),
  );
});

Deno.test("deno task nab --fast: the fixture scored in process, per corpus", async () => {
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
        "--fast",
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(run.stdout);
    assert.equal(run.code, 0, text + new TextDecoder().decode(run.stderr));
    const lines = text.trimEnd().split("\n").slice(1);
    assert.equal(lines[0], "fx (in-process port of NAB's scorer; report the official one):");
    assert.match(lines[1], /^standard +\d+\.\d\d \(threshold /);
    assert.equal(lines[4], "per corpus, standard: score, windows found, false-positive rows");
    assert.match(lines[5], /^ {2}artificial +\d+\.\d +2\/2 \d+$/);
    assert.match(lines[6], /^ {2}server +\d+\.\d +1\/1 \d+$/);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
