/**
 * Heap size of a built graph of one shape of `bench/shapes.ts`: `heapUsed` after `gc()` before and
 * after building five graphs (each run 20 operations), divided by five. A tool for the memory per
 * node (the objects of a large graph and how many cache lines a re-run touches), not a benchmark.
 *
 * Usage: `npx tsx --expose-gc bench/heap.ts "shape cellx 1000" root|fork|preact`.
 */
import { createContext } from "../src/index.js";
import { preactFw, shapes, spindelFw } from "./shapes.js";

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  console.error("run with --expose-gc");
  process.exit(2);
}
const [which = "shape cellx 1000", fwName = "root"] = process.argv.slice(2);
const shape = shapes.find(([n]) => n === which)?.[1];
if (shape === undefined) {
  console.error(`unknown shape ${which}: ${shapes.map(([n]) => n).join(", ")}`);
  process.exit(2);
}
const make = () =>
  fwName === "preact"
    ? preactFw
    : fwName === "fork"
      ? spindelFw(createContext().fork(), "spindel fork")
      : spindelFw(createContext(), "spindel root");
// one graph first, dropped: the code is compiled before the measurement
{
  const op = shape(make());
  for (let i = 0; i < 50; i++) op();
}
const GRAPHS = 5;
const keep: unknown[] = [];
gc();
gc();
const before = process.memoryUsage().heapUsed;
for (let k = 0; k < GRAPHS; k++) {
  const op = shape(make());
  for (let i = 0; i < 20; i++) op();
  keep.push(op);
}
gc();
gc();
const after = process.memoryUsage().heapUsed;
console.log(
  `${which} ${fwName}: ${((after - before) / GRAPHS / 1e6).toFixed(3)} MB per graph (${keep.length} kept)`,
);
