/**
 * The alert stage: alerts from detector frames (fingerprinted by label set),
 * their state (pending → firing → resolved, repeat intervals), a durable
 * outbox, the alerter that ties them together, and the sinks that deliver
 * notifications.
 *
 * @example Alerts from a detector frame
 * ```ts
 * import pl from "nodejs-polars";
 * import { alertsFromFrame } from "opsbook/alert";
 * import assert from "node:assert/strict";
 *
 * const hot = pl.DataFrame({ instance: ["db-01:9100"], value: [95] });
 * const alerts = alertsFromFrame(hot, {
 *   alertname: "HostHighCpu",
 *   summary: "CPU {{value}} % on {{instance}}",
 * });
 * assert.equal(alerts[0].labels.alertname, "HostHighCpu");
 * ```
 *
 * @module
 */

export * from "./types.ts";
export * from "./model.ts";
export * from "./state.ts";
export * from "./outbox.ts";
export * from "./alerter.ts";
export * from "./route.ts";
export * from "./sinks/mod.ts";
