/**
 * A structured logger: one line per event, logfmt or JSON lines, to stdout and
 * optionally to a file rotated by size. Every value passes through secret
 * redaction before it is written.
 *
 * @module
 */

import { redactText } from "../errors.ts";

/**
 * Severity of a log line.
 *
 * @example
 * ```ts
 * import { Logger, type LogLevel } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const lines: string[] = [];
 * const level: LogLevel = "warn";
 * const log = new Logger({ level, stdout: false, onLine: (l) => lines.push(l) });
 * log.info("evaluation"); // below warn: dropped
 * log.warn("slow_query", { seconds: 12 });
 * assert.equal(lines.length, 1);
 * ```
 */
export type LogLevel = "debug" | "info" | "warn" | "error";

/**
 * A value a log field may take.
 *
 * @example
 * ```ts
 * import { Logger, type LogValue } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const lines: string[] = [];
 * const log = new Logger({ stdout: false, onLine: (l) => lines.push(l), now: () => new Date(0) });
 * const value: LogValue = new Date(Date.UTC(2026, 10, 1));
 * log.info("replay", { from: value });
 * assert.equal(lines[0], "ts=1970-01-01T00:00:00.000Z level=info event=replay from=2026-11-01T00:00:00.000Z");
 * ```
 */
export type LogValue = string | number | boolean | null | undefined | Date | Error;

/**
 * Fields of one log line.
 *
 * @example
 * ```ts
 * import { type LogFields, Logger } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const lines: string[] = [];
 * const log = new Logger({ stdout: false, onLine: (l) => lines.push(l), now: () => new Date(0) });
 * const fields: LogFields = { hosts: 12, ok: true };
 * log.info("evaluation", fields);
 * assert.equal(lines[0], "ts=1970-01-01T00:00:00.000Z level=info event=evaluation hosts=12 ok=true");
 * ```
 */
export type LogFields = Record<string, LogValue>;

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/**
 * Options of {@linkcode Logger}.
 *
 * @example JSON lines
 * ```ts
 * import { Logger, type LoggerOptions } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const lines: string[] = [];
 * const options: LoggerOptions = {
 *   format: "json",
 *   stdout: false,
 *   onLine: (l) => lines.push(l),
 *   now: () => new Date(0),
 * };
 * new Logger(options).error("delivery_failed", { sink: "slack" });
 * assert.deepEqual(JSON.parse(lines[0]), {
 *   ts: "1970-01-01T00:00:00.000Z",
 *   level: "error",
 *   event: "delivery_failed",
 *   sink: "slack",
 * });
 * ```
 */
export interface LoggerOptions {
  /** `logfmt` (`ts=… level=info event=… key=value`) or `json` (one object per line). @default {"logfmt"} */
  format?: "logfmt" | "json";
  /** Lowest level written. @default {"info"} */
  level?: LogLevel;
  /** Write to stdout. @default {true} */
  stdout?: boolean;
  /** Also append to this file. */
  file?: string;
  /** Rotate the file when a line would make it larger than this. @default {10485760} */
  maxBytes?: number;
  /** Rotated files kept: `file.1` (newest) … `file.N`. @default {5} */
  maxFiles?: number;
  /** Exact strings never written (tokens, webhook URLs); URL credentials and `token=` parameters are always redacted. @default {[]} */
  secrets?: readonly string[];
  /** Extra sink for lines (tests); receives each line without its newline. */
  onLine?: (line: string) => void;
  /** Clock. @default {() => new Date()} */
  now?: () => Date;
}

function formatValue(value: LogValue): string {
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Error) return value.message;
  if (value === null || value === undefined) return "";
  return String(value);
}

function logfmtValue(text: string): string {
  if (text !== "" && /^[^\s"=\\]+$/.test(text)) return text;
  return JSON.stringify(text);
}

function writeAll(fd: { writeSync(p: Uint8Array): number }, data: Uint8Array): void {
  let off = 0;
  while (off < data.length) off += fd.writeSync(data.subarray(off));
}

/**
 * Writes structured log lines. Writes are synchronous, so a line logged
 * before a crash is on disk.
 *
 * @example Log an evaluation in logfmt
 * ```ts
 * import { Logger } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const lines: string[] = [];
 * const log = new Logger({
 *   stdout: false,
 *   onLine: (l) => lines.push(l),
 *   secrets: ["xoxb-123"],
 *   now: () => new Date(0),
 * });
 * log.info("evaluation", { hosts: 12, note: "token xoxb-123" });
 * assert.equal(lines[0], 'ts=1970-01-01T00:00:00.000Z level=info event=evaluation hosts=12 note="token ***"');
 * ```
 */
export class Logger {
  #format: "logfmt" | "json";
  #level: number;
  #stdout: boolean;
  #path?: string;
  #file?: Deno.FsFile;
  #size = 0;
  #maxBytes: number;
  #maxFiles: number;
  #secrets: string[];
  #onLine?: (line: string) => void;
  #now: () => Date;
  #encoder = new TextEncoder();

  /** Create a logger; opens (creates) the log file when one is given. */
  constructor(options: LoggerOptions = {}) {
    this.#format = options.format ?? "logfmt";
    this.#level = LEVELS[options.level ?? "info"];
    this.#stdout = options.stdout ?? true;
    this.#maxBytes = options.maxBytes ?? 10 * 1024 * 1024;
    this.#maxFiles = options.maxFiles ?? 5;
    this.#secrets = [...(options.secrets ?? [])].filter((s) => s.length > 0);
    this.#onLine = options.onLine;
    this.#now = options.now ?? (() => new Date());
    if (options.file !== undefined) {
      this.#path = options.file;
      this.#open();
    }
  }

  #open(): void {
    this.#file = Deno.openSync(this.#path!, { create: true, append: true });
    this.#size = this.#file.statSync().size;
  }

  #rotate(): void {
    this.#file?.close();
    this.#file = undefined;
    const path = this.#path!;
    if (this.#maxFiles === 0) {
      Deno.truncateSync(path, 0);
    } else {
      try {
        Deno.removeSync(`${path}.${this.#maxFiles}`);
      } catch { /* absent */ }
      for (let i = this.#maxFiles - 1; i >= 1; i--) {
        try {
          Deno.renameSync(`${path}.${i}`, `${path}.${i + 1}`);
        } catch { /* absent */ }
      }
      Deno.renameSync(path, `${path}.1`);
    }
    this.#open();
  }

  /** Add strings to redact from every later line. */
  addSecrets(...secrets: string[]): void {
    for (const s of secrets) if (s.length > 0) this.#secrets.push(s);
  }

  /** Format one line (without newline); values are redacted. */
  format(level: LogLevel, event: string, fields: LogFields = {}): string {
    const ts = this.#now().toISOString();
    const clean = (v: string) => redactText(v, this.#secrets);
    if (this.#format === "json") {
      const obj: Record<string, unknown> = { ts, level, event: clean(event) };
      for (const [k, v] of Object.entries(fields)) {
        if (v === undefined) continue;
        obj[k] = typeof v === "number" || typeof v === "boolean" || v === null
          ? v
          : clean(formatValue(v));
      }
      return JSON.stringify(obj);
    }
    let line = `ts=${ts} level=${level} event=${logfmtValue(clean(event))}`;
    for (const [k, v] of Object.entries(fields)) {
      if (v === undefined) continue;
      line += ` ${k}=${logfmtValue(clean(formatValue(v)))}`;
    }
    return line;
  }

  /** Write one event at `level`. */
  log(level: LogLevel, event: string, fields: LogFields = {}): void {
    if (LEVELS[level] < this.#level) return;
    const line = this.format(level, event, fields);
    this.#onLine?.(line);
    const bytes = this.#encoder.encode(line + "\n");
    if (this.#stdout) {
      try {
        writeAll(Deno.stdout, bytes);
      } catch { /* stdout closed: keep going */ }
    }
    if (this.#path !== undefined) {
      try {
        if (this.#file === undefined) this.#open();
        if (this.#size > 0 && this.#size + bytes.length > this.#maxBytes) this.#rotate();
        writeAll(this.#file!, bytes);
        this.#size += bytes.length;
      } catch (error) {
        // A full disk must not stop the monitor; report once per failure on stderr.
        try {
          writeAll(
            Deno.stderr,
            this.#encoder.encode(`log file write failed: ${(error as Error).message}\n`),
          );
        } catch { /* nothing left to tell */ }
        this.#file?.close();
        this.#file = undefined;
      }
    }
  }

  /** Write a debug event. */
  debug(event: string, fields?: LogFields): void {
    this.log("debug", event, fields);
  }

  /** Write an info event. */
  info(event: string, fields?: LogFields): void {
    this.log("info", event, fields);
  }

  /** Write a warning event. */
  warn(event: string, fields?: LogFields): void {
    this.log("warn", event, fields);
  }

  /** Write an error event. */
  error(event: string, fields?: LogFields): void {
    this.log("error", event, fields);
  }

  /** Close the log file. */
  close(): void {
    this.#file?.close();
    this.#file = undefined;
  }
}
