/**
 * Where notifications go: Slack (incoming webhook or bot token), Alertmanager
 * (`POST /api/v2/alerts`), Zammad tickets, and a dry run that prints and
 * writes what would be sent.
 *
 * @example Escape a label value for Slack
 * ```ts
 * import { escapeSlack } from "opsbook/alert";
 * import assert from "node:assert/strict";
 *
 * assert.equal(escapeSlack("<!channel> & co"), "&lt;!channel&gt; &amp; co");
 * ```
 *
 * @module
 */

export { escapeSlack, slackMessage, SlackSink } from "./slack.ts";
export type {
  SlackBlock,
  SlackMessage,
  SlackMessageOptions,
  SlackSinkOptions,
  SlackText,
  SlackUploadOptions,
} from "./slack.ts";
export { alertmanagerAlerts, AlertmanagerSink } from "./alertmanager.ts";
export type {
  AlertmanagerAlertsOptions,
  AlertmanagerSinkOptions,
  PostableAlert,
} from "./alertmanager.ts";
export { ZammadSink } from "./zammad.ts";
export type { ZammadSinkOptions } from "./zammad.ts";
export { DryRunSink, formatNotification } from "./dry_run.ts";
export type { DryRunSinkOptions } from "./dry_run.ts";
