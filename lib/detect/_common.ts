/**
 * Internals shared by the detectors: input validation, series extraction into
 * typed arrays, durations, result frames and reason formatting. Not exported
 * from `lib/mod.ts`.
 *
 * @module
 */

import pl from "nodejs-polars";
import {
  type DurationInput,
  formatDuration,
  parseDuration,
  type TimeInput,
  toMillis,
} from "../time.ts";
import { formatThreshold, formatValue } from "../_internal/format.ts";

/**
 * A duration for a detector: the library's one duration type, a Prometheus
 * duration string (`"5m"`, `"1h30m"`) or a number of **seconds**.
 *
 * @deprecated Use {@linkcode DurationInput}; in 0.1.0 its numbers were milliseconds.
 *
 * @example Prefer DurationInput
 * ```ts
 * import type { DetectorDuration, DurationInput } from "opsbook";
 *
 * const window: DurationInput = "5m"; // new code
 * const legacy: DetectorDuration = window; // the same type
 * ```
 */
export type DetectorDuration = DurationInput;

/**
 * An evaluation time: the library's one instant type, a `Date`, epoch
 * **seconds** or an RFC 3339 string.
 *
 * @deprecated Use {@linkcode TimeInput}; in 0.1.0 its numbers were epoch milliseconds.
 *
 * @example Prefer TimeInput
 * ```ts
 * import type { DetectorTime, TimeInput } from "opsbook";
 *
 * const at: TimeInput = "2026-11-01T12:00:00Z"; // new code
 * const legacy: DetectorTime = at; // the same type
 * ```
 */
export type DetectorTime = TimeInput;

/** Utf8 columns the detectors add to their results: never treated as labels. */
const OUTPUT_UTF8 = new Set(["reason", "fingerprint", "basis"]);

/** Whether a polars dtype is numeric (floats, signed and unsigned integers). */
function isNumeric(dtype: pl.DataType): boolean {
  return /^(Float|Int|UInt)\d+$/.test(dtype.variant);
}

/** The label columns of a frame: every Utf8 column except known output columns, in frame order. */
export function labelColumns(frame: pl.DataFrame): string[] {
  const out: string[] = [];
  for (const column of frame.getColumns()) {
    if (column.dtype.variant === "String" && !OUTPUT_UTF8.has(column.name)) out.push(column.name);
  }
  return out;
}

/** Throw a `TypeError` unless `frame` is a polars DataFrame. */
export function checkFrame(frame: unknown, fn: string): asserts frame is pl.DataFrame {
  if (
    frame === null || typeof frame !== "object" ||
    typeof (frame as pl.DataFrame).getColumns !== "function"
  ) {
    throw new TypeError(`Invalid frame for ${fn}: expected a nodejs-polars DataFrame`);
  }
}

/** Throw a `TypeError` unless `frame` has a numeric column `column`. */
export function checkValueColumn(frame: pl.DataFrame, column: string): void {
  if (typeof column !== "string") {
    throw new TypeError(`Invalid column: expected a column name, got ${typeof column}`);
  }
  if (!frame.columns.includes(column)) {
    throw new TypeError(
      `Frame has no column "${column}": pass { column } naming a numeric column (columns: ${
        frame.columns.join(", ") || "none"
      })`,
    );
  }
  const dtype = frame.getColumn(column).dtype;
  if (!isNumeric(dtype)) {
    throw new TypeError(
      `Column "${column}" is not numeric: found ${dtype.variant}, expected a float or integer column`,
    );
  }
}

/** Throw a `TypeError` unless `frame` has a Datetime `timestamp` column. */
export function checkTimestamp(frame: pl.DataFrame, fn: string): void {
  if (!frame.columns.includes("timestamp")) {
    throw new TypeError(
      `Frame has no column "timestamp": ${fn} needs a range frame with a Datetime timestamp per sample`,
    );
  }
  const variant = frame.getColumn("timestamp").dtype.variant;
  if (variant !== "Datetime" && !/^(Float|Int|UInt)\d+$/.test(variant)) {
    throw new TypeError(
      `Column "timestamp" is ${variant}: expected Datetime (or epoch milliseconds)`,
    );
  }
}

/** Throw a `RangeError` unless `value` is a finite number. */
export function finite(name: string, value: unknown, hint = "a finite number"): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    const shown = typeof value === "string" ? `"${value}"` : String(value);
    throw new RangeError(`Invalid ${name}: expected ${hint}, got ${shown}`);
  }
  return value;
}

/** Throw a `RangeError` unless `value` is an integer of at least `min`. */
export function integerAtLeast(name: string, value: unknown, min: number, why = ""): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
    throw new RangeError(
      `Invalid ${name}: expected an integer of at least ${min}${why}, got ${String(value)}`,
    );
  }
  return value;
}

/**
 * A duration option in milliseconds (the detectors' internal unit): strings are
 * Prometheus durations, numbers are seconds, as everywhere in opsbook.
 */
export function durationMs(name: string, value: DurationInput): number {
  if (typeof value === "number") {
    if (!Number.isFinite(value) || value < 0) {
      throw new RangeError(
        `Invalid option "${name}": expected a duration such as "5m" or a non-negative number of seconds, got ${value}`,
      );
    }
    return Math.round(value * 1000);
  }
  try {
    return Math.round(parseDuration(value) * 1000);
  } catch (error) {
    throw new RangeError(
      `Invalid option "${name}": expected a duration such as "5m" or "1h30m", got "${
        String(value)
      }"`,
      { cause: error },
    );
  }
}

/**
 * An evaluation time in epoch ms (the detectors' internal unit): a `Date`,
 * epoch seconds (as everywhere in opsbook) or an RFC 3339 string.
 */
export function timeMs(name: string, value: TimeInput): number {
  if (value instanceof Date) {
    const ms = value.getTime();
    if (!Number.isFinite(ms)) throw new RangeError(`Invalid ${name}: the Date is invalid`);
    return ms;
  }
  if (typeof value === "number") return Math.round(finite(name, value, "epoch seconds") * 1000);
  try {
    return toMillis(value);
  } catch (error) {
    throw new RangeError(
      `Invalid ${name}: expected a Date, epoch seconds or an RFC 3339 string, got "${
        String(value)
      }"`,
      { cause: error },
    );
  }
}

/** An empty result for a frame: its label columns, `timestamp`, `value`, `reason`, extras. */
export function emptyResult(
  frame: pl.DataFrame,
  extras: { name: string; dtype: "datetime" | "float" | "utf8" | "int" }[],
): pl.DataFrame {
  const labels = labelColumns(frame);
  const out: pl.Series[] = labels.map((l) => pl.Series(l, [], pl.Utf8));
  out.push(pl.Series("timestamp", [], pl.Datetime("ms")));
  out.push(pl.Series("value", [], pl.Float64));
  out.push(pl.Series("reason", [], pl.Utf8));
  for (const extra of extras) {
    out.push(
      extra.dtype === "datetime" ? pl.Series(extra.name, [], pl.Datetime("ms")) : pl.Series(
        extra.name,
        [],
        extra.dtype === "float" ? pl.Float64 : extra.dtype === "int" ? pl.Int64 : pl.Utf8,
      ),
    );
  }
  return pl.DataFrame(out);
}

/** Format a value for a reason: one decimal, then the unit (`95.0 %`); see `_internal/format.ts`. */
export const fmtValue: (value: number, unit: string) => string = formatValue;

/** Format a threshold as given (`80 %`). */
export const fmtThreshold: (value: number, unit: string) => string = formatThreshold;

/** Format milliseconds as a Prometheus duration (`1h59m45s`). */
export function fmtDuration(ms: number): string {
  return formatDuration(Math.max(0, Math.round(ms)) / 1000);
}

/** Format epoch ms as RFC 3339 without milliseconds when they are zero. */
export function fmtTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  return iso.endsWith(".000Z") ? `${iso.slice(0, -5)}Z` : iso;
}
