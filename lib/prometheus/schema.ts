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

/** A sample pair. */
export type SamplePair = z.infer<typeof SamplePairSchema>;
/** A native histogram. */
export type NativeHistogram = z.infer<typeof NativeHistogramSchema>;
/**
 * A label set.
 *
 * @deprecated Use {@linkcode Labels}, the one label type (the same
 * `Record<string, string>`); this alias goes in the next minor version.
 */
export type LabelSet = Labels;
/** One element of a vector. */
export type VectorSample = z.infer<typeof VectorSampleSchema>;
/** One series of a matrix. */
export type MatrixSeries = z.infer<typeof MatrixSeriesSchema>;
/** A query result: vector, matrix, scalar or string. */
export type QueryData = z.infer<typeof QueryDataSchema>;
/** A vector result. */
export type VectorData = Extract<QueryData, { resultType: "vector" }>;
/** A matrix result. */
export type MatrixData = Extract<QueryData, { resultType: "matrix" }>;
/** A target. */
export type ApiTarget = z.infer<typeof ApiTargetSchema>;
/** The targets response. */
export type ApiTargets = z.infer<typeof ApiTargetsSchema>;
/** An alert. */
export type ApiAlert = z.infer<typeof ApiAlertSchema>;
/** A rule. */
export type ApiRule = z.infer<typeof ApiRuleSchema>;
/** The rules response. */
export type ApiRules = z.infer<typeof ApiRulesSchema>;
/** Build information. */
export type BuildInfo = z.infer<typeof BuildInfoSchema>;
