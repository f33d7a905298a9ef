/**
 * The deterministic synthetic dataset every test, benchmark and the demo use.
 *
 * Twelve hosts on Alibaba Cloud, Tencent Cloud and Azure report
 * node_exporter-shaped series every 15 s for 24 h from
 * {@linkcode DATASET_START_MS} (2026-11-01T00:00:00Z): `node_cpu_seconds_total`
 * counters (two CPUs, modes `idle`, `user`, `system`, `iowait`), `up`,
 * `node_memory_MemAvailable_bytes`, `node_memory_MemTotal_bytes`,
 * `node_filesystem_avail_bytes`, `node_filesystem_size_bytes`,
 * `node_filesystem_readonly` (0; see
 * {@linkcode datasetFilesystems}) and `node_uname_info`. CPU usage has a daily
 * seasonality and a little deterministic noise, plus scripted incidents:
 *
 * | scenario   | instance                | what happens (UTC, 2026-11-01)                                  |
 * | ---------- | ----------------------- | --------------------------------------------------------------- |
 * | memory     | `ali-bj-cache-01:9100`  | MemAvailable −0.2 % per scrape from 01:00, < 10 % from 01:50:15, 6.0 % 01:55–03:00 |
 * | iowait     | `az-weu-web-01:9100`    | 20.0 % iowait from 03:30 to 04:30 (CPU usage unchanged)         |
 * | flapping   | `az-eus-app-01:9100`    | 88.0 % 06:00–06:10, then 78 % 5 min / 83 % 10 min until 09:00   |
 * | sustained  | `ali-hz-db-01:9100`     | 95.0 % from 10:00 to 12:00                                      |
 * | spike      | `tc-gz-api-01:9100`     | 97.0 % from 14:00 to 14:02 only                                 |
 * | stops      | `az-weu-cache-01:9100`  | last node sample at 16:00; `up` is 0 afterwards                 |
 * | disk       | `tc-gz-web-01:9100`     | `/data` 40 % free at 17:00, −8 %/h, < 10 % from 20:45:15, 4 % at 21:30, then 60 % |
 * | trend      | `tc-sh-batch-01:9100`   | flat 40 % until 12:00, then a straight climb to 78 % at 24:00  |
 *
 * Usage is defined per 15 s scrape interval in tenths of a percent, and the
 * counters are integer milliseconds, so the classic query
 * `100 - (avg by(instance)(irate(node_cpu_seconds_total{mode="idle"}[5m])) * 100)`
 * returns exactly {@linkcode expectedCpuUsage} (up to float rounding, < 1e-6);
 * {@linkcode expectedMemory}, {@linkcode expectedFilesystem} and
 * {@linkcode expectedIowait} give the other series' exact answers.
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
export const DATASET_VERSION = "3";

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

/**
 * A scripted incident: the CPU scenarios of {@linkcode Scenario}, plus the
 * node_exporter incidents `memory` (MemAvailable runs out), `disk` (`/data`
 * fills up, then is cleaned up) and `iowait` (an hour of 20 % iowait).
 * The host of `stops` is also the one that goes down (`up` = 0).
 */
export type Incident = Exclude<Scenario, "normal"> | "memory" | "disk" | "iowait";

/** The instance of each scripted incident. */
export const SCENARIO_HOSTS: Readonly<Record<Incident, string>> = Object.freeze({
  sustained: "ali-hz-db-01:9100",
  spike: "tc-gz-api-01:9100",
  flapping: "az-eus-app-01:9100",
  trend: "tc-sh-batch-01:9100",
  stops: "az-weu-cache-01:9100",
  memory: "ali-bj-cache-01:9100",
  disk: "tc-gz-web-01:9100",
  iowait: "az-weu-web-01:9100",
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
        idle += 15_000 - busy;
        if (hostIdx === IOWAIT_HOST && inIowaitIncident(i)) {
          // Waiting on the disk is busy time (not idle), so CPU usage is unchanged.
          const rest = busy - IOWAIT_MS;
          const userMs = Math.floor((rest * 7) / 10);
          user += userMs;
          system += rest - userMs;
          iowait += IOWAIT_MS;
        } else {
          const userMs = Math.floor((busy * 7) / 10);
          const systemMs = Math.floor(busy / 4);
          user += userMs;
          system += systemMs;
          iowait += busy - userMs - systemMs;
        }
      }
      out[cpu][0][i] = idle;
      out[cpu][1][i] = iowait;
      out[cpu][2][i] = system;
      out[cpu][3][i] = user;
    }
  }
  return out;
}

const countersCache = new Map<number, Float64Array[][]>();
function cachedCounters(hostIdx: number): Float64Array[][] {
  let c = countersCache.get(hostIdx);
  if (!c) countersCache.set(hostIdx, c = counters(hostIdx));
  return c;
}

// --- node_exporter incidents -------------------------------------------------

/** Index of `az-weu-web-01:9100`, the host with an hour of 20 % iowait. */
const IOWAIT_HOST = 11;
/** Milliseconds of iowait per CPU per 15 s scrape during the incident: 20 %. */
const IOWAIT_MS = 3000;
/** Whether the scrape interval ending at index `i` lies in (03:30, 04:30]. */
function inIowaitIncident(i: number): boolean {
  const t = i * SCRAPE_INTERVAL_MS;
  return t > 3.5 * HOUR && t <= 4.5 * HOUR;
}

/** Index of `ali-bj-cache-01:9100`, the host that runs out of memory. */
const MEMORY_HOST = 3;
/** Index of `tc-gz-web-01:9100`, whose `/data` fills up. */
const DISK_HOST = 5;
const INDEX_PER_HOUR = HOUR / SCRAPE_INTERVAL_MS;

/** One filesystem of a dataset host, as node_exporter labels it. */
export interface DatasetFilesystem {
  /** The `mountpoint` label. */
  mountpoint: string;
  /** The `device` label. */
  device: string;
  /** The `fstype` label. */
  fstype: string;
}

const ROOT_FS: DatasetFilesystem = { mountpoint: "/", device: "/dev/vda1", fstype: "ext4" };
const EFI_FS: DatasetFilesystem = { mountpoint: "/boot/efi", device: "/dev/vda15", fstype: "vfat" };
const RUN_FS: DatasetFilesystem = { mountpoint: "/run", device: "tmpfs", fstype: "tmpfs" };
const DATA_FS: DatasetFilesystem = { mountpoint: "/data", device: "/dev/vdb", fstype: "xfs" };
/** Hosts with a `/data` volume: the databases, caches, the batch host and tc-gz-web-01. */
const DATA_HOSTS = new Set([1, 3, 5, 6, 10]);

/**
 * The filesystems of `instance`: `/` (ext4), `/boot/efi` (vfat) and `/run`
 * (tmpfs) everywhere, plus `/data` (xfs, `/dev/vdb`) on five hosts.
 *
 * @example
 * ```ts
 * import { datasetFilesystems } from "./dataset.ts";
 * console.log(datasetFilesystems("tc-gz-web-01:9100").map((f) => f.mountpoint));
 * // ["/", "/boot/efi", "/run", "/data"]
 * ```
 */
export function datasetFilesystems(instance: string): readonly DatasetFilesystem[] {
  const h = hostIndex(instance);
  return DATA_HOSTS.has(h) ? [ROOT_FS, EFI_FS, RUN_FS, DATA_FS] : [ROOT_FS, EFI_FS, RUN_FS];
}

/** Memory of host `h` in bytes: 8, 16 or 32 × 1,024,000 KiB (divisible by 1000). */
function memTotalBytes(h: number): number {
  const instance = HOSTS[h].instance;
  const kib = /-db-/.test(instance)
    ? 32_768_000
    : /-cache-|-batch-/.test(instance)
    ? 16_384_000
    : 8_192_000;
  return kib * 1024;
}

/** MemAvailable of host `h` at scrape `i`, in tenths of a percent of MemTotal. */
function memAvailableTenths(h: number, i: number): number {
  if (h === MEMORY_HOST && i > INDEX_PER_HOUR && i <= 3 * INDEX_PER_HOUR) {
    // A leak from 01:00: 0.2 % per scrape down to a floor of 6.0 % (01:55) until 03:00.
    return Math.max(60, 500 - 2 * (i - INDEX_PER_HOUR));
  }
  const hours = (i * SCRAPE_INTERVAL_MS) / HOUR;
  const season = 40 * Math.sin((2 * Math.PI * (hours - 8)) / 24);
  const noise = Math.floor(unit(h + 100, i) * 11) - 5; // [-5, 5]
  const offset = h === MEMORY_HOST ? 10 : (h * 37) % 200; // the leaking host sits at ~50 %
  return 450 + offset - Math.round(season) + noise;
}

/** Size of a filesystem in 4 KiB blocks (the first three divisible by 1000). */
function fsSizeBlocks(h: number, fs: DatasetFilesystem): number {
  switch (fs.mountpoint) {
    case "/":
      return 12_800_000; // 52.4 GB
    case "/boot/efi":
      return 26_000; // 106 MB
    case "/data":
      return 120_000_000; // 491.5 GB
    default: // /run: a tenth of the memory, as Debian sizes it
      return memTotalBytes(h) / 4096 / 10;
  }
}

/** Free blocks (`node_filesystem_avail_bytes` / 4096) of a filesystem at scrape `i`. */
function fsAvailBlocks(h: number, fs: DatasetFilesystem, i: number): number {
  const size = fsSizeBlocks(h, fs);
  switch (fs.mountpoint) {
    case "/":
      return (size / 1000) * (550 + ((h * 53) % 300));
    case "/boot/efi":
      return (size / 1000) * 940;
    case "/data":
      if (h === DISK_HOST) {
        // 40.0 % free until 17:00, then 40,000 blocks (163.84 MB, 0.0333 %) less per
        // scrape down to 4.0 % at 21:30; cleaned up at 21:30:15: 60.0 % free.
        const start = 17 * INDEX_PER_HOUR, end = 21.5 * INDEX_PER_HOUR;
        if (i <= start) return 48_000_000;
        if (i <= end) return 48_000_000 - 40_000 * (i - start);
        return 72_000_000;
      }
      return (size / 1000) * 550;
    default:
      return size - 305; // /run: 1.25 MB used
  }
}

/** The host at index `h` has node_exporter samples at scrape `i`. */
function hasNodeSample(h: number, i: number): boolean {
  return hasSample(HOSTS[h], i);
}

/** The scrape index `instant` sees at `timeMs` (5 m lookback), or -1. */
function lookback(h: number, timeMs: number): number {
  let i = Math.floor((timeMs - DATASET_START_MS) / SCRAPE_INTERVAL_MS);
  if (i < 0) return -1;
  if (i > DATASET_SAMPLES - 1) i = DATASET_SAMPLES - 1;
  if (HOSTS[h].scenario === "stops" && i > STOP_INDEX) i = STOP_INDEX;
  if (!hasNodeSample(h, i)) return -1;
  return DATASET_START_MS + i * SCRAPE_INTERVAL_MS < timeMs - 5 * MINUTE ? -1 : i;
}

/** Memory of a host as node_exporter reports it, in bytes. */
export interface ExpectedMemory {
  /** `node_memory_MemAvailable_bytes`. */
  available: number;
  /** `node_memory_MemTotal_bytes`. */
  total: number;
}

/**
 * The memory gauges of `instance` an instant query at `timeMs` returns
 * (5 m lookback), or `null` when there are none. `available / total * 100`
 * is a multiple of 0.1 exactly.
 *
 * @example
 * ```ts
 * import { DATASET_START_MS, expectedMemory } from "./dataset.ts";
 * const m = expectedMemory("ali-bj-cache-01:9100", DATASET_START_MS + 2.5 * 3_600_000)!;
 * console.log((m.available / m.total) * 100); // 6
 * ```
 */
export function expectedMemory(instance: string, timeMs: number): ExpectedMemory | null {
  const h = hostIndex(instance);
  const i = lookback(h, timeMs);
  if (i < 0) return null;
  const total = memTotalBytes(h);
  return { available: (total / 1000) * memAvailableTenths(h, i), total };
}

/** A filesystem's size and free space as node_exporter reports them, in bytes. */
export interface ExpectedFilesystem {
  /** `node_filesystem_avail_bytes`: free for unprivileged users. */
  avail: number;
  /** `node_filesystem_size_bytes`. */
  size: number;
}

/**
 * The filesystem gauges of `instance` at `mountpoint` an instant query at
 * `timeMs` returns (5 m lookback), or `null` when there are none.
 *
 * @example
 * ```ts
 * import { DATASET_START_MS, expectedFilesystem } from "./dataset.ts";
 * const fs = expectedFilesystem("tc-gz-web-01:9100", "/data", DATASET_START_MS + 21.5 * 3_600_000)!;
 * console.log((fs.avail / fs.size) * 100); // 4
 * ```
 */
export function expectedFilesystem(
  instance: string,
  mountpoint: string,
  timeMs: number,
): ExpectedFilesystem | null {
  const h = hostIndex(instance);
  const fs = datasetFilesystems(instance).find((f) => f.mountpoint === mountpoint);
  const i = lookback(h, timeMs);
  if (!fs || i < 0) return null;
  return { avail: fsAvailBlocks(h, fs, i) * 4096, size: fsSizeBlocks(h, fs) * 4096 };
}

/**
 * What `avg by(instance)(rate(node_cpu_seconds_total{mode="iowait"}[5m])) * 100`
 * returns for `instance` at `timeMs` on Prometheus 2.x (closed range,
 * extrapolated rate), or `null` when the host has fewer than two samples in
 * the window. Exactly 20 between 03:35 and 04:30 on `az-weu-web-01:9100`.
 *
 * @example
 * ```ts
 * import { DATASET_START_MS, expectedIowait } from "./dataset.ts";
 * console.log(expectedIowait("az-weu-web-01:9100", DATASET_START_MS + 4 * 3_600_000)); // 20
 * ```
 */
export function expectedIowait(instance: string, timeMs: number): number | null {
  const h = hostIndex(instance);
  const rangeStart = timeMs - 5 * MINUTE;
  let first = Math.ceil((rangeStart - DATASET_START_MS) / SCRAPE_INTERVAL_MS);
  let last = Math.floor((timeMs - DATASET_START_MS) / SCRAPE_INTERVAL_MS);
  if (first < 0) first = 0;
  if (last > DATASET_SAMPLES - 1) last = DATASET_SAMPLES - 1;
  if (HOSTS[h].scenario === "stops" && last > STOP_INDEX) last = STOP_INDEX;
  if (last - first < 1) return null;
  const c = cachedCounters(h);
  const firstT = (DATASET_START_MS + first * SCRAPE_INTERVAL_MS) / 1000;
  const lastT = (DATASET_START_MS + last * SCRAPE_INTERVAL_MS) / 1000;
  let sum = 0;
  for (let cpu = 0; cpu < 2; cpu++) {
    // Prometheus' extrapolatedRate (promql/functions.go, v2.42), counter without resets.
    const v0 = c[cpu][1][first] / 1000, v1 = c[cpu][1][last] / 1000;
    const sampled = lastT - firstT;
    const avgStep = sampled / (last - first);
    let toStart = firstT - rangeStart / 1000;
    const toEnd = timeMs / 1000 - lastT;
    const delta = v1 - v0;
    if (delta > 0 && v0 >= 0) toStart = Math.min(toStart, sampled * (v0 / delta));
    let interval = sampled;
    interval += toStart < avgStep * 1.1 ? toStart : avgStep / 2;
    interval += toEnd < avgStep * 1.1 ? toEnd : avgStep / 2;
    sum += (delta * (interval / sampled)) / 300;
  }
  return (sum / 2) * 100;
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
  await writeNodeFamilies(writer, labelsOf, ts);
  if (format === "openmetrics") await writer.write(enc.encode("# EOF\n"));
}

/** Kernel and OS labels of `node_uname_info`, by cloud. */
const UNAME: Readonly<Record<string, { release: string; version: string }>> = {
  aliyun: { release: "5.10.134-16.al8.x86_64", version: "#1 SMP Thu Dec 7 14:11:24 CST 2023" },
  tencent: {
    release: "5.15.0-126-generic",
    version: "#136-Ubuntu SMP Wed Nov 6 10:38:22 UTC 2024",
  },
  azure: {
    release: "6.8.0-1017-azure",
    version: "#20~22.04.1-Ubuntu SMP Tue Oct 22 16:06:40 UTC 2024",
  },
};

/** Writes the memory, filesystem and uname families, each contiguous (OpenMetrics). */
async function writeNodeFamilies(
  writer: WritableStreamDefaultWriter<Uint8Array>,
  labelsOf: (host: DatasetHost) => string,
  ts: (i: number) => string,
): Promise<void> {
  const enc = new TextEncoder();
  const series = async (name: string, value: (i: number) => number, h: number) => {
    const lines: string[] = [];
    for (let i = 0; i < DATASET_SAMPLES && hasNodeSample(h, i); i++) {
      lines.push(`${name} ${value(i)} ${ts(i)}\n`);
    }
    await writer.write(enc.encode(lines.join("")));
  };
  for (let h = 0; h < HOSTS.length; h++) {
    const total = memTotalBytes(h);
    await series(
      `node_memory_MemAvailable_bytes{${labelsOf(HOSTS[h])}}`,
      (i) => (total / 1000) * memAvailableTenths(h, i),
      h,
    );
  }
  for (let h = 0; h < HOSTS.length; h++) {
    const total = memTotalBytes(h);
    await series(`node_memory_MemTotal_bytes{${labelsOf(HOSTS[h])}}`, () => total, h);
  }
  const fsLabels = (h: number, fs: DatasetFilesystem) =>
    `${
      labelsOf(HOSTS[h])
    },device="${fs.device}",fstype="${fs.fstype}",mountpoint="${fs.mountpoint}"`;
  for (let h = 0; h < HOSTS.length; h++) {
    for (const fs of datasetFilesystems(HOSTS[h].instance)) {
      await series(
        `node_filesystem_avail_bytes{${fsLabels(h, fs)}}`,
        (i) => fsAvailBlocks(h, fs, i) * 4096,
        h,
      );
    }
  }
  for (let h = 0; h < HOSTS.length; h++) {
    for (const fs of datasetFilesystems(HOSTS[h].instance)) {
      const size = fsSizeBlocks(h, fs) * 4096;
      await series(`node_filesystem_size_bytes{${fsLabels(h, fs)}}`, () => size, h);
    }
  }
  for (let h = 0; h < HOSTS.length; h++) {
    for (const fs of datasetFilesystems(HOSTS[h].instance)) {
      await series(`node_filesystem_readonly{${fsLabels(h, fs)}}`, () => 0, h);
    }
  }
  for (let h = 0; h < HOSTS.length; h++) {
    const host = HOSTS[h];
    const u = UNAME[host.cloud];
    const labels = `${labelsOf(host)},domainname="(none)",machine="x86_64",nodename="${
      host.instance.replace(/:\d+$/, "")
    }",release="${u.release}",sysname="Linux",version="${u.version}"`;
    await series(`node_uname_info{${labels}}`, () => 1, h);
  }
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
