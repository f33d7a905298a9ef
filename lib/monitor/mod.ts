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

export * from "./config.ts";
export * from "./log.ts";
export * from "./metrics.ts";
export * from "./lock.ts";
export * from "./paths.ts";
export * from "./daemon.ts";
