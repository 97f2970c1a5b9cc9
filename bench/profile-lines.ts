/**
 * Where the instructions of a kernel function go, line by line. Runs one shape of
 * `bench/shapes.ts` under valgrind's callgrind (per-address instruction counts) with node printing
 * its optimized code (`--print-opt-code`: each function's machine code and the table that maps it
 * to characters of the bundle), and prints, for each named function, the instructions per call of
 * every source line of the bundle that its optimized code executes (callees V8 inlined included).
 * A tool for finding what to change, not a benchmark: figures include the warm-up.
 *
 * Usage: `npx tsx bench/profile-lines.ts fw shape warm ops fn [fn…]`, e.g.
 * `npx tsx bench/profile-lines.ts root chain 300 300 track startRun commit refresh`.
 * `fw` is `root`, `fork`, `preact` or `alien` (as in instructions-child.ts). Needs valgrind.
 * With `--top` in place of the function names: every optimized function's own instructions per
 * operation (warm-up and operations together), largest first.
 * Code placed after a function's last line (out-of-line write barriers, deopt exits) counts on
 * that last line.
 *
 * With `PROFILE_MISSES=1`, valgrind simulates the caches of this machine's cores (32 KiB L1 data,
 * 1 MiB L2 as the last level) and each line shows the data misses of that L2 per call instead of
 * instructions: which lines reach memory a graph does not keep in the core's cache.
 *
 * With `PROFILE_PREFIX=chain,fan-out` the child first runs those shapes for all four frameworks
 * (`PROFILE_PREFIX_OPS` operations each, default 200), as the timed benchmark's one process does,
 * and the counts start after them: the optimized code is then what that process runs.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleShapesChild, requireValgrind } from "./child-bundle.js";

const here = dirname(fileURLToPath(import.meta.url));
const [fw, shape, warm, ops, ...fns] = process.argv.slice(2);
if (fw === undefined || shape === undefined || warm === undefined || ops === undefined || fns.length === 0) {
  console.error("usage: profile-lines fw shape warm ops fn [fn…]");
  process.exit(2);
}

requireValgrind();
const misses = process.env.PROFILE_MISSES === "1";
const bundle = bundleShapesChild("profile-child.mjs");
const cgFile = join(here, ".out", "profile.callgrind");
const run = spawnSync(
  "valgrind",
  [
    "--tool=callgrind",
    ...(misses
      ? ["--cache-sim=yes", "--LL=1048576,16,64", "--D1=32768,8,64", "--I1=32768,8,64"]
      : ["--cache-sim=no"]),
    // shapes run first (instructions-child.ts): counted from their end on
    ...(process.env.PROFILE_PREFIX ? ["--zero-before=uv_os_getpriority"] : []),
    "--dump-instr=yes",
    `--callgrind-out-file=${cgFile}`,
    process.execPath,
    "--single-threaded",
    "--print-opt-code",
    "--code-comments",
    bundle,
    fw,
    shape,
    warm,
    ops,
  ],
  { maxBuffer: 1 << 30, encoding: "utf8" },
);
if (run.status !== 0) {
  console.error(`valgrind failed (${run.status}): ${run.stderr.slice(-2000)}`);
  process.exit(1);
}

/** One optimized code object: its name, first instruction's address and source position table. */
interface Code {
  name: string;
  start: number;
  addrs: number[];
  /** [pc offset, character of the bundle], by pc offset. */
  positions: [number, number][];
}
const codes: Code[] = [];
let name = "";
let cur: Code | null = null;
let state: "none" | "ins" | "pos" = "none";
for (const line of run.stdout.split("\n")) {
  if (line.startsWith("name = ")) name = line.slice(7).trim();
  else if (line.startsWith("Instructions (size = ")) {
    state = "ins";
    cur = null;
  } else if (state === "ins" && line.startsWith("0x")) {
    const addr = Number.parseInt(line.slice(2, line.indexOf(" ")), 16);
    if (cur === null) {
      cur = { name, start: addr, addrs: [], positions: [] };
      codes.push(cur);
    }
    cur.addrs.push(addr);
  } else if (line.startsWith("Source positions:")) state = "pos";
  else if (state === "pos") {
    const m = /^\s+([0-9a-f]+)\s+(\d+)\s*$/.exec(line);
    if (m !== null && cur !== null) cur.positions.push([Number.parseInt(m[1]!, 16), Number(m[2])]);
    else if (!/^\s*pc offset/.test(line)) state = "none";
  }
}
const top = fns[0] === "--top";
const wanted = top ? codes : codes.filter((c) => fns.includes(c.name));
const byAddr = new Map<number, Code>();
for (const c of wanted) for (const a of c.addrs) byAddr.set(a, c);

// callgrind's per-address costs ("positions: instr line"; relative positions; the line after
// `calls=` is a call's inclusive cost, not the instruction's own). Events with the cache
// simulation: Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw (trailing zeros left out)
const cost = new Map<number, number>();
const missCost = new Map<number, number>();
let pos = 0;
let skip = false;
for (const line of readFileSync(cgFile, "utf8").split("\n")) {
  const c = line[0];
  if (c === undefined) continue;
  if ((c >= "0" && c <= "9") || c === "+" || c === "-" || c === "*") {
    const parts = line.split(" ");
    const t = parts[0]!;
    if (t !== "*") pos = t[0] === "+" || t[0] === "-" ? pos + Number(t) : Number(t);
    if (skip) {
      skip = false;
      continue;
    }
    if (parts.length >= 3 && byAddr.has(pos)) {
      cost.set(pos, (cost.get(pos) ?? 0) + Number(parts[2]));
      if (misses) {
        const m = Number(parts[9] ?? 0) + Number(parts[10] ?? 0);
        if (m > 0) missCost.set(pos, (missCost.get(pos) ?? 0) + m);
      }
    }
  } else if (line.startsWith("calls=")) skip = true;
}
rmSync(cgFile, { force: true });

const src = readFileSync(bundle, "utf8");
const lineStarts = [0];
for (let i = 0; i < src.length; i++) if (src.charCodeAt(i) === 10) lineStarts.push(i + 1);
const lineOf = (at: number): number => {
  let lo = 0;
  let hi = lineStarts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (lineStarts[mid]! <= at) lo = mid;
    else hi = mid - 1;
  }
  return lo + 1;
};
const lines = src.split("\n");

if (top) {
  // every optimized function's own cost per operation (callees V8 inlined included), largest first
  const byName = new Map<string, { calls: number; total: number }>();
  for (const c of wanted) {
    let total = 0;
    for (const a of c.addrs) total += (misses ? missCost : cost).get(a) ?? 0;
    const row = byName.get(c.name) ?? { calls: 0, total: 0 };
    row.calls += cost.get(c.start) ?? 0;
    row.total += total;
    byName.set(c.name, row);
  }
  const perOp = Number(warm) + Number(ops);
  const rows = [...byName].sort((a, b) => b[1].total - a[1].total).slice(0, 40);
  let sum = 0;
  for (const [, r] of byName) sum += r.total;
  console.log(`optimized code: ${(sum / perOp).toFixed(0)} per operation (warm-up included)`);
  for (const [fname, r] of rows)
    console.log(
      `${(r.total / perOp).toFixed(0).padStart(10)}  ${(r.calls / perOp).toFixed(1).padStart(8)} calls  ${fname || "(anonymous)"}`,
    );
  process.exit(0);
}

for (const c of wanted) {
  const calls = cost.get(c.start) ?? 0;
  if (calls < 100) continue; // a version that barely ran
  const perLine = new Map<number, number>();
  let total = 0;
  for (const a of c.addrs) {
    const n = (misses ? missCost : cost).get(a) ?? 0;
    if (n === 0) continue;
    total += n;
    const off = a - c.start;
    let at = -1;
    for (const [pc, p] of c.positions) if (pc <= off) at = p;
    const ln = at < 0 ? 0 : lineOf(at);
    perLine.set(ln, (perLine.get(ln) ?? 0) + n);
  }
  const what = misses ? "L2 data misses" : "instructions";
  console.log(`\n${c.name}: ${calls} calls, ${(total / calls).toFixed(misses ? 2 : 0)} ${what} per call`);
  for (const [ln, n] of [...perLine].sort((a, b) => a[0] - b[0])) {
    if (n / calls < (misses ? 0.05 : 2)) continue;
    console.log(
      `${(n / calls).toFixed(misses ? 2 : 1).padStart(7)}  ${String(ln).padStart(5)}  ${(lines[ln - 1] ?? "").trim().slice(0, 100)}`,
    );
  }
}
