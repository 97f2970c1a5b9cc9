/**
 * A root's node made for an unkeyed top-level handle enters the node map at the end of the job, with
 * its handle's registration (`watchSoon`, Flag.MAP_PENDING), and a node released in the job it was
 * made in never enters it (docs/performance.md, 2026-12-07, 20:00; `Context.nodes`). Everything that
 * reads the map sees it complete: snapshots, forks, dispose, the map itself.
 */
import { createContext, restoreSnapshot, type Signal, type Spin, signal, spin } from "spindel";
import { describe, expect, test } from "vitest";
import { tick } from "./helpers.js";

/** The raw map of `ctx` with its `set` calls counted. */
function countSets(ctx: ReturnType<typeof createContext>): { n: number } {
  const count = { n: 0 };
  const map = ctx._nodes;
  const set = map.set.bind(map);
  map.set = (k, v) => {
    count.n++;
    return set(k, v);
  };
  return count;
}

function derived(src: Signal<number> | Spin<number>, f: (v: number) => number): Spin<number> {
  return spin(($) => f($.track(src)));
}

describe("a root's node map entry waits for the end of the job", () => {
  test("a graph observed and stopped in one job never enters the map", async () => {
    const ctx = createContext();
    const sets = countSets(ctx);
    for (let i = 0; i < 50; i++) {
      const s = signal(i);
      const c = derived(s, (v) => v * 2);
      let seen = 0;
      const stop = ctx.observe(
        derived(c, (v) => v + 1),
        (v) => {
          seen = v;
        },
      );
      ctx.set(s, i + 1);
      expect(seen).toBe(2 * (i + 1) + 1);
      stop();
    }
    expect(sets.n).toBe(0);
    expect(ctx.nodes.size).toBe(0);
    await tick();
    expect(sets.n).toBe(0);
    expect(ctx.nodes.size).toBe(0);
  });

  test("the map read in the job that made the node holds it; the end of the job leaves it there", async () => {
    const ctx = createContext();
    const s = signal(1);
    const c = derived(s, (v) => v * 2);
    const stop = ctx.observe(c, () => {});
    expect(ctx.nodes.get(c.id)).toBeDefined();
    await tick();
    expect(ctx.nodes.get(c.id)).toBeDefined();
    stop();
    expect(ctx.nodes.has(c.id)).toBe(false);
  });

  test("nodes released far from the end of the pending list leave nothing in the map", async () => {
    const ctx = createContext();
    const s = signal(1);
    const spins = Array.from({ length: 40 }, (_, i) => derived(s, (v) => v + i));
    const stops = spins.map((x) => ctx.observe(x, () => {}));
    // the first ones sit deep in the list: released there, they must not be entered at its flush
    for (let i = 0; i < 20; i++) stops[i]!();
    await tick();
    for (let i = 0; i < 40; i++) expect(ctx.nodes.has(spins[i]!.id)).toBe(i >= 20);
    ctx.set(s, 2);
    for (let i = 20; i < 40; i++) expect(ctx.read(spins[i]!)).toBe(2 + i);
    for (let i = 20; i < 40; i++) stops[i]!();
    expect(ctx.nodes.size).toBe(0);
  });

  test("a snapshot taken in the job holds the node; a root restored from it serves the live handle", () => {
    const ctx = createContext();
    const s = signal(3);
    let runs = 0;
    const c = spin(($) => {
      runs++;
      return $.track(s) * 2;
    });
    const stop = ctx.observe(c, () => {});
    const snap = ctx.snapshot();
    stop();
    expect(runs).toBe(1);
    const r = restoreSnapshot(snap);
    // the handle was taken by `ctx`, not by `r`: `r` finds the node by id, restored
    expect(r.read(c)).toBe(6);
    expect(runs).toBe(1);
  });

  test("a restored root finds its node of a handle no root took yet", () => {
    const f = createContext().fork();
    const s = signal(4);
    let runs = 0;
    const c = spin(($) => {
      runs++;
      return $.track(s) + 1;
    });
    f.read(c);
    expect(runs).toBe(1);
    const r = restoreSnapshot(f.snapshot());
    let seen = 0;
    r.observe(c, (v) => {
      seen = v;
    });
    expect(seen).toBe(5);
    expect(runs).toBe(1);
  });

  test("a fork made in the job reads the root's node without re-running it", () => {
    const ctx = createContext();
    const s = signal(1);
    let runs = 0;
    const c = spin(($) => {
      runs++;
      return $.track(s) * 10;
    });
    ctx.observe(c, () => {});
    const f = ctx.fork();
    expect(f.read(c)).toBe(10);
    expect(runs).toBe(1);
    f.set(s, 2);
    expect(f.read(c)).toBe(20);
    expect(ctx.read(c)).toBe(10);
  });

  test("dispose in the job reaches a node still waiting for its entry", () => {
    const ctx = createContext();
    const s = signal(1);
    let cleaned = 0;
    const c = spin(($) => {
      $.onCleanup(() => {
        cleaned++;
      });
      return $.track(s);
    });
    ctx.observe(c, () => {});
    ctx.dispose();
    expect(cleaned).toBe(1);
  });
});
