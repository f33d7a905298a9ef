// Several Prometheus servers as one fleet: two real servers holding different
// hosts, queried together; one stopped mid-test becomes a warning naming it.
import assert from "node:assert/strict";
import {
  createPrometheusClient,
  EmptyResultError,
  FleetClient,
  FleetError,
  parsePrometheusUrls,
  PrometheusClient,
} from "opsbook";
import { cpuUsageQuery } from "opsbook";
import { missingBinaries, startPrometheus } from "../../dev/stack.ts";
import { PLAIN_START_S, plainFleetOpenMetrics } from "../support/plain_fleet.ts";

const missing = missingBinaries(["prometheus", "promtool"]);
const AT = new Date((PLAIN_START_S + 3600) * 1000);

Deno.test("parsePrometheusUrls: a URL, a list, name=url pairs, an object; mistakes say what to write", () => {
  assert.deepEqual(parsePrometheusUrls("http://localhost:9090"), [
    { name: "localhost:9090", url: "http://localhost:9090" },
  ]);
  assert.deepEqual(parsePrometheusUrls(" a=http://a:9090 , b=https://u:p@b/prom "), [
    { name: "a", url: "http://a:9090" },
    { name: "b", url: "https://u:p@b/prom" },
  ]);
  assert.deepEqual(parsePrometheusUrls({ x: "http://a:9090", y: new URL("http://b:9090") }), [
    { name: "x", url: "http://a:9090" },
    { name: "y", url: "http://b:9090/" },
  ]);
  // A `=` inside the URL's query is not a name.
  assert.deepEqual(parsePrometheusUrls("http://a:9090/?x=1").map((m) => m.name), ["a:9090"]);
  assert.throws(
    () => parsePrometheusUrls("a=http://a:9090,b=nope"),
    /Invalid prometheus_url: expected an absolute http\(s\) URL for "b", got "nope"/,
  );
  assert.throws(
    () => parsePrometheusUrls("localhost:9090"),
    /^TypeError: Invalid prometheus_url: expected an absolute http\(s\) URL, got "localhost:9090" \(did you mean http:\/\/localhost:9090\? several servers: name=url pairs separated by commas\)$/,
  );
  assert.throws(
    () => parsePrometheusUrls(["http://a:9090", "http://a:9090"]),
    /the name "a:9090" appears twice; name each server \(name=url\)/,
  );
  assert.ok(createPrometheusClient({ url: "http://a:9090" }) instanceof PrometheusClient);
  assert.ok(createPrometheusClient({ url: "a=http://a:9090" }) instanceof FleetClient);
  assert.ok(
    createPrometheusClient({ url: ["http://a:9090", "http://b:9090"] }) instanceof FleetClient,
  );
});

Deno.test({
  name:
    "FleetClient: two servers as one, a `source` label per answer, a stopped server is a warning",
  ignore: missing !== null,
  fn: async () => {
    const job = "node";
    const [a, b] = await Promise.all([
      startPrometheus({
        openMetrics: plainFleetOpenMetrics([
          { labels: { instance: "a-1:9100", job }, usage: 20 },
          { labels: { instance: "a-2:9100", job }, usage: 90 },
        ]),
      }),
      startPrometheus({
        openMetrics: plainFleetOpenMetrics([{ labels: { instance: "b-1:9100", job }, usage: 50 }]),
      }),
    ]);
    try {
      const warnings: string[] = [];
      const fleet = createPrometheusClient({
        url: `east=${a.url},west=${b.url}`,
        retry: false,
        onWarning: (message, kind) => warnings.push(`${kind}: ${message}`),
      });
      assert.ok(fleet instanceof FleetClient);
      assert.equal(fleet.url, `east=${a.url}/,west=${b.url}/`);

      const now = await fleet.queryFrame(cpuUsageQuery(), { time: AT });
      assert.deepEqual(now.columns, ["instance", "source", "timestamp", "value"]);
      const rows = now.sort("instance").toRecords().map((r) => [
        r.instance,
        r.source,
        Math.round(Number(r.value) * 1000) / 1000,
      ]);
      assert.deepEqual(rows, [["a-1:9100", "east", 20], ["a-2:9100", "east", 90], [
        "b-1:9100",
        "west",
        50,
      ]]);

      const range = await fleet.queryRangeFrame(cpuUsageQuery(), {
        start: new Date(AT.getTime() - 600_000),
        end: AT,
        step: "1m",
      });
      assert.equal(range.height, 3 * 11);
      assert.deepEqual(
        range.getColumn("source").valueCounts().sort("source").toRecords().map((r) => [
          r.source,
          r.count,
        ]),
        [["east", 22], ["west", 11]],
      );
      const vector = await fleet.query('up{job="node"}', { time: AT });
      assert.equal(vector.resultType, "vector");
      assert.deepEqual(
        vector.resultType === "vector"
          ? vector.result.map((s) => `${s.metric.source}/${s.metric.instance}`).sort()
          : [],
        ["east/a-1:9100", "east/a-2:9100", "west/b-1:9100"],
      );
      assert.deepEqual(vector.warnings, []);
      assert.deepEqual(warnings, []);

      // One server goes away: the answer keeps the other, and says so.
      await b.stop();
      const partial = await fleet.queryFrame(cpuUsageQuery(), { time: AT });
      assert.deepEqual(partial.getColumn("instance").sort().toArray(), ["a-1:9100", "a-2:9100"]);
      assert.deepEqual(warnings, [
        `warning: Prometheus "west" failed, the answer holds only east: Cannot reach ` +
        `${b.url}/api/v1/query: connection refused (nothing listens at ${
          new URL(b.url).host
        }: check the URL's host and port, and that the server runs)`,
      ]);
      const partialVector = await fleet.query('up{job="node"}', { time: AT });
      assert.equal(partialVector.warnings.length, 1);
      assert.match(
        partialVector.warnings[0],
        /^Prometheus "west" failed, the answer holds only east: /,
      );

      // An empty answer of the whole fleet is said once, not per server.
      warnings.length = 0;
      const none = await fleet.queryFrame("node_cpu_seconds_totl", { time: AT });
      assert.equal(none.height, 0);
      assert.equal(
        warnings.at(-1),
        `warning: query returned no series: node_cpu_seconds_totl at ${AT.toISOString()}`,
      );
      await assert.rejects(
        fleet.queryFrame("node_cpu_seconds_totl", { time: AT, onEmpty: "error" }),
        EmptyResultError,
      );

      // Every server gone: an error naming each.
      await a.stop();
      const error = await fleet.queryFrame("up", { time: AT }).catch((e) => e);
      assert.ok(error instanceof FleetError, String(error));
      assert.deepEqual(Object.keys(error.errors), ["east", "west"]);
      assert.match(
        error.message,
        /^Every Prometheus failed: east: Cannot reach .*; west: Cannot reach /,
      );
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  },
});
