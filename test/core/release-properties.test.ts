/**
 * The root's release of nodes nobody needs (docs/concepts.md, "Garbage collection and disposal"),
 * over random graphs: signals and synchronous spins with dynamic dependencies (each spin reads a
 * condition, then one of two sources), observed, stopped, written, read, re-run and forked at
 * random. Every read and every observation must equal a from-scratch computation of the graph;
 * after every step the node map must hold together (a node in the map reads only nodes in the
 * map, and only nodes in the map observe anything); and once everything is stopped and the
 * handles are dropped, the context must hold nothing. Each property runs in a root and in a fork
 * (a fork releases its nodes onto their handles as a root does).
 */
import fc from "fast-check";
import { type Context, createContext, type Signal, type Spin, signal, spin } from "spindel";
import { describe, expect, test } from "vitest";
import { Flag } from "../../src/core/kernel/flags.js";
import { Kind, kindOf } from "../../src/core/kernel/node.js";
import { tick } from "./helpers.js";

const SIGNALS = 3;
const gc = (globalThis as { gc?: () => void }).gc;

/**
 * Spin `i` reads source `cond`, then `a` (cond > 0) or `b`. A source is an index into the signals,
 * then the spins below `i` ({@link sourceIndex}); {@link BELOW} is the spin just below (chains).
 */
interface SpinSpec {
  readonly cond: number;
  readonly a: number;
  readonly b: number;
  readonly k: number;
  /** Returns the sign of that only: re-runs often end with the same value (its readers stay valid). */
  readonly coarse: boolean;
}

type Op =
  | { kind: "write"; sig: number; value: number }
  | { kind: "read"; spin: number }
  | { kind: "observe"; spin: number }
  | { kind: "stop"; which: number }
  | { kind: "rerun"; spin: number }
  | { kind: "fork"; sig: number; value: number; spin: number; keep: boolean }
  | { kind: "disposeForks" }
  /** Let the event loop turn (end-of-job work: handles registered for reaping, microtasks). */
  | { kind: "yield" }
  /** Observe and stop (the graph under it is released), write, then read it (re-verified detached). */
  | { kind: "dropAndRead"; spin: number; sig: number; value: number };

const BELOW = 1000;
const src = fc.oneof(fc.nat(20), fc.constant(BELOW));
const spinSpec: fc.Arbitrary<SpinSpec> = fc.record({
  cond: src,
  a: src,
  b: src,
  k: fc.integer({ min: -2, max: 2 }),
  coarse: fc.boolean(),
});

/** The signal (below SIGNALS) or spin (SIGNALS + its index) source `src` of spin `i` names. */
function sourceIndex(i: number, src: number): number {
  return src === BELOW && i > 0 ? SIGNALS + i - 1 : src % (SIGNALS + i);
}

const value = fc.integer({ min: -3, max: 3 });
const opOf = (spins: number): fc.Arbitrary<Op> =>
  fc.oneof(
    {
      weight: 3,
      arbitrary: fc.record({ kind: fc.constant("write" as const), sig: fc.nat(SIGNALS - 1), value }),
    },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant("read" as const), spin: fc.nat(spins - 1) }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant("observe" as const), spin: fc.nat(spins - 1) }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant("stop" as const), which: fc.nat(7) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("rerun" as const), spin: fc.nat(spins - 1) }) },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant("fork" as const),
        sig: fc.nat(SIGNALS - 1),
        value,
        spin: fc.nat(spins - 1),
        keep: fc.boolean(),
      }),
    },
    { weight: 1, arbitrary: fc.constant({ kind: "disposeForks" as const }) },
    { weight: 3, arbitrary: fc.constant({ kind: "yield" as const }) },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant("dropAndRead" as const),
        spin: fc.nat(spins - 1),
        sig: fc.nat(SIGNALS - 1),
        value,
      }),
    },
  );

const scenario = fc
  .array(spinSpec, { minLength: 1, maxLength: 7 })
  .chain((specs) => fc.tuple(fc.constant(specs), fc.array(opOf(specs.length), { maxLength: 40 })));

type Source = Signal<number> | Spin<number>;

/** One spin of the graph, made in its own scope (its body holds its three sources' handles only). */
function makeSpin(cond: Source, a: Source, b: Source, k: number, coarse: boolean): Spin<number> {
  return spin(($) => {
    const v = $.track(cond) > 0 ? $.track(a) + k : $.track(b) - k;
    return coarse ? Math.sign(v) : v;
  });
}

/** What the graph computes for signal values `sigs`, from scratch. */
function model(specs: readonly SpinSpec[], sigs: readonly number[]): number[] {
  const out: number[] = [];
  const at = (i: number, src: number): number => {
    const s = sourceIndex(i, src);
    return s < SIGNALS ? sigs[s]! : out[s - SIGNALS]!;
  };
  specs.forEach((sp, i) => {
    const v = at(i, sp.cond) > 0 ? at(i, sp.a) + sp.k : at(i, sp.b) - sp.k;
    out.push(sp.coarse ? Math.sign(v) : v);
  });
  return out;
}

/**
 * The node map holds together: nothing detached in it, its nodes read and are observed by nodes in
 * it, and each is dropped when its handle is collected (registered for that, or about to be).
 */
function checkMap(ctx: Context): void {
  for (const n of ctx.nodes.values()) {
    expect(n.flags & Flag.DETACHED).toBe(0);
    expect(n.flags & (Flag.WATCHED | Flag.WATCH_PENDING)).not.toBe(0);
    for (const e of n.log)
      if (kindOf(e) === Kind.Spin && e.ref !== null && (e.ref as { ctx: unknown }).ctx === ctx)
        expect(ctx.nodes.get(e.id)).toBe(e.ref);
    if (n.observers !== null) for (const o of n.observers) expect(ctx.nodes.get(o.id)).toBe(o);
  }
  for (const [, cell] of ctx.cells.entries())
    if (cell.observers !== null) for (const o of cell.observers) expect(ctx.nodes.get(o.id)).toBe(o);
  // a fork's observers of inherited sources: nodes in the map, and no source without one
  for (const ext of [ctx.extSig, ctx.extSpin])
    for (const obs of ext?.values() ?? []) {
      expect(obs.size).toBeGreaterThan(0);
      for (const o of obs) expect(ctx.nodes.get(o.id)).toBe(o);
    }
}

function cellObservers(ctx: Context): number {
  let k = 0;
  for (const [, cell] of ctx.cells.entries()) k += cell.observers?.size ?? 0;
  for (const ext of [ctx.extSig, ctx.extSpin]) for (const obs of ext?.values() ?? []) k += obs.size;
  return k;
}

/** Build the graph in `ctx` and play `ops` on it, checking every step; stop everything at the end. */
async function play(ctx: Context, specs: readonly SpinSpec[], ops: readonly Op[]): Promise<void> {
  const sigs = Array.from({ length: SIGNALS }, (_, i) => signal(i - 1));
  const values = sigs.map((_, i) => i - 1);
  const spins: Spin<number>[] = [];
  const source = (i: number, src: number): Source => {
    const s = sourceIndex(i, src);
    return s < SIGNALS ? sigs[s]! : spins[s - SIGNALS]!;
  };
  specs.forEach((sp, i) => {
    spins.push(makeSpin(source(i, sp.cond), source(i, sp.a), source(i, sp.b), sp.k, sp.coarse));
  });
  const observations: { spin: number; last: number | undefined; stop: () => void }[] = [];
  const forks: Context[] = [];
  for (const o of ops) {
    switch (o.kind) {
      case "write":
        ctx.set(sigs[o.sig]!, o.value);
        values[o.sig] = o.value;
        break;
      case "read":
        expect(ctx.read(spins[o.spin]!)).toBe(model(specs, values)[o.spin]);
        break;
      case "observe": {
        const entry = { spin: o.spin, last: undefined as number | undefined, stop: () => {} };
        entry.stop = ctx.observe(spins[o.spin]!, (v) => {
          entry.last = v;
        });
        observations.push(entry);
        break;
      }
      case "stop": {
        if (observations.length === 0) break;
        const [gone] = observations.splice(o.which % observations.length, 1);
        gone!.stop();
        break;
      }
      case "rerun":
        ctx.rerun(spins[o.spin]!);
        break;
      case "fork": {
        const f = ctx.fork();
        f.set(sigs[o.sig]!, o.value);
        const inFork = values.slice();
        inFork[o.sig] = o.value;
        expect(f.read(spins[o.spin]!)).toBe(model(specs, inFork)[o.spin]);
        if (o.keep) forks.push(f);
        else f.dispose();
        break;
      }
      case "disposeForks":
        for (const f of forks.splice(0)) f.dispose();
        break;
      case "yield":
        await tick();
        break;
      case "dropAndRead":
        ctx.observe(spins[o.spin]!, () => {})();
        ctx.set(sigs[o.sig]!, o.value);
        values[o.sig] = o.value;
        expect(ctx.read(spins[o.spin]!)).toBe(model(specs, values)[o.spin]);
        break;
    }
    const expected = model(specs, values);
    for (const ob of observations) expect(ob.last).toBe(expected[ob.spin]);
    checkMap(ctx);
  }
  const expected = model(specs, values);
  for (let i = 0; i < spins.length; i++) expect(ctx.read(spins[i]!)).toBe(expected[i]);
  for (const ob of observations) ob.stop();
  for (const f of forks) f.dispose();
  checkMap(ctx);
}

describe.each([
  ["a root", () => createContext()],
  ["a fork", () => createContext().fork()],
] as const)("in %s", (_, make) => {
  test("random graphs observed, stopped, written, read, re-run and forked agree with a from-scratch model", async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ([specs, ops]) => {
        await play(make(), specs, ops);
      }),
      { numRuns: Number(process.env.RUNS ?? 300), seed: Number(process.env.SEED ?? 7) },
    );
  });

  test("random graphs only observed, written and stopped leave nothing in the map, at once", () => {
    fc.assert(
      fc.property(scenario, ([specs, ops]) => {
        const ctx = make();
        const sigs = Array.from({ length: SIGNALS }, (_, i) => signal(i - 1));
        const spins: Spin<number>[] = [];
        const source = (i: number, src: number): Source => {
          const s = sourceIndex(i, src);
          return s < SIGNALS ? sigs[s]! : spins[s - SIGNALS]!;
        };
        specs.forEach((sp, i) => {
          spins.push(makeSpin(source(i, sp.cond), source(i, sp.a), source(i, sp.b), sp.k, sp.coarse));
        });
        const values = sigs.map((_, i) => i - 1);
        const stops: { spin: number; last: number | undefined; stop: () => void }[] = [];
        for (const o of ops) {
          if (o.kind === "write") {
            ctx.set(sigs[o.sig]!, o.value);
            values[o.sig] = o.value;
          } else if (o.kind === "observe") {
            const entry = { spin: o.spin, last: undefined as number | undefined, stop: () => {} };
            entry.stop = ctx.observe(spins[o.spin]!, (v) => {
              entry.last = v;
            });
            stops.push(entry);
          } else if (o.kind === "stop" && stops.length > 0)
            stops.splice(o.which % stops.length, 1)[0]!.stop();
          const expected = model(specs, values);
          for (const ob of stops) expect(ob.last).toBe(expected[ob.spin]);
          checkMap(ctx);
        }
        for (const ob of stops) ob.stop();
        expect(ctx._nodeCount).toBe(0);
        expect(cellObservers(ctx)).toBe(0);
      }),
      { numRuns: Number(process.env.RUNS ?? 300), seed: Number(process.env.SEED ?? 7) },
    );
  });

  test.runIf(gc !== undefined)(
    "once everything is stopped and the handles are dropped, the context holds nothing",
    async () => {
      await fc.assert(
        fc.asyncProperty(scenario, async ([specs, ops]) => {
          const ctx = make();
          await play(ctx, specs, ops);
          let ok = false;
          for (let i = 0; i < 40 && !ok; i++) {
            gc!();
            await tick();
            ok = ctx._nodeCount === 0 && cellObservers(ctx) === 0;
          }
          expect({ nodes: ctx._nodeCount, observers: cellObservers(ctx) }).toEqual({
            nodes: 0,
            observers: 0,
          });
        }),
        { numRuns: Number(process.env.GC_RUNS ?? 25), seed: Number(process.env.SEED ?? 7) },
      );
    },
  );
});
