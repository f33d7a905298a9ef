/**
 * Label sets and their identity: the Alertmanager model, where a series or an
 * alert is identified by the fingerprint of its sorted label set.
 *
 * @module
 */

/** A set of label names and values. */
export type Labels = Record<string, string>;

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const MASK = 0xffffffffffffffffn;
const SEPARATOR = 0xff;

/**
 * The fingerprint of a label set: FNV-1a 64 over the labels sorted by name,
 * each name and value followed by the byte 0xff (Prometheus'
 * `model.LabelSet.Fingerprint`), as 16 lowercase hex digits. Empty values are
 * skipped, as Prometheus treats an empty label as an absent one.
 *
 * @example Fingerprint a label set
 * ```ts
 * import { fingerprint } from "./labels.ts";
 * const a = fingerprint({ alertname: "HostHighCpu", instance: "web-01:9100" });
 * const b = fingerprint({ instance: "web-01:9100", alertname: "HostHighCpu" });
 * console.log(a === b, a.length); // true 16
 * ```
 */
export function fingerprint(labels: Labels): string {
  const enc = new TextEncoder();
  let h = FNV_OFFSET;
  for (const name of Object.keys(labels).sort()) {
    const value = labels[name];
    if (value === "" || value === undefined || value === null) continue;
    for (const part of [name, value]) {
      for (const byte of enc.encode(part)) {
        h ^= BigInt(byte);
        h = (h * FNV_PRIME) & MASK;
      }
      h ^= BigInt(SEPARATOR);
      h = (h * FNV_PRIME) & MASK;
    }
  }
  return h.toString(16).padStart(16, "0");
}

/**
 * Formats a label set as PromQL/Prometheus does: `{a="1", b="2"}`, sorted by
 * name, values escaped.
 *
 * @example
 * ```ts
 * import { formatLabels } from "./labels.ts";
 * console.log(formatLabels({ job: "node", instance: "a:9100" })); // {instance="a:9100", job="node"}
 * ```
 */
export function formatLabels(labels: Labels): string {
  const parts = Object.keys(labels).sort().map((k) => `${k}=${JSON.stringify(labels[k])}`);
  return `{${parts.join(", ")}}`;
}
