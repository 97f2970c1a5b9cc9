/**
 * The spinRemote compiler's cost.
 *
 * 1. Per 1,000 lines of generated code (a module dense with remote functions and nested spins):
 *    parsing alone (TypeScript's parser, acorn) vs. parse + analysis vs. the full rewrite with a
 *    source map.
 * 2. Per file, in the Vite plugin, over every file of this repository's `src/` and `test/`: the
 *    plugin's transform hook vs. parsing alone vs. Vite's own TypeScript transform (oxc), which
 *    every file pays anyway. Most files are skipped by the plugin's import pre-check.
 *
 * 3. The project's own test suite under Vitest, with the plugin wrapped in a timer
 *    (bench/transform.vitest.config.ts): the plugin's total time against the run's duration.
 *    Skip with `--no-suite`.
 *
 * Run: `node --expose-gc --import tsx bench/transform.bench.ts` → bench/results/transform.json
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as acorn from "acorn";
import ts from "typescript";
import { transformWithOxc } from "vite";
import { analyzeSource, mightUseSpindel, transformSource } from "../src/transform/index.js";
import { spindelPlugin } from "../src/transform/vite.js";
import { type Case, type CaseResult, fmt, runCases, writeResults } from "./harness.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** A module of about `lines` lines: remote functions with captures declared, nested spins, plain code. */
function generate(lines: number, typed: boolean): string {
  const t = (s: string) => (typed ? s : "");
  const out = [
    `import { spin, signal } from "spindel";`,
    `import { remoteFn, spinRemote${typed ? ", type Scope" : ""} } from "spindel/distributed";`,
    `const limit = signal(10);`,
  ];
  for (let i = 0; out.length < lines; i++) {
    out.push(
      `export const fn${i} = remoteFn(function fn${i}(scope${t(": Scope")}, a${t(": number")}, b${t(": string")}) {`,
      `  const local = a * ${i};`,
      `  const label = \`\${b}-\${local}\`;`,
      `  return spinRemote(scope, [a, local, label], async ($) => {`,
      `    const items${t(": number[]")} = [];`,
      `    for (let k = 0; k < a; k++) items.push(k + local);`,
      `    const inner = spin(() => items.reduce((x, y) => x + y, 0) + $.peek(limit));`,
      `    const { length } = label;`,
      `    return (await $.await(inner)) + length + Math.max(a, local);`,
      `  });`,
      `});`,
      `function helper${i}(x${t(": number")})${t(": number")} {`,
      `  if (x > ${i}) return helper${i}(x - 1) + 1;`,
      `  return [x, ${i}].map((v) => v * 2).length;`,
      `}`,
    );
  }
  return out.join("\n");
}

function walk(dir: string, out: string[]): string[] {
  for (const name of readdirSync(dir).sort()) {
    if (name === "node_modules" || name === "fixtures" || name.startsWith(".")) continue;
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) walk(full, out);
    else if (/\.[cm]?[jt]sx?$/.test(name) && !name.endsWith(".d.ts")) out.push(full);
  }
  return out;
}

const noop = () => {};
const ctx = {
  warn: noop,
  error: (e: unknown): never => {
    throw e;
  },
};

async function main(): Promise<void> {
  // --- 1. per 1,000 lines ---------------------------------------------------------------------
  const LINES = 1000;
  const tsCode = generate(LINES, true);
  const jsCode = generate(LINES, false);
  const actualLines = tsCode.split("\n").length;
  const tsFile = path.join(ROOT, "bench/generated.ts");
  const jsFile = path.join(ROOT, "bench/generated.mjs");
  const sites = analyzeSource(tsFile, tsCode).remotes.length;
  const perKloc: Case[] = [
    {
      name: "TS parse only (ts.createSourceFile)",
      fn: () => void ts.createSourceFile(tsFile, tsCode, 99, false),
    },
    { name: "TS parse + analysis", fn: () => void analyzeSource(tsFile, tsCode) },
    { name: "TS parse + analysis + rewrite + source map", fn: () => void transformSource(tsFile, tsCode) },
    {
      name: "JS parse only (acorn)",
      fn: () => void acorn.parse(jsCode, { ecmaVersion: "latest", sourceType: "module" }),
    },
    { name: "JS parse + analysis (acorn)", fn: () => void analyzeSource(jsFile, jsCode) },
    { name: "JS parse + analysis + rewrite + source map", fn: () => void transformSource(jsFile, jsCode) },
    {
      name: "import pre-check only (file without spindel)",
      fn: () => void mightUseSpindel(tsCode, ["nothing"]),
    },
  ];
  const kloc = await runCases(perKloc, { rounds: 5, sampleMs: 300 });
  const parseTs = kloc[0]!.nsPerOp;
  const parseJs = kloc[3]!.nsPerOp;
  const perKlocRows = kloc.map((r, i) => ({
    ...r,
    msPer1000Lines: (r.nsPerOp / 1e6) * (1000 / actualLines),
    vsParseAlone: r.nsPerOp / (i < 3 || i === 6 ? parseTs : parseJs),
  }));

  // --- 2. per file in the Vite plugin, over this repository -----------------------------------
  const files = [...walk(path.join(ROOT, "src"), []), ...walk(path.join(ROOT, "test"), [])];
  const sources = files.map((f) => ({ file: f, code: readFileSync(f, "utf8") }));
  const plugin = spindelPlugin();
  const hook = plugin.transform as unknown as (this: typeof ctx, code: string, id: string) => unknown;
  const withSpindel = sources.filter((s) => mightUseSpindel(s.code)).length;
  let pluginErrors = 0;
  const pluginPass = () => {
    for (const s of sources) {
      try {
        hook.call(ctx, s.code, s.file);
      } catch {
        pluginErrors++;
      }
    }
  };
  const parsePass = () => {
    for (const s of sources) ts.createSourceFile(s.file, s.code, 99, false);
  };
  const oxcPass = async () => {
    for (const s of sources) await transformWithOxc(s.code, s.file, { sourcemap: true });
  };
  const suite = await runCases(
    [
      { name: "spindel Vite plugin transform hook (all files)", fn: pluginPass },
      { name: "TS parse only (all files)", fn: parsePass },
      { name: "Vite's own oxc TS transform (all files)", fn: oxcPass },
    ],
    { rounds: 5, sampleMs: 400, warmupMs: 400 },
  );
  const [pluginR, parseR, oxcR] = suite as [CaseResult, CaseResult, CaseResult];
  const totalLines = sources.reduce((n, s) => n + s.code.split("\n").length, 0);
  const suiteRows = suite.map((r) => ({
    ...r,
    msPerPass: r.nsPerOp / 1e6,
    msPerFile: r.nsPerOp / 1e6 / sources.length,
  }));

  // --- 3. the project's own test suite under Vitest -------------------------------------------
  let vitestSuite: Record<string, number> | undefined;
  if (!process.argv.includes("--no-suite")) {
    const tmp = mkdtempSync(path.join(os.tmpdir(), "spindel-bench-"));
    const statsFile = path.join(tmp, "stats.json");
    const t0 = performance.now();
    const r = spawnSync(
      process.execPath,
      [
        path.join(ROOT, "node_modules/vitest/vitest.mjs"),
        "run",
        "--config",
        "bench/transform.vitest.config.ts",
        "--root",
        ".",
      ],
      { cwd: ROOT, env: { ...process.env, SPINDEL_BENCH_OUT: statsFile }, encoding: "utf8" },
    );
    const wallMs = performance.now() - t0;
    if (existsSync(statsFile)) {
      const stats = JSON.parse(readFileSync(statsFile, "utf8")) as Record<string, number>;
      vitestSuite = {
        ...stats,
        wallMs,
        pluginShareOfWall: stats.pluginMs! / wallMs,
        exitCode: r.status ?? -1,
      };
    }
    rmSync(tmp, { recursive: true, force: true });
  }

  const doc = {
    note: "per1000Lines: one generated module (remote functions with declared captures and nested spins) timed per pass and scaled to 1,000 lines; vsParseAlone = time / the same parser's parse-only time. repoSuite: one pass over every .ts/.js file of src/ and test/ (fixtures excluded); the plugin skips files without a spindel import after a regex pre-check. Medians of round-robin samples.",
    per1000Lines: { lines: actualLines, remoteSites: sites, results: perKlocRows },
    repoSuite: {
      files: sources.length,
      filesWithSpindelImport: withSpindel,
      lines: totalLines,
      results: suiteRows,
      pluginVsParseAlone: pluginR.nsPerOp / parseR.nsPerOp,
      pluginVsViteOxcTransform: pluginR.nsPerOp / oxcR.nsPerOp,
      pluginMsPerPass: pluginR.nsPerOp / 1e6,
    },
    vitestSuite,
  };
  const out = writeResults("transform", doc);

  console.log(`per 1,000 lines (${actualLines}-line module, ${sites} remote sites):`);
  for (const r of perKlocRows) {
    console.log(
      `  ${r.name.padEnd(48)} ${r.msPer1000Lines.toFixed(2).padStart(8)} ms/kloc  ${r.vsParseAlone.toFixed(2)}× parse`,
    );
  }
  console.log(
    `\nVite plugin over this repository (${sources.length} files, ${withSpindel} import spindel, ${totalLines} lines):`,
  );
  for (const r of suiteRows) {
    console.log(
      `  ${r.name.padEnd(48)} ${r.msPerPass.toFixed(1).padStart(8)} ms/pass  ${(r.msPerFile * 1000).toFixed(0).padStart(6)} µs/file  (${fmt(r.opsPerSec)} passes/s)`,
    );
  }
  console.log(
    `  plugin / parse alone = ${doc.repoSuite.pluginVsParseAlone.toFixed(2)}×, plugin / Vite's oxc transform = ${doc.repoSuite.pluginVsViteOxcTransform.toFixed(2)}×`,
  );
  if (pluginErrors > 0)
    console.log(`  (${pluginErrors / 16} plugin errors per pass: files with spinRemote errors)`);
  if (vitestSuite) {
    console.log(
      `\nproject test suite under Vitest: plugin ${vitestSuite.pluginMs!.toFixed(0)} ms over ${vitestSuite.transformCalls} transforms (${vitestSuite.rewritten} rewritten) in a ${(vitestSuite.wallMs! / 1000).toFixed(1)} s run = ${(vitestSuite.pluginShareOfWall! * 100).toFixed(1)}% (vitest exit ${vitestSuite.exitCode})`,
    );
  }
  console.log(`\nwrote ${path.relative(ROOT, out)}`);
}

await main();
