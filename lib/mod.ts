/**
 * opsbook: query Prometheus into polars DataFrames, chart them with Observable
 * Plot, detect hot or anomalous hosts and deliver alerts that are sent once,
 * resolved later, never lost and never spammed.
 *
 * @example Query the classic CPU usage into a DataFrame
 * ```ts ignore
 * import { cpuUsageQuery, PrometheusClient } from "opsbook";
 *
 * const prom = new PrometheusClient({ url: "http://localhost:9090" });
 * const frame = await prom.queryFrame(cpuUsageQuery({ window: "5m" }));
 * console.log(frame.toString());
 * ```
 *
 * @module
 */

export * from "./labels.ts";

// section: client (errors, schema, time, prometheus, frame, promql)
export * from "./errors.ts";
export * from "./schema.ts";
export * from "./time.ts";
export * from "./promql.ts";
export * from "./frame.ts";
export * from "./prometheus.ts";

// section: charts and display
export * from "./chart.ts";
export * from "./chart_export.ts";
export * from "./table.ts";

// section: detectors
export * from "./detect.ts";

// section: alerts
export * from "./alert/types.ts";
export * from "./alert/slack.ts";
export * from "./alert/alertmanager.ts";
export * from "./alert/zammad.ts";
export * from "./alert/model.ts";
export * from "./alert/state.ts";
export * from "./alert/outbox.ts";
export * from "./alert/alerter.ts";
export * from "./alert/dry_run.ts";
export * from "./alert/rules.ts";

// section: notebook runner
export * from "./notebook/runner.ts";
export { KernelDiedError, KernelStartError } from "./notebook/kernel.ts";
export { NotebookInputError } from "./notebook/nbformat.ts";

// section: config and monitor
export * from "./config.ts";
export * from "./log.ts";
export * from "./metrics.ts";
export * from "./lock.ts";
export * from "./monitor.ts";
