/**
 * `deno task demo`: the one-command tour. Installs what is missing (Debian
 * packages when root, otherwise prints the command), starts Prometheus on a
 * free loopback port with the synthetic dataset plus this machine's live
 * node_exporter, runs the five notebooks headless into `out/` (executed
 * notebooks, an HTML report each, charts as SVG and PNG under `out/charts/`),
 * sends alerts to Slack when `SLACK_WEBHOOK_URL` is set (otherwise writes them
 * to `out/alerts/` and prints them), prints a summary and stops every process
 * it started, also on Ctrl-C.
 *
 * Usage: `deno task demo [--keep] [--out DIR]`
 *
 * - `--keep`: leave Prometheus running after the notebooks (until Ctrl-C) and
 *   print how to open Jupyter against it.
 * - `--out DIR`: where the results go (default `out/` under the repository).
 *
 * @module
 */

import { parseArgs } from "node:util";
import {
  AlertState,
  DryRunSink,
  formatNotification,
  loadConfig,
  Logger,
  Monitor,
  type Notification,
  PrometheusClient,
} from "../lib/mod.ts";
import { runNotebook, type RunProgress } from "../lib/notebook/runner.ts";
import { DATASET_START_MS } from "../dev/dataset.ts";
import { installPackages } from "./setup.ts";
import { findOnPath, isEphemeralDeno } from "./kernel.ts";
import { type PrometheusService, REPO_ROOT, startPrometheus, which } from "../dev/stack.ts";

/** The notebooks the demo runs, in order (names under `notebooks/`, without `.ipynb`). */
export const NOTEBOOKS: readonly string[] = Object.freeze([
  "01_query",
  "02_chart",
  "03_alert",
  "04_anomaly",
  "05_rules",
]);

/** Where the demo (and the notebook tests) point each notebook. */
export interface NotebookTargets {
  /** The Prometheus base URL. */
  prometheusUrl: string;
  /** The results folder (charts go to `<outDir>/charts`, alerts to `<outDir>/alerts`). */
  outDir: string;
}

/** Whether a terminal's `deno` works (on PATH, and not a deno in npx's cache). */
function denoOnPath(): boolean {
  const deno = findOnPath("deno");
  return deno !== undefined && !isEphemeralDeno(deno);
}

/**
 * What `deno task demo --keep` prints once Prometheus keeps running: how to
 * open the notebooks against it, with commands that work here (`deno` on
 * PATH first when it is not, the kernel from `deno task kernel`, the classic
 * Notebook Debian ships, JupyterLab only where installed).
 *
 * @example
 * ```ts
 * import { keepMessage } from "./demo.ts";
 * console.log(keepMessage("http://127.0.0.1:9090", { denoOnPath: false, jupyterLab: false }));
 * ```
 */
export function keepMessage(
  url: string,
  options: { denoOnPath: boolean; jupyterLab: boolean },
): string {
  return [
    `\nPrometheus keeps running at ${url} (the dataset covers 2026-11-01).`,
    "Open the notebooks against it from the repository root, in another terminal:",
    ...(options.denoOnPath ? [] : ["  npm install -g deno@2.9.6        # once: puts deno on PATH"]),
    "  deno task kernel                 # once: installs the Deno kernel for Jupyter",
    `  PROMETHEUS_URL=${url} jupyter notebook` +
    (options.jupyterLab ? "   # or: jupyter lab" : ""),
    'Set eval_time in a notebook\'s parameters cell to a dataset time, e.g. "2026-11-01T12:00:00Z".',
    "Press Ctrl-C here to stop Prometheus.",
  ].join("\n");
}

/**
 * The parameters each notebook runs with against the synthetic dataset: the
 * dataset's interesting times (flapping 06:00–09:00, sustained 10:00–12:00,
 * spike 14:00–14:02, stop at 16:00, trend from 12:00; `03_alert` replays the
 * whole day, `05_rules` backtests the shipped rule file over it) and the
 * output folders.
 *
 * @example Parameters of the alert notebook
 * ```ts
 * import { notebookParameters } from "./demo.ts";
 * const p = notebookParameters("03_alert", { prometheusUrl: "http://127.0.0.1:9090", outDir: "/tmp/out" });
 * console.log(p.eval_time, p.range, p.catch_up); // 2026-11-02T00:00:00Z 24h true
 * ```
 */
export function notebookParameters(
  name: string,
  targets: NotebookTargets,
): Record<string, unknown> {
  const at = (hours: number) =>
    new Date(DATASET_START_MS + hours * 3_600_000).toISOString().replace(".000Z", "Z");
  const common = { prometheus_url: targets.prometheusUrl };
  const charts = `${targets.outDir}/charts`;
  switch (name) {
    case "01_query":
      return { ...common, eval_time: at(16.5), range: "6h" };
    case "02_chart":
      return { ...common, eval_time: at(12), range: "12h", out_dir: charts };
    case "03_alert":
      // Replay the whole day as a 5-minute timer would have run: the flapping host
      // (one firing 06:10, one resolved 09:05), the sustained host (10:10, 12:05), the
      // spike host (nothing) and the trend warning (19:05), through the shared rules.
      return {
        ...common,
        eval_time: at(24),
        range: "24h",
        catch_up: true,
        state_path: `${targets.outDir}/alerts/state.json`,
        alerts_dir: `${targets.outDir}/alerts`,
      };
    case "04_anomaly":
      return { ...common, eval_time: at(20), range: "20h", out_dir: charts };
    case "05_rules":
      // Backtest rules/node.yml over the dataset's 24 h: each rule's scripted incident.
      // An absolute rules_path, so a copy of the notebook elsewhere (nbconvert's test) finds it.
      return {
        ...common,
        rules_path: new URL("../rules/node.yml", import.meta.url).pathname,
        start: at(0),
        end: at(24),
      };
    default:
      throw new RangeError(`Unknown notebook: ${name}`);
  }
}

function elapsed(t0: number): string {
  return `${((performance.now() - t0) / 1000).toFixed(1).padStart(5)}s`;
}

async function listFiles(dir: string, suffix: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      if (e.isFile && e.name.endsWith(suffix)) out.push(`${dir}/${e.name}`);
    }
  } catch { /* no folder */ }
  return out.sort();
}

function relative(path: string): string {
  const cwd = Deno.cwd();
  return path.startsWith(`${cwd}/`) ? path.slice(cwd.length + 1) : path;
}

/**
 * The monitor over the dataset's day: `rules/node.yml` replayed at 5-minute
 * steps (dry run, state in `<outDir>/monitor/`), as `deno task monitor
 * --replay-start … --replay-step 5m` would. Returns one line per alert
 * episode, e.g. `HostOutOfMemory ali-bj-cache-01:9100 02:00–03:05`.
 */
export async function monitorDay(
  prometheusUrl: string,
  outDir: string,
  signal?: AbortSignal,
): Promise<string[]> {
  await Deno.remove(`${outDir}/monitor`, { recursive: true }).catch(() => {});
  await Deno.mkdir(`${outDir}/monitor`, { recursive: true });
  const start = new Date(DATASET_START_MS + 5 * 60_000).toISOString();
  const end = new Date(DATASET_START_MS + 24 * 3_600_000 - 5 * 60_000).toISOString();
  const config = loadConfig({
    env: {},
    flags: {
      prometheusUrl,
      state: `${outDir}/monitor/state.json`,
      replayStart: start,
      replayEnd: end,
      replayStep: "5m",
      interval: "1ms",
    },
  });
  const logger = new Logger({ stdout: false, file: `${outDir}/monitor/monitor.log` });
  const monitor = await Monitor.open(config, {
    prometheus: new PrometheusClient({ url: prometheusUrl }),
    sinks: [new DryRunSink({ write: () => {} })],
    logger,
  });
  const open = new Map<string, string>();
  const episodes: string[] = [];
  try {
    while (!monitor.replayDone && !signal?.aborted) {
      const r = await monitor.runEvaluation({ signal });
      const hhmm = r.evaluatedAt.slice(11, 16);
      for (const t of r.transitions) {
        const l = t.alert.labels;
        const name = `${l.alertname} ${l.instance ?? l.rule ?? ""}`.trim();
        if (t.kind === "firing") open.set(t.alert.fingerprint, `${name} ${hhmm}`);
        if (t.kind === "resolved") {
          episodes.push(`${open.get(t.alert.fingerprint) ?? `${name} ?`}–${hhmm}`);
          open.delete(t.alert.fingerprint);
        }
      }
    }
  } finally {
    logger.close();
  }
  episodes.push(...[...open.values()].map((e) => `${e}–(firing)`));
  return episodes.sort((a, b) =>
    a.slice(a.lastIndexOf(" ")).localeCompare(b.slice(b.lastIndexOf(" ")))
  );
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      keep: { type: "boolean", default: false },
      out: { type: "string", default: `${REPO_ROOT}/out` },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log("Usage: deno task demo [--keep] [--out DIR]");
    return 0;
  }
  const t0 = performance.now();
  const log = (msg: string) => console.log(`[${elapsed(t0)}] ${msg}`);
  const outDir = values.out.startsWith("/") ? values.out : `${Deno.cwd()}/${values.out}`;

  log("checking dependencies");
  const missing = await installPackages((msg) => log(msg));
  const needed = ["prometheus", "promtool"].filter((b) => which(b) === null);
  if (needed.length > 0) {
    console.error(`Cannot run the demo: ${needed.join(", ")} missing (see the command above)`);
    return 1;
  }
  if (missing.length > 0) log(`continuing without: ${missing.join(", ")}`);

  let prom: PrometheusService | undefined;
  const abort = new AbortController();
  let interrupted = 0;
  const onSignal = (code: number) => () => {
    if (interrupted) return;
    interrupted = code;
    console.log("\nstopping (interrupted)");
    abort.abort(new Error("Interrupted"));
  };
  const handlers: [Deno.Signal, () => void][] = [
    ["SIGINT", onSignal(130)],
    ["SIGTERM", onSignal(143)],
  ];
  for (const [sig, fn] of handlers) Deno.addSignalListener(sig, fn);

  try {
    const live = which("prometheus-node-exporter") !== null;
    log(
      `starting Prometheus with the synthetic dataset${
        live ? " and this machine's node_exporter" : ""
      }`,
    );
    prom = await startPrometheus({ dataset: true, nodeExporter: live, onProgress: (m) => log(m) });
    log(`Prometheus ready at ${prom.url}`);
    if (abort.signal.aborted) return interrupted;

    // Each run replays the dataset: start from a clean alert state.
    await Deno.remove(`${outDir}/alerts`, { recursive: true }).catch(() => {});
    await Deno.mkdir(`${outDir}/charts`, { recursive: true });
    const slack = Deno.env.get("SLACK_WEBHOOK_URL") !== undefined;
    log(
      slack ? "alerts go to Slack (SLACK_WEBHOOK_URL is set)" : "dry run: alerts go to out/alerts/",
    );

    const tty = Deno.stdout.isTerminal();
    const status = (text: string) =>
      Deno.stdout.writeSync(new TextEncoder().encode(`\r\x1b[2K${text}`));
    const startedAt = Date.now();
    for (const name of NOTEBOOKS) {
      const started = performance.now();
      const onProgress = (e: RunProgress) => {
        if (e.type === "cell-start" && tty) {
          status(`[${elapsed(t0)}] ${name}: cell ${e.n}/${e.total} ${e.firstLine.slice(0, 50)}`);
        }
      };
      const result = await runNotebook(`${REPO_ROOT}/notebooks/${name}.ipynb`, {
        output: `${outDir}/${name}.ipynb`,
        html: `${outDir}/${name}.html`,
        parameters: notebookParameters(name, { prometheusUrl: prom.url, outDir }),
        env: { PROMETHEUS_URL: prom.url },
        // Per cell; 05_rules' backtest cell replays 1,441 evaluations of the trend detector.
        timeout: name === "05_rules" ? 300_000 : 120_000,
        signal: abort.signal,
        onProgress,
      });
      if (tty) status("");
      log(
        `${name}: ${result.executed} cells in ${
          ((performance.now() - started) / 1000).toFixed(1)
        } s → ${relative(result.output)}, ${relative(result.html!)}`,
      );
    }

    log("monitor: rules/node.yml over the dataset's day (5 m replay, dry run)");
    const started = performance.now();
    const episodes = await monitorDay(prom.url, outDir, abort.signal);
    if (abort.signal.aborted) return interrupted;
    log(
      `monitor: ${episodes.length} alerts in ${
        ((performance.now() - started) / 1000).toFixed(1)
      } s`,
    );

    // Summary.
    const client = new PrometheusClient({ url: prom.url });
    const up = await client.queryFrame('up{job="node"}', {
      time: new Date(DATASET_START_MS + 12 * 3_600_000),
    });
    const hosts = up.getColumn("instance").toArray() as string[];
    const clouds = [...new Set(up.getColumn("cloud").toArray() as string[])].sort();
    const liveHosts = live ? (await client.queryFrame('up{job="node",cloud="local"}')).height : 0;
    const state = await AlertState.load(`${outDir}/alerts/state.json`);
    const records = state.records();
    console.log("\nSummary");
    console.log(
      `  hosts:   ${hosts.length} in the dataset (${clouds.join(", ")})` +
        (live ? ` + ${liveHosts} live (this machine's node_exporter)` : ""),
    );
    console.log(
      `  alerts:  ${records.length} fired: ${
        records.map((r) => `${r.labels.alertname} ${r.labels.instance} (${r.status})`).join(", ") ||
        "none"
      }`,
    );
    if (!slack) {
      const files = await listFiles(`${outDir}/alerts`, ".json");
      const notes = files.filter((f) => !/state(\.outbox)?\.json$/.test(f));
      console.log(`  dry run: ${notes.length} notification(s) in ${relative(`${outDir}/alerts`)}/`);
      for (const f of notes) {
        const n = JSON.parse(await Deno.readTextFile(f)) as Notification;
        console.log(formatNotification(n).replace(/^/gm, "    "));
      }
    }
    console.log(`  monitor: rules/node.yml, 5 m replay (${relative(`${outDir}/monitor`)}/):`);
    for (const e of episodes) console.log(`    ${e}`);
    const charts = [];
    for (const f of await listFiles(`${outDir}/charts`, "")) {
      if (((await Deno.stat(f)).mtime?.getTime() ?? 0) >= startedAt - 1000) charts.push(f);
    }
    console.log(
      `  charts:  ${charts.length} written to ${relative(`${outDir}/charts`)}/ (SVG and PNG)`,
    );
    console.log(
      `  reports: ${NOTEBOOKS.map((n) => relative(`${outDir}/${n}.html`)).join(", ")}`,
    );
    console.log(`  done in ${elapsed(t0).trim()}`);

    if (values.keep) {
      console.log(
        keepMessage(prom.url, {
          denoOnPath: denoOnPath(),
          jupyterLab: findOnPath("jupyter-lab") !== undefined,
        }),
      );
      await new Promise<void>((resolve) => {
        if (abort.signal.aborted) resolve();
        abort.signal.addEventListener("abort", () => resolve(), { once: true });
      });
    }
    return interrupted;
  } catch (error) {
    if (abort.signal.aborted) return interrupted || 130;
    console.error(`\nDemo failed: ${(error as Error).message}`);
    return 1;
  } finally {
    if (prom) {
      log("stopping Prometheus");
      await prom.stop();
    }
    for (const [sig, fn] of handlers) Deno.removeSignalListener(sig, fn);
  }
}

if (import.meta.main) {
  Deno.exit(await main());
}
