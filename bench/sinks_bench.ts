/**
 * Sink payload benchmark: building the Slack Block Kit message, the
 * Alertmanager body and delivering to a local Slack receiver, for
 * notifications of 10, 500 and 10,000 hosts.
 *
 * Reference, measured in the same run: `JSON.stringify` of the
 * notification's alerts (the least any sink must do to put them on the
 * wire), so the ratios say what the message building adds on this machine.
 *
 * Run: `deno run -A bench/sinks_bench.ts`
 *
 * @module
 */
import { alertmanagerAlerts } from "../lib/alert/sinks/alertmanager.ts";
import { slackMessage, SlackSink } from "../lib/alert/sinks/slack.ts";
import type { Alert, Notification } from "../lib/alert/types.ts";
import { fingerprint } from "../lib/labels.ts";
import { startSlackReceiver } from "../test/support/slack_receiver.ts";

const RUNS = 7;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function time(fn: () => unknown): Promise<number> {
  const runs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    await fn();
    runs.push(performance.now() - t);
  }
  return median(runs);
}

function notification(hosts: number): Notification {
  const clouds = ["aliyun", "tencent", "azure"];
  const alerts: Alert[] = Array.from({ length: hosts }, (_, i) => {
    const labels = {
      alertname: "HostHighCpu",
      instance: `${clouds[i % 3]}-host-${String(i).padStart(5, "0")}:9100`,
      cloud: clouds[i % 3],
      region: `region-${i % 7}`,
    };
    return {
      labels,
      annotations: { summary: "CPU usage above 80%" },
      value: 80 + (i % 200) / 10,
      startsAt: "2026-11-01T11:55:00Z",
      status: "firing",
      fingerprint: fingerprint(labels),
    };
  });
  return {
    id: `bench-${hosts}`,
    receiver: "slack",
    group: "HostHighCpu",
    kind: "firing",
    alerts,
    createdAt: "2026-11-01T12:00:00Z",
    context: {
      evaluatedAt: "2026-11-01T12:00:00Z",
      query: "instance:cpu_usage:percent > 80",
      threshold: 80,
      unit: "%",
      graphURL: "http://127.0.0.1:9090/graph?g0.expr=up",
    },
  };
}

const fmt = (ms: number) => `${ms.toFixed(2)} ms`;
console.log(`median of ${RUNS} runs; ratio = time / JSON.stringify(alerts) in the same run`);
await using slack = startSlackReceiver();
const sink = new SlackSink({ webhookUrl: slack.webhookUrl, baseUrl: slack.url });
for (const hosts of [10, 500, 10_000]) {
  const n = notification(hosts);
  const reference = await time(() => JSON.stringify(n.alerts));
  const message = await time(() => JSON.stringify(slackMessage(n)));
  const am = await time(() => JSON.stringify(alertmanagerAlerts(n)));
  const send = await time(() => sink.send(n));
  const bytes = JSON.stringify(slackMessage(n)).length;
  console.log(
    `${String(hosts).padStart(6)} hosts: reference ${fmt(reference)} | ` +
      `slackMessage ${fmt(message)} (×${(message / reference).toFixed(2)}, ${bytes} bytes) | ` +
      `alertmanagerAlerts ${fmt(am)} (×${(am / reference).toFixed(2)}) | ` +
      `Slack send to loopback ${fmt(send)} (×${(send / reference).toFixed(2)})`,
  );
}
