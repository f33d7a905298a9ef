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

// section: charts and display

// section: detectors

// section: alerts
export * from "./alert/types.ts";

// section: notebook runner

// section: config and monitor
