/**
 * `deno task rules backtest` as a user runs it: against a real Prometheus
 * holding the dataset, with every output format, and off the happy path
 * (bad flags, bad times, a bad rule file, Prometheus down).
 *
 * @module
 */

import assert from "node:assert/strict";
import { freePort, missingBinaries, REPO_ROOT, startPrometheus } from "../../dev/stack.ts";

const missing = missingBinaries(["prometheus", "promtool"]);

async function rules(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${REPO_ROOT}/scripts/rules.ts`, ...args],
    cwd: REPO_ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

Deno.test("rules backtest: rule file over the dataset's day, json, csv, table and html", {
  ignore: missing !== null,
}, async () => {
  await using prom = await startPrometheus({ dataset: true });
  const dir = await Deno.makeTempDir({ prefix: "opsbook-backtest-cli-" });
  try {
    const range = ["--start", "2026-11-01T00:00:00Z", "--end", "1793577600"];
    const json = await rules([
      "backtest",
      "rules/node.yml",
      ...range,
      "--prometheus-url",
      prom.url,
      "--format",
      "json",
      "--html",
      `${dir}/report.html`,
    ]);
    assert.equal(json.code, 0, json.stderr);
    const rows = json.stdout.trim().split("\n").map((l) => JSON.parse(l));
    for (const row of rows) {
      assert.deepEqual(Object.keys(row), [
        "alertname",
        "labels",
        "annotations",
        "activeAt",
        "firedAt",
        "resolvedAt",
      ]);
    }
    const memory = rows.filter((r) => r.alertname === "HostOutOfMemory");
    assert.deepEqual(memory.map((r) => [r.labels.instance, r.activeAt, r.firedAt, r.resolvedAt]), [
      [
        "ali-bj-cache-01:9100",
        "2026-11-01T01:51:00Z",
        "2026-11-01T01:53:00Z",
        "2026-11-01T03:01:00Z",
      ],
    ]);
    const full = rows.filter((r) => r.alertname === "HostDiskFull");
    assert.deepEqual(full.map((r) => [r.labels.mountpoint, r.firedAt, r.resolvedAt]), [
      ["/data", "2026-11-01T20:48:00Z", "2026-11-01T21:31:00Z"],
    ]);
    // HostCpuTrend (trend detector, r² >= 0.9, for: 15m): only the climbing host fires
    const trends = rows.filter((r) => r.alertname === "HostCpuTrend" && r.firedAt !== null);
    assert.deepEqual(trends.map((r) => [r.labels.instance, r.firedAt, r.resolvedAt]), [
      ["tc-sh-batch-01:9100", "2026-11-01T19:19:00Z", null],
    ]);
    // the spike is pending, never fires
    const spike = rows.find((r) =>
      r.alertname === "HostHighCpu" && r.labels.instance === "tc-gz-api-01:9100"
    );
    assert.deepEqual([spike.activeAt, spike.firedAt], ["2026-11-01T14:01:00Z", null]);
    // progress on stderr, one line per rule, and the report
    assert.match(json.stderr, /\[1\/8\] node\/HostHighCpu: 1441 evaluations\n/);
    assert.match(json.stderr, new RegExp(`wrote ${dir}/report.html\n$`));
    const html = await Deno.readTextFile(`${dir}/report.html`);
    assert.match(html, /HostOutOfMemory/);
    assert.doesNotMatch(html, /<script/i);

    const csv = await rules([
      "backtest",
      "rules/node.yml",
      ...range,
      "--prometheus-url",
      prom.url,
      "--format",
      "csv",
    ]);
    assert.equal(csv.code, 0, csv.stderr);
    assert.equal(csv.stdout.trim().split("\n").length, rows.length + 1);

    const table = await rules([
      "backtest",
      "rules/node.yml",
      ...range,
      "--prometheus-url",
      prom.url,
    ]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /\nnode\/HostOutOfMemory +1441 +1 +1 +2 +-\n/);
    // HostCpuTrend fires at 19:19 and still fires at the end; its repeat_interval: 24h
    // sends no repeat at 23:19 (the default 4h would: 2 notifications).
    assert.match(table.stdout, /\nnode\/HostCpuTrend +1441 +\d+ +1 +1 +-\n/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("rules backtest: mistakes are one clear line and exit 2, Prometheus down is exit 1", async () => {
  const bad = async (args: string[], message: RegExp) => {
    const r = await rules(["backtest", ...args]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, message);
    assert.equal(r.stdout, "");
  };
  await bad(["rules/node.yml", "--end", "60"], /--start is required/);
  await bad(["rules/node.yml", "--start", "0"], /--end is required/);
  await bad(
    ["rules/node.yml", "--start", "yesterday", "--end", "60"],
    /--start "yesterday": expected RFC 3339 \(2026-11-01T00:00:00Z\) or epoch seconds/,
  );
  await bad(["rules/node.yml", "--start", "60", "--end", "0"], /--end is before --start/);
  await bad(["rules/node.yml", "--strat", "0"], /Unknown option '--strat'/);
  await bad(
    ["rules/node.yml", "--start", "0", "--end", "60", "--format", "yaml"],
    /--format "yaml": expected table, json or csv/,
  );
  await bad(
    ["rules/node.yml", "--start", "0", "--end", "60", "--interval", "5 minutes"],
    /--interval "5 minutes": expected a positive duration/,
  );
  await bad(["--start", "0", "--end", "60"], /no rule file given/);
  await bad(["missing.yml", "--start", "0", "--end", "60"], /^missing\.yml: no such file\n$/);
  await bad(
    ["rules/node.yml", "--start", "0", "--end", "60", "--html", "/nonexistent/deeper/r.html"],
    /--html: .*\/nonexistent/,
  );
  const down = await rules([
    "backtest",
    "rules/node.yml",
    "--start",
    "0",
    "--end",
    "60",
    "--prometheus-url",
    `http://127.0.0.1:${freePort()}`,
  ]);
  assert.equal(down.code, 1, down.stderr);
  assert.match(down.stderr, /^opsbook rules backtest: .*127\.0\.0\.1/m);
});
