/**
 * The rules stage: alert rules built from the detectors (`HostHighCpu`,
 * `HostCpuTrend`) and their evaluation over a query frame, shared by the
 * notebooks and the monitor daemon.
 *
 * @example The default CPU rules
 * ```ts
 * import { defaultCpuRules } from "opsbook/rules";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(defaultCpuRules().map((r) => r.name), ["HostHighCpu", "HostCpuTrend"]);
 * ```
 *
 * @module
 */

export * from "./cpu_rules.ts";
export * from "./rule_state.ts";
export * from "./evaluator.ts";
export * from "./detector_rules.ts";
export * from "./template.ts";
export * from "./backtest.ts";
export * from "./backtest_report.ts";
export * from "./rule_file.ts";
export * from "./check.ts";
