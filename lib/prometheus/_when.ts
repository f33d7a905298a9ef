/**
 * Internal: how warnings and errors name the time of a query.
 *
 * @module
 */

import { type TimeInput, toSeconds } from "../time.ts";

/** `at <RFC 3339>` of an instant query's time, or `at now` without one. */
export function describeInstant(time: TimeInput | undefined): string {
  return time === undefined ? "at now" : `at ${new Date(toSeconds(time) * 1000).toISOString()}`;
}

/** `from <start> to <end>` of a range query, in RFC 3339. */
export function describeRange(options: { start: TimeInput; end: TimeInput }): string {
  const iso = (t: TimeInput) => new Date(toSeconds(t) * 1000).toISOString();
  return `from ${iso(options.start)} to ${iso(options.end)}`;
}
