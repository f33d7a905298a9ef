/**
 * docs/own-fleet.md, "Use it from your own project", done as a new user
 * would: a folder outside the repository with the page's `deno.json` (its
 * `links` pointing at this checkout) and `report.ts`, run against the dataset
 * Prometheus; then a notebook in that folder run with the page's
 * `deno task --config …/deno.json run-notebook` command from that folder
 * (issue 13.1).
 */
import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { DATASET_START_MS, expectedCpuUsage, HOSTS } from "../../dev/dataset.ts";
import { missingBinaries, startPrometheus } from "../../dev/stack.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url)).replace(/\/$/, "");
const PAGE = await Deno.readTextFile(join(ROOT, "docs/own-fleet.md"));
const SECTION = PAGE.slice(PAGE.indexOf("## Use it from your own project"));

/** The first fenced block of `lang` in the section. */
function block(lang: string): string {
  const match = new RegExp("```" + lang + "\\n([\\s\\S]*?)```").exec(SECTION);
  assert.ok(match, `no ${lang} block in docs/own-fleet.md's "Use it from your own project"`);
  return match[1];
}

/** Environment for child processes: no INIT_CWD inherited from an outer `deno task`. */
function childEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = { ...Deno.env.toObject(), NO_COLOR: "1", ...extra };
  delete env.INIT_CWD;
  return env;
}

async function run(
  args: string[],
  cwd: string,
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    env: childEnv(env),
    clearEnv: true,
    stdin: "null",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("docs/own-fleet.md: the deno.json pins the same nodejs-polars as the repository", async () => {
  const mine = JSON.parse(block("json"));
  const root = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json")));
  assert.equal(mine.imports["nodejs-polars"], root.imports["nodejs-polars"]);
  assert.equal(mine.imports.opsbook, `jsr:${root.name}`);
  assert.deepEqual(mine.links, ["../opsbook"]);
});

const missing = missingBinaries(["prometheus", "promtool"]);

Deno.test({
  name: "own project: a folder outside the repository imports opsbook, queries and charts",
  ignore: missing !== null,
  async fn(t) {
    const dir = await Deno.makeTempDir({ prefix: "opsbook-own-project-" });
    assert.ok(relative(ROOT, dir).startsWith(".."), "the folder must be outside the repository");
    await using prom = await startPrometheus();
    const at = DATASET_START_MS + 11 * 3_600_000; // the page's "2026-11-01T11:00:00Z"
    const usage = HOSTS.map((h) => expectedCpuUsage(h.instance, at)).filter((v) => v !== null);
    const reporting = usage.length;
    try {
      const config = block("json").replace('"../opsbook"', JSON.stringify(relative(dir, ROOT)));
      await Deno.writeTextFile(join(dir, "deno.json"), config);

      await t.step("report.ts from the page", async () => {
        await Deno.writeTextFile(join(dir, "report.ts"), block("ts"));
        const r = await run(["run", "-A", "report.ts"], dir, { PROMETHEUS_URL: prom.url });
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout, `${reporting} hosts: out/cpu.svg\n`);
        const svg = await Deno.readTextFile(join(dir, "out/cpu.svg"));
        assert.equal(svg.match(/<rect[^>]*>\s*<title>/g)?.length, reporting);
        for (const h of HOSTS) {
          if (expectedCpuUsage(h.instance, at) !== null) assert.ok(svg.includes(h.instance));
        }
      });

      await t.step("a notebook there runs with the page's run-notebook command", async () => {
        const notebook = {
          nbformat: 4,
          nbformat_minor: 5,
          metadata: {
            kernelspec: { name: "deno", display_name: "Deno", language: "typescript" },
          },
          cells: [
            {
              cell_type: "code",
              id: "own-1",
              metadata: {},
              execution_count: null,
              outputs: [],
              source: [
                'import { barChart, cpuUsageQuery, createPrometheusClient } from "opsbook";\n',
                'import { ALERT_COLOR } from "opsbook/chart";\n',
                'import pl from "nodejs-polars";\n',
                'const prom = createPrometheusClient({ url: Deno.env.get("PROMETHEUS_URL")! });\n',
                'const now = await prom.queryFrame(cpuUsageQuery({ by: ["instance"] }), {\n',
                '  time: "2026-11-01T11:00:00Z",\n',
                "});\n",
                'console.log(`${now.height} hosts, max ${now.getColumn("value").max().toFixed(1)} %`);\n',
                'console.log(ALERT_COLOR, now.filter(pl.col("value").gt(80)).height, "over 80 %");',
              ],
            },
            {
              cell_type: "code",
              id: "own-2",
              metadata: {},
              execution_count: null,
              outputs: [],
              source: ['barChart(now, { threshold: 80, unit: "%" })'],
            },
          ],
        };
        await Deno.writeTextFile(join(dir, "report.ipynb"), JSON.stringify(notebook, null, 1));
        const command = block("sh").split("\n").find((l) => l.includes("run-notebook"))!;
        const args = command.trim().split(/\s+/).slice(1) // drop "deno"
          .map((a) => a === "~/opsbook/deno.json" ? join(ROOT, "deno.json") : a);
        assert.deepEqual(args.slice(0, 3), ["task", "--config", join(ROOT, "deno.json")]);
        const r = await run(args, dir, { PROMETHEUS_URL: prom.url });
        assert.equal(r.code, 0, r.stderr);
        const executed = JSON.parse(await Deno.readTextFile(join(dir, "out/report.ipynb")));
        const text = executed.cells[0].outputs.map((o: { text: string[] }) => o.text.join(""))
          .join("");
        assert.equal(
          text,
          `${reporting} hosts, max ${Math.max(...usage).toFixed(1)} %\n` +
            `#D55E00 ${usage.filter((v) => v > 80).length} over 80 %\n`,
        );
        assert.ok(executed.cells[1].outputs[0].data["image/svg+xml"].toString().includes("<svg"));
        const html = await Deno.readTextFile(join(dir, "out/report.html"));
        assert.ok(html.includes('src="data:image/svg+xml;base64,'), "chart in the report");
        // Nothing was written into the repository's out/ for this notebook.
        await assert.rejects(Deno.stat(join(ROOT, "out/report.ipynb")), Deno.errors.NotFound);
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
