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

export {
  cpuTrendRule,
  defaultCpuRules,
  evaluateRules,
  highCpuRule,
  ruleRepeatIntervals,
} from "./cpu_rules.ts";
export type {
  AlertRule,
  CpuTrendRuleOptions,
  DefaultCpuRulesOptions,
  HighCpuRuleOptions,
  RuleContext,
  RulesResult,
  RuleWindow,
} from "./cpu_rules.ts";
export type { AbsentPolicy, ActiveState, RuleState, StoredAlert } from "./rule_state.ts";
export { RuleEvaluator } from "./evaluator.ts";
export type {
  ActiveAlert,
  AlertChange,
  EvaluateRulesOptions,
  RuleEvaluatorOptions,
  RuleOutcome,
  RuleProblem,
  RuleQueryClient,
  RulesEvaluation,
  RulesState,
} from "./evaluator.ts";
export {
  compileTemplate,
  expandTemplate,
  goTemplateCompiler,
  Template,
  TemplateError,
} from "./template.ts";
export type {
  AlertTemplateData,
  CompileTemplateOptions,
  ExpandTemplateOptions,
  GoTemplateCompilerOptions,
  TemplateErrorKind,
} from "./template.ts";
export { backtest } from "./backtest.ts";
export type {
  BacktestEvaluation,
  BacktestOptions,
  BacktestProgress,
  BacktestResult,
  BacktestRow,
  BacktestRuleSummary,
} from "./backtest.ts";
export {
  backtestCsv,
  backtestHtml,
  backtestJsonLines,
  backtestTable,
  backtestTimeline,
  writeBacktestHtml,
} from "./backtest_report.ts";
export { loadRuleFiles, parseRules, RuleFileError } from "./rule_file.ts";
export type {
  AlertingRule,
  LoadRuleFilesOptions,
  ParseRulesOptions,
  RecordingRule,
  Rule,
  RuleFile,
  RuleFileProblem,
  RuleGroup,
  SourcePosition,
} from "./rule_file.ts";
export { checkRuleFiles } from "./check.ts";
export type { RuleCheckResult } from "./check.ts";
export type {
  AlertingRuleSpec,
  RuleGroupSpec,
  TemplateCompiler,
  TemplateData,
} from "./_compile.ts";
