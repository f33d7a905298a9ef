/**
 * Runs every benchmark (`bench/*_bench.ts`) one after another, so they do not
 * compete for the CPU, and prints their reports. `deno task bench [--quick] [name...]`:
 * `--quick` sets `BENCH_QUICK=1`, which the benchmarks that support it read to
 * shrink their data for a check in seconds.
 *
 * @module
 */

const quick = Deno.args.includes("--quick");
const filter = Deno.args.filter((a) => a !== "--quick");
const files: string[] = [];
for await (const e of Deno.readDir(new URL("../bench/", import.meta.url))) {
  if (e.isFile && e.name.endsWith("_bench.ts")) files.push(e.name);
}
files.sort();
let failed = 0;
for (const f of files) {
  if (filter.length && !filter.some((x) => f.includes(x))) continue;
  console.log(`\n=== ${f} ===`);
  const status = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--v8-flags=--expose-gc",
      new URL(`../bench/${f}`, import.meta.url).pathname,
    ],
    env: quick ? { BENCH_QUICK: "1" } : {},
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!status.success) {
    console.log(`!!! ${f} failed (exit ${status.code})`);
    failed++;
  }
}
if (failed) Deno.exit(1);
