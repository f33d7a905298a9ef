import assert from "node:assert/strict";
import { highCpuRule } from "../../lib/rules/cpu_rules.ts";
import { DATASET_START_MS, SCENARIO_HOSTS } from "../../dev/dataset.ts";
import { cpuFrame } from "../support/cpu_frame.ts";

const MIN = 60_000;

const hhmm = (t: number) => new Date(t).toISOString().slice(11, 16);

/** Five-minute evaluations of HostHighCpu over [from, to], frames reaching `reach` back. */
function transitions(from: string, to: string, reach: number): string[] {
  const rule = highCpuRule();
  const at = (s: string) => Date.parse(`2026-11-01T${s}:00Z`);
  let firing = new Map<string, string>();
  const events: string[] = [];
  for (let t = at(from); t <= at(to); t += 5 * MIN) {
    const frame = cpuFrame(t - reach, t, 15_000);
    const alerts = rule.evaluate(frame, { at: new Date(t), firing: firing.keys() });
    const now = new Map(alerts.map((a) => [a.fingerprint, a.labels.instance]));
    for (const [fp, host] of now) if (!firing.has(fp)) events.push(`${hhmm(t)} firing ${host}`);
    for (const [fp, host] of firing) if (!now.has(fp)) events.push(`${hhmm(t)} resolved ${host}`);
    firing = now;
  }
  return events;
}

const EXPECTED = [
  `06:10 firing ${SCENARIO_HOSTS.flapping}`,
  `09:05 resolved ${SCENARIO_HOSTS.flapping}`,
  `10:10 firing ${SCENARIO_HOSTS.sustained}`,
  `12:05 resolved ${SCENARIO_HOSTS.sustained}`,
];

Deno.test("HostHighCpu: the flapping host fires once and resolves once, whatever the frame's reach", () => {
  // 60 samples (start after t - 15m), 61 (a Prometheus range from t - 15m: the first
  // sample predates the incident and is below `low`), and an hour of history.
  for (const reach of [15 * MIN - 15_000, 15 * MIN, 60 * MIN]) {
    assert.deepEqual(transitions("06:00", "14:30", reach), EXPECTED, `reach ${reach / MIN} min`);
  }
});

Deno.test("HostHighCpu: a firing alert resolves when its host ends the window below `low`", () => {
  const rule = highCpuRule();
  const t = DATASET_START_MS + 11 * 60 * MIN;
  const frame = cpuFrame(t - 15 * MIN, t, 15_000);
  const [alert] = rule.evaluate(frame, { at: new Date(t) });
  assert.equal(alert.labels.instance, SCENARIO_HOSTS.sustained);
  // 12:05: the host has been at ~50 % since 12:00:15: below 75 %, so not kept.
  const later = DATASET_START_MS + (12 * 60 + 5) * MIN;
  const after = rule.evaluate(cpuFrame(later - 15 * MIN, later, 15_000), {
    at: new Date(later),
    firing: [alert.fingerprint],
  });
  assert.deepEqual(after, []);
});
