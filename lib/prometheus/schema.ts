/**
 * zod schemas of the Prometheus HTTP API: the response envelope, query
 * results (vector / matrix / scalar / string as a discriminated union) and the
 * metadata endpoints.
 *
 * The client checks large query results with a hand-written loop and uses
 * these schemas for envelopes, metadata and for naming the exact path of a
 * problem when that loop finds one.
 *
 * @module
 */

import { z } from "zod";
import type { Labels } from "../labels.ts";
import { noteLines } from "./_notes.ts";

/** A sample `[unix seconds, "value"]`; values are strings such as `"1e-07"`, `"NaN"`, `"+Inf"`. */
export const SamplePairSchema = z.tuple([z.number(), z.string()]);

/** A native histogram as the API encodes it. */
export const NativeHistogramSchema = z.object({
  count: z.string(),
  sum: z.string(),
  buckets: z.array(z.tuple([z.number(), z.string(), z.string(), z.string()])).optional(),
});

/** A `[unix seconds, histogram]` pair. */
export const HistogramPairSchema = z.tuple([z.number(), NativeHistogramSchema]);

/** A label set. */
export const LabelSetSchema = z.record(z.string(), z.string());

/** One element of a vector result: a float `value` or a native `histogram`. */
export const VectorSampleSchema = z.object({
  metric: LabelSetSchema,
  value: SamplePairSchema.optional(),
  histogram: HistogramPairSchema.optional(),
}).refine((s) => s.value !== undefined || s.histogram !== undefined, {
  message: "Expected a value or a histogram",
});

/** One series of a matrix result. */
export const MatrixSeriesSchema = z.object({
  metric: LabelSetSchema,
  values: z.array(SamplePairSchema).optional(),
  histograms: z.array(HistogramPairSchema).optional(),
});

/** The `data` of a query response, discriminated by `resultType`. */
export const QueryDataSchema = z.discriminatedUnion("resultType", [
  z.object({ resultType: z.literal("vector"), result: z.array(VectorSampleSchema) }),
  z.object({ resultType: z.literal("matrix"), result: z.array(MatrixSeriesSchema) }),
  z.object({ resultType: z.literal("scalar"), result: SamplePairSchema }),
  z.object({ resultType: z.literal("string"), result: SamplePairSchema }),
]);

/**
 * `warnings` or `infos`: lines of text. Prometheus sends strings; anything
 * else is kept as its JSON (a single value as one line), never dropped.
 */
export const NotesSchema = z.unknown().optional().transform(noteLines);

/** The error envelope. */
export const ErrorEnvelopeSchema = z.object({
  status: z.literal("error"),
  errorType: z.string(),
  error: z.string(),
  warnings: NotesSchema,
  infos: NotesSchema,
});

/** The success envelope, before `data` is checked. */
export const SuccessEnvelopeSchema = z.object({
  status: z.literal("success"),
  data: z.unknown(),
  warnings: NotesSchema,
  infos: NotesSchema,
});

/** `/api/v1/series`: a list of label sets. */
export const SeriesListSchema = z.array(LabelSetSchema);

/** `/api/v1/labels` and `/api/v1/label/<name>/values`. */
export const StringListSchema = z.array(z.string());

/** One target of `/api/v1/targets`. */
export const ApiTargetSchema = z.object({
  labels: LabelSetSchema.optional(),
  discoveredLabels: LabelSetSchema.optional(),
  scrapePool: z.string().optional(),
  scrapeUrl: z.string().optional(),
  globalUrl: z.string().optional(),
  lastError: z.string().optional(),
  lastScrape: z.string().optional(),
  lastScrapeDuration: z.number().optional(),
  health: z.string().optional(),
}).loose();

/** `/api/v1/targets`. */
export const ApiTargetsSchema = z.object({
  activeTargets: z.array(ApiTargetSchema),
  droppedTargets: z.array(ApiTargetSchema).optional(),
}).loose();

/** One alert of `/api/v1/alerts` (and inside alerting rules). */
export const ApiAlertSchema = z.object({
  labels: LabelSetSchema,
  annotations: LabelSetSchema.optional(),
  state: z.string(),
  activeAt: z.string().optional(),
  value: z.string().optional(),
}).loose();

/** `/api/v1/alerts`. */
export const ApiAlertsSchema = z.object({ alerts: z.array(ApiAlertSchema) }).loose();

/** One rule of `/api/v1/rules`. */
export const ApiRuleSchema = z.object({
  name: z.string(),
  query: z.string(),
  type: z.string(),
  health: z.string().optional(),
  labels: LabelSetSchema.optional(),
  annotations: LabelSetSchema.optional(),
  alerts: z.array(ApiAlertSchema).optional(),
  duration: z.number().optional(),
  lastError: z.string().optional(),
}).loose();

/** `/api/v1/rules`. */
export const ApiRulesSchema = z.object({
  groups: z.array(
    z.object({
      name: z.string(),
      file: z.string().optional(),
      interval: z.number().optional(),
      rules: z.array(ApiRuleSchema),
    }).loose(),
  ),
}).loose();

/** `/api/v1/status/buildinfo` (VictoriaMetrics 1.79 sends an empty object). */
export const BuildInfoSchema = z.object({
  version: z.string().optional(),
  revision: z.string().optional(),
  branch: z.string().optional(),
  buildUser: z.string().optional(),
  buildDate: z.string().optional(),
  goVersion: z.string().optional(),
}).loose();

/**
 * A sample pair.
 *
 * @example
 * ```ts
 * import { checkQueryData, type SamplePair } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const data = checkQueryData({
 *   resultType: "matrix",
 *   result: [{ metric: { instance: "db-01:9100" }, values: [[1793534400, "95"], [1793534415, "NaN"]] }],
 * });
 * const pairs: SamplePair[] = data.resultType === "matrix" ? data.result[0].values ?? [] : [];
 * assert.deepEqual(pairs[1], [1793534415, "NaN"]); // values stay strings: "NaN", "+Inf"
 * ```
 */
export type SamplePair = z.infer<typeof SamplePairSchema>;
/**
 * A native histogram.
 *
 * @example
 * ```ts
 * import { checkQueryData, type NativeHistogram } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const data = checkQueryData({
 *   resultType: "vector",
 *   result: [{
 *     metric: { __name__: "http_request_duration_seconds" },
 *     histogram: [1793534400, { count: "3", sum: "0.6", buckets: [[0, "0.1", "0.2", "3"]] }],
 *   }],
 * });
 * const h: NativeHistogram | undefined = data.resultType === "vector"
 *   ? data.result[0].histogram?.[1]
 *   : undefined;
 * assert.equal(h?.count, "3");
 * ```
 */
export type NativeHistogram = z.infer<typeof NativeHistogramSchema>;
/**
 * A label set.
 *
 * @deprecated Use {@linkcode Labels}, the one label type (the same
 * `Record<string, string>`); this alias goes in the next minor version.
 *
 * @example Prefer Labels
 * ```ts
 * import type { Labels, LabelSet } from "opsbook";
 *
 * const labels: Labels = { job: "node" }; // new code
 * const legacy: LabelSet = labels; // the same type
 * ```
 */
export type LabelSet = Labels;
/**
 * One element of a vector.
 *
 * @example
 * ```ts
 * import { checkQueryData, type VectorSample } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const data = checkQueryData({
 *   resultType: "vector",
 *   result: [{ metric: { instance: "db-01:9100" }, value: [1793534400, "95"] }],
 * });
 * const samples: VectorSample[] = data.resultType === "vector" ? data.result : [];
 * assert.deepEqual(samples[0].metric, { instance: "db-01:9100" });
 * ```
 */
export type VectorSample = z.infer<typeof VectorSampleSchema>;
/**
 * One series of a matrix.
 *
 * @example
 * ```ts
 * import { checkQueryData, type MatrixSeries } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const data = checkQueryData({
 *   resultType: "matrix",
 *   result: [{ metric: { instance: "db-01:9100" }, values: [[1793534400, "95"], [1793534415, "NaN"]] }],
 * });
 * const series: MatrixSeries[] = data.resultType === "matrix" ? data.result : [];
 * assert.equal(series[0].values?.length, 2);
 * ```
 */
export type MatrixSeries = z.infer<typeof MatrixSeriesSchema>;
/**
 * A query result: vector, matrix, scalar or string.
 *
 * @example Validate a body from elsewhere
 * ```ts
 * import { checkQueryData, type QueryData, queryDataToFrame } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const data: QueryData = checkQueryData({ resultType: "scalar", result: [1793534400, "12"] });
 * assert.equal(data.resultType, "scalar");
 * assert.deepEqual(queryDataToFrame(data).getColumn("value").toArray(), [12]);
 * ```
 */
export type QueryData = z.infer<typeof QueryDataSchema>;
/**
 * A vector result.
 *
 * @example
 * ```ts
 * import { checkQueryData, type VectorData } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const data = checkQueryData({
 *   resultType: "vector",
 *   result: [{ metric: { instance: "db-01:9100" }, value: [1793534400, "95"] }],
 * });
 * if (data.resultType !== "vector") throw new Error("expected a vector");
 * const vector: VectorData = data;
 * assert.equal(vector.result.length, 1);
 * ```
 */
export type VectorData = Extract<QueryData, { resultType: "vector" }>;
/**
 * A matrix result.
 *
 * @example
 * ```ts
 * import { checkQueryData, type MatrixData, queryDataToFrame } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const data = checkQueryData({
 *   resultType: "matrix",
 *   result: [{ metric: { instance: "db-01:9100" }, values: [[1793534400, "95"], [1793534415, "NaN"]] }],
 * });
 * if (data.resultType !== "matrix") throw new Error("expected a matrix");
 * const matrix: MatrixData = data;
 * assert.equal(queryDataToFrame(matrix).height, 2); // one row per sample
 * ```
 */
export type MatrixData = Extract<QueryData, { resultType: "matrix" }>;
/**
 * A target.
 *
 * @example
 * ```ts
 * import { type ApiTarget, PrometheusClient } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const prom = new PrometheusClient({ url: Deno.env.get("PROMETHEUS_URL") ?? "http://localhost:9090" });
 * const [self]: ApiTarget[] = (await prom.targets()).activeTargets;
 * assert.equal(self.scrapePool, "prometheus");
 * ```
 */
export type ApiTarget = z.infer<typeof ApiTargetSchema>;
/**
 * The targets response.
 *
 * @example
 * ```ts
 * import { type ApiTargets, PrometheusClient } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const prom = new PrometheusClient({ url: Deno.env.get("PROMETHEUS_URL") ?? "http://localhost:9090" });
 * const targets: ApiTargets = await prom.targets({ state: "active" });
 * assert.equal(targets.activeTargets.length, 1); // the doc run's Prometheus scrapes itself
 * ```
 */
export type ApiTargets = z.infer<typeof ApiTargetsSchema>;
/**
 * An alert.
 *
 * @example
 * ```ts
 * import { type ApiAlert, PrometheusClient } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const prom = new PrometheusClient({ url: Deno.env.get("PROMETHEUS_URL") ?? "http://localhost:9090" });
 * const firing: ApiAlert[] = (await prom.alerts()).filter((a) => a.state === "firing");
 * assert.deepEqual(firing, []);
 * ```
 */
export type ApiAlert = z.infer<typeof ApiAlertSchema>;
/**
 * A rule.
 *
 * @example
 * ```ts
 * import { type ApiRule, PrometheusClient } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const prom = new PrometheusClient({ url: Deno.env.get("PROMETHEUS_URL") ?? "http://localhost:9090" });
 * const rules: ApiRule[] = (await prom.rules()).groups.flatMap((g) => g.rules);
 * assert.deepEqual(rules.map((r) => r.type), ["recording", "alerting"]);
 * ```
 */
export type ApiRule = z.infer<typeof ApiRuleSchema>;
/**
 * The rules response.
 *
 * @example
 * ```ts
 * import { type ApiRules, PrometheusClient } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const prom = new PrometheusClient({ url: Deno.env.get("PROMETHEUS_URL") ?? "http://localhost:9090" });
 * const rules: ApiRules = await prom.rules();
 * assert.deepEqual(rules.groups.map((g) => g.name), ["opsbook"]);
 * ```
 */
export type ApiRules = z.infer<typeof ApiRulesSchema>;
/**
 * Build information.
 *
 * @example
 * ```ts
 * import { type BuildInfo, PrometheusClient } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const prom = new PrometheusClient({ url: Deno.env.get("PROMETHEUS_URL") ?? "http://localhost:9090" });
 * const info: BuildInfo = await prom.buildInfo();
 * assert.ok(info.version?.startsWith("2."));
 * ```
 */
export type BuildInfo = z.infer<typeof BuildInfoSchema>;
