import assert from "node:assert/strict";
import { compileRoute } from "../../lib/alert/route.ts";
import { Alerter } from "../../lib/alert/alerter.ts";
import { DryRunSink } from "../../lib/alert/sinks/dry_run.ts";
import { alert } from "../support/alerts.ts";

Deno.test("compileRoute: first match wins, continue adds, default catches the rest", () => {
  const route = compileRoute({
    receiver: "team",
    routes: [
      { match: { severity: "critical" }, receiver: "pager", continue: true },
      { match: { cloud: "aliyun" }, match_re: { alertname: "HostDisk.*" }, receiver: "tickets" },
      { match: { cloud: "aliyun" }, receiver: "aliyun-team" },
    ],
  }, ["team", "pager", "tickets", "aliyun-team"]);
  const r = (labels: Record<string, string>) => route({ alertname: "X", ...labels });
  assert.deepEqual(r({ severity: "critical" }), ["pager"]);
  assert.deepEqual(r({ severity: "critical", cloud: "aliyun" }), ["pager", "aliyun-team"]);
  assert.deepEqual(
    r({ severity: "critical", cloud: "aliyun", alertname: "HostDiskFull" }),
    ["pager", "tickets"],
  );
  assert.deepEqual(r({ cloud: "aliyun", alertname: "HostOutOfMemory" }), ["aliyun-team"]);
  assert.deepEqual(r({ severity: "warning", cloud: "azure" }), ["team"]);
  // Without a default receiver, an unmatched alert goes to every receiver.
  assert.deepEqual(compileRoute({ routes: [] }, ["a", "b"])({ alertname: "X" }), ["a", "b"]);
});

Deno.test("compileRoute: an unknown receiver or a bad regex names the route", () => {
  assert.throws(
    () => compileRoute({ routes: [{ match: {}, receiver: "pagr" }] }, ["pager", "team"]),
    {
      name: "TypeError",
      message:
        'Invalid route.routes[0].receiver: unknown receiver "pagr"; expected one of "pager", "team"',
    },
  );
  assert.throws(
    () => compileRoute({ receiver: "x", routes: [] }, ["team"]),
    /Invalid route\.receiver: unknown receiver "x"/,
  );
  assert.throws(
    () => compileRoute({ routes: [{ match_re: { alertname: "(" }, receiver: "t" }] }, ["t"]),
    /Invalid route\.routes\[0\]\.match_re\.alertname: .*expected a regular expression/,
  );
});

Deno.test("Alerter with a route: each receiver is notified of its alerts only, grouped as before", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const pager = new DryRunSink({ name: "pager", write: () => {} });
    const team = new DryRunSink({ name: "team", write: () => {} });
    const alerter = new Alerter({
      statePath: `${dir}/state.json`,
      sinks: [pager, team],
      route: compileRoute({
        receiver: "team",
        routes: [{ match: { severity: "critical" }, receiver: "pager", continue: true }],
      }, ["pager", "team"]),
    });
    const disk = alert("db:9100", { alertname: "HostDiskFull", labels: { severity: "critical" } });
    const mem = alert("db:9100", { alertname: "HostOutOfMemory", labels: { severity: "warning" } });
    const cpu = alert("web:9100", {
      alertname: "HostOutOfMemory",
      labels: { severity: "critical" },
    });
    await alerter.evaluate([disk, mem, cpu], { now: "2026-11-01T10:00:00Z" });
    const summary = (s: DryRunSink) =>
      s.sent.map((n) =>
        `${n.kind} ${n.group}: ${n.alerts.map((a) => a.labels.instance).join(",")}`
      );
    assert.deepEqual(summary(pager), [
      "firing HostDiskFull: db:9100",
      "firing HostOutOfMemory: web:9100",
    ]);
    assert.deepEqual(summary(team), ["firing HostOutOfMemory: db:9100"]);
    // The warning resolves: only its receiver hears of it, as "resolved".
    await alerter.evaluate([disk, cpu], { now: "2026-11-01T10:05:00Z" });
    assert.deepEqual(summary(pager).length, 2);
    assert.deepEqual(summary(team).at(-1), "resolved HostOutOfMemory: db:9100");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
