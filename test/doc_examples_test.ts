/**
 * Examples marked `ts ignore` (they need a running Prometheus, Slack, a
 * kernel…) are not run by `deno task test:doc`, but they must still
 * type-check (issue 12): this test extracts every one of them from `lib/`,
 * resolves its relative imports against its file, and runs `deno check` on
 * them all.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);
const LIB = new URL("lib/", ROOT);

interface Example {
  file: URL;
  line: number;
  code: string;
}

async function* walk(dir: URL): AsyncGenerator<URL> {
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isDirectory) yield* walk(new URL(`${entry.name}/`, dir));
    else if (entry.name.endsWith(".ts")) yield new URL(entry.name, dir);
  }
}

async function ignoredExamples(): Promise<Example[]> {
  const examples: Example[] = [];
  for await (const file of walk(LIB)) {
    const lines = (await Deno.readTextFile(file)).split("\n");
    for (let i = 0; i < lines.length; i++) {
      if (!/^\s*\*\s*```ts ignore\s*$/.test(lines[i])) continue;
      const body: string[] = [];
      let j = i + 1;
      for (; j < lines.length && !/^\s*\*\s*```\s*$/.test(lines[j]); j++) {
        body.push(lines[j].replace(/^\s*\* ?/, ""));
      }
      const code = body.join("\n").replace(
        /from "(\.\.?\/[^"]+)"/g,
        (_, path: string) => `from "${new URL(path, file).href}"`,
      );
      examples.push({ file, line: i + 1, code });
      i = j;
    }
  }
  return examples;
}

Deno.test("every `ts ignore` example in lib/ type-checks", async () => {
  const examples = await ignoredExamples();
  assert.ok(examples.length > 0);
  // outside the project: deno.json excludes out/, and test/ would be checked twice
  const OUT = new URL(`file://${await Deno.makeTempDir({ prefix: "opsbook_doc_examples_" })}/`);
  const paths: string[] = [];
  for (const example of examples) {
    const name = example.file.href.slice(LIB.href.length).replaceAll("/", "_").replace(/\.ts$/, "");
    const path = new URL(`${name}_${example.line}.ts`, OUT);
    // a module of its own, so names do not clash between examples
    await Deno.writeTextFile(path, `${example.code}\nexport {};\n`);
    paths.push(path.pathname);
  }
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["check", "--quiet", "--config", new URL("deno.json", ROOT).pathname, ...paths],
    cwd: ROOT.pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const errors = new TextDecoder().decode(stderr).replaceAll(OUT.pathname, "");
  await Deno.remove(OUT, { recursive: true });
  assert.equal(code, 0, `ts ignore examples that do not type-check:\n${errors}`);
});

Deno.test("examples import public names from opsbook, not from a file path", async () => {
  const opsbook = await Deno.readTextFile(new URL("lib/mod.ts", ROOT));
  const publicNames = new Set(
    [...opsbook.matchAll(/export (?:type )?\{([^}]*)\}/g)].flatMap((m) =>
      m[1].split(",").map((name) => name.trim()).filter((name) => name !== "")
    ),
  );
  const offenders: string[] = [];
  for await (const file of walk(LIB)) {
    const lines = (await Deno.readTextFile(file)).split("\n");
    lines.forEach((line, i) => {
      const match = /^\s*\* import (?:type )?\{([^}]*)\} from "\.\.?\/[^"]+";$/.exec(line);
      if (match === null) return;
      const names = match[1].split(",").map((n) => n.trim().replace(/^type /, "")).filter(Boolean);
      if (names.every((name) => publicNames.has(name))) {
        offenders.push(`${file.href.slice(LIB.href.length)}:${i + 1}: ${names.join(", ")}`);
      }
    });
  }
  assert.deepEqual(offenders, []);
});
