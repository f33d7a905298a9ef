import assert from "node:assert/strict";
import { cpuUsageQuery, quoteString, selector } from "../../lib/prometheus/promql.ts";

Deno.test("cpuUsageQuery builds the classic query exactly", () => {
  assert.equal(
    cpuUsageQuery({ window: "5m", by: ["instance"] }),
    '100 - (avg by(instance)(irate(node_cpu_seconds_total{mode="idle"}[5m])) * 100)',
  );
  assert.equal(
    cpuUsageQuery(),
    '100 - (avg by(instance)(irate(node_cpu_seconds_total{mode="idle"}[5m])) * 100)',
  );
  assert.equal(
    cpuUsageQuery({ window: 90, by: [] }),
    '100 - (avg(irate(node_cpu_seconds_total{mode="idle"}[1m30s])) * 100)',
  );
  assert.equal(
    cpuUsageQuery({ window: "1m", by: ["cloud", "instance"], matchers: { cloud: "azure" } }),
    '100 - (avg by(cloud, instance)(irate(node_cpu_seconds_total{mode="idle",cloud="azure"}[1m])) * 100)',
  );
});

Deno.test("cpuUsageQuery validates its window and labels", () => {
  assert.throws(() => cpuUsageQuery({ window: "5 minutes" }), RangeError);
  assert.throws(() => cpuUsageQuery({ window: "0s" }), RangeError);
  assert.throws(() => cpuUsageQuery({ window: "5m]) or vector(1" }), RangeError);
  assert.throws(() => cpuUsageQuery({ by: ["in-stance"] }), TypeError);
});

Deno.test("quoteString escapes backslashes, quotes and control characters", () => {
  assert.equal(quoteString("plain"), '"plain"');
  assert.equal(quoteString('a"b'), '"a\\"b"');
  assert.equal(quoteString("a\\b"), '"a\\\\b"');
  assert.equal(quoteString("l1\nl2\r\t"), '"l1\\nl2\\r\\t"');
  assert.equal(quoteString("\u0000\u007f"), '"\\u0000\\u007f"');
  assert.equal(quoteString("主机-01"), '"主机-01"');
});

Deno.test("selector supports the four matchers and cannot be broken out of", () => {
  assert.equal(
    selector("up", {
      job: "node",
      instance: { op: "!=", value: "a:9100" },
      cloud: { op: "=~", value: "ali.*|azure" },
      region: { op: "!~", value: "cn-.*" },
    }),
    'up{job="node",instance!="a:9100",cloud=~"ali.*|azure",region!~"cn-.*"}',
  );
  assert.equal(selector("up"), "up");
  assert.equal(selector(undefined, { job: "x" }), '{job="x"}');
  const evil = '"} or vector(1) or up{a="\\';
  assert.equal(selector("up", { job: evil }), 'up{job="\\"} or vector(1) or up{a=\\"\\\\"}');
});

Deno.test("selector validates names and operators", () => {
  assert.throws(() => selector("1up"), TypeError);
  assert.throws(() => selector("up", { "bad-label": "x" }), TypeError);
  assert.throws(() => selector("up", { job: { op: "==" as "=", value: "x" } }), TypeError);
  assert.throws(() => selector("", {}), TypeError);
});

Deno.test("cpuUsageQuery without: keeps every other label; never together with by", () => {
  assert.equal(
    cpuUsageQuery({ without: ["cpu", "mode"], window: "1m" }),
    '100 - (avg without(cpu, mode)(irate(node_cpu_seconds_total{mode="idle"}[1m])) * 100)',
  );
  assert.equal(
    cpuUsageQuery({ without: [] }),
    '100 - (avg without()(irate(node_cpu_seconds_total{mode="idle"}[5m])) * 100)',
  );
  assert.throws(
    () => cpuUsageQuery({ by: ["instance"], without: ["cpu"] }),
    new TypeError("Invalid cpuUsageQuery options: give by or without, not both"),
  );
  assert.throws(
    () => cpuUsageQuery({ without: ["cpu-id"] }),
    /^TypeError: Invalid label name in without: "cpu-id" must match/,
  );
});
