/**
 * The `anomaly` detector of the rule files: options checked at load time
 * (file:line:col), the shipped example `rules/anomaly.yml` backtested over
 * the synthetic dataset on a real Prometheus (which scripted incidents it
 * catches, when it fires and resolves, the alert text), and live evaluation
 * that keeps the trackers in the JSON state and reads only new samples.
 */

import assert from "node:assert/strict";
import {
  backtest,
  loadRuleFiles,
  parseRules,
  PrometheusClient,
  RuleEvaluator,
  RuleFileError,
  type RulesState,
} from "../../lib/mod.ts";
import type { RuleQueryClient } from "../../lib/rules/evaluator.ts";
import { missingBinaries, startPrometheus } from "../../dev/stack.ts";
import { DATASET_START_MS } from "../../dev/dataset.ts";
import { hasPromtool, promtool } from "./_promtool.ts";

const missing = missingBinaries(["prometheus", "promtool"]);
const EXAMPLE = "rules/anomaly.yml";

function problemsOf(opsbook: string, extra = ""): string[] {
  const text = `groups:
- name: g
  rules:
  - alert: A
    expr: cpu
${extra}    annotations:
      opsbook: "${opsbook}"
`;
  try {
    parseRules(text, { file: "rules/a.yml" });
  } catch (error) {
    assert.ok(error instanceof RuleFileError, String(error));
    return error.problems.map((p) => p.message);
  }
  return [];
}

Deno.test("anomaly rule: bad options are file:line:col errors naming the option and the form", () => {
  assert.deepEqual(problemsOf("{detector: anomaly}"), []);
  assert.deepEqual(
    problemsOf(
      "{detector: anomaly, level: 0.3, direction: up, step: 30s, history: 7d, window: 2h, max_duration: 12h, min_days: 2, unit: '%'}",
    ),
    [],
  );
  const at = "rules/a.yml:7:16: rule A: annotations: opsbook: ";
  assert.deepEqual(problemsOf("{detector: anomaly, level: 2}"), [
    `${at}level: expected an anomaly score in (0, 1] such as 0.25, got 2`,
  ]);
  assert.deepEqual(problemsOf("{detector: anomaly, for: 10m}"), [
    `${at}detector anomaly: "for" belongs to the rule (for: 10m), not to the opsbook annotation`,
  ]);
  assert.deepEqual(problemsOf("{detector: anomaly, levle: 0.5}"), [
    `${at}detector anomaly: unknown option "levle": expected level, direction, step, history, window, max_duration, min_days, unit, e.g. {detector: anomaly, level: 0.25, unit: "%"}`,
  ]);
  assert.deepEqual(problemsOf("{detector: anomaly, step: soon}"), [
    `${at}step: expected a duration such as "5m" or "1h30m", got "soon"`,
  ]);
  assert.deepEqual(problemsOf("{detector: anomaly, direction: sideways}"), [
    `${at}direction: expected up, down or both, got "sideways"`,
  ]);
  assert.deepEqual(problemsOf("{detector: anomaly, min_days: 0}"), [
    `${at}min_days: expected an integer from 1 to 7, got 0`,
  ]);
  assert.deepEqual(problemsOf("{detector: anomaly, step: 5m, history: 1m}"), [
    `${at}history: expected at least one step (5m)`,
  ]);
});

Deno.test({
  name: "anomaly rule: the shipped example passes promtool check rules and opsbook's check",
  ignore: !hasPromtool,
  async fn() {
    const { code, output } = await promtool(["check", "rules", EXAMPLE]);
    assert.equal(code, 0, output);
    const [file] = await loadRuleFiles([EXAMPLE]);
    const rule = file.groups[0].rules[0];
    assert.ok(rule.kind === "alerting");
    assert.deepEqual(rule.opsbook, { detector: "anomaly", level: 0.25, unit: "%" });
  },
});

/** A client that records every range query (start and end in minutes of the dataset day). */
function recording(client: PrometheusClient) {
  const ranges: [number, number][] = [];
  const minutes = (d: Date) => (d.getTime() - DATASET_START_MS) / 60_000;
  const wrapped: RuleQueryClient = {
    query: (q, o) => client.query(q, o),
    queryRange: (q, o) => {
      if (!q.startsWith("label_replace")) {
        ranges.push([minutes(new Date(o.start as Date)), minutes(new Date(o.end as Date))]);
      }
      return client.queryRange(q, o);
    },
  };
  return { ranges, client: wrapped };
}

Deno.test({
  name:
    "anomaly rule: backtest of rules/anomaly.yml over the dataset: flapping, sustained and spike caught at their onset, nothing else",
  ignore: missing !== null,
  async fn() {
    await using prom = await startPrometheus();
    const { ranges, client } = recording(new PrometheusClient({ url: prom.url }));
    const groups = (await loadRuleFiles([EXAMPLE])).flatMap((f) => f.groups);
    const result = await backtest(client, groups, {
      start: "2026-11-01T00:00:00Z",
      end: "2026-11-02T00:00:00Z",
    });
    // One range query for the whole day plus a day of history, not one per evaluation.
    assert.deepEqual(ranges, [[-1440, 1440]]);
    assert.deepEqual(
      result.rows.map((r) => [r.labels.instance, r.activeAt, r.firedAt, r.resolvedAt]),
      [
        // flapping 88 % from 06:00, 78/83 % until 09:00
        [
          "az-eus-app-01:9100",
          "2026-11-01T06:01:00Z",
          "2026-11-01T06:06:00Z",
          "2026-11-01T09:01:00Z",
        ],
        // sustained 95 % 10:00–12:00
        [
          "ali-hz-db-01:9100",
          "2026-11-01T10:01:00Z",
          "2026-11-01T10:06:00Z",
          "2026-11-01T12:01:00Z",
        ],
        // spike 97 % 14:00–14:02: pending, never fires (for: 5m)
        ["tc-gz-api-01:9100", "2026-11-01T14:01:00Z", null, "2026-11-01T14:03:00Z"],
      ],
    );
    assert.deepEqual(result.rows[1].labels, {
      cloud: "aliyun",
      instance: "ali-hz-db-01:9100",
      job: "node",
      region: "cn-hangzhou",
      severity: "warning",
    });
    assert.deepEqual(result.rows[1].annotations, {
      summary:
        "CPU on ali-hz-db-01:9100 is unusual: 95.0 % where 42.5–46.9 % is normal in the last 1h",
      description:
        "CPU usage on ali-hz-db-01:9100 left its normal band (42.5–46.9 % in the last 1h) at 2026-11-01T10:01:00Z with anomaly score 0.72; now 95.0 %.",
    });
    assert.equal(
      result.rows[0].annotations.summary,
      "CPU on az-eus-app-01:9100 is unusual: 88.0 % where 32.7–36.7 % is normal in the last 1h",
    );
    assert.deepEqual(
      [result.rules[0].firing, result.rules[0].resolved, result.rules[0].notifications],
      [2, 2, 4],
    );
  },
});

Deno.test({
  name:
    "anomaly rule: live evaluation keeps the trackers in the JSON state, reads only new samples, and agrees with the backtest",
  ignore: missing !== null,
  async fn() {
    await using prom = await startPrometheus();
    const { ranges, client } = recording(new PrometheusClient({ url: prom.url }));
    const groups = (await loadRuleFiles([EXAMPLE])).flatMap((f) => f.groups);
    let evaluator: RuleEvaluator | undefined;
    const fired: string[] = [];
    const at = (minute: number) => new Date(DATASET_START_MS + minute * 60_000);
    for (let minute = 590; minute <= 610; minute++) {
      if (minute <= 600) {
        // 09:50 to 10:00: a restart at every evaluation, from the state saved as JSON or cloned.
        const saved = evaluator === undefined
          ? undefined
          : minute % 2 === 0
          ? JSON.parse(JSON.stringify(evaluator.state))
          : structuredClone(evaluator.state);
        evaluator = new RuleEvaluator(client, groups, { state: saved });
      } else if (minute === 605) {
        // An evaluation rolled back as the monitor does when one fails: clone, evaluate, restore.
        const before = structuredClone(evaluator!.state);
        await evaluator!.evaluate(at(minute));
        Object.assign(evaluator!.state, before);
      }
      const result = await evaluator!.evaluate(at(minute));
      for (const o of result.outcomes) {
        for (const c of o.changes) {
          fired.push(`${c.at.slice(11, 16)} ${c.kind} ${c.labels.instance}`);
          if (c.kind === "firing") {
            assert.equal(
              result.firing[0].annotations.summary,
              "CPU on ali-hz-db-01:9100 is unusual: 95.0 % where 42.5–46.9 % is normal in the last 1h",
            );
            assert.ok(Math.abs(result.firing[0].value - 95) < 1e-6); // the classic query, within float rounding
            assert.equal(result.firing[0].labels.opsbook_unusual, undefined, "not an alert label");
          }
        }
      }
    }
    const state: RulesState = JSON.parse(JSON.stringify(evaluator!.state));
    assert.deepEqual(fired, [
      "10:01 pending ali-hz-db-01:9100",
      "10:06 firing ali-hz-db-01:9100",
    ]);
    // A cold start reads one day; then each evaluation reads the one new step.
    assert.deepEqual(ranges[0], [590 - 1440, 590]);
    const steps = (from: number, to: number) =>
      Array.from({ length: to - from + 1 }, (_, k) => [from + k, from + k]);
    assert.deepEqual(ranges.slice(1), [...steps(591, 605), ...steps(605, 610)]);
    const series = state.rules["anomaly/HostCpuUnusual"].anomaly!.series;
    assert.equal(Object.keys(series).length, 12);
    // Evaluating the same minute again reads nothing new and changes nothing.
    const again = new RuleEvaluator(client, groups, { state });
    const before = ranges.length;
    const same = await again.evaluate(at(610), { all: true });
    assert.equal(ranges.length, before);
    assert.deepEqual(same.firing.map((a) => a.labels.instance), ["ali-hz-db-01:9100"]);
  },
});
