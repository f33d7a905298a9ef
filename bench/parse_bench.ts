/**
 * Body → validated DataFrame for a range response of 1,000 series × 1,440
 * points (about 48 MB of JSON), against `JSON.parse` alone (the reference),
 * the naive `pl.readRecords` of row objects, and the npm `prometheus-query`
 * client. Prints medians, ratios to `JSON.parse` and peak RSS of each path
 * (each measured in its own process). Then, when Prometheus is installed, a
 * range needing four chunks fetched with concurrency 1 and 4.
 *
 * `deno run -A bench/parse_bench.ts [--runs=5] [--only=opsbook,naive,chunks,...]`
 *
 * @module
 */

import pl from "nodejs-polars";
import { PrometheusDriver, QueryResult } from "prometheus-query";
import { parseQueryBody } from "../lib/frame.ts";
import { PrometheusClient } from "../lib/prometheus.ts";
import { cpuUsageQuery } from "../lib/promql.ts";

const SERIES = 1000;
const POINTS = 1440;
const T0 = 1793491200;
const args = new Map(
  Deno.args.map((a) => a.replace(/^--/, "").split("=") as [string, string]),
);
const RUNS = Number(args.get("runs") ?? 5);

/** A deterministic synthetic query_range body. */
function syntheticBody(): string {
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
      const v = i % 997 === 0 ? "NaN" : (rand() * 100).toFixed(12);
      values.push(`[${T0 + i * 60},"${v}"]`);
    }
    parts.push(`{"metric":${JSON.stringify(metric)},"values":[${values.join(",")}]}`);
  }
  return `{"status":"success","data":{"resultType":"matrix","result":[${parts.join(",")}]}}`;
}

type Path = "json" | "opsbook" | "naive" | "prometheus-query" | "prometheus-query-http";

interface Row {
  [key: string]: string | number | Date;
}

async function runPath(path: Path, body: string): Promise<number> {
  switch (path) {
    case "json":
      return (JSON.parse(body) as { data: { result: unknown[] } }).data.result.length;
    case "opsbook":
      return parseQueryBody(body).frame.height;
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
      return pl.readRecords(rows).height;
    }
    case "prometheus-query": {
      const json = JSON.parse(body) as { data: object };
      return QueryResult.fromJSON(json.data).result.length;
    }
    case "prometheus-query-http": {
      await using server = Deno.serve(
        { hostname: "127.0.0.1", port: 0, onListen: () => {} },
        () => new Response(body, { headers: { "content-type": "application/json" } }),
      );
      const driver = new PrometheusDriver({ endpoint: `http://127.0.0.1:${server.addr.port}` });
      const result = await driver.rangeQuery("x", T0, T0 + 86400, 60);
      return result.result.length;
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

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** Child mode: run one path once and print its peak RSS. */
if (args.has("child")) {
  const body = syntheticBody();
  gc();
  const before = peakRssMb();
  await runPath(args.get("child") as Path, body);
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
    `median of ${RUNS} runs (naive: ${Math.min(RUNS, 3)})`,
);

// Same result from our path as from the naive one (a sanity check, not timed).
{
  const ours = parseQueryBody(body).frame;
  if (ours.height !== SERIES * POINTS) throw new Error(`Unexpected height ${ours.height}`);
}

const paths: [Path, string][] = [
  ["json", "JSON.parse alone (reference)"],
  ["opsbook", "opsbook parseQueryBody → DataFrame"],
  ["prometheus-query", "prometheus-query QueryResult.fromJSON (after JSON.parse)"],
  ["prometheus-query-http", "prometheus-query rangeQuery over loopback HTTP"],
  ["naive", "naive row objects → pl.readRecords"],
];
const medians = new Map<Path, number>();
const only = args.get("only")?.split(",");
for (const [path, label] of paths) {
  if (only !== undefined && path !== "json" && !only.includes(path)) continue;
  const times: number[] = [];
  const runs = path === "naive" ? Math.min(RUNS, 3) : RUNS;
  for (let i = 0; i < runs; i++) {
    gc();
    const t = performance.now();
    await runPath(path, body);
    times.push(performance.now() - t);
  }
  medians.set(path, median(times));
  const ratio = median(times) / medians.get("json")!;
  const mem = await peakOf(path);
  console.log(
    `  ${label.padEnd(58)} ${median(times).toFixed(0).padStart(6)} ms  ${
      ratio.toFixed(2).padStart(5)
    }× JSON.parse  peak RSS ${mem.after.toFixed(0)} MB (+${(mem.after - mem.before).toFixed(0)})`,
  );
}
const ratio = (medians.get("opsbook") ?? NaN) / medians.get("json")!;
console.log(
  `  target ≤ 1.50× JSON.parse: ${ratio <= 1.5 ? "met" : "NOT met"} (${ratio.toFixed(2)}×)`,
);

// Chunked range against the real Prometheus, when available.
let stack: typeof import("../scripts/stack.ts") | undefined;
try {
  stack = await import("../scripts/stack.ts");
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
  const { DATASET_END_MS, DATASET_START_MS } = await import("../scripts/dataset.ts");
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
