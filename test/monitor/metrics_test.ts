import assert from "node:assert/strict";
import {
  MetricsRegistry,
  registerProcessMetrics,
  serveMetrics,
} from "../../lib/monitor/metrics.ts";

Deno.test("MetricsRegistry: text format with labels and escaping", () => {
  const r = new MetricsRegistry();
  const c = r.counter("opsbook_x_total", "Things\ncounted", { labelNames: ["kind"] });
  const g = r.gauge("opsbook_y", "A gauge");
  c.inc({ kind: "timeout" });
  c.inc({ kind: "timeout" }, 2);
  c.inc({ kind: 'a"b\\c\nd' });
  g.set({}, 1.5);
  g.inc({}, -0.5);
  assert.equal(
    r.render(),
    "# HELP opsbook_x_total Things\\ncounted\n# TYPE opsbook_x_total counter\n" +
      'opsbook_x_total{kind="timeout"} 3\n' +
      'opsbook_x_total{kind="a\\"b\\\\c\\nd"} 1\n' +
      "# HELP opsbook_y A gauge\n# TYPE opsbook_y gauge\nopsbook_y 1\n",
  );
  assert.equal(c.get({ kind: "timeout" }), 3);
  assert.throws(() => c.inc({ kind: "x" }, -1), RangeError);
  assert.throws(() => c.inc({ other: "x" }), TypeError);
  assert.throws(() => r.gauge("opsbook_y", "again"), TypeError);
  assert.throws(() => r.gauge("bad-name", "x"), TypeError);
  g.set({}, NaN);
  assert.ok(r.render().includes("opsbook_y NaN\n"));
});

Deno.test("registerProcessMetrics and serveMetrics", async () => {
  const r = new MetricsRegistry();
  registerProcessMetrics(r);
  await using server = serveMetrics(r, { port: 0 });
  const res = await fetch(`http://127.0.0.1:${server.port}/metrics`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  const text = await res.text();
  const value = (name: string) => Number(text.match(new RegExp(`^${name} (\\S+)$`, "m"))?.[1]);
  assert.ok(value("process_resident_memory_bytes") > 1e6);
  assert.ok(value("process_heap_bytes") > 1e5);
  assert.ok(Math.abs(value("process_start_time_seconds") - Date.now() / 1000) < 3600);
  assert.ok(value("process_cpu_seconds_total") > 0);
  const notFound = await fetch(`http://127.0.0.1:${server.port}/other`);
  assert.equal(notFound.status, 404);
  await notFound.body?.cancel();
  const health = await fetch(`http://127.0.0.1:${server.port}/healthz`);
  assert.equal(await health.text(), "ok\n");
});
