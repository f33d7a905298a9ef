import assert from "node:assert/strict";
import { loadConfig, SETTINGS } from "../../lib/monitor/config.ts";
import { createMonitorMetrics } from "../../lib/monitor/daemon.ts";
import { missingBinaries } from "../../dev/stack.ts";

const DEPLOY = new URL("../../deploy/", import.meta.url);

function read(name: string): string {
  return Deno.readTextFileSync(new URL(name, DEPLOY));
}

/** `Key=value` lines of one section of a systemd unit (repeated keys keep every value). */
function unitSection(text: string, section: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      current = header[1];
      continue;
    }
    if (current !== section) continue;
    const eq = line.indexOf("=");
    const key = line.slice(0, eq);
    out.set(key, [...(out.get(key) ?? []), line.slice(eq + 1)]);
  }
  return out;
}

/** Variables set or shown commented out (`#NAME=`) in the environment file. */
function envExample(): { names: string[]; values: Record<string, string> } {
  const names: string[] = [];
  const values: Record<string, string> = {};
  for (const line of read("opsbook.env.example").split("\n")) {
    const m = /^(#?)([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (!m) continue;
    names.push(m[2]);
    if (m[1] === "") values[m[2]] = m[3];
  }
  return { names, values };
}

Deno.test("deploy: the monitor service has the documented restart and hardening settings", () => {
  const s = unitSection(read("opsbook-monitor.service"), "Service");
  const want: Record<string, string> = {
    Restart: "on-failure",
    RestartPreventExitStatus: "2",
    EnvironmentFile: "/etc/opsbook/opsbook.env",
    DynamicUser: "yes",
    NoNewPrivileges: "yes",
    ProtectSystem: "strict",
    StateDirectory: "opsbook",
    LogsDirectory: "opsbook",
    KillSignal: "SIGTERM",
  };
  for (const [key, value] of Object.entries(want)) {
    assert.deepEqual(s.get(key), [value], key);
  }
  assert.match(s.get("ExecStart")![0], / scripts\/monitor\.ts --metrics-port 9464$/);
  assert.deepEqual(unitSection(read("opsbook-monitor.service"), "Install").get("WantedBy"), [
    "multi-user.target",
  ]);
});

Deno.test("deploy: the timer variants run --once and run-notebook every 5 minutes", () => {
  const once = unitSection(read("opsbook-monitor-once.service"), "Service");
  assert.deepEqual(once.get("Type"), ["oneshot"]);
  assert.match(once.get("ExecStart")![0], / scripts\/monitor\.ts --once$/);
  const notebook = unitSection(read("opsbook-notebook.service"), "Service");
  assert.deepEqual(notebook.get("Type"), ["oneshot"]);
  assert.match(
    notebook.get("ExecStart")![0],
    / scripts\/run_notebook\.ts notebooks\/03_alert\.ipynb /,
  );
  for (const s of [once, notebook]) {
    for (const key of ["DynamicUser", "NoNewPrivileges"]) assert.deepEqual(s.get(key), ["yes"]);
    assert.deepEqual(s.get("ProtectSystem"), ["strict"]);
    assert.deepEqual(s.get("EnvironmentFile"), ["/etc/opsbook/opsbook.env"]);
    assert.equal(s.get("StateDirectory")?.length, 1);
  }
  for (const timer of ["opsbook-monitor-once.timer", "opsbook-notebook.timer"]) {
    const t = unitSection(read(timer), "Timer");
    assert.deepEqual(t.get("OnUnitActiveSec"), ["5min"], timer);
    assert.deepEqual(t.get("Persistent"), ["true"], timer);
  }
});

Deno.test("deploy: a log file under /var/log is writable by every unit reading the env file", () => {
  const { values } = envExample();
  const log = values.OPSBOOK_LOG_FILE;
  assert.equal(log, "/var/log/opsbook/monitor.log");
  // ProtectSystem=strict makes /var/log read-only unless the unit declares LogsDirectory=.
  for (const unit of ["opsbook-monitor.service", "opsbook-monitor-once.service"]) {
    const s = unitSection(read(unit), "Service");
    assert.deepEqual(s.get("LogsDirectory"), ["opsbook"], unit);
  }
});

Deno.test("deploy: every variable of opsbook.env.example is a monitor setting, and it loads", () => {
  const known = new Set(Object.values(SETTINGS).map((s) => s.env));
  const { names, values } = envExample();
  assert.ok(names.length >= 20, `only ${names.length} variables`);
  assert.deepEqual(names.filter((n) => !known.has(n)), []);
  const config = loadConfig({ env: values });
  assert.equal(config.threshold, 80);
  assert.equal(config.low, 75);
  assert.equal(config.logFile, "/var/log/opsbook/monitor.log");
  assert.equal(config.logFormat, "logfmt");
});

Deno.test({
  name: "deploy: promtool accepts the scrape config and the monitor's alert rules",
  ignore: missingBinaries(["promtool"]) !== null,
  fn: async () => {
    const prom = read("prometheus.yml");
    for (
      const [cloud, region] of [["aliyun", "cn-hangzhou"], ["tencent", "ap-shanghai"], [
        "azure",
        "westeurope",
      ]]
    ) {
      assert.ok(prom.includes(`labels: { cloud: ${cloud}, region: ${region} }`), cloud);
    }
    assert.match(prom, /job_name: opsbook-monitor\n/);
    const run = async (args: string[]) => {
      const out = await new Deno.Command("promtool", { args, stdout: "piped", stderr: "piped" })
        .output();
      const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 0, text);
      return text;
    };
    const dir = new URL(".", DEPLOY).pathname;
    assert.match(
      await run(["check", "rules", `${dir}opsbook-monitor.rules.yml`]),
      /SUCCESS: 5 rules found/,
    );
    assert.match(
      await run(["check", "config", "--syntax-only", `${dir}prometheus.yml`]),
      /SUCCESS/,
    );
  },
});

Deno.test("deploy: the alert rules use metrics the monitor exposes and the scrape job's name", () => {
  const rules = read("opsbook-monitor.rules.yml");
  const exposed = new Set(
    [...createMonitorMetrics().registry.render().matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]),
  );
  const used = [...new Set([...rules.matchAll(/\b(opsbook_monitor_[a-z_]+)/g)].map((m) => m[1]))];
  assert.deepEqual(used.sort(), [
    "opsbook_monitor_dead_letters",
    "opsbook_monitor_errors_total",
    "opsbook_monitor_last_success_timestamp_seconds",
    "opsbook_monitor_outbox_size",
  ]);
  assert.deepEqual(used.filter((m) => !exposed.has(m)), []);
  assert.match(rules, /up\{job="opsbook-monitor"\}/);
  assert.match(read("prometheus.yml"), /- job_name: opsbook-monitor\n/);
});
