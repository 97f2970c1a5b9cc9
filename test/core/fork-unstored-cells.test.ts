/**
 * A fork that tracks or writes a signal no context of its tree holds a cell for leaves nothing in
 * the root: what it tracks is a cell with the signal's initial value that nothing stores, and its
 * write copies that. Before, the fork's read made the root's cell, which the root then held (and
 * registered the handle for) until the handle was collected: a fork's loop of signals made and
 * dropped grew its root's map. Forks still follow the root (docs/forking.md): once the root makes
 * the real cell, the forks learn that the cell they reference is no longer the visible one.
 */
import { createContext, restoreSnapshot, type Signal, signal, spin } from "spindel";
import { describe, expect, test } from "vitest";

describe("a fork's reads of signals the root never touched", () => {
  test("a loop of signals tracked, written and dropped in a fork leaves no cell in the root", () => {
    const root = createContext();
    const fork = root.fork();
    let sink = 0;
    for (let i = 0; i < 1000; i++) {
      const s = signal(i);
      const c = spin(($) => $.track(s) * 2);
      const stop = fork.observe(c, (v) => {
        sink += v;
      });
      fork.set(s, i + 1);
      stop();
    }
    expect(sink).toBe((2 * (999 * 1000)) / 2 + (2 * (1000 * 1001)) / 2);
    expect(root.cells.size).toBe(0);
    expect(fork.extSig?.size ?? 0).toBe(0);
  });

  test("untracked reads in a fork (ctx.get, peek, $.peek) store nothing in the root either", () => {
    const root = createContext();
    const fork = root.fork();
    const s = signal(5);
    expect(fork.get(s)).toBe(5);
    expect(fork.run(() => s.peek())).toBe(5);
    const t = signal(1);
    const a = spin(($) => $.track(t) + $.peek(s));
    expect(fork.read(a)).toBe(6);
    expect(root.cells.size).toBe(0);
    // only a tracked read keeps a reference to an unstored cell: only that makes the root's new
    // cells tell the forks to look their signals up again
    expect(root.lentUnstored).toBe(true);
    const quiet = createContext();
    expect(quiet.fork().get(s)).toBe(5);
    expect(quiet.lentUnstored).toBe(false);
    root.set(s, 50);
    expect(fork.get(s)).toBe(50);
    expect(fork.run(() => s.peek())).toBe(50);
  });

  test("a fork that tracked such a signal follows the root's later write (read on demand)", () => {
    const root = createContext();
    const fork = root.fork();
    const s = signal(1);
    let runs = 0;
    const a = spin(($) => {
      runs++;
      return $.track(s) * 10;
    });
    expect(fork.read(a)).toBe(10);
    expect(root.cells.size).toBe(0);
    root.set(s, 2);
    expect(fork.read(a)).toBe(20);
    expect(root.read(a)).toBe(20);
    expect(runs).toBe(3);
  });

  test("an observation in the fork re-checks against the root's new cell", () => {
    const root = createContext();
    const fork = root.fork();
    const s = signal(1);
    const t = signal(100);
    const a = spin(($) => $.track(s) + $.track(t));
    const seen: number[] = [];
    const stop = fork.observe(a, (v) => seen.push(v));
    expect(seen).toEqual([101]);
    // the root makes its cell (a read: version 0, same value), then writes it; a write in the
    // fork to the other input makes the fork's observation re-check both
    expect(root.get(s)).toBe(1);
    root.set(s, 5);
    fork.set(t, 200);
    expect(seen).toEqual([101, 205]);
    expect(fork.read(a)).toBe(205);
    stop();
  });

  test("a fork's write copies the initial value and shadows the root from then on", () => {
    const root = createContext();
    const fork = root.fork();
    const s = signal(3);
    const a = spin(($) => $.track(s) + 1);
    expect(fork.read(a)).toBe(4);
    fork.set(s, 7);
    expect(fork.read(a)).toBe(8);
    expect(root.cells.size).toBe(0);
    root.set(s, 9);
    expect(root.read(a)).toBe(10);
    expect(fork.read(a)).toBe(8); // written in the fork: the fork's own value
    expect(fork.get(s)).toBe(7);
  });

  test("a fork of a fork follows whichever ancestor makes the cell first", () => {
    const root = createContext();
    const mid = root.fork();
    const leaf = mid.fork();
    const s: Signal<number> = signal(1);
    const a = spin(($) => $.track(s) * 3);
    expect(leaf.read(a)).toBe(3);
    mid.set(s, 2);
    expect(leaf.read(a)).toBe(6);
    root.set(s, 4);
    expect(leaf.read(a)).toBe(6); // mid's write shadows the root for mid and its forks
    expect(root.read(a)).toBe(12);
    const other = root.fork();
    expect(other.read(a)).toBe(12);
  });

  test("a preact view made in a fork before the root touched the signal follows the root", () => {
    const root = createContext();
    const fork = root.fork();
    const s = signal("a");
    const view = fork.toPreact(s);
    expect(view.value).toBe("a");
    root.set(s, "b");
    expect(view.value).toBe("b");
    fork.set(s, "c");
    expect(view.value).toBe("c");
    expect(root.get(s)).toBe("b");
  });

  test("a snapshot of the fork restores the initial value of a signal nobody wrote", () => {
    const root = createContext();
    const fork = root.fork();
    const s = signal(42);
    const a = spin(($) => $.track(s) + 1);
    expect(fork.read(a)).toBe(43);
    const copy = fork.snapshot();
    expect(root.cells.size).toBe(0);
    root.set(s, 1);
    expect(fork.read(a)).toBe(2);
    const back = restoreSnapshot(copy);
    expect(back.get(s)).toBe(42);
    expect(back.read(a)).toBe(43);
  });
});
