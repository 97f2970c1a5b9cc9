/**
 * A fork's node that re-runs with other reads drops the subscriptions it no longer needs by the
 * cells its entries reference (as a root's does) while no context made a cell since its last commit
 * (`refGen`). Two keyed handles of one id each lend a fork that holds no cell for it a cell of their
 * own: a read of the one replaced by a read of the other is the same signal, and keeps its
 * subscription.
 */
import { createContext, type Signal, signal, spin } from "spindel";
import { describe, expect, test } from "vitest";
import type { Cell } from "../../src/core/kernel/cell.js";

describe("a fork's prune by the cells its entries reference", () => {
  test("a read moved from one keyed handle to another of the same key keeps its subscription", () => {
    const root = createContext();
    const fork = root.fork();
    const sw = signal(false);
    const x = signal(1);
    const a = signal(10, { key: "fork-prune-k" });
    const b = signal(10, { key: "fork-prune-k" });
    fork.set(sw, false); // the fork's own cell of `sw` first: no new cell while the spin runs
    const c = spin(($) => ($.track(sw) ? $.track(x) + $.track(b) : $.track(a)));
    const seen: number[] = [];
    const stop = fork.observe(c, (v) => {
      seen.push(v);
    });
    fork.set(sw, true); // re-runs with [sw, x, b] in place of [sw, a]
    fork.set(b, 20); // the key's first cell in the fork: its observers are the ones kept by id
    stop();
    expect(seen).toEqual([10, 11, 21]);
  });

  test("reads that move between unkeyed signals in a fork follow the writes", () => {
    const root = createContext();
    const fork = root.fork();
    const mode = signal(false);
    const s = Array.from({ length: 4 }, (_, i) => signal(i));
    for (const t of s) fork.set(t, fork.get(t));
    fork.set(mode, false);
    const c = spin(($) =>
      $.track(mode) ? $.track(s[2]!) + $.track(s[3]!) : $.track(s[0]!) + $.track(s[1]!),
    );
    const seen: number[] = [];
    const stop = fork.observe(c, (v) => {
      seen.push(v);
    });
    fork.set(mode, true);
    fork.set(s[0]!, 100); // no longer read: no re-run
    fork.set(s[3]!, 30);
    fork.set(mode, false);
    fork.set(s[2]!, 50); // no longer read
    fork.set(s[1]!, 7);
    stop();
    expect(seen).toEqual([1, 5, 32, 101, 107]);
  });

  test("a read left in a fork drops its subscription, to an inherited signal and to the fork's own", () => {
    // the prune takes the node from the set of the cell its entry references; a fork's node is in
    // no ancestor's set: leaving an inherited signal falls back to the fork's map of observers of
    // inherited sources, which the fork's first cell of that signal would adopt
    const root = createContext();
    const fork = root.fork();
    const mode = signal(false);
    const own = signal(1);
    const inherited = signal(2);
    fork.set(mode, false);
    fork.set(own, 1);
    let runs = 0;
    const c = spin(($) => {
      runs++;
      return $.track(mode) ? $.track(own) : $.track(inherited);
    });
    const seen: number[] = [];
    const stop = fork.observe(c, (v) => {
      seen.push(v);
    });
    /** the observers of the fork's own cell of `s` (internal: the context's store of cells) */
    const ownObservers = (s: Signal<number>) =>
      (fork as unknown as { cells: { get(id: string): Cell | undefined } }).cells.get(s.id)?.observers
        ?.size ?? 0;
    expect(fork.extSig?.get(inherited.id)?.size).toBe(1);
    expect(ownObservers(own)).toBe(0);
    fork.set(mode, true); // leaves the inherited signal
    expect(fork.extSig?.get(inherited.id)).toBe(undefined);
    expect(ownObservers(own)).toBe(1);
    const before = runs;
    fork.set(inherited, 20); // the fork's first cell of it: no observer adopted, no re-run
    expect(runs).toBe(before);
    fork.set(mode, false); // leaves the own cell
    expect(ownObservers(own)).toBe(0);
    expect(ownObservers(inherited)).toBe(1);
    fork.set(own, 10); // no re-run
    root.set(own, 11);
    expect(runs).toBe(before + 1);
    fork.set(inherited, 21);
    stop();
    expect(seen).toEqual([2, 1, 20, 21]);
  });
});
