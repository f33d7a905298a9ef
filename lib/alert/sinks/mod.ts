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

export * from "./slack.ts";
export * from "./alertmanager.ts";
export * from "./zammad.ts";
export * from "./dry_run.ts";
