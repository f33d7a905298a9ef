/**
 * The persistent alert state: pending → firing → resolved per fingerprint,
 * stored in one versioned JSON file written atomically (temporary file in the
 * same directory, fsync, rename), so a restart or the next headless notebook
 * run neither re-sends nor forgets.
 *
 * ```
 *   (condition true)        pendingFor elapsed            condition false
 * ──────────────────► pending ────────────────► firing ─────────────────► resolved
 *        │ condition false: dropped silently      │ ▲ repeatInterval elapsed:
 *        ▼                                        └─┘ one "repeat" notice
 *     (nothing)
 * ```
 *
 * @module
 */

import { z } from "zod";
import {
  type DurationInput,
  formatDuration,
  parseDuration,
  type TimeInput,
  toMillis,
} from "../time.ts";
import { fingerprint, type Labels } from "../labels.ts";
import type { Alert } from "./types.ts";
import { loadJsonFile, type LoadOptions, writeFileAtomic } from "./_store.ts";

export { StoreFileError } from "./_store.ts";

/**
 * Where an alert is in its lifecycle.
 *
 * @example
 * ```ts
 * import { AlertState, fingerprint, type AlertPhase } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const labels = { alertname: "HostHighCpu", instance: "db-01:9100" };
 * const alert = {
 *   labels, annotations: { summary: "CPU 95 %" }, value: 95,
 *   startsAt: "2026-11-01T10:00:00Z", status: "firing" as const, fingerprint: fingerprint(labels),
 * };
 * const path = `${await Deno.makeTempDir()}/alerts.json`;
 * const state = await AlertState.load(path);
 * state.update([alert], { now: "2026-11-01T10:00:00Z", pendingFor: "5m" });
 * const phases: AlertPhase[] = state.records().map((r) => r.status);
 * assert.deepEqual(phases, ["pending"]);
 * ```
 */
export type AlertPhase = "pending" | "firing" | "resolved";

/**
 * One alert as the state store remembers it.
 *
 * @example
 * ```ts
 * import { type AlertRecord, AlertState, fingerprint } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const labels = { alertname: "HostHighCpu", instance: "db-01:9100" };
 * const alert = {
 *   labels, annotations: { summary: "CPU 95 %" }, value: 95,
 *   startsAt: "2026-11-01T10:00:00Z", status: "firing" as const, fingerprint: fingerprint(labels),
 * };
 * const path = `${await Deno.makeTempDir()}/alerts.json`;
 * const state = await AlertState.load(path);
 * state.update([alert], { now: "2026-11-01T10:00:00Z" });
 * const [record]: AlertRecord[] = state.records();
 * assert.deepEqual([record.status, record.activeAt, record.value], [
 *   "firing",
 *   "2026-11-01T10:00:00.000Z",
 *   95,
 * ]);
 * ```
 */
export interface AlertRecord {
  /** Fingerprint of `labels`. */
  fingerprint: string;
  /** The alert's labels. */
  labels: Labels;
  /**
   * The annotations: the latest ones while pending or firing, the resolve
   * notice's once resolved (see {@linkcode resolvedAnnotations}).
   */
  annotations: Alert["annotations"];
  /** The latest value (`null` when it was not a finite number). */
  value: number | null;
  /**
   * The annotations and value when it started firing. Kept because the latest
   * ones are only written with a state change, so they depend on which other
   * alerts changed meanwhile; the resolve notice is built from these.
   */
  fired?: { annotations: Record<string, string>; value: number | null };
  /** The phase. */
  status: AlertPhase;
  /** When the condition was first seen true in this episode, RFC 3339. */
  activeAt: string;
  /** When it started firing, RFC 3339. */
  startsAt?: string;
  /** When it resolved, RFC 3339. */
  endsAt?: string;
  /** The last evaluation that saw the condition true, RFC 3339. */
  lastSeenAt: string;
  /** When a firing or repeat notice was last queued, RFC 3339. */
  lastNotifiedAt?: string;
  /** Link to the query in Prometheus' graph UI. */
  generatorURL?: string;
}

/**
 * A change worth a notification.
 *
 * @example
 * ```ts
 * import { AlertState, fingerprint, type Transition } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const labels = { alertname: "HostHighCpu", instance: "db-01:9100" };
 * const alert = {
 *   labels, annotations: { summary: "CPU 95 %" }, value: 95,
 *   startsAt: "2026-11-01T10:00:00Z", status: "firing" as const, fingerprint: fingerprint(labels),
 * };
 * const path = `${await Deno.makeTempDir()}/alerts.json`;
 * const state = await AlertState.load(path);
 * const fired: Transition[] = state.update([alert], { now: "2026-11-01T10:00:00Z" }).transitions;
 * const resolved: Transition[] = state.update([], { now: "2026-11-01T10:10:00Z" }).transitions;
 * assert.deepEqual([...fired, ...resolved].map((t) => t.kind), ["firing", "resolved"]);
 * ```
 */
export interface Transition {
  /** `firing` (started), `repeat` (still firing after the repeat interval) or `resolved`. */
  kind: "firing" | "repeat" | "resolved";
  /** The alert as it should be sent. */
  alert: Alert;
}

/**
 * Options of {@linkcode AlertState.update}.
 *
 * @example
 * ```ts
 * import { AlertState, fingerprint, type UpdateOptions } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const labels = { alertname: "HostHighCpu", instance: "db-01:9100" };
 * const alert = {
 *   labels, annotations: { summary: "CPU 95 %" }, value: 95,
 *   startsAt: "2026-11-01T10:00:00Z", status: "firing" as const, fingerprint: fingerprint(labels),
 * };
 * const path = `${await Deno.makeTempDir()}/alerts.json`;
 * const state = await AlertState.load(path);
 * const options: UpdateOptions = { now: "2026-11-01T10:00:00Z", repeatInterval: "1h" };
 * state.update([alert], options);
 * const again = state.update([alert], { ...options, now: "2026-11-01T11:00:00Z" });
 * assert.deepEqual(again.transitions.map((t) => t.kind), ["repeat"]);
 * ```
 */
export interface UpdateOptions {
  /**
   * The evaluation time.
   * @default {new Date()}
   */
  now?: TimeInput;
  /**
   * How long a condition must hold before it fires (Prometheus' `for:`).
   * @default {0}
   */
  pendingFor?: DurationInput;
  /**
   * How long a firing alert stays quiet before a repeat notice; a function
   * gets the alert and returns seconds (e.g. a longer interval per group).
   * @default {"4h"}
   */
  repeatInterval?: DurationInput | ((alert: Alert) => number);
  /**
   * How long resolved alerts stay in the file (for tables and for a restart).
   * @default {"24h"}
   */
  keepResolved?: DurationInput;
  /**
   * What an alert absent from `alerts` means. `"resolve"`: the answer was
   * complete, a firing alert resolves and a pending one is dropped.
   * `"hold"`: the answer was partial (it came with warnings, a fleet member
   * failed) or empty, so absent alerts keep their state, unchanged, until
   * a complete answer says otherwise.
   * @default {"resolve"}
   */
  absent?: "resolve" | "hold";
}

/**
 * What one {@linkcode AlertState.update} did.
 *
 * @example
 * ```ts
 * import { AlertState, fingerprint, type UpdateResult } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const labels = { alertname: "HostHighCpu", instance: "db-01:9100" };
 * const alert = {
 *   labels, annotations: { summary: "CPU 95 %" }, value: 95,
 *   startsAt: "2026-11-01T10:00:00Z", status: "firing" as const, fingerprint: fingerprint(labels),
 * };
 * const path = `${await Deno.makeTempDir()}/alerts.json`;
 * const state = await AlertState.load(path);
 * const result: UpdateResult = state.update([alert], { now: "2026-11-01T10:00:00Z" });
 * assert.deepEqual([result.firing.length, result.pending.length, result.resolved.length], [1, 0, 0]);
 * ```
 */
export interface UpdateResult {
  /** Changes to notify, firing ones first. */
  transitions: Transition[];
  /** Every alert firing after the update. */
  firing: Alert[];
  /** Alerts whose condition holds but that wait for `pendingFor`. */
  pending: Alert[];
  /** Alerts resolved by this update. */
  resolved: Alert[];
}

const AnnotationsSchema = z.record(z.string(), z.string()).refine(
  (a) => typeof a.summary === "string",
  { message: "summary is required" },
);

const RecordSchema = z.object({
  fingerprint: z.string().regex(/^[0-9a-f]{16}$/),
  labels: z.record(z.string(), z.string()),
  annotations: AnnotationsSchema,
  value: z.number().nullable(),
  status: z.enum(["pending", "firing", "resolved"]),
  activeAt: z.string(),
  startsAt: z.string().optional(),
  endsAt: z.string().optional(),
  lastSeenAt: z.string(),
  lastNotifiedAt: z.string().optional(),
  generatorURL: z.string().optional(),
  fired: z.object({
    annotations: z.record(z.string(), z.string()),
    value: z.number().nullable(),
  }).optional(),
});

const STATE_VERSION = 1;

const StateFileSchema = z.object({
  version: z.literal(STATE_VERSION),
  updatedAt: z.string(),
  alerts: z.array(RecordSchema),
});

type StateFile = z.infer<typeof StateFileSchema>;

/**
 * Options of {@linkcode AlertState.load}.
 *
 * @example Start over from a corrupted file
 * ```ts
 * import { AlertState, type AlertStateLoadOptions } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const path = `${await Deno.makeTempDir()}/alerts.json`;
 * await Deno.writeTextFile(path, "{ not json");
 * const options: AlertStateLoadOptions = { recover: true }; // without it: StoreFileError
 * const state = await AlertState.load(path, options);
 * assert.ok(state.recoveredFrom !== undefined); // the bad file was kept aside
 * assert.deepEqual(state.records(), []);
 * ```
 */
export interface AlertStateLoadOptions {
  /**
   * When the file is corrupted or of an unknown version, keep it as
   * `<path>.corrupt-<time>` and start with an empty state instead of
   * throwing a {@linkcode StoreFileError}.
   * @default {false}
   */
  recover?: boolean;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function toSeconds(duration: DurationInput, name: string): number {
  try {
    return parseDuration(duration);
  } catch (error) {
    throw new RangeError(`Invalid ${name}: ${(error as Error).message}`);
  }
}

function nowMs(now: TimeInput | undefined): number {
  return now === undefined ? Date.now() : toMillis(now);
}

function recordToAlert(r: AlertRecord): Alert {
  const alert: Alert = {
    labels: { ...r.labels },
    annotations: { ...r.annotations },
    value: r.value ?? NaN,
    startsAt: r.startsAt ?? r.activeAt,
    status: r.status === "resolved" ? "resolved" : "firing",
    fingerprint: r.fingerprint,
  };
  if (r.status === "resolved" && r.endsAt !== undefined) alert.endsAt = r.endsAt;
  if (r.generatorURL !== undefined) alert.generatorURL = r.generatorURL;
  return alert;
}

function clockTime(ms: number, sameDayAs: number): string {
  const iso = new Date(ms).toISOString();
  const time = iso.slice(11, 19);
  return iso.slice(0, 10) === new Date(sameDayAs).toISOString().slice(0, 10)
    ? time
    : `${iso.slice(0, 10)} ${time}`;
}

/**
 * The annotations of a resolve notice, from the record's state only (never
 * from the last detector row, whose text depends on the frame it came from):
 * the summary it fired with, and a description saying when it resolved and
 * since when it was firing, followed by the description it fired with. (When
 * it was last seen true is not used: quiet evaluations do not write the file.)
 *
 * @example
 * ```ts
 * import { resolvedAnnotations } from "./state.ts";
 * const a = resolvedAnnotations({
 *   annotations: { summary: "CPU 95 % on db-01:9100", description: "95.0 % > 80 % for 9m45s" },
 *   startsAt: "2026-11-01T10:00:15Z",
 *   endsAt: "2026-11-01T12:05:00Z",
 * });
 * console.log(a.description);
 * // Resolved at 2026-11-01 12:05:00 UTC after 2h4m45s firing (since 10:00:15). When it fired: 95.0 % > 80 % for 9m45s
 * ```
 */
export function resolvedAnnotations(
  record: {
    annotations: Record<string, string | undefined>;
    startsAt: string;
    endsAt: string;
  },
): Alert["annotations"] {
  const start = toMillis(record.startsAt);
  const end = toMillis(record.endsAt);
  const firedDescription = record.annotations.description;
  const endIso = new Date(end).toISOString();
  const description =
    `Resolved at ${endIso.slice(0, 10)} ${endIso.slice(11, 19)} UTC after ${
      formatDuration(Math.max(0, Math.round((end - start) / 1000)))
    } firing (since ${clockTime(start, end)})` +
    (firedDescription ? `. When it fired: ${firedDescription}` : "");
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(record.annotations)) if (typeof v === "string") out[k] = v;
  return { ...out, summary: out.summary ?? "", description };
}

function cleanAnnotations(a: Alert["annotations"]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(a)) if (typeof v === "string") out[k] = v;
  return out as Record<string, string>;
}

/**
 * The alert state of one rule set, kept in a file. Load it, {@linkcode update}
 * it with the alerts whose condition holds now, queue the transitions it
 * returns, then {@linkcode save} it. One writer at a time: the
 * {@linkcode Alerter} holds a lock file around load → update → save.
 *
 * @example Fire once, stay quiet, resolve once
 * ```ts
 * import { AlertState, fingerprint } from "opsbook";
 *
 * const labels = { alertname: "HostHighCpu", instance: "db-01:9100" };
 * const alert = {
 *   labels, annotations: { summary: "CPU 95 %" }, value: 95,
 *   startsAt: "2026-11-01T10:00:00Z", status: "firing" as const, fingerprint: fingerprint(labels),
 * };
 * const path = await Deno.makeTempFile({ suffix: ".json" });
 * await Deno.remove(path);
 * const state = await AlertState.load(path);
 * console.log(state.update([alert], { now: "2026-11-01T10:00:00Z" }).transitions[0].kind); // firing
 * console.log(state.update([alert], { now: "2026-11-01T10:05:00Z" }).transitions.length); // 0
 * console.log(state.update([], { now: "2026-11-01T10:10:00Z" }).transitions[0].kind); // resolved
 * await state.save();
 * await Deno.remove(path);
 * ```
 */
export class AlertState {
  #path: string;
  #records: Map<string, AlertRecord>;
  #updatedAt: string;
  #recoveredFrom: string | undefined;
  #dirty: boolean;

  private constructor(path: string, file: StateFile | undefined, recoveredFrom?: string) {
    this.#path = path;
    this.#records = new Map((file?.alerts ?? []).map((r) => [r.fingerprint, r as AlertRecord]));
    this.#updatedAt = file?.updatedAt ?? new Date(0).toISOString();
    this.#recoveredFrom = recoveredFrom;
    this.#dirty = recoveredFrom !== undefined;
  }

  /**
   * Loads the state from `path`; a missing file is an empty state. A
   * corrupted file throws a {@linkcode StoreFileError} and stays untouched,
   * unless `recover` is set.
   *
   * @example
   * ```ts
   * import { AlertState } from "opsbook";
   * const state = await AlertState.load("/nonexistent/opsbook-state.json");
   * console.log(state.records().length); // 0
   * ```
   */
  static async load(path: string, options: AlertStateLoadOptions = {}): Promise<AlertState> {
    const loaded = await loadJsonFile(
      path,
      StateFileSchema,
      "Alert state",
      STATE_VERSION,
      options as LoadOptions,
    );
    return new AlertState(path, loaded.value, loaded.recoveredTo);
  }

  /** The file this state is stored in. */
  get path(): string {
    return this.#path;
  }

  /** Where a corrupted file was set aside by `recover`, if it was. */
  get recoveredFrom(): string | undefined {
    return this.#recoveredFrom;
  }

  /**
   * Whether an update changed something that must survive a restart: a new,
   * fired, repeated, resolved or dropped alert. Values and `lastSeenAt` alone
   * do not make the state dirty, so a quiet evaluation writes nothing.
   */
  get dirty(): boolean {
    return this.#dirty;
  }

  /** When the state was last written, RFC 3339. */
  get updatedAt(): string {
    return this.#updatedAt;
  }

  /** Fingerprints of the firing alerts (what hysteresis rules need). */
  get firing(): ReadonlySet<string> {
    const out = new Set<string>();
    for (const r of this.#records.values()) if (r.status === "firing") out.add(r.fingerprint);
    return out;
  }

  /** Copies of every record, sorted by alertname then fingerprint. */
  records(): AlertRecord[] {
    return [...this.#records.values()]
      .map((r) => structuredClone(r))
      .sort((a, b) =>
        (a.labels.alertname ?? "").localeCompare(b.labels.alertname ?? "") ||
        a.fingerprint.localeCompare(b.fingerprint)
      );
  }

  /** The alerts that are firing now, as {@linkcode Alert}s. */
  firingAlerts(): Alert[] {
    return [...this.#records.values()].filter((r) => r.status === "firing").map(recordToAlert);
  }

  /**
   * Applies one evaluation: `alerts` are the conditions that hold now (their
   * `status` is ignored); every firing alert not among them resolves (unless
   * `absent: "hold"`: a partial answer, where they keep their state).
   * Returns the transitions to notify. Does not write the file.
   */
  update(alerts: readonly Alert[], options: UpdateOptions = {}): UpdateResult {
    const now = nowMs(options.now);
    const at = iso(now);
    const pendingForMs = toSeconds(options.pendingFor ?? 0, "pendingFor") * 1000;
    const repeatOpt = options.repeatInterval ?? "4h";
    const defaultRepeat = typeof repeatOpt === "function"
      ? undefined
      : toSeconds(repeatOpt, "repeatInterval") * 1000;
    const repeatMs = (alert: Alert) =>
      defaultRepeat ?? toSeconds((repeatOpt as (a: Alert) => number)(alert), "repeatInterval") *
          1000;
    const keepResolvedMs = toSeconds(options.keepResolved ?? "24h", "keepResolved") * 1000;

    const transitions: Transition[] = [];
    const resolvedNow: Alert[] = [];
    const seen = new Set<string>();

    for (const alert of alerts) {
      if (typeof alert.labels?.alertname !== "string" || alert.labels.alertname === "") {
        throw new TypeError(
          `Invalid alert: labels must include alertname, got ${JSON.stringify(alert.labels)}`,
        );
      }
      const fp = alert.fingerprint || fingerprint(alert.labels);
      if (seen.has(fp)) continue;
      seen.add(fp);
      const value = Number.isFinite(alert.value) ? alert.value : null;
      let r = this.#records.get(fp);
      if (r === undefined || r.status === "resolved") {
        r = {
          fingerprint: fp,
          labels: { ...alert.labels },
          annotations: cleanAnnotations(alert.annotations) as Alert["annotations"],
          value,
          status: "pending",
          activeAt: at,
          lastSeenAt: at,
        };
        if (alert.generatorURL !== undefined) r.generatorURL = alert.generatorURL;
        this.#records.set(fp, r);
        this.#dirty = true;
      } else {
        r.annotations = cleanAnnotations(alert.annotations) as Alert["annotations"];
        r.value = value;
        r.lastSeenAt = at;
        if (alert.generatorURL !== undefined) r.generatorURL = alert.generatorURL;
      }
      if (r.status === "pending" && now - Date.parse(r.activeAt) >= pendingForMs) {
        r.status = "firing";
        const given = Date.parse(alert.startsAt);
        r.startsAt = Number.isFinite(given) && given <= now ? iso(given) : at;
        r.lastNotifiedAt = at;
        r.fired = { annotations: { ...r.annotations } as Record<string, string>, value };
        this.#dirty = true;
        transitions.push({ kind: "firing", alert: recordToAlert(r) });
      } else if (r.status === "firing") {
        const last = Date.parse(r.lastNotifiedAt ?? r.startsAt ?? r.activeAt);
        const current = recordToAlert(r);
        if (now - last >= repeatMs(current)) {
          r.lastNotifiedAt = at;
          this.#dirty = true;
          transitions.push({ kind: "repeat", alert: current });
        }
      }
    }

    const hold = options.absent === "hold";
    for (const [fp, r] of this.#records) {
      if (seen.has(fp)) continue;
      if (hold && r.status !== "resolved") continue;
      if (r.status === "pending") {
        this.#records.delete(fp);
        this.#dirty = true;
      } else if (r.status === "firing") {
        r.status = "resolved";
        r.endsAt = at;
        // The notice is built from what was saved when it fired: the latest
        // annotations and value are saved only with some state change, so
        // they would depend on which other alerts changed meanwhile.
        if (r.fired !== undefined) r.value = r.fired.value;
        r.annotations = resolvedAnnotations({
          annotations: r.fired?.annotations ?? r.annotations,
          startsAt: r.startsAt ?? r.activeAt,
          endsAt: at,
        });
        this.#dirty = true;
        const alert = recordToAlert(r);
        resolvedNow.push(alert);
        transitions.push({ kind: "resolved", alert });
      } else if (now - Date.parse(r.endsAt ?? r.lastSeenAt) > keepResolvedMs) {
        this.#records.delete(fp);
        this.#dirty = true;
      }
    }

    if (this.#dirty) this.#updatedAt = at;
    const order = { firing: 0, repeat: 1, resolved: 2 } as const;
    transitions.sort((a, b) => order[a.kind] - order[b.kind]);
    const firing: Alert[] = [];
    const pending: Alert[] = [];
    for (const r of this.#records.values()) {
      if (r.status === "firing") firing.push(recordToAlert(r));
      else if (r.status === "pending") pending.push(recordToAlert(r));
    }
    return { transitions, firing, pending, resolved: resolvedNow };
  }

  /** Writes the state atomically (temp file, fsync, rename). */
  async save(): Promise<void> {
    const file: StateFile = {
      version: STATE_VERSION,
      updatedAt: this.#updatedAt,
      alerts: this.records() as StateFile["alerts"],
    };
    await writeFileAtomic(this.#path, JSON.stringify(file, null, 1) + "\n");
    this.#dirty = false;
  }
}
