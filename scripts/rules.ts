/**
 * `deno task rules SUBCOMMAND ...`: work with Prometheus rule files.
 *
 *   deno task rules check FILE...   validate (promtool's checks plus templates and
 *                                    opsbook detectors); exit 0 when clean, 2 otherwise
 *   deno task rules backtest FILE... --start T --end T [--prometheus-url URL]
 *       [--interval 1m] [--repeat-interval 4h] [--format table|json|csv] [--html FILE]
 *                                    replay the rules over past data; exit 0 done,
 *                                    1 Prometheus failed, 2 bad flag or rule file
 *
 * @module
 */

import { parseArgs } from "node:util";
import { enterUserCwd } from "./_user_cwd.ts";
import { checkRuleFiles } from "../lib/rules/check.ts";
import { loadRuleFiles, RuleFileError } from "../lib/rules/rule_file.ts";
import { backtest } from "../lib/rules/backtest.ts";
import {
  backtestCsv,
  backtestJsonLines,
  backtestTable,
  writeBacktestHtml,
} from "../lib/rules/backtest_report.ts";
import { createPrometheusClient } from "../lib/prometheus/fleet.ts";
import { OpsbookError, redactText } from "../lib/errors.ts";
import { parseDuration, toMillis } from "../lib/time.ts";
import { writableFileProblem } from "../lib/monitor/paths.ts";

const USAGE = `Usage: deno task rules <command> [arguments]

Commands:
  check FILE...      validate rule files; one line per problem (file:line:col), exit 0 or 2
  backtest FILE...   replay rule files over past data: when would they have fired?
      --start T            first evaluation (RFC 3339 or epoch seconds), required
      --end T              last evaluation (RFC 3339 or epoch seconds), required
      --prometheus-url U   default $PROMETHEUS_URL or http://localhost:9090 (name=url,... for a fleet)
      --interval D         evaluation interval of groups without one (default 1m)
      --repeat-interval D  repeat of firing notifications, as the alerter's (default 4h)
      --format F           table (default), json (one object per line) or csv
      --html FILE          also write a self-contained HTML report with a timeline chart
    exit 0 done, 1 Prometheus failed, 2 bad flag or rule file`;

const BACKTEST_USAGE =
  `Usage: deno task rules backtest FILE... --start T --end T [--prometheus-url URL] [--interval 1m] [--repeat-interval 4h] [--format table|json|csv] [--html FILE]`;

/** `backtest FILE... --start T --end T ...`: returns the exit code. */
async function backtestCommand(args: string[]): Promise<number> {
  const usage = (message: string) => {
    console.error(`opsbook rules backtest: ${message}\n${BACKTEST_USAGE}`);
    return 2;
  };
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        start: { type: "string" },
        end: { type: "string" },
        "prometheus-url": { type: "string" },
        interval: { type: "string" },
        "repeat-interval": { type: "string" },
        format: { type: "string" },
        html: { type: "string" },
      },
    });
  } catch (error) {
    return usage((error as Error).message);
  }
  const { values, positionals: files } = parsed;
  if (files.length === 0) return usage("no rule file given");
  if (values.start === undefined) return usage("--start is required (RFC 3339 or epoch seconds)");
  if (values.end === undefined) return usage("--end is required (RFC 3339 or epoch seconds)");
  const times: Record<string, number> = {};
  for (const name of ["start", "end"] as const) {
    const raw = values[name]!;
    try {
      times[name] = toMillis(raw); // RFC 3339, or epoch seconds as text
    } catch {
      return usage(
        `--${name} "${raw}": expected RFC 3339 (2026-11-01T00:00:00Z) or epoch seconds (1793491200)`,
      );
    }
  }
  if (times.end < times.start) return usage("--end is before --start");
  for (const name of ["interval", "repeat-interval"] as const) {
    const raw = values[name];
    if (raw === undefined) continue;
    let ok = false;
    try {
      ok = parseDuration(raw) > 0;
    } catch { /* reported below */ }
    if (!ok) return usage(`--${name} "${raw}": expected a positive duration such as 1m or 4h`);
  }
  const format = values.format ?? "table";
  if (!["table", "json", "csv"].includes(format)) {
    return usage(`--format "${format}": expected table, json or csv`);
  }
  if (values.html !== undefined) {
    const problem = writableFileProblem(values.html);
    if (problem) return usage(`--html: ${problem}`);
  }
  let groups;
  try {
    groups = (await loadRuleFiles(files)).flatMap((f) => f.groups);
  } catch (error) {
    if (!(error instanceof RuleFileError)) throw error;
    for (const p of error.problems) console.error(p.message);
    return 2;
  }
  const url = values["prometheus-url"] ?? Deno.env.get("PROMETHEUS_URL") ??
    "http://localhost:9090";
  let client;
  try {
    client = createPrometheusClient({ url });
  } catch (error) {
    return usage(`--prometheus-url: ${redactText((error as Error).message)}`);
  }
  let result;
  try {
    result = await backtest(client, groups, {
      start: new Date(times.start),
      end: new Date(times.end),
      interval: values.interval,
      repeatInterval: values["repeat-interval"],
      onProgress: (p) =>
        console.error(`[${p.done}/${p.total}] ${p.rule}: ${p.evaluations} evaluations`),
    });
  } catch (error) {
    if (!(error instanceof OpsbookError)) throw error;
    console.error(`opsbook rules backtest: ${error.message}`);
    return 1;
  }
  const out = format === "json"
    ? backtestJsonLines(result)
    : format === "csv"
    ? backtestCsv(result)
    : backtestTable(result);
  await Deno.stdout.write(new TextEncoder().encode(out.endsWith("\n") ? out : `${out}\n`));
  if (values.html !== undefined) {
    await writeBacktestHtml(values.html, result);
    console.error(`wrote ${values.html}`);
  }
  return 0;
}

/** `check FILE...`: returns the exit code. */
async function check(args: string[]): Promise<number> {
  if (args.length === 0 || args.some((a) => a.startsWith("-"))) {
    console.error(`Usage: deno task rules check FILE...`);
    return 2;
  }
  const result = await checkRuleFiles(args);
  for (const p of result.problems) console.error(p.message);
  for (const n of result.notices) console.log(`notice: ${n.message}`);
  for (const file of result.files) {
    const rules = file.groups.flatMap((g) => g.rules);
    const alerting = rules.filter((r) => r.kind === "alerting").length;
    console.log(
      `${file.file}: ok, ${file.groups.length} group(s), ${alerting} alerting rule(s), ${
        rules.length - alerting
      } recording rule(s)`,
    );
  }
  if (!result.ok) console.error(`${result.problems.length} problem(s)`);
  return result.ok ? 0 : 2;
}

/** Run a subcommand; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "check":
      return await check(rest);
    case "backtest":
      return await backtestCommand(rest);
    case "-h":
    case "--help":
    case "help":
      console.log(USAGE);
      return 0;
    default:
      console.error(command === undefined ? USAGE : `Unknown command: ${command}\n\n${USAGE}`);
      return 2;
  }
}

if (import.meta.main) {
  enterUserCwd(); // paths are relative to where `deno task … rules` was typed
  Deno.exit(await main(Deno.args));
}
