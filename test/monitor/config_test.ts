import assert from "node:assert/strict";
import {
  ConfigError,
  configSecrets,
  loadConfig,
  redactConfig,
  settingError,
  SETTINGS,
  settingSource,
} from "../../lib/monitor/config.ts";

Deno.test("loadConfig: defaults", () => {
  const c = loadConfig({ env: {} });
  assert.equal(c.prometheusUrl, "http://localhost:9090");
  assert.equal(c.threshold, 80);
  assert.equal(c.low, 75);
  assert.equal(c.interval, 300);
  assert.equal(c.state, "opsbook-state.json");
  assert.equal(c.blindAfter, 3);
  assert.equal(c.logFormat, "logfmt");
  assert.equal(c.dryRun, false);
  assert.equal(c.metricsPort, undefined);
  // The shared rules' defaults: HostHighCpu sustained 5m, HostCpuTrend 12h over 6h.
  assert.equal(c.for, 300);
  assert.equal(c.trend, true);
  assert.equal(c.trendWithin, 12 * 3600);
  assert.equal(c.trendLookback, 6 * 3600);
});

Deno.test("loadConfig: rule settings from the environment and flags", () => {
  const c = loadConfig({
    env: { CPU_FOR: "10m", CPU_TREND: "false", CPU_TREND_WITHIN: "6h" },
    flags: { trendLookback: "3h" },
  });
  assert.equal(c.for, 600);
  assert.equal(c.trend, false);
  assert.equal(c.trendWithin, 6 * 3600);
  assert.equal(c.trendLookback, 3 * 3600);
  assert.throws(
    () => loadConfig({ env: { CPU_TREND_WITHIN: "0s" } }),
    /^ConfigError: Invalid trendWithin from environment variable CPU_TREND_WITHIN: expected a positive duration/,
  );
});

Deno.test("settingSource and settingError: name the setting and its source, not the value", () => {
  const secret = "https://example.com/services/T1/B1/notthehookhost";
  const c = loadConfig({ env: { SLACK_WEBHOOK_URL: secret }, flags: { threshold: "90" } });
  assert.equal(settingSource(c, "slackWebhookUrl"), "env");
  assert.equal(settingSource(c, "threshold"), "flag");
  assert.equal(settingSource(c, "interval"), "default");
  const e = settingError(c, "slackWebhookUrl", "expected the form https://hooks.slack.com/…");
  assert.ok(e instanceof ConfigError);
  assert.equal(e.setting, "slackWebhookUrl");
  assert.equal(e.source, "env");
  assert.equal(
    e.message,
    "Invalid slackWebhookUrl from environment variable SLACK_WEBHOOK_URL: " +
      "expected the form https://hooks.slack.com/…",
  );
});

Deno.test("loadConfig: defaults < file < env < flags", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/opsbook.json`;
    await Deno.writeTextFile(
      file,
      JSON.stringify({ threshold: 70, interval: "10m", state: "/f/state.json", blindAfter: 5 }),
    );
    const c = loadConfig({
      file,
      env: { CPU_THRESHOLD: "85", MONITOR_INTERVAL: "2m", CPU_LOW: "60" },
      flags: { interval: "30s", dryRun: true },
    });
    assert.equal(c.threshold, 85); // env over file
    assert.equal(c.interval, 30); // flag over env
    assert.equal(c.state, "/f/state.json"); // file over default
    assert.equal(c.blindAfter, 5);
    assert.equal(c.low, 60);
    assert.equal(c.dryRun, true);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadConfig: STATE_DIRECTORY sets the default state path", () => {
  assert.equal(
    loadConfig({ env: { STATE_DIRECTORY: "/var/lib/opsbook" } }).state,
    "/var/lib/opsbook/state.json",
  );
  assert.equal(
    loadConfig({ env: { STATE_DIRECTORY: "/var/lib/opsbook", OPSBOOK_STATE: "/x.json" } }).state,
    "/x.json",
  );
});

Deno.test("loadConfig: a bad value names the setting, its source and the expected form", () => {
  const cases: [Parameters<typeof loadConfig>[0], string, string][] = [
    [{ env: { CPU_THRESHOLD: "hot" } }, "threshold", "environment variable CPU_THRESHOLD"],
    [{ env: { CPU_THRESHOLD: "150" } }, "threshold", "environment variable CPU_THRESHOLD"],
    [{ env: {}, flags: { interval: "5 minutes" } }, "interval", "flag --interval"],
    [{ env: {}, flags: { interval: "0s" } }, "interval", "flag --interval"],
    [{ env: { PROMETHEUS_URL: "localhost:9090" } }, "prometheusUrl", "PROMETHEUS_URL"],
    [{ env: { OPSBOOK_METRICS_PORT: "70000" } }, "metricsPort", "OPSBOOK_METRICS_PORT"],
    [{ env: { OPSBOOK_LOG_FORMAT: "xml" } }, "logFormat", "OPSBOOK_LOG_FORMAT"],
    [{ env: { CPU_THRESHOLD: "80", CPU_LOW: "90" } }, "low", "CPU_LOW"],
    [{ env: { OPSBOOK_REPLAY_START: "yesterday" } }, "replayStart", "OPSBOOK_REPLAY_START"],
    [{ env: { OPSBOOK_DRY_RUN: "maybe" } }, "dryRun", "OPSBOOK_DRY_RUN"],
  ];
  for (const [options, setting, source] of cases) {
    let error: unknown;
    try {
      loadConfig(options);
    } catch (e) {
      error = e;
    }
    assert.ok(error instanceof ConfigError, `${setting} should fail`);
    assert.equal(error.setting, setting);
    assert.ok(error.message.startsWith(`Invalid ${setting} from `), error.message);
    assert.ok(error.message.includes(source), error.message);
    assert.ok(error.message.includes(`expected ${SETTINGS[error.setting as "low"].expected}`));
  }
  assert.throws(
    () => loadConfig({ env: { CPU_THRESHOLD: "hot" } }),
    {
      message:
        "Invalid threshold from environment variable CPU_THRESHOLD: expected a number between 0 and 100, got not a number",
    },
  );
});

Deno.test("loadConfig: a bad secret is never echoed", () => {
  const secret = "xoxb-not-a-url-secret";
  try {
    loadConfig({ env: { SLACK_WEBHOOK_URL: secret } });
    assert.fail("should throw");
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    assert.equal(e.setting, "slackWebhookUrl");
    assert.ok(!e.message.includes(secret), e.message);
    assert.ok(e.message.includes("a redacted value"));
  }
});

Deno.test("loadConfig: a broken or unknown config file is reported", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/a.json`, "{ nope");
    assert.throws(() => loadConfig({ env: {}, file: `${dir}/a.json` }), /is not JSON/);
    await Deno.writeTextFile(`${dir}/b.json`, '{"treshold": 80}');
    assert.throws(
      () => loadConfig({ env: {}, file: `${dir}/b.json` }),
      /unknown setting "treshold"/,
    );
    await Deno.writeTextFile(`${dir}/c.json`, '{"threshold": "high"}');
    assert.throws(
      () => loadConfig({ env: {}, file: `${dir}/c.json` }),
      /^ConfigError: Invalid threshold from config file .*c\.json: expected a number/,
    );
    assert.throws(() => loadConfig({ env: {}, file: `${dir}/missing.json` }), /cannot read/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("redactConfig and configSecrets: secrets and URL credentials hidden", () => {
  const c = loadConfig({
    env: {
      PROMETHEUS_URL: "https://bob:pw123@prom.example/prometheus",
      SLACK_WEBHOOK_URL: "https://hooks.slack.com/services/T1/B1/secretpart",
      SLACK_BOT_TOKEN: "xoxb-1-2-3",
      SLACK_CHANNEL: "C123",
      ZAMMAD_URL: "https://zammad.example",
      ZAMMAD_TOKEN: "ztok-456",
      ZAMMAD_CUSTOMER: "ops@example.com",
      PROMETHEUS_TOKEN: "ptok-789",
    },
  });
  const r = redactConfig(c);
  const text = JSON.stringify(r);
  for (const s of ["pw123", "secretpart", "xoxb-1-2-3", "ztok-456", "ptok-789"]) {
    assert.ok(!text.includes(s), `${s} leaked: ${text}`);
  }
  assert.equal(r.prometheusUrl, "https://***@prom.example/prometheus");
  assert.equal(r.slackWebhookUrl, "***");
  assert.equal(r.slackChannel, "C123");
  assert.deepEqual(configSecrets(c).sort(), [
    "https://hooks.slack.com/services/T1/B1/secretpart",
    "ptok-789",
    "xoxb-1-2-3",
    "ztok-456",
  ]);
});

Deno.test("loadConfig: dependent settings", () => {
  assert.throws(() => loadConfig({ env: { SLACK_BOT_TOKEN: "xoxb-1" } }), /slackChannel/);
  assert.throws(() => loadConfig({ env: { ZAMMAD_URL: "https://z.example" } }), /zammadToken/);
  assert.throws(
    () => loadConfig({ env: { ZAMMAD_URL: "https://z.example", ZAMMAD_TOKEN: "t" } }),
    (e: Error) =>
      e instanceof ConfigError && e.setting === "zammadCustomer" &&
      /required with zammadUrl/.test(e.message),
  );
  assert.throws(
    () =>
      loadConfig({
        env: {
          OPSBOOK_REPLAY_START: "2026-11-01T10:00:00Z",
          OPSBOOK_REPLAY_END: "2026-11-01T09:00:00Z",
        },
      }),
    /replayEnd/,
  );
});
