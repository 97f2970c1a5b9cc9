/**
 * One process of the instruction count (instructions.ts): builds shape `shape` with framework
 * `fw` (`root`, `fork`, `preact`, `alien`) and runs `warm` then `ops` operations.
 * Usage: `node instructions-child.mjs fw shape warm ops`.
 */
import { createContext } from "../src/index.js";
import { alienFw, type Fw, out, preactFw, shapes, spindelFw } from "./shapes.js";

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
const op = shape[1](make());
for (let i = 0, n = Number(warm) + Number(ops); i < n; i++) op();
if (out.sink === Number.MIN_VALUE) console.log(out.sink);
