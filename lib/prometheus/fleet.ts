/**
 * `FleetClient`: several Prometheus servers queried as one fleet (commonly
 * one Prometheus per cloud or region). Every query goes to all of them
 * concurrently; answers are concatenated with a `source` label naming the
 * server; a server that fails is a warning naming it, and the answer keeps
 * the others (never silently partial).
 *
 * @module
 */

import pl from "nodejs-polars";
import type { Labels } from "../labels.ts";
import { EmptyResultError, FleetError, redactUrl } from "../errors.ts";
import type { BuildInfo, MatrixData, QueryData, VectorData } from "./schema.ts";
import {
  type EmptyResultAction,
  type FrameOptions,
  type MetadataOptions,
  PrometheusClient,
  type PrometheusClientOptions,
  type QueryOptions,
  type QueryRangeOptions,
  type QueryResult,
  type RangeResult,
  type WarningHandler,
} from "./client.ts";
import type { DataFrame } from "./frame.ts";
import { describeInstant, describeRange } from "./_when.ts";
import { parseHttpUrl } from "../_internal/url.ts";

/**
 * One or several Prometheus base URLs: a URL; a comma-separated list
 * (`http://a:9090,http://b:9090`); `name=url` pairs
 * (`aliyun=http://a:9090,azure=http://b:9090`); an array of URLs; or an
 * object mapping names to URLs.
 *
 * @example
 * ```ts
 * import { parsePrometheusUrls, type PrometheusUrls } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const urls: PrometheusUrls = { aliyun: "http://prom-a:9090", azure: "http://prom-b:9090" };
 * assert.deepEqual(parsePrometheusUrls(urls).map((m) => m.name), ["aliyun", "azure"]);
 * ```
 */
export type PrometheusUrls =
  | string
  | URL
  | readonly (string | URL)[]
  | Readonly<Record<string, string | URL>>;

/**
 * One server of a fleet: its name (the `source` label value) and its URL.
 *
 * @example
 * ```ts
 * import { type FleetMember, parsePrometheusUrls } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const members: FleetMember[] = parsePrometheusUrls("http://prom-a:9090,http://prom-b:9090");
 * assert.deepEqual(members[0], { name: "prom-a:9090", url: "http://prom-a:9090" });
 * ```
 */
export interface FleetMember {
  /** The name, e.g. `aliyun`; for a bare URL its `host:port`. */
  name: string;
  /** The base URL as given (may carry credentials; never shown unredacted). */
  url: string;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

function isHttpUrl(text: string): boolean {
  try {
    const u = new URL(text);
    return u.protocol === "http:" || u.protocol === "https:";
  } catch {
    return false;
  }
}

/**
 * Parse {@linkcode PrometheusUrls} into named members. Unnamed URLs are named
 * by their `host:port`; names must be unique.
 *
 * @example
 * ```ts
 * import { parsePrometheusUrls } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parsePrometheusUrls("aliyun=http://a:9090,azure=http://b:9090"), [
 *   { name: "aliyun", url: "http://a:9090" },
 *   { name: "azure", url: "http://b:9090" },
 * ]);
 * assert.deepEqual(parsePrometheusUrls(["http://a:9090", "http://b:9090"]).map((m) => m.name), [
 *   "a:9090",
 *   "b:9090",
 * ]);
 * ```
 */
export function parsePrometheusUrls(urls: PrometheusUrls): FleetMember[] {
  return parseMembers(urls).map(({ name, url }) => ({ name, url }));
}

function parseMembers(urls: PrometheusUrls): (FleetMember & { named: boolean })[] {
  let entries: [string | undefined, string][];
  if (urls instanceof URL) entries = [[undefined, urls.href]];
  else if (typeof urls === "string") {
    entries = urls.split(",").map((part) => part.trim()).filter((p) => p !== "").map((part) => {
      const eq = part.indexOf("=");
      // `name=http://…`: the `=` comes before any `://`.
      const scheme = part.indexOf("://");
      return eq > 0 && (scheme === -1 || eq < scheme)
        ? [part.slice(0, eq).trim(), part.slice(eq + 1).trim()]
        : [undefined, part];
    });
    // One URL whose password holds a raw ",": the pieces are not URLs, the whole is.
    if (entries.length > 1 && !entries.every(([, u]) => isHttpUrl(u)) && isHttpUrl(urls.trim())) {
      entries = [[undefined, urls.trim()]];
    }
  } else if (Array.isArray(urls)) {
    entries = urls.map((u) => [undefined, String(u)]);
  } else if (typeof urls === "object" && urls !== null) {
    entries = Object.entries(urls).map(([name, u]) => [name, String(u)]);
  } else {
    throw new TypeError(
      `Invalid prometheus_url: expected a URL, a list of URLs or name=url pairs, got ${typeof urls}`,
    );
  }
  if (entries.length === 0) {
    throw new TypeError(
      "Invalid prometheus_url: expected a URL, a list of URLs or name=url pairs, got nothing",
    );
  }
  const members = entries.map(([name, url]) => {
    const parsed = parseHttpUrl(url);
    if (parsed === undefined) {
      throw new TypeError(
        `Invalid prometheus_url: expected an absolute http(s) URL${
          name === undefined ? "" : ` for "${name}"`
        }, got "${redactUrl(url)}"${
          url.includes("://")
            ? ""
            : ` (did you mean http://${
              redactUrl(url)
            }? several servers: name=url pairs separated by commas)`
        }`,
      );
    }
    if (name !== undefined && !NAME.test(name)) {
      throw new TypeError(
        `Invalid prometheus_url: the name "${name}" must start with a letter or _ and hold only ` +
          "letters, digits, _, . and -",
      );
    }
    return { name: name ?? parsed.host, url, named: name !== undefined };
  });
  const seen = new Set<string>();
  for (const m of members) {
    if (seen.has(m.name)) {
      throw new TypeError(
        `Invalid prometheus_url: the name "${m.name}" appears twice; name each server (name=url)`,
      );
    }
    seen.add(m.name);
  }
  return members;
}

/**
 * Options of {@linkcode FleetClient}: the client options, with several URLs.
 *
 * @example
 * ```ts
 * import { FleetClient, type FleetClientOptions } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const url = Deno.env.get("PROMETHEUS_URL") ?? "http://localhost:9090";
 * const options: FleetClientOptions = {
 *   url: `east=${url},west=${url}`, // e.g. "aliyun=http://prom-a:9090,azure=http://prom-b:9090"
 *   sourceLabel: "server",
 *   timeoutMs: 10_000,
 * };
 * const frame = await new FleetClient(options).queryFrame('up{instance="ali-hz-db-01:9100"}', {
 *   time: "2026-11-01T12:00:00Z",
 * });
 * assert.deepEqual(frame.getColumn("server").toArray(), ["east", "west"]);
 * ```
 */
export interface FleetClientOptions extends Omit<PrometheusClientOptions, "url"> {
  /** The servers, see {@linkcode PrometheusUrls}. */
  url: PrometheusUrls;
  /** The label naming each answer's server. @default {"source"} */
  sourceLabel?: string;
}

type Settled<T> = { name: string; value: T } | { name: string; error: Error };

/**
 * Several Prometheus servers as one: the same `query`, `queryRange`,
 * `queryFrame` and `queryRangeFrame` surface as {@linkcode PrometheusClient},
 * each query sent to every server concurrently, series labelled
 * `source="<name>"`. A failing server becomes a warning
 * (`Prometheus "b" failed, the answer holds only a: <error>`) in
 * `warnings` or through `onWarning`; only when every server fails does the
 * call throw ({@linkcode FleetError}).
 *
 * @example Two servers as one fleet
 * ```ts
 * import { FleetClient } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const url = Deno.env.get("PROMETHEUS_URL") ?? "http://localhost:9090";
 * // Two members, here the same server twice, e.g. "aliyun=http://prom-a:9090,azure=…"
 * const fleet = new FleetClient({ url: `east=${url},west=${url}` });
 * const frame = await fleet.queryFrame('up{job="node"}', { time: "2026-11-01T12:00:00Z" });
 * assert.deepEqual(frame.getColumn("source").unique().sort().toArray(), ["east", "west"]);
 * assert.equal(frame.height, 24); // 12 hosts from each member
 * ```
 */
export class FleetClient {
  #members: { name: string; client: PrometheusClient }[];
  #sourceLabel: string;
  #onWarning: WarningHandler;
  #onEmpty: EmptyResultAction;

  /** Create one client per server; options other than `url` apply to each. */
  constructor(options: FleetClientOptions) {
    const { url, sourceLabel, onWarning, onEmpty, ...rest } = options;
    this.#sourceLabel = sourceLabel ?? "source";
    if (!NAME.test(this.#sourceLabel) || this.#sourceLabel.includes("-")) {
      throw new TypeError(`Invalid sourceLabel: "${this.#sourceLabel}" is not a label name`);
    }
    this.#onWarning = onWarning ??
      ((message, kind) => console.error(`Prometheus ${kind}: ${message}`));
    this.#onEmpty = onEmpty ?? "warn";
    this.#members = parsePrometheusUrls(url).map((m) => ({
      name: m.name,
      client: new PrometheusClient({ ...rest, url: m.url, onEmpty: "ignore" }),
    }));
  }

  /** `name=url` of every server, credentials redacted. */
  get url(): string {
    return this.#members.map((m) => `${m.name}=${m.client.url}`).join(",");
  }

  /** Each server's base URL, credentials redacted, in order. */
  get urls(): string[] {
    return this.#members.map((m) => m.client.url);
  }

  /** The servers' names, in order. */
  get names(): string[] {
    return this.#members.map((m) => m.name);
  }

  async #all<T>(call: (client: PrometheusClient, name: string) => Promise<T>): Promise<{
    ok: { name: string; value: T }[];
    failed: { name: string; error: Error }[];
  }> {
    const settled: Settled<T>[] = await Promise.all(this.#members.map(async (m) => {
      try {
        return { name: m.name, value: await call(m.client, m.name) };
      } catch (error) {
        return { name: m.name, error: error instanceof Error ? error : new Error(String(error)) };
      }
    }));
    const ok = settled.filter((s): s is { name: string; value: T } => "value" in s);
    const failed = settled.filter((s): s is { name: string; error: Error } => "error" in s);
    if (ok.length === 0) {
      const aborted = failed.find((f) => f.error.name === "AbortError");
      if (aborted !== undefined) throw aborted.error;
      throw new FleetError(Object.fromEntries(failed.map((f) => [f.name, f.error])));
    }
    return { ok, failed };
  }

  #failures(ok: { name: string }[], failed: { name: string; error: Error }[]): string[] {
    const kept = ok.map((o) => o.name).join(", ");
    return failed.map((f) =>
      `Prometheus "${f.name}" failed, the answer holds only ${kept}: ${f.error.message}`
    );
  }

  #label(metric: Labels, name: string): Labels {
    return { ...metric, [this.#sourceLabel]: name };
  }

  /**
   * Evaluate an instant query on every server; vectors and matrices are
   * concatenated, each series labelled with its server. A scalar or string
   * answer is the first server's.
   *
   * @example
   * ```ts
   * import { FleetClient } from "opsbook";
   * import assert from "node:assert/strict";
   *
   * const url = Deno.env.get("PROMETHEUS_URL") ?? "http://localhost:9090";
   * // The second member does not answer: the result is partial and says so.
   * const fleet = new FleetClient({ url: [url, "http://127.0.0.1:9"] });
   * const result = await fleet.query("count(up)", { time: "2026-11-01T12:00:00Z" });
   * assert.equal(result.warnings.length, 1);
   * assert.match(result.warnings[0], /^Prometheus "127\.0\.0\.1:9" failed, the answer holds only /);
   * ```
   */
  async query(promql: string, options: QueryOptions = {}): Promise<QueryResult> {
    const { ok, failed } = await this.#all((c) => c.query(promql, options));
    const warnings = this.#failures(ok, failed);
    const infos: string[] = [];
    for (const o of ok) {
      for (const w of o.value.warnings) warnings.push(`${o.name}: ${w}`);
      for (const i of o.value.infos) infos.push(`${o.name}: ${i}`);
    }
    const first = ok[0].value;
    let data: QueryData;
    if (first.resultType === "vector") {
      data = {
        resultType: "vector",
        result: ok.flatMap((o) =>
          (o.value as VectorData).result.map((s) => ({
            ...s,
            metric: this.#label(s.metric, o.name),
          }))
        ),
      } as VectorData;
    } else if (first.resultType === "matrix") {
      data = this.#concatMatrices(ok.map((o) => ({ name: o.name, data: o.value as MatrixData })));
    } else {
      data = { resultType: first.resultType, result: first.result } as QueryData;
    }
    return { ...data, warnings, infos } as QueryResult;
  }

  #concatMatrices(parts: { name: string; data: MatrixData }[]): MatrixData {
    return {
      resultType: "matrix",
      result: parts.flatMap((p) =>
        p.data.result.map((s) => ({ ...s, metric: this.#label(s.metric, p.name) }))
      ),
    };
  }

  /**
   * Evaluate a range query on every server (each split into chunks as
   * {@linkcode PrometheusClient.prototype.queryRange} does).
   *
   * @example
   * ```ts
   * import { FleetClient } from "opsbook";
   * import assert from "node:assert/strict";
   *
   * const url = Deno.env.get("PROMETHEUS_URL") ?? "http://localhost:9090";
   * const fleet = new FleetClient({ url: { east: url, west: url } });
   * const range = await fleet.queryRange("count(up)", {
   *   start: "2026-11-01T00:00:00Z",
   *   end: "2026-11-01T01:00:00Z",
   *   step: "1m",
   * });
   * assert.deepEqual(range.result.map((s) => s.metric.source), ["east", "west"]);
   * ```
   */
  async queryRange(promql: string, options: QueryRangeOptions): Promise<RangeResult> {
    const { ok, failed } = await this.#all((c) => c.queryRange(promql, options));
    const warnings = this.#failures(ok, failed);
    const infos: string[] = [];
    for (const o of ok) {
      for (const w of o.value.warnings) warnings.push(`${o.name}: ${w}`);
      for (const i of o.value.infos) infos.push(`${o.name}: ${i}`);
    }
    const merged = this.#concatMatrices(ok.map((o) => ({ name: o.name, data: o.value })));
    return {
      ...merged,
      warnings,
      infos,
      chunks: Math.max(...ok.map((o) => o.value.chunks)),
    };
  }

  async #frames(
    options: FrameOptions,
    when: string,
    promql: string,
    call: (client: PrometheusClient, onWarning: WarningHandler) => Promise<DataFrame>,
  ): Promise<DataFrame> {
    const handler = options.onWarning ?? this.#onWarning;
    const { ok, failed } = await this.#all((client, name) =>
      call(client, (message, kind) => handler(`${name}: ${message}`, kind))
    );
    for (const w of this.#failures(ok, failed)) handler(w, "warning");
    const frame = this.#concatFrames(ok);
    if (frame.height === 0) {
      const action = options.onEmpty ?? this.#onEmpty;
      if (action === "error") throw new EmptyResultError(promql, { when });
      if (action === "warn") handler(`query returned no series: ${promql} ${when}`, "warning");
    }
    return frame;
  }

  /** Concatenate frames with the source column; labels sorted, then timestamp and value. */
  #concatFrames(parts: { name: string; value: DataFrame }[]): DataFrame {
    const labelled = parts.map((p) =>
      p.value.withColumn(pl.lit(p.name).cast(pl.Utf8).alias(this.#sourceLabel))
    );
    const all = labelled.length === 1 ? labelled[0] : pl.concat(labelled, { how: "diagonal" });
    const labels = all.columns.filter((c) => c !== "timestamp" && c !== "value").sort();
    return all.select(...labels, "timestamp", "value");
  }

  /**
   * Evaluate an instant query on every server into one DataFrame with a
   * `source` column. Warnings (each server's, and one per failing server)
   * go to `onWarning`.
   *
   * @example
   * ```ts
   * import { FleetClient } from "opsbook";
   * import assert from "node:assert/strict";
   *
   * const url = Deno.env.get("PROMETHEUS_URL") ?? "http://localhost:9090";
   * // Two members, here the same server twice, e.g. "aliyun=http://prom-a:9090,azure=…"
   * const fleet = new FleetClient({ url: `east=${url},west=${url}` });
   * const frame = await fleet.queryFrame('up{instance="ali-hz-db-01:9100"}', {
   *   time: "2026-11-01T12:00:00Z",
   * });
   * assert.deepEqual(frame.getColumn("source").toArray(), ["east", "west"]);
   * ```
   */
  queryFrame(promql: string, options: QueryOptions & FrameOptions = {}): Promise<DataFrame> {
    return this.#frames(
      options,
      describeInstant(options.time),
      promql,
      (c, onWarning) => c.queryFrame(promql, { ...options, onWarning, onEmpty: "ignore" }),
    );
  }

  /**
   * Evaluate a range query on every server into one long DataFrame with a
   * `source` column.
   *
   * @example
   * ```ts
   * import { FleetClient } from "opsbook";
   * import assert from "node:assert/strict";
   *
   * const url = Deno.env.get("PROMETHEUS_URL") ?? "http://localhost:9090";
   * // Two members, here the same server twice, e.g. "aliyun=http://prom-a:9090,azure=…"
   * const fleet = new FleetClient({ url: `east=${url},west=${url}` });
   * const frame = await fleet.queryRangeFrame('up{instance="ali-hz-db-01:9100"}', {
   *   start: "2026-11-01T00:00:00Z",
   *   end: "2026-11-01T01:00:00Z",
   *   step: "1m",
   * });
   * assert.equal(frame.height, 2 * 61); // 61 steps from each member
   * ```
   */
  queryRangeFrame(promql: string, options: QueryRangeOptions & FrameOptions): Promise<DataFrame> {
    return this.#frames(
      options,
      describeRange(options),
      promql,
      (c, onWarning) => c.queryRangeFrame(promql, { ...options, onWarning, onEmpty: "ignore" }),
    );
  }

  /**
   * Label values across the servers (a sorted union; failing servers are
   * left out and reported through the client's `onWarning`).
   *
   * @example
   * ```ts
   * import { FleetClient } from "opsbook";
   * import assert from "node:assert/strict";
   *
   * const url = Deno.env.get("PROMETHEUS_URL") ?? "http://localhost:9090";
   * // Two members, here the same server twice, e.g. "aliyun=http://prom-a:9090,azure=…"
   * const fleet = new FleetClient({ url: `east=${url},west=${url}` });
   * const clouds = await fleet.labelValues("cloud", {
   *   start: "2026-11-01T00:00:00Z",
   *   end: "2026-11-02T00:00:00Z",
   * });
   * assert.deepEqual(clouds, ["aliyun", "azure", "tencent"]); // merged, sorted, once each
   * ```
   */
  async labelValues(name: string, options: MetadataOptions = {}): Promise<string[]> {
    const { ok, failed } = await this.#all((c) => c.labelValues(name, options));
    for (const w of this.#failures(ok, failed)) this.#onWarning(w, "warning");
    return [...new Set(ok.flatMap((o) => o.value))].sort();
  }

  /**
   * Build information of the servers as one: `version` lists each server's
   * (`a 2.53.3, b 2.45.0`), the other fields are the first answering
   * server's.
   *
   * @example
   * ```ts
   * import { FleetClient } from "opsbook";
   * import assert from "node:assert/strict";
   *
   * const url = Deno.env.get("PROMETHEUS_URL") ?? "http://localhost:9090";
   * // Two members, here the same server twice, e.g. "aliyun=http://prom-a:9090,azure=…"
   * const fleet = new FleetClient({ url: `east=${url},west=${url}` });
   * const { version } = await fleet.buildInfo();
   * assert.match(version ?? "", /^east 2\.\S+, west 2\.\S+$/);
   * ```
   */
  async buildInfo(): Promise<BuildInfo> {
    const { ok, failed } = await this.#all((c) => c.buildInfo());
    for (const w of this.#failures(ok, failed)) this.#onWarning(w, "warning");
    return {
      ...ok[0].value,
      version: ok.map((o) => `${o.name} ${o.value.version}`).join(", "),
    };
  }
}

/**
 * A single client or a fleet: what {@linkcode createPrometheusClient} returns.
 *
 * @example Code that takes one server or a fleet
 * ```ts
 * import { type AnyPrometheusClient, createPrometheusClient } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * async function hosts(prom: AnyPrometheusClient): Promise<number> {
 *   return (await prom.queryFrame('up{job="node"}', { time: "2026-11-01T12:00:00Z" })).height;
 * }
 * const url = Deno.env.get("PROMETHEUS_URL") ?? "http://localhost:9090";
 * assert.equal(await hosts(createPrometheusClient({ url })), 12);
 * ```
 */
export type AnyPrometheusClient = PrometheusClient | FleetClient;

/**
 * A {@linkcode PrometheusClient} for one unnamed URL, a
 * {@linkcode FleetClient} for several (or for named ones): what notebooks and
 * the monitor use, so `prometheus_url` / `PROMETHEUS_URL` may name a whole
 * fleet (`aliyun=http://a:9090,azure=http://b:9090`).
 *
 * @example
 * ```ts
 * import { createPrometheusClient, FleetClient, PrometheusClient } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * assert.ok(createPrometheusClient({ url: "http://localhost:9090" }) instanceof PrometheusClient);
 * const fleet = createPrometheusClient({ url: "a=http://prom-a:9090,b=http://prom-b:9090" });
 * assert.ok(fleet instanceof FleetClient);
 * assert.equal(fleet.url, "a=http://prom-a:9090/,b=http://prom-b:9090/");
 * ```
 */
export function createPrometheusClient(options: FleetClientOptions): AnyPrometheusClient {
  const members = parseMembers(options.url);
  if (members.length === 1 && !members[0].named) {
    const { sourceLabel: _, url: __, ...rest } = options;
    return new PrometheusClient({ ...rest, url: members[0].url });
  }
  return new FleetClient(options);
}
