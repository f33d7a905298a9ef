/**
 * Every public name is documented with an example a reader can paste (issue
 * 12): each name that `opsbook` or `opsbook/<stage>` exports has a JSDoc
 * `@example` importing from `"opsbook"` (or `"opsbook/<stage>"`), no example
 * of a public name or of its members imports a file path, and no code block
 * in `lib/` opts out of `deno test --doc` with `ignore`: `deno task test:doc`
 * type-checks and runs them all (scripts/test_doc.ts serves the dataset
 * Prometheus and an Alertmanager for the ones that query).
 */
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);
const ENTRIES = [
  "lib/mod.ts",
  ...["prometheus", "chart", "detect", "alert", "rules", "notebook", "monitor"].map((stage) =>
    `lib/${stage}/mod.ts`
  ),
];

/** Public names without an example of their own: none (keep it so). */
const WITHOUT_EXAMPLE: readonly string[] = [];

interface JsDoc {
  doc?: string;
  tags?: { kind: string; doc?: string }[];
}

interface DocNode {
  name: string;
  declarations: {
    kind: string;
    location: { filename: string };
    jsDoc?: JsDoc;
    def?: Record<string, unknown>;
  }[];
}

const examples = (doc: JsDoc | undefined): string[] =>
  (doc?.tags ?? []).filter((t) => t.kind === "example").map((t) => t.doc ?? "");

/** The examples of a class's or interface's members. */
function memberExamples(def: Record<string, unknown> | undefined): string[] {
  if (def === undefined) return [];
  const out: string[] = [];
  for (const key of ["constructors", "methods", "properties", "callSignatures"]) {
    const members = def[key];
    if (!Array.isArray(members)) continue;
    for (const m of members) out.push(...examples((m as { jsDoc?: JsDoc }).jsDoc));
  }
  return out;
}

async function publicSymbols(): Promise<Map<string, { own: string[]; members: string[] }>> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--json", ...ENTRIES],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stderr: "null",
  }).output();
  assert.equal(out.code, 0, "deno doc --json failed");
  const json = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    nodes: Record<string, { symbols: DocNode[] }>;
  };
  const symbols = new Map<string, { own: string[]; members: string[] }>();
  for (const module of Object.values(json.nodes)) {
    for (const symbol of module.symbols) {
      const entry = symbols.get(symbol.name) ?? { own: [], members: [] };
      for (const d of symbol.declarations) {
        entry.own.push(...examples(d.jsDoc));
        entry.members.push(...memberExamples(d.def));
      }
      symbols.set(symbol.name, entry);
    }
  }
  return symbols;
}

const IMPORTS_OPSBOOK = /\bfrom\s+"opsbook(?:\/[a-z]+)?"/;
const IMPORTS_PATH = /\bfrom\s+"\.\.?\//;

Deno.test("every public name has an example importing opsbook", async () => {
  const symbols = await publicSymbols();
  assert.ok(symbols.size > 300, `only ${symbols.size} public names found`);
  const missing = [...symbols].filter(([, s]) => !s.own.some((x) => IMPORTS_OPSBOOK.test(x)))
    .map(([name]) => name).sort();
  assert.deepEqual(missing, [...WITHOUT_EXAMPLE].sort());
});

Deno.test("no example of a public name imports a file path", async () => {
  const symbols = await publicSymbols();
  const offenders = [...symbols].filter(([, s]) =>
    [...s.own, ...s.members].some((x) => IMPORTS_PATH.test(x))
  ).map(([name]) => name).sort();
  assert.deepEqual(offenders, []);
});

Deno.test("no code block in lib/ skips deno test --doc", async () => {
  const found: string[] = [];
  const walk = async (dir: URL) => {
    for await (const entry of Deno.readDir(dir)) {
      const url = new URL(entry.name + (entry.isDirectory ? "/" : ""), dir);
      if (entry.isDirectory) await walk(url);
      else if (entry.name.endsWith(".ts")) {
        const lines = (await Deno.readTextFile(url)).split("\n");
        lines.forEach((line, i) => {
          if (/```\s*\w*\s+ignore\b/.test(line)) {
            found.push(`${url.pathname.slice(ROOT.pathname.length)}:${i + 1}`);
          }
        });
      }
    }
  };
  await walk(new URL("lib/", ROOT));
  assert.deepEqual(found, []);
});
