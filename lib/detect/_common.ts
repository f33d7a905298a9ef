/**
 * Internals shared by the detectors: input validation, series extraction into
 * typed arrays, durations, result frames and reason formatting. Not exported
 * from `lib/mod.ts`.
 *
 * @module
 */

import pl from "nodejs-polars";
import { formatDuration, parseDuration, toMillis } from "../time.ts";

/** A duration for a detector: a Prometheus duration string (`"5m"`, `"1h30m"`) or milliseconds. */
export type DetectorDuration = string | number;

/** An evaluation time: a `Date`, epoch milliseconds or an RFC 3339 string. */
export type DetectorTime = Date | number | string;

/** Utf8 columns the detectors add to their results: never treated as labels. */
const OUTPUT_UTF8 = new Set(["reason", "fingerprint"]);

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

/** A duration option in milliseconds: strings are Prometheus durations, numbers are ms. */
export function durationMs(name: string, value: DetectorDuration): number {
  if (typeof value === "number") {
    if (!Number.isFinite(value) || value < 0) {
      throw new RangeError(
        `Invalid option "${name}": expected a duration such as "5m" or a non-negative number of milliseconds, got ${value}`,
      );
    }
    return value;
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

/** An evaluation time in epoch ms: `Date`, epoch ms or an RFC 3339 string. */
export function timeMs(name: string, value: DetectorTime): number {
  if (value instanceof Date) {
    const ms = value.getTime();
    if (!Number.isFinite(ms)) throw new RangeError(`Invalid ${name}: the Date is invalid`);
    return ms;
  }
  if (typeof value === "number") return finite(name, value, "epoch milliseconds");
  try {
    return toMillis(value);
  } catch (error) {
    throw new RangeError(
      `Invalid ${name}: expected a Date, epoch milliseconds or an RFC 3339 string, got "${
        String(value)
      }"`,
      { cause: error },
    );
  }
}

/** A frame split into series: sorted by labels then time, with typed columns. */
export interface SeriesView {
  /** The sorted frame: label columns, `timestamp`, and the value column as `value`. */
  sorted: pl.DataFrame;
  /** Label column names. */
  labels: string[];
  /** Epoch ms per row. */
  ts: Float64Array;
  /** Values per row; null became NaN. */
  values: Float64Array;
  /** Start offset of each series, plus the row count at the end. */
  starts: Int32Array;
}

/** Epoch ms of a timestamp column (Datetime or numeric). */
export function epochMs(series: pl.Series): Float64Array {
  const numeric = series.dtype.variant === "Datetime" ? series.cast(pl.Int64) : series;
  return floats(numeric);
}

/** A numeric series as a Float64Array, null as NaN. */
export function floats(series: pl.Series): Float64Array {
  const raw = series.cast(pl.Float64).toArray() as (number | null)[];
  const out = new Float64Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw[i] ?? NaN;
  return out;
}

/**
 * Split a range frame into series sorted by time. The sort and the series
 * boundaries are computed by polars; the per-series state machines then run
 * in typed-array loops (polars 0.25.2's Node API has no stateful scan).
 */
export function seriesView(frame: pl.DataFrame, column: string): SeriesView {
  const labels = labelColumns(frame);
  const ts = frame.getColumn("timestamp");
  const base = frame.select(
    ...labels.map((l) => pl.col(l)),
    (ts.dtype.variant === "Datetime" ? pl.col("timestamp") : pl.col("timestamp").cast(pl.Int64)
      .cast(pl.Datetime("ms"))).alias("timestamp"),
    pl.col(column).cast(pl.Float64).alias("value"),
  );
  const sorted = base.height === 0 ? base : base.sort([...labels, "timestamp"]);
  const n = sorted.height;
  const starts: number[] = [0];
  if (labels.length > 0 && n > 0) {
    const key = pl.concatString(labels.map((l) => pl.col(l).fillNull(pl.lit("\u0001"))), "\u0000");
    const isNew = sorted.select(key.neq(key.shift(1)).fillNull(true).alias("n")).getColumn("n")
      .toArray() as boolean[];
    for (let i = 1; i < n; i++) if (isNew[i]) starts.push(i);
  }
  if (n > 0) starts.push(n);
  return {
    sorted,
    labels,
    ts: epochMs(sorted.getColumn("timestamp")),
    values: floats(sorted.getColumn("value")),
    starts: Int32Array.from(n > 0 ? starts : [0]),
  };
}

/** The smallest positive gap between consecutive samples of one series (Infinity if none). */
export function inferStep(view: SeriesView): number {
  let step = Infinity;
  const { ts, starts } = view;
  for (let s = 0; s + 1 < starts.length; s++) {
    for (let i = starts[s] + 1; i < starts[s + 1]; i++) {
      const d = ts[i] - ts[i - 1];
      if (d > 0 && d < step) step = d;
    }
  }
  return step;
}

/** An extra result column: name, dtype and values (null allowed). */
export interface ExtraColumn {
  name: string;
  dtype: "datetime" | "float" | "utf8" | "int";
  values: ArrayLike<number | string | null>;
}

function extraSeries(column: ExtraColumn): pl.Series {
  const values = Array.from(column.values);
  switch (column.dtype) {
    case "datetime":
      return pl.Series(column.name, values, pl.Float64).cast(pl.Int64).cast(pl.Datetime("ms"));
    case "float":
      return pl.Series(column.name, values, pl.Float64);
    case "int":
      return pl.Series(column.name, values, pl.Int64);
    case "utf8":
      return pl.Series(column.name, values, pl.Utf8);
  }
}

/**
 * The result frame: label columns of the given rows of `view.sorted`, then
 * `timestamp`, `value`, `reason` and the extra columns. `timestamp`/`value`
 * default to the rows' own; pass them to override (episodes, trend).
 */
export function resultFrame(
  view: { sorted: pl.DataFrame; labels: string[] },
  rows: ArrayLike<number>,
  columns: { timestamp?: ArrayLike<number | null>; value?: ArrayLike<number | null> },
  reasons: string[],
  extras: ExtraColumn[],
): pl.DataFrame {
  const idx = pl.Series("__idx", Array.from(rows), pl.UInt32);
  const picked = view.labels.length > 0 || rows.length > 0
    ? view.sorted.select(...view.labels.map((l) => pl.col(l).gather(idx)))
    : pl.DataFrame();
  const out: pl.Series[] = view.labels.map((l) => picked.getColumn(l));
  out.push(
    columns.timestamp === undefined
      ? view.sorted.getColumn("timestamp").gather(Array.from(rows))
      : extraSeries({ name: "timestamp", dtype: "datetime", values: columns.timestamp }),
  );
  out.push(
    columns.value === undefined
      ? view.sorted.getColumn("value").gather(Array.from(rows))
      : extraSeries({ name: "value", dtype: "float", values: columns.value }),
  );
  out.push(pl.Series("reason", reasons, pl.Utf8));
  for (const extra of extras) out.push(extraSeries(extra));
  return pl.DataFrame(out);
}

/** An empty result for a frame: its label columns, `timestamp`, `value`, `reason`, extras. */
export function emptyResult(
  frame: pl.DataFrame,
  extras: Pick<ExtraColumn, "name" | "dtype">[],
): pl.DataFrame {
  const labels = labelColumns(frame);
  const out: pl.Series[] = labels.map((l) => pl.Series(l, [], pl.Utf8));
  out.push(pl.Series("timestamp", [], pl.Datetime("ms")));
  out.push(pl.Series("value", [], pl.Float64));
  out.push(pl.Series("reason", [], pl.Utf8));
  for (const extra of extras) {
    out.push(extraSeries({ name: extra.name, dtype: extra.dtype, values: [] }));
  }
  return pl.DataFrame(out);
}

/** Format a value for a reason: one decimal, then the unit (`95.0 %`). */
export function fmtValue(value: number, unit: string): string {
  let text: string;
  if (Number.isNaN(value)) text = "NaN";
  else if (!Number.isFinite(value)) text = value > 0 ? "+Inf" : "-Inf";
  else if (Math.abs(value) >= 1e6 || (value !== 0 && Math.abs(value) < 0.05)) {
    text = value.toPrecision(3);
  } else text = value.toFixed(1);
  return unit === "" ? text : `${text} ${unit}`;
}

/** Format a threshold as given (`80 %`). */
export function fmtThreshold(value: number, unit: string): string {
  return unit === "" ? String(value) : `${value} ${unit}`;
}

/** Format milliseconds as a Prometheus duration (`1h59m45s`). */
export function fmtDuration(ms: number): string {
  return formatDuration(Math.max(0, Math.round(ms)) / 1000);
}

/** Format epoch ms as RFC 3339 without milliseconds when they are zero. */
export function fmtTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  return iso.endsWith(".000Z") ? `${iso.slice(0, -5)}Z` : iso;
}

/** The label set of a row of `view.sorted` (null labels omitted). */
export function rowLabels(
  columns: (string | null)[][],
  names: string[],
  row: number,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (let c = 0; c < names.length; c++) {
    const v = columns[c][row];
    if (v !== null && v !== undefined) out[names[c]] = v;
  }
  return out;
}
