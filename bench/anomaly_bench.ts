/**
 * Anomaly scorer benchmark: the stateful form ({@linkcode AnomalyScorer},
 * 2,000,000 samples of one series), the frame form ({@linkcode anomalyScores},
 * 1,000 hosts × 1,000 steps) and, when NAB's data is at `../shared/nab/data`,
 * the whole benchmark through `runNab` (what `deno task nab` does before
 * scoring). Prints the median of several runs, samples per second, and the
 * ratio against a plain JavaScript loop over the same values (an EWMA of the
 * mean and the absolute deviation), measured in the same run.
 *
 * Run: `deno run -A bench/anomaly_bench.ts`
 *
 * @module
 */

import process from "node:process";
import pl from "nodejs-polars";
import { AnomalyScorer, anomalyScores } from "../lib/mod.ts";
import { runNab } from "../scripts/nab.ts";

const RUNS = 5;
const N = 2_000_000;

/** A deterministic day-shaped CPU series with noise, a step and spikes. */
function values(n: number, seed = 0): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const x = Math.sin((i + seed) * 12.9898) * 43758.5453;
    const noise = x - Math.floor(x);
    out[i] = 35 + 15 * Math.sin((2 * Math.PI * i) / 288) + 4 * noise +
      (i % 50_000 > 40_000 ? 20 : 0) + (i % 7919 === 0 ? 40 : 0);
  }
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function measure(fn: () => unknown, runs = RUNS): number {
  fn(); // warm-up
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    fn();
    times.push(performance.now() - t);
  }
  return median(times);
}

/** CPU time (user + system) of one call, ms: what one core spends, whatever the machine's load. */
function cpuMs(fn: () => unknown): number {
  const start = process.cpuUsage();
  fn();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

/** The reference: an EWMA of the mean and of the absolute deviation, one pass. */
function jsEwma(xs: Float64Array, out: Float64Array): number {
  let m = xs[0], d = 0;
  for (let i = 0; i < xs.length; i++) {
    const e = xs[i] - m;
    out[i] = d > 0 ? Math.abs(e) / d : 0;
    m += 0.1 * e;
    d += 0.01 * (Math.abs(e) - d);
  }
  return m;
}

const xs = values(N);
const out = new Float64Array(N);
const times = Float64Array.from({ length: N }, (_, i) => Date.UTC(2026, 0, 1) + i * 300_000);
const ref = measure(() => jsEwma(xs, out));
const stateful = measure(() => new AnomalyScorer().scoreMany(xs, { out, timestamps: times }));
const cpu = cpuMs(() => new AnomalyScorer().scoreMany(xs, { out, timestamps: times }));

const HOSTS = 1_000, STEPS = 1_000;
const t0 = Date.UTC(2026, 10, 1);
const inst: string[] = [],
  ts = new Float64Array(HOSTS * STEPS),
  vs = new Float64Array(HOSTS * STEPS);
for (let h = 0, k = 0; h < HOSTS; h++) {
  const v = values(STEPS, h * 7);
  for (let s = 0; s < STEPS; s++, k++) {
    inst.push(`host-${String(h).padStart(4, "0")}:9100`);
    ts[k] = t0 + s * 300_000;
    vs[k] = v[s];
  }
}
const frame = pl.DataFrame([
  pl.Series("instance", inst, pl.Utf8),
  pl.Series("timestamp", ts).cast(pl.Int64).cast(pl.Datetime("ms")),
  pl.Series("value", vs),
]);
const frameMs = measure(() => anomalyScores(frame), 3);

console.log(`anomaly scorer: median of ${RUNS} runs (after one warm-up)`);
console.log(
  `reference: plain JS EWMA loop over ${N.toLocaleString("en")} samples: ${ref.toFixed(1)} ms ` +
    `(${(N / ref / 1000).toFixed(1)} M samples/s)`,
);
console.log(
  `AnomalyScorer.scoreMany  ${N.toLocaleString("en")} samples: ${stateful.toFixed(1)} ms, ${
    (N / stateful / 1000).toFixed(2)
  } M samples/s, ${(stateful / ref).toFixed(1)}× the JS loop; CPU time ${cpu.toFixed(1)} ms, ${
    (N / cpu / 1000).toFixed(2)
  } M samples/s/core (target >= 1)`,
);
console.log(
  `anomalyScores  ${HOSTS} × ${STEPS} frame: ${frameMs.toFixed(1)} ms, ${
    (HOSTS * STEPS / frameMs / 1000).toFixed(2)
  } M samples/s, ${(frameMs / (ref * HOSTS * STEPS / N)).toFixed(1)}× the JS loop`,
);

const nab = new URL("../../shared/nab/data", import.meta.url).pathname;
let haveNab = false;
try {
  haveNab = Deno.statSync(nab).isDirectory;
} catch {
  // NAB not here: skip the full run
}
if (haveNab) {
  const dir = await Deno.makeTempDir();
  try {
    const t = performance.now();
    const r = runNab({ data: nab, out: dir, name: "opsbook_bench", detector: "anomaly" });
    const total = performance.now() - t;
    console.log(
      `NAB: ${r.files.length} files, ${r.points.toLocaleString("en")} points: detector ${
        r.detectMs.toFixed(0)
      } ms, with CSV reading and writing ${total.toFixed(0)} ms`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
} else console.log(`NAB: no data at ${nab}, skipped`);
