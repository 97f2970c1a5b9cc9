/**
 * Runs every `bench/*.bench.ts` in a fresh Node process (so JIT feedback does not cross
 * suites). Each writes `bench/results/<name>.json`. Pass names to run a subset:
 * `npm run bench -- core`.
 */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildSync } from "esbuild";

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
 * node. Under `--import tsx` an import between TypeScript modules can become a getter call, which
 * costs spindel's modules and not the pre-built references (on the same code, the kernel shapes'
 * geometric mean went from 5.6x preact under tsx to 4.6x bundled).
 */
const BUNDLED = new Set(["core.bench.ts", "combinators.bench.ts", "floor.bench.ts"]);

function command(f: string): string[] {
  if (!BUNDLED.has(f)) return ["--expose-gc", "--import", "tsx", join(here, f)];
  const out = join(here, ".out", f.replace(/\.ts$/, ".mjs"));
  buildSync({
    entryPoints: [join(here, f)],
    bundle: true,
    platform: "node",
    format: "esm",
    packages: "external",
    outfile: out,
    logLevel: "warning",
  });
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
