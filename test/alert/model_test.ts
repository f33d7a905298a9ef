import assert from "node:assert/strict";
import pl from "nodejs-polars";
import {
  alertLabelColumns,
  alertsFromFrame,
  describeFrame,
  formatAlertValue,
  renderTemplate,
} from "../../lib/alert/model.ts";
import { fingerprint } from "../../lib/labels.ts";

const T0 = Date.UTC(2026, 10, 1, 10, 0);

function detectorFrame(): pl.DataFrame {
  return pl.DataFrame([
    pl.Series("cloud", ["aliyun", "aliyun", "azure", "tencent"], pl.Utf8),
    pl.Series("instance", ["db-01:9100", "db-01:9100", "app-01:9100", "api-01:9100"], pl.Utf8),
    pl.Series("region", ["cn-hangzhou", "cn-hangzhou", null, "ap-guangzhou"], pl.Utf8),
    pl.Series("timestamp", [T0, T0 + 60_000, T0 + 60_000, T0 + 60_000], pl.Float64)
      .cast(pl.Int64).cast(pl.Datetime("ms")),
    pl.Series("value", [90, 95.25, 88, NaN], pl.Float64),
    pl.Series("reason", ["r1", "r2", "r3", "r4"], pl.Utf8),
    pl.Series("since", [T0 - 300_000, T0 - 300_000, T0 - 600_000, T0], pl.Float64)
      .cast(pl.Int64).cast(pl.Datetime("ms")),
  ]);
}

Deno.test("alertsFromFrame builds one alert per series from its latest row", () => {
  const alerts = alertsFromFrame(detectorFrame(), {
    alertname: "HostHighCpu",
    summary: "CPU {{value}} % on {{instance}}",
    description: "{{ $labels.instance }} in {{cloud}}/{{region}}: {{reason}} since {{since}}",
    labels: { severity: "critical" },
  });
  assert.equal(alerts.length, 2); // the NaN series never alerts
  const [db, app] = alerts;
  assert.deepEqual(db.labels, {
    alertname: "HostHighCpu",
    cloud: "aliyun",
    instance: "db-01:9100",
    region: "cn-hangzhou",
    severity: "critical",
  });
  assert.deepEqual(app.labels, {
    alertname: "HostHighCpu",
    cloud: "azure",
    instance: "app-01:9100",
    severity: "critical",
  });
  assert.equal(db.value, 95.25);
  assert.equal(db.annotations.summary, "CPU 95.3 % on db-01:9100");
  assert.equal(
    db.annotations.description,
    "db-01:9100 in aliyun/cn-hangzhou: r2 since 2026-11-01T09:55:00.000Z",
  );
  assert.equal(
    app.annotations.description,
    "app-01:9100 in azure/: r3 since 2026-11-01T09:50:00.000Z",
  );
  assert.equal(db.startsAt, "2026-11-01T09:55:00.000Z");
  assert.equal(db.status, "firing");
  assert.equal(db.fingerprint, fingerprint(db.labels));
  assert.equal(db.endsAt, undefined);
});

Deno.test("alertsFromFrame uses timestamp, then at, for startsAt and a custom value column", () => {
  const frame = pl.DataFrame({
    instance: ["a:9100", "b:9100"],
    eta_hours: [5.5, 11],
    value: [60, 70],
  });
  const alerts = alertsFromFrame(frame, {
    alertname: "HostCpuTrend",
    summary: "{{instance}} full in {{value}} h (now {{current}})",
    valueColumn: "eta_hours",
    at: "2026-11-01T19:00:00Z",
    generatorURL: "http://prom:9090/graph",
  });
  assert.deepEqual(alerts.map((a) => a.value), [5.5, 11]);
  assert.deepEqual(alerts.map((a) => a.startsAt), [
    "2026-11-01T19:00:00.000Z",
    "2026-11-01T19:00:00.000Z",
  ]);
  assert.equal(alerts[0].annotations.summary, "a:9100 full in 5.5 h (now )");
  assert.equal(alerts[0].generatorURL, "http://prom:9090/graph");

  const withTs = pl.DataFrame([
    pl.Series("instance", ["a:9100"], pl.Utf8),
    pl.Series("timestamp", [T0], pl.Float64).cast(pl.Int64).cast(pl.Datetime("ms")),
    pl.Series("value", [99], pl.Float64),
  ]);
  const [alert] = alertsFromFrame(withTs, { alertname: "X", summary: "{{value}}" });
  assert.equal(alert.startsAt, "2026-11-01T10:00:00.000Z");
});

Deno.test("alertsFromFrame: empty frame gives no alert, bad input gives clear errors", () => {
  const empty = pl.DataFrame({ instance: [] as string[], value: [] as number[] });
  assert.deepEqual(alertsFromFrame(empty, { alertname: "X", summary: "s" }), []);
  const noValue = pl.DataFrame({ instance: ["a"], usage: [1] });
  assert.throws(
    () => alertsFromFrame(noValue, { alertname: "X", summary: "s" }),
    (e: Error) => e instanceof TypeError && /no "value" column/.test(e.message),
  );
  assert.throws(
    () => alertsFromFrame(noValue, { alertname: "", summary: "s" }),
    /Invalid alertname/,
  );
});

Deno.test("describeFrame reports no data and missing series", () => {
  const empty = pl.DataFrame({ instance: [] as string[], value: [] as number[] });
  assert.deepEqual(describeFrame(empty), { rows: 0, noData: true, missing: [] });
  const check = describeFrame(detectorFrame());
  assert.equal(check.rows, 4);
  assert.equal(check.noData, false);
  assert.deepEqual(check.missing, [
    { cloud: "tencent", instance: "api-01:9100", region: "ap-guangzhou" },
  ]);
  assert.throws(() => describeFrame(pl.DataFrame({ a: ["x"] })), /no "value" column/);
  const clean = pl.DataFrame({ instance: ["a", "b"], value: [1, 2] });
  assert.deepEqual(describeFrame(clean), { rows: 2, noData: false, missing: [] });
  // Only the latest value counts: a series that recovered is not missing.
  const recovered = pl.DataFrame([
    pl.Series("instance", ["a", "a"], pl.Utf8),
    pl.Series("timestamp", [T0 + 1000, T0], pl.Float64).cast(pl.Int64).cast(pl.Datetime("ms")),
    pl.Series("value", [5, NaN], pl.Float64),
  ]);
  assert.deepEqual(describeFrame(recovered).missing, []);
});

Deno.test("templates and value formatting", () => {
  assert.equal(formatAlertValue(95), "95.0");
  assert.equal(formatAlertValue(83.256), "83.3");
  assert.equal(formatAlertValue(4.201, "%"), "4.2 %");
  assert.equal(formatAlertValue(NaN), "NaN");
  assert.equal(formatAlertValue(Infinity), "+Inf");
  assert.equal(
    renderTemplate("{{$value}} {{ .instance }} {{missing}}|{{alertname}}", {
      value: 1.5,
      instance: "a",
      alertname: "X",
    }),
    "1.5 a |X",
  );
  assert.equal(renderTemplate("no placeholders", {}), "no placeholders");
  const frame = pl.DataFrame({ __name__: ["m"], reason: ["x"], z: ["1"], a: ["2"], value: [1] });
  assert.deepEqual(alertLabelColumns(frame), ["a", "z"]);
  assert.deepEqual(alertLabelColumns(frame, ["z"]), ["a"]);
});
