/**
 * Real Prometheus & co. for the tests and the demo: Prometheus (with the
 * synthetic dataset backfilled), node_exporter, VictoriaMetrics and
 * Alertmanager, each started from its Debian package on a free loopback port
 * with a temporary data directory, and stopped again.
 *
 * @example
 * ```ts ignore
 * import { startPrometheus } from "./stack.ts";
 * await using prom = await startPrometheus();
 * console.log(prom.url); // http://127.0.0.1:PORT
 * ```
 *
 * @module
 */

import { DATASET_VERSION, writeDataset } from "./dataset.ts";
import { delay } from "../lib/_internal/delay.ts";
import { writeFileAtomic } from "../lib/_internal/fs.ts";

/** A running server; stopping is idempotent. */
export interface Service extends AsyncDisposable {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** The port it listens on. */
  port: number;
  /** Its temporary directory (data, config, log). */
  dir: string;
  /** The child process id. */
  pid: number;
  /** Stops the process (SIGTERM, then SIGKILL after 5 s) and removes its directory. */
  stop(): Promise<void>;
}

/** Which Debian package provides each binary the stack uses. */
export const PACKAGES: Readonly<Record<string, string>> = Object.freeze({
  prometheus: "prometheus",
  promtool: "prometheus",
  "prometheus-node-exporter": "prometheus-node-exporter",
  "prometheus-alertmanager": "prometheus-alertmanager",
  "victoria-metrics": "victoria-metrics",
  jupyter: "jupyter-notebook jupyter-nbconvert",
  chromium: "chromium",
});

/** The repository root (this file lives in `dev/`). */
export const REPO_ROOT: string = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/** Finds `name` on PATH (and in /usr/sbin, /usr/bin), or returns null. */
export function which(name: string): string | null {
  const dirs = (Deno.env.get("PATH") ?? "").split(":").concat(["/usr/bin", "/usr/sbin", "/bin"]);
  for (const dir of dirs) {
    if (!dir) continue;
    try {
      const p = `${dir}/${name}`;
      const st = Deno.statSync(p);
      if (st.isFile && (st.mode ?? 0o111) & 0o111) return p;
    } catch { /* not here */ }
  }
  return null;
}

/**
 * The test gate for real servers. Returns `null` when every binary is present
 * and a reason string when some are missing; with `CI=true`, missing binaries
 * throw instead, since CI must run the integration tests.
 *
 * @example
 * ```ts ignore
 * const missing = missingBinaries(["prometheus", "promtool"]);
 * Deno.test({ name: "real Prometheus", ignore: missing !== null, fn: async () => {} });
 * ```
 */
export function missingBinaries(names: string[]): string | null {
  const missing = names.filter((n) => which(n) === null);
  if (missing.length === 0) return null;
  const pkgs = [...new Set(missing.map((n) => PACKAGES[n] ?? n))].join(" ");
  const reason = `Missing ${missing.join(", ")}: install with ` +
    `\`apt-get update && apt-get install -y ${pkgs}\` (or run \`deno task setup\` as root)`;
  if (Deno.env.get("CI") === "true") throw new Error(reason);
  console.warn(`skipping: ${reason}`);
  return reason;
}

/** Returns a port that was free a moment ago on 127.0.0.1. */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

async function tail(path: string, lines = 20): Promise<string> {
  try {
    return (await Deno.readTextFile(path)).trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

interface SpawnOptions {
  dir: string;
  port: number;
  readyPath: string;
  timeoutMs?: number;
  name: string;
}

async function spawnService(bin: string, args: string[], o: SpawnOptions): Promise<Service> {
  const path = which(bin);
  if (!path) {
    throw new Error(`${bin} is not installed: run \`apt-get install -y ${PACKAGES[bin] ?? bin}\``);
  }
  const logPath = `${o.dir}/${o.name}.log`;
  const log = await Deno.open(logPath, { write: true, create: true, append: true });
  const child = new Deno.Command(path, {
    args,
    cwd: o.dir,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // Copy both streams to the log file without holding the event loop open.
  const pump = Promise.all([child.stdout, child.stderr].map(async (s) => {
    for await (const chunk of s) await log.write(chunk).catch(() => {});
  })).finally(() => log.close());
  child.ref();
  let stopped = false;
  const url = `http://127.0.0.1:${o.port}`;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
    const timer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
    }, 5000);
    await child.status;
    clearTimeout(timer);
    await pump.catch(() => {});
    await Deno.remove(o.dir, { recursive: true }).catch(() => {});
  };
  const deadline = Date.now() + (o.timeoutMs ?? 30_000);
  let exited = false;
  child.status.then(() => exited = true);
  while (true) {
    if (exited) {
      const msg = await tail(logPath);
      await stop();
      throw new Error(`${o.name} exited during start-up:\n${msg}`);
    }
    try {
      const res = await fetch(url + o.readyPath);
      await res.body?.cancel();
      if (res.ok) break;
    } catch { /* not yet listening */ }
    if (Date.now() > deadline) {
      const msg = await tail(logPath);
      await stop();
      throw new Error(`${o.name} was not ready within ${o.timeoutMs ?? 30_000} ms:\n${msg}`);
    }
    await delay(100);
  }
  return { url, port: o.port, dir: o.dir, pid: child.pid, stop, [Symbol.asyncDispose]: stop };
}

const cacheDir = `${REPO_ROOT}/.cache/dataset-v${DATASET_VERSION}`;

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Builds (once, cached under `.cache/`) the dataset's TSDB blocks with
 * promtool and the VictoriaMetrics import file; returns their paths.
 *
 * @example
 * ```ts ignore
 * const { blocks, importFile } = await prepareDataset();
 * ```
 */
export async function prepareDataset(
  options: { onProgress?: (msg: string) => void } = {},
): Promise<{ blocks: string; importFile: string }> {
  const blocks = `${cacheDir}/blocks`;
  const importFile = `${cacheDir}/import.prom`;
  await Deno.mkdir(cacheDir, { recursive: true });
  if (!(await exists(blocks))) {
    options.onProgress?.("generating the synthetic dataset (24 h × 12 hosts)");
    const om = `${cacheDir}/data.${crypto.randomUUID()}.om`;
    await writeFileAtomic(om, (w) => writeDataset(w, { format: "openmetrics" }));
    const tmpBlocks = `${cacheDir}/blocks.${crypto.randomUUID()}.tmp`;
    await Deno.mkdir(tmpBlocks);
    const promtool = which("promtool");
    if (!promtool) {
      throw new Error("promtool is not installed: run `apt-get install -y prometheus`");
    }
    const out = await new Deno.Command(promtool, {
      args: [
        "tsdb",
        "create-blocks-from",
        "openmetrics",
        "--max-block-duration=24h",
        om,
        tmpBlocks,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    await Deno.remove(om).catch(() => {});
    if (!out.success) {
      await Deno.remove(tmpBlocks, { recursive: true }).catch(() => {});
      throw new Error(`promtool failed: ${new TextDecoder().decode(out.stderr).slice(0, 2000)}`);
    }
    try {
      await Deno.rename(tmpBlocks, blocks);
    } catch (e) {
      // Another process won the race: its blocks are identical.
      await Deno.remove(tmpBlocks, { recursive: true }).catch(() => {});
      if (!(await exists(blocks))) throw e;
    }
  }
  if (!(await exists(importFile))) {
    await writeFileAtomic(importFile, (w) => writeDataset(w, { format: "prometheus-import" }));
  }
  return { blocks, importFile };
}

async function copyDir(from: string, to: string) {
  await Deno.mkdir(to, { recursive: true });
  for await (const e of Deno.readDir(from)) {
    if (e.isDirectory) await copyDir(`${from}/${e.name}`, `${to}/${e.name}`);
    else await Deno.copyFile(`${from}/${e.name}`, `${to}/${e.name}`);
  }
}

/** Writes TSDB blocks of `openMetrics` into `dataDir` with promtool. */
async function backfill(openMetrics: string, dataDir: string): Promise<void> {
  const promtool = which("promtool");
  if (!promtool) throw new Error("promtool is not installed: run `apt-get install -y prometheus`");
  await Deno.mkdir(dataDir, { recursive: true });
  const om = `${dataDir}/../backfill.om`;
  await Deno.writeTextFile(om, openMetrics);
  const out = await new Deno.Command(promtool, {
    args: ["tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=24h", om, dataDir],
    stdout: "piped",
    stderr: "piped",
  }).output();
  await Deno.remove(om).catch(() => {});
  if (!out.success) {
    throw new Error(`promtool failed: ${new TextDecoder().decode(out.stderr).slice(0, 2000)}`);
  }
}

/** Seconds of a Prometheus duration such as `15s`, `1m` or `500ms`. */
function parseSeconds(duration: string): number {
  const m = /^(\d+)(ms|s|m|h)$/.exec(duration);
  if (!m) throw new Error(`Invalid scrapeInterval: expected e.g. 15s or 1m, got ${duration}`);
  return Number(m[1]) * { ms: 0.001, s: 1, m: 60, h: 3600 }[m[2] as "ms" | "s" | "m" | "h"];
}

/**
 * Waits until `query` returns a series: a just-started Prometheus scrapes a
 * target first after a random offset within the scrape interval, and a
 * caller counting live hosts right after start-up would otherwise see none.
 */
async function firstScrape(url: string, query: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    try {
      const res = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query })}`);
      const body = await res.json();
      if ((body?.data?.result?.length ?? 0) > 0) return;
    } catch { /* not answering yet */ }
    if (Date.now() > deadline) {
      throw new Error(`No scrape of node_exporter within ${timeoutMs} ms (${query} is empty)`);
    }
    await delay(200);
  }
}

/** Options of {@linkcode startPrometheus}. */
export interface StartPrometheusOptions {
  /** Load the synthetic dataset. @default {true} */
  dataset?: boolean;
  /**
   * Backfill this OpenMetrics text (timestamps in seconds, ending `# EOF`)
   * with `promtool tsdb create-blocks-from openmetrics`, instead of the dataset.
   */
  openMetrics?: string;
  /**
   * Also start node_exporter and scrape it (labels cloud="local"); returns once
   * its first scrape has landed (`up{job="node"}` answers). @default {false}
   */
  nodeExporter?: boolean;
  /** Alertmanager base URLs to send this Prometheus' alerts to. */
  alertmanagers?: string[];
  /** Scrape and rule evaluation interval. @default {"15s"} */
  scrapeInterval?: string;
  /** Called with progress messages. */
  onProgress?: (msg: string) => void;
}

/** A running Prometheus, possibly with its node_exporter. */
export interface PrometheusService extends Service {
  /** The node_exporter it scrapes, when started with `nodeExporter: true`. */
  nodeExporter?: Service;
}

/** The alerting and recording rules the stack's Prometheus loads. */
export const STACK_RULES = `groups:
  - name: opsbook
    rules:
      - record: instance:cpu_usage:percent
        expr: 100 - (avg by(instance)(irate(node_cpu_seconds_total{mode="idle"}[5m])) * 100)
      - alert: HostHighCpu
        expr: instance:cpu_usage:percent > 80
        for: 5m
        labels:
          severity: warning
        annotations:
          summary: "CPU usage above 80% on {{ $labels.instance }}"
`;

/**
 * Starts Prometheus 2.x on a free loopback port, with the synthetic dataset
 * unless `dataset: false`, and waits for `/-/ready`.
 *
 * @example
 * ```ts ignore
 * await using prom = await startPrometheus({ nodeExporter: true });
 * ```
 */
export async function startPrometheus(
  options: StartPrometheusOptions = {},
): Promise<PrometheusService> {
  const dir = await Deno.makeTempDir({ prefix: "opsbook-prometheus-" });
  let nodeExporter: Service | undefined;
  try {
    if (options.openMetrics !== undefined) {
      await backfill(options.openMetrics, `${dir}/data`);
    } else if (options.dataset ?? true) {
      const { blocks } = await prepareDataset({ onProgress: options.onProgress });
      await copyDir(blocks, `${dir}/data`);
    }
    const interval = options.scrapeInterval ?? "15s";
    const port = freePort();
    const scrape = [
      `  - job_name: prometheus\n    static_configs:\n      - targets: ["127.0.0.1:${port}"]`,
    ];
    if (options.nodeExporter) {
      nodeExporter = await startNodeExporter();
      scrape.push(
        `  - job_name: node\n    static_configs:\n      - targets: ["127.0.0.1:${nodeExporter.port}"]\n` +
          `        labels: { cloud: "local", region: "loopback" }`,
      );
    }
    const am = options.alertmanagers?.length
      ? `alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: [${
        options.alertmanagers.map((u) => JSON.stringify(new URL(u).host)).join(", ")
      }]\n`
      : "";
    await Deno.writeTextFile(`${dir}/rules.yml`, STACK_RULES);
    await Deno.writeTextFile(
      `${dir}/prometheus.yml`,
      `global:\n  scrape_interval: ${interval}\n  evaluation_interval: ${interval}\n` +
        `rule_files: ["rules.yml"]\n${am}scrape_configs:\n${scrape.join("\n")}\n`,
    );
    const svc = await spawnService("prometheus", [
      `--config.file=${dir}/prometheus.yml`,
      `--storage.tsdb.path=${dir}/data`,
      `--storage.tsdb.retention.time=100y`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--web.enable-lifecycle`,
      `--web.enable-admin-api`,
    ], { dir, port, readyPath: "/-/ready", name: "prometheus" });
    const stopBoth = async () => {
      await svc.stop();
      await nodeExporter?.stop();
    };
    if (nodeExporter !== undefined) {
      try {
        await firstScrape(svc.url, 'up{job="node"}', 30_000 + 2 * parseSeconds(interval) * 1000);
      } catch (e) {
        await stopBoth();
        throw e;
      }
    }
    return { ...svc, nodeExporter, stop: stopBoth, [Symbol.asyncDispose]: stopBoth };
  } catch (e) {
    await nodeExporter?.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw e;
  }
}

/**
 * Starts this machine's node_exporter on a free loopback port.
 *
 * @example
 * ```ts ignore
 * await using node = await startNodeExporter();
 * ```
 */
export async function startNodeExporter(): Promise<Service> {
  const dir = await Deno.makeTempDir({ prefix: "opsbook-node-exporter-" });
  const port = freePort();
  return await spawnService("prometheus-node-exporter", [
    `--web.listen-address=127.0.0.1:${port}`,
    "--collector.disable-defaults",
    "--collector.cpu",
    "--collector.meminfo",
    "--collector.loadavg",
    "--collector.uname",
    "--collector.filesystem",
  ], { dir, port, readyPath: "/metrics", name: "node-exporter" });
}

/** Options of {@linkcode startVictoriaMetrics}. */
export interface StartVictoriaMetricsOptions {
  /** Import the synthetic dataset. @default {true} */
  dataset?: boolean;
}

/**
 * Starts single-node VictoriaMetrics on a free loopback port, imports the
 * dataset through `/api/v1/import/prometheus`, forces a flush and waits until
 * every host is queryable.
 *
 * @example
 * ```ts ignore
 * await using vm = await startVictoriaMetrics();
 * ```
 */
export async function startVictoriaMetrics(
  options: StartVictoriaMetricsOptions = {},
): Promise<Service> {
  const dir = await Deno.makeTempDir({ prefix: "opsbook-victoria-" });
  const port = freePort();
  const svc = await spawnService("victoria-metrics", [
    `-storageDataPath=${dir}/data`,
    `-httpListenAddr=127.0.0.1:${port}`,
    "-retentionPeriod=100y",
    "-search.disableCache",
    "-loggerLevel=WARN",
  ], { dir, port, readyPath: "/health", name: "victoria-metrics" });
  try {
    if (options.dataset ?? true) {
      const { importFile } = await prepareDataset();
      using file = await Deno.open(importFile);
      const res = await fetch(`${svc.url}/api/v1/import/prometheus`, {
        method: "POST",
        body: file.readable,
      });
      const body = await res.text();
      if (!res.ok) throw new Error(`VictoriaMetrics import failed: ${res.status} ${body}`);
      await (await fetch(`${svc.url}/internal/force_flush`)).body?.cancel();
      const { DATASET_END_MS, HOSTS } = await import("./dataset.ts");
      const deadline = Date.now() + 30_000;
      while (true) {
        const q = new URLSearchParams({
          query: 'count(count by(instance)(node_cpu_seconds_total{job="node"}[1d]))',
          time: String(DATASET_END_MS / 1000),
          nocache: "1",
        });
        const r = await fetch(`${svc.url}/api/v1/query?${q}`);
        const j = await r.json();
        if (Number(j?.data?.result?.[0]?.value?.[1]) === HOSTS.length) break;
        if (Date.now() > deadline) {
          throw new Error("VictoriaMetrics did not show the imported data");
        }
        await delay(200);
      }
    }
    return svc;
  } catch (e) {
    await svc.stop();
    throw e;
  }
}

/** Options of {@linkcode startAlertmanager}. */
export interface StartAlertmanagerOptions {
  /** The alertmanager.yml to use. @default a config routing everything to `webhookUrl` */
  config?: string;
  /** Where the default config's webhook receiver posts notifications. */
  webhookUrl?: string;
  /** Cluster addresses (host:port) of peers; enables clustering. */
  peers?: string[];
  /** Enable the cluster listener even without peers (for the first of a pair). @default {false} */
  cluster?: boolean;
  /** group_wait of the default route. @default {"1s"} */
  groupWait?: string;
}

/** A running Alertmanager. */
export interface AlertmanagerService extends Service {
  /** Its gossip address (host:port) when clustering is on. */
  clusterAddress?: string;
}

/**
 * Starts Alertmanager on a free loopback port, optionally clustered with peers.
 *
 * @example
 * ```ts ignore
 * await using a = await startAlertmanager({ cluster: true, webhookUrl: "http://127.0.0.1:9/" });
 * await using b = await startAlertmanager({ peers: [a.clusterAddress!], webhookUrl: "http://127.0.0.1:9/" });
 * ```
 */
export async function startAlertmanager(
  options: StartAlertmanagerOptions = {},
): Promise<AlertmanagerService> {
  const dir = await Deno.makeTempDir({ prefix: "opsbook-alertmanager-" });
  const port = freePort();
  const webhook = options.webhookUrl ?? "http://127.0.0.1:9/unused";
  const config = options.config ?? `route:
  receiver: webhook
  group_by: ["alertname"]
  group_wait: ${options.groupWait ?? "1s"}
  group_interval: 1s
  repeat_interval: 4h
receivers:
  - name: webhook
    webhook_configs:
      - url: ${JSON.stringify(webhook)}
        send_resolved: true
`;
  await Deno.writeTextFile(`${dir}/alertmanager.yml`, config);
  const clustered = options.cluster || (options.peers?.length ?? 0) > 0;
  const clusterPort = clustered ? freePort() : 0;
  const args = [
    `--config.file=${dir}/alertmanager.yml`,
    `--storage.path=${dir}/data`,
    `--web.listen-address=127.0.0.1:${port}`,
    clustered ? `--cluster.listen-address=127.0.0.1:${clusterPort}` : "--cluster.listen-address=",
  ];
  if (clustered) {
    args.push(`--cluster.advertise-address=127.0.0.1:${clusterPort}`);
    args.push("--cluster.peer-timeout=2s", "--cluster.gossip-interval=50ms");
    args.push("--cluster.pushpull-interval=1s", "--cluster.settle-timeout=2s");
  }
  for (const p of options.peers ?? []) args.push(`--cluster.peer=${p}`);
  const svc = await spawnService("prometheus-alertmanager", args, {
    dir,
    port,
    readyPath: "/-/ready",
    name: "alertmanager",
  });
  return { ...svc, clusterAddress: clustered ? `127.0.0.1:${clusterPort}` : undefined };
}

/** A temporary Jupyter home with the Deno kernelspec installed: see {@linkcode denoJupyterHome}. */
export interface JupyterHome {
  /** The temporary directory (data under `data/`, config, runtime). */
  dir: string;
  /** Environment for `jupyter …` commands: Debian's /usr/bin first, Jupyter paths inside `dir`. */
  env: Record<string, string>;
  /** Rewrites the kernelspec, e.g. to pass `PROMETHEUS_URL` to the kernel. */
  writeKernelspec(kernelEnv?: Record<string, string>): Promise<void>;
  /** Removes the directory. */
  remove(): Promise<void>;
}

/**
 * Creates a temporary Jupyter home whose only kernel is this Deno, started
 * as `deno jupyter --kernel --conn FILE` with `NO_COLOR=1` (what
 * `deno jupyter --install` writes, without touching the user's Jupyter).
 * Debian's Jupyter runs on /usr/bin/python3, so `env.PATH` puts /usr/bin first.
 *
 * @example
 * ```ts ignore
 * const home = await denoJupyterHome({ PROMETHEUS_URL: "http://127.0.0.1:9090" });
 * try {
 *   await new Deno.Command("jupyter", { args: ["kernelspec", "list"], env: home.env }).output();
 * } finally {
 *   await home.remove();
 * }
 * ```
 */
export async function denoJupyterHome(
  kernelEnv: Record<string, string> = {},
): Promise<JupyterHome> {
  const dir = await Deno.makeTempDir({ prefix: "opsbook-jupyter-" });
  const data = `${dir}/data`;
  const writeKernelspec = async (extra: Record<string, string> = kernelEnv) => {
    await Deno.mkdir(`${data}/kernels/deno`, { recursive: true });
    await Deno.writeTextFile(
      `${data}/kernels/deno/kernel.json`,
      JSON.stringify({
        argv: [Deno.execPath(), "jupyter", "--kernel", "--conn", "{connection_file}"],
        display_name: "Deno",
        language: "typescript",
        env: { NO_COLOR: "1", ...extra },
      }),
    );
  };
  await writeKernelspec();
  return {
    dir,
    env: {
      PATH: `/usr/bin:${Deno.env.get("PATH") ?? ""}`,
      JUPYTER_PATH: data,
      JUPYTER_DATA_DIR: data,
      JUPYTER_CONFIG_DIR: `${dir}/config`,
      JUPYTER_RUNTIME_DIR: `${dir}/runtime`,
      IPYTHONDIR: `${dir}/ipython`,
    },
    writeKernelspec,
    remove: () => Deno.remove(dir, { recursive: true }).catch(() => {}),
  };
}
