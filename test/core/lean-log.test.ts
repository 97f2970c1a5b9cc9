/**
 * A root's node whose committed log holds reads alone (`Flag.LEAN_LOG`) is checked by the lean
 * walk even when it keeps no spare run: a node below a constant input never re-runs, and was
 * checked on every write by the general walk. A fork's copy of such a node does not take the flag:
 * its entries reference the root's cells, not the fork's.
 */
import { createContext, signal, spin } from "spindel";
import { describe, expect, test } from "vitest";

describe("the lean check of a log of reads without a spare run", () => {
  test("nodes below a constant input are checked, not re-run, and re-run once it changes", () => {
    const ctx = createContext();
    const head = signal(0);
    const k = signal(0);
    const runs = { c3: 0, c4: 0, fx: 0 };
    const c1 = spin(($) => $.track(head));
    const c2 = spin(($) => $.track(c1) * $.track(k));
    const c3 = spin(($) => {
      runs.c3++;
      return $.track(c2) + 1;
    });
    const c4 = spin(($) => {
      runs.c4++;
      return $.track(c3) + 2;
    });
    const seen: number[] = [];
    const stop = ctx.observe(c4, (v) => {
      runs.fx++;
      seen.push(v);
    });
    for (let i = 1; i <= 5; i++) ctx.set(head, i);
    expect(runs).toEqual({ c3: 1, c4: 1, fx: 1 });
    expect(ctx.nodes.get(c3.id)!.flags & 2048).toBe(2048);
    ctx.set(k, 2); // c2: 10
    expect(ctx.read(c4)).toBe(13);
    ctx.set(head, 6); // c2: 12
    stop();
    expect(seen).toEqual([3, 13, 15]);
    expect(runs).toEqual({ c3: 3, c4: 3, fx: 3 });
  });

  test("a fork's copy of such a node sees the fork's write", () => {
    const root = createContext();
    const a = signal(0);
    const c = spin(($) => $.track(a) + 1);
    const d = spin(($) => $.track(c) * 2);
    expect(root.read(d)).toBe(2);
    const fork = root.fork();
    fork.set(a, 10);
    expect(fork.read(d)).toBe(22);
    fork.set(a, 20);
    expect(fork.read(d)).toBe(42);
    expect(root.read(d)).toBe(2);
  });
});
