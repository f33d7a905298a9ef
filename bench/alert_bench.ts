/**
 * One alert evaluation over 10,000 hosts: detect (HostHighCpu: sustained +
 * hysteresis over the last 15 min at 15 s), state (load, update, save) and
 * message building (a dry-run sink, no network), with a few hundred alerts
 * firing. Reference: the bare `sustained` detector over the same frame.
 * Prints medians of several runs, the ratio, and heap/RSS.
 *
 * Run: deno run -A bench/alert_bench.ts
 */
import pl from "nodejs-polars";
import { Alerter } from "../lib/alert/alerter.ts";
import { DryRunSink } from "../lib/alert/dry_run.ts";
import { cpuTrendRule, evaluateRules, highCpuRule } from "../lib/alert/rules.ts";
import { sustained } from "../lib/detect.ts";

const HOSTS = 10_000;
const STEP = 15_000;
const SAMPLES = 60; // 15 minutes
const RUNS = 7;
const T = Date.UTC(2026, 11, 1, 12);
const CLOUDS = ["aliyun", "tencent", "azure"];
const REGIONS = ["cn-hangzhou", "ap-shanghai", "eastus", "westeurope"];

/**
 * Hosts 0-299 are hot at both evaluations (already firing), 300-399 become hot
 * at `T` (new alerts), 400-449 were hot and drop below 75 % (resolved); the
 * rest idle between 20 and 60 %.
 */
function value(host: number, i: number, at: number): number {
  const late = at === T;
  if (host < 300) return 90 + (host % 7);
  if (host < 400) return late ? 85 + (host % 5) : 50;
  if (host < 450) return late ? (i < SAMPLES - 10 ? 82 : 40) : 88;
  return 20 + ((host * 31 + i * 7) % 40);
}

function frameAt(at: number, samples = SAMPLES, step = STEP): pl.DataFrame {
  const n = HOSTS * samples;
  const instance: string[] = new Array(n), cloud: string[] = new Array(n);
  const region: string[] = new Array(n);
  const ts = new Float64Array(n), values = new Float64Array(n);
  let r = 0;
  for (let h = 0; h < HOSTS; h++) {
    const name = `host-${String(h).padStart(5, "0")}:9100`;
    for (let i = 0; i < samples; i++, r++) {
      instance[r] = name;
      cloud[r] = CLOUDS[h % 3];
      region[r] = REGIONS[h % 4];
      ts[r] = at - (samples - 1 - i) * step;
      values[r] = value(h, i, at);
    }
  }
  return pl.DataFrame([
    pl.Series("cloud", cloud, pl.Utf8),
    pl.Series("instance", instance, pl.Utf8),
    pl.Series("region", region, pl.Utf8),
    pl.Series("timestamp", ts, pl.Float64).cast(pl.Int64).cast(pl.Datetime("ms")),
    pl.Series("value", values, pl.Float64),
  ]);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const mb = (bytes: number) => `${(bytes / 1048576).toFixed(0)} MB`;

console.log(`alert evaluation over ${HOSTS} hosts × ${SAMPLES} samples (${RUNS} runs, median)`);
const before = frameAt(T - 5 * 60_000);
const now = frameAt(T);
const rule = highCpuRule();
const dir = await Deno.makeTempDir({ prefix: "opsbook-alert-bench-" });
try {
  const statePath = `${dir}/alerts.json`;
  const sink = new DryRunSink({ write: () => {} });
  // Warm-up evaluation at T - 5 m: 350 alerts start firing.
  const warm = new Alerter({ statePath, sinks: [sink] });
  const first = rule.evaluate(before, { at: new Date(T - 5 * 60_000) });
  await warm.evaluate(first, { now: new Date(T - 5 * 60_000) });
  const prepared = await Deno.readTextFile(statePath);

  const detect: number[] = [];
  const full: number[] = [];
  let last: { firing: number; resolved: number; alerts: number; messageAlerts: number } | undefined;
  for (let run = 0; run < RUNS; run++) {
    let t = performance.now();
    const hot = sustained(now, { threshold: 80, for: 300_000, at: new Date(T) });
    detect.push(performance.now() - t);
    if (hot.height !== 400) throw new Error(`Expected 400 hot hosts, got ${hot.height}`);

    await Deno.writeTextFile(statePath, prepared);
    await Deno.remove(`${dir}/alerts.outbox.json`).catch(() => {});
    t = performance.now();
    const alerter = new Alerter({ statePath, sinks: [sink] });
    const firing = await alerter.firing();
    const result = evaluateRules([rule], now, { at: new Date(T), firing });
    const report = await alerter.evaluate(result.alerts, {
      now: new Date(T),
      contexts: result.contexts,
      check: result,
    });
    full.push(performance.now() - t);
    last = {
      firing: report.firing.length,
      resolved: report.resolved.length,
      alerts: result.alerts.length,
      messageAlerts: report.sent.reduce((s, n) => s + n.alerts.length, 0),
    };
  }
  if (last?.firing !== 400 || last.resolved !== 50) {
    throw new Error(`Unexpected result: ${JSON.stringify(last)}`);
  }
  const mem = Deno.memoryUsage();
  const d = median(detect), f = median(full);
  console.log(`  reference: sustained() alone       ${d.toFixed(1)} ms`);
  console.log(
    `  evaluation: rules + state + outbox + message  ${f.toFixed(1)} ms  (${
      (f / d).toFixed(2)
    }× the bare detector; target < 200 ms: ${f < 200 ? "met" : "NOT met"})`,
  );
  console.log(
    `  ${last.firing} firing, ${last.resolved} resolved, ${last.messageAlerts} alerts in the message`,
  );
  console.log(`  memory: heap used ${mb(mem.heapUsed)}, RSS ${mb(mem.rss)}`);

  // Extra: the trend rule over 6 h at 5 m for the same fleet.
  const trendFrame = frameAt(T, 73, 300_000);
  const trendRule = cpuTrendRule();
  const trendTimes: number[] = [];
  for (let run = 0; run < Math.min(RUNS, 5); run++) {
    const t = performance.now();
    trendRule.evaluate(trendFrame, { at: new Date(T) });
    trendTimes.push(performance.now() - t);
  }
  console.log(
    `  extra: HostCpuTrend over ${HOSTS} hosts × 73 samples  ${median(trendTimes).toFixed(1)} ms`,
  );
} finally {
  await Deno.remove(dir, { recursive: true });
}
