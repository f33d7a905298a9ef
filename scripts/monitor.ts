/**
 * `deno task monitor`: the monitor daemon. It evaluates Prometheus rule
 * files (`--rules FILE...`, default the shipped `rules/node.yml`), each group
 * at its interval, plus the meta-alerts, updates the alert state and
 * delivers the changes to Slack, Alertmanager, Zammad or a dry-run printer,
 * routed by labels to named receivers.
 *
 * ```sh
 * deno task monitor [--rules FILE...] [--once] [--recover] [--interval 5m] [--threshold 80] [--state PATH]
 *   [--log-file PATH] [--metrics-port N] [--config FILE] [--print-config]
 *   [--replay-start RFC3339 --replay-step 5m [--replay-end RFC3339]]
 *   [--<setting> VALUE ...]
 * ```
 *
 * Exit codes: 0 (stopped by SIGTERM/SIGINT, `--once` succeeded, replay done),
 * 1 (`--once` evaluation failed), 2 (bad configuration, another monitor holds
 * the lock, unreadable state file).
 *
 * @module
 */

import { enterUserCwd } from "./_user_cwd.ts";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import {
  acquireLock,
  AlertmanagerSink,
  compileRoute,
  type Config,
  ConfigError,
  configSecrets,
  createPrometheusClient,
  DryRunSink,
  type FileLock,
  loadConfig,
  loadMonitorRules,
  LockError,
  Logger,
  Monitor,
  type MonitorRuleSet,
  redactConfig,
  type Router,
  RuleFileError,
  serveMetrics,
  type SettingName,
  SETTINGS,
  type Sink,
  SlackSink,
  ZammadSink,
} from "../lib/mod.ts";
import { createMonitorMetrics, stoppedHostRule } from "../lib/monitor/daemon.ts";
import { settingError } from "../lib/monitor/config.ts";
import { writableFileProblem } from "../lib/monitor/paths.ts";

const USAGE = `Usage: deno task monitor [options]

  --rules FILE...        Prometheus rule files to evaluate, each group at its interval
                         (default: the shipped rules/node.yml; also --rules a.yml,b.yml; OPSBOOK_RULES)
  --once                 run one evaluation, exit 0 (1 when it failed)
  --config FILE          JSON config file (keys are setting names)
  --print-config         print the effective configuration (secrets redacted) and exit
  --recover              set a corrupted state or outbox file aside (FILE.corrupt-TIME) and start fresh
  --interval 5m          interval of groups without one; evaluations run at the shortest (MONITOR_INTERVAL)
  --threshold 80         HostHighCpu fires above this, in % (CPU_THRESHOLD)
  --low 75               ... and resolves only below this (also --clear-below) (CPU_LOW)
  --for 5m               ... when above it at every sample this long (CPU_FOR)
  --trend-within 12h     HostCpuTrend: the fitted line reaches 100 % within this (CPU_TREND_WITHIN)
  --trend-lookback 6h    HostCpuTrend: history the line is fitted over (CPU_TREND_LOOKBACK)
  --no-trend             do not evaluate HostCpuTrend       (CPU_TREND=false)
  --rule-blind-after 1h  a rule that never matched a series raises MonitoringRuleBlind after this
  --state PATH           alert state file                   (OPSBOOK_STATE)
  --log-file PATH        also log to this file, rotated     (OPSBOOK_LOG_FILE)
  --metrics-port N       serve /metrics on this port        (OPSBOOK_METRICS_PORT)
  --replay-start TIME    evaluate historic data from TIME (RFC 3339) instead of now
  --replay-step 5m       replay time advance per successful evaluation
  --replay-end TIME      stop after evaluating TIME
Every setting also has a flag: ${Object.values(SETTINGS).map((s) => `--${s.flag}`).join(" ")}`;

class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

interface Args {
  once: boolean;
  recover: boolean;
  printConfig: boolean;
  help: boolean;
  config?: string;
  flags: Partial<Record<SettingName, string | boolean>>;
}

function parseArgs(argv: string[]): Args {
  const byFlag = new Map(
    (Object.entries(SETTINGS) as [SettingName, { flag: string }][]).map(([k, v]) => [v.flag, k]),
  );
  const out: Args = { once: false, recover: false, printConfig: false, help: false, flags: {} };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith("--")) throw new UsageError(`Unexpected argument: ${arg}`);
    const eq = arg.indexOf("=");
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    const inline = eq === -1 ? undefined : arg.slice(eq + 1);
    if (name === "once") out.once = true;
    else if (name === "recover" && inline === undefined) out.recover = true;
    else if (name === "print-config") out.printConfig = true;
    else if (name === "help") out.help = true;
    else if (name === "dry-run" && inline === undefined) out.flags.dryRun = true;
    else if (name === "no-trend" && inline === undefined) out.flags.trend = false;
    else if (name === "rules") {
      // --rules a.yml b.yml, --rules a.yml,b.yml, --rules=a.yml; repeatable.
      const files: string[] = [];
      if (inline !== undefined) files.push(inline);
      else {
        while (i + 1 < argv.length && !argv[i + 1].startsWith("--")) files.push(argv[++i]);
      }
      if (files.length === 0) throw new UsageError("Missing value: --rules needs a rule file");
      const before = typeof out.flags.rules === "string" ? [out.flags.rules] : [];
      out.flags.rules = [...before, ...files].join(",");
    } else {
      // --clear-below: the rule file's name (opsbook: {clear_below: …}) for --low.
      const key = name === "config" ? "config" : byFlag.get(name === "clear-below" ? "low" : name);
      if (key === undefined) throw new UsageError(`Unknown flag: --${name}`);
      const value = inline ?? argv[++i];
      if (value === undefined) throw new UsageError(`Missing value: --${name} needs a value`);
      if (key === "config") out.config = value;
      else out.flags[key] = value;
    }
  }
  return out;
}

/**
 * Build a sink, turning the `TypeError` its constructor throws for a
 * malformed option into a {@linkcode ConfigError} naming the setting. The
 * sinks' messages state the expected form and never echo a secret.
 */
function sink<T extends Sink>(
  config: Config,
  settingOf: (message: string) => SettingName,
  make: () => T,
): T {
  try {
    return make();
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    // "Invalid Slack webhook URL: expected the form …" → "expected the form …"
    const detail = error.message.replace(/^[^:]*:\s*/, "");
    throw settingError(config, settingOf(error.message), detail);
  }
}

/** The sinks of the configuration; a bad setting throws a {@linkcode ConfigError}. */
function buildSinks(config: Config, log: Logger): Sink[] {
  const sinks: Sink[] = [];
  const timeoutMs = config.sendTimeout * 1000;
  if (config.slackWebhookUrl !== undefined) {
    const webhookUrl = config.slackWebhookUrl;
    sinks.push(sink(
      config,
      (m) => /base URL/i.test(m) ? "slackBaseUrl" : "slackWebhookUrl",
      () =>
        new SlackSink({
          webhookUrl,
          baseUrl: config.slackBaseUrl,
          botToken: config.slackBotToken,
          channel: config.slackChannel,
          apiUrl: config.slackApiUrl,
          timeoutMs,
          onUploadError: (e) => log.warn("slack_upload_failed", { error: e.message }),
        }),
    ));
  }
  if (config.alertmanagerUrl !== undefined) {
    const urls = config.alertmanagerUrl.split(",").map((u) => u.trim());
    sinks.push(
      sink(config, () => "alertmanagerUrl", () => new AlertmanagerSink({ urls, timeoutMs })),
    );
  }
  if (config.zammadUrl !== undefined) {
    const url = config.zammadUrl;
    const fields: Record<string, SettingName> = {
      token: "zammadToken",
      group: "zammadGroup",
      customer: "zammadCustomer",
    };
    sinks.push(sink(
      config,
      (m) => fields[m.match(/^Missing Zammad (\w+)/)?.[1] ?? ""] ?? "zammadUrl",
      () =>
        new ZammadSink({
          url,
          token: config.zammadToken ?? "",
          group: config.zammadGroup,
          customer: config.zammadCustomer ?? "",
          timeoutMs,
        }),
    ));
  }
  for (const [name, r] of Object.entries(config.receivers ?? {})) {
    if (sinks.some((s) => s.name === name)) {
      throw settingError(
        config,
        "receivers",
        `receiver ${JSON.stringify(name)} has the name of a built-in sink; choose another name`,
      );
    }
    sinks.push(sink(config, () => "receivers", () => {
      switch (r.type) {
        case "slack":
          return new SlackSink({
            name,
            webhookUrl: r.webhookUrl,
            baseUrl: r.baseUrl ?? config.slackBaseUrl,
            botToken: r.botToken,
            channel: r.channel,
            apiUrl: r.apiUrl ?? config.slackApiUrl,
            timeoutMs,
            onUploadError: (e) =>
              log.warn("slack_upload_failed", { receiver: name, error: e.message }),
          });
        case "alertmanager":
          return new AlertmanagerSink({ name, urls: r.urls, timeoutMs });
        case "zammad":
          return new ZammadSink({
            name,
            url: r.url,
            token: r.token,
            group: r.group,
            customer: r.customer,
            timeoutMs,
          });
        default:
          return new DryRunSink({
            name,
            write: (text) =>
              log.info("dry_run_notification", { receiver: name, text: text.split("\n")[0] }),
          });
      }
    }));
  }
  if (config.dryRun || sinks.length === 0) {
    sinks.push(
      new DryRunSink({
        write: (text) => log.info("dry_run_notification", { text: text.split("\n")[0] }),
      }),
    );
  }
  return sinks;
}

/**
 * Called after each evaluation: a full garbage collection. Native memory
 * behind polars frames and HTTP bodies is otherwise released only when V8
 * gets round to it, and resident memory creeps up (about 15 % over 200
 * evaluations without it, flat with it).
 */
let afterEvaluation: () => void = () => {};

async function main(argv: string[]): Promise<number> {
  let args: Args;
  let config: Config;
  try {
    args = parseArgs(argv);
    if (args.help) {
      console.log(USAGE);
      return 0;
    }
    config = loadConfig({ flags: args.flags, file: args.config });
  } catch (error) {
    if (error instanceof ConfigError || error instanceof UsageError) {
      console.error(`opsbook monitor: ${error.message}`);
      if (error instanceof UsageError) console.error("Run with --help for the options");
      return 2;
    }
    throw error;
  }
  if (args.printConfig) {
    console.log(JSON.stringify(redactConfig(config), null, 2));
    return 0;
  }
  // A state or log path that cannot hold a file: one line, exit 2, before anything starts.
  for (const name of ["state", "logFile"] as const) {
    const path = config[name];
    const problem = path === undefined ? undefined : writableFileProblem(path);
    if (path !== undefined && problem !== undefined) {
      const flag = SETTINGS[name].flag;
      const error = settingError(
        config,
        name,
        `cannot use ${path}: ${problem} (fix it or choose another --${flag})`,
      );
      console.error(`opsbook monitor: ${error.message}`);
      return 2;
    }
  }

  const log = new Logger({
    format: config.logFormat,
    level: config.logLevel,
    file: config.logFile,
    maxBytes: config.logMaxBytes,
    maxFiles: config.logMaxFiles,
    secrets: configSecrets(config),
  });
  log.info("start", {
    pid: Deno.pid,
    mode: args.once ? "once" : config.replayStart !== undefined ? "replay" : "loop",
    config: JSON.stringify(redactConfig(config)),
  });

  // Sinks are built (and their settings checked) before anything else happens.
  let sinks: Sink[];
  try {
    sinks = buildSinks(config, log);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    log.error("config_invalid", { setting: error.setting, error: error.message });
    log.close();
    console.error(`opsbook monitor: ${error.message}`);
    return 2;
  }

  let route: Router | undefined;
  if (config.route !== undefined) {
    try {
      route = compileRoute(config.route, sinks.map((s) => s.name));
    } catch (error) {
      if (!(error instanceof TypeError)) throw error;
      const msg = settingError(config, "route", error.message.replace(/^Invalid route\.?/, "at "))
        .message;
      log.error("config_invalid", { setting: "route", error: msg });
      log.close();
      console.error(`opsbook monitor: ${msg}`);
      return 2;
    }
  }

  // The rule files are read and checked before the lock is taken.
  let rules: MonitorRuleSet;
  try {
    rules = await loadMonitorRules(config);
  } catch (error) {
    if (!(error instanceof RuleFileError)) throw error;
    log.error("rules_invalid", { error: error.message });
    log.close();
    console.error(
      `opsbook monitor: invalid rule file (fix it, or check it with deno task rules check):\n${error.message}`,
    );
    return 2;
  }
  for (const notice of rules.notices) log.warn("rules_notice", { error: notice });
  log.info("rules_loaded", {
    files: rules.files.join(","),
    groups: rules.groups.length,
    rules: rules.groups.reduce((n, g) => n + g.rules.length, 0),
  });
  // One page per stopped host: the built-in HostStoppedReporting steps aside for a rule that
  // covers it (stoppedReporting: auto), and says so once.
  const coveredBy = stoppedHostRule(rules.groups);
  if (config.stoppedReporting === "auto" && coveredBy !== undefined) {
    log.info("stopped_reporting_off", {
      covered_by: coveredBy,
      message: `HostStoppedReporting is not raised: rule ${coveredBy} pages for a host that ` +
        "stops (--stopped-reporting on raises both)",
    });
  }

  let lock: FileLock;
  try {
    lock = acquireLock(`${config.state}.lock`);
  } catch (error) {
    if (error instanceof LockError) {
      const pid = Number.isNaN(error.pid) ? "unknown" : error.pid;
      const msg = `Another monitor is running (pid ${pid}) with this state file: ` +
        `stop it or use another --state (lock file ${error.path})`;
      log.error("lock_held", { pid: error.pid, lock: error.path, error: msg });
      console.error(`opsbook monitor: ${msg}`);
      return 2;
    }
    // The folder changed since the check above (removed, made read-only).
    const msg = settingError(
      config,
      "state",
      `cannot create the lock file ${config.state}.lock: ${(error as Error).message}`,
    ).message;
    log.error("lock_failed", { lock: `${config.state}.lock`, error: msg });
    log.close();
    console.error(`opsbook monitor: ${msg}`);
    return 2;
  }

  const controller = new AbortController();
  const onSignal = (name: string) => () => {
    if (controller.signal.aborted) return;
    log.info("signal", { signal: name, action: "finishing the current step and stopping" });
    controller.abort();
    // The state files are written atomically: a stop that takes too long is cut short.
    setTimeout(() => {
      log.warn("stop_timeout", { error: "stopping took over 8 s: exiting now" });
      lock.release();
      Deno.exit(0);
    }, 8000).unref?.();
  };
  const listeners = (["SIGTERM", "SIGINT"] as const).map((s) => {
    const fn = onSignal(s);
    Deno.addSignalListener(s, fn);
    return [s, fn] as const;
  });

  let server: { port: number; shutdown(): Promise<void> } | undefined;
  let code = 0;
  try {
    const metrics = createMonitorMetrics();
    const headers: Record<string, string> = {};
    if (config.prometheusOrgId !== undefined) headers["X-Scope-OrgID"] = config.prometheusOrgId;
    const prometheus = createPrometheusClient({
      url: config.prometheusUrl,
      bearerToken: config.prometheusToken,
      headers,
      timeoutMs: config.queryTimeout * 1000,
      retry: { limit: 2, delayMs: Math.min(300, config.queryTimeout * 100), maxRetryAfterMs: 5000 },
      onWarning: (message, kind) => log.warn("prometheus_warning", { kind, message }),
    });
    let monitor: Monitor;
    try {
      monitor = await Monitor.open(config, {
        prometheus,
        sinks,
        logger: log,
        metrics,
        recover: args.recover,
        rules,
        route,
        // A full collection costs tens of milliseconds: after every evaluation at a
        // production interval, every tenth one at the short intervals of a replay.
        afterEvaluation: () => {
          if (config.interval >= 1 || monitor.evaluations % 10 === 0) afterEvaluation();
        },
      });
    } catch (error) {
      log.error("state_unreadable", { error: (error as Error).message });
      console.error(`opsbook monitor: ${(error as Error).message}`);
      return 2;
    }
    if (config.metricsPort !== undefined) {
      server = serveMetrics(metrics.registry, {
        port: config.metricsPort,
        hostname: config.metricsHost,
      });
      log.info("metrics_listening", {
        url: `http://${config.metricsHost}:${server.port}/metrics`,
        port: server.port,
      });
    }
    if (args.once) {
      try {
        const result = await monitor.runEvaluation({ signal: controller.signal });
        code = result.ok ? 0 : 1;
      } catch (error) {
        if (!controller.signal.aborted) {
          log.error("evaluation_crashed", { error: (error as Error).message });
          code = 1;
        }
      }
    } else {
      await monitor.run({ signal: controller.signal });
      if (monitor.replayDone) log.info("replay_done", { evaluations: monitor.evaluations });
    }
    log.info("stopped", { evaluations: monitor.evaluations, exit_code: code });
    return code;
  } finally {
    for (const [s, fn] of listeners) Deno.removeSignalListener(s, fn);
    await server?.shutdown().catch(() => {});
    lock.release();
    log.close();
  }
}

/** V8's `gc()`, exposed at run time (or from `--v8-flags=--expose-gc`). */
function exposeGc(): (() => void) | undefined {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (existing !== undefined) return existing;
  try {
    setFlagsFromString("--expose-gc");
    return runInNewContext("gc") as () => void;
  } catch {
    return undefined;
  }
}

if (import.meta.main) {
  enterUserCwd(); // --rules, --state, --config … are relative to where `deno task … monitor` was typed
  const gc = exposeGc();
  if (gc !== undefined) afterEvaluation = gc;
  const code = await main(Deno.args);
  Deno.exit(code);
}
