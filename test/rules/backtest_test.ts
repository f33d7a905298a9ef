/**
 * The backtest with hand-made range answers: rows, notifications (firing,
 * resolved, repeats), no data and partial answers holding states, blind
 * rules, step alignment, and the report formats.
 */
import assert from "node:assert/strict";
import { backtest } from "../../lib/rules/backtest.ts";
import {
  BACKTEST_FIELDS,
  backtestCsv,
  backtestHtml,
  backtestJsonLines,
} from "../../lib/rules/backtest_report.ts";
import type { RuleGroupSpec, RuleQueryClient } from "../../lib/rules/evaluator.ts";
import type { RangeResult } from "../../lib/prometheus/client.ts";

const T0 = Date.UTC(2026, 10, 1, 10);
const MIN = 60_000;

type Values = Record<string, (number | null)[]>;

/** Range answers: per instance, one value per minute (null: no sample); presence per minute. */
function fakeRange(
  series: Values,
  options: { present?: (minute: number) => boolean; warnings?: string[] } = {},
): RuleQueryClient & { ranges: { q: string; start: number; end: number; step: number }[] } {
  const ranges: { q: string; start: number; end: number; step: number }[] = [];
  return {
    ranges,
    query: () => Promise.reject(new Error("unused")),
    queryRange(
      q: string,
      o: { start: unknown; end: unknown; step: unknown },
    ): Promise<RangeResult> {
      const start = (o.start as Date).getTime(), end = (o.end as Date).getTime();
      ranges.push({ q, start, end, step: Number(o.step) });
      const minutes: number[] = [];
      for (let t = start; t <= end; t += Number(o.step) * 1000) minutes.push((t - T0) / MIN);
      const result = q.startsWith("label_replace")
        ? [{
          metric: { opsbook_selector: "0" },
          values: minutes.filter((m) => options.present?.(m) ?? true).map((m) =>
            [(T0 + m * MIN) / 1000, "1"] as [number, string]
          ),
        }]
        : Object.entries(series).map(([instance, vs]) => ({
          metric: { instance },
          values: minutes.filter((m) => vs[m] !== null && vs[m] !== undefined).map((m) =>
            [(T0 + m * MIN) / 1000, String(vs[m])] as [number, string]
          ),
        })).filter((s) => s.values.length > 0);
      return Promise.resolve({
        resultType: "matrix",
        result,
        warnings: q.startsWith("label_replace") ? [] : options.warnings ?? [],
        infos: [],
        chunks: 1,
      });
    },
  } as unknown as RuleQueryClient & {
    ranges: { q: string; start: number; end: number; step: number }[];
  };
}

const rules = (extra: Record<string, unknown> = {}): RuleGroupSpec[] => [{
  name: "node",
  interval: "1m",
  rules: [{
    alert: "Hot",
    expr: "cpu > 80",
    annotations: { summary: "{{ $labels.instance }} at {{ $value }}" },
    ...extra,
  }],
}];

const range = { start: new Date(T0), end: new Date(T0 + 10 * MIN) };
const hm = (iso: string | null) => iso === null ? "-" : iso.slice(11, 16);

Deno.test("backtest: one range query at the group interval, rows with activeAt, firedAt, resolvedAt and annotations as when fired", async () => {
  const client = fakeRange({ a: [null, 85, 90, 95, null, null, null, null, 99, 99, 99] });
  const r = await backtest(client, rules({ for: "1m" }), range);
  assert.deepEqual(client.ranges[0], {
    q: "cpu > 80",
    start: T0,
    end: T0 + 10 * MIN,
    step: 60,
  });
  assert.deepEqual(
    r.rows.map((
      x,
    ) => [
      x.labels.instance,
      hm(x.activeAt),
      hm(x.firedAt),
      hm(x.resolvedAt),
      x.annotations.summary,
    ]),
    [
      ["a", "10:01", "10:02", "10:04", "a at 90"],
      ["a", "10:08", "10:09", "-", "a at 99"],
    ],
  );
  assert.deepEqual(r.rows[0].labels, { instance: "a" });
  // firing 10:02, resolved 10:04, firing 10:09
  assert.deepEqual(
    [r.rules[0].firing, r.rules[0].resolved, r.rules[0].repeats, r.rules[0].notifications],
    [2, 1, 0, 3],
  );
  assert.equal(r.start, "2026-11-01T10:00:00Z");
  assert.equal(r.end, "2026-11-01T10:10:00Z");
});

Deno.test("backtest: evaluations at start + k·interval, the last one at or before end", async () => {
  const client = fakeRange({ a: Array(20).fill(90) });
  const r = await backtest(client, [{
    name: "g",
    interval: "3m",
    rules: [{ alert: "X", expr: "cpu > 1" }],
  }], {
    start: new Date(T0 + 30_000),
    end: new Date(T0 + 10 * MIN),
  });
  assert.deepEqual(client.ranges[0].end - client.ranges[0].start, 9 * MIN);
  assert.equal(r.rules[0].evaluations, 4);
  assert.equal(r.end, "2026-11-01T10:09:30Z");
});

Deno.test("backtest: repeats every repeatInterval while firing; alerts of one evaluation are one notification", async () => {
  const client = fakeRange({ a: Array(11).fill(90), b: Array(11).fill(90) });
  const r = await backtest(client, rules(), { ...range, repeatInterval: "4m" });
  // fired at 10:00 (one notification for both), repeats at 10:04 and 10:08 (both), never resolved
  assert.deepEqual(
    [r.rules[0].firing, r.rules[0].repeats, r.rules[0].resolved, r.rules[0].notifications],
    [2, 4, 0, 3],
  );
  assert.deepEqual(r.rules[0].notifiedAt, [
    "2026-11-01T10:00:00Z",
    "2026-11-01T10:04:00Z",
    "2026-11-01T10:08:00Z",
  ]);
  assert.deepEqual(r.rows.map((x) => x.resolvedAt), [null, null]);
});

Deno.test("backtest: a rule's opsbook repeat_interval replaces repeatInterval for its notifications", async () => {
  const client = fakeRange({ a: Array(11).fill(90) });
  const r = await backtest(client, rules({ opsbook: { repeat_interval: "8m" } }), {
    ...range,
    repeatInterval: "4m",
  });
  // fired at 10:00, repeated at 10:08 only (4m would repeat at 10:04 and 10:08)
  assert.deepEqual(r.rules[0].notifiedAt, ["2026-11-01T10:00:00Z", "2026-11-01T10:08:00Z"]);
  assert.deepEqual([r.rules[0].repeats, r.rules[0].notifications], [1, 2]);
  // Not a detector rule: the same range query as a plain rule.
  assert.deepEqual(client.ranges.map((x) => x.q), ["cpu > 80"]);
});

Deno.test("backtest: no data holds the state (Prometheus would resolve at 10:03), a partial range holds throughout", async () => {
  const values = { a: [90, 90, 90, null, null, 90, 90, null, null, null, null] };
  const noData = await backtest(
    fakeRange(values, { present: (m) => m !== 3 && m !== 4 }),
    rules(),
    range,
  );
  assert.deepEqual(noData.rows.map((x) => [hm(x.firedAt), hm(x.resolvedAt)]), [["10:00", "10:07"]]);
  assert.equal(noData.rules[0].noData, 2);
  const complete = await backtest(fakeRange(values), rules(), range);
  assert.deepEqual(complete.rows.map((x) => [hm(x.firedAt), hm(x.resolvedAt)]), [
    ["10:00", "10:03"],
    ["10:05", "10:07"],
  ]);
  const partial = await backtest(
    fakeRange(values, { warnings: ["store ali unavailable"] }),
    rules(),
    range,
  );
  assert.deepEqual(partial.rows.map((x) => [hm(x.firedAt), hm(x.resolvedAt)]), [["10:00", "-"]]);
  assert.deepEqual(partial.rules[0].warnings, ["store ali unavailable"]);
});

Deno.test("backtest: a rule whose selector never matched is blind; recording rules are listed, not evaluated", async () => {
  const client = fakeRange({}, { present: () => false });
  const r = await backtest(client, [{
    name: "g",
    rules: [
      { record: "job:up:sum", expr: "sum(up)" },
      { alert: "Typo", expr: "node_cpu_secnds_total > 1" },
    ],
  }], range);
  assert.deepEqual(r.rules[0].blind, ["node_cpu_secnds_total"]);
  assert.deepEqual(r.recording, ["g/job:up:sum"]);
});

Deno.test("backtest: onProgress per rule, onEvaluation per step", async () => {
  const progress: string[] = [];
  let steps = 0;
  await backtest(fakeRange({ a: [90] }), rules(), {
    ...range,
    onProgress: (p) => progress.push(`${p.done}/${p.total} ${p.rule} ${p.evaluations}`),
    onEvaluation: () => steps++,
  });
  assert.deepEqual(progress, ["1/1 node/Hot 11"]);
  assert.equal(steps, 11);
});

Deno.test("reports: JSON lines with exactly the documented fields, CSV quoting, HTML escaped and script-free", async () => {
  const client = fakeRange({ 'x"<script>alert(1)</script>,y': [90, null] });
  const r = await backtest(client, rules(), { start: new Date(T0), end: new Date(T0 + MIN) });
  const lines = backtestJsonLines(r).trimEnd().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => Object.keys(l)), [BACKTEST_FIELDS]);
  assert.deepEqual(lines[0], {
    alertname: "Hot",
    labels: { instance: 'x"<script>alert(1)</script>,y' },
    annotations: { summary: 'x"<script>alert(1)</script>,y at 90' },
    activeAt: "2026-11-01T10:00:00Z",
    firedAt: "2026-11-01T10:00:00Z",
    resolvedAt: "2026-11-01T10:01:00Z",
  });
  assert.equal(
    backtestCsv(r),
    "alertname,labels,annotations,activeAt,firedAt,resolvedAt\r\n" +
      'Hot,"{instance=""x\\""<script>alert(1)</script>,y""}","{""summary"":""x\\""<script>alert(1)</script>,y at 90""}",2026-11-01T10:00:00Z,2026-11-01T10:00:00Z,2026-11-01T10:01:00Z\r\n',
  );
  const html = backtestHtml(r);
  assert.ok(!html.includes("<script"), "no script element");
  assert.ok(html.includes("&lt;script&gt;"));
  assert.match(html, /<svg/);
});

Deno.test("backtest: a hysteresis rule is one range query of its left side, and equals live evaluation at every step", async () => {
  const values: Values = {
    a: [70, 85, 90, 78, 76, NaN, 74, 90, 82, 60, 95],
    b: [81, 79, 81, 81, 40, 81, 81, 81, 81, 81, 81],
  };
  const spec: RuleGroupSpec[] = [{
    name: "node",
    interval: "1m",
    rules: [{
      alert: "HostHighCpu",
      expr: "cpu > 80",
      for: "1m",
      opsbook: { detector: "hysteresis", clear_below: 75 },
      annotations: { summary: "{{ $labels.instance }} at {{ $value }}" },
    }],
  }];
  const client = fakeRange(values);
  const seen: string[] = [];
  const result = await backtest(client, spec, {
    ...range,
    onEvaluation: (e) =>
      seen.push(
        `${(e.at - T0) / MIN}: ${
          e.alerts.map((a) => `${a.labels.instance}=${a.state}`).sort().join(",")
        }`,
      ),
  });
  // One range query: the left side where it is on the firing side of the clear level, or NaN
  // (the detector applies the levels with the alert states of each step).
  assert.deepEqual(client.ranges.map((r) => r.q).filter((q) => !q.startsWith("label_replace")), [
    "(cpu) >= 75 or (cpu) != (cpu)",
  ]);
  // The live evaluator, one instant query per minute on the same values.
  const { RuleEvaluator } = await import("../../lib/rules/evaluator.ts");
  const live = new RuleEvaluator({
    query: (q: string, o: { time?: unknown }) => {
      const m = ((o.time as Date).getTime() - T0) / MIN;
      const result = q.startsWith("label_replace")
        ? [{ metric: { opsbook_selector: "0" }, value: [0, "1"] as [number, string] }]
        : Object.entries(values).filter(([, vs]) => vs[m] !== null).map(([instance, vs]) => ({
          metric: { instance },
          value: [0, String(vs[m])] as [number, string],
        }));
      return Promise.resolve({ resultType: "vector" as const, result, warnings: [], infos: [] });
    },
    queryRange: () => Promise.reject(new Error("unused")),
  } as unknown as RuleQueryClient, spec);
  const expected: string[] = [];
  for (let m = 0; m <= 10; m++) {
    const r = await live.evaluate(new Date(T0 + m * MIN));
    expected.push(
      `${m}: ${r.active.map((a) => `${a.labels.instance}=${a.state}`).sort().join(",")}`,
    );
  }
  assert.deepEqual(seen, expected);
  assert.deepEqual(seen, [
    "0: b=pending",
    "1: a=pending,b=firing",
    "2: a=firing,b=firing",
    "3: a=firing,b=firing",
    "4: a=firing",
    "5: a=firing,b=pending",
    "6: b=firing",
    "7: a=pending,b=firing",
    "8: a=firing,b=firing",
    "9: b=firing",
    "10: a=pending,b=firing",
  ]);
  assert.deepEqual(
    result.rows.map((r) =>
      `${r.labels.instance} ${hm(r.activeAt)} ${hm(r.firedAt)} ${hm(r.resolvedAt)}`
    ),
    [
      "b 10:00 10:01 10:04",
      "a 10:01 10:02 10:06",
      "b 10:05 10:06 -",
      "a 10:07 10:08 10:09",
      "a 10:10 - -",
    ],
  );
});

Deno.test("backtest: a trend rule's windows come from a few block range queries, with the answer of a range query per evaluation", async () => {
  // Host a climbs 1 a minute from 20 at 10:00; host b is flat; samples every minute.
  const value = (instance: string, ms: number) =>
    instance === "a" ? 20 + (ms - T0) / MIN : 50 + 0.01 * Math.sin(ms / MIN);
  const ranges: { start: number; end: number }[] = [];
  const client = {
    query: () => Promise.reject(new Error("unused")),
    queryRange(_q: string, o: { start: unknown; end: unknown; step: unknown }) {
      const start = (o.start as Date).getTime(), end = (o.end as Date).getTime();
      const step = Number(o.step) * 1000;
      ranges.push({ start, end });
      const result = ["a", "b"].map((instance) => {
        const values: [number, string][] = [];
        for (let t = start; t <= end; t += step) {
          if (t <= T0 + 60 * MIN) values.push([t / 1000, String(value(instance, t))]);
        }
        return { metric: { instance }, values };
      });
      return Promise.resolve({ resultType: "matrix", result, warnings: [], infos: [], chunks: 1 });
    },
  } as unknown as RuleQueryClient;
  const spec: RuleGroupSpec[] = [{
    name: "node",
    interval: "1m",
    rules: [{
      alert: "CpuTrend",
      expr: "cpu > 100",
      opsbook: { detector: "trend", lookback: "30m", step: "5m", within: "1h", min_r2: 0.9 },
    }],
  }];
  const seen: string[] = [];
  const result = await backtest(client, spec, {
    start: new Date(T0),
    end: new Date(T0 + 60 * MIN),
    onEvaluation: (e) =>
      seen.push(`${(e.at - T0) / MIN}: ${e.alerts.map((a) => a.labels.instance).sort().join(",")}`),
  });
  const backtestQueries = ranges.length;
  // 61 evaluations, 5 step phases, 1 block: 5 range queries instead of 61.
  assert.equal(backtestQueries, 5);
  ranges.length = 0;
  const { RuleEvaluator } = await import("../../lib/rules/evaluator.ts");
  const live = new RuleEvaluator(client, spec);
  const expected: string[] = [];
  for (let m = 0; m <= 60; m++) {
    const r = await live.evaluate(new Date(T0 + m * MIN));
    expected.push(`${m}: ${r.active.map((a) => a.labels.instance).sort().join(",")}`);
  }
  assert.equal(ranges.length, 61);
  assert.deepEqual(seen, expected);
  assert.deepEqual(
    result.rows.map((r) =>
      `${r.labels.instance} ${hm(r.activeAt)} ${hm(r.firedAt)} ${hm(r.resolvedAt)}`
    ),
    [expected.findIndex((l) => l.endsWith(": a"))].map((m) =>
      `a 10:${String(m).padStart(2, "0")} 10:${String(m).padStart(2, "0")} -`
    ),
  );
});
