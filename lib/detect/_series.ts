/**
 * Internals of the range detectors: a frame split into series without
 * copying it to JavaScript. Not exported from `lib/mod.ts`.
 *
 * Frames from Prometheus are already grouped by series and time-ordered, so
 * {@linkcode seriesIndex} finds the series boundaries with one vectorised
 * comparison of each label column with itself shifted by one row (a bitmap,
 * never a copy of the strings), checks the order in the same way, and sorts
 * only the series' first rows (one per series) to get the label order of the
 * results; a frame that is not grouped or not time-ordered is sorted as
 * before. Per-series counts ({@linkcode SeriesIndex.counts}: the row numbers
 * of the few matching rows, or prefix sums gathered at the series' last
 * rows) let a detector pick the series that can match (e.g. the ones with a
 * sample over the threshold) and load only their samples into typed arrays
 * ({@linkcode SeriesIndex.load}).
 *
 * Why it matters: moving a 600,000-row column into JavaScript costs more
 * than the detectors' loops (`toTypedArray` and `toArray` copy, and on
 * virtual machines touching fresh memory is slow), and sorting an already
 * sorted frame by its label strings was most of a detector's time.
 *
 * @module
 */

import pl from "nodejs-polars";
import { labelColumns } from "./_common.ts";

/** Loaded samples of some series of a {@linkcode SeriesIndex}, in label order. */
export interface SeriesView {
  /** The index the samples come from. */
  index: SeriesIndex;
  /** Label column names. */
  labels: string[];
  /** Epoch ms per loaded row (null became NaN). */
  ts: Float64Array;
  /** Values per loaded row; null became NaN. */
  values: Float64Array;
  /** Offset of the first row of each loaded series in `ts`/`values`. */
  starts: Int32Array;
  /** Offset after the last row of each loaded series. */
  ends: Int32Array;
  /** The index series (see {@linkcode SeriesIndex.bounds}) of each loaded series. */
  series: Int32Array;
  /** The row of `index.frame` of each loaded row; `undefined` when they are the same. */
  rows: Uint32Array | undefined;
}

const LAST = "__opsbook_last";

/** Row indices as a polars UInt32 Series (copied from the typed array in one go). */
function indexSeries(rows: Uint32Array): pl.Series {
  return pl.Series("__i", rows as unknown as number[], pl.UInt32);
}

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/**
 * Int64 epoch values as float64, converted in place (the same buffer, read
 * as two 32-bit halves): no second copy of the column.
 */
function epochFloats(ints: BigInt64Array): Float64Array {
  const out = new Float64Array(ints.buffer, ints.byteOffset, ints.length);
  if (!LITTLE_ENDIAN) {
    for (let i = 0; i < out.length; i++) out[i] = Number(ints[i]);
    return out;
  }
  const halves = new Int32Array(ints.buffer, ints.byteOffset, ints.length * 2);
  for (let i = 0; i < out.length; i++) {
    out[i] = halves[2 * i + 1] * 4294967296 + (halves[2 * i] >>> 0);
  }
  return out;
}

function floatTime(): pl.Expr {
  return pl.col("timestamp").cast(pl.Int64).cast(pl.Float64);
}

/**
 * Row `i` (of `m`): whether any label differs between rows `i` and `i + 1`
 * (null equals null). Compares zero-copy slices: a bitmap, never a copy of
 * the strings.
 */
function changed(labels: string[], m: number): pl.Expr {
  let out: pl.Expr | undefined;
  for (const l of labels) {
    const next = pl.col(l).slice(1, m), prev = pl.col(l).slice(0, m);
    const c = next.neq(prev).fillNull(false).or(next.isNull().neq(prev.isNull()));
    out = out === undefined ? c : out.or(c);
  }
  return out!;
}

/**
 * Row `i` of the mask is true when row `i` is the last row of its series
 * (labels differ from row `i + 1`, or `i` is the last row). Bitmaps only.
 */
function lastRows(base: pl.DataFrame, labels: string[]): pl.Series {
  const n = base.height, m = n - 1;
  if (labels.length === 0 || m === 0) {
    const all = new Array<boolean>(n).fill(false);
    all[n - 1] = true;
    return pl.Series(LAST, all, pl.Bool);
  }
  return base.select(changed(labels, m).alias(LAST)).getColumn(LAST).extendConstant(true, 1)
    .alias(LAST);
}

/** Whether, within every series, timestamps strictly increase. */
function timeOrdered(base: pl.DataFrame): boolean {
  const m = base.height - 1;
  if (m <= 0) return true;
  const t = pl.col("timestamp");
  const bad = base.select(
    pl.col(LAST).slice(0, m).not().and(t.slice(1, m).ltEq(t.slice(0, m))).sum().alias("bad"),
  ).getColumn("bad").get(0);
  return Number(bad ?? 0) === 0;
}

function boundsOf(last: pl.Series): Int32Array {
  const ends = last.argTrue().toTypedArray() as ArrayLike<number>;
  const bounds = new Int32Array(ends.length + 1);
  for (let s = 0; s < ends.length; s++) bounds[s + 1] = ends[s] + 1;
  return bounds;
}

/**
 * The label order of the series (by their first rows), or `undefined` when
 * two series share a label set (the frame is not grouped by series).
 */
function labelOrder(
  base: pl.DataFrame,
  labels: string[],
  bounds: Int32Array,
): Int32Array | undefined {
  const count = bounds.length - 1;
  const identity = Int32Array.from({ length: count }, (_, i) => i);
  if (labels.length === 0 || count <= 1) return count <= 1 ? identity : undefined;
  const heads = base.select(
    ...labels.map((l) =>
      pl.col(l).gather(indexSeries(Uint32Array.from(bounds.subarray(0, count))))
    ),
  ).withColumns(pl.Series("__s", identity, pl.Int32));
  const sorted = heads.sort(labels);
  const same = sorted.select(changed(labels, count - 1).not().sum().alias("n")).getColumn("n")
    .get(0);
  if (Number(same ?? 0) > 0) return undefined;
  return sorted.getColumn("__s").toTypedArray() as Int32Array;
}

/**
 * A frame split into series: label columns, `timestamp` (Datetime) and the
 * value column as `value` (Float64), with the row range of every series.
 * Nothing is copied to JavaScript until {@linkcode SeriesIndex.load}.
 */
export class SeriesIndex {
  /** Label columns, `timestamp`, `value` (and a mask column); grouped by series, time-ordered. */
  readonly frame: pl.DataFrame;
  /** Label column names. */
  readonly labels: string[];
  /** Row offset of each series in `frame`, plus the row count at the end. */
  readonly bounds: Int32Array;
  /** The series (indices into `bounds`) in label order: the order of results. */
  readonly order: Int32Array;
  #nulls: { ts: boolean; value: boolean };
  #ends: pl.Series | undefined;

  constructor(frame: pl.DataFrame, column: string) {
    const labels = labelColumns(frame);
    const ts = frame.getColumn("timestamp");
    let base = frame.select(
      ...labels.map((l) => pl.col(l)),
      (ts.dtype.variant === "Datetime"
        ? pl.col("timestamp")
        : pl.col("timestamp").cast(pl.Int64).cast(pl.Datetime("ms"))).alias("timestamp"),
      pl.col(column).cast(pl.Float64).alias("value"),
    );
    const tsNulls = ts.nullCount() > 0;
    let last = lastRows(base, labels);
    base = base.withColumns(last);
    let bounds = boundsOf(last);
    let order = !tsNulls && timeOrdered(base) ? labelOrder(base, labels, bounds) : undefined;
    if (order === undefined) {
      // Not grouped by series, or not time-ordered within one: sort.
      base = base.drop(LAST).sort([...labels, "timestamp"]);
      last = lastRows(base, labels);
      base = base.withColumns(last);
      bounds = boundsOf(last);
      order = Int32Array.from({ length: bounds.length - 1 }, (_, i) => i);
    }
    this.frame = base;
    this.labels = labels;
    this.bounds = bounds;
    this.order = order;
    this.#nulls = { ts: tsNulls, value: base.getColumn("value").nullCount() > 0 };
  }

  /** Number of series. */
  get count(): number {
    return this.bounds.length - 1;
  }

  /** Number of rows. */
  get height(): number {
    return this.bounds[this.bounds.length - 1];
  }

  /**
   * Per series (indices into `bounds`), the number of rows where the boolean
   * expression is true (null counts as false). When few rows match (the
   * usual case: samples over a threshold) only their row numbers cross to
   * JavaScript; otherwise prefix sums are gathered at the series' last rows.
   */
  counts(expr: pl.Expr): Int32Array {
    const mask = expr.fillNull(false);
    const total = Number(this.frame.select(mask.sum().alias("n")).getColumn("n").get(0) ?? 0);
    const out = new Int32Array(this.count);
    if (total === 0) return out;
    if (total > this.height / 8) {
      this.#ends ??= this.frame.getColumn(LAST).argTrue();
      const prefix = this.frame.select(
        mask.cast(pl.UInt32).cumSum().gather(this.#ends).alias("n"),
      ).getColumn("n").toTypedArray() as Uint32Array;
      for (let s = 0; s < out.length; s++) out[s] = prefix[s] - (s > 0 ? prefix[s - 1] : 0);
      return out;
    }
    const rows = this.frame.select(mask.alias("m")).getColumn("m").argTrue()
      .toTypedArray() as Uint32Array;
    const { bounds } = this;
    let s = 0;
    for (let k = 0; k < rows.length; k++) {
      const r = rows[k];
      while (r >= bounds[s + 1]) s++;
      out[s]++;
    }
    return out;
  }

  /** The series (in label order) for which `keep(series)` is true. */
  select(keep: (series: number) => boolean): Int32Array {
    const out: number[] = [];
    for (const s of this.order) if (keep(s)) out.push(s);
    return Int32Array.from(out);
  }

  /**
   * The samples of `series` (indices into `bounds`, in the order given;
   * default: every series in label order) as typed arrays. Every series:
   * the columns are copied whole, in frame order (`starts`/`ends` give each
   * series' rows); some: only their rows are gathered.
   */
  load(series: Int32Array = this.order): SeriesView {
    const { bounds } = this;
    const k = series.length;
    const starts = new Int32Array(k), ends = new Int32Array(k);
    let rows: Uint32Array | undefined;
    if (k === this.count) {
      for (let j = 0; j < k; j++) {
        starts[j] = bounds[series[j]];
        ends[j] = bounds[series[j] + 1];
      }
    } else {
      let n = 0;
      for (let j = 0; j < k; j++) {
        starts[j] = n;
        n += bounds[series[j] + 1] - bounds[series[j]];
        ends[j] = n;
      }
      rows = new Uint32Array(n);
      let r = 0;
      for (const s of series) for (let i = bounds[s]; i < bounds[s + 1]; i++) rows[r++] = i;
    }
    const empty = rows !== undefined && rows.length === 0;
    const idx = rows === undefined || empty ? undefined : indexSeries(rows);
    const pick = (e: pl.Expr) => idx === undefined ? e : e.gather(idx);
    let ts: Float64Array, values: Float64Array;
    if (empty) {
      ts = new Float64Array();
      values = new Float64Array();
    } else {
      values = this.frame.select(
        pick(this.#nulls.value ? pl.col("value").fillNull(NaN) : pl.col("value")).alias("v"),
      ).getColumn("v").toTypedArray() as Float64Array;
      ts = this.#nulls.ts
        ? this.frame.select(pick(floatTime().fillNull(NaN)).alias("t")).getColumn("t")
          .toTypedArray() as Float64Array
        : epochFloats(
          this.frame.select(pick(pl.col("timestamp").cast(pl.Int64)).alias("t")).getColumn("t")
            .toTypedArray() as BigInt64Array,
        );
    }
    return { index: this, labels: this.labels, ts, values, starts, ends, series, rows };
  }

  /**
   * The label values of `series` (indices into `bounds`): one array per label
   * column, one entry per requested series (null when the label is missing).
   */
  labelValues(series: ArrayLike<number>): (string | null)[][] {
    if (this.labels.length === 0) return [];
    if (series.length === 0) return this.labels.map(() => []);
    const rows = new Uint32Array(series.length);
    for (let k = 0; k < series.length; k++) rows[k] = this.bounds[series[k]];
    const idx = indexSeries(rows);
    const picked = this.frame.select(...this.labels.map((l) => pl.col(l).gather(idx)));
    return this.labels.map((l) => picked.getColumn(l).toArray() as (string | null)[]);
  }

  /** The smallest positive gap between consecutive samples of one series (Infinity if none). */
  step(): number {
    const m = this.height - 1;
    if (m <= 0) return Infinity;
    const t = pl.col("timestamp").cast(pl.Int64);
    const gap = t.slice(1, m).minus(t.slice(0, m));
    // when/then rather than filter, and an Int64 zero: both avoid copies in polars 0.25.
    const positive = pl.col(LAST).slice(0, m).not().and(gap.gt(pl.lit(0).cast(pl.Int64)));
    const min = this.frame.select(
      pl.when(positive).then(gap).otherwise(pl.lit(null)).min().cast(pl.Float64).alias("s"),
    ).getColumn("s").get(0);
    return min === null || min === undefined ? Infinity : Number(min);
  }

  /** The latest timestamp in epoch ms (-Infinity when there is none). */
  maxTime(): number {
    const max = this.frame.select(floatTime().max().alias("t")).getColumn("t").get(0);
    return max === null || max === undefined || Number.isNaN(max) ? -Infinity : Number(max);
  }
}

/** Build the {@linkcode SeriesIndex} of a range frame (non-empty, columns checked). */
export function seriesIndex(frame: pl.DataFrame, column: string): SeriesIndex {
  return new SeriesIndex(frame, column);
}

/** An extra result column: name, dtype and values (null allowed). */
export interface ExtraColumn {
  name: string;
  dtype: "datetime" | "float" | "utf8" | "int";
  values: ArrayLike<number | string | null>;
}

/** A polars Series for an extra column. */
export function extraSeries(column: ExtraColumn): pl.Series {
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
 * The result frame: label columns of the given loaded rows of `view`, then
 * `timestamp`, `value`, `reason` and the extra columns. `timestamp`/`value`
 * default to the rows' own; pass them to override (episodes, trend).
 */
export function resultFrame(
  view: SeriesView,
  rows: ArrayLike<number>,
  columns: { timestamp?: ArrayLike<number | null>; value?: ArrayLike<number | null> },
  reasons: string[],
  extras: ExtraColumn[],
): pl.DataFrame {
  const frameRows = new Uint32Array(rows.length);
  for (let k = 0; k < rows.length; k++) {
    frameRows[k] = view.rows === undefined ? rows[k] : view.rows[rows[k]];
  }
  const idx = indexSeries(frameRows);
  const { frame } = view.index;
  const picked = frame.select(
    ...view.labels.map((l) => pl.col(l).gather(idx)),
    pl.col("timestamp").gather(idx),
    pl.col("value").gather(idx),
  );
  const out: pl.Series[] = view.labels.map((l) => picked.getColumn(l));
  out.push(
    columns.timestamp === undefined
      ? picked.getColumn("timestamp")
      : extraSeries({ name: "timestamp", dtype: "datetime", values: columns.timestamp }),
  );
  out.push(
    columns.value === undefined
      ? picked.getColumn("value")
      : extraSeries({ name: "value", dtype: "float", values: columns.value }),
  );
  out.push(pl.Series("reason", reasons, pl.Utf8));
  for (const extra of extras) out.push(extraSeries(extra));
  return pl.DataFrame(out);
}

/** The label set of entry `k` of {@linkcode SeriesIndex.labelValues} (null labels omitted). */
export function labelsAt(
  values: (string | null)[][],
  names: string[],
  k: number,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (let c = 0; c < names.length; c++) {
    const v = values[c][k];
    if (v !== null && v !== undefined) out[names[c]] = v;
  }
  return out;
}
