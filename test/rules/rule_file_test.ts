import assert from "node:assert/strict";
import { checkRuleFiles } from "../../lib/rules/check.ts";
import { loadRuleFiles, parseRules, RuleFileError } from "../../lib/rules/rule_file.ts";
import type { RuleGroupSpec } from "../../lib/rules/evaluator.ts";
import { main } from "../../scripts/rules.ts";
import { hasPromtool, promtool } from "./_promtool.ts";

const SHIPPED = "rules/node.yml";
const COMMUNITY = "test/fixtures/rules/community_node.yml";

const GOOD = `groups:
  - name: node
    interval: 30s
    limit: 10
    rules:
      - alert: HostDown
        expr: up == 0
        for: 1h30m
        keep_firing_for: 90s
        labels:
          severity: critical
          team: "{{ $labels.job }}"
        annotations:
          summary: "{{ $labels.instance }} down ({{ $value }})"
          opsbook: "{detector: outliers, tolerance: 4}"
      - alert: Zero
        expr: vector(1)
        for: 0
      - record: job:up:sum
        expr: sum by (job) (up)
        labels:
          source: rules
  - name: empty
    rules: []
`;

/** Bad files: text and the exact problems. */
const BAD: [string, string, string[]][] = [
  [
    "bad duration",
    "groups:\n- name: node\n  rules:\n  - alert: HostOutOfMemory\n    expr: up == 0\n    for: 5 minutes\n",
    ['rules/node.yml:6:10: rule HostOutOfMemory: for: invalid duration "5 minutes"'],
  ],
  [
    "unknown function in a template",
    'groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\n    annotations:\n      s: "{{ $value | nosuch }}"\n',
    ['rules/node.yml:7:10: rule A: annotations: s: template: 1:13: function "nosuch" not defined'],
  ],
  [
    "query in a template",
    "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\n    labels:\n      x: '{{ query \"up\" }}'\n",
    [
      'rules/node.yml:7:10: rule A: labels: x: template: 1:4: function "query" is not supported in opsbook (templates cannot run PromQL queries)',
    ],
  ],
  [
    "duplicate group, empty name, unknown keys",
    "groups:\n- name: g\n  rules: []\n- name: g\n  rules: []\n- name: ''\n  evaluation: 1m\n  rules:\n  - alert: A\n    expr: up\n    severity: x\n",
    [
      'rules/node.yml:4:9: group name "g" is repeated in the same file',
      'rules/node.yml:7:3: unknown field "evaluation" in group',
      "rules/node.yml:6:9: group name must not be empty",
      'rules/node.yml:11:5: rule A: unknown field "severity"',
    ],
  ],
  [
    "record and alert",
    "groups:\n- name: g\n  rules:\n  - alert: A\n    record: B\n    expr: up\n  - expr: up\n  - alert: C\n    expr: ''\n  - alert: D\n    expr: sum(rate(x[5m])\n",
    [
      "rules/node.yml:5:13: rule A: only one of 'record' and 'alert' must be set",
      "rules/node.yml:7:5: one of 'record' or 'alert' must be set",
      "rules/node.yml:9:11: rule C: field 'expr' must be set in rule",
      "rules/node.yml:11:11: rule D: could not parse expression: unclosed left parenthesis",
    ],
  ],
  [
    "recording rule with alert fields",
    "groups:\n- name: g\n  rules:\n  - record: bad name\n    expr: up\n    for: 5m\n    annotations: {a: b}\n",
    [
      "rules/node.yml:6:10: rule bad name: invalid field 'for' in recording rule",
      "rules/node.yml:7:18: rule bad name: invalid field 'annotations' in recording rule",
      "rules/node.yml:4:13: rule bad name: invalid recording rule name: bad name",
    ],
  ],
  [
    "label and annotation names",
    "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\n    labels:\n      bad-label: x\n      __name__: y\n    annotations:\n      a-b: z\n      list: [1]\n",
    [
      "rules/node.yml:7:18: rule A: invalid label name: bad-label",
      "rules/node.yml:8:17: rule A: invalid label name: __name__",
      "rules/node.yml:11:13: rule A: annotations: list: expected a string, got a list",
      "rules/node.yml:10:12: rule A: invalid annotation name: a-b",
    ],
  ],
  [
    "opsbook key and bad detector",
    "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: x > 80\n    opsbook: {detector: hysteresis}\n  - alert: B\n    expr: x > 80\n    annotations:\n      opsbook: '{detector: magic}'\n",
    [
      'rules/node.yml:6:5: rule A: unknown field "opsbook" (promtool rejects it): write it as an annotation, opsbook: "{detector: hysteresis, clear_below: 75}"',
      'rules/node.yml:10:16: rule B: annotations: opsbook: unknown detector "magic": expected one of hysteresis, trend, baseline, outliers, anomaly',
    ],
  ],
  [
    "opsbook repeat_interval: a bad duration, detector options without a detector",
    "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up == 0\n    annotations:\n      opsbook: '{repeat_interval: 1 day}'\n  - alert: B\n    expr: x > 80\n    annotations:\n      opsbook: '{detector: trend, repeat_interval: 0s}'\n  - alert: C\n    expr: x > 80\n    annotations:\n      opsbook: '{clear_below: 75, repeat_interval: 24h}'\n",
    [
      'rules/node.yml:7:16: rule A: annotations: opsbook: repeat_interval: invalid duration "1 day": expected a positive duration such as "24h"',
      'rules/node.yml:11:16: rule B: annotations: opsbook: repeat_interval: invalid duration "0s": expected a positive duration such as "24h"',
      "rules/node.yml:15:16: rule C: annotations: opsbook: clear_below: is an option of a detector, but no detector is named: add detector: (one of hysteresis, trend, baseline, outliers, anomaly)",
    ],
  ],
  [
    "duplicate key and top-level key",
    "groups:\n- name: g\n  interval: 1m\n  interval: 2m\n  rules: []\n",
    ["rules/node.yml:4:3: yaml: Map keys must be unique"],
  ],
  ["unknown top-level key", "groups: []\nrule_files: []\n", [
    'rules/node.yml:2:1: unknown field "rule_files"',
  ]],
];

function problemsOf(text: string): string[] {
  try {
    parseRules(text, { file: "rules/node.yml" });
  } catch (error) {
    assert.ok(error instanceof RuleFileError, String(error));
    return error.problems.map((p) => p.message);
  }
  return [];
}

Deno.test("rule files: a good file loads with durations in seconds, templates compiled, opsbook options moved out of annotations", () => {
  const file = parseRules(GOOD, { file: "good.yml" });
  assert.equal(file.groups.length, 2);
  const [node] = file.groups;
  assert.equal(node.interval, 30);
  assert.equal(node.limit, 10);
  const [down, zero, record] = node.rules;
  assert.ok(down.kind === "alerting" && zero.kind === "alerting" && record.kind === "recording");
  assert.equal(down.for, 5400);
  assert.equal(down.keepFiringFor, 90);
  assert.deepEqual(down.opsbook, { detector: "outliers", tolerance: 4 });
  assert.deepEqual(Object.keys(down.annotations), ["summary"]);
  assert.deepEqual(down.position, { file: "good.yml", line: 6, column: 9 });
  assert.equal(
    down.templates.annotations.summary.expand({ labels: { instance: "a" }, value: 1e6 }),
    "a down (1e+06)",
  );
  assert.equal(down.templates.labels.team.expand({ labels: { job: "node" } }), "node");
  assert.equal(zero.for, 0);
  assert.equal(record.record, "job:up:sum");
  assert.deepEqual(file.notices.map((n) => n.message), [
    "good.yml:19:9: rule job:up:sum: recording rule loaded, not evaluated by opsbook (the Prometheus server evaluates it)",
  ]);
  // the evaluator takes the groups as they are
  const specs: readonly RuleGroupSpec[] = file.groups;
  assert.equal(specs.length, 2);
});

Deno.test("rule files: an empty file has no groups", () => {
  assert.deepEqual(parseRules("", { file: "e.yml" }).groups, []);
  assert.deepEqual(parseRules("groups:\n", { file: "e.yml" }).groups, []);
});

for (const [name, text, want] of BAD) {
  Deno.test(`rule files: ${name}: every problem with file:line:col and rule`, () => {
    assert.deepEqual(problemsOf(text), want);
  });
}

Deno.test({
  name: "rule files: promtool accepts the good file and rejects every bad one",
  ignore: !hasPromtool,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "opsbook-rules-" });
    try {
      await Deno.writeTextFile(`${dir}/good.yml`, GOOD);
      const good = await promtool(["check", "rules", "good.yml"], dir);
      assert.equal(good.code, 0, good.output);
      for (const [i, [, text]] of BAD.entries()) {
        await Deno.writeTextFile(`${dir}/bad${i}.yml`, text);
        const { code, output } = await promtool(["check", "rules", `bad${i}.yml`], dir);
        // promtool accepts query (a real Prometheus runs it) and any opsbook annotation: the
        // opsbook-only refusals
        if (
          BAD[i][0] === "query in a template" || BAD[i][0].startsWith("opsbook repeat_interval")
        ) {
          assert.equal(code, 0, output);
        } else assert.equal(code, 1, `${BAD[i][0]}: ${output}`);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "rule files: the shipped rules/node.yml and a 20+ rule community file pass promtool and our check",
  ignore: !hasPromtool,
  async fn() {
    for (const path of [SHIPPED, COMMUNITY]) {
      const { code, output } = await promtool(["check", "rules", path]);
      assert.equal(code, 0, output);
    }
    const result = await checkRuleFiles([SHIPPED, COMMUNITY]);
    assert.deepEqual(result.problems, []);
    const [shipped, community] = result.files;
    const alerts = (f: typeof shipped) =>
      f.groups.flatMap((g) => g.rules).filter((r) => r.kind === "alerting");
    assert.deepEqual(alerts(shipped).map((r) => r.kind === "alerting" && r.alert), [
      "HostHighCpu",
      "HostCpuTrend",
      "HostOutOfMemory",
      "HostDiskFull",
      "HostDiskWillFillIn24Hours",
      "HostDown",
      "HostMetricsMissing",
      "HostHighIowait",
    ]);
    for (const rule of alerts(shipped)) {
      assert.ok(rule.kind === "alerting");
      assert.ok(rule.labels.severity, `${rule.alert} has a severity`);
      assert.ok(rule.templates.annotations.summary && rule.templates.annotations.description);
    }
    const cpu = alerts(shipped)[0];
    assert.ok(cpu.kind === "alerting");
    assert.equal(
      cpu.expr,
      '100 - (avg without(cpu, mode)(irate(node_cpu_seconds_total{mode="idle"}[5m])) * 100) > 80',
    );
    assert.equal(cpu.for, 300);
    assert.deepEqual(cpu.opsbook, { detector: "hysteresis", clear_below: 75 });
    // The early warnings repeat once a day (promtool accepted the annotation above).
    const opsbookOf = (name: string) =>
      alerts(shipped).find((r) => r.kind === "alerting" && r.alert === name)!;
    const trendRule = opsbookOf("HostCpuTrend");
    assert.ok(trendRule.kind === "alerting");
    assert.equal(trendRule.opsbook?.repeat_interval, "24h");
    assert.equal(trendRule.opsbook?.detector, "trend");
    const fill = opsbookOf("HostDiskWillFillIn24Hours");
    assert.ok(fill.kind === "alerting");
    assert.deepEqual(fill.opsbook, { repeat_interval: "24h" });
    assert.equal(fill.annotations.opsbook, undefined);
    assert.ok(alerts(community).length >= 20);
    assert.equal(result.notices.length, 1);
  },
});

Deno.test("rule files: loadRuleFiles reports the problems of every file at once", async () => {
  const texts: Record<string, string> = {
    "a.yml": "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\n    for: soon\n",
    "b.yml": "groups:\n- name: g\n  interval: often\n  rules: []\n",
  };
  const error = await loadRuleFiles(["a.yml", "b.yml", "missing.yml"], {
    readTextFile: (p) =>
      p in texts ? Promise.resolve(texts[p]) : Promise.reject(new Deno.errors.NotFound(p)),
  }).catch((e) => e);
  assert.ok(error instanceof RuleFileError);
  assert.equal(
    error.message,
    'a.yml:6:10: rule A: for: invalid duration "soon"\nb.yml:3:13: group g: interval: invalid duration "often"\nmissing.yml: no such file',
  );
});

Deno.test("rules check CLI: exit 0 on clean files, 2 with one line per problem", async () => {
  const dir = await Deno.makeTempDir({ prefix: "opsbook-rules-" });
  try {
    await Deno.writeTextFile(`${dir}/bad.yml`, BAD[0][1]);
    const run = async (args: string[]) => {
      const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "scripts/rules.ts", ...args],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const d = new TextDecoder();
      return { code, stdout: d.decode(stdout), stderr: d.decode(stderr) };
    };
    const ok = await run(["check", SHIPPED]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(
      ok.stdout,
      /rules\/node.yml: ok, 1 group\(s\), 8 alerting rule\(s\), 0 recording rule\(s\)/,
    );
    const bad = await run(["check", `${dir}/bad.yml`, SHIPPED]);
    assert.equal(bad.code, 2);
    assert.equal(
      bad.stderr,
      `${dir}/bad.yml:6:10: rule HostOutOfMemory: for: invalid duration "5 minutes"\n1 problem(s)\n`,
    );
    assert.equal(await main([]), 2);
    assert.equal(await main(["nope"]), 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
