import assert from "node:assert/strict";
import { writeFileAtomic } from "../../lib/_internal/fs.ts";

async function entries(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) names.push(e.name);
  return names.sort();
}

Deno.test("writeFileAtomic writes text, bytes and streams, replacing the file, no temp left", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await writeFileAtomic(`${dir}/a.txt`, "old");
    await writeFileAtomic(`${dir}/a.txt`, "new");
    assert.equal(await Deno.readTextFile(`${dir}/a.txt`), "new");
    await writeFileAtomic(`${dir}/b.bin`, new Uint8Array([1, 2, 3]));
    assert.deepEqual(await Deno.readFile(`${dir}/b.bin`), new Uint8Array([1, 2, 3]));
    await writeFileAtomic(`${dir}/sub/c.txt`, async (w) => {
      for (let i = 0; i < 3; i++) await w.write(new TextEncoder().encode(`line ${i}\n`));
    });
    assert.equal(await Deno.readTextFile(`${dir}/sub/c.txt`), "line 0\nline 1\nline 2\n");
    assert.deepEqual(await entries(dir), ["a.txt", "b.bin", "sub"]);
    assert.deepEqual(await entries(`${dir}/sub`), ["c.txt"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeFileAtomic sets the mode of a new file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await writeFileAtomic(`${dir}/secret.json`, "{}", { mode: 0o600 });
    assert.equal((await Deno.stat(`${dir}/secret.json`)).mode! & 0o777, 0o600);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a failing writer leaves the old file and no temporary file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await writeFileAtomic(`${dir}/a.txt`, "kept");
    await assert.rejects(
      () =>
        writeFileAtomic(`${dir}/a.txt`, async (w) => {
          await w.write(new TextEncoder().encode("half"));
          throw new Error("generator failed");
        }),
      { message: "generator failed" },
    );
    assert.equal(await Deno.readTextFile(`${dir}/a.txt`), "kept");
    assert.deepEqual(await entries(dir), ["a.txt"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a failing rename (target is a folder) removes the temporary file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/target/inner`, { recursive: true });
    await assert.rejects(() => writeFileAtomic(`${dir}/target`, "x"));
    assert.deepEqual(await entries(dir), ["target"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("without mkdir, a missing folder is an error and nothing is created", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(
      () => writeFileAtomic(`${dir}/missing/a.txt`, "x", { mkdir: false }),
      Deno.errors.NotFound,
    );
    assert.deepEqual(await entries(dir), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
