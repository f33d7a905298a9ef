/**
 * Internal file helpers of the alert state store and the outbox: atomic JSON
 * writes (`lib/_internal/fs.ts`, owner-only) and a loader
 * that never overwrites a corrupted file silently. Not exported from
 * `lib/mod.ts`.
 *
 * @module
 */

import type { z } from "zod";
import { OpsbookError } from "../errors.ts";
import { writeFileAtomic as writeAtomic } from "../_internal/fs.ts";

/**
 * A state or outbox file that cannot be read: not JSON, a wrong shape, or a
 * version this opsbook does not know. The file is left untouched unless the
 * caller asked to recover, in which case it is kept as `<path>.corrupt-<ts>`.
 *
 * @example
 * ```ts
 * import { StoreFileError } from "opsbook";
 * const e = new StoreFileError("Alert state file is corrupted: /tmp/x.json: not JSON", {
 *   path: "/tmp/x.json",
 * });
 * console.log(e.path); // /tmp/x.json
 * ```
 */
export class StoreFileError extends OpsbookError {
  /** The file that could not be read. */
  readonly path: string;

  /** Creates the error. */
  constructor(message: string, options: { path: string; cause?: unknown }) {
    super(message, options.cause === undefined ? {} : { cause: options.cause });
    this.name = "StoreFileError";
    this.path = options.path;
  }
}

/** Writes `text` to `path` atomically and durably (owner-only permissions: state may name hosts). */
export function writeFileAtomic(path: string, text: string): Promise<void> {
  return writeAtomic(path, text, { mode: 0o600 });
}

/** Options of {@linkcode loadJsonFile}. */
export interface LoadOptions {
  /** Keep an unreadable file as `<path>.corrupt-<ts>` and start fresh instead of throwing. */
  recover?: boolean;
  /** Time used in the `.corrupt-<ts>` suffix, epoch ms. */
  nowMs?: number;
}

/** What {@linkcode loadJsonFile} found. */
export interface Loaded<T> {
  /** The parsed content, or `undefined` when the file did not exist or was set aside. */
  value: T | undefined;
  /** Where a corrupted file was moved, when `recover` was used. */
  recoveredTo?: string;
}

/**
 * Reads and validates a versioned JSON file. A missing file gives
 * `undefined`; an unreadable one throws a {@linkcode StoreFileError} naming
 * the file and the problem, or is renamed aside when `recover` is set.
 */
export async function loadJsonFile<T>(
  path: string,
  schema: z.ZodType<T>,
  what: string,
  version: number,
  options: LoadOptions = {},
): Promise<Loaded<T>> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return { value: undefined };
    throw error;
  }
  let problem: string;
  let cause: unknown;
  try {
    const raw = JSON.parse(text) as unknown;
    const found = raw !== null && typeof raw === "object" && "version" in raw
      ? (raw as { version: unknown }).version
      : undefined;
    if (found !== version) {
      problem = found === undefined
        ? "no version field"
        : `unsupported version ${JSON.stringify(found)}, expected ${version}`;
    } else {
      const parsed = schema.safeParse(raw);
      if (parsed.success) return { value: parsed.data };
      const issue = parsed.error.issues[0];
      problem = `invalid content at ${issue.path.join(".") || "(root)"}: ${issue.message}`;
      cause = parsed.error;
    }
  } catch (error) {
    problem = `not valid JSON: ${(error as Error).message}`;
    cause = error;
  }
  const stamp = new Date(options.nowMs ?? Date.now()).toISOString().replace(/[:.]/g, "-");
  const aside = `${path}.corrupt-${stamp}`;
  if (!options.recover) {
    throw new StoreFileError(
      `${what} file is unreadable: ${path}: ${problem}; it was left untouched (to keep it as ${path}.corrupt-<time> and start fresh, run the monitor with --recover or pass recover: true)`,
      { path, cause },
    );
  }
  await Deno.rename(path, aside);
  return { value: undefined, recoveredTo: aside };
}
