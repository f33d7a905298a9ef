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

export type {
  ApiAlert,
  ApiRule,
  ApiRules,
  ApiTarget,
  ApiTargets,
  BuildInfo,
  LabelSet,
  MatrixData,
  MatrixSeries,
  NativeHistogram,
  QueryData,
  SamplePair,
  VectorData,
  VectorSample,
} from "./schema.ts";
export { cpuUsageQuery, quoteString, selector } from "./promql.ts";
export type { CpuUsageQueryOptions, LabelMatcher, LabelMatchers, MatchOp } from "./promql.ts";
export { checkQueryData, queryDataToFrame } from "./frame.ts";
export type { CheckOptions, DataFrame } from "./frame.ts";
export { PrometheusClient } from "./client.ts";
export type {
  EmptyResultAction,
  FrameOptions,
  MetadataOptions,
  PrometheusClientOptions,
  QueryOptions,
  QueryRangeOptions,
  QueryResult,
  RangeResult,
  WarningHandler,
} from "./client.ts";
export { createPrometheusClient, FleetClient, parsePrometheusUrls } from "./fleet.ts";
export type {
  AnyPrometheusClient,
  FleetClientOptions,
  FleetMember,
  PrometheusUrls,
} from "./fleet.ts";
export { presentLabels } from "./present_labels.ts";
export type { PresentLabels, PresentLabelsOptions } from "./present_labels.ts";
export type { RetryOptions } from "../_internal/http.ts";
