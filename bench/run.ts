/**
 * Runs every `bench/*.bench.ts` in a fresh Node process (so JIT feedback does not cross
 * suites). Each writes `bench/results/<name>.json`. Pass names to run a subset:
 * `npm run bench -- core`.
 */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith(".bench.ts"))
  .filter((f) => only.length === 0 || only.includes(f.replace(/\.bench\.ts$/, "")))
  .sort();
if (files.length === 0) {
  console.error(`no benchmark matched ${only.join(", ")}`);
  process.exit(1);
}
/**
 * Benchmarks that compare spindel's hot paths with preact and alien-signals run the library as it
 * ships: bundled to one ES module by esbuild (as a Vite or esbuild app bundles it) and run by plain
 * node. Under `--import tsx` every import of a TypeScript module becomes a getter call, which costs
 * spindel (25 modules) and not the pre-built references: it doubled some ratios.
 */
const BUNDLED = new Set(["core.bench.ts", "combinators.bench.ts"]);

function command(f: string): string[] {
  if (!BUNDLED.has(f)) return ["--expose-gc", "--import", "tsx", join(here, f)];
  const out = join(here, ".out", f.replace(/\.ts$/, ".mjs"));
  const esbuild = join(here, "..", "node_modules", "esbuild", "bin", "esbuild");
  const b = spawnSync(
    process.execPath,
    [
      esbuild,
      join(here, f),
      "--bundle",
      "--platform=node",
      "--format=esm",
      "--packages=external",
      `--outfile=${out}`,
      "--log-level=warning",
    ],
    { stdio: "inherit" },
  );
  if (b.status !== 0) throw new Error(`bundling ${f} failed`);
  return ["--expose-gc", out];
}

let failed = 0;
for (const f of files) {
  console.log(`\n=== ${f}`);
  const r = spawnSync(process.execPath, command(f), {
    stdio: "inherit",
    env: { ...process.env, BENCH_RESULTS_DIR: join(here, "results") },
  });
  if (r.status !== 0) {
    failed++;
    console.error(`${f} failed with exit code ${r.status}`);
  }
}
process.exit(failed === 0 ? 0 : 1);
