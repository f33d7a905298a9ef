/**
 * A small node_exporter-shaped fleet as OpenMetrics text, for
 * `startPrometheus({ openMetrics })`: hosts with only the labels given
 * (a plain Prometheus: `instance` and `job`), each at a constant CPU usage,
 * so `cpuUsageQuery()` answers exactly `usage` everywhere after the first
 * 5 minutes.
 *
 * @module
 */

/** One host: its labels (at least `instance`) and its constant CPU usage in percent. */
export interface PlainHost {
  /** Series labels, e.g. `{ instance: "web-1:9100", job: "node" }`. */
  labels: Record<string, string>;
  /** CPU usage in percent (0–100) of every CPU. */
  usage: number;
  /** CPUs reported. @default {2} */
  cpus?: number;
}

/** 2026-11-01T00:00:00Z in seconds: where the series start. */
export const PLAIN_START_S = Date.UTC(2026, 10, 1) / 1000;

/**
 * OpenMetrics text of `node_cpu_seconds_total{cpu, mode="idle"|"user"}` and
 * `up` for each host, every 15 s for `hours` from {@linkcode PLAIN_START_S}.
 */
export function plainFleetOpenMetrics(hosts: readonly PlainHost[], hours = 2): string {
  const samples = Math.round(hours * 240) + 1;
  const lines: string[] = [];
  const labelText = (labels: Record<string, string>) =>
    Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(",");
  for (const host of hosts) {
    for (let cpu = 0; cpu < (host.cpus ?? 2); cpu++) {
      for (const mode of ["idle", "user"]) {
        const share = mode === "idle" ? 1 - host.usage / 100 : host.usage / 100;
        const series = `node_cpu_seconds_total{${
          labelText(host.labels)
        },cpu="${cpu}",mode="${mode}"}`;
        for (let i = 0; i < samples; i++) {
          lines.push(`${series} ${(i * 15 * share).toFixed(3)} ${PLAIN_START_S + i * 15}`);
        }
      }
    }
  }
  for (const host of hosts) {
    for (let i = 0; i < samples; i++) {
      lines.push(`up{${labelText(host.labels)}} 1 ${PLAIN_START_S + i * 15}`);
    }
  }
  return lines.join("\n") + "\n# EOF\n";
}
