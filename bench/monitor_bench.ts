/**
 * One monitor evaluation over 10,000 hosts. A VictoriaMetrics (from the
 * stack) is loaded with 10,000 synthetic `node_cpu_seconds_total` idle series
 * (5 % of hosts above 80 % CPU, 10 minutes of 15 s samples); the monitor runs
 * `runEvaluation()` against it with a dry-run sink: the shared rules'
 * two range queries (`HostHighCpu`: 15 min at 15 s; `HostCpuTrend`: 6 h at
 * 5 min, sparse here since the data covers 10 minutes), both rules and the
 * meta-alerts. Reference: the bare HTTP round trips of the same two range
 * queries (`fetch` + body read), measured in the same run, so the report
 * separates the time spent in Prometheus from the time spent in the monitor
 * (parse, frames, rules, state, outbox). Also reports RSS and heap.
 *
 * Run: deno run -A --v8-flags=--expose-gc bench/monitor_bench.ts
 */
import {
  cpuUsageQuery,
  DryRunSink,
  loadConfig,
  Logger,
  Monitor,
  PrometheusClient,
} from "../lib/mod.ts";
import { missingBinaries, startVictoriaMetrics } from "../dev/stack.ts";

const HOSTS = 10_000;
const HOT = 500;
const RUNS = 7;
const STEP_S = 15;
const T = Math.floor(Date.now() / 60_000) * 60 - 3600; // evaluation time: an hour ago
const SAMPLES = 41; // 10 minutes before T

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;

if (missingBinaries(["victoria-metrics"]) !== null) Deno.exit(0);

console.log(`loading ${HOSTS} hosts × ${SAMPLES} samples into VictoriaMetrics ...`);
await using vm = await startVictoriaMetrics({ dataset: false });
{
  // Prometheus exposition lines with timestamps (ms), idle counter per host.
  const lines: string[] = [];
  for (let h = 0; h < HOSTS; h++) {
    const usage = h < HOT ? 0.9 : 0.2 + (h % 50) / 100; // fraction busy
    const name = `node_cpu_seconds_total{job="node",instance="host-${h}:9100",cpu="0",mode="idle"}`;
    for (let i = 0; i < SAMPLES; i++) {
      const ts = (T - (SAMPLES - 1 - i) * STEP_S) * 1000;
      lines.push(`${name} ${(1e6 + i * STEP_S * (1 - usage)).toFixed(3)} ${ts}`);
    }
  }
  const res = await fetch(`${vm.url}/api/v1/import/prometheus`, {
    method: "POST",
    body: lines.join("\n") + "\n",
  });
  if (!res.ok) throw new Error(`import failed: ${res.status} ${await res.text()}`);
  await (await fetch(`${vm.url}/internal/force_flush`)).body?.cancel();
  const query = new URLSearchParams({ query: `count(${cpuUsageQuery()})`, time: String(T) });
  for (let i = 0; i < 100; i++) {
    const j = await (await fetch(`${vm.url}/api/v1/query?${query}&nocache=1`)).json();
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
  const prometheus = new PrometheusClient({ url: vm.url, timeoutMs: 60_000 });
  const monitor = await Monitor.open(config, {
    prometheus,
    sinks: [new DryRunSink({ write: () => {} })],
    logger: new Logger({ stdout: false }),
  });
  // The monitor's two range queries: (T - 15m, T] at 15 s and [T - 6h, T] at 5 min.
  const queries = [
    { start: T - 15 * 60 + 15, step: 15 },
    { start: T - 6 * 3600, step: 300 },
  ].map((w) =>
    new URLSearchParams({
      query: config.query,
      start: String(w.start),
      end: String(T),
      step: String(w.step),
      nocache: "1",
    })
  );
  const raw: number[] = [];
  const evals: number[] = [];
  const inQuery: number[] = [];
  const framesOnly: number[] = [];
  let first = 0;
  let firing = 0;
  gc();
  const rssBefore = Deno.memoryUsage().rss;
  for (let run = 0; run <= RUNS; run++) {
    gc();
    let t0 = performance.now();
    for (const q of queries) {
      const res = await fetch(`${vm.url}/api/v1/query_range`, { method: "POST", body: q });
      const body = await res.text();
      if (body.length < 1000) throw new Error(`unexpected answer: ${body}`);
    }
    const rawMs = performance.now() - t0;
    gc();
    t0 = performance.now();
    for (const q of queries) {
      await prometheus.queryRangeFrame(config.query, {
        start: Number(q.get("start")),
        end: T,
        step: Number(q.get("step")),
      });
    }
    const framesMs = performance.now() - t0;
    gc();
    t0 = performance.now();
    const result = await monitor.runEvaluation({ at: T * 1000 });
    const evalMs = performance.now() - t0;
    if (!result.ok || result.hosts !== HOSTS) throw new Error(`evaluation failed: ${result.error}`);
    if (run === 0) {
      first = evalMs;
      firing = result.firing;
      continue; // cold: 500 alerts start firing
    }
    raw.push(rawMs);
    framesOnly.push(framesMs);
    evals.push(evalMs);
    inQuery.push(result.queryMs);
  }
  const rssAfter = Deno.memoryUsage().rss;
  const heap = Deno.memoryUsage().heapUsed;
  const r = median(raw), e = median(evals), qm = median(inQuery), fm = median(framesOnly);
  console.log(`hosts ${HOSTS}, firing ${firing}, runs ${RUNS} (+1 cold)`);
  console.log(
    `reference: HTTP round trips of the two range queries (Prometheus side)  median ${
      r.toFixed(1)
    } ms`,
  );
  console.log(
    `monitor evaluation (queries + parse + frames + rules + state + outbox)  median ${
      e.toFixed(1)
    } ms (cold first run ${first.toFixed(1)} ms, 500 new alerts)`,
  );
  console.log(`  of which queries + rules (client side included)  median ${qm.toFixed(1)} ms`);
  console.log(
    `  the two queries into frames alone (HTTP + parse + frame)  median ${fm.toFixed(1)} ms (${
      (fm / r).toFixed(2)
    }x the round trips)`,
  );
  console.log(
    `time in the monitor apart from Prometheus  ${
      (e - r).toFixed(1)
    } ms  (evaluation / round trip = ${(e / r).toFixed(2)}x)`,
  );
  console.log(`memory: RSS ${mb(rssBefore)} -> ${mb(rssAfter)}, heap used ${mb(heap)}`);
} finally {
  await Deno.remove(dir, { recursive: true });
}
