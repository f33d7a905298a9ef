/**
 * One alert evaluation over 10,000 hosts, as the monitor runs it every 5
 * minutes, without network:
 *
 * - detect: the default rules through `evaluateRules` — `HostHighCpu`
 *   (sustained above 80 % for 5 m, hysteresis down to 75 % for the alerts
 *   already firing) over the last 15 minutes at 15 s (60 samples per host,
 *   600,000 rows), and `HostCpuTrend` (least squares over a 6 h lookback) at
 *   its default 5 m step (73 samples per host, 730,000 rows);
 * - state: the alert state and outbox files in a temp dir (load, update,
 *   atomic save), and message building: a Slack Block Kit payload (built and
 *   serialised, not posted) and the dry-run text, one message per group.
 *
 * The frames are in Prometheus' order (grouped by series, sorted by labels,
 * time-ordered) with a few hundred hosts over the threshold: 300 hot since
 * before, 100 that started 7 minutes ago (new alerts), 50 hovering between
 * 78 and 84 % (kept firing by hysteresis), 50 that dropped to 40 % (resolved),
 * 50 with a one-sample spike (no alert), 20 climbing 3 %/h (trend warnings),
 * the rest idle between 20 and 60 %. Two warm-up evaluations (T-10m, T-5m)
 * prepare the state; every timed run restores it and evaluates at T.
 *
 * Reference, measured in the same run: a plain JavaScript loop over the same
 * values (already in a Float64Array) computing the same sustained
 * over-threshold set. Prints median and p90 of several runs, heap and RSS.
 *
 * Run: deno run -A --v8-flags=--expose-gc bench/alert_bench.ts
 *
 * @module
 */

import pl from "nodejs-polars";
import { Alerter } from "../lib/alert/alerter.ts";
import { DryRunSink, formatNotification } from "../lib/alert/sinks/dry_run.ts";
import {
  cpuTrendRule,
  evaluateRules,
  highCpuRule,
  ruleRepeatIntervals,
} from "../lib/rules/cpu_rules.ts";
import { slackMessage } from "../lib/alert/sinks/slack.ts";
import { AlertState } from "../lib/alert/state.ts";
import type { Alert, Notification, Sink } from "../lib/alert/types.ts";

const HOSTS = 10_000;
const RUNS = 11;
const MIN = 60_000;
const T = Date.UTC(2026, 11, 1, 12);
const CPU = { step: 15_000, samples: 60 }; // HostHighCpu: 15 m at 15 s, as the monitor queries
const TREND = { step: 300_000, samples: 73 }; // HostCpuTrend: 6 h at 5 m
const CLOUDS = ["aliyun", "azure", "tencent"];
const REGIONS = ["ap-shanghai", "cn-hangzhou", "eastus", "westeurope"];

/** A deterministic pseudo-random number in [0, 1) per host and time. */
function noise(h: number, t: number): number {
  const x = Math.sin(h * 12.9898 + (t / 15_000) * 78.233) * 43758.5453;
  return x - Math.floor(x);
}

/** CPU % of host `h` at time `t`. */
function cpu(h: number, t: number): number {
  if (h < 300) return 90 + (h % 7); // hot since long before: firing
  if (h < 400) return t >= T - 7 * MIN ? 85 + (h % 5) : 50; // hot for 7 m at T: new alert
  if (h < 450) return t > T - 150_000 ? 40 : 88; // dropped 2.5 m before T: resolves
  if (h < 500) return t <= T - 10 * MIN ? 88 : (t / 15_000) % 2 === 0 ? 84 : 78; // hovering
  if (h < 550) return t === T - MIN ? 97 : 45; // a one-sample spike: never alerts
  if (h < 570) return 50 + (3 * (t - (T - 6 * 60 * MIN))) / (60 * MIN) + noise(h, t) * 0.5; // trend
  return 20 + 40 * noise(h, t);
}

const hostName = (h: number) => `host-${String(h).padStart(5, "0")}:9100`;
const cloudOf = (h: number) => CLOUDS[h % 3];
const regionOf = (h: number) => REGIONS[h % 4];

/** Hosts in Prometheus' series order: sorted by their label values (cloud, instance, region). */
const ORDER = Array.from({ length: HOSTS }, (_, h) => h).sort((a, b) =>
  cloudOf(a) < cloudOf(b) ? -1 : cloudOf(a) > cloudOf(b) ? 1 : a - b
);

/** A range frame like `lib/prometheus/frame.ts` builds from a query_range answer, plus its values. */
function frameAt(at: number, { step, samples }: { step: number; samples: number }) {
  const n = HOSTS * samples;
  const instance = new Array<string>(n), cloud = new Array<string>(n);
  const region = new Array<string>(n);
  const ts = new Float64Array(n), values = new Float64Array(n);
  let r = 0;
  for (const h of ORDER) {
    for (let i = 0; i < samples; i++, r++) {
      instance[r] = hostName(h);
      cloud[r] = cloudOf(h);
      region[r] = regionOf(h);
      ts[r] = at - (samples - 1 - i) * step;
      values[r] = cpu(h, ts[r]);
    }
  }
  const frame = pl.DataFrame([
    pl.Series("cloud", cloud, pl.Utf8),
    pl.Series("instance", instance, pl.Utf8),
    pl.Series("region", region, pl.Utf8),
    pl.Series("timestamp", ts, pl.Float64).cast(pl.Int64).cast(pl.Datetime("ms")),
    pl.Series("value", values, pl.Float64),
  ]);
  return { frame, values, ts };
}

function frames(at: number) {
  return { HostHighCpu: frameAt(at, CPU).frame, HostCpuTrend: frameAt(at, TREND).frame };
}

/** A sink that builds and serialises the Slack payload without posting it. */
class SlackPayloadSink implements Sink {
  readonly name = "slack";
  bytes = 0;
  send(n: Notification): Promise<void> {
    this.bytes += JSON.stringify(slackMessage(n)).length;
    return Promise.resolve();
  }
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
}
const ms = (xs: number[]) =>
  `median ${quantile(xs, 0.5).toFixed(1).padStart(6)} ms  p90 ${
    quantile(xs, 0.9).toFixed(1).padStart(6)
  } ms`;
const mb = (bytes: number) => `${(bytes / 1048576).toFixed(0)} MB`;
const gc = (globalThis as { gc?: () => void }).gc;

function peakRss(): string {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(Deno.readTextFileSync("/proc/self/status"));
    return m ? mb(Number(m[1]) * 1024) : "n/a";
  } catch {
    return "n/a";
  }
}

// ---------------------------------------------------------------- setup
const rules = [highCpuRule(), cpuTrendRule()];
const groupRepeatInterval = ruleRepeatIntervals(rules);
const now = frames(T);
const cpuNow = frameAt(T, CPU);
const dir = await Deno.makeTempDir({ prefix: "opsbook-alert-bench-" });
const statePath = `${dir}/alerts.json`, outboxPath = `${dir}/alerts.outbox.json`;
const slack = new SlackPayloadSink();
const dryRun = new DryRunSink({ write: () => {} });
const sinks = [slack, dryRun];

try {
  console.log(
    `alert evaluation over ${HOSTS} hosts: HostHighCpu ${CPU.samples} samples at 15 s ` +
      `(${now.HostHighCpu.height} rows), HostCpuTrend ${TREND.samples} samples at 5 m ` +
      `(${now.HostCpuTrend.height} rows); ${RUNS} runs`,
  );
  // Warm-up: two evaluations 10 and 5 minutes before T build the state.
  for (const at of [T - 10 * MIN, T - 5 * MIN]) {
    const alerter = new Alerter({ statePath, sinks, groupRepeatInterval });
    const result = evaluateRules(rules, frames(at), {
      at: new Date(at),
      firing: await alerter.firing(),
    });
    await alerter.evaluate(result.alerts, { now: new Date(at), contexts: result.contexts });
  }
  const prepared = await Deno.readTextFile(statePath);
  const firingBefore = (await AlertState.load(statePath)).firing;
  const preparedOutbox = await Deno.readTextFile(outboxPath).catch(() => undefined);
  const restore = async () => {
    await Deno.writeTextFile(statePath, prepared);
    if (preparedOutbox === undefined) await Deno.remove(outboxPath).catch(() => {});
    else await Deno.writeTextFile(outboxPath, preparedOutbox);
  };

  const t = {
    reference: [] as number[],
    highCpu: [] as number[],
    trend: [] as number[],
    full: [] as number[],
    rules: [] as number[],
    alerter: [] as number[],
    noWrite: [] as number[],
  };
  let last: Record<string, number> = {};
  for (let run = -2; run < RUNS; run++) {
    const keep = run >= 0;
    gc?.();

    // Reference: the same sustained set (every sample of the last 5 m > 80) in plain JS.
    let t0 = performance.now();
    const { values, ts } = cpuNow;
    let hot = 0;
    for (let s = 0; s < HOSTS; s++) {
      const end = (s + 1) * CPU.samples;
      let j = end - 1;
      while (j >= s * CPU.samples && values[j] > 80) j--;
      if (j < end - 1 && T - ts[j + 1] >= 5 * MIN) hot++;
    }
    if (keep) t.reference.push(performance.now() - t0);

    // The rules alone, each on its own frame.
    t0 = performance.now();
    const high = rules[0].evaluate(now.HostHighCpu, { at: new Date(T), firing: firingBefore });
    if (keep) t.highCpu.push(performance.now() - t0);
    t0 = performance.now();
    const trend = rules[1].evaluate(now.HostCpuTrend, { at: new Date(T) });
    if (keep) t.trend.push(performance.now() - t0);

    // The whole evaluation: state file read, rules, state update and save,
    // outbox, Slack payload and dry-run text.
    await restore();
    gc?.();
    t0 = performance.now();
    const alerter = new Alerter({ statePath, sinks, groupRepeatInterval });
    const firing = await alerter.firing();
    const result = evaluateRules(rules, now, { at: new Date(T), firing });
    const t1 = performance.now();
    const report = await alerter.evaluate(result.alerts, {
      now: new Date(T),
      contexts: result.contexts,
      check: result,
    });
    const t2 = performance.now();
    if (keep) {
      t.full.push(t2 - t0);
      t.rules.push(t1 - t0);
      t.alerter.push(t2 - t1);
    }

    // The same without writing files: state read and updated in memory, the
    // messages built from the transitions (what the alerter sends).
    await restore();
    gc?.();
    t0 = performance.now();
    const state = await AlertState.load(statePath);
    const again = evaluateRules(rules, now, { at: new Date(T), firing: state.firing });
    const update = state.update(again.alerts, {
      now: new Date(T).toISOString(),
      repeatInterval: (a) => a.labels.alertname === "HostCpuTrend" ? 86_400 : 14_400,
    });
    const byGroup = new Map<string, Alert[]>();
    for (const tr of update.transitions) {
      const g = tr.alert.labels.alertname;
      byGroup.set(g, [...(byGroup.get(g) ?? []), tr.alert]);
    }
    let bytes = 0;
    for (const [group, alerts] of byGroup) {
      const n: Notification = {
        id: `bench-${group}`,
        receiver: "slack",
        group,
        kind: alerts.some((a) => a.status === "firing") ? "firing" : "resolved",
        alerts,
        createdAt: new Date(T).toISOString(),
        context: { ...again.contexts[group], evaluatedAt: new Date(T).toISOString() },
      };
      bytes += JSON.stringify(slackMessage(n)).length + formatNotification(n).length;
    }
    if (keep) t.noWrite.push(performance.now() - t0);

    last = {
      reference: hot,
      highCpu: high.length,
      trend: trend.length,
      firing: report.firing.length,
      resolved: report.resolved.length,
      started: report.transitions.filter((x) => x.kind === "firing").length,
      messages: report.sent.length,
      messageAlerts: report.sent.reduce((s, n) => s + n.alerts.length, 0),
      inMemoryTransitions: update.transitions.length,
      bytes,
    };
  }
  const expected = {
    reference: 400,
    highCpu: 450,
    trend: 20,
    firing: 470,
    resolved: 50,
    started: 100,
    messages: 2,
    messageAlerts: 300,
    inMemoryTransitions: 150,
  };
  for (const [k, v] of Object.entries(expected)) {
    if (last[k] !== v) throw new Error(`Unexpected ${k}: ${last[k]}, expected ${v}`);
  }
  gc?.();
  const mem = Deno.memoryUsage();
  const ref = quantile(t.reference, 0.5), full = quantile(t.full, 0.5);
  const noWrite = quantile(t.noWrite, 0.5);
  console.log(`  reference: plain JS loop, same sustained set  ${ms(t.reference)}`);
  console.log(`  HostHighCpu rule (sustained + hysteresis)     ${ms(t.highCpu)}`);
  console.log(`  HostCpuTrend rule (6 h at 5 m)                ${ms(t.trend)}`);
  console.log(
    `  evaluation: rules + state + outbox + messages ${ms(t.full)}  ` +
      `(${(full / ref).toFixed(0)}× the reference; target < 200 ms: ${
        full < 200 ? "met" : "NOT met"
      })`,
  );
  console.log(`    of which evaluateRules                     ${ms(t.rules)}`);
  console.log(`    of which Alerter.evaluate (files, sinks)   ${ms(t.alerter)}`);
  console.log(
    `  evaluation without file writes               ${ms(t.noWrite)}  (${
      (noWrite / ref).toFixed(0)
    }× the reference)`,
  );
  console.log(
    `  ${last.firing} firing (${last.highCpu} HostHighCpu, ${last.trend} HostCpuTrend), ` +
      `${last.started} started, ${last.resolved} resolved; ${last.messages} messages ` +
      `(Slack payload + dry run) with ${last.messageAlerts} alerts, ${slack.bytes} Slack bytes`,
  );
  console.log(
    `  memory: heap used ${mb(mem.heapUsed)}, RSS ${mb(mem.rss)}, peak RSS ${peakRss()}`,
  );

  // Extra: a frame that is not grouped by series falls back to a full sort.
  const shuffled = now.HostHighCpu.sample({
    n: now.HostHighCpu.height,
    withReplacement: false,
    seed: 42,
    shuffle: true,
  });
  const sorts: number[] = [];
  for (let run = 0; run < 3; run++) {
    const t0 = performance.now();
    rules[0].evaluate(shuffled, { at: new Date(T) });
    sorts.push(performance.now() - t0);
  }
  console.log(
    `  extra: HostHighCpu on the same rows shuffled (falls back to a sort)  ${ms(sorts)}`,
  );
} finally {
  await Deno.remove(dir, { recursive: true });
}
