/**
 * `deno task --config ~/opsbook/deno.json rules …` and `… monitor …` typed in
 * a folder of one's own: relative paths mean that folder, as they do for
 * `run-notebook` (test/e2e/own_project_test.ts).
 *
 * @module
 */

import assert from "node:assert/strict";
import { REPO_ROOT } from "../../dev/stack.ts";

async function task(cwd: string, args: string[]) {
  const env: Record<string, string> = { ...Deno.env.toObject(), NO_COLOR: "1" };
  delete env.INIT_CWD; // as typed in a shell, not inherited from an outer `deno task`
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", "--config", `${REPO_ROOT}/deno.json`, ...args],
    cwd,
    env,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

Deno.test("rules check and monitor from a folder outside the repository read its files", async () => {
  const dir = await Deno.makeTempDir({ prefix: "opsbook-own-folder-" });
  try {
    await Deno.writeTextFile(
      `${dir}/bad.yml`,
      "groups:\n  - name: g\n    rules:\n      - alert: HostOutOfMemory\n        expr: node_memory_MemAvailable_bytes < 1\n        for: 5 minutes\n",
    );
    await Deno.writeTextFile(
      `${dir}/good.yml`,
      "groups:\n  - name: g\n    rules:\n      - alert: HostDown\n        expr: up == 0\n",
    );
    const bad = await task(dir, ["rules", "check", "bad.yml"]);
    assert.equal(bad.code, 2, bad.stderr);
    assert.equal(
      bad.stderr,
      'bad.yml:6:14: rule HostOutOfMemory: for: invalid duration "5 minutes"\n1 problem(s)\n',
    );
    const good = await task(dir, ["rules", "check", "good.yml"]);
    assert.equal(good.code, 0, good.stderr);
    assert.equal(
      good.stdout,
      "good.yml: ok, 1 group(s), 1 alerting rule(s), 0 recording rule(s)\n",
    );
    // The monitor reads --rules from the same folder (and refuses the bad file before starting).
    const monitor = await task(dir, [
      "monitor",
      "--once",
      "--rules",
      "bad.yml",
      "--state",
      "s.json",
    ]);
    assert.equal(monitor.code, 2, monitor.stderr);
    assert.match(
      monitor.stderr,
      /^bad\.yml:6:14: rule HostOutOfMemory: for: invalid duration "5 minutes"$/m,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
