/**
 * Routing: which receivers get an alert, decided by its labels, in the shape
 * of Alertmanager's route tree cut down to one level. Routes are tried in
 * order; the first that matches decides, unless it says `continue`, in which
 * case the next matching routes add their receivers too. An alert no route
 * matched goes to the default receiver (or, without one, to every receiver).
 *
 * @module
 */

import type { Labels } from "../labels.ts";

/**
 * One route: label matchers and the receiver they send to.
 *
 * @example
 * ```ts
 * import { type AlertRoute, compileRoute } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const disks: AlertRoute = { match_re: { alertname: "HostDisk.*" }, receiver: "tickets" };
 * const route = compileRoute({ receiver: "team", routes: [disks] }, ["team", "tickets"]);
 * assert.deepEqual(route({ alertname: "HostDiskFull" }), ["tickets"]);
 * ```
 */
export interface AlertRoute {
  /** Labels that must equal these values (`{ severity: "critical" }`). @default {{}} */
  match?: Record<string, string>;
  /** Labels that must match these regular expressions, anchored (`{ alertname: "HostDisk.*" }`). @default {{}} */
  match_re?: Record<string, string>;
  /** The receiver's name. */
  receiver: string;
  /**
   * Keep trying the following routes after this one matched.
   * @default {false}
   */
  continue?: boolean;
}

/**
 * A routing table: ordered routes and a default receiver.
 *
 * @example
 * ```ts
 * import { compileRoute, type RouteConfig } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const config: RouteConfig = {
 *   receiver: "team",
 *   routes: [{ match: { severity: "critical" }, receiver: "pager", continue: true }],
 * };
 * const route = compileRoute(config, ["team", "pager"]);
 * assert.deepEqual(route({ alertname: "HostDown", severity: "critical" }), ["pager"]);
 * assert.deepEqual(route({ alertname: "HostDown", severity: "warning" }), ["team"]);
 * ```
 */
export interface RouteConfig {
  /** Receiver of alerts no route matched; absent: every receiver gets them. */
  receiver?: string;
  /** The routes, tried in order. @default {[]} */
  routes?: AlertRoute[];
}

/**
 * A compiled routing table: labels in, receiver names out.
 *
 * @example
 * ```ts
 * import { compileRoute, type Router } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const route: Router = compileRoute({ receiver: "team" }, ["team"]);
 * assert.deepEqual(route({ alertname: "HostHighCpu" }), ["team"]);
 * ```
 */
export type Router = (labels: Labels) => readonly string[];

/**
 * Compiles a routing table. `receivers` are the names that exist; a route to
 * any other name, or a regular expression that does not compile, throws a
 * `TypeError` naming the route.
 *
 * @example Critical alerts page, the rest go to the team channel
 * ```ts
 * import { compileRoute } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const route = compileRoute({
 *   receiver: "team",
 *   routes: [
 *     { match: { severity: "critical" }, receiver: "pager", continue: true },
 *     { match_re: { alertname: "HostDisk.*" }, receiver: "tickets" },
 *   ],
 * }, ["team", "pager", "tickets"]);
 * assert.deepEqual(route({ alertname: "HostDiskFull", severity: "critical" }), ["pager", "tickets"]);
 * assert.deepEqual(route({ alertname: "HostOutOfMemory", severity: "warning" }), ["team"]);
 * ```
 */
export function compileRoute(config: RouteConfig, receivers: readonly string[]): Router {
  const known = new Set(receivers);
  const check = (name: unknown, where: string) => {
    if (typeof name !== "string" || !known.has(name)) {
      throw new TypeError(
        `Invalid ${where}: unknown receiver ${JSON.stringify(name)}; ` +
          `expected one of ${[...known].map((r) => JSON.stringify(r)).join(", ")}`,
      );
    }
  };
  if (config.receiver !== undefined) check(config.receiver, "route.receiver");
  const routes = (config.routes ?? []).map((r, i) => {
    const where = `route.routes[${i}]`;
    check(r?.receiver, `${where}.receiver`);
    const eq = Object.entries(r.match ?? {});
    const re = Object.entries(r.match_re ?? {}).map(([k, v]) => {
      try {
        return [k, new RegExp(`^(?:${v})$`)] as const;
      } catch (error) {
        throw new TypeError(
          `Invalid ${where}.match_re.${k}: ${
            (error as Error).message
          }; expected a regular expression`,
        );
      }
    });
    for (const [k, v] of eq) {
      if (typeof v !== "string") {
        throw new TypeError(`Invalid ${where}.match.${k}: expected a string label value`);
      }
    }
    return { receiver: r.receiver, continue: r.continue === true, eq, re };
  });
  const fallback = config.receiver === undefined ? [...receivers] : [config.receiver];
  return (labels) => {
    const out: string[] = [];
    for (const r of routes) {
      const hit = r.eq.every(([k, v]) => (labels[k] ?? "") === v) &&
        r.re.every(([k, v]) => v.test(labels[k] ?? ""));
      if (!hit) continue;
      if (!out.includes(r.receiver)) out.push(r.receiver);
      if (!r.continue) return out;
    }
    return out.length > 0 ? out : fallback;
  };
}
