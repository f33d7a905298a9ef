/**
 * Detector benchmark: an instant frame of 10,000 hosts through
 * `overThreshold` and `hysteresis`, and a range frame of 1,000 hosts × 288
 * steps (a day at 5 minutes) through `sustained`, `sustainedEpisodes`,
 * `fleetOutliers`, `baselineAnomalies` and `trend`. Prints the median of
 * several runs and the ratio against a plain JavaScript loop doing the same
 * threshold count over the same values, measured in the same run.
 *
 * Run: `deno run -A bench/detect_bench.ts`
 *
 * @module
 */

import pl from "nodejs-polars";
import {
  baselineAnomalies,
  fleetOutliers,
  hysteresis,
  overThreshold,
  sustained,
  sustainedEpisodes,
  trend,
} from "../lib/mod.ts";

const RUNS = 7;
const START = Date.UTC(2026, 10, 1);
const STEP = 300_000;

/** A deterministic value in [0, 100) per host and step. */
function value(host: number, step: number): number {
  const x = Math.sin(host * 12.9898 + step * 78.233) * 43758.5453;
  const noise = x - Math.floor(x);
  const base = 30 + (host % 40) + 10 * Math.sin((2 * Math.PI * step) / 288);
  // Every 50th host runs hot from step 200; every 97th climbs steadily.
  if (host % 50 === 0 && step >= 200) return 90 + noise * 5;
  if (host % 97 === 0) return 40 + step * 0.2 + noise;
  return base + noise * 4;
}

function frame(hosts: number, steps: number, offset = 0): pl.DataFrame {
  const n = hosts * steps;
  const instance = new Array<string>(n), ts = new Float64Array(n), vs = new Float64Array(n);
  let i = 0;
  for (let h = 0; h < hosts; h++) {
    const name = `host-${String(h).padStart(5, "0")}:9100`;
    for (let s = 0; s < steps; s++, i++) {
      instance[i] = name;
      ts[i] = START + s * STEP;
      vs[i] = value(h, s + offset);
    }
  }
  return pl.DataFrame([
    pl.Series("instance", instance, pl.Utf8),
    pl.Series("job", new Array<string>(n).fill("node"), pl.Utf8),
    pl.Series("timestamp", ts).cast(pl.Int64).cast(pl.Datetime("ms")),
    pl.Series("value", vs),
  ]);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function measure(fn: () => unknown): { ms: number; out: unknown } {
  let out: unknown;
  fn(); // warm-up
  const times: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t = performance.now();
    out = fn();
    times.push(performance.now() - t);
  }
  return { ms: median(times), out };
}

function rows(out: unknown): number {
  return (out as pl.DataFrame).height;
}

const instant = frame(10_000, 1, 250);
const range = frame(1_000, 288);
const instantValues = instant.getColumn("value").toArray() as number[];
const rangeValues = range.getColumn("value").toArray() as number[];

function jsCount(values: number[], threshold: number): number {
  let n = 0;
  for (let i = 0; i < values.length; i++) if (values[i] > threshold) n++;
  return n;
}

const refInstant = measure(() => jsCount(instantValues, 80));
const refRange = measure(() => jsCount(rangeValues, 80));
const results: [string, string, number, number, number][] = [];
function add(name: string, size: string, ref: number, fn: () => unknown) {
  const { ms, out } = measure(fn);
  results.push([name, size, ms, ms / ref, rows(out)]);
}

add("overThreshold", "10,000 × 1", refInstant.ms, () => overThreshold(instant, { threshold: 80 }));
add("hysteresis", "10,000 × 1", refInstant.ms, () => hysteresis(instant, { high: 85, low: 75 }));
// With a stored state of 1,000 fingerprints: every series is fingerprinted.
const state = hysteresis(frame(1_000, 1, 250), { high: 0, low: 0 }).getColumn("fingerprint")
  .toArray() as string[];
add(
  "hysteresis+state",
  "10,000 × 1",
  refInstant.ms,
  () => hysteresis(instant, { high: 85, low: 75, firing: state }),
);
add(
  "sustained",
  "1,000 × 288",
  refRange.ms,
  () => sustained(range, { threshold: 80, for: "30m" }),
);
add(
  "sustainedEpisodes",
  "1,000 × 288",
  refRange.ms,
  () => sustainedEpisodes(range, { threshold: 80, for: "30m" }),
);
add("fleetOutliers", "1,000 × 288", refRange.ms, () => fleetOutliers(range));
add("baselineAnomalies", "1,000 × 288", refRange.ms, () => baselineAnomalies(range));
add("trend", "1,000 × 288", refRange.ms, () => trend(range));

console.log(`detectors: median of ${RUNS} runs (after one warm-up)`);
console.log(
  `reference: plain JS loop counting values > 80: ${refInstant.ms.toFixed(3)} ms (10,000 values), ${
    refRange.ms.toFixed(3)
  } ms (288,000 values)`,
);
console.log(
  "detector".padEnd(20) + "frame".padEnd(14) + "median ms".padStart(11) +
    "× JS loop".padStart(12) + "rows".padStart(8),
);
for (const [name, size, ms, ratio, n] of results) {
  console.log(
    name.padEnd(20) + size.padEnd(14) + ms.toFixed(2).padStart(11) +
      ratio.toFixed(0).padStart(12) + String(n).padStart(8),
  );
}
const mem = Deno.memoryUsage();
console.log(
  `memory: rss ${(mem.rss / 2 ** 20).toFixed(0)} MiB, heap ${
    (mem.heapUsed / 2 ** 20).toFixed(0)
  } MiB`,
);
