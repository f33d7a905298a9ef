/**
 * A tiny Prometheus text-format registry for the monitor's own metrics:
 * counters and gauges with labels, process metrics (resident memory, heap,
 * start time, CPU seconds) and a `/metrics` server.
 *
 * @module
 */

import type { Labels } from "../labels.ts";

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function escapeHelp(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

function formatNumber(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

function labelKey(names: readonly string[], labels: Labels): string {
  for (const k of Object.keys(labels)) {
    if (!names.includes(k)) throw new TypeError(`Invalid label: "${k}" is not declared`);
  }
  return names.map((n) => labels[n] ?? "").join("\u0000");
}

/**
 * Options of {@linkcode MetricsRegistry.prototype.counter} and `gauge`.
 *
 * @example
 * ```ts
 * import { type MetricOptions, MetricsRegistry } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const options: MetricOptions = { labelNames: ["sink"] };
 * const registry = new MetricsRegistry();
 * registry.counter("opsbook_sent_total", "Notifications sent", options).inc({ sink: "slack" });
 * assert.ok(registry.render().includes('opsbook_sent_total{sink="slack"} 1\n'));
 * ```
 */
export interface MetricOptions {
  /** Label names this metric takes. @default {[]} */
  labelNames?: readonly string[];
}

/** A metric family: one type, one help text, one value per label combination. */
abstract class Family {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  protected values = new Map<string, { labels: Labels; value: number }>();
  abstract readonly type: "counter" | "gauge";

  constructor(name: string, help: string, options: MetricOptions) {
    if (!NAME.test(name)) throw new TypeError(`Invalid metric name: "${name}"`);
    for (const l of options.labelNames ?? []) {
      if (!LABEL.test(l) || l.startsWith("__")) throw new TypeError(`Invalid label name: "${l}"`);
    }
    this.name = name;
    this.help = help;
    this.labelNames = [...(options.labelNames ?? [])];
    if (this.labelNames.length === 0) this.values.set("", { labels: {}, value: 0 });
  }

  protected entry(labels: Labels): { labels: Labels; value: number } {
    const key = labelKey(this.labelNames, labels);
    let e = this.values.get(key);
    if (e === undefined) {
      e = { labels: { ...labels }, value: 0 };
      this.values.set(key, e);
    }
    return e;
  }

  /** The current value for a label combination (0 if never set). */
  get(labels: Labels = {}): number {
    return this.values.get(labelKey(this.labelNames, labels))?.value ?? 0;
  }

  /** The exposition lines of this family. */
  render(): string {
    let out = `# HELP ${this.name} ${escapeHelp(this.help)}\n# TYPE ${this.name} ${this.type}\n`;
    for (const { labels, value } of this.values.values()) {
      const parts = this.labelNames.filter((n) => labels[n] !== undefined)
        .map((n) => `${n}="${escapeLabel(labels[n])}"`);
      out += `${this.name}${parts.length ? `{${parts.join(",")}}` : ""} ${formatNumber(value)}\n`;
    }
    return out;
  }
}

/**
 * A monotonically increasing count.
 *
 * @example Count evaluations by outcome
 * ```ts
 * import { MetricsRegistry } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const registry = new MetricsRegistry();
 * const evaluations = registry.counter("opsbook_evaluations_total", "Evaluations", {
 *   labelNames: ["outcome"],
 * });
 * evaluations.inc({ outcome: "ok" });
 * evaluations.inc({ outcome: "ok" }, 2);
 * assert.ok(registry.render().includes('opsbook_evaluations_total{outcome="ok"} 3\n'));
 * ```
 */
export class Counter extends Family {
  /** `counter`. */
  readonly type = "counter";

  /** Add `amount` (≥ 0, default 1). */
  inc(labels: Labels = {}, amount = 1): void {
    if (!(amount >= 0)) throw new RangeError("Invalid amount: a counter only goes up");
    this.entry(labels).value += amount;
  }
}

/**
 * A value that goes up and down.
 *
 * @example Report the hosts in the last answer
 * ```ts
 * import { MetricsRegistry } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const registry = new MetricsRegistry();
 * const hosts = registry.gauge("opsbook_hosts", "Hosts in the last answer");
 * hosts.set({}, 12);
 * assert.ok(registry.render().includes("opsbook_hosts 12\n"));
 * ```
 */
export class Gauge extends Family {
  /** `gauge`. */
  readonly type = "gauge";

  /** Set the value. */
  set(labels: Labels, value: number): void {
    this.entry(labels).value = value;
  }

  /** Add `amount` (may be negative; default 1). */
  inc(labels: Labels = {}, amount = 1): void {
    this.entry(labels).value += amount;
  }
}

/**
 * Holds metric families and renders them in the Prometheus text format
 * (version 0.0.4).
 *
 * @example Count and render
 * ```ts
 * import { MetricsRegistry } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const registry = new MetricsRegistry();
 * const errors = registry.counter("opsbook_errors_total", "Errors by kind", { labelNames: ["kind"] });
 * errors.inc({ kind: "timeout" });
 * assert.ok(registry.render().includes('opsbook_errors_total{kind="timeout"} 1\n'));
 * ```
 */
export class MetricsRegistry {
  #families = new Map<string, Family>();
  #collectors: (() => void)[] = [];

  #add<F extends Family>(family: F): F {
    if (this.#families.has(family.name)) {
      throw new TypeError(`Invalid metric name: "${family.name}" is already registered`);
    }
    this.#families.set(family.name, family);
    return family;
  }

  /** Register a counter. */
  counter(name: string, help: string, options: MetricOptions = {}): Counter {
    return this.#add(new Counter(name, help, options));
  }

  /** Register a gauge. */
  gauge(name: string, help: string, options: MetricOptions = {}): Gauge {
    return this.#add(new Gauge(name, help, options));
  }

  /** Run `collect` before every render (to refresh gauges). */
  onCollect(collect: () => void): void {
    this.#collectors.push(collect);
  }

  /** The registry in the Prometheus text format. */
  render(): string {
    for (const c of this.#collectors) c();
    let out = "";
    for (const f of this.#families.values()) out += f.render();
    return out;
  }
}

function cpuSeconds(): number {
  try {
    const stat = Deno.readTextFileSync("/proc/self/stat");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // utime and stime are fields 14 and 15 (1-based), 11 and 12 after the name.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return performance.now() / 1000;
  }
}

/**
 * Register the standard process metrics: `process_resident_memory_bytes`,
 * `process_heap_bytes`, `process_start_time_seconds`,
 * `process_cpu_seconds_total` (from `/proc/self/stat`, 100 ticks a second).
 *
 * @example
 * ```ts
 * import { MetricsRegistry, registerProcessMetrics } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const registry = new MetricsRegistry();
 * registerProcessMetrics(registry);
 * assert.match(registry.render(), /process_resident_memory_bytes \d+/);
 * ```
 */
export function registerProcessMetrics(registry: MetricsRegistry): void {
  const rss = registry.gauge("process_resident_memory_bytes", "Resident memory size in bytes");
  const heap = registry.gauge("process_heap_bytes", "V8 heap used in bytes");
  const start = registry.gauge("process_start_time_seconds", "Start time since the epoch");
  const cpu = registry.counter("process_cpu_seconds_total", "User and system CPU time in seconds");
  start.set({}, Math.round((Date.now() - performance.now()) / 1000));
  registry.onCollect(() => {
    const m = Deno.memoryUsage();
    rss.set({}, m.rss);
    heap.set({}, m.heapUsed);
    const now = cpuSeconds();
    const seen = cpu.get();
    if (now > seen) cpu.inc({}, now - seen);
  });
}

/**
 * Options of {@linkcode serveMetrics}.
 *
 * @example
 * ```ts
 * import { MetricsRegistry, serveMetrics, type ServeMetricsOptions } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const options: ServeMetricsOptions = { hostname: "127.0.0.1", port: 0 }; // 0: any free port
 * await using server = serveMetrics(new MetricsRegistry(), options);
 * assert.ok(server.port > 0);
 * ```
 */
export interface ServeMetricsOptions {
  /** Port; 0 picks a free one. @default {0} */
  port?: number;
  /** Listen address. @default {"127.0.0.1"} */
  hostname?: string;
}

/**
 * A running `/metrics` server.
 *
 * @example
 * ```ts
 * import { MetricsRegistry, type MetricsServer, serveMetrics } from "opsbook";
 * import assert from "node:assert/strict";
 *
 * const server: MetricsServer = serveMetrics(new MetricsRegistry(), { port: 0 });
 * const res = await fetch(`http://127.0.0.1:${server.port}/metrics`);
 * assert.equal(res.status, 200);
 * await res.body?.cancel();
 * await server.shutdown();
 * ```
 */
export interface MetricsServer extends AsyncDisposable {
  /** The port it listens on. */
  port: number;
  /** Stop listening. */
  shutdown(): Promise<void>;
}

/**
 * Serve the registry at `/metrics` (and `200 ok` at `/healthz`).
 *
 * @example
 * ```ts
 * import { MetricsRegistry, serveMetrics } from "opsbook";
 *
 * await using server = serveMetrics(new MetricsRegistry(), { port: 0 });
 * const res = await fetch(`http://127.0.0.1:${server.port}/metrics`);
 * console.log(res.headers.get("content-type"));
 * await res.body?.cancel();
 * ```
 */
export function serveMetrics(
  registry: MetricsRegistry,
  options: ServeMetricsOptions = {},
): MetricsServer {
  const server = Deno.serve({
    port: options.port ?? 0,
    hostname: options.hostname ?? "127.0.0.1",
    onListen: () => {},
  }, (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/metrics") {
      return new Response(registry.render(), {
        headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
      });
    }
    if (path === "/healthz") return new Response("ok\n");
    return new Response("not found\n", { status: 404 });
  });
  const shutdown = () => server.shutdown();
  return { port: server.addr.port, shutdown, [Symbol.asyncDispose]: shutdown };
}
