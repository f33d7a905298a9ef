/**
 * The Prometheus stage: a client for the Prometheus HTTP API (also
 * VictoriaMetrics, Thanos, Mimir) built on ky and zod, the zod schemas of its
 * answers, PromQL builders that quote safely, and the conversion of query
 * results into polars DataFrames.
 *
 * @example Build the classic CPU usage query
 * ```ts
 * import { cpuUsageQuery } from "opsbook/prometheus";
 * import assert from "node:assert/strict";
 *
 * assert.match(cpuUsageQuery({ window: "5m" }), /irate\(node_cpu_seconds_total/);
 * ```
 *
 * @module
 */

export * from "./schema.ts";
export * from "./promql.ts";
export * from "./frame.ts";
export * from "./client.ts";
export * from "./fleet.ts";
