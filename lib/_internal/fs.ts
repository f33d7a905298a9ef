/**
 * Internal: the one atomic file write of opsbook. Every file the library
 * writes for others to read (alert state, outbox, monitor meta, charts,
 * notebooks, the dev stack's dataset) goes through {@linkcode writeFileAtomic},
 * so a reader never sees half a file and a crash never leaves one behind.
 *
 * @module
 */

/** What {@linkcode writeFileAtomic} writes: text, bytes, or a function filling a stream. */
export type AtomicContent =
  | string
  | Uint8Array
  | ((writer: WritableStreamDefaultWriter<Uint8Array>) => Promise<void>);

/** Options of {@linkcode writeFileAtomic}. */
export interface AtomicWriteOptions {
  /** Permissions of a new file. @default {0o644} */
  mode?: number;
  /** Create the parent folder when missing. @default {true} */
  mkdir?: boolean;
}

function dirname(path: string): string {
  const i = path.lastIndexOf("/");
  if (i < 0) return ".";
  return i === 0 ? "/" : path.slice(0, i);
}

/**
 * Writes `content` to `path` atomically and durably: a temporary file in the
 * same folder is written and fsynced, renamed over `path`, and the folder is
 * fsynced so the rename survives a power cut. On any failure the temporary
 * file is removed and `path` is left as it was.
 *
 * @example Write a JSON file atomically
 * ```ts
 * import { writeFileAtomic } from "./fs.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await writeFileAtomic(`${dir}/state.json`, '{"version":1}');
 * assert.equal(await Deno.readTextFile(`${dir}/state.json`), '{"version":1}');
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeFileAtomic(
  path: string,
  content: AtomicContent,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const dir = dirname(path);
  if (options.mkdir ?? true) await Deno.mkdir(dir, { recursive: true });
  const tmp = `${path}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  const file = await Deno.open(tmp, {
    write: true,
    createNew: true,
    mode: options.mode ?? 0o644,
  });
  let closed = false;
  try {
    if (typeof content === "function") {
      const writer = new WritableStream<Uint8Array>({
        write: (chunk) => writeAll(file, chunk),
      }).getWriter();
      await content(writer);
      await writer.close(); // resolves once every chunk is written
    } else {
      await writeAll(
        file,
        typeof content === "string" ? new TextEncoder().encode(content) : content,
      );
    }
    await file.sync();
    file.close();
    closed = true;
    await Deno.rename(tmp, path);
  } catch (error) {
    if (!closed) {
      try {
        file.close();
      } catch { /* already closed */ }
    }
    await Deno.remove(tmp).catch(() => {});
    throw error;
  }
  await syncDir(dir);
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await file.write(bytes.subarray(written));
}

/** Persists a rename in `dir`; not every platform lets a folder be synced (best effort). */
async function syncDir(dir: string): Promise<void> {
  try {
    const d = await Deno.open(dir, { read: true });
    try {
      await d.sync();
    } finally {
      d.close();
    }
  } catch {
    // best effort: Windows cannot open a folder for syncing
  }
}
