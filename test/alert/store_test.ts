import assert from "node:assert/strict";
import { z } from "zod";
import { loadJsonFile, StoreFileError, writeFileAtomic } from "../../lib/alert/_store.ts";

async function names(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) out.push(e.name);
  return out.sort();
}

Deno.test("writeFileAtomic: creates folders, replaces the file, leaves no temporary file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/a/b/state.json`;
    await writeFileAtomic(path, '{"version":1}\n');
    assert.equal(await Deno.readTextFile(path), '{"version":1}\n');
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    await writeFileAtomic(path, "second");
    assert.equal(await Deno.readTextFile(path), "second");
    assert.deepEqual(await names(`${dir}/a/b`), ["state.json"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeFileAtomic: a failed rename throws and removes the temporary file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // The target is a non-empty folder: rename cannot replace it.
    await Deno.mkdir(`${dir}/state.json/inside`, { recursive: true });
    await assert.rejects(writeFileAtomic(`${dir}/state.json`, "x"));
    assert.deepEqual(await names(dir), ["state.json"]);
    assert.deepEqual(await names(`${dir}/state.json`), ["inside"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadJsonFile: missing, valid, wrong version, and recover sets the file aside", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const schema = z.object({ version: z.literal(1), n: z.number() });
    const path = `${dir}/s.json`;
    assert.deepEqual(await loadJsonFile(path, schema, "Test", 1), { value: undefined });
    await Deno.writeTextFile(path, '{"version":1,"n":3}');
    assert.deepEqual(await loadJsonFile(path, schema, "Test", 1), {
      value: { version: 1, n: 3 },
    });
    await Deno.writeTextFile(path, '{"version":2,"n":3}');
    await assert.rejects(
      loadJsonFile(path, schema, "Test", 1),
      (e: unknown) =>
        e instanceof StoreFileError && e.path === path &&
        e.message.startsWith(
          `Test file is unreadable: ${path}: unsupported version 2, expected 1; it was left untouched`,
        ),
    );
    assert.equal(await Deno.readTextFile(path), '{"version":2,"n":3}');
    const got = await loadJsonFile(path, schema, "Test", 1, {
      recover: true,
      nowMs: Date.UTC(2026, 10, 1, 12),
    });
    const aside = `${path}.corrupt-2026-11-01T12-00-00-000Z`;
    assert.deepEqual(got, { value: undefined, recoveredTo: aside });
    assert.deepEqual(await names(dir), ["s.json.corrupt-2026-11-01T12-00-00-000Z"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
