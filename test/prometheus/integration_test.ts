/**
 * The client against a real Prometheus and a real VictoriaMetrics, both
 * loaded with the synthetic dataset (dev/dataset.ts). Differences that
 * VictoriaMetrics shows, and that these tests tolerate, are listed in the
 * docs/prometheus.md.
 */
import assert from "node:assert/strict";
import type pl from "nodejs-polars";
import { NetworkError, PrometheusError } from "../../lib/errors.ts";
import { PrometheusClient } from "../../lib/prometheus/client.ts";
import { cpuUsageQuery, quoteString, selector } from "../../lib/prometheus/promql.ts";
import {
  DATASET_END_MS,
  DATASET_START_MS,
  expectedCpuRange,
  expectedCpuUsage,
  HOSTS,
} from "../../dev/dataset.ts";
import { missingBinaries, startPrometheus, startVictoriaMetrics } from "../../dev/stack.ts";

type Engine = "prometheus" | "victoriametrics";
const HOUR = 3_600_000;

const missingProm = missingBinaries(["prometheus", "promtool"]);
const missingVm = missingBinaries(["victoria-metrics", "promtool"]);

function times(frame: pl.DataFrame): number[] {
  return (frame.getColumn("timestamp").toArray() as unknown as Date[]).map((d) => d.getTime());
}

function rows(frame: pl.DataFrame, label: string): Map<string, number> {
  const keys = frame.getColumn(label).toArray() as string[];
  const ts = times(frame);
  const values = frame.getColumn("value").toArray() as number[];
  return new Map(keys.map((k, i) => [`${k}@${ts[i]}`, values[i]]));
}

function client(url: string, engine: Engine): PrometheusClient {
  return new PrometheusClient({
    url,
    timeoutMs: 60_000,
    retry: { limit: 1, delayMs: 50 },
    onWarning: (message) => {
      throw new Error(`Unexpected warning: ${message}`);
    },
    ...(engine === "victoriametrics"
      ? { maxPointsPerSeries: 30_000, params: { nocache: "1" } }
      : {}),
  });
}

async function suite(t: Deno.TestContext, url: string, engine: Engine): Promise<void> {
  const prom = client(url, engine);

  await t.step("instant CPU query equals the ground truth", async () => {
    for (const hours of [6.25, 11, 14.02, 16.1, 23.5]) {
      const at = DATASET_START_MS + hours * HOUR;
      const frame = await prom.queryFrame(cpuUsageQuery({ window: "5m", by: ["instance"] }), {
        time: new Date(at),
      });
      assert.deepEqual(frame.columns, ["instance", "timestamp", "value"]);
      const want = HOSTS.map((h) => [h.instance, expectedCpuUsage(h.instance, at)] as const)
        .filter(([, v]) => v !== null);
      assert.equal(frame.height, want.length, `hosts at ${hours} h`);
      const got = rows(frame, "instance");
      for (const [instance, value] of want) {
        const v = got.get(`${instance}@${at}`);
        assert.ok(
          v !== undefined && Math.abs(v - value!) < 1e-9,
          `${instance} at ${hours} h: ${v}`,
        );
      }
    }
  });

  await t.step("range CPU query equals the ground truth, one row per sample", async () => {
    const start = DATASET_START_MS + 10 * HOUR;
    const end = DATASET_START_MS + 12 * HOUR;
    const frame = await prom.queryRangeFrame(cpuUsageQuery(), {
      start: new Date(start).toISOString(),
      end: end / 1000,
      step: "5m",
    });
    const want = expectedCpuRange(start, end, 300_000);
    assert.equal(frame.height, want.length);
    const got = rows(frame, "instance");
    for (const row of want) {
      const v = got.get(`${row.instance}@${row.timestamp}`);
      assert.ok(
        v !== undefined && Math.abs(v - row.value) < 1e-9,
        `${row.instance}@${row.timestamp}`,
      );
    }
  });

  await t.step("a 24 h range that needs chunking equals single queries", async () => {
    const step = engine === "prometheus" ? "5s" : "2s";
    const stepMs = engine === "prometheus" ? 5000 : 2000;
    const query = selector("up", { job: "node", cloud: "azure" });
    const hosts = HOSTS.filter((h) => h.cloud === "azure").length;
    const range = await prom.queryRange(query, {
      start: DATASET_START_MS / 1000,
      end: DATASET_END_MS / 1000,
      step,
    });
    assert.equal(range.chunks, 2);
    const frame = await prom.queryRangeFrame(query, {
      start: DATASET_START_MS / 1000,
      end: DATASET_END_MS / 1000,
      step,
    });
    const unique = frame.select("instance", "timestamp").unique().height;
    assert.equal(unique, frame.height, "no duplicated samples");
    // Around the chunk boundary, the chunked rows equal one allowed query's rows.
    const limit = engine === "prometheus" ? 11_000 : 30_000;
    const from = DATASET_START_MS + (limit - 500) * stepMs;
    const to = DATASET_START_MS + (limit + 500) * stepMs;
    const single = await prom.queryRangeFrame(query, { start: from / 1000, end: to / 1000, step });
    assert.ok(single.height >= hosts * 1000, `single query rows ${single.height}`);
    const chunked = rows(frame, "instance");
    const expected = rows(single, "instance");
    let inRange = 0;
    for (const [key] of chunked) {
      const at = Number(key.split("@")[1]);
      if (at >= from && at <= to) inRange++;
    }
    assert.equal(inRange, expected.size);
    for (const [key, value] of expected) assert.equal(chunked.get(key), value, key);
  });

  await t.step("invalid PromQL gives the server's own error", async () => {
    const error = await prom.query("sum(rate(up[5m])").catch((e) => e);
    assert.ok(error instanceof PrometheusError, String(error));
    if (engine === "prometheus") {
      assert.equal(error.errorType, "bad_data");
      assert.equal(error.status, 400);
      assert.match(error.error, /parse error/);
      assert.match(error.message, /^Prometheus returned bad_data \(HTTP 400\): .*parse error/);
    } else {
      // VictoriaMetrics: HTTP 422 (or 400) with errorType "422" and its parser's message.
      assert.ok([400, 422].includes(error.status), String(error.status));
      assert.match(error.error, /cannot parse|unparsed data|syntax error/i);
    }
  });

  await t.step("0/0 gives NaN and 1/0 gives +Inf", async () => {
    const at = new Date(DATASET_START_MS + 12 * HOUR);
    const inf = await prom.queryFrame("1/0", { time: at });
    assert.deepEqual(inf.columns, ["timestamp", "value"]);
    assert.deepEqual(inf.getColumn("value").toArray(), [Infinity]);
    assert.deepEqual(times(inf), [at.getTime()]);
    // VictoriaMetrics drops NaN: an empty answer expected here, not warned about.
    const nan = await prom.queryFrame("0/0", { time: at, onEmpty: "ignore" });
    assert.deepEqual(nan.columns, ["timestamp", "value"]);
    if (engine === "prometheus") {
      assert.ok(Number.isNaN(nan.getColumn("value").toArray()[0]));
      const minus = await prom.queryFrame("-1/0", { time: at });
      assert.deepEqual(minus.getColumn("value").toArray(), [-Infinity]);
    } else {
      assert.equal(nan.height, 0, "VictoriaMetrics drops NaN results");
    }
    const raw = await prom.query("1/0", { time: at });
    assert.equal(raw.resultType, engine === "prometheus" ? "scalar" : "vector");
  });

  await t.step("a 20 KB query is POSTed and answered", async () => {
    const terms = Array.from(
      { length: 700 },
      (_, i) => selector("up", { instance: `nohost-${i}` }),
    );
    terms.push(...HOSTS.map((h) => selector("up", { instance: h.instance })));
    const query = terms.join(" or ");
    assert.ok(query.length > 20_000, String(query.length));
    const at = new Date(DATASET_START_MS + HOUR);
    if (engine === "victoriametrics") {
      // VictoriaMetrics refuses queries above -search.maxQueryLen (16 KB by default).
      const error = await prom.queryFrame(query, { time: at }).catch((e) => e);
      assert.ok(error instanceof PrometheusError && error.status === 422, String(error));
      assert.match(error.error, /too long query/);
      const shorter = [...terms.slice(0, 400), ...terms.slice(700)].join(" or ");
      assert.ok(shorter.length > 10_000 && shorter.length < 16_384, String(shorter.length));
      const frame = await prom.queryFrame(shorter, { time: at });
      assert.equal(frame.height, HOSTS.length);
      return;
    }
    const frame = await prom.queryFrame(query, { time: at });
    assert.equal(frame.height, HOSTS.length);
  });

  await t.step("label values with quotes, backslashes and newlines round-trip", async () => {
    for (
      const value of [
        'a"b\\c\nd',
        "back\\slash\\",
        '"}) or vector(99) #',
        "tab\there 主机 \u{1F600}",
      ]
    ) {
      const frame = await prom.queryFrame(
        `label_replace(vector(1), "v", ${quoteString(value)}, "", "")`,
        { time: new Date(DATASET_START_MS + HOUR) },
      );
      assert.equal(frame.height, 1);
      assert.deepEqual(frame.getColumn("v").toArray(), [value]);
    }
    const azure = HOSTS.filter((h) => h.cloud === "azure");
    const frame = await prom.queryFrame(
      selector("up", { cloud: "azure", instance: { op: "=~", value: "az-.*" } }),
      { time: new Date(DATASET_START_MS + HOUR) },
    );
    assert.deepEqual(
      (frame.getColumn("instance").toArray() as string[]).sort(),
      azure.map((h) => h.instance).sort(),
    );
    const none = await prom.queryFrame(selector("up", { instance: '"} or vector(1) or up{x="' }), {
      time: new Date(DATASET_START_MS + HOUR),
      onEmpty: "ignore",
    });
    assert.equal(none.height, 0);
  });

  await t.step("metadata endpoints", async () => {
    const window = { start: DATASET_START_MS / 1000, end: DATASET_END_MS / 1000 };
    const names = await prom.labelNames(window);
    for (const n of ["__name__", "cloud", "cpu", "instance", "job", "mode", "region"]) {
      assert.ok(names.includes(n), n);
    }
    assert.deepEqual(await prom.labelValues("cloud", window), ["aliyun", "azure", "tencent"]);
    const series = await prom.series(selector("up", { job: "node" }), window);
    assert.equal(series.length, HOSTS.length);
    const info = await prom.buildInfo();
    if (engine === "prometheus") {
      assert.match(info.version ?? "", /^2\./);
      const targets = await prom.targets();
      assert.ok(Array.isArray(targets.activeTargets));
      const rules = await prom.rules();
      assert.ok(rules.groups.some((g) => g.name === "opsbook"));
      assert.ok(Array.isArray(await prom.alerts()));
    }
  });
}

Deno.test({
  name: "integration: the client against a real Prometheus",
  ignore: missingProm !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async (t) => {
    await using prom = await startPrometheus();
    await suite(t, prom.url, "prometheus");
  },
});

Deno.test({
  name: "integration: the client against a real VictoriaMetrics",
  ignore: missingVm !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async (t) => {
    await using vm = await startVictoriaMetrics();
    await suite(t, vm.url, "victoriametrics");
  },
});

Deno.test("integration: an unreachable server is a NetworkError", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const prom = new PrometheusClient({
    url: `http://127.0.0.1:${port}`,
    bearerToken: "integration-secret-token",
    retry: { limit: 1, delayMs: 10 },
  });
  const error = await prom.query("up").catch((e) => e);
  assert.ok(error instanceof NetworkError, String(error));
  assert.ok(error.message.startsWith(`Cannot reach http://127.0.0.1:${port}/api/v1/query: `));
  assert.ok(!Deno.inspect(error).includes("integration-secret-token"));
});
