/**
 * The one reading of the Prometheus API's response envelope
 * (`{"status":"success","data":…,"warnings":…}` or
 * `{"status":"error","errorType":…,"error":…}`), shared by the client and the
 * body scanner's validated path, so both throw the same typed errors.
 *
 * @module
 */

import type { z } from "zod";
import {
  type OpsbookError,
  PrometheusError,
  ResponseError,
  SchemaError,
  type SchemaIssue,
} from "../errors.ts";
import { ErrorEnvelopeSchema, SuccessEnvelopeSchema } from "./schema.ts";

/** A success envelope: the unchecked `data`, and the notes that came with it. */
export interface Envelope {
  /** The `data` member, not yet checked. */
  data: unknown;
  /** `warnings` as lines. */
  warnings: string[];
  /** `infos` as lines. */
  infos: string[];
}

/** Where a body came from, for the errors it may turn into. */
export interface BodyContext {
  /** The HTTP status of the response. */
  status: number;
  /** The endpoint, redacted. */
  endpoint?: string;
  /** Removes the client's secrets from text quoted in errors. */
  redact?: (text: string) => string;
}

/** zod issues as {@linkcode SchemaIssue}s, under `prefix`. */
export function zodIssues(error: z.ZodError, prefix: (string | number)[] = []): SchemaIssue[] {
  return error.issues.map((issue) => ({
    path: [...prefix, ...issue.path.map((p) => typeof p === "symbol" ? String(p) : p)],
    message: issue.message,
  }));
}

/**
 * The typed error an error body describes: a {@linkcode PrometheusError} for
 * the API's error envelope, a {@linkcode ResponseError} for anything else.
 */
export function errorFromBody(body: unknown, context: BodyContext): OpsbookError {
  const { status, endpoint } = context;
  const redact = context.redact ?? ((text: string) => text);
  let json = body;
  if (typeof body === "string") {
    try {
      json = JSON.parse(body);
    } catch {
      return new ResponseError({ status, bodyStart: redact(body), endpoint });
    }
  }
  const parsed = ErrorEnvelopeSchema.safeParse(json);
  if (parsed.success) {
    return new PrometheusError({
      errorType: parsed.data.errorType,
      error: redact(parsed.data.error),
      status,
      endpoint,
      warnings: parsed.data.warnings,
    });
  }
  const text = body === undefined ? "" : typeof body === "string" ? body : JSON.stringify(body);
  return new ResponseError({
    status,
    bodyStart: redact(text),
    endpoint,
    reason: "Unexpected error response",
  });
}

/**
 * Parse a body into its success envelope, or throw the typed error it
 * describes: {@linkcode ResponseError} for a body that is not JSON,
 * {@linkcode PrometheusError} for the error envelope, {@linkcode SchemaError}
 * for any other shape. `data` is not checked here (the caller checks it, large
 * ones without zod); warnings and infos are read as the scanner reads them.
 */
export function parseEnvelope(text: string, context: BodyContext): Envelope {
  const redact = context.redact ?? ((t: string) => t);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ResponseError({
      status: context.status,
      bodyStart: redact(text),
      endpoint: context.endpoint,
    });
  }
  if (
    typeof json === "object" && json !== null && (json as { status?: unknown }).status === "error"
  ) {
    throw errorFromBody(json, context);
  }
  const parsed = SuccessEnvelopeSchema.safeParse(json);
  if (parsed.success && "data" in (json as object)) {
    return { data: parsed.data.data, warnings: parsed.data.warnings, infos: parsed.data.infos };
  }
  throw new SchemaError(
    parsed.success ? [{ path: ["data"], message: "Required" }] : zodIssues(parsed.error),
    { endpoint: context.endpoint },
  );
}
