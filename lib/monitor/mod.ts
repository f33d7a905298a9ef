/**
 * The monitor stage: settings (one zod schema; defaults < config file <
 * environment < flags), the daemon loop (query → rules → alerts), structured
 * logs, Prometheus metrics and the single-instance lock.
 *
 * @example Merge the environment into the settings
 * ```ts
 * import { loadConfig } from "opsbook/monitor";
 * import assert from "node:assert/strict";
 *
 * const config = loadConfig({ env: { CPU_THRESHOLD: "90" } });
 * assert.equal(config.threshold, 90);
 * ```
 *
 * @module
 */

export { ConfigError, configSecrets, loadConfig, redactConfig, SETTINGS } from "./config.ts";
export type {
  Config,
  ConfigInput,
  ConfigSource,
  LoadConfigOptions,
  SettingInfo,
  SettingName,
} from "./config.ts";
export { Logger } from "./log.ts";
export type { LogFields, LoggerOptions, LogLevel, LogValue } from "./log.ts";
export {
  Counter,
  Gauge,
  MetricsRegistry,
  registerProcessMetrics,
  serveMetrics,
} from "./metrics.ts";
export type { MetricOptions, MetricsServer, ServeMetricsOptions } from "./metrics.ts";
export { acquireLock, LockError } from "../_internal/lock.ts";
export type { FileLock } from "../_internal/lock.ts";
export { loadMonitorRules, Monitor } from "./daemon.ts";
export type {
  EvaluationResult,
  MonitorOptions,
  MonitorRuleSet,
  RunEvaluationOptions,
} from "./daemon.ts";
