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

export { DeliveryError } from "./types.ts";
export type {
  Alert,
  AlertStatus,
  Notification,
  NotificationContext,
  NotificationKind,
  SendOptions,
  Sink,
} from "./types.ts";
export { alertsFromFrame, renderTemplate } from "./model.ts";
export type { AlertsFromFrameOptions } from "./model.ts";
export { AlertState } from "./state.ts";
export type {
  AlertPhase,
  AlertRecord,
  AlertStateLoadOptions,
  Transition,
  UpdateOptions,
  UpdateResult,
} from "./state.ts";
export { Outbox } from "./outbox.ts";
export type {
  DeadLetter,
  DeliverOptions,
  DeliveryReport,
  EnqueueOptions,
  FailedDelivery,
  OutboxEntry,
  OutboxLoadOptions,
} from "./outbox.ts";
export { Alerter } from "./alerter.ts";
export type { AlerterOptions, EvaluateOptions, EvaluationReport } from "./alerter.ts";
export { compileRoute } from "./route.ts";
export type { AlertRoute, RouteConfig, Router } from "./route.ts";
export {
  alertmanagerAlerts,
  AlertmanagerSink,
  DryRunSink,
  escapeSlack,
  formatNotification,
  slackMessage,
  SlackSink,
  ZammadSink,
} from "./sinks/mod.ts";
export type {
  AlertmanagerAlertsOptions,
  AlertmanagerSinkOptions,
  DryRunSinkOptions,
  PostableAlert,
  SlackBlock,
  SlackMessage,
  SlackMessageOptions,
  SlackSinkOptions,
  SlackText,
  SlackUploadOptions,
  ZammadSinkOptions,
} from "./sinks/mod.ts";
export { StoreFileError } from "./_store.ts";
