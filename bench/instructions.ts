/**
 * Instructions per operation of each js-reactivity-benchmark shape, counted by valgrind
 * (`cachegrind`, no cache simulation) for spindel in a root context, spindel in a fork, preact and
 * alien-signals. A count does not depend on the machine's load, so it shows a change of a few
 * percent that the timed benchmark (±30 % between runs on shared cores) cannot; it does not see
 * memory stalls, so time ratios stay the measure of record (core.bench.ts).
 *
 * Each figure is the difference of two runs of one process (a warm-up of `warm` operations, then
 * `ops` more, against the warm-up alone), divided by `ops`: start-up and compilation cancel out.
 * A fifth column, `dist`, runs spindel in a root context from the package as it ships to plain node
 * (dist/, compiled by tsc, not bundled). Needs `valgrind` (`apt-get install -y valgrind`).
 * `npm run bench:instructions [-- shape…]`;
 * writes bench/results/instructions.json.
 */
import { spawn, spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type PluginBuild } from "esbuild";
import { bundleShapesChild, requireValgrind } from "./child-bundle.js";
import { writeResults } from "./harness.js";

const here = dirname(fileURLToPath(import.meta.url));

requireValgrind();
const child = bundleShapesChild("instructions-child.mjs");
// the same shapes against the package as it ships to plain node (dist/, built by tsc, one ES
// module per source file, not bundled): what `import "spindel"` runs without a bundler
const tscBuild = spawnSync(
  process.execPath,
  [join(here, "..", "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.build.json"],
  {
    cwd: join(here, ".."),
    stdio: "inherit",
  },
);
if (tscBuild.status !== 0) {
  console.error("tsc -p tsconfig.build.json failed");
  process.exit(1);
}
const distIndex = join(here, "..", "dist", "index.js");
const distChild = join(here, ".out", "instructions-child-dist.mjs");
await build({
  entryPoints: [join(here, "instructions-child.ts")],
  bundle: true,
  platform: "node",
  format: "esm",
  packages: "external",
  outfile: distChild,
  logLevel: "warning",
  plugins: [
    {
      name: "spindel-from-dist",
      setup(b: PluginBuild) {
        b.onResolve({ filter: /\/src\/index\.js$/ }, () => ({ path: distIndex, external: true }));
      },
    },
  ],
});

/**
 * Operations per shape: a few seconds of valgrind each (the large graphs do 1,000s of updates per
 * op). `repeat`: how many times each run is counted, the least count kept. The large graphs' few
 * operations each collect garbage a different number of times (their counts moved by a third
 * between runs of the same code): the least of three is the count without the extra collections.
 */
const plan: [shape: string, warm: number, ops: number, repeat: number][] = [
  ["chain", 300, 300, 1],
  ["fan-out", 300, 300, 1],
  ["diamond", 100_000, 100_000, 1],
  ["kairo", 50_000, 50_000, 1],
  ["create+dispose", 20_000, 20_000, 1],
  ["cellx", 30, 30, 3],
  ["dynamic", 30, 30, 3],
];
const fws = ["root", "fork", "preact", "alien", "dist"] as const;
const only = process.argv.slice(2);

/** Instructions of one child run. */
function count(fw: string, shape: string, warm: number, ops: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const p = spawn(
      "valgrind",
      [
        "--tool=cachegrind",
        "--cache-sim=no",
        "--cachegrind-out-file=/dev/null",
        process.execPath,
        "--single-threaded",
        fw === "dist" ? distChild : child,
        fw === "dist" ? "root" : fw,
        shape,
        String(warm),
        String(ops),
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    let err = "";
    p.stderr.on("data", (d: Buffer) => {
      err += d.toString();
    });
    p.on("error", reject);
    p.on("close", (code) => {
      const m = /I\s+refs:\s+([\d,]+)/.exec(err);
      if (code !== 0 || m === null)
        reject(new Error(`valgrind ${fw} ${shape}: exit ${code}\n${err.slice(-2000)}`));
      else resolve(Number(m[1]!.replace(/,/g, "")));
    });
  });
}

const rows: Record<string, Record<string, number>> = {};
for (const [shape, warm, ops, repeat] of plan) {
  if (only.length > 0 && !only.some((o) => shape.includes(o))) continue;
  const perOp: Record<string, number> = {};
  for (const fw of fws) {
    let base = Number.POSITIVE_INFINITY;
    let more = Number.POSITIVE_INFINITY;
    for (let r = 0; r < repeat; r++) {
      // the two runs of one figure side by side (two cores)
      const [b, m] = await Promise.all([count(fw, shape, warm, 0), count(fw, shape, warm, ops)]);
      base = Math.min(base, b);
      more = Math.min(more, m);
    }
    perOp[fw] = Math.round((more - base) / ops);
  }
  const row = {
    ...Object.fromEntries(fws.map((fw) => [`${fw} instructions/op`, perOp[fw]!])),
    "root / preact": Number((perOp.root! / perOp.preact!).toFixed(2)),
    "fork / root": Number((perOp.fork! / perOp.root!).toFixed(2)),
    "root / alien": Number((perOp.root! / perOp.alien!).toFixed(2)),
    "dist root / preact": Number((perOp.dist! / perOp.preact!).toFixed(2)),
  };
  rows[shape] = row;
  console.log(
    `${shape.padEnd(16)} root ${perOp.root}  fork ${perOp.fork}  preact ${perOp.preact}  alien ${perOp.alien}  ` +
      `root/preact ${row["root / preact"]}  fork/root ${row["fork / root"]}  ` +
      `dist ${perOp.dist} (dist/preact ${row["dist root / preact"]})`,
  );
}
const ratios = Object.values(rows).map((r) => r["root / preact"] as number);
const geomean = Number(Math.exp(ratios.reduce((a, x) => a + Math.log(x), 0) / ratios.length).toFixed(2));
const distRatios = Object.values(rows).map((r) => r["dist root / preact"] as number);
const distGeomean = Number(
  Math.exp(distRatios.reduce((a, x) => a + Math.log(x), 0) / distRatios.length).toFixed(2),
);
console.log(`geometric mean root / preact: ${geomean} (the shipped dist/ unbundled: ${distGeomean})`);
console.log(
  `wrote ${writeResults("instructions", { shapes: rows, geomeanRootOverPreact: geomean, geomeanDistRootOverPreact: distGeomean })}`,
);
