/**
 * Body → validated DataFrame for a range response of 1,000 series × 1,440
 * points (about 45 MB of JSON), against `JSON.parse` alone (the reference),
 * the naive `pl.readRecords` of row objects, and the npm `prometheus-query`
 * client; and the same body with values written with up to 17 significant
 * digits (Go's shortest form, as Prometheus writes computed values), against
 * `JSON.parse` of that body. Prints medians, ratios to `JSON.parse` and peak RSS of each path
 * (each measured in its own process). Then, when Prometheus is installed, a
 * range needing four chunks fetched with concurrency 1 and 4.
 *
 * How the comparison is kept fair:
 * - the body is a flat string decoded from bytes, as `Response.text()` gives;
 * - rounds are interleaved (json, opsbook, json, opsbook, ...), so a busy
 *   neighbour on a shared machine slows every path alike;
 * - before every timed call the same `settle()` runs: `gc()`, a macrotask turn
 *   (so polars' native finalizers free the previous frame), `gc()` again;
 *   every path then starts from the same, steady state and its result is
 *   released after the clock stops;
 * - the ratio printed is median(path) / median(JSON.parse), and the median of
 *   the per-round ratios is printed beside it, as is the ratio of the median
 *   CPU times (user + system of the process, all threads), which a busy
 *   neighbour on a shared machine disturbs less than wall time.
 *
 * `deno run -A --v8-flags=--expose-gc bench/parse_bench.ts [--runs=7]
 * [--only=opsbook,long,naive,prometheus-query,prometheus-query-http,chunks] [--verbose]`
 *
 * @module
 */

import process from "node:process";
import pl from "nodejs-polars";
import { PrometheusDriver, QueryResult } from "prometheus-query";
import { parseQueryBody } from "../lib/prometheus/_scan.ts";
import { PrometheusClient } from "../lib/prometheus/client.ts";
import { cpuUsageQuery } from "../lib/prometheus/promql.ts";

const SERIES = 1000;
const POINTS = 1440;
const T0 = 1793491200;
const args = new Map(
  Deno.args.map((a) => a.replace(/^--/, "").split("=") as [string, string]),
);
const RUNS = Number(args.get("runs") ?? 7);

/**
 * A deterministic synthetic query_range body. `long`: values in Go's shortest
 * form of a random double (up to 17 significant digits, as Prometheus writes
 * them), which the scanner cannot convert with its exact fast path.
 */
function syntheticBody(long = false): string {
  const clouds = ["aliyun", "tencent", "azure"];
  const parts: string[] = [];
  let seed = 12345;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let s = 0; s < SERIES; s++) {
    const metric = {
      __name__: "node_cpu_usage",
      cloud: clouds[s % 3],
      instance: `host-${String(s).padStart(4, "0")}:9100`,
      job: "node",
      region: `region-${s % 7}`,
    };
    const values: string[] = [];
    for (let i = 0; i < POINTS; i++) {
      const v = i % 997 === 0
        ? "NaN"
        : long
        ? String((rand() * 100) / 3)
        : (rand() * 100).toFixed(12);
      values.push(`[${T0 + i * 60},"${v}"]`);
    }
    parts.push(`{"metric":${JSON.stringify(metric)},"values":[${values.join(",")}]}`);
  }
  const text = `{"status":"success","data":{"resultType":"matrix","result":[${parts.join(",")}]}}`;
  // A flat string decoded from bytes, like Response.text() returns.
  return new TextDecoder().decode(new TextEncoder().encode(text));
}

type Path =
  | "json"
  | "opsbook"
  | "json-long"
  | "long"
  | "naive"
  | "prometheus-query"
  | "prometheus-query-http";

interface Row {
  [key: string]: string | number | Date;
}

let longBody: string | undefined;

async function runPath(path: Path, body: string): Promise<unknown> {
  switch (path) {
    case "json":
      return JSON.parse(body);
    case "opsbook":
      return parseQueryBody(body).frame;
    case "json-long":
      return JSON.parse(longBody ??= syntheticBody(true));
    case "long":
      return parseQueryBody(longBody ??= syntheticBody(true)).frame;
    case "naive": {
      const json = JSON.parse(body) as {
        data: { result: { metric: Record<string, string>; values: [number, string][] }[] };
      };
      const rows: Row[] = [];
      for (const s of json.data.result) {
        for (const [t, v] of s.values) {
          rows.push({ ...s.metric, timestamp: new Date(t * 1000), value: parseFloat(v) });
        }
      }
      return pl.readRecords(rows);
    }
    case "prometheus-query": {
      const json = JSON.parse(body) as { data: object };
      return QueryResult.fromJSON(json.data);
    }
    case "prometheus-query-http": {
      await using server = Deno.serve(
        { hostname: "127.0.0.1", port: 0, onListen: () => {} },
        () => new Response(body, { headers: { "content-type": "application/json" } }),
      );
      const driver = new PrometheusDriver({ endpoint: `http://127.0.0.1:${server.addr.port}` });
      return await driver.rangeQuery("x", T0, T0 + 86400, 60);
    }
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function peakRssMb(): number {
  const status = Deno.readTextFileSync("/proc/self/status");
  const m = /VmHWM:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) / 1024 : Deno.memoryUsage().rss / 2 ** 20;
}

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  console.error("parse_bench: run with --v8-flags=--expose-gc for comparable figures");
}

/** The same starting state before every timed call: collected heap, native memory released. */
async function settle(): Promise<void> {
  gc?.();
  await new Promise((resolve) => setTimeout(resolve, 0));
  gc?.();
  await new Promise((resolve) => setTimeout(resolve, 0));
}

function cpuMs(): number {
  const usage = process.resourceUsage();
  return (usage.userCPUTime + usage.systemCPUTime) / 1000;
}

/**
 * Time one call of a path after settle(): wall time, and the process' CPU time
 * (user + system, all threads), which a busy neighbour disturbs less. The
 * result is dropped after the clock stops.
 */
async function timeOnce(path: Path, body: string): Promise<{ wall: number; cpu: number }> {
  await settle();
  const cpu = cpuMs();
  const t = performance.now();
  const result = await runPath(path, body);
  const wall = performance.now() - t;
  const used = cpuMs() - cpu;
  if (result === undefined) throw new Error(`No result from ${path}`);
  return { wall, cpu: used };
}

/** Child mode: run one path once; print its RSS before and the process' peak RSS (VmHWM). */
if (args.has("child")) {
  const path = args.get("child") as Path;
  const body = syntheticBody();
  if (path === "long" || path === "json-long") longBody = syntheticBody(true);
  await settle();
  const before = Deno.memoryUsage().rss / 2 ** 20;
  await runPath(path, body);
  console.log(JSON.stringify({ before, after: peakRssMb() }));
  Deno.exit(0);
}

async function peakOf(path: Path): Promise<{ before: number; after: number }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--v8-flags=--expose-gc",
      new URL(import.meta.url).pathname,
      `--child=${path}`,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  return JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").pop()!);
}

const body = syntheticBody();
console.log(
  `parse: ${SERIES} series × ${POINTS} points, ${(body.length / 1e6).toFixed(1)} MB JSON, ` +
    `median of ${RUNS} interleaved runs (naive: ${Math.min(RUNS, 3)}), each after gc + a ` +
    `macrotask turn + gc`,
);

// Our frame equals the validated path's frame (a sanity check, not timed).
{
  const ours = parseQueryBody(body).frame;
  if (ours.height !== SERIES * POINTS) throw new Error(`Unexpected height ${ours.height}`);
}

const paths: [Path, string][] = [
  ["json", "JSON.parse alone (reference)"],
  ["opsbook", "opsbook parseQueryBody → DataFrame"],
  ["json-long", "JSON.parse alone, values with up to 17 digits (reference)"],
  ["long", "opsbook parseQueryBody, values with up to 17 digits"],
  ["prometheus-query", "prometheus-query QueryResult.fromJSON (after JSON.parse)"],
  ["prometheus-query-http", "prometheus-query rangeQuery over loopback HTTP"],
  ["naive", "naive row objects → pl.readRecords"],
];
const only = args.get("only")?.split(",");
const selected = paths.filter(([path]) =>
  path === "json" || only === undefined || only.includes(path) ||
  (path === "json-long" && only.includes("long"))
);
const times = new Map<Path, number[]>(selected.map(([path]) => [path, []]));
const cpus = new Map<Path, number[]>(selected.map(([path]) => [path, []]));
// Interleaved rounds: every path once per round (naive only in its first rounds).
await runPath("json", body); // warm-up of the JIT for both main paths
await runPath("opsbook", body);
for (let round = 0; round < RUNS; round++) {
  for (const [path] of selected) {
    if (path === "naive" && round >= 3) continue;
    const { wall, cpu } = await timeOnce(path, body);
    times.get(path)!.push(wall);
    cpus.get(path)!.push(cpu);
  }
}
for (const [path, label] of selected) {
  // The long-values body is compared with JSON.parse of that same body.
  const ref = path === "long" || path === "json-long" ? "json-long" : "json";
  const reference = median(times.get(ref)!);
  const ts = times.get(path)!;
  const m = median(ts);
  const perRound = ts.map((t, i) => t / times.get(ref)![i]);
  const cpu = median(cpus.get(path)!);
  const cpuRatio = cpu / median(cpus.get(ref)!);
  const mem = await peakOf(path);
  console.log(
    `  ${label.padEnd(58)} ${m.toFixed(0).padStart(6)} ms  ${
      (m / reference).toFixed(2).padStart(5)
    }× ` +
      `JSON.parse (per-round median ${median(perRound).toFixed(2)}×, ` +
      `range ${Math.min(...ts).toFixed(0)}–${Math.max(...ts).toFixed(0)} ms; ` +
      `CPU ${cpu.toFixed(0)} ms, ${cpuRatio.toFixed(2)}×)  ` +
      `peak RSS ${mem.after.toFixed(0)} MB (${
        (mem.after - mem.before).toFixed(0)
      } over the RSS before)`,
  );
  if (args.has("verbose")) console.log(`    runs: ${ts.map((t) => t.toFixed(0)).join(" ")}`);
}
if (times.has("opsbook")) {
  const ratio = median(times.get("opsbook")!) / median(times.get("json")!);
  console.log(
    `  target ≤ 1.50× JSON.parse: ${ratio <= 1.5 ? "met" : "NOT met"} (${ratio.toFixed(2)}×; ` +
      `stretch < 1.00×: ${ratio < 1 ? "met" : "not met"})`,
  );
}

// Chunked range against the real Prometheus, when available.
let stack: typeof import("../dev/stack.ts") | undefined;
try {
  stack = await import("../dev/stack.ts");
} catch {
  stack = undefined;
}
if (only !== undefined && !only.includes("chunks")) {
  console.log("chunks: skipped (--only)");
} else if (
  stack === undefined || stack.which("prometheus") === null || stack.which("promtool") === null
) {
  console.log("chunks: skipped (prometheus/promtool not installed)");
} else {
  const { DATASET_END_MS, DATASET_START_MS } = await import("../dev/dataset.ts");
  await using prom = await stack.startPrometheus();
  const query = cpuUsageQuery();
  const range = {
    start: DATASET_START_MS / 1000,
    end: DATASET_END_MS / 1000,
    step: "5s",
    maxPointsPerSeries: 4500,
  };
  const result: Record<number, number> = {};
  let chunks = 0;
  for (const concurrency of [1, 4]) {
    const client = new PrometheusClient({ url: prom.url, concurrency, timeoutMs: 120_000 });
    await client.queryRange(query, range); // warm-up
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t = performance.now();
      chunks = (await client.queryRange(query, range)).chunks;
      times.push(performance.now() - t);
    }
    result[concurrency] = median(times);
  }
  console.log(
    `chunks: 24 h at 5 s of the CPU query (12 hosts) in ${chunks} chunks: concurrency 1 ` +
      `${result[1].toFixed(0)} ms, concurrency 4 ${result[4].toFixed(0)} ms ` +
      `(${(result[1] / result[4]).toFixed(2)}× faster; ${navigator.hardwareConcurrency} CPUs)`,
  );
}
