/**
 * `$.track` recognizes a read that repeats the last run's at the same ordinal by the handle itself
 * (the log entry's `src`), not by its id: two handles with the same key share their state
 * in a context, and a body that switches from one to the other must still read, subscribe and
 * prune by id. These tests switch handles, kinds and contexts at one ordinal and check every value
 * against a fresh computation.
 */
import { createContext, type Signal, type Spin, signal, spin } from "spindel";
import { describe, expect, test } from "vitest";

const contexts = () =>
  [
    ["root", createContext()],
    ["fork", createContext().fork()],
  ] as const;

describe("a repeated read is recognized by its handle", () => {
  for (const [where, ctx] of contexts()) {
    test(`two signal handles with one key, read alternately at one ordinal (${where})`, () => {
      const a1 = signal(1, { key: `track-identity-sig-${where}` });
      const a2 = signal(1, { key: `track-identity-sig-${where}` });
      const flip = signal(true);
      let runs = 0;
      const t = spin(($) => {
        runs++;
        const pick = $.track(flip) ? a1 : a2;
        return $.track(pick);
      });
      const seen: number[] = [];
      const stop = ctx.observe(t, (v) => seen.push(v));
      ctx.set(a1, 5);
      ctx.set(flip, false); // the same ordinal now reads the other handle of the same cell
      ctx.set(a2, 7);
      ctx.set(flip, true);
      ctx.set(a1, 9);
      expect(seen).toEqual([1, 5, 7, 9]);
      expect(ctx.read(t)).toBe(9);
      stop();
      ctx.set(a2, 11); // no observer: read on demand
      expect(ctx.read(t)).toBe(11);
      expect(runs).toBeGreaterThan(0);
    });

    test(`a signal and a spin swap places at one ordinal (${where})`, () => {
      const s = signal(2);
      const inner = spin(($) => $.track(s) * 10);
      const useSpin = signal(false);
      const t = spin(($) => {
        const src: Signal<number> | Spin<number> = $.track(useSpin) ? inner : s;
        return $.track(src) + 1;
      });
      const seen: number[] = [];
      const stop = ctx.observe(t, (v) => seen.push(v));
      ctx.set(useSpin, true);
      ctx.set(s, 3);
      ctx.set(useSpin, false);
      ctx.set(s, 4);
      expect(seen).toEqual([3, 21, 31, 4, 5]);
      stop();
    });

    test(`a dropped dependency no longer re-runs the reader (${where})`, () => {
      const a = signal(1);
      const b = signal(1);
      const useA = signal(true);
      let runs = 0;
      const t = spin(($) => {
        runs++;
        return $.track($.track(useA) ? a : b);
      });
      const stop = ctx.observe(t, () => {});
      ctx.set(useA, false);
      const before = runs;
      ctx.set(a, 2); // read at this ordinal two runs ago, not any more
      expect(runs).toBe(before);
      ctx.set(b, 3);
      expect(runs).toBe(before + 1);
      expect(ctx.read(t)).toBe(3);
      stop();
    });

    test(`two spin handles with one key, read alternately at one ordinal (${where})`, () => {
      const s = signal(1);
      const key = `track-identity-spin-${where}`;
      const k1 = spin(($) => $.track(s) + 100, { key });
      const k2 = spin(($) => $.track(s) + 100, { key });
      const flip = signal(true);
      const t = spin(($) => $.track($.track(flip) ? k1 : k2));
      const seen: number[] = [];
      const stop = ctx.observe(t, (v) => seen.push(v));
      ctx.set(flip, false);
      ctx.set(s, 2);
      ctx.set(flip, true);
      ctx.set(s, 3);
      expect(seen).toEqual([101, 102, 103]);
      stop();
    });
  }

  test("a fork verifies a cached spin again when a body starts reading it after an ancestor's write", () => {
    const root = createContext();
    const fork = root.fork();
    const s = signal(1);
    const x = spin(($) => $.track(s) * 2);
    expect(fork.read(x)).toBe(2); // cached in the fork, verified now
    root.set(s, 5); // the fork sees it through its parent: nothing in the fork is marked
    const flip = signal(false);
    const t = spin(($) => ($.track(flip) ? $.track(x) : 0));
    const seen: number[] = [];
    const stop = fork.observe(t, (v) => seen.push(v));
    fork.set(flip, true); // the same node, clean but verified before the write: checked again
    expect(seen).toEqual([0, 10]);
    stop();
  });

  test("a non-handle argument at an ordinal a handle held last run is refused", () => {
    const ctx = createContext();
    const s = signal(1);
    const bad = signal(false);
    const t = spin(($) => $.track(($.track(bad) ? 42 : s) as Signal<number>));
    expect(ctx.read(t)).toBe(1);
    ctx.set(bad, true);
    expect(() => ctx.read(t)).toThrow(/\$\.track expects a Signal or a Spin/);
  });

  test("null or undefined at an ordinal a spin was tracked or awaited at last run is refused", async () => {
    for (const nothing of [null, undefined]) {
      const ctx = createContext();
      const x = spin(() => 3);
      const bad = signal(false);
      const tracked = spin(($) => $.track(($.track(bad) ? nothing : x) as Spin<number>));
      const awaited = spin(async ($) => {
        if ($.track(bad)) return $.track(nothing as unknown as Spin<number>);
        return await $.await(x);
      });
      expect(ctx.read(tracked)).toBe(3);
      expect(await ctx.value(awaited)).toBe(3);
      ctx.set(bad, true);
      expect(() => ctx.read(tracked)).toThrow(/\$\.track expects a Signal or a Spin/);
      await expect(ctx.value(awaited)).rejects.toThrow(/\$\.track expects a Signal or a Spin/);
    }
  });
});
