/**
 * The detectors against the synthetic dataset's scenarios, with the hosts and
 * times derived from `dev/dataset.ts` (see the comments), plus edge cases.
 */

import assert from "node:assert/strict";
import pl from "nodejs-polars";
import {
  baselineAnomalies,
  fingerprint,
  fleetOutliers,
  hysteresis,
  hysteresisEpisodes,
  missingData,
  overThreshold,
  sustained,
  sustainedEpisodes,
  trend,
} from "../../lib/mod.ts";
import {
  DATASET_END_MS,
  DATASET_START_MS,
  expectedCpuUsage,
  SCENARIO_HOSTS,
} from "../../dev/dataset.ts";
import { cpuFrame as datasetFrame } from "../support/cpu_frame.ts";

const MIN = 60_000;
const HOUR = 60 * MIN;
/** Epoch ms of a time of day on 2026-11-01 ("10:00:15"; "24:00" is the end). */
function at(clock: string): number {
  const [h, m, s = "0"] = clock.split(":");
  return DATASET_START_MS + Number(h) * HOUR + Number(m) * MIN + Number(s) * 1000;
}
/** A time of day for messages and comparisons: "10:00:15" or "+06:56:50" the next day. */
function clock(ms: number): string {
  const d = new Date(ms);
  const text = d.toISOString().slice(11, 19);
  return ms >= DATASET_START_MS + 24 * HOUR ? `+${text}` : text;
}

/** The classic CPU query's range frame over the dataset, per the frame contract. */
function cpuFrame(start: number, end: number, step: number, only?: string[]): pl.DataFrame {
  return datasetFrame(start, end, step, { only, job: true });
}

/** A small hand-made range frame: one series per instance, minutes from the dataset start. */
function small(series: Record<string, (number | null)[]>, stepMs = MIN): pl.DataFrame {
  const inst: string[] = [], ts: number[] = [], vs: (number | null)[] = [];
  for (const [name, values] of Object.entries(series)) {
    values.forEach((v, i) => {
      inst.push(name);
      ts.push(DATASET_START_MS + i * stepMs);
      vs.push(v);
    });
  }
  return pl.DataFrame([
    pl.Series("instance", inst, pl.Utf8),
    pl.Series("timestamp", ts, pl.Float64).cast(pl.Int64).cast(pl.Datetime("ms")),
    pl.Series("value", vs, pl.Float64),
  ]);
}

function times(frame: pl.DataFrame, column: string): (string | null)[] {
  return (frame.getColumn(column).cast(pl.Float64).toArray() as (number | null)[]).map((t) =>
    t === null ? null : clock(t)
  );
}

function strings(frame: pl.DataFrame, column: string): string[] {
  return frame.getColumn(column).toArray() as string[];
}

let dayCache: pl.DataFrame | undefined;
/** The whole day at the scrape interval: 12 hosts × 5761 steps (the stopped host fewer). */
function day(): pl.DataFrame {
  return dayCache ??= cpuFrame(DATASET_START_MS, DATASET_END_MS, 15_000);
}

const DB = SCENARIO_HOSTS.sustained;
const SPIKE = SCENARIO_HOSTS.spike;
const FLAP = SCENARIO_HOSTS.flapping;
const TREND = SCENARIO_HOSTS.trend;

// ---------------------------------------------------------------- overThreshold

Deno.test("overThreshold: at 11:00 only the sustained host is over 80 %", () => {
  const instant = cpuFrame(at("11:00"), at("11:00"), 1);
  assert.equal(instant.height, 12);
  const hot = overThreshold(instant, { threshold: 80, unit: "%" });
  assert.deepEqual(strings(hot, "instance"), [DB]);
  assert.deepEqual(strings(hot, "reason"), ["95.0 % > 80 %"]);
  assert.deepEqual(hot.getColumn("threshold").toArray(), [80]);
  assert.deepEqual(hot.columns, [
    "cloud",
    "instance",
    "job",
    "region",
    "timestamp",
    "value",
    "reason",
    "threshold",
  ]);
  // Strictly greater: 95 is not over 95.
  assert.equal(overThreshold(instant, { threshold: 95 }).height, 0);
});

Deno.test("overThreshold: a naive 5-minute check on the flapping host fires 24 times, 12 episodes", () => {
  // 88 % at 06:05 and 06:10; then a 15-minute cycle from 06:10 where the
  // 5-minute points at cycle + 10 and + 15 minutes read 83 % (11 cycles up to
  // 08:55) and the point at + 5 minutes reads 78 %: 2 + 11 × 2 = 24 checks over
  // 80, starting anew 1 + 11 = 12 times. Hysteresis turns this into one alert.
  const five = cpuFrame(DATASET_START_MS, DATASET_END_MS, 5 * MIN, [FLAP]);
  const hot = overThreshold(five, { threshold: 80 });
  assert.equal(hot.height, 24);
  const hotTimes = hot.getColumn("timestamp").cast(pl.Float64).toArray() as number[];
  let starts = 0;
  for (let i = 0; i < hotTimes.length; i++) {
    if (i === 0 || hotTimes[i] - hotTimes[i - 1] > 5 * MIN) starts++;
  }
  assert.equal(starts, 12);
  assert.equal(clock(hotTimes[0]), "06:05:00");
  assert.equal(clock(hotTimes.at(-1)!), "08:55:00");
  const once = hysteresisEpisodes(five, { high: 85, low: 75 });
  assert.deepEqual(times(once, "start"), ["06:05:00"]);
  assert.deepEqual(times(once, "cleared"), ["09:05:00"]);
});

Deno.test("overThreshold: NaN and null never count, +Inf does; missingData reports them", () => {
  const frame = pl.DataFrame({
    instance: ["a", "b", "c", "d", "e"],
    value: [NaN, null, Infinity, -Infinity, 81],
  });
  const hot = overThreshold(frame, { threshold: 80 });
  assert.deepEqual(strings(hot, "instance"), ["c", "e"]);
  assert.deepEqual(strings(hot, "reason"), ["+Inf > 80", "81.0 > 80"]);
  const missing = missingData(frame);
  assert.deepEqual(strings(missing, "instance"), ["a", "b"]);
  assert.deepEqual(strings(missing, "reason"), [
    "missing data: value is NaN",
    "missing data: value is null",
  ]);
});

Deno.test("overThreshold: integer columns, another column, empty frames", () => {
  const frame = pl.DataFrame({ instance: ["a", "b"], load: pl.Series("load", [3, 9], pl.Int64) });
  assert.deepEqual(strings(overThreshold(frame, { threshold: 4, column: "load" }), "instance"), [
    "b",
  ]);
  const empty = pl.DataFrame([
    pl.Series("instance", [], pl.Utf8),
    pl.Series("timestamp", [], pl.Datetime("ms")),
    pl.Series("value", [], pl.Float64),
  ]);
  const out = overThreshold(empty, { threshold: 80 });
  assert.equal(out.height, 0);
  assert.deepEqual(out.columns, ["instance", "timestamp", "value", "reason", "threshold"]);
  assert.equal(overThreshold(pl.DataFrame(), { threshold: 80 }).height, 0);
});

Deno.test("overThreshold: bad thresholds and columns throw errors naming the problem", () => {
  const frame = pl.DataFrame({ instance: ["a"], cpu: [1] });
  for (const [threshold, shown] of [[NaN, "NaN"], [Infinity, "Infinity"], ["80", '"80"']]) {
    assert.throws(
      () => overThreshold(frame, { threshold: threshold as number, column: "cpu" }),
      new RangeError(`Invalid threshold: expected a finite number, got ${shown}`),
    );
  }
  assert.throws(
    () => overThreshold(frame, {} as { threshold: number }),
    new RangeError("Invalid threshold: expected a finite number, got undefined"),
  );
  assert.throws(
    () => overThreshold(frame, { threshold: 80 }),
    new TypeError(
      'Frame has no column "value": pass { column } naming a numeric column (columns: instance, cpu)',
    ),
  );
  assert.throws(
    () => overThreshold(frame, { threshold: 80, column: "instance" }),
    new TypeError(
      'Column "instance" is not numeric: found String, expected a float or integer column',
    ),
  );
  assert.throws(
    () => overThreshold([] as unknown as pl.DataFrame, { threshold: 80 }),
    new TypeError("Invalid frame for overThreshold: expected a nodejs-polars DataFrame"),
  );
});

// ---------------------------------------------------------------- sustained

Deno.test("sustainedEpisodes: > 80 % for 5m over the whole day at 15 s", () => {
  // Sustained host: 95 % for the scrape intervals ending in (10:00, 12:00], so
  // samples 10:00:15 .. 12:00:00; it fires 5 minutes after the first, 10:05:15.
  // Flapping host: 88 % for samples 06:00:15 .. 06:10:00, then 83 % for the
  // samples in (06:10 + 15k + 5m, 06:10 + 15k + 15m] for k = 0 .. 10 (9m45s
  // each, long enough for 5m): 12 episodes. The spike (2 minutes) and the
  // trend host (at most 78.5 %) never qualify.
  const episodes = sustainedEpisodes(day(), { threshold: 80, for: "5m", unit: "%" });
  const flap = [["06:00:15", "06:10:00"]];
  for (let k = 0; k <= 10; k++) {
    const begin = at("06:10") + 15 * MIN * k;
    flap.push([clock(begin + 5 * MIN + 15_000), clock(begin + 15 * MIN)]);
  }
  const got = strings(episodes, "instance").map((instance, i) => [
    instance,
    times(episodes, "start")[i],
    times(episodes, "end")[i],
  ]);
  assert.deepEqual(got, [
    [DB, "10:00:15", "12:00:00"],
    ...flap.map(([s, e]) => [FLAP, s, e]),
  ]);
  assert.deepEqual(times(episodes, "timestamp").slice(0, 3), ["10:05:15", "06:05:15", "06:20:15"]);
  assert.deepEqual(episodes.getColumn("peak").toArray().slice(0, 3), [95, 88, 83]);
  assert.equal(
    strings(episodes, "reason")[0],
    "> 80 % from 2026-11-01T10:00:15Z to 2026-11-01T12:00:00Z (1h59m45s), peak 95.0 %",
  );
  // With for: 10m only the sustained host remains (the flapping runs last 9m45s).
  assert.deepEqual(
    strings(sustainedEpisodes(day(), { threshold: 80, for: "10m" }), "instance"),
    [DB],
  );
});

Deno.test("sustained: Prometheus for: semantics at an evaluation time", () => {
  const frame = day();
  const check = (time: string, forDuration: string | number = "5m") =>
    sustained(frame, { threshold: 80, for: forDuration, at: new Date(at(time)), unit: "%" });
  // The run starts 10:00:15: 4m45s at 10:05:00, 5m at 10:05:15.
  assert.equal(check("10:05:00").height, 0);
  const fired = check("10:05:15");
  assert.deepEqual(strings(fired, "instance"), [DB]);
  assert.deepEqual(times(fired, "since"), ["10:00:15"]);
  assert.deepEqual(times(fired, "timestamp"), ["10:05:15"]);
  assert.deepEqual(strings(fired, "reason"), ["95.0 % > 80 % for 5m since 2026-11-01T10:00:15Z"]);
  assert.deepEqual(strings(check("11:00", 300), "instance"), [DB]); // numbers are seconds
  // one time convention: numbers are seconds, for durations and instants alike
  const bySeconds = sustained(frame, { threshold: 80, for: 300, at: at("10:05:15") / 1000 });
  assert.deepEqual(times(bySeconds, "timestamp"), ["10:05:15"]);
  assert.equal(sustained(frame, { threshold: 80, for: 301, at: at("10:05:15") / 1000 }).height, 0);
  assert.equal(check("12:00:15").height, 0); // the incident is over
  // The spike (14:00:15 .. 14:02:00) never lasts 5 minutes; a for: 1m would fire.
  assert.equal(check("14:02:00").height, 0);
  assert.deepEqual(strings(check("14:02:00", "1m"), "instance"), [SPIKE]);
  assert.deepEqual(strings(check("06:20:15"), "instance"), [FLAP]);
  assert.deepEqual(times(check("06:20:15"), "since"), ["06:15:15"]);
  // Default evaluation time: the frame's last timestamp (24:00), nothing sustained.
  assert.equal(sustained(frame, { threshold: 80, for: "5m" }).height, 0);
  // An evaluation time between two steps uses the sample of the current step.
  assert.deepEqual(strings(check("10:05:20"), "instance"), [DB]);
  assert.deepEqual(
    strings(sustained(frame, { threshold: 80, for: "5m", at: "2026-11-01T11:00:00Z" }), "instance"),
    [DB],
  );
});

Deno.test("sustained: NaN, null and gaps break a run; a series without the current sample is not sustained", () => {
  // One-minute steps; a = always over, b = NaN at minute 3, c = null at 3, d = stops at 4.
  const frame = small({
    a: [90, 90, 90, 90, 90, 90, 90],
    b: [90, 90, 90, NaN, 90, 90, 90],
    c: [90, 90, 90, null, 90, 90, 90],
    d: [90, 90, 90, 90, 90],
  });
  const out = sustained(frame, { threshold: 80, for: "2m" });
  assert.deepEqual(strings(out, "instance"), ["a", "b", "c"]);
  assert.deepEqual(times(out, "since"), ["00:00:00", "00:04:00", "00:04:00"]);
  assert.deepEqual(strings(sustained(frame, { threshold: 80, for: "3m" }), "instance"), ["a"]);
  // A gap: remove minute 3 of "a" entirely.
  const gap = frame.filter(
    pl.col("instance").eq(pl.lit("a")).and(
      pl.col("timestamp").cast(pl.Float64).neq(DATASET_START_MS + 3 * MIN),
    ),
  );
  assert.deepEqual(times(sustained(gap, { threshold: 80, for: "2m" }), "since"), ["00:04:00"]);
  // With an explicit step of 2 minutes the gap no longer breaks the run.
  assert.deepEqual(times(sustained(gap, { threshold: 80, for: "2m", step: "2m" }), "since"), [
    "00:00:00",
  ]);
  const episodes = sustainedEpisodes(frame, { threshold: 80, for: "2m" });
  assert.deepEqual(strings(episodes, "instance"), ["a", "b", "b", "c", "c", "d"]);
});

Deno.test("sustained: validation and empty frames", () => {
  const frame = small({ a: [1, 2] });
  assert.throws(
    () => sustained(frame, { threshold: 80, for: "5 minutes" }),
    new RangeError(
      'Invalid option "for": expected a duration such as "5m" or "1h30m", got "5 minutes"',
    ),
  );
  assert.throws(
    () => sustained(frame, { threshold: 80, for: -1 }),
    new RangeError(
      'Invalid option "for": expected a duration such as "5m" or a non-negative number of seconds, got -1',
    ),
  );
  assert.throws(
    () => sustained(frame, { threshold: 80 } as never),
    new TypeError('Missing option "for": pass the duration the condition must hold, e.g. "5m"'),
  );
  assert.throws(
    () => sustained(frame, { threshold: NaN, for: "5m" }),
    new RangeError("Invalid threshold: expected a finite number, got NaN"),
  );
  assert.throws(
    () => sustained(frame.drop("timestamp"), { threshold: 80, for: "5m" }),
    new TypeError(
      'Frame has no column "timestamp": sustained needs a range frame with a Datetime timestamp per sample',
    ),
  );
  const empty = sustained(frame.head(0), { threshold: 80, for: "5m" });
  assert.deepEqual(empty.columns, ["instance", "timestamp", "value", "reason", "since", "peak"]);
  assert.equal(empty.height, 0);
  assert.equal(sustainedEpisodes(frame.head(0), { threshold: 80, for: "5m" }).height, 0);
});

// ---------------------------------------------------------------- hysteresis

Deno.test("hysteresisEpisodes: 85/75 over the whole day, one episode per incident", () => {
  // Flapping host: enters at 06:00:15 (88 > 85), 78 and 83 are neither above
  // 85 nor below 75, so it stays firing through 09:00:00; the first sample
  // after the scenario (≈ 45 %) clears it at 09:00:15. The sustained host
  // (95 %) and the spike (97 %) cross 85 too; the trend host never reaches 85.
  const episodes = hysteresisEpisodes(day(), { high: 85, low: 75, unit: "%" });
  const got = strings(episodes, "instance").map((instance, i) => [
    instance,
    times(episodes, "start")[i],
    times(episodes, "end")[i],
    times(episodes, "cleared")[i],
  ]);
  assert.deepEqual(got, [
    [DB, "10:00:15", "12:00:00", "12:00:15"],
    [FLAP, "06:00:15", "09:00:00", "09:00:15"],
    [SPIKE, "14:00:15", "14:02:00", "14:02:15"],
  ]);
  assert.deepEqual(episodes.getColumn("peak").toArray(), [95, 88, 97]);
  assert.equal(
    strings(episodes, "reason")[1],
    "> 85 % from 2026-11-01T06:00:15Z, cleared 2026-11-01T09:00:15Z (< 75 %), peak 88.0 %",
  );
  const flapOnly = episodes.filter(pl.col("instance").eq(pl.lit(FLAP)));
  assert.equal(flapOnly.height, 1);
});

Deno.test("hysteresis: state at the end of a frame, and carried across evaluations", () => {
  const frame = day();
  const window = (from: string, to: string) =>
    frame.filter(
      pl.col("timestamp").cast(pl.Float64).gtEq(at(from)).and(
        pl.col("timestamp").cast(pl.Float64).ltEq(at(to)),
      ),
    );
  const morning = hysteresis(window("05:00", "08:00"), { high: 85, low: 75 });
  assert.deepEqual(strings(morning, "instance"), [FLAP]);
  assert.deepEqual(times(morning, "since"), ["06:00:15"]);
  const labels = { cloud: "azure", instance: FLAP, job: "node", region: "eastus" };
  assert.deepEqual(strings(morning, "fingerprint"), [fingerprint(labels)]);
  // A 5-minute monitor at 07:05 sees only 78/83 % samples: not firing on its
  // own, still firing when it passes the state of the previous evaluation.
  const later = window("07:00:15", "07:05");
  assert.equal(hysteresis(later, { high: 85, low: 75 }).height, 0);
  const carried = hysteresis(later, { high: 85, low: 75, firing: strings(morning, "fingerprint") });
  assert.deepEqual(strings(carried, "instance"), [FLAP]);
  assert.deepEqual(times(carried, "since"), [null]);
  assert.match(strings(carried, "reason")[0], /firing since before the frame/);
  // And it clears in the evaluation that sees 09:00:15.
  const clearing = window("08:55:15", "09:00:15");
  assert.equal(
    hysteresis(clearing, { high: 85, low: 75, firing: [fingerprint(labels)] }).height,
    0,
  );
  const ep = hysteresisEpisodes(clearing, { high: 85, low: 75, firing: [fingerprint(labels)] });
  assert.deepEqual(times(ep, "start"), [null]);
  assert.deepEqual(times(ep, "cleared"), ["09:00:15"]);
});

Deno.test("hysteresis: NaN and null keep the state; validation", () => {
  const frame = small({ a: [90, NaN, null, 80], b: [70, NaN, 90, null], c: [90, 70, NaN, 80] });
  const out = hysteresis(frame, { high: 85, low: 75 });
  assert.deepEqual(strings(out, "instance"), ["a", "b"]);
  assert.deepEqual(times(out, "timestamp"), ["00:03:00", "00:02:00"]); // last valid sample
  assert.throws(
    () => hysteresis(frame, { high: 80, low: 90 }),
    new RangeError(
      "Invalid hysteresis band: low (90) is above high (80); pass low <= high, e.g. { high: 85, low: 75 }",
    ),
  );
  assert.throws(
    () => hysteresis(frame, { high: 85, low: NaN }),
    new RangeError("Invalid low: expected a finite number, got NaN"),
  );
  assert.equal(hysteresis(frame.head(0), { high: 85, low: 75 }).height, 0);
  assert.deepEqual(hysteresisEpisodes(frame.head(0), { high: 85, low: 75 }).columns, [
    "instance",
    "timestamp",
    "value",
    "reason",
    "start",
    "end",
    "cleared",
    "peak",
    "fingerprint",
  ]);
});

// ---------------------------------------------------------------- fleetOutliers

Deno.test("fleetOutliers: during the sustained incident only ali-hz-db-01 stands out", () => {
  // At 11:00 the fleet reads about 33–54 % (base + 85 of seasonality ± 2 %
  // noise; the trend host 40 %), median ≈ 41, MAD ≈ 5: the sustained host's
  // 95 % scores ≈ 7; the highest normal host ≈ 2.
  const incident = cpuFrame(at("10:00"), at("12:00"), MIN);
  const out = fleetOutliers(incident, { unit: "%" });
  assert.deepEqual([...new Set(strings(out, "instance"))], [DB]);
  const flagged = times(out, "timestamp");
  assert.equal(flagged.length, 120);
  assert.equal(flagged[0], "10:01:00");
  assert.equal(flagged.at(-1), "12:00:00");
  assert.ok((out.getColumn("score").toArray() as number[]).every((z) => z > 3));
  assert.deepEqual([...new Set(out.getColumn("hosts").toArray())], [12]);
  assert.match(
    strings(out, "reason")[0],
    /^95\.0 % is \d+\.\d MADs above the fleet median \d+\.\d % \(12 hosts\)$/,
  );
});

Deno.test("fleetOutliers: exact score, MAD = 0 rule, minHosts, missing values", () => {
  const t = (m: number) => DATASET_START_MS + m * MIN;
  const frame = pl.DataFrame([
    pl.Series("instance", ["a", "b", "c", "d", "e", "a", "b", "c", "d", "e", "a", "b"], pl.Utf8),
    pl.Series("timestamp", [0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2].map(t), pl.Float64).cast(pl.Int64)
      .cast(pl.Datetime("ms")),
    // minute 0: MAD 1; minute 1: four equal values (MAD 0) and one NaN; minute 2: 2 hosts.
    pl.Series("value", [40, 42, 38, 41, 95, 50, 50, 50, NaN, 60, 10, 99], pl.Float64),
  ]);
  const out = fleetOutliers(frame);
  assert.deepEqual(strings(out, "instance"), ["e", "e"]);
  const scores = out.getColumn("score").toArray() as number[];
  assert.equal(scores[0], (0.6745 * (95 - 41)) / 1);
  // Minute 1: values 50, 50, 50, 60: median 50, MAD 0, mean AD 2.5 → (60 − 50) / (1.253314 · 2.5).
  assert.equal(scores[1], 10 / (1.253314 * 2.5));
  assert.deepEqual(out.getColumn("hosts").toArray(), [5, 4]);
  // All equal → no outlier, no division by zero.
  const flat = pl.DataFrame({
    instance: ["a", "b", "c"],
    timestamp: pl.Series("timestamp", [0, 0, 0].map(t), pl.Float64).cast(pl.Int64).cast(
      pl.Datetime("ms"),
    ),
    value: [5, 5, 5],
  });
  assert.equal(fleetOutliers(flat).height, 0);
  assert.equal(fleetOutliers(frame, { minHosts: 6 }).height, 0);
  assert.equal(fleetOutliers(frame, { tolerance: 40 }).height, 0);
  assert.throws(
    () => fleetOutliers(frame, { minHosts: 2 }),
    new RangeError(
      "Invalid minHosts: expected an integer of at least 3 (a median and MAD need three hosts), got 2",
    ),
  );
  assert.throws(
    () => fleetOutliers(frame, { tolerance: -1 }),
    new RangeError("Invalid tolerance: expected a positive finite number, got -1"),
  );
  assert.deepEqual(fleetOutliers(frame.head(0)).columns, [
    "instance",
    "timestamp",
    "value",
    "reason",
    "score",
    "median",
    "hosts",
  ]);
});

// ---------------------------------------------------------------- baselineAnomalies

Deno.test("baselineAnomalies: the spike is flagged against its own hour, normal hosts never", () => {
  // Normal hosts move at most ±2 % of noise plus ≈ 3 %/h of seasonality, well
  // inside median ± 4 · 1.4826 · MAD (MAD ≈ 1); the spike's 97 % is ≈ 47 points
  // above its ≈ 50 % baseline at all 8 samples 14:00:15 .. 14:02:00 (it is
  // never more than 7 of the 240 samples in the window, so the median stays).
  const out = baselineAnomalies(day(), { window: "1h", tolerance: 4 });
  const spike = out.filter(pl.col("instance").eq(pl.lit(SPIKE)));
  const expectedSpike = Array.from({ length: 8 }, (_, i) => clock(at("14:00:15") + i * 15_000));
  assert.deepEqual(times(spike, "timestamp"), expectedSpike);
  for (const e of spike.getColumn("expected").toArray() as number[]) assert.ok(e > 45 && e < 55);
  for (const s of spike.getColumn("score").toArray() as number[]) assert.ok(s > 20);
  // The other flags are the step changes of the sustained and flapping hosts.
  assert.deepEqual([...new Set(strings(out, "instance"))].sort(), [DB, FLAP, SPIKE].sort());
  const db = out.filter(pl.col("instance").eq(pl.lit(DB)));
  assert.equal(times(db, "timestamp")[0], "10:00:15");
  assert.match(
    strings(spike, "reason")[0],
    /^97\.0 is \d+\.\d MADs above its 1h baseline \d+\.\d$/,
  );
});

Deno.test("baselineAnomalies: current point excluded, minSamples, MAD = 0, missing data", () => {
  // Ten quiet minutes, then 97 (flagged), NaN (ignored), 40.
  const frame = small({ a: [40, 41, 39, 40, 42, 38, 40, 41, 39, 40, 97, NaN, 40] });
  const out = baselineAnomalies(frame);
  assert.deepEqual(times(out, "timestamp"), ["00:10:00"]);
  assert.deepEqual(out.getColumn("expected").toArray(), [40]);
  // MAD of 40,41,39,40,42,38,40,41,39,40 around 40 is 1 → score 57 / 1.4826.
  assert.deepEqual(out.getColumn("score").toArray(), [57 / 1.4826]);
  assert.deepEqual(out.getColumn("lower").toArray(), [40 - 4 * 1.4826]);
  assert.equal(baselineAnomalies(frame, { minSamples: 11 }).height, 0);
  // A window of 5 minutes holds 5 earlier samples: below the default minSamples.
  assert.equal(baselineAnomalies(frame, { window: "5m" }).height, 0);
  assert.deepEqual(times(baselineAnomalies(frame, { window: "5m", minSamples: 5 }), "timestamp"), [
    "00:10:00",
  ]);
  // A constant history: the same value is fine, any other is flagged (infinite score).
  const constant = small({ up: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1] });
  const flagged = baselineAnomalies(constant);
  assert.deepEqual(times(flagged, "timestamp"), ["00:11:00"]);
  assert.deepEqual(flagged.getColumn("score").toArray(), [-Infinity]);
  assert.throws(
    () => baselineAnomalies(frame, { minSamples: 2 }),
    new RangeError("Invalid minSamples: expected an integer of at least 3, got 2"),
  );
  assert.throws(
    () => baselineAnomalies(frame, { window: "soon" }),
    new RangeError(
      'Invalid option "window": expected a duration such as "5m" or "1h30m", got "soon"',
    ),
  );
  assert.equal(baselineAnomalies(frame.head(0)).height, 0);
});

// ---------------------------------------------------------------- trend

Deno.test("trend: at 19:30 only tc-sh-batch-01 heads for 100 % within 12 h", () => {
  // The trend host climbs 38 points in 12 h from 40 % at 12:00 (3.1667 %/h);
  // at 19:30 the line reads 40 + 3.1667 · 7.5 = 63.75 % and reaches 100 % in
  // 36.25 / 3.1667 = 11.447 h: at about 06:56:50 the next day. Noise is
  // ±0.5 %, so the fit is nearly perfect.
  const frame = cpuFrame(DATASET_START_MS, DATASET_END_MS, MIN);
  const out = trend(frame, { at: new Date(at("19:30")), unit: "%" });
  assert.deepEqual(strings(out, "instance"), [TREND]);
  const eta = out.getColumn("eta").cast(pl.Float64).toArray()[0] as number;
  const derived = at("19:30") + (36.25 / (38 / 12)) * HOUR;
  assert.ok(Math.abs(eta - derived) < 5 * MIN, `eta ${clock(eta)} vs ${clock(derived)}`);
  assert.ok(Math.abs((out.getColumn("slope").toArray()[0] as number) - 38 / 12) < 0.05);
  assert.ok((out.getColumn("r2").toArray()[0] as number) > 0.99);
  assert.deepEqual(times(out, "timestamp"), ["19:30:00"]);
  assert.match(
    strings(out, "reason")[0],
    /^63\.\d % rising \+3\.1\d %\/h: reaches 100 % in ~11h\d+m \(r² 0\.99\d\)$/,
  );
});

Deno.test("trend: 5-minute evaluations over the day first flag the trend host at 19:00, nothing else", () => {
  // From 18:00 the 6 h lookback holds only the ramp, so the fitted line is the
  // ramp itself: 40 + 3.1667 · d at 12:00 + d h reaches 100 within 12 h when
  // 3.1667 · (d + 12) ≥ 60, i.e. d ≥ 6.947 h = 18:56:50: the first 5-minute
  // evaluation is 19:00, and every later one (61 up to 24:00) flags it.
  // Earlier windows mix the flat part in: a lower slope, no flag.
  const frame = cpuFrame(DATASET_START_MS, DATASET_END_MS, MIN);
  const flagged: string[] = [];
  for (let t = DATASET_START_MS; t <= DATASET_END_MS; t += 5 * MIN) {
    for (const instance of strings(trend(frame, { at: new Date(t) }), "instance")) {
      flagged.push(`${clock(t)} ${instance}`);
    }
  }
  assert.equal(flagged.length, 61);
  assert.equal(flagged[0], `19:00:00 ${TREND}`);
  assert.ok(flagged.every((f) => f.endsWith(TREND)));
});

Deno.test("trend: a step change is not a trend; already over the limit; edge cases", () => {
  const frame = cpuFrame(DATASET_START_MS, DATASET_END_MS, MIN, [DB]);
  // At 10:30 the sustained host jumped from ≈ 45 % to 95 % half an hour ago:
  // a line through the step would "reach 100 %", but fits poorly.
  assert.equal(trend(frame, { at: new Date(at("10:30")) }).height, 0);
  const loose = trend(frame, { at: new Date(at("10:30")), minR2: 0 });
  assert.deepEqual(strings(loose, "instance"), [DB]);
  assert.ok((loose.getColumn("r2").toArray()[0] as number) < 0.9);
  // A line already above the limit: eta is the evaluation time.
  const over = small({ disk: [96, 97, 98, 99, 100, 101] });
  const full = trend(over, { limit: 100 });
  assert.deepEqual(times(full, "eta"), ["00:05:00"]);
  assert.ok(Math.abs((full.getColumn("slope").toArray()[0] as number) - 60) < 1e-9);
  // Flat series (no variance), too few samples, NaN ignored.
  assert.equal(trend(small({ flat: [50, 50, 50, 50] })).height, 0);
  assert.equal(trend(small({ two: [10, 99] }), { limit: 100 }).height, 0);
  assert.deepEqual(
    times(trend(small({ gappy: [90, NaN, 94, null, 98] }), { limit: 100 }), "eta"),
    ["00:05:00"],
  );
  // No label columns at all: still one series.
  const bare = pl.DataFrame({
    timestamp: pl.Series("timestamp", [0, 1, 2].map((h) => DATASET_START_MS + h * HOUR), pl.Float64)
      .cast(
        pl.Int64,
      ).cast(pl.Datetime("ms")),
    value: [80, 85, 90],
  });
  assert.deepEqual(times(trend(bare), "eta"), ["04:00:00"]);
  assert.throws(
    () => trend(bare, { minR2: 2 }),
    new RangeError("Invalid minR2: expected a number from 0 to 1, got 2"),
  );
  assert.throws(
    () => trend(bare, { limit: NaN }),
    new RangeError("Invalid limit: expected a finite number, got NaN"),
  );
  assert.deepEqual(trend(bare.head(0)).columns, [
    "timestamp",
    "value",
    "reason",
    "eta",
    "slope",
    "r2",
    "fitted",
  ]);
});

Deno.test("detectors: null label values and labels sorted as the frame contract says", () => {
  const frame = pl.DataFrame([
    pl.Series("instance", ["a", "a", "a", null, null, null], pl.Utf8),
    pl.Series("job", ["node", "node", "node", "node", "node", "node"], pl.Utf8),
    pl.Series("timestamp", [0, 1, 2, 0, 1, 2].map((m) => DATASET_START_MS + m * MIN), pl.Float64)
      .cast(pl.Int64).cast(pl.Datetime("ms")),
    pl.Series("value", [90, 90, 90, 95, 95, 95], pl.Float64),
  ]);
  const out = sustained(frame, { threshold: 80, for: "2m" });
  assert.deepEqual(out.getColumn("instance").toArray(), [null, "a"]); // polars sorts nulls first
  const firing = hysteresis(frame, { high: 85, low: 75 });
  assert.deepEqual(strings(firing, "fingerprint"), [
    fingerprint({ job: "node" }),
    fingerprint({ instance: "a", job: "node" }),
  ]);
  assert.equal(expectedCpuUsage(DB, at("11:00")), 95);
});
