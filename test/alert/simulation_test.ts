/**
 * 24 hours of 5-minute evaluations over the synthetic dataset, through the
 * default rules, the state file (reloaded from disk), the outbox and a
 * recording sink: the notifications must be exactly the expected ones, with
 * and without a sink outage, across restarts and a crash.
 */
import assert from "node:assert/strict";
import pl from "nodejs-polars";
import { Alerter } from "../../lib/alert/alerter.ts";
import {
  cpuTrendRule,
  defaultCpuRules,
  evaluateRules,
  highCpuRule,
  ruleRepeatIntervals,
  type RulesResult,
} from "../../lib/rules/cpu_rules.ts";
import {
  DeliveryError,
  type Notification,
  type SendOptions,
  type Sink,
} from "../../lib/alert/types.ts";
import { DATASET_START_MS, SCENARIO_HOSTS } from "../../dev/dataset.ts";
import { cpuFrame } from "../support/cpu_frame.ts";

const MIN = 60_000;
const HOUR = 60 * MIN;
const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16);
const clock = (h: number, m = 0) => DATASET_START_MS + h * HOUR + m * MIN;

/** The classic CPU query's range result as a frame, with cloud and region labels. */

const rules = defaultCpuRules();
const EVALUATIONS: number[] = [];
for (let t = clock(0, 5); t <= clock(24); t += 5 * MIN) EVALUATIONS.push(t);

// Rule results depend only on the time and the firing set: computed once and
// shared by the scenarios (each scenario still runs state, outbox and sink).
const ruleCache = new Map<string, RulesResult>();
function rulesAt(t: number, firing: ReadonlySet<string>): RulesResult {
  const key = `${t}|${[...firing].sort().join(",")}`;
  let result = ruleCache.get(key);
  if (result === undefined) {
    result = evaluateRules(rules, {
      // the last 15 min at a 15 s step, and 6 h at a 5 min step for the trend
      HostHighCpu: cpuFrame(t - 15 * MIN + 15_000, t, 15_000),
      HostCpuTrend: cpuFrame(t - 6 * HOUR, t, 5 * MIN),
    }, { at: new Date(t), firing });
    ruleCache.set(key, result);
  }
  return result;
}

interface Delivery {
  at: number;
  n: Notification;
}

/** Records deliveries; can be down (retriable) or crash after recording. */
class RecordingSink implements Sink {
  readonly name = "slack";
  deliveries: Delivery[] = [];
  now = 0;
  down: (t: number) => boolean = () => false;
  crashOnce: (n: Notification) => boolean = () => false;
  #crashed = new Set<string>();
  send(n: Notification, _options?: SendOptions): Promise<void> {
    if (this.down(this.now)) {
      return Promise.reject(
        new DeliveryError("Slack answered 503: service unavailable", {
          sink: this.name,
          retriable: true,
          status: 503,
        }),
      );
    }
    this.deliveries.push({ at: this.now, n: structuredClone(n) });
    if (this.crashOnce(n) && !this.#crashed.has(n.id)) {
      this.#crashed.add(n.id);
      // The receiver has it, but the process dies before the acknowledgement.
      return Promise.reject(new Error("simulated crash between send and acknowledgement"));
    }
    return Promise.resolve();
  }
}

async function simulate(
  sink: RecordingSink,
  options: { restartEachTime?: boolean } = {},
): Promise<{ queuedAtEnd: number; firingSets: string[] }> {
  const dir = await Deno.makeTempDir({ prefix: "opsbook-sim-" });
  try {
    const make = () =>
      new Alerter({
        statePath: `${dir}/alerts.json`,
        sinks: [sink],
        groupRepeatInterval: ruleRepeatIntervals(rules),
      });
    let alerter = make();
    let queued = 0;
    const firingSets: string[] = [];
    for (const t of EVALUATIONS) {
      if (options.restartEachTime) alerter = make(); // a headless run: everything from disk
      sink.now = t;
      const firing = await alerter.firing();
      firingSets.push([...firing].sort().join(","));
      const result = rulesAt(t, firing);
      const report = await alerter.evaluate(result.alerts, {
        now: new Date(t),
        contexts: result.contexts,
        check: result,
      });
      assert.equal(report.noData, false);
      assert.deepEqual(report.deadLetters, []);
      queued = report.queued;
    }
    return { queuedAtEnd: queued, firingSets };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const describe = (d: Delivery) =>
  `${hhmm(d.at)} ${hhmm(Date.parse(d.n.createdAt))} ${d.n.group} ${d.n.kind} ${
    d.n.alerts.map((a) => `${a.labels.instance}:${a.status}`).join(",")
  }`;

const { sustained, flapping, trend } = SCENARIO_HOSTS;
// delivered at, created at, group, kind, alerts
const EXPECTED = [
  `06:10 06:10 HostHighCpu firing ${flapping}:firing`,
  `09:05 09:05 HostHighCpu resolved ${flapping}:resolved`,
  `10:10 10:10 HostHighCpu firing ${sustained}:firing`,
  `12:05 12:05 HostHighCpu resolved ${sustained}:resolved`,
  `19:05 19:05 HostCpuTrend firing ${trend}:firing`,
];

let baseline: { deliveries: Delivery[]; firingSets: string[] } | undefined;
async function baselineRun() {
  if (baseline === undefined) {
    const sink = new RecordingSink();
    const { queuedAtEnd, firingSets } = await simulate(sink);
    assert.equal(queuedAtEnd, 0);
    baseline = { deliveries: sink.deliveries, firingSets };
  }
  return baseline;
}

Deno.test("simulation: 24 h of evaluations notify exactly the scripted incidents", async () => {
  const { deliveries } = await baselineRun();
  assert.deepEqual(deliveries.map(describe), EXPECTED);
  // The spike host never fires; the stopped host is not a CPU alert.
  const all = JSON.stringify(deliveries);
  assert.ok(!all.includes(SCENARIO_HOSTS.spike));
  assert.ok(!all.includes(SCENARIO_HOSTS.stops));
  const firing = deliveries[2].n;
  assert.deepEqual(firing.alerts[0].labels, {
    alertname: "HostHighCpu",
    cloud: "aliyun",
    instance: sustained,
    region: "cn-hangzhou",
    severity: "critical",
  });
  assert.equal(
    firing.alerts[0].annotations.summary,
    `CPU 95.0 % on ${sustained} (above 80 % for 5m)`,
  );
  assert.equal(firing.alerts[0].startsAt, "2026-11-01T10:00:15.000Z");
  assert.deepEqual(firing.context, {
    threshold: 80,
    unit: "%",
    evaluatedAt: "2026-11-01T10:10:00.000Z",
  });
  const resolved = deliveries[3].n.alerts[0];
  assert.equal(resolved.startsAt, "2026-11-01T10:00:15.000Z");
  assert.equal(resolved.endsAt, "2026-11-01T12:05:00.000Z");
  const warning = deliveries[4].n.alerts[0];
  assert.equal(warning.labels.severity, "warning");
  assert.match(
    warning.annotations.summary,
    /^CPU on tc-sh-batch-01:9100 at 6\d\.\d+ %, reaches 100 % in ~1[01]h\d+m0s$/,
  );
});

Deno.test("simulation: Slack down 09:00-10:00, same notifications delivered late, none lost", async () => {
  const { deliveries: normal, firingSets } = await baselineRun();
  const sink = new RecordingSink();
  sink.down = (t) => t >= clock(9) && t < clock(10);
  const run = await simulate(sink, { restartEachTime: true });
  assert.equal(run.queuedAtEnd, 0);
  assert.deepEqual(run.firingSets, firingSets); // delivery never changes the alert state
  assert.deepEqual(sink.deliveries.map(describe), [
    EXPECTED[0],
    `10:00 09:05 HostHighCpu resolved ${flapping}:resolved`,
    ...EXPECTED.slice(2),
  ]);
  // The very same notifications (same ids), in the same order per group.
  assert.deepEqual(sink.deliveries.map((d) => d.n.id), normal.map((d) => d.n.id));
});

Deno.test("simulation: a longer outage collapses stale notifications into one delayed message", async () => {
  const sink = new RecordingSink();
  sink.down = (t) => t >= clock(9) && t < clock(11, 30);
  const run = await simulate(sink, { restartEachTime: true });
  assert.equal(run.queuedAtEnd, 0);
  assert.deepEqual(sink.deliveries.map(describe), [
    EXPECTED[0],
    `11:30 11:15 HostHighCpu delayed ${sustained}:firing,${flapping}:resolved`,
    ...EXPECTED.slice(3),
  ]);
  assert.equal(sink.deliveries[1].n.delayed?.count, 2);
  assert.equal(sink.deliveries[1].n.delayed?.since, "2026-11-01T09:05:00.000Z");
});

Deno.test("simulation: a crash between send and acknowledgement repeats only that notification", async () => {
  const { deliveries: normal } = await baselineRun();
  const sink = new RecordingSink();
  sink.crashOnce = (n) => n.createdAt === "2026-11-01T10:10:00.000Z";
  const run = await simulate(sink, { restartEachTime: true });
  assert.equal(run.queuedAtEnd, 0);
  assert.deepEqual(sink.deliveries.map(describe), [
    ...EXPECTED.slice(0, 3),
    `10:15 10:10 HostHighCpu firing ${sustained}:firing`,
    ...EXPECTED.slice(3),
  ]);
  assert.equal(sink.deliveries[3].n.id, normal[2].n.id); // the same id: a receiver can de-duplicate
});

Deno.test("rules: NaN is missing data, an empty frame is no data, neither alerts", () => {
  const t = clock(11);
  const frame = cpuFrame(t - 15 * MIN + 15_000, t, 15_000);
  const nan = frame.withColumns(
    pl.when(pl.col("instance").eq(pl.lit(sustained))).then(pl.lit(NaN)).otherwise(pl.col("value"))
      .alias("value"),
  );
  const result = evaluateRules([highCpuRule()], nan, { at: new Date(t) });
  assert.deepEqual(result.alerts, []);
  assert.equal(result.noData, false);
  assert.deepEqual(result.missing, [
    { cloud: "aliyun", instance: sustained, region: "cn-hangzhou" },
  ]);
  // Without the NaN the same frame alerts on the sustained host.
  const real = evaluateRules([highCpuRule()], frame, { at: new Date(t) });
  assert.deepEqual(real.alerts.map((a) => a.labels.instance), [sustained]);

  const empty = frame.head(0);
  const none = evaluateRules(defaultCpuRules(), empty, { at: new Date(t) });
  assert.deepEqual(none.alerts, []);
  assert.equal(none.noData, true);
});

Deno.test("rules: hysteresis keeps a firing host until it drops below low", () => {
  const t = clock(7, 20); // flapping host in a 78 % phase
  const frame = cpuFrame(t - 15 * MIN + 15_000, t, 15_000);
  const rule = highCpuRule();
  assert.deepEqual(rule.evaluate(frame, { at: new Date(t) }), []);
  const [fired] = rule.evaluate(cpuFrame(clock(6, 10) - 15 * MIN + 15_000, clock(6, 10), 15_000), {
    at: new Date(clock(6, 10)),
  });
  const kept = rule.evaluate(frame, { at: new Date(t), firing: [fired.fingerprint] });
  assert.deepEqual(kept.map((a) => a.labels.instance), [flapping]);
  assert.ok(kept[0].value >= 75 && kept[0].value <= 83);
});

Deno.test("rules: invalid thresholds give clear errors", () => {
  assert.throws(
    () => highCpuRule({ threshold: 80, low: 85 }),
    (e: Error) =>
      e instanceof RangeError && e.message.startsWith("Invalid thresholds: low (85) is above"),
  );
  assert.throws(() => highCpuRule({ threshold: NaN }), /Invalid threshold: expected a finite/);
  assert.throws(() => highCpuRule({ for: "5 minutes" }), /Invalid for:/);
  assert.throws(() => cpuTrendRule({ limit: Infinity }), /Invalid limit/);
  assert.throws(() => cpuTrendRule({ within: "soon" }), /Invalid within/);
  const frame = pl.DataFrame({ instance: ["a"], value: [1] });
  assert.throws(
    () => evaluateRules(rules, { HostHighCpu: frame }, { at: new Date(clock(1)) }),
    /Missing frame for rule: HostCpuTrend/,
  );
});
