import assert from "node:assert/strict";
import pl from "nodejs-polars";
import { formatThreshold, formatValue } from "../../lib/_internal/format.ts";
import { slackMessage } from "../../lib/alert/sinks/slack.ts";
import { alertmanagerAlerts } from "../../lib/alert/sinks/alertmanager.ts";
import { formatNotification } from "../../lib/alert/sinks/dry_run.ts";
import { ZammadSink } from "../../lib/alert/sinks/zammad.ts";
import { alertsFromFrame, renderTemplate } from "../../lib/alert/model.ts";
import { overThreshold } from "../../lib/detect/threshold.ts";
import { barChart } from "../../lib/chart/bar.ts";
import { alert, notification } from "../support/alerts.ts";
import { startZammadReceiver } from "../support/zammad_receiver.ts";

Deno.test("formatValue: one decimal, 3 significant digits at the extremes, Prometheus' names", () => {
  const cases: [number, string, string][] = [
    [4.201, "%", "4.2 %"],
    [95, "%", "95.0 %"],
    [93.25, "%", "93.3 %"],
    [0, "", "0.0"],
    [-0, "", "0.0"],
    [-0.04, "", "-0.0400"],
    [0.0123, "s", "0.0123 s"],
    [999_999.94, "", "999999.9"],
    [4_800_000_000, "B", "4.80e+9 B"],
    [NaN, "%", "NaN %"],
    [Infinity, "", "+Inf"],
    [-Infinity, "", "-Inf"],
  ];
  for (const [v, unit, want] of cases) assert.equal(formatValue(v, unit), want, `${v}`);
  assert.equal(formatThreshold(80, "%"), "80 %");
  assert.equal(formatThreshold(0.5), "0.5");
  assert.equal(formatThreshold(Infinity), "+Inf");
});

// The complaint: one alert read `4.201%` in one place and `4.2 %` in another.
Deno.test("the same alert reads 4.2 % in Slack, Zammad, Alertmanager, dry-run, reasons, templates and charts", async () => {
  const a = alert("web-01:9100", { value: 4.201, summary: "Disk busy on web-01:9100" });
  const n = notification("firing", [a], {
    context: { evaluatedAt: "2026-11-01T10:05:00.000Z", threshold: 3, unit: "%" },
  });
  const slack = slackMessage(n);
  const slackText = JSON.stringify(slack.blocks);
  assert.match(slackText, /web-01:9100\* — 4\.2 % \(threshold 3 %\)/);
  assert.match(slack.text, /web-01:9100 4\.2 %$/);

  assert.equal(alertmanagerAlerts(n)[0].annotations.value, "4.2 %");

  assert.match(formatNotification(n), / value=4\.2 % since /);
  assert.match(formatNotification(n), /threshold 3 %;/);

  await using zammad = startZammadReceiver({ token: "t" });
  await new ZammadSink({
    url: zammad.url,
    token: "t",
    group: "Users",
    customer: "monitoring@example.com",
  })
    .send(n);
  const created = zammad.requests.find((r) => r.method === "POST")!.body as {
    article: { body: string };
  };
  assert.match(created.article.body, /\nValue: 4\.2 % \(threshold 3 %\)\n/);

  const frame = pl.DataFrame({
    instance: ["web-01:9100"],
    timestamp: pl.Series("timestamp", [Date.UTC(2026, 10, 1, 10, 5)]).cast(pl.Datetime("ms")),
    value: [4.201],
  });
  const reasons = overThreshold(frame, { threshold: 3, unit: "%" }).getColumn("reason").toArray();
  assert.deepEqual(reasons, ["4.2 % > 3 %"]);

  const fromFrame = alertsFromFrame(frame, {
    alertname: "DiskBusy",
    summary: "{{ $value }} % on {{ $labels.instance }}",
  });
  assert.equal(fromFrame[0].annotations.summary, "4.2 % on web-01:9100");
  assert.equal(renderTemplate("{{ $value }}", { value: 4.201 }), "4.2");

  const svg = barChart(frame, { threshold: 3, unit: "%" }).outerHTML;
  assert.ok(svg.includes(">threshold 3 %<"), "threshold label");
  assert.ok(svg.includes(">web-01:9100: 4.2<"), "bar tooltip");
});
