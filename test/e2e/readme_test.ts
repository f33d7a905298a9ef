/**
 * The README's code: the "query → chart → detect → alert" block is run as a
 * user would run it (a script in a folder of its own, `opsbook` from the
 * repository's `deno.json`) against a real Prometheus holding the dataset;
 * its output and files are asserted, and a second run sends nothing twice.
 *
 * @module
 */

import assert from "node:assert/strict";
import { missingBinaries, REPO_ROOT, startPrometheus } from "../../dev/stack.ts";

const missing = missingBinaries(["prometheus", "promtool"]);

/** The fenced `ts` block under a README heading. */
function readmeBlock(heading: string): string {
  const readme = Deno.readTextFileSync(`${REPO_ROOT}/README.md`);
  const at = readme.indexOf(`\n## ${heading}\n`);
  assert.ok(at >= 0, `README has no "## ${heading}" section`);
  const match = /```ts\n([\s\S]*?)```/.exec(readme.slice(at));
  assert.ok(match, `README section "${heading}" has no ts block`);
  return match[1];
}

Deno.test("README: the query → chart → detect → alert block runs as printed", {
  ignore: missing !== null,
}, async () => {
  const code = readmeBlock("In code: query → chart → detect → alert");
  await using prom = await startPrometheus({ dataset: true });
  const dir = await Deno.makeTempDir({ prefix: "opsbook-readme-" });
  try {
    await Deno.writeTextFile(`${dir}/readme.ts`, code);
    const run = async () => {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "--config", `${REPO_ROOT}/deno.json`, "readme.ts"],
        cwd: dir,
        env: { PROMETHEUS_URL: prom.url, NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stdout = new TextDecoder().decode(out.stdout);
      const stderr = new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 0, `exit ${out.code}\n${stdout}\n${stderr}`);
      return stdout;
    };
    const first = await run();
    // the three busiest hosts at 11:00, the sustained one first at 95.0 %
    const rows = first.split("\n").filter((l) => l.startsWith("│ ") && l.includes(":9100"));
    assert.deepEqual(
      rows.map((l) => l.split("┆")[0].replace("│", "").trim()),
      ["ali-hz-db-01:9100", "az-weu-web-01:9100", "az-eus-app-01:9100"],
    );
    assert.match(rows[0], /┆ 95\.0 +│$/);
    assert.match(first, /\n1 firing, 1 sent\n$/);
    const svg = await Deno.readTextFile(`${dir}/out/readme/cpu.svg`);
    assert.match(svg, /^<svg[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    const written = [...Deno.readDirSync(`${dir}/out/readme/alerts`)].map((e) => e.name);
    assert.equal(written.length, 1);
    assert.match(written[0], /^2026-11-01T11-00-00-000Z-HostHighCpu-firing-[0-9a-f]{16}\.json$/);
    // the same evaluation again: the alert is firing and nothing is sent twice
    const second = await run();
    assert.match(second, /\n1 firing, 0 sent\n$/);
    assert.equal([...Deno.readDirSync(`${dir}/out/readme/alerts`)].length, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
