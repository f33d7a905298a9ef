/**
 * Helpers that run Prometheus' own `promtool` as the reference for rule files
 * and templates. Tests that use them are skipped when `promtool` is missing.
 *
 * @module
 */

import { unquote } from "../../lib/rules/_template_parse.ts";

/** Whether `promtool` is on PATH. */
export const hasPromtool: boolean = await (async () => {
  try {
    const { success } = await new Deno.Command("promtool", {
      args: ["--version"],
      stdout: "null",
      stderr: "null",
    })
      .output();
    return success;
  } catch {
    return false;
  }
})();

/** Run promtool; returns exit code and combined output. */
export async function promtool(
  args: string[],
  cwd?: string,
): Promise<{ code: number; output: string }> {
  const { code, stdout, stderr } = await new Deno.Command("promtool", {
    args,
    cwd,
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const decoder = new TextDecoder();
  return { code, output: decoder.decode(stdout) + decoder.decode(stderr) };
}

/** One alert as promtool prints it under `got:`. */
export interface GotAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** Parse Go's `labels.Labels.String()`: `{a="x", b="y"}`. */
function parseLabelSet(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*")/g)) {
    out[m[1]] = unquote(m[2]);
  }
  return out;
}

/** Parse every `got:` alert list in `promtool test rules` output. */
export function parseGotAlerts(output: string): GotAlert[] {
  const alerts: GotAlert[] = [];
  const re = /^\s*Labels:(\{.*\})\n\s*Annotations:(\{.*\})/gm;
  for (const m of output.matchAll(re)) {
    alerts.push({ labels: parseLabelSet(m[1]), annotations: parseLabelSet(m[2]) });
  }
  return alerts;
}

/**
 * Evaluate one alerting rule with the given annotations/labels over
 * single-sample series with promtool and return the alerts it produced.
 */
export async function promtoolAlerts(
  rule: { expr: string; labels?: Record<string, string>; annotations: Record<string, string> },
  series: { series: string; values: string }[],
  externalLabels: Record<string, string> = {},
): Promise<GotAlert[]> {
  const dir = await Deno.makeTempDir({ prefix: "opsbook-promtool-" });
  try {
    const rules = { groups: [{ name: "oracle", rules: [{ alert: "Oracle", ...rule }] }] };
    await Deno.writeTextFile(`${dir}/rules.json`, JSON.stringify(rules, null, 1));
    const test = {
      rule_files: ["rules.json"],
      evaluation_interval: "1m",
      tests: [{
        interval: "1m",
        external_labels: externalLabels,
        input_series: series,
        alert_rule_test: [{ eval_time: "0m", alertname: "Oracle", exp_alerts: [] }],
      }],
    };
    await Deno.writeTextFile(`${dir}/test.json`, JSON.stringify(test, null, 1));
    const { output } = await promtool(["test", "rules", "test.json"], dir);
    const alerts = parseGotAlerts(output);
    if (alerts.length === 0) {
      throw new Error(`promtool produced no alerts:\n${output.slice(0, 2000)}`);
    }
    return alerts;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
