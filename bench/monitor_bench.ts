/**
 * One monitor evaluation of the shipped `rules/node.yml` over 10,000 hosts.
 * A VictoriaMetrics (from the stack, its cache disabled) is loaded with
 * 10,000 synthetic node_exporter hosts: `node_cpu_seconds_total` idle and
 * iowait (10 minutes of 15 s samples, 5 % of hosts above 80 % CPU), memory,
 * `up` and `node_uname_info` (the last minute). The monitor runs
 * `runEvaluation()` against it with a dry-run sink: the host query, the 8
 * rules (instant queries, the trend detector's 6 h range query, presence
 * checks of the rules whose selectors match nothing), the state machine, the
 * alert state and the outbox.
 *
 * Reference, measured in the same run: the bare HTTP round trips (`fetch` +
 * body read) of exactly the queries that evaluation sent, recorded from the
 * client. The difference is the time spent in the monitor apart from
 * Prometheus (parse, frames, detectors, state machine, state, outbox); the
 * report prints it as a share of the evaluation. Also RSS and heap.
 *
 * `BENCH_QUICK=1` (`deno task bench --quick monitor`): 2,000 hosts, 3 runs.
 *
 * Run: deno run -A --v8-flags=--expose-gc bench/monitor_bench.ts
 */
import {
  DryRunSink,
  loadConfig,
  Logger,
  Monitor,
  PrometheusClient,
  type QueryOptions,
  type QueryRangeOptions,
  type QueryResult,
  type RangeResult,
} from "../lib/mod.ts";
import { cpuUsage } from "node:process";
import { missingBinaries, startVictoriaMetrics } from "../dev/stack.ts";

const QUICK = Deno.env.get("BENCH_QUICK") === "1";
const HOSTS = QUICK ? 2_000 : 10_000;
const HOT = HOSTS / 20;
const RUNS = QUICK ? 3 : 7;
const STEP_S = 15;
const T = Math.floor(Date.now() / 60_000) * 60 - 3600; // evaluation time: an hour ago
const SAMPLES = 41; // 10 minutes before T
const RECENT = 5; // the last minute, for the gauges

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;
/** CPU time of this process (user + system) in ms. */
const cpuMs = () => {
  const u = cpuUsage();
  return (u.user + u.system) / 1000;
};
const seconds = (t: unknown): string =>
  String(
    t instanceof Date ? t.getTime() / 1000 : typeof t === "string" ? Date.parse(t) / 1000 : t,
  );

/** A client that records the queries it sends, as the form bodies of the bare HTTP calls. */
class RecordingClient extends PrometheusClient {
  recording = false;
  sent: { path: string; body: URLSearchParams }[] = [];

  override query(promql: string, options: QueryOptions = {}): Promise<QueryResult> {
    if (this.recording) {
      const body = new URLSearchParams({ query: promql });
      if (options.time !== undefined) body.set("time", seconds(options.time));
      this.sent.push({ path: "/api/v1/query", body });
    }
    return super.query(promql, options);
  }

  override queryRange(promql: string, options: QueryRangeOptions): Promise<RangeResult> {
    if (this.recording) {
      this.sent.push({
        path: "/api/v1/query_range",
        body: new URLSearchParams({
          query: promql,
          start: seconds(options.start),
          end: seconds(options.end),
          step: String(options.step),
        }),
      });
    }
    return super.queryRange(promql, options);
  }
}

if (missingBinaries(["victoria-metrics"]) !== null) Deno.exit(0);

console.log(`loading ${HOSTS} hosts (node_exporter series) into VictoriaMetrics ...`);
await using vm = await startVictoriaMetrics({ dataset: false });
{
  // Prometheus exposition lines with timestamps (ms), sent 1,000 hosts at a time.
  const ts = (i: number, n: number) => (T - (n - 1 - i) * STEP_S) * 1000;
  for (let from = 0; from < HOSTS; from += 1000) {
    const lines: string[] = [];
    for (let h = from; h < Math.min(HOSTS, from + 1000); h++) {
      const usage = h < HOT ? 0.9 : 0.2 + (h % 50) / 100; // fraction busy
      const l = `job="node",instance="host-${h}:9100"`;
      for (let i = 0; i < SAMPLES; i++) {
        lines.push(
          `node_cpu_seconds_total{${l},cpu="0",mode="idle"} ${
            (1e6 + i * STEP_S * (1 - usage)).toFixed(3)
          } ${ts(i, SAMPLES)}`,
          `node_cpu_seconds_total{${l},cpu="0",mode="iowait"} ${
            (1e4 + i * STEP_S * 0.02).toFixed(3)
          } ${ts(i, SAMPLES)}`,
        );
      }
      for (let i = 0; i < RECENT; i++) {
        const t = ts(i, RECENT);
        lines.push(
          `node_memory_MemTotal_bytes{${l}} 17179869184 ${t}`,
          `node_memory_MemAvailable_bytes{${l}} ${8e9 - (h % 100) * 1e7} ${t}`,
          `up{${l}} 1 ${t}`,
          `node_uname_info{${l},nodename="host-${h}"} 1 ${t}`,
        );
      }
    }
    const res = await fetch(`${vm.url}/api/v1/import/prometheus`, {
      method: "POST",
      body: lines.join("\n") + "\n",
    });
    if (!res.ok) throw new Error(`import failed: ${res.status} ${await res.text()}`);
    await res.body?.cancel();
  }
  await (await fetch(`${vm.url}/internal/force_flush`)).body?.cancel();
  const query = new URLSearchParams({ query: "count(up)", time: String(T) });
  for (let i = 0; i < 150; i++) {
    const j = await (await fetch(`${vm.url}/api/v1/query?${query}`)).json();
    if (Number(j?.data?.result?.[0]?.value?.[1]) === HOSTS) break;
    await new Promise((r) => setTimeout(r, 200));
  }
}

const dir = await Deno.makeTempDir({ prefix: "opsbook-monitor-bench-" });
try {
  const config = loadConfig({
    env: {},
    flags: { prometheusUrl: vm.url, state: `${dir}/state.json`, queryTimeout: "60s" },
  });
  const prometheus = new RecordingClient({ url: vm.url, timeoutMs: 60_000 });
  const monitor = await Monitor.open(config, {
    prometheus,
    sinks: [new DryRunSink({ write: () => {} })],
    logger: new Logger({ stdout: false }),
  });
  const rules = monitor.rules.groups.reduce((n, g) => n + g.rules.length, 0);
  const raw: number[] = [];
  const evals: number[] = [];
  const rawCpu: number[] = [];
  const evalCpu: number[] = [];
  let first = 0;
  let firing = 0;
  let queries = 0;
  gc();
  const rssBefore = Deno.memoryUsage().rss;
  for (let run = 0; run <= RUNS; run++) {
    gc();
    // T and a minute before, in turn: the group (interval 1m) is due at every run, and the
    // data (up to T) is the same.
    const at = (T - (run % 2) * 60) * 1000;
    prometheus.sent = [];
    prometheus.recording = run > 0;
    let t0 = performance.now();
    let c0 = cpuMs();
    const result = await monitor.runEvaluation({ at });
    const evalMs = performance.now() - t0;
    const evalCpuMs = cpuMs() - c0;
    prometheus.recording = false;
    if (!result.ok || result.hosts !== HOSTS) {
      throw new Error(`evaluation failed: ${result.error ?? `${result.hosts} hosts`}`);
    }
    if (run === 0) {
      first = evalMs;
      firing = result.firing;
      continue; // cold: every rule warmed up over its `for`, HOT alerts start firing
    }
    // Reference: the same queries, bare.
    gc();
    t0 = performance.now();
    c0 = cpuMs();
    for (const q of prometheus.sent) {
      const res = await fetch(`${vm.url}${q.path}`, { method: "POST", body: q.body });
      const body = await res.text();
      if (!res.ok) throw new Error(`unexpected answer: ${res.status} ${body.slice(0, 200)}`);
    }
    raw.push(performance.now() - t0);
    rawCpu.push(cpuMs() - c0);
    evalCpu.push(evalCpuMs);
    if (prometheus.sent.length <= 1) throw new Error("the rules were not evaluated (not due)");
    evals.push(evalMs);
    queries = prometheus.sent.length;
  }
  const rssAfter = Deno.memoryUsage().rss;
  const heap = Deno.memoryUsage().heapUsed;
  const r = median(raw), e = median(evals), rc = median(rawCpu), ec = median(evalCpu);
  console.log(
    `rules/node.yml (${rules} rules), hosts ${HOSTS}, firing ${firing}, runs ${RUNS} (+1 cold)`,
  );
  console.log(
    `reference: bare HTTP round trips of the evaluation's ${queries} queries  median ${
      r.toFixed(1)
    } ms`,
  );
  console.log(
    `monitor evaluation (queries + parse + detectors + state machine + state + outbox)  median ${
      e.toFixed(1)
    } ms (cold first run ${(first / 1000).toFixed(1)} s: warm-up over for, ${firing} alerts)`,
  );
  console.log(
    `outside Prometheus: ${(e - r).toFixed(1)} ms, ${
      ((e - r) / e * 100).toFixed(0)
    } % of the evaluation (evaluation / round trips = ${(e / r).toFixed(2)}x)`,
  );
  console.log(
    `CPU time of this process: evaluation ${ec.toFixed(1)} ms, bare round trips ${
      rc.toFixed(1)
    } ms: ${(ec - rc).toFixed(1)} ms of work outside Prometheus, ${
      ((ec - rc) / e * 100).toFixed(0)
    } % of the evaluation's wall time (a figure that holds on a loaded machine)`,
  );
  console.log(`memory: RSS ${mb(rssBefore)} -> ${mb(rssAfter)}, heap used ${mb(heap)}`);
} finally {
  await Deno.remove(dir, { recursive: true });
}
