/**
 * The floor of spindel's data model (issue 9): how fast can a kernel that keeps spindel's state —
 * an effect log per node (kind, id, observed version, value, source), global versions, staleness
 * marking and a drain of observed nodes — re-run a chain, once the generality of the real kernel is
 * left out? Two toy kernels answer it, next to the real one, preact and alien-signals, on one
 * chain of 100 derived nodes and an observer, interleaved in one process:
 *
 * - `toy: node is the scope`: the node is the body's `$`; its log is updated in place (an entry is
 *   allocated only when a dependency changes).
 * - `toy: run scope, double log`: as the real kernel lays it out — a separate run object (reset
 *   each run), the log written into the node's spare array and swapped at commit, every entry
 *   field rewritten.
 *
 * The toys are measuring sticks, not library code: no forks, async bodies, replay, cancellation,
 * cleanups, cycles, snapshots or release. Writes bench/results/floor.json.
 */
import * as P from "@preact/signals-core";
import * as A from "alien-signals";
import { createContext, type Spin, signal, spin } from "../src/index.js";
import * as lean from "./floor/lean.js";
import * as runScope from "./floor/run-scope.js";
import { type CaseResult, fmt, runCases, writeResults } from "./harness.js";

const N = 100;
let sink = 0;
function spindelChain(): () => void {
  const ctx = createContext();
  const s = signal(0);
  let prev: Spin<number> = spin(($) => $.track(s));
  for (let i = 1; i < N; i++) {
    const p0 = prev;
    prev = spin(($) => $.track(p0) + 1);
  }
  const tail = prev;
  ctx.observe(
    spin(($) => {
      sink += $.track(tail);
      return 0;
    }),
    () => {},
  );
  let n = 0;
  return () => ctx.set(s, ++n);
}

function preactChain(): () => void {
  const s = P.signal(0);
  let prev: P.ReadonlySignal<number> = P.computed(() => s.value);
  for (let i = 1; i < N; i++) {
    const p0 = prev;
    prev = P.computed(() => p0.value + 1);
  }
  const tail = prev;
  P.effect(() => {
    sink += tail.value;
  });
  let n = 0;
  return () => {
    s.value = ++n;
  };
}

function alienChain(): () => void {
  const s = A.signal(0);
  let prev: () => number = A.computed(() => s());
  for (let i = 1; i < N; i++) {
    const p0 = prev;
    prev = A.computed(() => p0() + 1);
  }
  const tail = prev;
  A.effect(() => {
    sink += tail();
  });
  let n = 0;
  return () => s(++n);
}

const add = (v: number): void => {
  sink += v;
};
const cases = [
  { name: "spindel root", fn: spindelChain() },
  { name: "toy: node is the scope", fn: lean.chain(N, add) },
  { name: "toy: run scope, double log", fn: runScope.chain(N, add) },
  { name: "preact", fn: preactChain() },
  { name: "alien", fn: alienChain() },
];
const results: CaseResult[] = await runCases(cases, { warmupMs: 1500, rounds: 9 });
const preact = results.find((r) => r.name === "preact")!;
const ratios: Record<string, number> = {};
console.log(`\nchain ${N}: time per write, and per node`);
for (const r of results) {
  ratios[`${r.name} / preact`] = Number((preact.opsPerSec / r.opsPerSec).toFixed(3));
  console.log(
    `  ${r.name.padEnd(28)} ${fmt(r.opsPerSec).padStart(9)} ops/s  ${(r.nsPerOp / N).toFixed(1)} ns/node  ${(
      preact.opsPerSec / r.opsPerSec
    ).toFixed(2)}x preact`,
  );
}
console.log(sink > 0 ? "" : " ");
console.log(`wrote ${writeResults("floor", { chain: N, results, ratios })}`);
