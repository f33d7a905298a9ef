/**
 * Runs a detector over the Numenta Anomaly Benchmark (NAB) and scores it with
 * NAB's own scorer.
 *
 * `deno task nab [--data DIR] [--out DIR] [--name NAME] [--detector KIND]`
 *
 * - `--data`: NAB's `data/` folder (`<corpus>/<file>.csv`, `timestamp,value`);
 *   default `../shared/nab/data` relative to the repository.
 * - `--out`: where the result files go, `OUT/<corpus>/<NAME>_<file>.csv` with
 *   the header `timestamp,value,anomaly_score,label` (one row per input row);
 *   default `out/nab/<NAME>`.
 * - `--name`: the detector's name in the file names and the score table;
 *   default `opsbook<Kind>` (e.g. `opsbookAnomaly`; no `_`, NAB splits file names
 *   there, and none of NAB's own detector names).
 * - `--detector`: which detector scores the points ({@linkcode NAB_DETECTORS}):
 *   - `anomaly`: {@linkcode anomalyScores} (the default);
 *   - `baseline`: {@linkcode baselineAnomalies} with its defaults (1 h
 *     window, tolerance 4): flagged points score |z|/(|z|+4), the rest 0;
 *   - `threshold`: {@linkcode overThreshold} as a fixed-threshold alert is
 *     used, with one threshold for all files expressed scale-free: each point
 *     scores the fraction of the series' earlier values it is strictly above
 *     (causal), so NAB's optimizer picks the best percentile;
 *   - `outliers`: {@linkcode fleetOutliers} with its defaults over each file
 *     (a fleet of one: it needs 3 series per timestamp, so it flags nothing
 *     on NAB's single-series files; listed so the table says so).
 * - `--fast`: instead of NAB's scorer, score in process with a port of its
 *   sweeper, optimizer and normalizer (`_nab_score.ts`; needs
 *   `labels/combined_windows.json` next to `data/`) and print the per-corpus
 *   figures too: a second per run, for iterating on a detector.
 * - `--scale K`, `--offset C`: score K·value + C instead (invariance checks;
 *   the result files keep the original values).
 *
 * When the scorer (`score` next to `data/`) is there, runs it and prints the
 * three profile scores next to NAB's published scoreboard (`scoreboard.json`).
 *
 * @module
 */

import { parseArgs } from "node:util";
import pl from "nodejs-polars";
import { anomalyScores, baselineAnomalies, fleetOutliers } from "../lib/mod.ts";
import { type FastNabResult, fastNabScores, type NabScoredFile } from "./_nab_score.ts";

const REPO_ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/** Detector kinds `deno task nab --detector` accepts. */
export const NAB_DETECTORS = ["anomaly", "baseline", "threshold", "outliers"] as const;
/** One of {@linkcode NAB_DETECTORS}. */
export type NabDetector = typeof NAB_DETECTORS[number];

/** Options of {@linkcode runNab}. */
export interface RunNabOptions {
  /** NAB's `data/` folder. */
  data: string;
  /** Output folder of the result files. */
  out: string;
  /** Detector name in the result file names. */
  name: string;
  /** The detector. */
  detector: NabDetector;
  /** Values are multiplied by this before scoring. @default {1} */
  scale?: number;
  /** Added to the values after `scale`. @default {0} */
  offset?: number;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

/** What {@linkcode runNab} wrote. */
export interface RunNabResult {
  /** Result files written, `<corpus>/<NAME>_<file>.csv`, sorted. */
  files: string[];
  /** Rows scored. */
  points: number;
  /** Time spent in the detector, ms. */
  detectMs: number;
  /** Each file's row times and scores, in the order of `files` (for {@linkcode fastNabScores}). */
  scored: NabScoredFile[];
}

/** Timestamps of NAB files ("2014-04-10 00:00:00", naive UTC) in epoch ms. */
function parseTime(text: string, where: string): number {
  const ms = Date.parse(`${text.trim().replace(" ", "T")}Z`);
  if (Number.isNaN(ms)) throw new SyntaxError(`Invalid timestamp in ${where}: ${text}`);
  return ms;
}

/** Scores of one file's values by `detector`. */
function detect(
  detector: NabDetector,
  ts: Float64Array,
  values: Float64Array,
): Float64Array {
  const frame = pl.DataFrame([
    pl.Series("timestamp", ts).cast(pl.Int64).cast(pl.Datetime("ms")),
    pl.Series("value", values),
  ]);
  if (detector === "anomaly") {
    return anomalyScores(frame).getColumn("score").toTypedArray() as Float64Array;
  }
  const out = new Float64Array(values.length);
  if (detector === "threshold") return thresholdScores(values, out);
  const at = new Map<number, number>();
  ts.forEach((t, i) => at.set(t, i));
  if (detector === "outliers") {
    const flagged = fleetOutliers(frame.withColumns(pl.lit("nab").alias("instance")));
    const fts = flagged.getColumn("timestamp").cast(pl.Int64).cast(pl.Float64).toArray();
    for (const t of fts as number[]) out[at.get(t)!] = 1;
    return out;
  }
  const tolerance = 4;
  const flagged = baselineAnomalies(frame, { tolerance });
  const fts = flagged.getColumn("timestamp").cast(pl.Int64).cast(pl.Float64).toArray() as number[];
  const fz = flagged.getColumn("score").toArray() as number[];
  for (let k = 0; k < fts.length; k++) {
    const z = Math.abs(fz[k]);
    out[at.get(fts[k])!] = Number.isFinite(z) ? z / (z + tolerance) : 1;
  }
  return out;
}

/**
 * `threshold` on NAB: for each point, the fraction of the series' earlier
 * finite values strictly below it (binary search in a sorted copy of them).
 */
function thresholdScores(values: Float64Array, out: Float64Array): Float64Array {
  const sorted = new Float64Array(values.length);
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (!Number.isFinite(x)) continue;
    let lo = 0, hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sorted[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    out[i] = n > 0 ? lo / n : 0;
    sorted.copyWithin(lo + 1, lo, n);
    sorted[lo] = x;
    n++;
  }
  return out;
}

/** The `<corpus>/<file>.csv` files under `data`, sorted. */
function dataFiles(data: string): string[] {
  const out: string[] = [];
  for (const c of Deno.readDirSync(data)) {
    if (!c.isDirectory) continue;
    for (const f of Deno.readDirSync(`${data}/${c.name}`)) {
      if (f.isFile && f.name.endsWith(".csv")) out.push(`${c.name}/${f.name}`);
    }
  }
  return out.sort();
}

/**
 * Runs `detector` over every `<corpus>/<file>.csv` under `data` and writes
 * NAB result files under `out`.
 *
 * @throws {Deno.errors.NotFound} when `data` does not exist.
 * @throws {SyntaxError} when a data file is not `timestamp,value` CSV.
 */
export function runNab(options: RunNabOptions): RunNabResult {
  const { data, out, name, detector } = options;
  const scale = options.scale ?? 1, offset = options.offset ?? 0;
  const log = options.log ?? (() => {});
  const files = dataFiles(data);
  const written: string[] = [];
  const scored: NabScoredFile[] = [];
  let points = 0, detectMs = 0;
  for (const [k, rel] of files.entries()) {
    const [corpus, file] = rel.split("/");
    const lines = Deno.readTextFileSync(`${data}/${rel}`).split(/\r?\n/);
    if (lines[0].trim() !== "timestamp,value") {
      throw new SyntaxError(`Invalid NAB file ${rel}: expected the header timestamp,value`);
    }
    const rows = lines.slice(1).filter((l) => l.trim() !== "");
    const ts = new Float64Array(rows.length), values = new Float64Array(rows.length);
    const raw: string[][] = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const cells = rows[i].split(",");
      if (cells.length !== 2) throw new SyntaxError(`Invalid NAB file ${rel}: row ${i + 2}`);
      raw[i] = cells;
      ts[i] = parseTime(cells[0], `${rel} row ${i + 2}`);
      values[i] = Number(cells[1]) * scale + offset;
    }
    const t0 = performance.now();
    const scores = detect(detector, ts, values);
    detectMs += performance.now() - t0;
    points += rows.length;
    const body = raw.map((cells, i) => `${cells[0]},${cells[1]},${scores[i]},0\n`).join("");
    Deno.mkdirSync(`${out}/${corpus}`, { recursive: true });
    const target = `${corpus}/${name}_${file}`;
    Deno.writeTextFileSync(`${out}/${target}`, `timestamp,value,anomaly_score,label\n${body}`);
    written.push(target);
    scored.push({ rel, times: ts, scores });
    log(`[${k + 1}/${files.length}] ${rel}: ${rows.length} points`);
  }
  return { files: written, points, detectMs, scored };
}

/** The three profile scores printed by NAB's `score` script, by profile name. */
export function parseScores(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/on '(\w+)' profile = (-?[\d.]+)/g)) out[m[1]] = Number(m[2]);
  return out;
}

const PROFILES = ["standard", "reward_low_FP_rate", "reward_low_FN_rate"];

/** The score table: this run, then the published scoreboard, best standard score first. */
export function scoreTable(
  name: string,
  scores: Record<string, number>,
  board: Record<string, Record<string, number>>,
): string {
  const rows = [[name, ...PROFILES.map((p) => scores[p])] as const];
  const others = Object.entries(board).map(([n, s]) => [n, ...PROFILES.map((p) => s[p])] as const);
  const all = [...rows, ...others].sort((a, b) => (b[1] ?? -Infinity) - (a[1] ?? -Infinity));
  const lines = [`${"detector".padEnd(22)} standard  low_FP  low_FN`];
  for (const [n, ...s] of all) {
    const cells = s.map((x) => (x === undefined ? "-" : x.toFixed(1)).padStart(7));
    lines.push(`${(n === name ? `* ${n}` : `  ${n}`).padEnd(22)} ${cells.join(" ")}`);
  }
  return lines.join("\n");
}

/** The lines `deno task nab --fast` prints: the three profile scores, then per corpus. */
export function fastTable(fast: FastNabResult): string {
  const lines = PROFILES.map((p) =>
    `${p.padEnd(20)} ${fast.scores[p].toFixed(2).padStart(6)} (threshold ${
      fast.thresholds[p].toPrecision(4)
    })`
  );
  lines.push("per corpus, standard: score, windows found, false-positive rows");
  for (const [c, v] of Object.entries(fast.corpora.standard)) {
    const score = Number.isNaN(v.score) ? "-" : v.score.toFixed(1);
    lines.push(
      `  ${c.padEnd(24)} ${score.padStart(6)} ${`${v.found}/${v.windows}`.padStart(6)} ${v.fp}`,
    );
  }
  return lines.join("\n");
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      data: { type: "string", default: `${REPO_ROOT}/../shared/nab/data` },
      out: { type: "string" },
      name: { type: "string" },
      detector: { type: "string", default: "anomaly" },
      scale: { type: "string", default: "1" },
      offset: { type: "string", default: "0" },
      fast: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(
      `Usage: deno task nab [--data DIR] [--out DIR] [--name NAME] [--detector ${
        NAB_DETECTORS.join("|")
      }]` +
        " [--fast] [--scale K] [--offset C]",
    );
    return 0;
  }
  const detector = values.detector as NabDetector;
  if (!NAB_DETECTORS.includes(detector)) {
    console.error(
      `Unknown detector: ${values.detector} (expected one of ${NAB_DETECTORS.join(", ")})`,
    );
    return 2;
  }
  const scale = Number(values.scale), offset = Number(values.offset);
  if (!Number.isFinite(scale) || scale === 0 || !Number.isFinite(offset)) {
    console.error(`Invalid --scale or --offset: expected finite numbers, scale not 0`);
    return 2;
  }
  const data = values.data.replace(/\/$/, "");
  try {
    if (!Deno.statSync(data).isDirectory) throw new Deno.errors.NotFound(data);
  } catch {
    console.error(
      `NAB data not found at ${data}: pass --data pointing at NAB's data/ folder ` +
        `(<corpus>/<file>.csv), e.g. a checkout of https://github.com/numenta/NAB`,
    );
    return 1;
  }
  const name = values.name ?? `opsbook${detector[0].toUpperCase()}${detector.slice(1)}`;
  if (!/^[A-Za-z0-9-]+$/.test(name)) {
    console.error(
      `Invalid --name: ${name} (letters, digits and "-" only: NAB splits file names at "_")`,
    );
    return 2;
  }
  const out = values.out ?? `${REPO_ROOT}/out/nab/${name}`;
  await Deno.remove(out, { recursive: true }).catch(() => {});
  const t0 = performance.now();
  const result = runNab({
    data,
    out,
    name,
    detector,
    scale,
    offset,
    log: (line) => console.error(line),
  });
  const total = performance.now() - t0;
  console.log(
    `${result.files.length} files, ${result.points} points: detector ${
      (result.detectMs / 1000).toFixed(2)
    } s (${(result.points / result.detectMs / 1000).toFixed(2)} M points/s), total ${
      (total / 1000).toFixed(2)
    } s; results in ${out}`,
  );
  const nab = data.replace(/\/data$/, "");
  if (values.fast) {
    const labels = `${nab}/labels/combined_windows.json`;
    let windows: Record<string, [string, string][]>;
    try {
      windows = JSON.parse(Deno.readTextFileSync(labels));
    } catch (e) {
      console.error(
        `Cannot read NAB's windows at ${labels} (${(e as Error).message}): --fast needs ` +
          `labels/combined_windows.json next to the data/ folder`,
      );
      return 1;
    }
    const fast = fastNabScores(result.scored, windows);
    console.log(`${name} (in-process port of NAB's scorer; report the official one):`);
    console.log(fastTable(fast));
    return 0;
  }
  const scorer = `${nab}/score`;
  try {
    Deno.statSync(scorer);
  } catch {
    console.log(`No NAB scorer at ${scorer}: result files written, not scored`);
    return 0;
  }
  console.log("scoring with NAB's scorer…");
  const run = await new Deno.Command("bash", { args: [scorer, out, name], stderr: "piped" })
    .output();
  const text = new TextDecoder().decode(run.stdout);
  const scores = parseScores(text);
  if (!run.success || Object.keys(scores).length === 0) {
    console.error(text + new TextDecoder().decode(run.stderr));
    console.error(`NAB's scorer failed (exit ${run.code})`);
    return 1;
  }
  let board: Record<string, Record<string, number>> = {};
  try {
    board = JSON.parse(Deno.readTextFileSync(`${nab}/scoreboard.json`));
  } catch {
    // no published scoreboard next to the data: print ours alone
  }
  console.log(scoreTable(name, scores, board));
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
