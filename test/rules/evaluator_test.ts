/**
 * The evaluator's state machine and its no-data / partial / blind handling,
 * with hand-made answers at each evaluation time (a fake client).
 */
import assert from "node:assert/strict";
import { RuleEvaluator, type RuleQueryClient } from "../../lib/rules/evaluator.ts";
import type { RuleGroupSpec } from "../../lib/rules/_compile.ts";
import { type MachineRule, type RuleState, stepRule } from "../../lib/rules/rule_state.ts";
import { vectorSelectors } from "../../lib/rules/_selectors.ts";
import { Alerter } from "../../lib/alert/alerter.ts";
import { DryRunSink } from "../../lib/alert/sinks/dry_run.ts";
import type { QueryResult } from "../../lib/prometheus/client.ts";

const T0 = Date.UTC(2026, 10, 1, 10);
const MIN = 60_000;
const at = (m: number) => new Date(T0 + m * MIN);
const hhmm = (iso: string | number) => new Date(iso).toISOString().slice(11, 16);

type Series = Record<string, string>;
/** What the fake Prometheus answers for one query at one time. */
type Answer = { series: [Series, number][]; warnings?: string[] } | Error;

/** A fake client: `answers(query, minute)`; presence queries answered by `present(selector, minute)`. */
function fakeClient(
  answers: (query: string, minute: number) => Answer,
  present: (selectorIndex: number, minute: number) => boolean = () => true,
): RuleQueryClient & { queries: string[] } {
  const queries: string[] = [];
  const client = {
    queries,
    query(q: string, o: { time?: unknown } = {}): Promise<QueryResult> {
      queries.push(q);
      const minute = ((o.time as Date).getTime() - T0) / MIN;
      if (q.startsWith("label_replace(")) {
        const n = q.split(" or ").length;
        const result = [];
        for (let i = 0; i < n; i++) {
          if (present(i, minute)) {
            result.push({
              metric: { opsbook_selector: String(i) },
              value: [0, "1"] as [number, string],
            });
          }
        }
        return Promise.resolve({ resultType: "vector", result, warnings: [], infos: [] });
      }
      const a = answers(q, minute);
      if (a instanceof Error) return Promise.reject(a);
      return Promise.resolve({
        resultType: "vector",
        result: a.series.map(([metric, v]) => ({
          metric,
          value: [0, String(v)] as [number, string],
        })),
        warnings: a.warnings ?? [],
        infos: [],
      });
    },
    queryRange: () => Promise.reject(new Error("not used")),
  };
  return client as unknown as RuleQueryClient & { queries: string[] };
}

function group(rule: Partial<RuleGroupSpec["rules"][number]> & { expr: string }, extra = {}) {
  return [{
    name: "g",
    interval: "1m",
    ...extra,
    rules: [{ alert: "Hot", ...rule }],
  }] as RuleGroupSpec[];
}

/** Runs minutes 0..n and returns "hh:mm kind instance" lines. */
async function run(
  evaluator: RuleEvaluator,
  minutes: number,
): Promise<string[]> {
  const out: string[] = [];
  for (let m = 0; m <= minutes; m++) {
    const r = await evaluator.evaluate(at(m));
    for (const o of r.outcomes) {
      for (const c of o.changes) out.push(`${hhmm(c.at)} ${c.kind} ${c.labels.instance}`);
    }
  }
  return out;
}

const hot = (instances: string[], v = 90): Answer => ({
  series: instances.map((i) => [{ __name__: "cpu", instance: i }, v]),
});

Deno.test("pending at the first evaluation, firing once t - activeAt >= for, resolved when absent", async () => {
  const client = fakeClient((_, m) => hot(m >= 1 && m <= 6 ? ["a"] : []));
  const e = new RuleEvaluator(client, group({ expr: "cpu > 80", for: "3m" }));
  assert.deepEqual(await run(e, 8), [
    "10:01 pending a",
    "10:04 firing a",
    "10:07 resolved a",
  ]);
});

Deno.test("for: 0 fires at the first evaluation; a pending alert that goes is inactive, not resolved", async () => {
  const c1 = fakeClient((_, m) => hot(m === 2 ? ["a"] : []));
  assert.deepEqual(await run(new RuleEvaluator(c1, group({ expr: "cpu > 80" })), 3), [
    "10:02 pending a",
    "10:02 firing a",
    "10:03 resolved a",
  ]);
  const c2 = fakeClient((_, m) => hot(m === 2 || m === 3 ? ["a"] : []));
  assert.deepEqual(await run(new RuleEvaluator(c2, group({ expr: "cpu > 80", for: "5m" })), 5), [
    "10:02 pending a",
    "10:04 inactive a",
  ]);
});

Deno.test("keep_firing_for holds a firing alert from its first absent evaluation", async () => {
  const client = fakeClient((_, m) => hot(m <= 1 || m === 4 ? ["a"] : []));
  const e = new RuleEvaluator(client, group({ expr: "cpu > 80", keepFiringFor: "2m" }));
  // absent at 2 (since 2), 3 (1m < 2m: kept), back at 4, absent 5, 6, resolved at 7 (2m)
  assert.deepEqual(await run(e, 8), [
    "10:00 pending a",
    "10:00 firing a",
    "10:07 resolved a",
  ]);
});

Deno.test("labels: series minus __name__, templated rule labels, alertname; annotations with $labels, $value, $externalLabels", async () => {
  const client = fakeClient(() => hot(["db-01:9100"], 92));
  const e = new RuleEvaluator(
    client,
    group({
      expr: "cpu > 80",
      labels: { severity: "critical", host: "{{ $labels.instance }}" },
      annotations: {
        summary: "CPU {{ $value }} on {{ $labels.instance }} in {{ $externalLabels.site }}",
      },
    }),
    { externalLabels: { site: "fra" } },
  );
  const r = await e.evaluate(at(0));
  assert.deepEqual(r.firing.map((a) => [a.labels, a.annotations, a.value, a.startsAt]), [[
    { alertname: "Hot", host: "db-01:9100", instance: "db-01:9100", severity: "critical" },
    { summary: "CPU 92 on db-01:9100 in fra" },
    92,
    "2026-11-01T10:00:00.000Z",
  ]]);
});

Deno.test("limit: too many alerts fail the rule and drop its alerts, as Prometheus does", async () => {
  const client = fakeClient((_, m) => hot(m === 0 ? ["a", "b"] : ["a", "b", "c"]));
  const e = new RuleEvaluator(client, group({ expr: "cpu > 80" }, { limit: 2 }));
  const first = await e.evaluate(at(0));
  assert.equal(first.firing.length, 2);
  const second = await e.evaluate(at(1));
  assert.deepEqual(second.outcomes[0].error, "exceeded limit of 2 with 3 alerts");
  assert.deepEqual(second.active, []);
  assert.deepEqual(second.problems, [{
    rule: "g/Hot",
    kind: "error",
    reason: "exceeded limit of 2 with 3 alerts",
  }]);
});

Deno.test("two series with the same alert labels fail the rule and keep the state", async () => {
  const client = fakeClient((_, m) =>
    m === 0 ? hot(["a"]) : {
      series: [[{ __name__: "x", instance: "a" }, 90], [{ __name__: "y", instance: "a" }, 91]],
    }
  );
  const e = new RuleEvaluator(client, group({ expr: "{__name__=~'x|y'} > 80" }));
  await e.evaluate(at(0));
  const r = await e.evaluate(at(1));
  assert.equal(
    r.outcomes[0].error,
    "vector contains metrics with the same labelset after applying alert labels",
  );
  assert.deepEqual(r.firing.map((a) => a.labels.instance), ["a"]);
});

Deno.test("a failed query resolves nothing and says why", async () => {
  const client = fakeClient((_, m) => m === 1 ? new Error("connection refused") : hot(["a"]));
  const e = new RuleEvaluator(client, group({ expr: "cpu > 80" }));
  await e.evaluate(at(0));
  const r = await e.evaluate(at(1));
  assert.deepEqual(r.firing.map((a) => a.labels.instance), ["a"]);
  assert.deepEqual(r.outcomes[0].changes, []);
  assert.deepEqual(r.problems, [{
    rule: "g/Hot",
    kind: "error",
    reason: "query failed: connection refused; alert states kept",
  }]);
});

Deno.test("no data: an input metric without any series keeps every state; back with data, absence resolves", async () => {
  // a and b fire; at 10:02 the metric is gone entirely (Prometheus would resolve both).
  const client = fakeClient(
    (_, m) => hot(m <= 1 ? ["a", "b"] : m === 3 ? ["a"] : []),
    (_, m) => m !== 2,
  );
  const e = new RuleEvaluator(client, group({ expr: 'node_cpu_seconds_total{mode="idle"} > 80' }));
  await e.evaluate(at(0));
  await e.evaluate(at(1));
  const gone = await e.evaluate(at(2));
  assert.deepEqual(gone.firing.map((a) => a.labels.instance), ["a", "b"]);
  assert.deepEqual(gone.problems, [{
    rule: "g/Hot",
    kind: "no data",
    reason:
      'no data: node_cpu_seconds_total{mode="idle"} has no series at 2026-11-01T10:02:00.000Z; alert states kept',
  }]);
  // 10:03: data again, b absent from a complete answer: resolved; a keeps firing since 10:00.
  const back = await e.evaluate(at(3));
  assert.deepEqual(back.outcomes[0].changes.map((c) => `${c.kind} ${c.labels.instance}`), [
    "resolved b",
  ]);
  assert.deepEqual(back.firing.map((a) => [a.labels.instance, a.startsAt]), [
    ["a", "2026-11-01T10:00:00.000Z"],
  ]);
  assert.deepEqual(back.problems, []);
});

Deno.test("partial answer: alerts absent from it keep their state, present ones update", async () => {
  const client = fakeClient((_, m) =>
    m === 0
      ? hot(["a", "b"])
      : m === 1
      ? { series: [[{ instance: "a" }, 95]], warnings: ["partial response: store ali unavailable"] }
      : hot(["a"])
  );
  const e = new RuleEvaluator(
    client,
    group({ expr: "cpu > 80", annotations: { summary: "{{ $value }}" } }),
  );
  await e.evaluate(at(0));
  const partial = await e.evaluate(at(1));
  assert.deepEqual(partial.firing.map((a) => [a.labels.instance, a.annotations.summary]), [
    ["a", "95"],
    ["b", "90"],
  ]);
  assert.deepEqual(partial.outcomes[0].changes, []);
  assert.equal(partial.partial, true);
  assert.deepEqual(partial.warnings, ["g/Hot: partial response: store ali unavailable"]);
  assert.deepEqual(partial.problems, [{
    rule: "g/Hot",
    kind: "partial",
    reason:
      "partial answer at 2026-11-01T10:01:00.000Z (partial response: store ali unavailable): alerts absent from it kept their state",
  }]);
  const complete = await e.evaluate(at(2));
  assert.deepEqual(complete.outcomes[0].changes.map((c) => `${c.kind} ${c.labels.instance}`), [
    "resolved b",
  ]);
  assert.equal(complete.partial, false);
  assert.deepEqual(complete.warnings, []);
});

Deno.test("blind: a rule whose selector never matched is reported every evaluation, overdue after blindAfter", async () => {
  const client = fakeClient(() => hot([]), () => false);
  const e = new RuleEvaluator(client, group({ expr: "node_cpu_secnds_total > 80" }), {
    blindAfter: "2m",
  });
  const seen = [];
  for (let m = 0; m <= 2; m++) {
    const r = await e.evaluate(at(m));
    seen.push(r.outcomes[0].blind);
  }
  assert.deepEqual(seen, [
    { since: "2026-11-01T10:00:00.000Z", selectors: ["node_cpu_secnds_total"], overdue: false },
    { since: "2026-11-01T10:00:00.000Z", selectors: ["node_cpu_secnds_total"], overdue: false },
    { since: "2026-11-01T10:00:00.000Z", selectors: ["node_cpu_secnds_total"], overdue: true },
  ]);
  const r = await e.evaluate(at(3));
  assert.deepEqual(r.problems.map((p) => p.reason), [
    "blind: node_cpu_secnds_total never matched any series (since 2026-11-01T10:00:00.000Z)",
  ]);
});

Deno.test("a rule whose inputs exist but that matches nothing is not blind, and is not probed again", async () => {
  const client = fakeClient(() => hot([]));
  const e = new RuleEvaluator(client, group({ expr: "cpu > 80" }));
  const r0 = await e.evaluate(at(0));
  const r1 = await e.evaluate(at(1));
  assert.equal(r0.outcomes[0].blind, undefined);
  assert.deepEqual(r1.problems, []);
  assert.deepEqual(client.queries, [
    "cpu > 80",
    'label_replace(count(cpu), "opsbook_selector", "0", "", "")',
    "cpu > 80",
  ]);
});

Deno.test("the state is plain JSON: a new evaluator from the saved state continues (NaN values too)", async () => {
  const client = fakeClient((_, m) => ({ series: [[{ instance: "a" }, m === 0 ? NaN : 90]] }));
  const first = new RuleEvaluator(client, group({ expr: "cpu", for: "2m" }));
  await first.evaluate(at(0));
  const saved = JSON.parse(JSON.stringify(first.state));
  assert.equal(
    saved.rules["g/Hot"].alerts[Object.keys(saved.rules["g/Hot"].alerts)[0]].value,
    null,
  );
  const second = new RuleEvaluator(client, group({ expr: "cpu", for: "2m" }), { state: saved });
  assert.deepEqual(second.active().map((a) => [a.state, a.value]), [["pending", NaN]]);
  assert.deepEqual(await run(second, 2), ["10:02 firing a"]);
});

Deno.test("groups run at their own interval; firing lists every rule's alerts", async () => {
  const client = fakeClient((q) => hot(q.startsWith("slow") ? ["s"] : ["f"]));
  const e = new RuleEvaluator(client, [
    { name: "fast", interval: "1m", rules: [{ alert: "Fast", expr: "fast > 1" }] },
    { name: "slow", interval: "5m", rules: [{ alert: "Slow", expr: "slow > 1" }] },
  ]);
  const groups = [];
  for (let m = 0; m <= 5; m++) {
    const r = await e.evaluate(at(m));
    groups.push(r.groups.join(","));
    assert.deepEqual(r.firing.map((a) => a.labels.alertname), ["Fast", "Slow"]);
  }
  assert.deepEqual(groups, ["fast,slow", "fast", "fast", "fast", "fast", "fast,slow"]);
});

Deno.test("the Alerter consumes the evaluation unchanged: one firing and one resolved notification", async () => {
  const dir = await Deno.makeTempDir();
  const lines: string[] = [];
  const alerter = new Alerter({
    statePath: `${dir}/alerts.json`,
    sinks: [new DryRunSink({ write: (l: string) => lines.push(l) })],
  });
  const client = fakeClient((_, m) => hot(m < 2 ? ["a"] : []));
  const e = new RuleEvaluator(
    client,
    group({ expr: "cpu > 80", annotations: { summary: "hot {{ $labels.instance }}" } }),
  );
  const kinds = [];
  for (let m = 0; m <= 3; m++) {
    const r = await e.evaluate(at(m));
    const report = await alerter.evaluate(r.firing, { now: r.evaluatedAt, contexts: r.contexts });
    kinds.push(report.sent.map((n) => `${n.kind} ${n.alerts[0].annotations.summary}`).join());
  }
  assert.deepEqual(kinds, ["firing hot a", "", "resolved hot a", ""]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("stepRule: a resolved alert that comes back is a new episode", () => {
  const rule: MachineRule = {
    name: "X",
    forMs: 0,
    keepFiringForMs: 0,
    limit: 0,
    pureAnnotations: true,
    alertLabels: (s) => ({ ...s.labels, alertname: "X" }),
    annotations: () => ({}),
  };
  const state: RuleState = { alerts: {} };
  const s = [{ labels: { i: "a" }, value: 1 }];
  stepRule(state, rule, 0, s);
  stepRule(state, rule, 60_000, []);
  const back = stepRule(state, rule, 120_000, s);
  assert.deepEqual(back.transitions.map((t) => [t.kind, t.alert.activeAt, t.alert.firedAt]), [
    ["pending", 120_000, 120_000],
    ["firing", 120_000, 120_000],
  ]);
});

Deno.test("vectorSelectors: names, matchers, ranges, offsets; not functions, keywords, label lists, strings", () => {
  assert.deepEqual(
    vectorSelectors(
      'sum without(cpu) (rate(node_cpu_seconds_total{mode!="idle"}[2m] offset 1h)) * on(instance) group_left (nodename) node_uname_info{x="a or b"} > 0 or absent(up{job="node"})',
    ),
    [
      {
        selector: 'node_cpu_seconds_total{mode!="idle"}',
        range: "2m",
        offset: "1h",
        inAbsent: false,
      },
      { selector: 'node_uname_info{x="a or b"}', inAbsent: false },
      { selector: 'up{job="node"}', inAbsent: true },
    ],
  );
  assert.deepEqual(vectorSelectors("predict_linear(x[6h:5m], 4 * 3600) < 0 unless y"), [
    { selector: "x", range: "6h", inAbsent: false },
    { selector: "y", inAbsent: false },
  ]);
});

Deno.test("fastTemplate prints exactly as the Go-template engine for the common templates", async () => {
  const { fastTemplate } = await import("../../lib/rules/_compile.ts");
  const { goTemplateCompiler } = await import("../../lib/rules/template.ts");
  const engine = goTemplateCompiler();
  const texts = [
    "CPU {{ $value }} on {{ $labels.instance }}",
    "{{$labels.missing}}|{{ $externalLabels.site }}|{{ $externalURL }}|",
    "plain text",
    "{{ $value }}",
    "{{ $value | humanize }} / {{ humanize1024 $value }}B / {{ $value | humanizePercentage }}",
    '{{ humanizeDuration $value }} and {{ printf "%.1f" $value }} % ({{ $value | printf "%.0f" }})',
  ];
  for (const text of texts) {
    const fast = fastTemplate(text);
    assert.ok(fast !== undefined, text);
    for (
      const value of [92, 0.1, 1e6, 1234567.5, 1e-5, 123456.7, NaN, Infinity, -Infinity, -0, 1e21]
    ) {
      const data = {
        labels: { instance: "db-01:9100" },
        value,
        externalLabels: { site: "fra" },
        externalURL: "http://prom",
      };
      assert.equal(fast(data), engine(text)(data), `${text} with ${value}`);
    }
  }
  for (
    const text of [
      "{{ $value | humanize | toUpper }}",
      "{{- $value }}",
      "{{ .Labels.x }}",
      "a }} b",
      '{{ printf "%s\\n" $value }}',
      "{{ humanize $labels.x }}",
    ]
  ) {
    assert.equal(fastTemplate(text), undefined, text);
  }
});
