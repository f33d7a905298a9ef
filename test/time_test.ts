import assert from "node:assert/strict";
import { formatDuration, formatSeconds, parseDuration, toMillis, toSeconds } from "../lib/time.ts";

Deno.test("toSeconds accepts Date, epoch seconds and RFC 3339", () => {
  assert.equal(toSeconds(new Date("2026-11-01T00:00:00Z")), 1793491200);
  assert.equal(toSeconds(1793491200.25), 1793491200.25);
  assert.equal(toSeconds("2026-11-01T00:00:00Z"), 1793491200);
  assert.equal(toSeconds("2026-11-01T08:00:00+08:00"), 1793491200);
  assert.equal(toSeconds("2026-11-01T00:00:00.123Z"), 1793491200.123);
  assert.equal(toSeconds("1793491200.5"), 1793491200.5);
  assert.equal(toMillis("2026-11-01T00:00:01.5Z"), 1793491201500);
});

Deno.test("toSeconds rejects malformed instants with TypeError", () => {
  assert.throws(() => toSeconds("2026-11-01"), TypeError);
  assert.throws(
    () => toSeconds("yesterday"),
    /^TypeError: Invalid time: expected a Date, epoch seconds or RFC 3339/,
  );
  assert.throws(() => toSeconds(NaN), TypeError);
  assert.throws(() => toSeconds(new Date("x")), TypeError);
});

Deno.test("parseDuration and formatDuration round-trip", () => {
  const cases: [string, number][] = [
    ["0s", 0],
    ["15s", 15],
    ["5m", 300],
    ["1h30m", 5400],
    ["1d", 86400],
    ["1d1h1m1s", 90061],
    ["250ms", 0.25],
    ["1m30s500ms", 90.5],
  ];
  for (const [text, seconds] of cases) {
    assert.equal(parseDuration(text), seconds, text);
    assert.equal(formatDuration(seconds), text, String(seconds));
  }
  assert.equal(parseDuration("2w"), 14 * 86400);
  assert.equal(parseDuration("1y"), 365 * 86400);
  assert.equal(parseDuration(42), 42);
  assert.equal(formatDuration(7200), "2h");
});

Deno.test("parseDuration rejects malformed durations with RangeError", () => {
  for (const bad of ["", "5", "m", "1.5m", "-5m", "5 m", "30m1h", "1m1m", "5M"]) {
    assert.throws(() => parseDuration(bad), RangeError, bad);
  }
  assert.throws(() => parseDuration(-1), RangeError);
  assert.throws(() => formatDuration(0.0001), RangeError);
});

Deno.test("formatSeconds keeps milliseconds and never uses exponents", () => {
  assert.equal(formatSeconds(1793491200), "1793491200");
  assert.equal(formatSeconds(1793491200.5), "1793491200.5");
  assert.equal(formatSeconds(1793491200.015), "1793491200.015");
  assert.equal(formatSeconds(1e-7), "0");
  assert.equal(formatSeconds(5), "5");
});
