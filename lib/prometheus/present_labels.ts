/**
 * Which grouping labels a query's frame really carries: notebooks group by
 * `cloud` and `region` when the series have them, and say so in one line
 * when they do not (a plain Prometheus has only `instance` and `job`).
 *
 * @module
 */

import pl from "nodejs-polars";

/**
 * Options of {@linkcode presentLabels}.
 *
 * @example
 * ```ts
 * import pl from "nodejs-polars";
 * import { presentLabels, type PresentLabelsOptions } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const frame = pl.DataFrame({ instance: ["web-1:9100"], value: [42] });
 * const options: PresentLabelsOptions = { parameter: "facet" };
 * assert.deepEqual(presentLabels(frame, ["cloud"], options).present, []);
 * ```
 */
export interface PresentLabelsOptions {
  /** The setting the user changes to pick other labels, named in the note. @default {"the labels"} */
  parameter?: string;
  /** What happens without the missing labels, for the note. @default {"left out"} */
  instead?: string;
}

/**
 * The answer of {@linkcode presentLabels}.
 *
 * @example
 * ```ts
 * import pl from "nodejs-polars";
 * import { type PresentLabels, presentLabels } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const frame = pl.DataFrame({ instance: ["web-1:9100"], job: ["node"], value: [42] });
 * const labels: PresentLabels = presentLabels(frame, ["cloud", "job"]);
 * assert.deepEqual([labels.present, labels.missing], [["job"], ["cloud"]]);
 * ```
 */
export interface PresentLabels {
  /** The wanted labels the frame has, in the order asked. */
  present: string[];
  /** The wanted labels it lacks. */
  missing: string[];
  /** The label columns it has (every Utf8 column but `__name__` and `value`), sorted. */
  carried: string[];
  /**
   * One line for the reader when labels are missing, e.g. `No "cloud" or
   * "region" label on these series: left out (set group_by to labels they
   * carry: instance, job)`; `undefined` when none is.
   */
  note?: string;
}

/**
 * Splits `wanted` into the labels `frame` carries (as columns) and those it
 * lacks, with a one-line note naming the missing ones, what happens instead
 * and the labels that are there to choose from. A frame with no rows carries
 * nothing.
 *
 * @example Group by cloud and region when the series have them
 * ```ts
 * import pl from "nodejs-polars";
 * import { presentLabels } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const frame = pl.DataFrame({ instance: ["web-1:9100"], job: ["node"], value: [42] });
 * const { present, note } = presentLabels(frame, ["cloud", "region", "job"], {
 *   parameter: "group_by",
 * });
 * assert.deepEqual(present, ["job"]);
 * assert.equal(
 *   note,
 *   'No "cloud" or "region" label on these series: left out (set group_by to labels they carry: instance, job)',
 * );
 * ```
 */
export function presentLabels(
  frame: pl.DataFrame,
  wanted: readonly string[],
  options: PresentLabelsOptions = {},
): PresentLabels {
  const carried = frame.height === 0 ? [] : frame.columns
    .filter((c) => c !== "__name__" && c !== "value" && frame.getColumn(c).dtype.equals(pl.String))
    .sort();
  const present = wanted.filter((l) => carried.includes(l));
  const missing = wanted.filter((l) => !carried.includes(l));
  if (missing.length === 0) return { present, missing, carried };
  const names = missing.map((l) => JSON.stringify(l));
  const list = names.length === 1
    ? names[0]
    : `${names.slice(0, -1).join(", ")} or ${names.at(-1)}`;
  const choose = carried.length === 0
    ? "they carry no label"
    : `set ${options.parameter ?? "the labels"} to ${
      missing.length === 1 ? "a label" : "labels"
    } they carry: ${carried.join(", ")}`;
  return {
    present,
    missing,
    carried,
    note: `No ${list} label on these series: ${options.instead ?? "left out"} (${choose})`,
  };
}
