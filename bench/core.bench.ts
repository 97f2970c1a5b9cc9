/**
 * Core benchmark (issue 2): spindel vs raw @preact/signals-core (and alien-signals as a second
 * reference), same process, same rounds. Ratios are spindel time / reference time (lower is
 * better; 1.10 means 10% slower). Writes bench/results/core.json.
 */
import * as P from "@preact/signals-core";
import * as A from "alien-signals";
import { createContext, defaultContext, type Signal, type Spin, signal, spin } from "../src/index.js";
import { type CaseResult, fmt, runCases, writeResults } from "./harness.js";
import { frameworks, out, preactFw, shapes, spindelFw } from "./shapes.js";

const only = process.env.BENCH_ONLY;
/** Results are accumulated here so the optimizer cannot drop the work. */
let sink = 0;
const rows: { group: string; results: CaseResult[]; ratios: Record<string, number> }[] = [];

function ratio(results: CaseResult[], ours: string, ref: string): number {
  const a = results.find((r) => r.name === ours)!;
  const b = results.find((r) => r.name === ref)!;
  return b.opsPerSec / a.opsPerSec; // time ratio
}

async function group(
  name: string,
  cases: Parameters<typeof runCases>[0],
  compare: [string, string][],
  opts?: Parameters<typeof runCases>[1],
) {
  if (only !== undefined && !name.includes(only)) return;
  const results = await runCases(cases, opts);
  const ratios: Record<string, number> = {};
  for (const [ours, ref] of compare)
    ratios[`${ours} / ${ref}`] = Number(ratio(results, ours, ref).toFixed(3));
  rows.push({ group: name, results, ratios });
  console.log(`\n${name}`);
  for (const r of results)
    console.log(
      `  ${r.name.padEnd(34)} ${fmt(r.opsPerSec).padStart(9)} ops/s  ${r.nsPerOp.toFixed(1)} ns/op`,
    );
  for (const [k, v] of Object.entries(ratios)) console.log(`  ratio ${k}: ${v.toFixed(3)}`);
}

// ---------------------------------------------------------------- js-reactivity-benchmark shapes (issue 9)
// First, on a clean heap (the later groups build large contexts). The same seven graphs built through one small interface for each of: spindel in a root context,
// spindel in a fork, raw preact, alien-signals; interleaved in one process.

const shapeRatios: Record<string, Record<string, number>> = {};
for (const [name, shape] of shapes) {
  if (only !== undefined && !name.includes(only)) continue;
  const fws = frameworks();
  const cases = fws.map((fw) => ({ name: `${name}: ${fw.name}`, fn: shape(fw) }));
  // a long warm-up: on a loaded machine V8's background compiler is starved, and spindel's larger
  // code would otherwise be measured before it is optimized (preact's small core is, early)
  await group(
    name,
    cases,
    [
      [cases[0]!.name, cases[2]!.name],
      [cases[1]!.name, cases[2]!.name],
      [cases[1]!.name, cases[0]!.name],
      [cases[0]!.name, cases[3]!.name],
    ],
    { warmupMs: 2000 },
  );
  shapeRatios[name] = rows[rows.length - 1]!.ratios;
}

// re-runs beside a large cached world (30k written signals, 10k cached spins in another context):
// per-run allocations must stay short-lived (V8 pretenured the `[]` literal of run logs once the
// cached logs survived, which made these re-runs 5-8x slower)
const cachedWorldGroups = ["shape diamond", "shape chain 1000"].map(
  (shapeName) =>
    [shapeName, `cached world: ${shapeName.replace("shape ", "")} beside 10k cached spins`] as const,
);
// the world is built only when one of its groups runs (it would weigh on every other group's heap)
if (cachedWorldGroups.some(([, name]) => only === undefined || name.includes(only))) {
  const world = createContext();
  const keep: unknown[] = [];
  for (let i = 0; i < 30_000; i++) {
    const s = signal(i);
    world.set(s, i + 1);
    keep.push(s);
  }
  for (let i = 0; i < 10_000; i++) {
    const s = keep[i] as Signal<number>;
    const t = spin(($) => $.track(s) * 2);
    keep.push(t);
    world.read(t);
  }
  for (const [shapeName, name] of cachedWorldGroups) {
    const shape = shapes.find(([n]) => n === shapeName)![1];
    const fws = [spindelFw(createContext(), "spindel root"), preactFw];
    await group(
      name,
      fws.map((fw) => ({ name: `${name}: ${fw.name}`, fn: shape(fw) })),
      [[`${name}: spindel root`, `${name}: preact`]],
      { warmupMs: 2000 },
    );
  }
  void keep;
}

// the synchronous read of a clean spin vs a preact computed read
{
  const ctx = createContext();
  const s = signal(1);
  const t = spin(($) => $.track(s) * 2);
  const f = createContext().fork();
  const ps = P.signal(1);
  const pc = P.computed(() => ps.value * 2);
  const as = A.signal(1);
  const ac = A.computed(() => as() * 2);
  ctx.read(t);
  f.read(t);
  await group(
    "read of a clean derived value",
    [
      {
        name: "spindel ctx.read(spin) root",
        fn: () => {
          for (let i = 0; i < 1000; i++) sink += ctx.read(t);
        },
        batch: 1000,
      },
      {
        name: "spindel ctx.read(spin) fork",
        fn: () => {
          for (let i = 0; i < 1000; i++) sink += f.read(t);
        },
        batch: 1000,
      },
      {
        name: "preact computed.value",
        fn: () => {
          for (let i = 0; i < 1000; i++) sink += pc.value;
        },
        batch: 1000,
      },
      {
        name: "alien computed()",
        fn: () => {
          for (let i = 0; i < 1000; i++) sink += ac();
        },
        batch: 1000,
      },
    ],
    [
      ["spindel ctx.read(spin) root", "preact computed.value"],
      ["spindel ctx.read(spin) fork", "preact computed.value"],
      ["spindel ctx.read(spin) root", "alien computed()"],
    ],
  );
}
if (Object.keys(shapeRatios).length > 0) {
  const pre = Object.values(shapeRatios).map((r) => Object.values(r)[0]!);
  const geo = Math.exp(pre.reduce((a, x) => a + Math.log(x), 0) / pre.length);
  console.log(`\ngeometric mean spindel root / preact over the shapes: ${geo.toFixed(2)}`);
}

// ---------------------------------------------------------------- signal read/write, no fork
{
  const s = signal(0);
  const p = P.signal(0);
  const a = A.signal(0);
  defaultContext();
  await group(
    "signal read (default context, no fork)",
    [
      {
        name: "spindel sig.value",
        fn: () => {
          for (let i = 0; i < 1000; i++) sink += s.value;
        },
        batch: 1000,
      },
      {
        name: "preact sig.value",
        fn: () => {
          for (let i = 0; i < 1000; i++) sink += p.value;
        },
        batch: 1000,
      },
      {
        name: "alien sig()",
        fn: () => {
          for (let i = 0; i < 1000; i++) sink += a();
        },
        batch: 1000,
      },
    ],
    [
      ["spindel sig.value", "preact sig.value"],
      ["spindel sig.value", "alien sig()"],
    ],
  );
  let n = 0;
  await group(
    "signal write (default context, no observers)",
    [
      {
        name: "spindel sig.value =",
        fn: () => {
          for (let i = 0; i < 1000; i++) s.value = ++n;
        },
        batch: 1000,
      },
      {
        name: "preact sig.value =",
        fn: () => {
          for (let i = 0; i < 1000; i++) p.value = ++n;
        },
        batch: 1000,
      },
      {
        name: "alien sig(v)",
        fn: () => {
          for (let i = 0; i < 1000; i++) a(++n);
        },
        batch: 1000,
      },
    ],
    [
      ["spindel sig.value =", "preact sig.value ="],
      ["spindel sig.value =", "alien sig(v)"],
    ],
  );
}

// ---------------------------------------------------------------- chain of 1000
{
  const ctx = createContext();
  const s = signal(0);
  let prev: Spin<number> = spin(($) => $.track(s));
  for (let i = 1; i < 1000; i++) {
    const p0 = prev;
    prev = spin(($) => $.track(p0) + 1);
  }
  ctx.observe(prev, (v) => {
    sink = v;
  });
  const ps = P.signal(0);
  let pc: P.ReadonlySignal<number> = P.computed(() => ps.value);
  for (let i = 1; i < 1000; i++) {
    const p0 = pc;
    pc = P.computed(() => p0.value + 1);
  }
  const ptail = pc;
  P.effect(() => {
    sink = ptail.value;
  });
  const as = A.signal(0);
  let ac: () => number = A.computed(() => as());
  for (let i = 1; i < 1000; i++) {
    const a0 = ac;
    ac = A.computed(() => a0() + 1);
  }
  const atail = ac;
  A.effect(() => {
    sink = atail();
  });
  let n = 0;
  await group(
    "chain of 1000: one write, observed tail",
    [
      { name: "spindel 1000 sync spins", fn: () => ctx.set(s, ++n) },
      {
        name: "preact 1000 computeds",
        fn: () => {
          ps.value = ++n;
        },
      },
      {
        name: "alien 1000 computeds",
        fn: () => {
          as(++n);
        },
      },
    ],
    [
      ["spindel 1000 sync spins", "preact 1000 computeds"],
      ["spindel 1000 sync spins", "alien 1000 computeds"],
    ],
  );
}

// ---------------------------------------------------------------- fan-out 1000
{
  const ctx = createContext();
  const s = signal(0);
  for (let i = 0; i < 1000; i++)
    ctx.observe(
      spin(($) => $.track(s) + i),
      (v) => {
        sink += v;
      },
    );
  const ps = P.signal(0);
  for (let i = 0; i < 1000; i++) {
    const c = P.computed(() => ps.value + i);
    P.effect(() => {
      sink += c.value;
    });
  }
  const as = A.signal(0);
  for (let i = 0; i < 1000; i++) {
    const c = A.computed(() => as() + i);
    A.effect(() => {
      sink += c();
    });
  }
  let n = 0;
  await group(
    "fan-out 1000: one write, 1000 observed",
    [
      { name: "spindel fan-out", fn: () => ctx.set(s, ++n) },
      {
        name: "preact fan-out",
        fn: () => {
          ps.value = ++n;
        },
      },
      {
        name: "alien fan-out",
        fn: () => {
          as(++n);
        },
      },
    ],
    [
      ["spindel fan-out", "preact fan-out"],
      ["spindel fan-out", "alien fan-out"],
    ],
  );
}

// ---------------------------------------------------------------- diamond
{
  const ctx = createContext();
  const a = signal(0);
  const b = spin(($) => $.track(a) * 2);
  const c = spin(($) => $.track(a) + 10);
  const d = spin(($) => $.track(b) + $.track(c));
  ctx.observe(d, (v) => {
    sink = v;
  });
  const pa = P.signal(0);
  const pb = P.computed(() => pa.value * 2);
  const pc = P.computed(() => pa.value + 10);
  const pd = P.computed(() => pb.value + pc.value);
  P.effect(() => {
    sink = pd.value;
  });
  const aa = A.signal(0);
  const ab = A.computed(() => aa() * 2);
  const ac = A.computed(() => aa() + 10);
  const ad = A.computed(() => ab() + ac());
  A.effect(() => {
    sink = ad();
  });
  let n = 0;
  await group(
    "diamond: one write",
    [
      { name: "spindel diamond", fn: () => ctx.set(a, ++n) },
      {
        name: "preact diamond",
        fn: () => {
          pa.value = ++n;
        },
      },
      {
        name: "alien diamond",
        fn: () => {
          aa(++n);
        },
      },
    ],
    [
      ["spindel diamond", "preact diamond"],
      ["spindel diamond", "alien diamond"],
    ],
  );
}

// ---------------------------------------------------------------- create + dispose
{
  const ctx = createContext();
  await group(
    "create + dispose: signal, derived, observer",
    [
      {
        name: "spindel create+dispose",
        fn: () => {
          const s = signal(1);
          const stop = ctx.observe(
            spin(($) => $.track(s) + 1),
            (v) => {
              sink += v;
            },
          );
          stop();
        },
      },
      {
        name: "preact create+dispose",
        fn: () => {
          const s = P.signal(1);
          const c = P.computed(() => s.value + 1);
          const stop = P.effect(() => {
            sink += c.value;
          });
          stop();
        },
      },
      {
        name: "alien create+dispose",
        fn: () => {
          const s = A.signal(1);
          const c = A.computed(() => s() + 1);
          const stop = A.effect(() => {
            sink += c();
          });
          stop();
        },
      },
    ],
    [
      ["spindel create+dispose", "preact create+dispose"],
      ["spindel create+dispose", "alien create+dispose"],
    ],
  );
}

// ---------------------------------------------------------------- async re-run
{
  const ctx = createContext();
  const s = signal(0);
  const constant = spin(() => 1);
  ctx.observe(
    spin(async ($) => $.track(s) + (await $.await(constant))),
    () => {},
  );
  const ctx2 = createContext();
  const s2 = signal(0);
  ctx2.observe(
    spin(async ($) => {
      void $.signal;
      return $.track(s2) + (await $.await(constant));
    }),
    () => {},
  );
  // hand-rolled async derived on preact: effect + run id + await + result into a signal
  const ps = P.signal(0);
  const out = P.signal(0);
  let runId = 0;
  let pending: Promise<void> = Promise.resolve();
  P.effect(() => {
    const v = ps.value;
    const id = ++runId;
    pending = (async () => {
      const r = await Promise.resolve(v + 1);
      if (id === runId) out.value = r;
    })();
  });
  const floor = async () => 1;
  let n = 0;
  await group(
    "async spin re-run: write + settled (1 track, 1 await)",
    [
      {
        name: "spindel async re-run",
        fn: async () => {
          ctx.set(s, ++n);
          await ctx.settled();
        },
      },
      {
        name: "spindel async re-run with $.signal",
        fn: async () => {
          ctx2.set(s2, ++n);
          await ctx2.settled();
        },
      },
      {
        name: "hand-rolled preact async derived",
        fn: async () => {
          ps.value = ++n;
          await pending;
        },
      },
      {
        name: "floor: await async fn",
        fn: async () => {
          await floor();
        },
      },
    ],
    [
      ["spindel async re-run", "hand-rolled preact async derived"],
      ["spindel async re-run with $.signal", "hand-rolled preact async derived"],
    ],
  );
}

// ---------------------------------------------------------------- fork creation is size-independent
{
  function world(signals: number, spins: number) {
    const ctx = createContext();
    const sigs: Signal<number>[] = [];
    for (let i = 0; i < signals; i++) {
      const s = signal(i);
      ctx.set(s, i + 1);
      sigs.push(s);
    }
    const cached: Spin<number>[] = [];
    for (let i = 0; i < spins; i++) {
      const s = sigs[i % sigs.length]!;
      const t = spin(($) => $.track(s) * 2);
      cached.push(t);
      void ctx.value(t);
    }
    return { ctx, keep: [sigs, cached] };
  }
  const small = world(1_000, 10);
  const big = world(100_000, 10);
  const fewSpins = world(1_000, 10);
  const manySpins = world(1_000, 10_000);
  await group(
    "fork creation: size independence",
    [
      {
        name: "fork of 1k signals",
        fn: () => {
          sink += small.ctx.fork() ? 1 : 0;
        },
      },
      {
        name: "fork of 100k signals",
        fn: () => {
          sink += big.ctx.fork() ? 1 : 0;
        },
      },
      {
        name: "fork with 10 cached spins",
        fn: () => {
          sink += fewSpins.ctx.fork() ? 1 : 0;
        },
      },
      {
        name: "fork with 10k cached spins",
        fn: () => {
          sink += manySpins.ctx.fork() ? 1 : 0;
        },
      },
    ],
    [
      ["fork of 100k signals", "fork of 1k signals"],
      ["fork with 10k cached spins", "fork with 10 cached spins"],
    ],
  );
  void [small.keep, big.keep, fewSpins.keep, manySpins.keep];
}

const file = writeResults("core", {
  note: "ratio = spindel time per op / reference time per op (lower is better); medians of 7 round-robin samples",
  groups: rows,
});
console.log(`\nwrote ${file}`);
if (sink + out.sink === Number.MIN_VALUE) console.log(sink, out.sink);
