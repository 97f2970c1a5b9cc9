/**
 * What watches a signal handle for reaping is a token the handle holds (`SignalWatch`), not the
 * handle itself: the token has to live exactly as long as the handle. Were it held by nothing (or
 * by something outliving the handle), the cells of live handles would be dropped under them (or
 * never). These cases write handles in a root, in a fork of it and in a second root, keep some and
 * drop the rest, collect, and check what each context, its snapshot and its bytes still hold.
 */
import { createContext, deserializeContext, type Signal, signal, spin } from "spindel";
import { expect, test } from "vitest";
import { collectUntil, gc } from "./helpers.js";

test.runIf(gc !== undefined)(
  "a kept handle's cells outlive collections (root, fork, second root, snapshot, bytes); a dropped one's go",
  async () => {
    const ctx = createContext();
    const fork = ctx.fork();
    const other = createContext();
    const kept: Signal<number>[] = [];
    (() => {
      for (let i = 0; i < 100; i++) {
        const s = signal(-1);
        ctx.set(s, i);
        if (i % 2 === 0) fork.set(s, 1000 + i);
        if (i % 4 === 0) other.set(s, 2000 + i);
        if (i % 10 === 0) kept.push(s);
      }
    })();
    expect(ctx.cells.size).toBe(100);
    // every handle but the kept ones is collected, and its cells go from every context
    expect(
      await collectUntil(() => ctx.cells.size === 10 && fork.cells.size === 10 && other.cells.size === 5),
    ).toBe(true);
    // more collections take nothing more: the kept handles hold what watches them
    await collectUntil(() => false);
    expect(ctx.cells.size).toBe(10);
    expect(fork.cells.size).toBe(10);
    expect(other.cells.size).toBe(5);
    kept.forEach((s, k) => {
      const i = k * 10;
      expect(ctx.get(s)).toBe(i);
      // the fork's own write where it wrote, the root's value where it did not
      expect(fork.get(s)).toBe(i % 2 === 0 ? 1000 + i : i);
      expect(other.get(s)).toBe(i % 4 === 0 ? 2000 + i : -1);
    });
    const snap = ctx.snapshot();
    const forkSnap = fork.snapshot();
    const back = deserializeContext(ctx.serialize());
    kept.forEach((s, k) => {
      const i = k * 10;
      expect(snap.get(s)).toBe(i);
      expect(forkSnap.get(s)).toBe(i % 2 === 0 ? 1000 + i : i);
      expect(back.get(s)).toBe(i);
    });
    // and a kept handle's cell still drives what tracks it
    const seen: number[] = [];
    const stop = ctx.observe(
      spin(($) => $.track(kept[3]!) * 2),
      (v) => seen.push(v),
    );
    ctx.set(kept[3]!, 7);
    stop();
    expect(seen).toEqual([60, 14]);
  },
);

test.runIf(gc !== undefined)(
  "a handle written only in a fork keeps its cell there, and the root makes none",
  async () => {
    const ctx = createContext();
    const fork = ctx.fork();
    const s = signal(0);
    (() => {
      for (let i = 0; i < 50; i++) fork.set(signal(0), i + 1);
    })();
    fork.set(s, 9);
    expect(await collectUntil(() => fork.cells.size === 1)).toBe(true);
    await collectUntil(() => false);
    expect(fork.cells.size).toBe(1);
    expect(fork.get(s)).toBe(9);
    expect(ctx.get(s)).toBe(0);
    expect(ctx.cells.size).toBe(1); // ctx.get made the root's own cell of the initial value
    expect(fork.snapshot().get(s)).toBe(9);
  },
);
