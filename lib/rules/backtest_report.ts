/**
 * A backtest's result as text: a table, JSON lines, CSV, and a
 * self-contained HTML report with a timeline chart.
 *
 * @module
 */

import * as Plot from "@observablehq/plot";
import { formatLabels } from "../labels.ts";
import { ALERT_COLOR } from "../chart/chart.ts";
import { plotChart } from "../chart/plot_chart.ts";
import { writeFileAtomic } from "../alert/_store.ts";
import type { BacktestResult, BacktestRow } from "./backtest.ts";

/** The fields of one JSON line, in order. */
export const BACKTEST_FIELDS: readonly string[] = Object.freeze([
  "alertname",
  "labels",
  "annotations",
  "activeAt",
  "firedAt",
  "resolvedAt",
]);

function jsonRow(r: BacktestRow): Record<string, unknown> {
  return {
    alertname: r.alertname,
    labels: r.labels,
    annotations: r.annotations,
    activeAt: r.activeAt,
    firedAt: r.firedAt,
    resolvedAt: r.resolvedAt,
  };
}

/**
 * One JSON object per row and line, with exactly the fields
 * {@linkcode BACKTEST_FIELDS}; times are RFC 3339 strings or `null`.
 *
 * @example
 * ```ts
 * import { backtestJsonLines } from "opsbook";
 * const text = backtestJsonLines({ start: "", end: "", recording: [], rules: [], rows: [{
 *   rule: "node/HostDown", alertname: "HostDown", labels: { instance: "a" }, annotations: {},
 *   activeAt: "2026-11-01T10:00:00Z", firedAt: null, resolvedAt: "2026-11-01T10:01:00Z",
 * }] });
 * console.log(text.trim());
 * // {"alertname":"HostDown","labels":{"instance":"a"},"annotations":{},"activeAt":"2026-11-01T10:00:00Z","firedAt":null,"resolvedAt":"2026-11-01T10:01:00Z"}
 * ```
 */
export function backtestJsonLines(result: BacktestResult): string {
  return result.rows.map((r) => JSON.stringify(jsonRow(r)) + "\n").join("");
}

function csvField(v: string): string {
  return /[",\n\r]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
}

/**
 * CSV (RFC 4180) with a header: labels as `{a="1", b="2"}`, annotations as JSON.
 *
 * @example
 * ```ts
 * import { backtestCsv } from "opsbook";
 * const text = backtestCsv({ start: "", end: "", recording: [], rules: [], rows: [] });
 * console.log(text.trim()); // alertname,labels,annotations,activeAt,firedAt,resolvedAt
 * ```
 */
export function backtestCsv(result: BacktestResult): string {
  const lines = [BACKTEST_FIELDS.join(",")];
  for (const r of result.rows) {
    lines.push(
      [
        r.alertname,
        formatLabels(r.labels),
        JSON.stringify(r.annotations),
        r.activeAt,
        r.firedAt ?? "",
        r.resolvedAt ?? "",
      ].map(csvField).join(","),
    );
  }
  return lines.join("\r\n") + "\r\n";
}

function pad(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => [...r[c]].length)));
  return rows.map((r) =>
    r.map((v, c) => v + " ".repeat(widths[c] - [...v].length)).join("  ").trimEnd()
  )
    .join("\n") + "\n";
}

/**
 * A plain-text table of the rows, then one line per rule with its
 * notifications.
 *
 * @example
 * ```ts
 * import { backtestTable } from "opsbook";
 * console.log(backtestTable({ start: "", end: "", recording: [], rows: [], rules: [{
 *   rule: "node/HostDown", alertname: "HostDown", evaluations: 60, instances: 0,
 *   notifications: 0, notifiedAt: [], firing: 0, resolved: 0, repeats: 0, errors: 0, noData: 0, warnings: [],
 * }] }).split("\n")[0]); // (no alert instance)
 * ```
 */
export function backtestTable(result: BacktestResult): string {
  let out = "";
  if (result.rows.length === 0) out += "(no alert instance)\n";
  else {
    out += pad([
      ["ALERTNAME", "LABELS", "ACTIVE", "FIRED", "RESOLVED", "SUMMARY"],
      ...result.rows.map((r) => [
        r.alertname,
        formatLabels(r.labels),
        r.activeAt,
        r.firedAt ?? "-",
        r.resolvedAt ?? "-",
        r.annotations.summary ?? "",
      ]),
    ]);
  }
  out += "\n" + pad([
    ["RULE", "EVALUATIONS", "INSTANCES", "FIRED", "NOTIFICATIONS", "PROBLEMS"],
    ...result.rules.map((s) => [
      s.rule,
      String(s.evaluations),
      String(s.instances),
      String(s.firing),
      String(s.notifications),
      problems(s).join("; ") || "-",
    ]),
  ]);
  return out;
}

function problems(s: BacktestResult["rules"][number]): string[] {
  const out: string[] = [];
  if (s.errors > 0) out.push(`${s.errors} failed evaluations (${s.firstError})`);
  if (s.noData > 0) out.push(`${s.noData} evaluations without data (states held)`);
  if (s.warnings.length > 0) out.push(`partial: ${s.warnings.join(", ")}`);
  if (s.blind) out.push(`blind: ${s.blind.join(", ")} never matched`);
  return out;
}

function escapeHtml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;").replaceAll("'", "&#39;");
}

/** Most instances drawn in the timeline (the table lists them all). */
const TIMELINE_MAX = 300;

/**
 * The timeline chart (Observable Plot through opsbook's chart frame): one
 * row per alert instance, pending spans light, firing spans in the alert colour.
 *
 * @example
 * ```ts
 * import { backtestTimeline } from "opsbook";
 * const chart = backtestTimeline({ start: "2026-11-01T00:00:00Z", end: "2026-11-01T01:00:00Z", recording: [], rules: [], rows: [{
 *   rule: "node/HostDown", alertname: "HostDown", labels: { instance: "a" }, annotations: {},
 *   activeAt: "2026-11-01T00:10:00Z", firedAt: "2026-11-01T00:15:00Z", resolvedAt: null,
 * }] });
 * console.log(chart.outerHTML.startsWith("<svg")); // true
 * ```
 */
export function backtestTimeline(result: BacktestResult): { outerHTML: string } {
  const end = new Date(result.end);
  const rows = result.rows.slice(0, TIMELINE_MAX);
  const name = (r: BacktestRow) => `${r.alertname} ${formatLabels(r.labels)}`.slice(0, 80);
  const names = [...new Set(rows.map(name))];
  const spans: { y: string; x1: Date; x2: Date; state: string }[] = [];
  for (const r of rows) {
    const stop = r.resolvedAt === null ? end : new Date(r.resolvedAt);
    const fired = r.firedAt === null ? stop : new Date(r.firedAt);
    spans.push({ y: name(r), x1: new Date(r.activeAt), x2: fired, state: "pending" });
    if (r.firedAt !== null) spans.push({ y: name(r), x1: fired, x2: stop, state: "firing" });
  }
  return plotChart({
    title: "Backtest timeline",
    subtitle: `${result.start} – ${result.end}${
      result.rows.length > TIMELINE_MAX
        ? ` (first ${TIMELINE_MAX} of ${result.rows.length} instances)`
        : ""
    }`,
    legend: [
      { label: "pending", color: "#E69F00" },
      { label: "firing", color: ALERT_COLOR },
    ],
    width: 960,
    height: Math.max(120, 40 + 18 * names.length),
    marginLeft: 320,
    x: { type: "utc", domain: [new Date(result.start), end] },
    y: { domain: names, label: null },
    marks: [
      Plot.barX(spans, {
        x1: "x1",
        x2: "x2",
        y: "y",
        fill: (d: { state: string }) => d.state === "firing" ? ALERT_COLOR : "#E69F00",
        title: (d: { y: string; state: string }) => `${d.y}: ${d.state}`,
      }),
    ],
  }) as unknown as { outerHTML: string };
}

/**
 * A self-contained HTML page: the timeline chart, the notifications per rule
 * and every instance; every value escaped, no script.
 *
 * @example
 * ```ts
 * import { backtestHtml } from "opsbook";
 * const html = backtestHtml({ start: "2026-11-01T00:00:00Z", end: "2026-11-01T01:00:00Z", recording: [], rules: [], rows: [] });
 * console.log(html.startsWith("<!DOCTYPE html>"), html.includes("<script")); // true false
 * ```
 */
export function backtestHtml(result: BacktestResult): string {
  const rules = result.rules.map((s) =>
    `<tr><td>${
      escapeHtml(s.rule)
    }</td><td>${s.evaluations}</td><td>${s.instances}</td><td>${s.firing}</td><td>${s.resolved}</td><td>${s.repeats}</td><td>${s.notifications}</td><td>${
      escapeHtml(problems(s).join("; "))
    }</td></tr>`
  ).join("\n");
  const rows = result.rows.map((r) =>
    `<tr><td>${escapeHtml(r.alertname)}</td><td>${escapeHtml(formatLabels(r.labels))}</td><td>${
      escapeHtml(r.activeAt)
    }</td><td>${escapeHtml(r.firedAt ?? "-")}</td><td>${escapeHtml(r.resolvedAt ?? "-")}</td><td>${
      escapeHtml(Object.entries(r.annotations).map(([k, v]) => `${k}: ${v}`).join("\n"))
    }</td></tr>`
  ).join("\n");
  const svg = result.rows.length === 0
    ? "<p>No alert instance.</p>"
    : backtestTimeline(result).outerHTML;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>opsbook backtest ${escapeHtml(result.start)} – ${escapeHtml(result.end)}</title>
<style>body{font-family:DejaVu Sans,sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top;white-space:pre-wrap}</style>
</head><body>
<h1>Backtest ${escapeHtml(result.start)} – ${escapeHtml(result.end)}</h1>
${svg}
<h2>Notifications per rule</h2>
<table><tr><th>rule</th><th>evaluations</th><th>instances</th><th>fired</th><th>resolved</th><th>repeats</th><th>notifications</th><th>problems</th></tr>
${rules}
</table>
<h2>Alert instances</h2>
<table><tr><th>alertname</th><th>labels</th><th>activeAt</th><th>firedAt</th><th>resolvedAt</th><th>annotations</th></tr>
${rows}
</table>
</body></html>
`;
}

/**
 * Writes {@linkcode backtestHtml} to `path` atomically (temporary file, fsync, rename).
 *
 * @example
 * ```ts
 * import { writeBacktestHtml } from "opsbook";
 * const dir = await Deno.makeTempDir();
 * await writeBacktestHtml(`${dir}/report.html`, { start: "2026-11-01T00:00:00Z", end: "2026-11-01T01:00:00Z", recording: [], rules: [], rows: [] });
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeBacktestHtml(path: string, result: BacktestResult): Promise<void> {
  await writeFileAtomic(path, backtestHtml(result));
}
