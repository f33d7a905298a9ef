/**
 * `deno task rules SUBCOMMAND ...`: work with Prometheus rule files.
 *
 *   deno task rules check FILE...   validate (promtool's checks plus templates and
 *                                    opsbook detectors); exit 0 when clean, 2 otherwise
 *
 * @module
 */

import { checkRuleFiles } from "../lib/rules/check.ts";

const USAGE = `Usage: deno task rules <command> [arguments]

Commands:
  check FILE...   validate rule files; one line per problem (file:line:col), exit 0 or 2`;

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

if (import.meta.main) Deno.exit(await main(Deno.args));
