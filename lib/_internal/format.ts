/**
 * The one way opsbook prints a measured value and a threshold, shared by the
 * detectors' reasons, the alert templates' defaults, every sink (Slack,
 * Zammad, Alertmanager, dry-run) and the charts, so the same alert reads
 * `4.2 %` everywhere.
 *
 * @module
 */

/**
 * Formats a measured value: one decimal (`95.0`, `4.2`), three significant
 * digits for very small or large magnitudes (`0.0123`, `1.23e+9`), `NaN`,
 * `+Inf` and `-Inf` as Prometheus spells them; then a space and the unit
 * when there is one (`95.0 %`, `512.0 MB`).
 *
 * @example Values and units
 * ```ts
 * import { formatValue } from "./format.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatValue(4.201, "%"), "4.2 %");
 * assert.equal(formatValue(95), "95.0");
 * assert.equal(formatValue(0.0123, "s"), "0.0123 s");
 * assert.equal(formatValue(Infinity, "%"), "+Inf %");
 * ```
 */
export function formatValue(value: number, unit: string = ""): string {
  let text: string;
  if (Number.isNaN(value)) text = "NaN";
  else if (!Number.isFinite(value)) text = value > 0 ? "+Inf" : "-Inf";
  else if (Math.abs(value) >= 1e6 || (value !== 0 && Math.abs(value) < 0.05)) {
    text = value.toPrecision(3);
  } else text = (Object.is(value, -0) ? 0 : value).toFixed(1);
  if (text === "-0.0") text = "0.0";
  return unit === "" ? text : `${text} ${unit}`;
}

/**
 * Formats a threshold or any number a user configured: exactly as given
 * (`80`, `0.5`), then a space and the unit (`80 %`).
 *
 * @example A threshold
 * ```ts
 * import { formatThreshold } from "./format.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatThreshold(80, "%"), "80 %");
 * assert.equal(formatThreshold(0.5), "0.5");
 * ```
 */
export function formatThreshold(value: number, unit: string = ""): string {
  const text = Number.isNaN(value)
    ? "NaN"
    : !Number.isFinite(value)
    ? (value > 0 ? "+Inf" : "-Inf")
    : String(value);
  return unit === "" ? text : `${text} ${unit}`;
}
