/**
 * Combinators benchmark (issue 3): the overhead of `parallel`, `race` and `timeout` against
 * hand-written Promise.all / Promise.race baselines measured in the same process and the same
 * rounds, plus a mailbox throughput figure (with a hand-written async queue as a reference).
 *
 *   node --expose-gc --import tsx bench/combinators.bench.ts
 *
 * Writes bench/results/combinators.json. Ratios are spindel time / baseline time (lower is better).
 * Each case runs BATCH operations per call; figures are per operation. Speed is never asserted.
 */
import { Bench } from "tinybench";
import {
  type Context,
  createContext,
  mailbox,
  parallel,
  race,
  type Spin,
  spin,
  timeout,
} from "../src/index.js";
import { writeResults } from "./harness.js";

const BATCH = 100;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const gc = (globalThis as { gc?: () => void }).gc;

interface Pair {
  readonly group: string;
  readonly ours: string;
  readonly base: string;
  readonly oursFn: () => Promise<void>;
  readonly baseFn: () => Promise<void>;
}

const ctx: Context = createContext({ name: "bench" });

// ten spins that are already settled (cached) in ctx
const settled: Spin<number>[] = Array.from({ length: 10 }, (_, i) => spin(() => i));
for (const s of settled) await ctx.value(s);
const resolved: Promise<number>[] = Array.from({ length: 10 }, (_, i) => Promise.resolve(i));
const a = settled[0]!;
const b = settled[1]!;
// reused combinators: re-run from scratch each op (no handle creation, no observer-set growth)
const par = parallel(...settled);
const rac = race(a, b);
const tmo = timeout(
  spin(async ($) => await $.await(Promise.resolve(1))),
  1000,
);
await ctx.value(par);
await ctx.value(rac);
await ctx.value(tmo);

const pairs: Pair[] = [
  {
    group: "parallel of 10 settled spins",
    ours: "ctx.value(parallel(...10 settled spins))",
    base: "Promise.all(10 resolved promises)",
    oursFn: async () => {
      for (let i = 0; i < BATCH; i++) await ctx.value(parallel(...settled));
    },
    baseFn: async () => {
      for (let i = 0; i < BATCH; i++) await Promise.all(resolved);
    },
  },
  {
    group: "parallel of 10 settled spins, reused (ctx.rerun)",
    ours: "ctx.rerun(par); ctx.value(par)",
    base: "Promise.all(10 resolved promises)",
    oursFn: async () => {
      for (let i = 0; i < BATCH; i++) {
        ctx.rerun(par);
        await ctx.value(par);
      }
    },
    baseFn: async () => {
      for (let i = 0; i < BATCH; i++) await Promise.all(resolved);
    },
  },
  {
    group: "race of 2 (settled spins)",
    ours: "ctx.value(race(a, b))",
    base: "Promise.race([p1, p2])",
    oursFn: async () => {
      for (let i = 0; i < BATCH; i++) await ctx.value(race(a, b));
    },
    baseFn: async () => {
      for (let i = 0; i < BATCH; i++) await Promise.race([resolved[0]!, resolved[1]!]);
    },
  },
  {
    group: "race of 2 (pending promises)",
    ours: "ctx.value(race(p1, p2))",
    base: "Promise.race([p1, p2])",
    oursFn: async () => {
      for (let i = 0; i < BATCH; i++) await ctx.value(race(Promise.resolve(1), Promise.resolve(2)));
    },
    baseFn: async () => {
      for (let i = 0; i < BATCH; i++) await Promise.race([Promise.resolve(1), Promise.resolve(2)]);
    },
  },
  {
    group: "race of 2 (settled spins), reused (ctx.rerun)",
    ours: "ctx.rerun(r); ctx.value(r)",
    base: "Promise.race([p1, p2])",
    oursFn: async () => {
      for (let i = 0; i < BATCH; i++) {
        ctx.rerun(rac);
        await ctx.value(rac);
      }
    },
    baseFn: async () => {
      for (let i = 0; i < BATCH; i++) await Promise.race([resolved[0]!, resolved[1]!]);
    },
  },
  {
    group: "timeout (child in time, real timer armed and disarmed)",
    ours: "ctx.value(timeout(p, 1000))",
    base: "Promise.race([p, setTimeout promise]) + clearTimeout",
    oursFn: async () => {
      for (let i = 0; i < BATCH; i++) await ctx.value(timeout(Promise.resolve(1), 1000));
    },
    baseFn: async () => {
      for (let i = 0; i < BATCH; i++) {
        let t: ReturnType<typeof setTimeout> | undefined;
        const deadline = new Promise<never>((_, reject) => {
          t = setTimeout(() => reject(new Error("timeout")), 1000);
        });
        try {
          await Promise.race([Promise.resolve(1), deadline]);
        } finally {
          clearTimeout(t);
        }
      }
    },
  },
  {
    group: "timeout, reused (ctx.rerun; the child spin re-runs too)",
    ours: "ctx.rerun(t); ctx.value(t)",
    base: "Promise.race([p, setTimeout promise]) + clearTimeout",
    oursFn: async () => {
      for (let i = 0; i < BATCH; i++) {
        ctx.rerun(tmo);
        await ctx.value(tmo);
      }
    },
    baseFn: async () => {
      for (let i = 0; i < BATCH; i++) {
        let t: ReturnType<typeof setTimeout> | undefined;
        const deadline = new Promise<never>((_, reject) => {
          t = setTimeout(() => reject(new Error("timeout")), 1000);
        });
        try {
          await Promise.race([Promise.resolve(1), deadline]);
        } finally {
          clearTimeout(t);
        }
      }
    },
  },
];

async function measure(name: string, fn: () => Promise<void>): Promise<number> {
  const bench = new Bench({ time: 400, warmupTime: 100 });
  bench.add(name, fn);
  await bench.run();
  const r = bench.tasks[0]!.result as { throughput?: { mean: number } } | undefined;
  if (r?.throughput === undefined) throw new Error(`benchmark ${name} failed`);
  return r.throughput.mean * BATCH; // ops/s
}

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)]!;
}

const fmt = (ops: number): string =>
  ops >= 1e6 ? `${(ops / 1e6).toFixed(2)}M` : ops >= 1e3 ? `${(ops / 1e3).toFixed(1)}k` : ops.toFixed(0);

const groups: unknown[] = [];
for (const p of pairs) {
  const ours: number[] = [];
  const base: number[] = [];
  const ratios: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    gc?.();
    const o = await measure(p.ours, p.oursFn);
    gc?.();
    const bb = await measure(p.base, p.baseFn);
    ours.push(o);
    base.push(bb);
    ratios.push(bb / o);
  }
  const row = {
    group: p.group,
    spindel: { name: p.ours, opsPerSec: Math.round(median(ours)), usPerOp: 1e6 / median(ours) },
    baseline: { name: p.base, opsPerSec: Math.round(median(base)), usPerOp: 1e6 / median(base) },
    ratio: Number(median(ratios).toFixed(2)),
    ratioRange: [Number(Math.min(...ratios).toFixed(2)), Number(Math.max(...ratios).toFixed(2))],
  };
  groups.push(row);
  console.log(`\n${p.group}`);
  console.log(`  ${p.ours.padEnd(56)} ${fmt(row.spindel.opsPerSec).padStart(8)} ops/s`);
  console.log(`  ${p.base.padEnd(56)} ${fmt(row.baseline.opsPerSec).padStart(8)} ops/s`);
  console.log(`  ratio (spindel time / baseline time): ${row.ratio} (range ${row.ratioRange.join("–")})`);
}

// ---------------------------------------------------------------- mailbox throughput
const MSGS = 1000;
const mb = mailbox<number>();
async function mailboxBatch(): Promise<void> {
  const consumer = spin(async ($) => {
    let sum = 0;
    for (let i = 0; i < MSGS; i++) sum += await $.await(mb);
    return sum;
  });
  const done = ctx.value(consumer);
  for (let i = 0; i < MSGS; i++) mb.post(i, ctx);
  await done;
}

/** Reference: a minimal hand-written async queue (array + pending resolvers). */
class AsyncQueue<T> {
  private items: T[] = [];
  private waiting: ((v: T) => void)[] = [];
  post(v: T): void {
    const w = this.waiting.shift();
    if (w !== undefined) w(v);
    else this.items.push(v);
  }
  take(): Promise<T> {
    if (this.items.length > 0) return Promise.resolve(this.items.shift()!);
    return new Promise((r) => this.waiting.push(r));
  }
}
const q = new AsyncQueue<number>();
async function queueBatch(): Promise<void> {
  const done = (async () => {
    let sum = 0;
    for (let i = 0; i < MSGS; i++) sum += await q.take();
    return sum;
  })();
  for (let i = 0; i < MSGS; i++) q.post(i);
  await done;
}

async function msgsPerSec(fn: () => Promise<void>): Promise<number> {
  const bench = new Bench({ time: 500, warmupTime: 100 });
  bench.add("batch", fn);
  await bench.run();
  const r = bench.tasks[0]!.result as { throughput?: { mean: number } } | undefined;
  if (r?.throughput === undefined) throw new Error("mailbox benchmark failed");
  return r.throughput.mean * MSGS;
}

const mbRates: number[] = [];
const qRates: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  gc?.();
  mbRates.push(await msgsPerSec(mailboxBatch));
  gc?.();
  qRates.push(await msgsPerSec(queueBatch));
}
const mailboxRow = {
  scenario: `one consumer spin receiving ${MSGS} posted messages per run (post + hand-off + resume)`,
  mailboxMsgsPerSec: Math.round(median(mbRates)),
  referenceQueueMsgsPerSec: Math.round(median(qRates)),
  ratio: Number((median(qRates) / median(mbRates)).toFixed(2)),
};
console.log("\nmailbox throughput");
console.log(`  spindel mailbox          ${fmt(mailboxRow.mailboxMsgsPerSec).padStart(8)} msgs/s`);
console.log(`  hand-written async queue ${fmt(mailboxRow.referenceQueueMsgsPerSec).padStart(8)} msgs/s`);
console.log(`  ratio: ${mailboxRow.ratio}`);

const file = writeResults("combinators", {
  rounds: ROUNDS,
  batch: BATCH,
  note: "ratio = spindel time per op / baseline time per op (median of rounds; lower is better)",
  groups,
  mailbox: mailboxRow,
});
console.log(`\nwrote ${file}`);
ctx.dispose();
