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

// shared by several stages
export * from "./labels.ts";
export * from "./errors.ts";
export * from "./time.ts";

// the stages, in data-flow order
export * from "./prometheus/mod.ts";
export * from "./chart/mod.ts";
export * from "./detect/mod.ts";
export * from "./alert/mod.ts";
export * from "./rules/mod.ts";
export * from "./notebook/mod.ts";
export * from "./monitor/mod.ts";
