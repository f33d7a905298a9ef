/**
 * The deterministic synthetic dataset every test, benchmark and the demo use.
 *
 * Twelve hosts on Alibaba Cloud, Tencent Cloud and Azure report
 * node_exporter-shaped `node_cpu_seconds_total` counters (two CPUs, modes
 * `idle`, `user`, `system`, `iowait`) and `up`, every 15 s for 24 h from
 * {@linkcode DATASET_START_MS} (2026-11-01T00:00:00Z). CPU usage has a daily
 * seasonality and a little deterministic noise, plus scripted incidents:
 *
 * | scenario   | instance                | what happens (UTC, 2026-11-01)                                  |
 * | ---------- | ----------------------- | --------------------------------------------------------------- |
 * | sustained  | `ali-hz-db-01:9100`     | 95.0 % from 10:00 to 12:00                                      |
 * | spike      | `tc-gz-api-01:9100`     | 97.0 % from 14:00 to 14:02 only                                 |
 * | flapping   | `az-eus-app-01:9100`    | 88.0 % 06:00–06:10, then 78 % 5 min / 83 % 10 min until 09:00   |
 * | trend      | `tc-sh-batch-01:9100`   | flat 40 % until 12:00, then a straight climb to 78 % at 24:00  |
 * | stops      | `az-weu-cache-01:9100`  | last CPU sample at 16:00; `up` is 0 afterwards                  |
 *
 * Usage is defined per 15 s scrape interval in tenths of a percent, and the
 * counters are integer milliseconds, so the classic query
 * `100 - (avg by(instance)(irate(node_cpu_seconds_total{mode="idle"}[5m])) * 100)`
 * returns exactly {@linkcode expectedCpuUsage} (up to float rounding, < 1e-6).
 *
 * @module
 */

/** Start of the dataset: 2026-11-01T00:00:00Z, in epoch milliseconds. */
export const DATASET_START_MS: number = Date.UTC(2026, 10, 1);
/** The scrape interval of the dataset, in milliseconds. */
export const SCRAPE_INTERVAL_MS = 15_000;
/** Number of scrapes per series: 24 h at 15 s, both ends included. */
export const DATASET_SAMPLES = 5761;
/** Time of the last sample: 2026-11-02T00:00:00Z, in epoch milliseconds. */
export const DATASET_END_MS: number = DATASET_START_MS + (DATASET_SAMPLES - 1) * SCRAPE_INTERVAL_MS;
/** Bump when the generated data changes: it keys the block cache. */
export const DATASET_VERSION = "1";

/** The incident a host was scripted with. */
export type Scenario = "normal" | "sustained" | "spike" | "flapping" | "trend" | "stops";

/** One host of the dataset and its labels. */
export interface DatasetHost {
  /** The `instance` label, `name:9100`. */
  instance: string;
  /** `aliyun`, `tencent` or `azure`. */
  cloud: string;
  /** The cloud's region name. */
  region: string;
  /** The scripted incident. */
  scenario: Scenario;
  /** Mean usage before seasonality, in tenths of a percent. */
  base: number;
}

/** The twelve hosts of the dataset, in a fixed order. */
export const HOSTS: readonly DatasetHost[] = Object.freeze([
  {
    instance: "ali-hz-web-01:9100",
    cloud: "aliyun",
    region: "cn-hangzhou",
    scenario: "normal",
    base: 350,
  },
  {
    instance: "ali-hz-db-01:9100",
    cloud: "aliyun",
    region: "cn-hangzhou",
    scenario: "sustained",
    base: 400,
  },
  {
    instance: "ali-bj-web-01:9100",
    cloud: "aliyun",
    region: "cn-beijing",
    scenario: "normal",
    base: 300,
  },
  {
    instance: "ali-bj-cache-01:9100",
    cloud: "aliyun",
    region: "cn-beijing",
    scenario: "normal",
    base: 250,
  },
  {
    instance: "tc-gz-api-01:9100",
    cloud: "tencent",
    region: "ap-guangzhou",
    scenario: "spike",
    base: 380,
  },
  {
    instance: "tc-gz-web-01:9100",
    cloud: "tencent",
    region: "ap-guangzhou",
    scenario: "normal",
    base: 330,
  },
  {
    instance: "tc-sh-batch-01:9100",
    cloud: "tencent",
    region: "ap-shanghai",
    scenario: "trend",
    base: 400,
  },
  {
    instance: "tc-sh-web-01:9100",
    cloud: "tencent",
    region: "ap-shanghai",
    scenario: "normal",
    base: 280,
  },
  {
    instance: "az-eus-app-01:9100",
    cloud: "azure",
    region: "eastus",
    scenario: "flapping",
    base: 420,
  },
  {
    instance: "az-eus-web-01:9100",
    cloud: "azure",
    region: "eastus",
    scenario: "normal",
    base: 310,
  },
  {
    instance: "az-weu-cache-01:9100",
    cloud: "azure",
    region: "westeurope",
    scenario: "stops",
    base: 260,
  },
  {
    instance: "az-weu-web-01:9100",
    cloud: "azure",
    region: "westeurope",
    scenario: "normal",
    base: 450,
  },
].map((h) => Object.freeze(h)) as DatasetHost[]);

/** The instance of each scripted incident. */
export const SCENARIO_HOSTS: Readonly<Record<Exclude<Scenario, "normal">, string>> = Object.freeze({
  sustained: "ali-hz-db-01:9100",
  spike: "tc-gz-api-01:9100",
  flapping: "az-eus-app-01:9100",
  trend: "tc-sh-batch-01:9100",
  stops: "az-weu-cache-01:9100",
});

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** Index of the stopped host's last CPU sample (16:00). */
const STOP_INDEX = (16 * HOUR) / SCRAPE_INTERVAL_MS;

/** A small integer hash → [0, 1): deterministic noise without state. */
function unit(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x632be5ab, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

function hostIndex(instance: string): number {
  const i = HOSTS.findIndex((h) => h.instance === instance);
  if (i < 0) throw new RangeError(`Unknown dataset instance: ${instance}`);
  return i;
}

/** Whether `host` has a CPU sample at scrape index `i`. */
function hasSample(host: DatasetHost, i: number): boolean {
  return i >= 0 && i < DATASET_SAMPLES && (host.scenario !== "stops" || i <= STOP_INDEX);
}

/**
 * Usage in tenths of a percent during the scrape interval that ends at index
 * `i` (i ≥ 1): what `irate` over the samples `i - 1` and `i` reports.
 */
function usageTenths(hostIdx: number, i: number): number {
  const host = HOSTS[hostIdx];
  const t = i * SCRAPE_INTERVAL_MS; // offset from the start
  const hours = t / HOUR;
  switch (host.scenario) {
    case "sustained":
      if (t > 10 * HOUR && t <= 12 * HOUR) return 950;
      break;
    case "spike":
      if (t > 14 * HOUR && t <= 14 * HOUR + 2 * MINUTE) return 970;
      break;
    case "flapping":
      if (t > 6 * HOUR && t <= 6 * HOUR + 10 * MINUTE) return 880;
      if (t > 6 * HOUR + 10 * MINUTE && t <= 9 * HOUR) {
        const inCycle = (t - (6 * HOUR + 10 * MINUTE)) % (15 * MINUTE);
        return inCycle > 0 && inCycle <= 5 * MINUTE ? 780 : 830;
      }
      break;
    case "trend": {
      const noise = Math.floor(unit(hostIdx, i) * 11) - 5; // [-5, 5]
      if (t <= 12 * HOUR) return 400 + noise;
      return Math.round(400 + (380 * (t - 12 * HOUR)) / (12 * HOUR)) + noise;
    }
  }
  const season = 120 * Math.sin((2 * Math.PI * (hours - 8)) / 24);
  const noise = Math.floor(unit(hostIdx, i) * 41) - 20; // [-20, 20]
  return Math.round(host.base + season) + noise;
}

/**
 * The value the classic CPU query returns for `instance` when evaluated at
 * `timeMs` on Prometheus 2.x (5 m lookback, range selectors closed on both
 * ends), or `null` when the host has no result then.
 *
 * @example
 * ```ts
 * import { DATASET_START_MS, expectedCpuUsage } from "./dataset.ts";
 * const eleven = DATASET_START_MS + 11 * 3_600_000;
 * console.log(expectedCpuUsage("ali-hz-db-01:9100", eleven)); // 95
 * ```
 */
export function expectedCpuUsage(instance: string, timeMs: number): number | null {
  const h = hostIndex(instance);
  const host = HOSTS[h];
  let i = Math.floor((timeMs - DATASET_START_MS) / SCRAPE_INTERVAL_MS);
  if (i > DATASET_SAMPLES - 1) i = DATASET_SAMPLES - 1;
  if (host.scenario === "stops" && i > STOP_INDEX) i = STOP_INDEX;
  if (i < 1 || !hasSample(host, i)) return null;
  const windowStart = timeMs - 5 * MINUTE;
  if (DATASET_START_MS + (i - 1) * SCRAPE_INTERVAL_MS < windowStart) return null;
  return usageTenths(h, i) / 10;
}

/**
 * The expected value of `up` for `instance` at `timeMs` (the last sample at or
 * before it within the 5 m lookback), or `null` outside the dataset.
 *
 * @example
 * ```ts
 * import { DATASET_START_MS, expectedUp } from "./dataset.ts";
 * console.log(expectedUp("az-weu-cache-01:9100", DATASET_START_MS + 20 * 3_600_000)); // 0
 * ```
 */
export function expectedUp(instance: string, timeMs: number): number | null {
  const host = HOSTS[hostIndex(instance)];
  const i = Math.floor((timeMs - DATASET_START_MS) / SCRAPE_INTERVAL_MS);
  if (i < 0 || i > DATASET_SAMPLES - 1 + 20) return null;
  const last = Math.min(i, DATASET_SAMPLES - 1);
  return host.scenario === "stops" && last > STOP_INDEX ? 0 : 1;
}

const MODES = ["idle", "iowait", "system", "user"] as const;

/** Counter values (integer ms) of one host at every scrape: [cpu][mode][i]. */
function counters(hostIdx: number): Float64Array[][] {
  const out = [0, 1].map(() => MODES.map(() => new Float64Array(DATASET_SAMPLES)));
  for (let cpu = 0; cpu < 2; cpu++) {
    // A host booted some days before the dataset starts.
    const boot = 86_400_000 * (3 + hostIdx);
    let idle = Math.round(boot * 0.6), user = Math.round(boot * 0.25);
    let system = Math.round(boot * 0.12), iowait = boot - idle - user - system;
    for (let i = 0; i < DATASET_SAMPLES; i++) {
      if (i > 0) {
        const u = usageTenths(hostIdx, i);
        const d = u >= 20 && u <= 980 ? 20 : 0;
        const busy = 15 * (cpu === 0 ? u + d : u - d); // ms busy in 15 s
        const userMs = Math.floor((busy * 7) / 10);
        const systemMs = Math.floor(busy / 4);
        idle += 15_000 - busy;
        user += userMs;
        system += systemMs;
        iowait += busy - userMs - systemMs;
      }
      out[cpu][0][i] = idle;
      out[cpu][1][i] = iowait;
      out[cpu][2][i] = system;
      out[cpu][3][i] = user;
    }
  }
  return out;
}

/** Output format of {@linkcode writeDataset}. */
export type DatasetFormat = "openmetrics" | "prometheus-import";

/** Options of {@linkcode writeDataset}. */
export interface WriteDatasetOptions {
  /**
   * `openmetrics` (timestamps in seconds, `# EOF`) for
   * `promtool tsdb create-blocks-from openmetrics`; `prometheus-import`
   * (timestamps in ms) for VictoriaMetrics' `/api/v1/import/prometheus`.
   * @default {"openmetrics"}
   */
  format?: DatasetFormat;
  /** Called after each host is written, for progress. */
  onHost?: (done: number, total: number) => void;
}

/**
 * Writes the whole dataset as exposition text to `writer`, series by series
 * with increasing timestamps.
 *
 * @example
 * ```ts ignore
 * import { writeDataset } from "./dataset.ts";
 * using file = await Deno.create("/tmp/data.om");
 * await writeDataset(file.writable.getWriter(), { format: "openmetrics" });
 * ```
 */
export async function writeDataset(
  writer: WritableStreamDefaultWriter<Uint8Array>,
  options: WriteDatasetOptions = {},
): Promise<void> {
  const format = options.format ?? "openmetrics";
  const enc = new TextEncoder();
  const ts = (i: number) => {
    const ms = DATASET_START_MS + i * SCRAPE_INTERVAL_MS;
    return format === "openmetrics" ? String(ms / 1000) : String(ms);
  };
  const labelsOf = (host: DatasetHost) =>
    `cloud="${host.cloud}",instance="${host.instance}",job="node",region="${host.region}"`;
  // OpenMetrics wants each metric family contiguous: all CPU series, then `up`.
  for (let h = 0; h < HOSTS.length; h++) {
    const host = HOSTS[h];
    const c = counters(h);
    for (let cpu = 0; cpu < 2; cpu++) {
      for (let m = 0; m < MODES.length; m++) {
        const lines: string[] = [];
        const series = `node_cpu_seconds_total{${labelsOf(host)},cpu="${cpu}",mode="${MODES[m]}"}`;
        for (let i = 0; i < DATASET_SAMPLES; i++) {
          if (!hasSample(host, i)) break;
          lines.push(`${series} ${(c[cpu][m][i] / 1000).toFixed(3)} ${ts(i)}\n`);
        }
        await writer.write(enc.encode(lines.join("")));
      }
    }
    options.onHost?.(h + 1, HOSTS.length);
  }
  for (const host of HOSTS) {
    const up: string[] = [];
    for (let i = 0; i < DATASET_SAMPLES; i++) {
      const v = host.scenario === "stops" && i > STOP_INDEX ? 0 : 1;
      up.push(`up{${labelsOf(host)}} ${v} ${ts(i)}\n`);
    }
    await writer.write(enc.encode(up.join("")));
  }
  if (format === "openmetrics") await writer.write(enc.encode("# EOF\n"));
}

/** One row of {@linkcode expectedCpuRange}: labels of the classic query's result, time, value. */
export interface ExpectedCpuRow {
  /** The host's `instance` label. */
  instance: string;
  /** Evaluation time, epoch ms. */
  timestamp: number;
  /** CPU usage in percent. */
  value: number;
}

/**
 * What `queryRange` of the classic CPU query (grouped by instance) returns
 * over `[startMs, endMs]` at `stepMs`: one row per host and step, hosts in
 * {@linkcode HOSTS} order, steps ascending, absent points skipped.
 *
 * @example
 * ```ts
 * import { DATASET_START_MS, expectedCpuRange } from "./dataset.ts";
 * const rows = expectedCpuRange(DATASET_START_MS + 3_600_000, DATASET_START_MS + 7_200_000, 300_000);
 * console.log(rows.length); // 12 hosts × 13 steps = 156
 * ```
 */
export function expectedCpuRange(startMs: number, endMs: number, stepMs: number): ExpectedCpuRow[] {
  if (!(stepMs > 0)) throw new RangeError(`Invalid step: ${stepMs} ms, expected a positive number`);
  const rows: ExpectedCpuRow[] = [];
  for (const host of HOSTS) {
    for (let t = startMs; t <= endMs; t += stepMs) {
      const value = expectedCpuUsage(host.instance, t);
      if (value !== null) rows.push({ instance: host.instance, timestamp: t, value });
    }
  }
  return rows;
}
