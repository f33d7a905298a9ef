/**
 * Internal: the `warnings` and `infos` of an answer as lines of text, the one
 * way both the validated path (`query()`) and the scanned path
 * (`queryFrame()`) read them.
 *
 * Prometheus sends an array of strings. A proxy or another implementation
 * may send something else; a warning still means the data may be partial, so
 * a malformed field is never dropped (that would read a partial answer as
 * complete) nor rejected (that would throw the data away): a string stays as
 * it is, anything else becomes its JSON (`{"code":"store_down"}`, never
 * `[object Object]`), and a field that is not an array is one warning.
 *
 * @module
 */

/**
 * The notes of a `warnings` or `infos` field as lines.
 *
 * @example
 * ```ts
 * import { noteLines } from "./_notes.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(noteLines(["a", { store: "ali" }]), ["a", '{"store":"ali"}']);
 * assert.deepEqual(noteLines("partial"), ["partial"]);
 * assert.deepEqual(noteLines(undefined), []);
 * ```
 */
export function noteLines(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  const list: unknown[] = Array.isArray(value) ? value : [value];
  return list.map((v) => typeof v === "string" ? v : JSON.stringify(v) ?? String(v));
}
