/**
 * Normal bands and anomaly spans: the band at this hour or over the recent
 * window, state round trips, and the spans found on the synthetic dataset's
 * CPU series (which scripted incidents, at what time).
 */

import assert from "node:assert/strict";
import pl from "nodejs-polars";
import {
  anomalySpans,
  AnomalyTracker,
  NormalRange,
  type NormalRangeState,
  unusualText,
} from "../../lib/mod.ts";
import { DATASET_START_MS, expectedCpuUsage, HOSTS } from "../../dev/dataset.ts";

const T0 = Date.UTC(2026, 10, 1);
const MIN = 60_000;
const HOUR = 3_600_000;

Deno.test("NormalRange: percentiles of the recent window, causal", () => {
  const normal = new NormalRange({ window: "1h" });
  assert.equal(normal.band(T0), undefined);
  for (let m = 0; m < 9; m++) normal.add(T0 + m * MIN, m);
  assert.equal(normal.band(T0 + 9 * MIN), undefined, "fewer than minSamples (10)");
  normal.add(T0 + 9 * MIN, 9);
  assert.deepEqual(normal.band(T0 + 9 * MIN), undefined, "the sample at t is not its own past");
  assert.deepEqual(normal.band(T0 + 10 * MIN), {
    low: 9 * 0.05,
    high: 9 * 0.95,
    basis: "recent",
    support: 10,
  });
  // An hour later the window holds only the samples after t − 1h.
  for (let m = 10; m < 100; m++) normal.add(T0 + m * MIN, 1000 + m);
  const b = normal.band(T0 + 100 * MIN)!;
  assert.equal(b.support, 59); // minutes 41..99
  assert.equal(b.low, 1000 + 41 + 0.05 * 58);
  assert.equal(b.high, 1000 + 41 + 0.95 * 58);
  normal.add(T0 + 101 * MIN, NaN);
  normal.add(T0 + 102 * MIN, null);
  // minutes 44..99: NaN and null are not samples.
  assert.equal(normal.band(T0 + 103 * MIN)!.support, 56);
});

Deno.test("NormalRange: the same hour of earlier days once minDays have it", () => {
  const normal = new NormalRange({ window: "1h", minDays: 3, days: 7 });
  // Hour 10 of each day: values 10..19 (day 0), 20..29 (day 1), 30..39 (day 2); other hours 500.
  const at = (day: number, hour: number, m: number) => T0 + day * 24 * HOUR + hour * HOUR + m * MIN;
  for (let day = 0; day < 3; day++) {
    for (let hour = 0; hour < 24; hour++) {
      for (let m = 0; m < 60; m += 6) {
        normal.add(at(day, hour, m), hour === 10 ? 10 * (day + 1) + m / 6 : 500);
      }
    }
  }
  // Day 3, 10:30: per day p5/p95 of k..k+9 are k+0.45 / k+8.55; the median day is day 1.
  assert.deepEqual(normal.band(at(3, 10, 30)), {
    low: 20 + 9 * 0.05,
    high: 20 + 9 * 0.95,
    basis: "hour",
    support: 3,
  });
  // 11:00 has three days of 500s.
  assert.deepEqual(normal.band(at(3, 11, 0)), { low: 500, high: 500, basis: "hour", support: 3 });
  // With minDays 4 the recent window answers (the last hour of day 2: 500s).
  const strict = NormalRange.fromJSON({
    ...JSON.parse(JSON.stringify(normal)),
    options: { ...normal.toJSON().options, minDays: 4, minSamples: 5 },
  });
  assert.deepEqual(strict.band(at(3, 0, 1)), {
    low: 500,
    high: 500,
    basis: "recent",
    support: 9, // 23:06 to 23:54
  });
});

Deno.test("NormalRange: state round trip and bad states", () => {
  const a = new NormalRange();
  for (let m = 0; m < 200; m++) a.add(T0 + m * MIN, (m * 7) % 13);
  const b = NormalRange.fromJSON(JSON.parse(JSON.stringify(a)));
  for (let m = 200; m < 400; m++) {
    assert.deepEqual(b.band(T0 + m * MIN), a.band(T0 + m * MIN));
    a.add(T0 + m * MIN, (m * 7) % 13);
    b.add(T0 + m * MIN, (m * 7) % 13);
  }
  assert.throws(
    () => NormalRange.fromJSON({ version: 2 } as unknown as NormalRangeState),
    /^TypeError: Invalid normal range state: expected version 1 as toJSON\(\) wrote it$/,
  );
  assert.throws(() => new NormalRange({ minDays: 0 }), /Invalid minDays: expected an integer/);
  assert.throws(() => new NormalRange({ window: "soon" }), /Invalid option "window"/);
});

/** CPU of a dataset host at 1-minute steps over the whole day, as the classic query returns it. */
function cpuMinutes(instance: string): { t: number[]; v: (number | null)[] } {
  const t: number[] = [], v: (number | null)[] = [];
  for (let m = 0; m <= 24 * 60; m++) {
    t.push(DATASET_START_MS + m * MIN);
    v.push(expectedCpuUsage(instance, DATASET_START_MS + m * MIN));
  }
  return { t, v };
}

Deno.test("AnomalyTracker: sample by sample = restored from JSON at every step", () => {
  const { t, v } = cpuMinutes("ali-hz-db-01:9100");
  const straight = new AnomalyTracker();
  let hopping = new AnomalyTracker();
  for (let i = 0; i < t.length; i++) {
    const a = straight.update(t[i], v[i]);
    if (i % 97 === 0) hopping = AnomalyTracker.fromJSON(JSON.parse(JSON.stringify(hopping)));
    assert.deepEqual(hopping.update(t[i], v[i]), a, `minute ${i}`);
  }
});

Deno.test("AnomalyTracker: span rules", () => {
  const base = (m: number) => 30 + (m % 5); // band 30–34
  const warm = (options = {}) => {
    const tr = new AnomalyTracker(options);
    for (let m = 0; m < 300; m++) tr.update(T0 + m * MIN, base(m));
    return tr;
  };
  // A jump up starts a span; missing data keeps it; halfway back ends it.
  let tr = warm();
  const onset = tr.update(T0 + 300 * MIN, 90);
  assert.equal(onset.onset, true);
  assert.deepEqual(onset.normal, { low: 30, high: 34, basis: "recent", support: 59 });
  assert.equal(tr.update(T0 + 301 * MIN, NaN).active, true);
  assert.equal(tr.update(T0 + 302 * MIN, 65).active, true, "beyond half the departure (62)");
  assert.equal(tr.update(T0 + 303 * MIN, 61).active, false);
  assert.equal(tr.span, null);
  // direction "down" ignores the jump up.
  tr = warm({ direction: "down" });
  assert.equal(tr.update(T0 + 300 * MIN, 90).active, false);
  // maxDuration ends a span that lasts.
  tr = warm({ maxDuration: "10m" });
  assert.equal(tr.update(T0 + 300 * MIN, 90).onset, true);
  for (let m = 301; m < 310; m++) assert.equal(tr.update(T0 + m * MIN, 90).active, true);
  assert.equal(tr.update(T0 + 310 * MIN, 90).active, false);
  // Time order is required.
  assert.throws(
    () => tr.update(T0, 1),
    /^RangeError: Invalid sample time: .* feed samples in time order$/,
  );
  assert.throws(() => new AnomalyTracker({ level: 0 }), /Invalid level: expected a number in/);
  assert.throws(
    () => new AnomalyTracker({ direction: "sideways" as "up" }),
    /^RangeError: Invalid direction: expected one of both, up, down, got sideways$/,
  );
});

Deno.test("unusualText: values through the one formatter", () => {
  assert.equal(
    unusualText(63, { low: 20, high: 35, basis: "hour", support: 7 }, { unit: "%" }),
    "63.0 % where 20.0–35.0 % is normal at this hour",
  );
  assert.equal(
    unusualText(0.004, { low: 1, high: 2.25, basis: "recent", support: 60 }, { window: "30m" }),
    "0.00400 where 1.0–2.3 is normal in the last 30m",
  );
});

Deno.test("anomalySpans: the dataset's CPU incidents, at their times, and nothing else", () => {
  const inst: string[] = [], ts: number[] = [], vs: (number | null)[] = [];
  for (const h of HOSTS) {
    const { t, v } = cpuMinutes(h.instance);
    for (let i = 0; i < t.length; i++) {
      inst.push(h.instance);
      ts.push(t[i]);
      vs.push(v[i]);
    }
  }
  const frame = pl.DataFrame({
    instance: inst,
    timestamp: pl.Series(ts).cast(pl.Datetime("ms")),
    value: pl.Series("value", vs, pl.Float64),
  });
  const spans = anomalySpans(frame, { unit: "%" });
  const hhmm = (c: string) =>
    (spans.getColumn(c).cast(pl.Float64).toArray() as number[]).map((t) =>
      new Date(t).toISOString().slice(11, 16)
    );
  assert.deepEqual(spans.getColumn("instance").toArray(), [
    "ali-hz-db-01:9100", // sustained 95 % 10:00–12:00
    "az-eus-app-01:9100", // flapping 06:00–09:00
    "tc-gz-api-01:9100", // spike 97 % 14:00–14:02
  ]);
  assert.deepEqual(hhmm("start"), ["10:01", "06:01", "14:01"]);
  assert.deepEqual(hhmm("end"), ["12:00", "09:00", "14:02"]);
  assert.deepEqual(spans.getColumn("open").toArray(), [false, false, false]);
  assert.deepEqual(spans.getColumn("reason").toArray(), [
    "95.0 % where 42.6–46.9 % is normal in the last 1h",
    "88.0 % where 32.7–36.7 % is normal in the last 1h",
    "97.0 % where 48.2–51.8 % is normal in the last 1h",
  ]);
  assert.deepEqual(spans.getColumn("peak").toArray(), [95, 88, 97]);
  // Empty frames keep the shape.
  const empty = anomalySpans(frame.head(0));
  assert.deepEqual(empty.columns, [
    "instance",
    "timestamp",
    "value",
    "reason",
    "start",
    "end",
    "open",
    "score",
    "peak",
    "low",
    "high",
    "basis",
  ]);
});
