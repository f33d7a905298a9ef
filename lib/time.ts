/**
 * Time and duration helpers, and **the one time convention of opsbook**:
 *
 * - An instant ({@linkcode TimeInput}) is a `Date`, an RFC 3339 string
 *   (`"2026-11-01T10:00:00Z"`) or a number of **epoch seconds**.
 * - A duration ({@linkcode DurationInput}) is a Prometheus duration string
 *   (`"15s"`, `"5m"`, `"1h30m"`) or a number of **seconds**.
 *
 * This holds for every option that takes a time or a duration: the
 * Prometheus client (`time`, `start`, `end`, `step`), the detectors (`at`,
 * `for`, `step`, `window`, `within`, `lookback`, `maxDuration`), the rules
 * (`RuleWindow`, `for`, `interval`), the alert state and the Alerter
 * (`repeatInterval`, `pendingFor`, `staleAfter`). The only exceptions say so
 * in their name: options ending in `Ms` (`timeoutMs`, `delayMs`, `maxWaitMs`)
 * are milliseconds, and so are the `timestamp` columns of frames
 * (polars `Datetime("ms")`) and the epoch-ms sample times taken by the
 * low-level `NormalRange.add`/`band` and `AnomalyTracker.update`/`normal`.
 * Pass a `Date` when in doubt.
 *
 * @example One instant, three spellings
 * ```ts
 * import { parseDuration, toSeconds } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const t = toSeconds("2026-11-01T10:00:00Z");
 * assert.equal(toSeconds(new Date("2026-11-01T10:00:00Z")), t);
 * assert.equal(toSeconds(t), t);
 * assert.equal(parseDuration("5m"), 300);
 * assert.equal(parseDuration(300), 300);
 * ```
 *
 @module
 */

/**
 * An instant: a `Date`, epoch seconds (fractions allowed) or an RFC 3339 string.
 *
 * @example Three ways to say the same instant
 * ```ts
 * import { type TimeInput, toSeconds } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const times: TimeInput[] = ["2026-11-01T12:00:00Z", new Date("2026-11-01T12:00:00Z"), 1793534400];
 * assert.deepEqual(times.map(toSeconds), [1793534400, 1793534400, 1793534400]);
 * ```
 */
export type TimeInput = Date | number | string;

/**
 * A duration: a Prometheus duration string (`"15s"`, `"1h30m"`) or a number of seconds.
 *
 * @example A string with units, or seconds
 * ```ts
 * import { type DurationInput, parseDuration } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const durations: DurationInput[] = ["1h30m", "90m", 5400];
 * assert.deepEqual(durations.map(parseDuration), [5400, 5400, 5400]);
 * ```
 */
export type DurationInput = string | number;

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;
const NUMERIC = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * Convert an instant to epoch seconds (milliseconds kept as the fraction).
 *
 * Accepts a `Date`, a finite number of epoch seconds, an RFC 3339 string
 * (`2026-11-01T00:00:00Z`, offsets allowed) or a numeric string. Anything else
 * throws a `TypeError`.
 *
 * @example
 * ```ts
 * import { toSeconds } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * assert.equal(toSeconds("2026-11-01T00:00:00Z"), 1793491200);
 * assert.equal(toSeconds(new Date(1793491200500)), 1793491200.5);
 * assert.equal(toSeconds(1793491200), 1793491200);
 * ```
 */
export function toSeconds(time: TimeInput): number {
  if (time instanceof Date) {
    const ms = time.getTime();
    if (!Number.isFinite(ms)) throw new TypeError("Invalid time: the Date is invalid");
    return ms / 1000;
  }
  if (typeof time === "number") {
    if (!Number.isFinite(time)) throw new TypeError(`Invalid time: ${time} is not finite`);
    return time;
  }
  if (typeof time === "string") {
    const text = time.trim();
    if (NUMERIC.test(text)) return Number(text);
    if (RFC3339.test(text)) {
      const ms = Date.parse(text.replace(" ", "T"));
      if (Number.isFinite(ms)) {
        const fraction = /\.(\d+)/.exec(text);
        // Date.parse keeps milliseconds only; keep finer digits when given.
        if (fraction !== null && fraction[1].length > 3) {
          const extra = Number(`0.${fraction[1]}`) - Number(`0.${fraction[1].slice(0, 3)}`);
          return ms / 1000 + extra;
        }
        return ms / 1000;
      }
    }
    throw new TypeError(
      `Invalid time: expected a Date, epoch seconds or RFC 3339 (2026-11-01T00:00:00Z), got "${time}"`,
    );
  }
  throw new TypeError(
    `Invalid time: expected a Date, epoch seconds or RFC 3339, got ${typeof time}`,
  );
}

/**
 * Convert an instant to epoch milliseconds (rounded to an integer).
 *
 * @example
 * ```ts
 * import { toMillis } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * assert.equal(toMillis("2026-11-01T00:00:00.250Z"), 1793491200250);
 * ```
 */
export function toMillis(time: TimeInput): number {
  return Math.round(toSeconds(time) * 1000);
}

/**
 * Format epoch seconds as the API parameter: at most millisecond precision,
 * no exponent.
 *
 * @example
 * ```ts
 * import { formatSeconds } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatSeconds(1793491200.5), "1793491200.5");
 * assert.equal(formatSeconds(1793491200), "1793491200");
 * ```
 */
export function formatSeconds(seconds: number): string {
  const ms = Math.round(seconds * 1000);
  const whole = Math.trunc(ms / 1000);
  const frac = Math.abs(ms - whole * 1000);
  if (frac === 0) return String(whole);
  const sign = ms < 0 && whole === 0 ? "-" : "";
  return `${sign}${whole}.${String(frac).padStart(3, "0").replace(/0+$/, "")}`;
}

const UNIT_SECONDS: Record<string, number> = {
  y: 365 * 86400,
  w: 7 * 86400,
  d: 86400,
  h: 3600,
  m: 60,
  s: 1,
  ms: 0.001,
};
const UNIT_ORDER = ["y", "w", "d", "h", "m", "s", "ms"];
const DURATION = /^(?:\d+(?:y|w|d|h|ms|m|s))+$/;
const DURATION_PART = /(\d+)(y|w|d|h|ms|m|s)/g;

/**
 * Parse a Prometheus duration (`"30s"`, `"5m"`, `"1h30m"`, `"1d"`, `"250ms"`)
 * into seconds. A number is taken as seconds. Units must appear from largest
 * to smallest, each at most once, as in Prometheus; anything else throws a
 * `RangeError`.
 *
 * @example
 * ```ts
 * import { parseDuration } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseDuration("1h30m"), 5400);
 * assert.equal(parseDuration("250ms"), 0.25);
 * assert.equal(parseDuration(15), 15);
 * ```
 */
export function parseDuration(duration: DurationInput): number {
  if (typeof duration === "number") {
    if (!Number.isFinite(duration) || duration < 0) {
      throw new RangeError(`Invalid duration: ${duration} is not a non-negative number of seconds`);
    }
    return duration;
  }
  if (typeof duration !== "string" || !DURATION.test(duration)) {
    throw new RangeError(
      `Invalid duration: expected a Prometheus duration such as "5m" or "1h30m", got "${
        String(duration)
      }"`,
    );
  }
  let total = 0;
  let last = -1;
  for (const match of duration.matchAll(DURATION_PART)) {
    const index = UNIT_ORDER.indexOf(match[2]);
    if (index <= last) {
      throw new RangeError(
        `Invalid duration: units must go from largest to smallest, each once, got "${duration}"`,
      );
    }
    last = index;
    total += Number(match[1]) * UNIT_SECONDS[match[2]];
  }
  // Round away binary noise from the millisecond unit.
  return Math.round(total * 1000) / 1000;
}

/**
 * Format seconds as a Prometheus duration, the inverse of
 * {@linkcode parseDuration}: `5400` → `"1h30m"`, `0.25` → `"250ms"`, `0` →
 * `"0s"`. Days are the largest unit used. Sub-millisecond parts throw a
 * `RangeError`.
 *
 * @example
 * ```ts
 * import { formatDuration } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatDuration(5400), "1h30m");
 * assert.equal(formatDuration(90061), "1d1h1m1s");
 * ```
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) {
    throw new RangeError(`Invalid duration: ${seconds} is not a non-negative number of seconds`);
  }
  let ms = Math.round(seconds * 1000);
  if (Math.abs(ms - seconds * 1000) > 1e-6 * Math.max(1, ms)) {
    throw new RangeError(`Invalid duration: ${seconds} s has a sub-millisecond part`);
  }
  if (ms === 0) return "0s";
  let out = "";
  for (
    const [unit, size] of [["d", 86_400_000], ["h", 3_600_000], ["m", 60_000], ["s", 1000]] as const
  ) {
    const count = Math.floor(ms / size);
    if (count > 0) {
      out += `${count}${unit}`;
      ms -= count * size;
    }
  }
  if (ms > 0) out += `${ms}ms`;
  return out;
}
