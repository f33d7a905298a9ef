/**
 * The oracle: Prometheus' own `promtool test rules` judges the backtest.
 * The same samples are given to promtool as `input_series` and backfilled
 * into a real Prometheus (OpenMetrics + `promtool tsdb create-blocks-from`);
 * `backtest` runs against that Prometheus, and its firing alerts at EVERY
 * evaluation time (labels and expanded annotations) become the
 * `exp_alerts` of a promtool test file, which promtool must accept.
 */
import assert from "node:assert/strict";
import { backtest, type BacktestEvaluation } from "../../lib/rules/backtest.ts";
import type { RuleGroupSpec } from "../../lib/rules/evaluator.ts";
import { PrometheusClient } from "../../lib/prometheus/client.ts";
import { startPrometheus } from "../../dev/stack.ts";
import { hasPromtool, promtool } from "./_promtool.ts";

const MIN = 60_000;
/** Where the backfilled samples start (promtool's time 0). */
const T0 = Date.UTC(2026, 10, 20);
/** Evaluations 0..LAST minutes. */
const LAST = 60;

/** promtool series notation expanded: `a+bxn` (n+1 samples), `axn`, `_`, `_xn`, `NaN`. */
function expand(values: string): (number | null)[] {
  const out: (number | null)[] = [];
  for (const part of values.trim().split(/\s+/)) {
    let m = part.match(/^_(?:x(\d+))?$/);
    if (m) {
      for (let i = 0; i < (m[1] === undefined ? 1 : Number(m[1])); i++) out.push(null);
      continue;
    }
    m = part.match(/^([-+]?[\d.]+|NaN)(?:([+-][\d.]+)?x(\d+))?$/);
    if (!m) throw new Error(`bad series value ${part}`);
    const a = m[1] === "NaN" ? NaN : Number(m[1]);
    if (m[3] === undefined) {
      out.push(a);
      continue;
    }
    const b = m[2] === undefined ? 0 : Number(m[2]);
    for (let i = 0; i <= Number(m[3]); i++) out.push(a + b * i);
  }
  return out;
}

/** The scenarios: one series each of `cpu`, one sample a minute. */
const SERIES: { instance: string; values: string }[] = [
  // a sustained rise: fires after `for`, resolves when it drops
  { instance: "rise", values: "50x9 90x14 50x30" },
  // a short spike: one sample above, seen for one evaluation
  { instance: "spike", values: "50x10 95 50x40" },
  // flapping at several periods around the threshold
  {
    instance: "flap2",
    values: "90 50 90 50 90 50 90 50 90 50 90 50 90 50 90 50 90 50 90 50 50x30",
  },
  {
    instance: "flap4",
    values: "90 90 50 50 90 90 50 50 90 90 50 50 90 90 50 50 90 90 50 50 50x30",
  },
  { instance: "flap10", values: "90x4 50x4 90x4 50x4 90x4 50x4 50x30" },
  // disappears (no sample: the 5 min lookback still sees the last one) and comes back
  { instance: "gone", values: "85x5 _x12 85x10 50x30" },
  // NaN in the middle of a firing episode
  { instance: "nan", values: "91x5 NaN 91x5 NaN NaN 91x8 50x30" },
  // rising value: annotations change while firing
  { instance: "ramp", values: "70+2x30 50x30" },
];

const RULES: RuleGroupSpec[] = [{
  name: "oracle",
  interval: "1m",
  rules: [
    {
      alert: "HighCpu",
      expr: "cpu > 80",
      for: "3m",
      labels: { severity: "page", host: "{{ $labels.instance }}" },
      annotations: {
        summary: "CPU {{ $value }} on {{ $labels.instance }}",
        description: '{{ printf "%.1f" $value }} > 80 on {{ $labels.instance | toUpper }}',
      },
    },
    {
      alert: "HighCpuNow",
      expr: "cpu > 80",
      annotations: { summary: "{{ $labels.instance }} at {{ humanize $value }}" },
    },
    {
      alert: "HighCpuKept",
      expr: "cpu > 80",
      for: "1m",
      keepFiringFor: "3m",
      labels: { team: "ops" },
      annotations: { summary: "{{ $labels.instance }}: {{ $value }}" },
    },
    {
      alert: "HighCpuWindow",
      expr: "max_over_time(cpu[3m]) > 85",
      for: "2m",
      annotations: { summary: "max {{ $value }} on {{ $labels.instance }}" },
    },
  ],
}];

/** The rule file as promtool reads it (snake_case keys). */
function promRules(): unknown {
  return {
    groups: RULES.map((g) => ({
      name: g.name,
      interval: g.interval,
      rules: g.rules.map((r) => {
        const a = r as Record<string, unknown>;
        const out: Record<string, unknown> = { alert: a.alert, expr: a.expr };
        if (a.for !== undefined) out.for = a.for;
        if (a.keepFiringFor !== undefined) out.keep_firing_for = a.keepFiringFor;
        if (a.labels !== undefined) out.labels = a.labels;
        if (a.annotations !== undefined) out.annotations = a.annotations;
        return out;
      }),
    })),
  };
}

/** A promtool test file over {@linkcode SERIES} with these alert tests. */
function promtoolTest(alertTests: unknown[]): string {
  return JSON.stringify(
    {
      rule_files: ["rules.json"],
      evaluation_interval: "1m",
      tests: [{
        interval: "1m",
        input_series: SERIES.map((s) => ({
          series: `cpu{instance="${s.instance}"}`,
          values: s.values,
        })),
        alert_rule_test: alertTests,
      }],
    },
    null,
    1,
  );
}

function openMetrics(): string {
  const lines = ["# TYPE cpu gauge"];
  for (const s of SERIES) {
    expand(s.values).forEach((v, i) => {
      if (v === null) return;
      const value = Number.isNaN(v) ? "NaN" : String(v);
      lines.push(`cpu{instance="${s.instance}"} ${value} ${(T0 + i * MIN) / 1000}`);
    });
  }
  lines.push("# EOF");
  // OpenMetrics wants one metric family with its samples grouped per series, in time order.
  return lines.join("\n") + "\n";
}

Deno.test({
  name: "oracle: backtest's firing alerts at every evaluation are what promtool test rules expects",
  ignore: !hasPromtool,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using prom = await startPrometheus({ openMetrics: openMetrics() });
    const client = new PrometheusClient({ url: prom.url, retry: false });
    const evaluations: BacktestEvaluation[] = [];
    const result = await backtest(client, RULES, {
      start: new Date(T0),
      end: new Date(T0 + LAST * MIN),
      interval: "1m",
      onEvaluation: (e) => evaluations.push(e),
    });
    assert.equal(evaluations.length, (LAST + 1) * 4);
    assert.deepEqual(result.rules.map((r) => [r.rule, r.errors, r.noData, r.warnings]), [
      ["oracle/HighCpu", 0, 0, []],
      ["oracle/HighCpuNow", 0, 0, []],
      ["oracle/HighCpuKept", 0, 0, []],
      ["oracle/HighCpuWindow", 0, 0, []],
    ]);
    // Some of each: the scenarios exercise every transition.
    const fired = new Set(
      result.rows.filter((r) => r.firedAt !== null).map((r) =>
        `${r.alertname} ${r.labels.instance}`
      ),
    );
    for (
      const s of [
        "HighCpu rise",
        "HighCpu gone",
        "HighCpuNow spike",
        "HighCpuNow flap2",
        "HighCpuWindow flap4",
      ]
    ) {
      assert.ok(fired.has(s), `expected ${s} to fire; fired: ${[...fired].join(", ")}`);
    }
    assert.ok(!fired.has("HighCpu spike"), "a one-sample spike must not survive for: 3m");

    const tests = evaluations.map((e) => ({
      eval_time: `${(e.at - T0) / MIN}m`,
      alertname: e.rule.split("/")[1],
      exp_alerts: e.alerts.filter((a) => a.state === "firing").map((a) => {
        const { alertname: _, ...labels } = a.labels;
        return { exp_labels: labels, exp_annotations: a.annotations };
      }),
    }));
    const dir = await Deno.makeTempDir({ prefix: "opsbook-oracle-" });
    try {
      await Deno.writeTextFile(`${dir}/rules.json`, JSON.stringify(promRules(), null, 1));
      await Deno.writeTextFile(`${dir}/test.json`, promtoolTest(tests));
      const { code, output } = await promtool(["test", "rules", "test.json"], dir);
      assert.equal(code, 0, `promtool disagrees with the backtest:\n${output.slice(0, 6000)}`);
      // Positive control: one wrong expectation and promtool refuses, printing what it got.
      const wrong = tests.find((t) => t.exp_alerts.length > 0)!;
      wrong.exp_alerts = [];
      await Deno.writeTextFile(`${dir}/test.json`, promtoolTest(tests));
      const control = await promtool(["test", "rules", "test.json"], dir);
      assert.equal(control.code, 1, control.output.slice(0, 2000));
      assert.match(control.output, /got:/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
    // The rows, for the record (and a readable failure when semantics change).
    const rows = result.rows.filter((r) => r.alertname === "HighCpu").map((r) =>
      `${r.labels.instance} ${r.activeAt.slice(11, 16)} ${r.firedAt?.slice(11, 16) ?? "-"} ${
        r.resolvedAt?.slice(11, 16) ?? "-"
      }`
    );
    // instance, activeAt, firedAt, resolvedAt (pending-only instances have no firedAt)
    assert.deepEqual(rows, [
      "flap10 00:00 00:03 00:05",
      "flap2 00:00 - 00:01",
      "flap4 00:00 - 00:02",
      "gone 00:00 00:03 00:11",
      "nan 00:00 00:03 00:06",
      "flap2 00:02 - 00:03",
      "flap2 00:04 - 00:05",
      "flap4 00:04 - 00:06",
      "flap2 00:06 - 00:07",
      "ramp 00:06 00:09 00:31",
      "nan 00:07 00:10 00:13",
      "flap2 00:08 - 00:09",
      "flap4 00:08 - 00:10",
      "flap10 00:10 00:13 00:15",
      "flap2 00:10 - 00:11",
      "rise 00:10 00:13 00:25",
      "spike 00:11 - 00:12",
      "flap2 00:12 - 00:13",
      "flap4 00:12 - 00:14",
      "flap2 00:14 - 00:15",
      "nan 00:15 00:18 00:24",
      "flap2 00:16 - 00:17",
      "flap4 00:16 - 00:18",
      "flap2 00:18 - 00:19",
      "gone 00:18 00:21 00:29",
      "flap10 00:20 00:23 00:25",
    ]);
  },
});
