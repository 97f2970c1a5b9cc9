/**
 * A read in a fork must cost what it costs in the root plus the overlay lookup: counted in log
 * walks (not time; every re-check walks a log), so a quadratic or exponential re-check fails at once.
 */
import { type Context, createContext, type Signal, type Spin, signal, spin } from "spindel";
import { describe, expect, test } from "vitest";
import { stats } from "../../src/core/kernel/engine.js";

/** Log walks done by `fn` (synchronous part). */
function work(fn: () => unknown): number {
  const c0 = stats.checks;
  const out = fn();
  if (out instanceof Promise) out.catch(() => {});
  return stats.checks - c0;
}

interface Graph {
  src: Signal<number>;
  top: Spin<number>;
}

function chain(n: number): Graph {
  const src = signal(0);
  let prev = spin(($) => $.track(src));
  for (let i = 1; i < n; i++) {
    const p = prev;
    prev = spin(($) => $.track(p) + 1);
  }
  return { src, top: prev };
}

function ladder(depth: number): Graph {
  const src = signal(0);
  let a = spin(($) => $.track(src));
  let b = spin(($) => $.track(src) + 1);
  for (let i = 0; i < depth; i++) {
    const pa = a;
    const pb = b;
    a = spin(($) => $.track(pa) + $.track(pb));
    b = spin(($) => $.track(pa) - $.track(pb));
  }
  return { src, top: a };
}

/** The cellx shape: layers of four cells, each reading two of the layer below. */
function cellx(layers: number): Graph {
  const src = signal(1);
  let a = spin(($) => $.track(src));
  let b = spin(($) => $.track(src) * 2);
  let c = spin(($) => $.track(src) * 3);
  let d = spin(($) => $.track(src) * 4);
  for (let i = 0; i < layers; i++) {
    const [pa, pb, pc, pd] = [a, b, c, d];
    a = spin(($) => $.track(pb));
    b = spin(($) => $.track(pa) - $.track(pc));
    c = spin(($) => $.track(pb) + $.track(pd));
    d = spin(($) => $.track(pc));
  }
  const [fa, fb, fc, fd] = [a, b, c, d];
  return { src, top: spin(($) => $.track(fa) + $.track(fb) + $.track(fc) + $.track(fd)) };
}

/** Work of: a first read, a write then a read, and a second read with nothing changed. */
function measure(ctx: Context, g: Graph): { first: number; afterWrite: number; again: number } {
  const first = work(() => ctx.value(g.top));
  ctx.set(g.src, ctx.get(g.src) + 1);
  const afterWrite = work(() => ctx.value(g.top));
  const again = work(() => ctx.value(g.top));
  return { first, afterWrite, again };
}

describe("fork scaling", () => {
  test("a chain read in a fork grows linearly, like in the root", async () => {
    for (const n of [100, 400]) {
      const root = measure(createContext(), chain(n));
      const fork = measure(createContext().fork(), chain(n));
      expect(fork.afterWrite).toBeLessThanOrEqual(3 * root.afterWrite + 10);
      expect(fork.first).toBeLessThanOrEqual(3 * root.first + 10);
      expect(fork.again).toBeLessThanOrEqual(2);
      expect(fork.afterWrite).toBeLessThanOrEqual(4 * n);
    }
    // and the values are right
    const g = chain(50);
    const f = createContext().fork();
    f.set(g.src, 7);
    expect(await f.value(g.top)).toBe(56);
  });

  test("a ladder of depth 22 (two spins per layer reading both below) is not exponential in a fork", async () => {
    const g = ladder(22);
    const root = createContext();
    const r = measure(root, g);
    const fork = root.fork();
    const f = measure(fork, g);
    expect(f.afterWrite).toBeLessThanOrEqual(3 * r.afterWrite + 10);
    expect(f.again).toBeLessThanOrEqual(2);
    expect(await fork.value(g.top)).not.toBe(await root.value(g.top));
    // a fork of a root that already computed the graph: inherited nodes resolve once per epoch
    const g2 = ladder(22);
    const root2 = createContext();
    await root2.value(g2.top);
    const f2 = root2.fork();
    expect(work(() => f2.value(g2.top))).toBeLessThanOrEqual(500);
    expect(await f2.value(g2.top)).toBe(await root2.value(g2.top));
  });

  test("a 1000-layer cellx graph built in a fork costs what it costs in the root", async () => {
    const root = measure(createContext(), cellx(1000));
    const forkCtx = createContext().fork();
    const g = cellx(1000);
    const fork = measure(forkCtx, g);
    expect(fork.first).toBeLessThanOrEqual(3 * root.first + 10);
    expect(fork.afterWrite).toBeLessThanOrEqual(3 * root.afterWrite + 10);
    expect(fork.again).toBeLessThanOrEqual(2);
    const check = createContext();
    check.set(g.src, forkCtx.get(g.src));
    expect(await forkCtx.value(g.top)).toBe(await check.value(g.top));
  });

  test("an ancestor's write is still seen by a fork's own nodes", async () => {
    const root = createContext();
    const a = signal(1);
    const b = signal(1);
    const s = spin(($) => $.track(a) + $.track(b));
    const fork = root.fork();
    fork.set(b, 10); // the fork owns a node of s
    expect(await fork.value(s)).toBe(11);
    root.set(a, 5);
    expect(await fork.value(s)).toBe(15);
    expect(await root.value(s)).toBe(6);
  });
});
