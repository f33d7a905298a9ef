import assert from "node:assert/strict";
import {
  ConfigError,
  ConfigSchema,
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

Deno.test("ConfigSchema: one field per setting, in the declaration's order", () => {
  // The schema is built from the settings' declarations: a setting cannot be
  // declared in one place only.
  assert.deepEqual(Object.keys(ConfigSchema.in.shape), Object.keys(SETTINGS));
  const parsed = ConfigSchema.parse({});
  assert.deepEqual(
    Object.keys(parsed).filter((name) => !(name in SETTINGS)),
    [],
  );
  assert.equal(parsed.threshold, 80);
  assert.equal(parsed.zammadGroup, "Users");
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
    "pw123",
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

const SECRET = "S3cretPW";

/** Run `deno task monitor` (the script) with exactly this environment; returns code and output. */
async function monitorCli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; out: string; err: string }> {
  const base: Record<string, string> = { NO_COLOR: "1" };
  for (const k of ["PATH", "HOME", "DENO_DIR", "XDG_CACHE_HOME", "TMPDIR"]) {
    const v = Deno.env.get(k);
    if (v !== undefined) base[k] = v;
  }
  const script = new URL("../../scripts/monitor.ts", import.meta.url).pathname;
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-check", script, ...args],
    env: { ...base, ...env },
    clearEnv: true,
    stdin: "null",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code, out: decode(stdout), err: decode(stderr) };
}

Deno.test("monitor CLI: no URL or secret setting is ever echoed, parsed or not", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const state = `${dir}/state.json`;
    const badFile = `${dir}/bad.json`;
    await Deno.writeTextFile(badFile, `{"prometheusToken": ${SECRET}}`);
    const cases: {
      env?: Record<string, string>;
      args?: string[];
      code: number;
      err: string | RegExp;
      hidden?: string[];
    }[] = [
      {
        env: { PROMETHEUS_URL: `ftp://admin:${SECRET}@prom:9090` },
        code: 2,
        err:
          "Invalid prometheusUrl from environment variable PROMETHEUS_URL: expected an http(s) " +
          "URL such as http://localhost:9090 (a path prefix is kept), or several servers as " +
          "name=url pairs separated by commas (a=http://prom-a:9090,b=http://prom-b:9090), " +
          'got "ftp://***@prom:9090"',
      },
      {
        // A bad port: the URL does not parse, the credentials are still cut out.
        env: { PROMETHEUS_URL: `http://admin:${SECRET}@prom:99999` },
        code: 2,
        err: /got "http:\/\/\*\*\*@prom:99999"/,
      },
      {
        // A password holding "@", "/" and " ".
        env: { PROMETHEUS_URL: "http://admin:S3c@r et/PW@prom:9090" },
        code: 2,
        err: /got "http:\/\/\*\*\*@prom:9090"/,
        hidden: ["S3c", "r et", "et/PW"],
      },
      {
        // ... or "@", "/" and ",": a valid URL (host "r,et"), still printed without any of it.
        env: { PROMETHEUS_URL: "http://admin:S3c@r,et/PW@prom:9090" },
        code: 0,
        err: "",
        hidden: ["S3c", "r,et", "et/PW"],
      },
      {
        env: { ALERTMANAGER_URL: `http://am:${SECRET}@am:9093,notaurl` },
        code: 2,
        err:
          /^opsbook monitor: Invalid alertmanagerUrl from environment variable ALERTMANAGER_URL: .*got "http:\/\/\*\*\*@am:9093,notaurl"/,
      },
      {
        env: { ZAMMAD_URL: `zammad://u:${SECRET}@z` },
        code: 2,
        err: /got "zammad:\/\/\*\*\*@z"/,
      },
      {
        // No scheme at all.
        env: { SLACK_API_URL: `u:${SECRET}@slack:8080` },
        code: 2,
        err: /got "\*\*\*@slack:8080"/,
      },
      {
        env: { SLACK_BASE_URL: `http://slack:99999/x?token=${SECRET}&a=1` },
        code: 2,
        err: /got "http:\/\/slack:99999\/x\?token=\*\*\*&a=1"/,
      },
      {
        args: ["--prometheus-url", `http://u:${SECRET}@[::1`],
        code: 2,
        err: /Invalid prometheusUrl from flag --prometheus-url: .*got "http:\/\/\*\*\*@\[::1"/,
      },
      {
        env: { PROMETHEUS_TOKEN: " " },
        code: 2,
        err: "Invalid prometheusToken from environment variable PROMETHEUS_TOKEN: " +
          "expected a bearer token, got a redacted value",
      },
      {
        env: { SLACK_BOT_TOKEN: SECRET },
        code: 2,
        err: "Invalid slackChannel from default: expected a channel id or name, got nothing " +
          "(required with slackBotToken)",
      },
      {
        env: { OPSBOOK_CONFIG: badFile },
        code: 2,
        err:
          `Invalid config: config file ${badFile} is not JSON: unexpected token (a value without quotes?)`,
      },
      {
        // A webhook URL the Slack sink refuses (checked after the schema, before anything runs).
        env: { SLACK_WEBHOOK_URL: `https://evil.example/services/T/B/${SECRET}` },
        args: ["--once", "--state", state],
        code: 2,
        err:
          /^opsbook monitor: Invalid slackWebhookUrl from environment variable SLACK_WEBHOOK_URL: expected the form/,
      },
      {
        // Valid settings full of secrets: --print-config shows none of them.
        env: {
          PROMETHEUS_URL: `http://admin:${SECRET}@prom:9090/?access_token=${SECRET}x`,
          PROMETHEUS_TOKEN: `${SECRET}a`,
          SLACK_WEBHOOK_URL: `https://hooks.slack.com/services/T0/B0/${SECRET}b`,
          SLACK_BOT_TOKEN: `xoxb-${SECRET}c`,
          SLACK_CHANNEL: "C0",
          ALERTMANAGER_URL: `http://am:${SECRET}d@am:9093,https://am2:9093/?api_key=${SECRET}e`,
          ZAMMAD_URL: "https://z.example",
          ZAMMAD_TOKEN: `${SECRET}f`,
          ZAMMAD_CUSTOMER: "ops@example.com",
        },
        args: ["--print-config"],
        code: 0,
        err: "",
      },
      {
        // Running: the start line and the error of an unreachable Prometheus hide the password.
        env: { PROMETHEUS_URL: `http://admin:${SECRET}@127.0.0.1:1/?token=${SECRET}t` },
        args: ["--once", "--state", state],
        code: 1,
        err: "",
      },
    ];
    for (const c of cases) {
      const args = c.args ?? ["--print-config"];
      const r = await monitorCli(args, c.env ?? {});
      const label = JSON.stringify({ env: c.env, args });
      assert.equal(r.code, c.code, `${label}\n${r.err}`);
      if (typeof c.err === "string") {
        assert.equal(r.err, c.err === "" ? "" : `opsbook monitor: ${c.err}\n`, label);
      } else {
        assert.match(r.err, c.err, label);
        assert.equal(r.err.trim().split("\n").length, 1, label); // one line, no stack trace
      }
      for (const secret of [SECRET, ...(c.hidden ?? [])]) {
        assert.ok(!r.out.includes(secret), `${label} stdout: ${r.out}`);
        assert.ok(!r.err.includes(secret), `${label} stderr: ${r.err}`);
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadConfig: rules, receivers and route; secrets of receivers redacted", async () => {
  const dir = await Deno.makeTempDir({ prefix: "opsbook-config-rules-" });
  try {
    const file = `${dir}/monitor.json`;
    await Deno.writeTextFile(
      file,
      JSON.stringify({
        rules: ["node.yml", "/etc/opsbook/team.yml"],
        receivers: {
          pager: { type: "slack", webhookUrl: "https://hooks.slack.com/services/T/B/HookSecret1" },
          am: { type: "alertmanager", urls: ["http://u:AmPass99@am:9093"] },
          tickets: {
            type: "zammad",
            url: "https://zammad.example",
            token: "ZammadTok3n",
            customer: "ops@example.com",
          },
        },
        route: {
          receiver: "tickets",
          routes: [{ match: { severity: "critical" }, receiver: "pager" }],
        },
      }),
    );
    const config = loadConfig({ env: {}, file });
    // Rule files in a config file are relative to it.
    assert.deepEqual(config.rules, [`${dir}/node.yml`, "/etc/opsbook/team.yml"]);
    assert.equal(config.receivers!.tickets.type, "zammad");
    assert.deepEqual(config.route, {
      receiver: "tickets",
      routes: [{ match: { severity: "critical" }, receiver: "pager" }],
    });
    const printed = JSON.stringify(redactConfig(config));
    for (const secret of ["HookSecret1", "AmPass99", "ZammadTok3n"]) {
      assert.ok(!printed.includes(secret), `${secret} printed`);
      assert.ok(configSecrets(config).some((s) => s.includes(secret)), `${secret} not redacted`);
    }
    assert.deepEqual(redactConfig(config).receivers, {
      pager: { type: "slack", webhookUrl: "***" },
      am: { type: "alertmanager", urls: ["http://***@am:9093/"] },
      tickets: {
        type: "zammad",
        url: "https://zammad.example/",
        token: "***",
        customer: "ops@example.com",
        group: "Users",
      },
    });
    // From the environment: a comma-separated list; a bad receiver names its field, never its secret.
    assert.deepEqual(loadConfig({ env: { OPSBOOK_RULES: "a.yml, b.yml" } }).rules, [
      "a.yml",
      "b.yml",
    ]);
    assert.throws(
      () =>
        loadConfig({
          env: {
            OPSBOOK_RECEIVERS: '{"x": {"type": "zammad", "url": "https://z", "token": "T0kenZ"}}',
          },
        }),
      (e: Error) => {
        assert.ok(e instanceof ConfigError);
        assert.match(e.message, /^Invalid receivers from environment variable OPSBOOK_RECEIVERS: /);
        assert.match(e.message, /got a redacted value \(at receivers\.x\.customer: /);
        assert.ok(!e.message.includes("T0kenZ"));
        return true;
      },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
