/**
 * Alert and notification fixtures for the alert and sink tests: one builder
 * each. A test file states its defaults once (labels, summary, times) with
 * {@linkcode alertFixture} / {@linkcode notificationFixture} and gets a short
 * `alert(instance, options)` / `notification(kind, alerts, options)` back.
 *
 * @module
 */

import type { Alert, Notification } from "../../lib/alert/types.ts";
import { fingerprint, type Labels } from "../../lib/labels.ts";

/** What a fixture alert may set; everything else has a default. */
export interface AlertOptions {
  /** @default {"HostHighCpu"} */
  alertname?: string;
  /** Labels besides `alertname` and `instance` (merged over the defaults'). */
  labels?: Labels;
  /** @default {95} */
  value?: number;
  /** @default {"firing"} */
  status?: Alert["status"];
  /**
   * The `summary` annotation, or a function of the alert's parts.
   * @default {`CPU ${value} % on ${instance}`}
   */
  summary?: string | ((alert: { instance: string; alertname: string; value: number }) => string);
  /** All annotations (replaces `summary`). */
  annotations?: Alert["annotations"];
  /** @default {"2026-11-01T10:00:00.000Z"} */
  startsAt?: string;
  /** Left out unless set. */
  endsAt?: string;
}

/** When fixture alerts start unless told otherwise: 2026-11-01 10:00 UTC. */
export const FIXTURE_START = "2026-11-01T10:00:00.000Z";

/**
 * An alert on `instance`: labels `alertname`, `instance` and `options.labels`,
 * fingerprinted by that label set.
 */
export function alert(instance: string, options: AlertOptions = {}): Alert {
  const alertname = options.alertname ?? "HostHighCpu";
  const value = options.value ?? 95;
  const labels: Labels = { alertname, instance, ...options.labels };
  const summary = typeof options.summary === "function"
    ? options.summary({ instance, alertname, value })
    : options.summary ?? `CPU ${value} % on ${instance}`;
  return {
    labels,
    annotations: options.annotations ?? { summary },
    value,
    startsAt: options.startsAt ?? FIXTURE_START,
    ...(options.endsAt === undefined ? {} : { endsAt: options.endsAt }),
    status: options.status ?? "firing",
    fingerprint: fingerprint(labels),
  };
}

/**
 * {@linkcode alert} with a test file's defaults (a function is called for
 * every alert, e.g. for times relative to now). Labels merge; the rest is
 * overridden by the call's options.
 */
export function alertFixture(
  defaults: AlertOptions | (() => AlertOptions) = {},
): (instance: string, options?: AlertOptions) => Alert {
  return (instance, options = {}) => {
    const d = typeof defaults === "function" ? defaults() : defaults;
    return alert(instance, { ...d, ...options, labels: { ...d.labels, ...options.labels } });
  };
}

/** What a fixture notification may set; everything else has a default. */
export interface NotificationOptions {
  /** @default {`n-${kind}-${alerts.length}`} */
  id?: string;
  /** @default {"slack"} */
  receiver?: string;
  /** @default {"HostHighCpu"} */
  group?: string;
  /** @default {FIXTURE_START} */
  createdAt?: string;
  /** @default {{ evaluatedAt: createdAt }} */
  context?: Notification["context"];
}

/** A notification of `kind` carrying `alerts`. */
export function notification(
  kind: Notification["kind"],
  alerts: Alert[],
  options: NotificationOptions = {},
): Notification {
  const createdAt = options.createdAt ?? FIXTURE_START;
  return {
    id: options.id ?? `n-${kind}-${alerts.length}`,
    receiver: options.receiver ?? "slack",
    group: options.group ?? "HostHighCpu",
    kind,
    alerts,
    createdAt,
    context: options.context ? { ...options.context } : { evaluatedAt: createdAt },
  };
}

/**
 * {@linkcode notification} with a test file's defaults (a function is called
 * for every notification).
 */
export function notificationFixture(
  defaults: NotificationOptions | (() => NotificationOptions) = {},
): (kind: Notification["kind"], alerts: Alert[], options?: NotificationOptions) => Notification {
  return (kind, alerts, options = {}) => {
    const d = typeof defaults === "function" ? defaults() : defaults;
    return notification(kind, alerts, { ...d, ...options });
  };
}
