/**
 * One process of the instruction count (instructions.ts): builds shape `shape` with framework
 * `fw` (`root`, `fork`, `preact`, `alien`) and runs `warm` then `ops` operations.
 * Usage: `node instructions-child.mjs fw shape warm ops`.
 * With `PROFILE_PREFIX=chain,fan-out` (and `PROFILE_PREFIX_OPS`, default 200), those shapes first run
 * for all four frameworks in turn, as the timed benchmark (core.bench.ts) runs them in one process
 * before this one: the type feedback its optimized code is built from is then theirs as well
 * (profile-lines.ts counts from the end of the prefix on).
 */
import { getPriority } from "node:os";
import { createContext } from "../src/index.js";
import { alienFw, frameworks as all, type Fw, out, preactFw, shapes, spindelFw } from "./shapes.js";

const [fw, want, warm, ops] = process.argv.slice(2);
const frameworks: Record<string, () => Fw> = {
  root: () => spindelFw(createContext(), "spindel root"),
  fork: () => spindelFw(createContext().fork(), "spindel fork"),
  preact: () => preactFw,
  alien: () => alienFw,
};
const make = frameworks[fw ?? ""];
const shape = shapes.find(([name]) => want !== undefined && name.includes(want));
if (make === undefined || shape === undefined || !(Number(warm) >= 0) || !(Number(ops) >= 0)) {
  console.error("usage: instructions-child fw(root|fork|preact|alien) shape warm ops");
  process.exit(2);
}
const prefix = process.env.PROFILE_PREFIX;
if (prefix !== undefined && prefix !== "") {
  const n = Number(process.env.PROFILE_PREFIX_OPS ?? 200);
  for (const p of prefix.split(",")) {
    const s = shapes.find(([name]) => name.includes(p));
    if (s === undefined) throw new Error(`no shape ${p}`);
    const ops = all().map((f) => s[1](f));
    // round-robin in blocks, as the timed samples interleave the frameworks
    for (let k = 0; k < 4; k++) for (const o of ops) for (let i = 0; i < n / 4; i++) o();
  }
  // profile-lines.ts zeroes callgrind's counts here (`--zero-before=uv_os_getpriority`)
  getPriority();
}
const op = shape[1](make());
for (let i = 0, n = Number(warm) + Number(ops); i < n; i++) op();
if (out.sink === Number.MIN_VALUE) console.log(out.sink);
