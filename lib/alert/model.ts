/**
 * Building {@linkcode Alert}s from detector frames: one alert per offending
 * series, labelled with `alertname` plus the series' labels, annotated from
 * templates such as `"CPU {{value}} % on {{instance}}"`.
 *
 * @module
 */

import pl from "nodejs-polars";
import { fingerprint, type Labels } from "../labels.ts";
import { type TimeInput, toMillis } from "../time.ts";
import type { Alert } from "./types.ts";
import { formatValue } from "../_internal/format.ts";

/**
 * Utf8 columns that detectors add and that are not labels. `__name__` is
 * dropped too: an alert is named by its `alertname`.
 */
export const DETECTOR_COLUMNS: readonly string[] = Object.freeze([
  "__name__",
  "reason",
  "fingerprint",
  "detector",
  "direction",
  "message",
]);

/**
 * Options of {@linkcode alertsFromFrame}.
 *
 * @example
 * ```ts
 * import pl from "nodejs-polars";
 * import { alertsFromFrame, type AlertsFromFrameOptions } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const frame = pl.DataFrame({ mountpoint: ["/data"], instance: ["web-01:9100"], free: [4] });
 * const options: AlertsFromFrameOptions = {
 *   alertname: "HostDiskFull",
 *   summary: "{{mountpoint}} on {{instance}}: {{value}} % free",
 *   valueColumn: "free",
 *   labels: { severity: "critical" },
 *   at: "2026-11-01T21:30:00Z",
 * };
 * const [alert] = alertsFromFrame(frame, options);
 * assert.equal(alert.annotations.summary, "/data on web-01:9100: 4.0 % free");
 * assert.equal(alert.labels.severity, "critical");
 * ```
 */
export interface AlertsFromFrameOptions {
  /** The `alertname` label, e.g. `HostHighCpu`. */
  alertname: string;
  /** One-line summary template, e.g. `"CPU {{value}} % on {{instance}}"`. */
  summary: string;
  /** Longer description template. */
  description?: string;
  /** Extra labels for every alert, e.g. `{ severity: "critical" }`. */
  labels?: Labels;
  /** Extra annotation templates. */
  annotations?: Record<string, string>;
  /**
   * The column holding the alert's value.
   * @default {"value"}
   */
  valueColumn?: string;
  /** More Utf8 columns that are not labels. */
  exclude?: readonly string[];
  /**
   * `startsAt` for rows without a `since` or `timestamp` column.
   * @default {new Date()}
   */
  at?: TimeInput;
  /** Link to the query in Prometheus' graph UI. */
  generatorURL?: string;
}

/** What {@linkcode describeFrame} found in a frame: how much data, and which series are missing. */
export interface FrameCheck {
  /** Number of rows. */
  rows: number;
  /** `true` when the frame has no rows: "no data", never "all clear". */
  noData: boolean;
  /** Series whose latest value is NaN or null: missing data, never an alert. */
  missing: Labels[];
}

const TEMPLATE = /\{\{\s*(?:\$labels\.|\$|\.)?([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

/**
 * Formats an alert's value the one way every message, sink, chart and
 * detector reason does: one decimal (three significant digits for very
 * small or large magnitudes), `NaN`, `+Inf`, `-Inf`, then the unit if given.
 *
 * @example
 * ```ts
 * import { formatAlertValue } from "./model.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatAlertValue(95), "95.0");
 * assert.equal(formatAlertValue(4.201, "%"), "4.2 %");
 * assert.equal(formatAlertValue(NaN), "NaN");
 * ```
 */
export function formatAlertValue(value: number, unit: string = ""): string {
  return formatValue(value, unit);
}

/**
 * Renders a template: `{{name}}` (also `{{ $labels.name }}` and `{{$value}}`,
 * Prometheus style) is replaced by the value of `name`; numbers go through
 * {@linkcode formatAlertValue}, dates become RFC 3339, unknown names become "".
 *
 * @example
 * ```ts
 * import { renderTemplate } from "opsbook";
 * console.log(renderTemplate("CPU {{value}} % on {{ $labels.instance }}", {
 *   value: 95.004, instance: "db-01:9100",
 * })); // CPU 95.0 % on db-01:9100
 * ```
 */
export function renderTemplate(template: string, values: Record<string, unknown>): string {
  return template.replace(TEMPLATE, (_, name: string) => {
    const v = values[name];
    if (v === undefined || v === null) return "";
    if (typeof v === "number") return formatAlertValue(v);
    if (v instanceof Date) return v.toISOString();
    return String(v);
  });
}

function isUtf8(dtype: pl.DataType): boolean {
  const variant = (dtype as unknown as { variant?: string }).variant;
  return variant === "String" || variant === "Utf8";
}

function isTime(dtype: pl.DataType): boolean {
  const variant = (dtype as unknown as { variant?: string }).variant;
  return variant === "Datetime" || variant === "Date";
}

/**
 * The label columns of a frame: its Utf8 columns other than detector outputs
 * ({@linkcode DETECTOR_COLUMNS}) and `exclude`, sorted.
 *
 * @example
 * ```ts
 * import pl from "nodejs-polars";
 * import { alertLabelColumns } from "./model.ts";
 * const frame = pl.DataFrame({ reason: ["x"], value: [1], instance: ["a"], cloud: ["azure"] });
 * console.log(alertLabelColumns(frame)); // [ "cloud", "instance" ]
 * ```
 */
export function alertLabelColumns(frame: pl.DataFrame, exclude: readonly string[] = []): string[] {
  const skip = new Set([...DETECTOR_COLUMNS, ...exclude]);
  const out: string[] = [];
  frame.columns.forEach((name, i) => {
    if (!skip.has(name) && isUtf8(frame.dtypes[i])) out.push(name);
  });
  return out.sort();
}

function toMs(v: unknown): number | undefined {
  if (v instanceof Date) return v.getTime();
  if (typeof v === "number" && Number.isFinite(v)) return v;
  if (typeof v === "bigint") return Number(v);
  return undefined;
}

interface Row {
  labels: Labels;
  index: number;
  time: number;
}

/** Latest row per label set; rows with equal time keep the later one. */
function latestRows(frame: pl.DataFrame, labelCols: string[]): Row[] {
  const cols = labelCols.map((c) => frame.getColumn(c).toArray() as (string | null)[]);
  const times = frame.columns.includes("timestamp")
    ? frame.getColumn("timestamp").toArray() as unknown[]
    : undefined;
  const bySeries = new Map<string, Row>();
  for (let i = 0; i < frame.height; i++) {
    const labels: Labels = {};
    const keyParts: string[] = [];
    for (let c = 0; c < labelCols.length; c++) {
      const v = cols[c][i];
      if (v !== null && v !== undefined && v !== "") {
        labels[labelCols[c]] = v;
        keyParts.push(`${labelCols[c]}\u0000${v}`);
      }
    }
    const key = keyParts.join("\u0001");
    const time = times ? toMs(times[i]) ?? -Infinity : i;
    const prev = bySeries.get(key);
    if (prev === undefined || time >= prev.time) bySeries.set(key, { labels, index: i, time });
  }
  return [...bySeries.values()];
}

function checkValueColumn(frame: pl.DataFrame, valueColumn: string): void {
  if (!frame.columns.includes(valueColumn)) {
    throw new TypeError(
      `Invalid frame: no "${valueColumn}" column, got columns ${JSON.stringify(frame.columns)}`,
    );
  }
}

/**
 * Checks a frame before alerting on it: an empty frame is "no data" (not
 * "all clear"), and series whose latest value is NaN or null are missing data.
 *
 * @example
 * ```ts
 * import pl from "nodejs-polars";
 * import { describeFrame } from "./model.ts";
 * const frame = pl.DataFrame({ instance: ["a:9100", "b:9100"], value: [50, NaN] });
 * const check = describeFrame(frame);
 * console.log(check.noData, check.missing); // false [ { instance: "b:9100" } ]
 * ```
 */
export function describeFrame(
  frame: pl.DataFrame,
  options: { valueColumn?: string; exclude?: readonly string[] } = {},
): FrameCheck {
  const valueColumn = options.valueColumn ?? "value";
  if (frame.height === 0) return { rows: 0, noData: true, missing: [] };
  checkValueColumn(frame, valueColumn);
  const labels = alertLabelColumns(frame, options.exclude);
  const v = pl.col(valueColumn).cast(pl.Float64);
  // Fast path: no NaN or null anywhere means no missing series.
  const holes = frame.select(v.isNull().or(v.isNan()).sum().alias("n")).getColumn("n").toArray();
  if (Number(holes[0] ?? 0) === 0) return { rows: frame.height, noData: false, missing: [] };
  // Vectorised: the latest value of each series, by timestamp when there is one.
  const last = (frame.columns.includes("timestamp") ? v.sortBy("timestamp") : v).last()
    .alias("__last");
  const latest = labels.length > 0
    ? frame.lazy().groupBy(labels).agg(last).collectSync()
    : frame.select(last);
  const bad = latest.filter(pl.col("__last").isNull().or(pl.col("__last").isNan()));
  const sorted = labels.length > 0 && bad.height > 1 ? bad.sort(labels) : bad;
  const cols = labels.map((l) => sorted.getColumn(l).toArray() as (string | null)[]);
  const missing: Labels[] = [];
  for (let i = 0; i < sorted.height; i++) {
    const l: Labels = {};
    labels.forEach((name, c) => {
      const value = cols[c][i];
      if (value !== null && value !== undefined && value !== "") l[name] = value;
    });
    missing.push(l);
  }
  return { rows: frame.height, noData: false, missing };
}

/**
 * Builds one firing {@linkcode Alert} per series of a detector frame (the
 * latest row of each label set). Labels are `alertname`, the series' labels
 * (every Utf8 column except detector outputs such as `reason`) and
 * `options.labels`. `startsAt` comes from a `since` column, else the row's
 * `timestamp`, else `options.at`. Rows whose value is NaN or null never
 * alert (see {@linkcode describeFrame}); an empty frame gives no alert.
 *
 * @example Alerts from a detector frame
 * ```ts
 * import pl from "nodejs-polars";
 * import { alertsFromFrame } from "opsbook";
 *
 * const frame = pl.DataFrame({
 *   instance: ["db-01:9100", "web-01:9100"],
 *   value: [95, NaN],
 *   reason: ["> 80", "> 80"],
 * });
 * const alerts = alertsFromFrame(frame, {
 *   alertname: "HostHighCpu",
 *   summary: "CPU {{value}} % on {{instance}}",
 *   labels: { severity: "critical" },
 *   at: "2026-11-01T10:05:00Z",
 * });
 * console.log(alerts.length, alerts[0].annotations.summary); // 1 CPU 95 % on db-01:9100
 * ```
 */
export function alertsFromFrame(frame: pl.DataFrame, options: AlertsFromFrameOptions): Alert[] {
  if (typeof options.alertname !== "string" || options.alertname === "") {
    throw new TypeError("Invalid alertname: expected a non-empty string");
  }
  if (typeof options.summary !== "string") {
    throw new TypeError("Invalid summary: expected a template string");
  }
  if (frame.height === 0) return [];
  const valueColumn = options.valueColumn ?? "value";
  checkValueColumn(frame, valueColumn);
  const labelCols = alertLabelColumns(frame, options.exclude);
  const rows = latestRows(frame, labelCols);
  const labelSet = new Set(labelCols);
  const others = frame.columns.filter((c) => !labelSet.has(c));
  const columns = new Map(others.map((c) => [c, frame.getColumn(c).toArray() as unknown[]]));
  const timeCols = new Set(others.filter((c) => isTime(frame.dtypes[frame.columns.indexOf(c)])));
  const fallback = new Date(options.at === undefined ? Date.now() : toMillis(options.at))
    .toISOString();
  const alerts: Alert[] = [];
  for (const row of rows) {
    const value = columns.get(valueColumn)![row.index] as number | null;
    if (value === null || value === undefined || Number.isNaN(value)) continue;
    const values: Record<string, unknown> = { ...row.labels };
    for (const [c, data] of columns) {
      const v = data[row.index];
      values[c] = timeCols.has(c) && typeof v === "number" ? new Date(v) : v;
    }
    values.value = value;
    const labels: Labels = { ...row.labels, ...options.labels, alertname: options.alertname };
    values.alertname = options.alertname;
    const annotations: Alert["annotations"] = {
      summary: renderTemplate(options.summary, values),
    };
    if (options.description !== undefined) {
      annotations.description = renderTemplate(options.description, values);
    }
    for (const [k, t] of Object.entries(options.annotations ?? {})) {
      annotations[k] = renderTemplate(t, values);
    }
    const since = toMs(columns.get("since")?.[row.index]) ??
      toMs(columns.get("timestamp")?.[row.index]);
    const alert: Alert = {
      labels,
      annotations,
      value,
      startsAt: since === undefined ? fallback : new Date(since).toISOString(),
      status: "firing",
      fingerprint: fingerprint(labels),
    };
    if (options.generatorURL !== undefined) alert.generatorURL = options.generatorURL;
    alerts.push(alert);
  }
  const key = (l: Labels) => Object.keys(l).sort().map((k) => `${k}\u0000${l[k]}`).join("\u0001");
  return alerts.sort((a, b) => {
    const ka = key(a.labels), kb = key(b.labels);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
}
