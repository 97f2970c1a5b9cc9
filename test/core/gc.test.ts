import { createContext, defaultContext, signal, spin } from "spindel";
import { expect, test } from "vitest";
import { collectUntil, gc } from "./helpers.js";

test.runIf(gc !== undefined)(
  "a spin nobody references or observes is collected even if it tracks signals",
  async () => {
    const ctx = createContext();
    const s = signal(1);
    const before = ctx._nodeCount;
    await (async () => {
      // observed once, then unobserved: released from the map at once, they live on their handles
      for (let i = 0; i < 100; i++)
        ctx.observe(
          spin(($) => $.track(s) + i),
          () => {},
        )();
      // read once and never tracked: detached, nothing is kept at all
      for (let i = 0; i < 100; i++) await ctx.value(spin(($) => $.track(s) + i));
    })();
    expect(ctx._nodeCount).toBe(before);
    // a spin with nested spins stays in the map when unobserved (with its child): it is dropped
    // when its handle is collected
    await (async () => {
      for (let i = 0; i < 100; i++)
        ctx.observe(
          spin(($) => $.track($.spin(($$) => $$.track(s) + i))),
          () => {},
        )();
    })();
    expect(ctx._nodeCount).toBe(before + 200);
    expect(await collectUntil(() => ctx._nodeCount === before)).toBe(true);
    ctx.set(s, 2); // nothing left to re-run
    expect(ctx._nodeCount).toBe(before);
  },
);

test.runIf(gc !== undefined)("an observed spin is not collected while observed", async () => {
  const ctx = createContext();
  const s = signal(1);
  const seen: number[] = [];
  const stop = ctx.observe(
    spin(($) => $.track(s)),
    (v) => seen.push(v),
  );
  await collectUntil(() => false);
  ctx.set(s, 2);
  expect(seen).toEqual([1, 2]);
  stop();
  expect(await collectUntil(() => ctx._nodeCount === 0)).toBe(true);
});

test("the test runner exposes gc (so the GC tests above really run)", () => {
  expect(typeof gc).toBe("function");
});

test.runIf(gc !== undefined)(
  "cells of unreferenced, unkeyed signals are dropped (default and other contexts)",
  async () => {
    const ctx = createContext();
    const dflt = defaultContext();
    const fork = ctx.fork();
    const other = createContext();
    const before = dflt.cells.size;
    (() => {
      for (let i = 0; i < 200; i++) {
        const s = signal(i);
        ctx.set(s, i + 1);
        dflt.set(s, i + 2);
        // one registration per handle serves every context that made a cell for it
        if (i % 2 === 0) fork.set(s, i + 3);
        if (i % 4 === 0) other.set(s, i + 4);
      }
    })();
    const keyed = signal(0, { key: "gc.keyed" });
    ctx.set(keyed, 5);
    expect(ctx.cells.size).toBe(201);
    expect(fork.cells.size).toBe(100);
    expect(other.cells.size).toBe(50);
    expect(
      await collectUntil(
        () =>
          ctx.cells.size === 1 &&
          fork.cells.size === 0 &&
          other.cells.size === 0 &&
          [...dflt.cells.entries()].length <= before,
      ),
    ).toBe(true);
    expect(ctx.get(keyed)).toBe(5); // keyed state is kept
  },
);

test.runIf(gc !== undefined)(
  "the cleanups of a spin read but never observed run when its handle is collected",
  async () => {
    const ctx = createContext();
    const s = signal(1);
    const cleaned: number[] = [];
    const keep = spin(($) => $.track(s));
    // a keyed spin stays in the map (never released) until its handle is collected
    await (async () => {
      const reader = spin(
        ($) => {
          const v = $.track(s);
          $.onCleanup(() => cleaned.push(v));
          return v;
        },
        { key: "gc-cleanup-reader" },
      );
      expect(await ctx.value(reader)).toBe(1);
      const once = spin(($) => {
        const v = $.track(s) + 10;
        $.onCleanup(() => cleaned.push(v));
        return v;
      });
      expect(ctx.read(once)).toBe(11);
    })();
    expect(cleaned).toEqual([]);
    expect(await collectUntil(() => cleaned.length === 2)).toBe(true);
    expect(cleaned.sort()).toEqual([1, 11]);
    expect(ctx.read(keep)).toBe(1);
  },
);

test.runIf(gc !== undefined)(
  "the default context does not keep an entry per unkeyed signal ever written (swept as it grows)",
  async () => {
    const dflt = defaultContext();
    // 40 turns of 1,000 signals written and dropped: without the sweep 40,000 dead entries stay;
    // with it, at most about twice the entries alive at the last sweep (a turn's handles stay
    // alive until the turn ends: its weak references keep them)
    for (let round = 0; round < 40; round++) {
      for (let i = 0; i < 1000; i++) signal(i).value = i + 1;
      gc!();
      await new Promise((r) => setImmediate(r));
    }
    expect(dflt.cells.size).toBeLessThan(10_000);
    // signals still referenced keep their entries through the sweeps
    const kept = Array.from({ length: 3000 }, (_, i) => signal(i));
    for (const s of kept) s.value = -1;
    for (let i = 0; i < 5000; i++) signal(i).value = i + 1;
    gc!();
    for (let i = 0; i < 5000; i++) signal(i).value = i + 1;
    expect(kept.every((s) => dflt.cells.get(s.id) === s && s.value === -1)).toBe(true);
  },
);
