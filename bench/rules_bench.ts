/**
 * The rule evaluator and the backtest.
 *
 * 1. Live evaluation, queries excluded: 20 rules each returning 10,000
 *    series (every series an alert: the worst case), answered at once by an
 *    in-memory client, so the time is the evaluator's own (sample parsing,
 *    alert labels, fingerprints, templates, state machine). First evaluation
 *    (every alert new) and steady state (values change, annotations
 *    re-expanded). Reference: a plain JavaScript loop building the same
 *    alerts (labels copy, a string key, the summary by concatenation).
 *    Target: < 200 ms per evaluation.
 * 2. Backtest of `rules/node.yml` over 7 days at a 1-minute interval for
 *    1,000 synthetic hosts on VictoriaMetrics (from the stack; it imports
 *    faster than a Prometheus backfill): every metric the rules read, with
 *    one incident per rule on some hosts each day. Reference: the bare HTTP
 *    round trips (`fetch` + body read) of the same range queries, measured
 *    in the same run. Reports per rule the total, the round trips, the time
 *    in the client (HTTP + parse) and the evaluation and state machine
 *    outside it; target: the latter ≤ 20 % of the query time, for the rules
 *    Prometheus answers (PromQL, and hysteresis on a PromQL answer). The
 *    trend detector fits its own lines at every evaluation (opsbook's
 *    extension, not Prometheus' work): shown on its own line.
 *
 * Medians of 3 runs each. `BENCH_QUICK=1` (or `deno task bench --quick`):
 * 2,000 series and 100 hosts × 1 day, for a check in seconds.
 *
 * Run: deno run -A --v8-flags=--expose-gc bench/rules_bench.ts
 */
import { backtest, loadRuleFiles, RuleEvaluator, type RuleGroupSpec } from "../lib/mod.ts";
import { PrometheusClient } from "../lib/prometheus/client.ts";
import type { QueryResult, RangeResult } from "../lib/prometheus/client.ts";
import { missingBinaries, REPO_ROOT, startVictoriaMetrics } from "../dev/stack.ts";

const QUICK = Deno.env.get("BENCH_QUICK") === "1" || Deno.args.includes("--quick");

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const f0 = (ms: number) => ms.toFixed(0);

// ---------------------------------------------------------------------------
// 1. Live evaluation, 20 rules × 10,000 series
// ---------------------------------------------------------------------------
async function liveBench(returnedShare: number, label: string) {
  const RULES = 20, SERIES = QUICK ? 2_000 : 10_000, RUNS = QUICK ? 3 : 5;
  const returned = Math.round(SERIES * returnedShare);
  const groups: RuleGroupSpec[] = [{
    name: "bench",
    rules: Array.from({ length: RULES }, (_, r) => ({
      alert: `Rule${r}`,
      expr: `metric_${r} > 80`,
      for: "5m",
      labels: { severity: r % 2 ? "warning" : "critical" },
      annotations: {
        summary: `Rule ${r}: {{ $labels.instance }} at {{ $value | humanize }}`,
        description: "{{ $labels.instance }} in {{ $labels.cloud }} is at {{ $value }}",
      },
    })),
  }];
  const metrics = Array.from({ length: SERIES }, (_, i) => ({
    __name__: "metric",
    instance: `host-${i}:9100`,
    job: "node",
    cloud: ["aws", "gcp", "azure"][i % 3],
  }));
  let round = 0;
  // What Prometheus answers to `metric > 80`: the series above it (here the first `returned`).
  const answer = () =>
    metrics.slice(0, returned).map((m, i) => ({
      metric: m,
      value: [0, String(81 + ((i + round) % 19) + 0.25)] as [number, string],
    }));
  const client = {
    query(q: string): Promise<QueryResult> {
      const result = q.startsWith("label_replace") ? [] : answer();
      return Promise.resolve({ resultType: "vector", result, warnings: [], infos: [] });
    },
    queryRange: () => Promise.reject(new Error("unused")),
  };
  // Reference: the same alerts by a plain loop (no templates, no state machine).
  const reference: number[] = [];
  for (let k = 0; k < RUNS; k++) {
    round = k;
    gc();
    const s = performance.now();
    const out = new Map<string, { labels: Record<string, string>; summary: string }>();
    for (let r = 0; r < RULES; r++) {
      for (const x of answer()) {
        const labels: Record<string, string> = { ...x.metric, alertname: `Rule${r}` };
        delete labels.__name__;
        const key = JSON.stringify(labels);
        out.set(key, { labels, summary: `Rule ${r}: ${labels.instance} at ${Number(x.value[1])}` });
      }
    }
    reference.push(performance.now() - s);
    if (out.size !== RULES * returned) throw new Error("reference miscounted");
  }
  const evaluator = new RuleEvaluator(client, groups, { interval: "1m" });
  const t0 = Date.UTC(2026, 10, 1);
  const times: number[] = [];
  for (let k = 0; k <= RUNS; k++) {
    round = k;
    gc();
    const s = performance.now();
    const r = await evaluator.evaluate(new Date(t0 + k * 60_000));
    times.push(performance.now() - s);
    if (r.active.length !== RULES * returned) {
      throw new Error(`expected ${RULES * returned} alerts`);
    }
  }
  const steady = median(times.slice(1)), ref = median(reference);
  console.log(
    `live evaluation, ${RULES} rules × ${SERIES.toLocaleString("en")} series, ${label}: ` +
      `${(RULES * returned).toLocaleString("en")} alerts, queries excluded (median of ${RUNS}):`,
  );
  console.log(`  reference: plain JS loop building the same alerts   ${f0(ref)} ms`);
  console.log(
    `  RuleEvaluator.evaluate: first ${f0(times[0])} ms (every alert new), steady ${
      f0(steady)
    } ms (${(steady / ref).toFixed(1)}× the reference, ${
      (steady * 1000 / (RULES * returned)).toFixed(1)
    } µs per alert; target < 200 ms: ${steady < 200 ? "met" : "NOT met"})`,
  );
}
await liveBench(
  0.05,
  "5 % above the threshold (each rule returns 500 series)".replace(
    "500",
    (QUICK ? 100 : 500).toString(),
  ),
);
await liveBench(1, "worst case: every series returned and alerting");

// ---------------------------------------------------------------------------
// 2. Backtest of rules/node.yml, 7 days at 1 m, 1,000 hosts, VictoriaMetrics
// ---------------------------------------------------------------------------
if (missingBinaries(["victoria-metrics"]) !== null) {
  console.log("backtest: victoria-metrics is not installed, skipped");
  Deno.exit(0);
}
const HOSTS = QUICK ? 100 : 1_000;
const DAYS = QUICK ? 1 : 7;
const DAY = 86_400_000, HOUR = 3_600_000, MIN = 60_000;
const END = Date.UTC(2026, 10, 1) + DAYS * DAY; // evaluations [END - DAYS, END] at 1 m
const START = END - DAYS * DAY;
const FROM = START - 8 * HOUR; // history for predict_linear's 6 h and `offset 1h`

/** The metrics of one host, node_exporter-shaped, with scripted incidents. */
function hostSeries(
  h: number,
): { metric: Record<string, string>; step: number; value: (t: number) => number | null }[] {
  const instance = `host-${String(h).padStart(4, "0")}:9100`;
  const base = { job: "node", instance };
  const at = (t: number) => ({
    day: Math.floor((t - START) / DAY),
    hour: (((t - START) % DAY) + DAY) % DAY / HOUR,
  });
  const gone = (t: number) => { // the host stops reporting for an hour
    const { day, hour } = at(t);
    return h % 97 === day && hour >= 20 && hour < 21;
  };
  const busy = (t: number) => {
    const { day, hour } = at(t);
    return h % 50 === day && hour >= 10 && hour < 13 ? 0.95 : 0.2 + (h % 7) / 20;
  };
  const iowait = (t: number) => {
    const { day, hour } = at(t);
    return h % 70 === day && hour >= 3 && hour < 4 ? 0.3 : 0.01;
  };
  const counter = (rate: (t: number) => number, step: number) => {
    let acc = 1e6, last = FROM;
    return (t: number) => {
      for (; last < t; last += step) acc += (step / 1000) * rate(last);
      return gone(t) ? null : acc;
    };
  };
  const fsSize = 100e9;
  return [
    {
      metric: { __name__: "node_cpu_seconds_total", ...base, cpu: "0", mode: "idle" },
      step: 5 * MIN,
      value: counter((t) => 1 - busy(t) - iowait(t), 5 * MIN),
    },
    {
      metric: { __name__: "node_cpu_seconds_total", ...base, cpu: "0", mode: "iowait" },
      step: 5 * MIN,
      value: counter(iowait, 5 * MIN),
    },
    {
      metric: { __name__: "node_memory_MemTotal_bytes", ...base },
      step: 10 * MIN,
      value: (t) => gone(t) ? null : 16e9,
    },
    {
      metric: { __name__: "node_memory_MemAvailable_bytes", ...base },
      step: 10 * MIN,
      value: (t) => {
        const { day, hour } = at(t);
        return gone(t) ? null : h % 60 === day && hour >= 14 && hour < 15 ? 0.5e9 : 8e9;
      },
    },
    ...["node_filesystem_size_bytes", "node_filesystem_avail_bytes", "node_filesystem_readonly"]
      .map((name) => ({
        metric: { __name__: name, ...base, device: "/dev/sda1", fstype: "ext4", mountpoint: "/" },
        step: 10 * MIN,
        value: (t: number) => {
          if (gone(t)) return null;
          if (name === "node_filesystem_readonly") return 0;
          if (name === "node_filesystem_size_bytes") return fsSize;
          const { day, hour } = at(t);
          // Filling from 40 % to 4 % free over 12 h, then cleaned up.
          return h % 80 === day && hour >= 6 && hour < 18
            ? fsSize * (0.4 - 0.03 * (hour - 6))
            : fsSize * 0.5;
        },
      })),
    {
      metric: { __name__: "node_uname_info", ...base, nodename: `host-${h}`, release: "6.1.0" },
      step: 10 * MIN,
      value: (t) => gone(t) ? null : 1,
    },
    {
      metric: { __name__: "up", ...base },
      step: 5 * MIN,
      value: (t) => {
        const { day, hour } = at(t);
        return gone(t) || (h % 100 === day && hour >= 3 && hour < 4) ? 0 : 1;
      },
    },
  ];
}

async function loadHosts(url: string): Promise<number> {
  // VictoriaMetrics' JSON lines import: one line per series with its values and timestamps.
  let samples = 0;
  const chunk = 25;
  for (let h0 = 0; h0 < HOSTS; h0 += chunk) {
    const lines: string[] = [];
    for (let h = h0; h < Math.min(HOSTS, h0 + chunk); h++) {
      for (const s of hostSeries(h)) {
        const values: number[] = [], timestamps: number[] = [];
        for (let t = FROM; t <= END; t += s.step) {
          const v = s.value(t);
          if (v === null) continue;
          values.push(v);
          timestamps.push(t);
        }
        samples += values.length;
        lines.push(JSON.stringify({ metric: s.metric, values, timestamps }));
      }
    }
    const res = await fetch(`${url}/api/v1/import`, {
      method: "POST",
      body: lines.join("\n") + "\n",
    });
    if (!res.ok) throw new Error(`import failed: ${res.status} ${await res.text()}`);
    await res.body?.cancel();
  }
  await (await fetch(`${url}/internal/force_flush`)).body?.cancel();
  for (let i = 0;; i++) {
    const q = new URLSearchParams({ query: "count(up)", time: String(END / 1000), nocache: "1" });
    const j = await (await fetch(`${url}/api/v1/query?${q}`)).json();
    if (Number(j.data?.result?.[0]?.value?.[1] ?? 0) >= HOSTS) break;
    if (i > 300) throw new Error("VictoriaMetrics did not show the imported data");
    await new Promise((r) => setTimeout(r, 200));
  }
  return samples;
}

const [file] = await loadRuleFiles([`${REPO_ROOT}/rules/node.yml`]);
const groups: RuleGroupSpec[] = file.groups;
console.log(
  `\nbacktest: loading ${
    HOSTS.toLocaleString("en")
  } hosts × ${DAYS} day(s) into VictoriaMetrics ...`,
);
const loadStart = performance.now();
await using vm = await startVictoriaMetrics({ dataset: false });
const samples = await loadHosts(vm.url);
console.log(
  `  ${(samples / 1e6).toFixed(1)} M samples loaded in ${
    ((performance.now() - loadStart) / 1000).toFixed(1)
  } s`,
);

const inner = new PrometheusClient({
  url: vm.url,
  maxPointsPerSeries: 30_000,
  retry: false,
  timeoutMs: 300_000,
});
type Range = Parameters<PrometheusClient["queryRange"]>[1];
let inClient = 0;
let issued: { query: string; start: number; end: number; step: number }[] = [];
const timed = {
  query: (q: string, o: Parameters<PrometheusClient["query"]>[1]) => inner.query(q, o),
  async queryRange(q: string, o: Range): Promise<RangeResult> {
    issued.push({
      query: q,
      start: (o.start as Date).getTime() / 1000,
      end: (o.end as Date).getTime() / 1000,
      step: Number(o.step),
    });
    const s = performance.now();
    try {
      return await inner.queryRange(q, o);
    } finally {
      inClient += performance.now() - s;
    }
  },
};
/** The reference: the same range queries as bare HTTP round trips (fetch + body read). */
async function roundTrips(queries: typeof issued): Promise<number> {
  const s = performance.now();
  for (const q of queries) {
    const body = new URLSearchParams({
      query: q.query,
      start: String(q.start),
      end: String(q.end),
      step: String(q.step),
    });
    const res = await fetch(`${vm.url}/api/v1/query_range`, { method: "POST", body });
    const text = await res.text();
    if (!res.ok) throw new Error(`reference query failed: ${res.status} ${text.slice(0, 200)}`);
  }
  return performance.now() - s;
}

interface RuleTimes {
  rule: string;
  total: number;
  client: number;
  ref: number;
  queries: number;
}
/** Backtests `groups` over [from, END] RUNS times; per run, per rule times. */
async function measure(
  groups: RuleGroupSpec[],
  from: number,
  runsWanted: number,
): Promise<{ runs: RuleTimes[][]; summary: string }> {
  const runs: RuleTimes[][] = [];
  let summary = "";
  for (let run = 0; run < runsWanted; run++) {
    inClient = 0;
    issued = [];
    gc();
    const times: RuleTimes[] = [];
    let last = performance.now(), lastClient = 0, lastIssued = 0;
    const result = await backtest(timed, groups, {
      start: new Date(from),
      end: new Date(END),
      interval: "1m",
      onProgress: (p) => {
        const now = performance.now();
        times.push({
          rule: p.rule.split("/").pop()!,
          total: now - last,
          client: inClient - lastClient,
          ref: 0,
          queries: issued.length - lastIssued,
        });
        last = now;
        lastClient = inClient;
        lastIssued = issued.length;
      },
    });
    gc();
    let k = 0;
    for (const t of times) {
      t.ref = await roundTrips(issued.slice(k, k + t.queries));
      k += t.queries;
    }
    runs.push(times);
    const perRule = result.rules.map((r) => `${r.alertname} ${r.instances}`).join(", ");
    summary = `${result.rows.length.toLocaleString("en")} alert instances (${perRule}), ` +
      `${result.rules.reduce((n, r) => n + r.notifications, 0).toLocaleString("en")} ` +
      `notifications, ${issued.length.toLocaleString("en")} range queries`;
  }
  return { runs, summary };
}

const s1 = (ms: number) => (ms / 1000).toFixed(2).padStart(7);
const sum = (xs: RuleTimes[], f: (t: RuleTimes) => number) => xs.reduce((n, t) => n + f(t), 0);
function report(runs: RuleTimes[][], total?: string) {
  console.log(
    `  ${"rule".padEnd(26)} ${"queries".padStart(8)} ${"total s".padStart(7)} ${
      "round trips s".padStart(13)
    } ${"client s".padStart(8)} ${"evaluation s".padStart(12)} ${"eval/query".padStart(10)}`,
  );
  const line = (name: string, pick: (run: RuleTimes[]) => RuleTimes[]) => {
    const total = median(runs.map((r) => sum(pick(r), (t) => t.total)));
    const client = median(runs.map((r) => sum(pick(r), (t) => t.client)));
    const ref = median(runs.map((r) => sum(pick(r), (t) => t.ref)));
    const queries = sum(pick(runs[0]), (t) => t.queries);
    console.log(
      `  ${name.padEnd(26)} ${String(queries).padStart(8)} ${s1(total)} ${s1(ref).padStart(13)} ${
        s1(client).padStart(8)
      } ${s1(total - client).padStart(12)} ${
        `${((total - client) / client * 100).toFixed(1)} %`.padStart(10)
      }`,
    );
    return { total, client, ref };
  };
  for (const rule of runs[0].map((t) => t.rule)) {
    line(rule, (r) => r.filter((t) => t.rule === rule));
  }
  return total === undefined ? undefined : line(total, (r) => r);
}

// Rules Prometheus answers (PromQL, and hysteresis on a PromQL answer) vs detectors that
// compute in opsbook at every evaluation (trend: least-squares lines over 6 h).
const isDetector = (r: RuleGroupSpec["rules"][number]) => {
  const d = "opsbook" in r ? (r.opsbook as { detector?: string } | undefined)?.detector : undefined;
  return d !== undefined && d !== "hysteresis";
};
const promqlGroups = groups.map((g) => ({ ...g, rules: g.rules.filter((r) => !isDetector(r)) }));
const detectorGroups = groups.map((g) => ({ ...g, rules: g.rules.filter(isDetector) }));
const nPromql = promqlGroups.reduce((n, g) => n + g.rules.length, 0);

const a = await measure(promqlGroups, START, 3);
console.log(
  `backtest of rules/node.yml's ${nPromql} PromQL and hysteresis rules, ${DAYS} day(s) at 1 m (${
    (DAYS * 1440 + 1).toLocaleString("en")
  } evaluations), ${HOSTS.toLocaleString("en")} hosts (median of 3 runs):`,
);
console.log(`  ${a.summary}`);
const all = report(a.runs, `all ${nPromql} rules`)!;
const share = (all.total - all.client) / all.client * 100;
console.log(
  `  evaluation and state machine = ${share.toFixed(1)} % of the query time (target ≤ 20 %: ${
    share <= 20 ? "met" : "NOT met"
  }); everything outside Prometheus (client parse included) = ${
    ((all.total - all.ref) / all.ref * 100).toFixed(1)
  } % of the bare round trips`,
);

// The trend detector over a shorter span: its cost is per evaluation and per host.
const TREND_HOURS = QUICK ? 2 : 6;
if (detectorGroups.some((g) => g.rules.length > 0)) {
  const b = await measure(detectorGroups, END - TREND_HOURS * HOUR, 1);
  const evals = TREND_HOURS * 60 + 1;
  console.log(
    `backtest of rules/node.yml's detector rules, the last ${TREND_HOURS} h at 1 m (${evals} evaluations), ${
      HOSTS.toLocaleString("en")
    } hosts (1 run):`,
  );
  console.log(`  ${b.summary}`);
  report(b.runs);
  const t = sum(b.runs[0], (x) => x.total), c = sum(b.runs[0], (x) => x.client);
  console.log(
    `  ${((t - c) / evals).toFixed(1)} ms of detector work per evaluation (${
      ((t - c) / evals / HOSTS * 1000).toFixed(0)
    } µs per host): a 7-day backtest of it (10,081 evaluations) takes about ${
      ((t / evals) * 10_081 / 1000).toFixed(0)
    } s here`,
  );
}
