/**
 * `ctx.read` in a fork answers from the fork's own node when the last read found one there
 * (through the handle, without resolving the id), and from an ancestor's node otherwise: each case
 * below changes which node serves between two reads.
 */
import { ContextDisposedError, createContext, signal, spin } from "spindel";
import { describe, expect, test } from "vitest";

describe("ctx.read in a fork, read after read", () => {
  test("inherited, then the fork's own once it writes an input; the root keeps its own", () => {
    const root = createContext();
    const a = signal(1);
    const s = spin(($) => $.track(a) * 10);
    expect(root.read(s)).toBe(10);
    const f = root.fork();
    expect(f.read(s)).toBe(10); // the root's node serves
    f.set(a, 2);
    expect(f.read(s)).toBe(20);
    expect(f.read(s)).toBe(20);
    expect(root.read(s)).toBe(10);
    root.set(a, 3); // the fork wrote `a`: the root's write does not reach it
    expect(f.read(s)).toBe(20);
    expect(root.read(s)).toBe(30);
  });

  test("the fork's own node sees an ancestor's write to an input the fork did not write", () => {
    const root = createContext();
    const a = signal(1);
    const b = signal(100);
    const s = spin(($) => $.track(a) + $.track(b));
    const f = root.fork();
    f.set(a, 2);
    expect(f.read(s)).toBe(102); // the fork's own node
    root.set(b, 200);
    expect(f.read(s)).toBe(202);
    root.set(b, 300);
    expect(f.read(s)).toBe(302);
    expect(root.read(s)).toBe(301);
  });

  test("a fork of a fork: the child's own node follows the middle fork's writes", () => {
    const root = createContext();
    const a = signal(1);
    const b = signal(1);
    const s = spin(($) => $.track(a) * 100 + $.track(b));
    const mid = root.fork();
    const leaf = mid.fork();
    leaf.set(a, 2);
    expect(leaf.read(s)).toBe(201);
    mid.set(b, 5);
    expect(leaf.read(s)).toBe(205);
    expect(mid.read(s)).toBe(105);
    root.set(b, 7); // shadowed by mid's write for both forks
    expect(leaf.read(s)).toBe(205);
    expect(root.read(s)).toBe(107);
  });

  test("two forks reading one handle in turn each get their own answer", () => {
    const root = createContext();
    const a = signal(0);
    const s = spin(($) => $.track(a) + 1);
    const f1 = root.fork();
    const f2 = root.fork();
    for (let i = 1; i <= 5; i++) {
      f1.set(a, i);
      f2.set(a, -i);
      expect(f1.read(s)).toBe(i + 1);
      expect(f2.read(s)).toBe(-i + 1);
      expect(f1.read(s)).toBe(i + 1);
    }
    expect(root.read(s)).toBe(1);
  });

  test("the fork's node released after an observation, then read again", () => {
    const root = createContext();
    const a = signal(1);
    const s = spin(($) => $.track(a) * 2);
    const f = root.fork();
    f.set(a, 5);
    expect(f.read(s)).toBe(10);
    const seen: number[] = [];
    const stop = f.observe(s, (v) => seen.push(v));
    f.set(a, 6);
    stop(); // nothing needs the fork's node now
    expect(f.read(s)).toBe(12);
    f.set(a, 7);
    expect(f.read(s)).toBe(14);
    expect(seen).toEqual([10, 12]);
  });

  test("a disposed fork, or a fork whose parent is disposed, refuses the read", () => {
    const root = createContext();
    const a = signal(1);
    const s = spin(($) => $.track(a));
    const f = root.fork();
    f.set(a, 2);
    expect(f.read(s)).toBe(2);
    f.dispose();
    expect(() => f.read(s)).toThrow(ContextDisposedError);
    const mid = root.fork();
    const leaf = mid.fork();
    leaf.set(a, 3);
    expect(leaf.read(s)).toBe(3);
    mid.dispose();
    expect(() => leaf.read(s)).toThrow(ContextDisposedError);
  });

  test("a body that writes what it tracks answers with the run it caused, read after read", () => {
    const root = createContext();
    const a = signal(0);
    const f = root.fork();
    const s = spin(($) => {
      const v = $.track(a);
      $.set(a, v + 1); // invalidates itself: the spin stays stale and re-runs on the next read
      return v;
    });
    expect(f.read(s)).toBe(0);
    expect(f.read(s)).toBe(1);
    expect(f.read(s)).toBe(2);
    expect(f.get(a)).toBe(3);
    expect(root.get(a)).toBe(0);
  });
});

describe("a middle fork's node, not verified since an ancestor's write", () => {
  // fork-tree-properties (a new root), SEED=1347336974 RUNS=2000 FC_SIZE=medium: the leaf's
  // equal write gave it a cell of its own at the version the middle fork's node had read, so that
  // node passed the leaf's check; the read then refreshed it in the middle fork, where it re-ran
  // on the root's write the leaf does not see
  test("a leaf that pinned a signal by an equal write keeps its value", () => {
    const s0 = signal(0);
    let runs = 0;
    const a = spin(($) => {
      runs++;
      return $.track(s0);
    });
    const root = createContext();
    const mid = root.fork();
    expect(mid.read(a)).toBe(0);
    const leaf = mid.fork();
    leaf.set(s0, 0);
    root.set(s0, -1);
    expect(leaf.get(s0)).toBe(0);
    expect(leaf.read(a)).toBe(0);
    expect(runs).toBe(1); // the leaf's copy is verified against the leaf's cell, not re-run
    expect(mid.read(a)).toBe(-1);
    expect(leaf.read(a)).toBe(0);
    expect(root.read(a)).toBe(-1);
  });

  test("the same through a spin the middle fork reads, and observed there", () => {
    const s0 = signal(1);
    const b = spin(($) => $.track(s0) * 10);
    const a = spin(($) => $.track(b) + 1);
    const root = createContext();
    const mid = root.fork();
    const seen: number[] = [];
    const stop = mid.observe(a, (v) => seen.push(v as number));
    expect(mid.read(a)).toBe(11);
    const leaf = mid.fork().fork();
    leaf.set(s0, 1);
    root.set(s0, 2);
    expect(leaf.read(a)).toBe(11);
    expect(leaf.read(b)).toBe(10);
    expect(mid.read(a)).toBe(21);
    expect(leaf.read(a)).toBe(11);
    stop();
  });

  test("a leaf that did not write follows the root's write through the middle fork's node", () => {
    const s0 = signal(0);
    const a = spin(($) => $.track(s0) + 1);
    const root = createContext();
    const mid = root.fork();
    expect(mid.read(a)).toBe(1);
    const leaf = mid.fork();
    root.set(s0, 5);
    expect(leaf.read(a)).toBe(6);
    expect(mid.read(a)).toBe(6);
  });
});
