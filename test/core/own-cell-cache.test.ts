/**
 * A context that the handle does not keep (a fork, a root other than the handle's first) keeps its
 * own cells by handle number (`Context.ownCache`), so a write there, a run's first read of the
 * signal and a re-run's unsubscription do not look the id up. These cases change what a fork sees
 * in every way a fork's cells change: its first write (copy-on-write), a fork of a fork, the parent
 * written after the fork, a snapshot and a restore, dispose, more handles than the cache has slots,
 * two handles of one key, a graph that rewires on every write, and a handle collected.
 */
import { createContext, restoreSnapshot, signal, spin } from "spindel";
import { expect, test } from "vitest";
import { collectUntil, gc } from "./helpers.js";

test("a fork's first write makes its own cell; forks of it read through until they write", () => {
  const root = createContext();
  const s = signal(1);
  const f = root.fork();
  const t = spin(($) => $.track(s) * 10);
  expect(f.read(t)).toBe(10); // tracked before the fork holds a cell: through the inherited one
  root.set(s, 2);
  expect(f.read(t)).toBe(20);
  f.set(s, 3); // copy-on-write: the fork's own cell from now on
  expect(f.read(t)).toBe(30);
  root.set(s, 4);
  expect([root.get(s), f.get(s), f.read(t)]).toEqual([4, 3, 30]);
  const g = f.fork();
  expect(g.read(t)).toBe(30);
  f.set(s, 5); // the parent written after the fork
  expect([g.get(s), g.read(t)]).toEqual([5, 50]);
  g.set(s, 6);
  f.set(s, 7);
  expect([root.get(s), f.get(s), g.get(s), f.read(t), g.read(t)]).toEqual([4, 7, 6, 70, 60]);
  const h = g.fork();
  g.set(s, 8);
  expect([h.get(s), h.read(t)]).toEqual([8, 80]);
});

test("an observed spin in a fork follows the fork's own writes, not the parent's after copy-on-write", () => {
  const root = createContext();
  const s = signal(0);
  const f = root.fork();
  const seen: number[] = [];
  const stop = f.observe(
    spin(($) => $.track(s) + 100),
    (v) => seen.push(v),
  );
  root.set(s, 1); // inherited (an ancestor's write is not pushed to a fork's observers)
  expect(f.get(s)).toBe(1);
  f.set(s, 2); // the fork's own cell now
  root.set(s, 3); // no longer seen by the fork
  expect(f.get(s)).toBe(2);
  f.set(s, 4);
  f.set(s, 4); // equal: no-op
  expect(seen).toEqual([100, 102, 104]);
  stop();
  f.set(s, 5);
  expect(seen).toEqual([100, 102, 104]);
});

test("snapshots of a fork and roots restored from them keep their own cells apart", () => {
  const root = createContext();
  const s = signal("a");
  const f = root.fork();
  f.set(s, "b");
  const t = spin(($) => $.track(s).toUpperCase());
  expect(f.read(t)).toBe("B");
  const restored = restoreSnapshot(f.snapshot());
  expect([restored.get(s), restored.read(t)]).toEqual(["b", "B"]);
  restored.set(s, "c");
  expect([f.get(s), f.read(t), restored.read(t)]).toEqual(["b", "B", "C"]);
  const rf = restored.fork();
  rf.set(s, "d");
  f.set(s, "e");
  expect([root.get(s), f.get(s), restored.get(s), rf.get(s)]).toEqual(["a", "e", "c", "d"]);
  expect([f.read(t), restored.read(t), rf.read(t)]).toEqual(["E", "C", "D"]);
});

test("a disposed fork refuses its cells; its siblings and parent keep theirs", () => {
  const root = createContext();
  const s = signal(1);
  const a = root.fork();
  const b = root.fork();
  a.set(s, 2);
  b.set(s, 3);
  a.dispose();
  expect(() => a.set(s, 4)).toThrow();
  expect(() => a.get(s)).toThrow();
  b.set(s, 5);
  expect([root.get(s), b.get(s), b.read(spin(($) => $.track(s) + 1))]).toEqual([1, 5, 6]);
});

test("more handles than the cache has slots, written and tracked in one fork, each keep their value", () => {
  const f = createContext().fork();
  const sigs = Array.from({ length: 100 }, (_, i) => signal(i));
  for (const [i, s] of sigs.entries()) if (i % 3 !== 0) f.set(s, i * 2);
  const sum = spin(($) => sigs.reduce((acc, s) => acc + $.track(s), 0));
  const expected = () => sigs.reduce((acc, s) => acc + f.get(s), 0);
  expect(f.read(sum)).toBe(sigs.reduce((acc, _, i) => acc + (i % 3 !== 0 ? i * 2 : i), 0));
  for (let round = 0; round < 3; round++) {
    for (const [i, s] of sigs.entries()) if (i % 7 === round) f.set(s, f.get(s) + 1000);
    expect(f.read(sum)).toBe(expected());
  }
  // another fork of the same root shares nothing of it
  expect(createContext().fork().get(sigs[5]!)).toBe(5);
});

test("two handles of one key read and write one cell in a fork, through either", () => {
  const root = createContext();
  const k1 = signal(0, { key: "own-cell-cache-twin" });
  const k2 = signal(0, { key: "own-cell-cache-twin" });
  const f = root.fork();
  const reads: number[] = [];
  const stop = f.observe(
    spin(($) => $.track(k2) + 1),
    (v) => reads.push(v),
  );
  f.set(k1, 7);
  expect([f.get(k2), f.get(k1), root.get(k1)]).toEqual([7, 7, 0]);
  f.set(k2, 8);
  f.set(k1, 9);
  expect(reads).toEqual([1, 8, 9, 10]);
  stop();
});

test("a graph that rewires on every write in a fork drops the inputs it stopped reading", () => {
  const f = createContext().fork();
  const mode = signal(false);
  const xs = Array.from({ length: 6 }, (_, i) => signal(i));
  for (const x of xs) f.set(x, 10 + f.get(x)); // the fork's own cells
  let runs = 0;
  const seen: number[] = [];
  const stop = f.observe(
    spin(($) => {
      runs++;
      const from = $.track(mode) ? 3 : 0;
      let sum = 0;
      for (let k = from; k < from + 3; k++) sum += $.track(xs[k]!);
      return sum;
    }),
    (v) => seen.push(v),
  );
  for (let n = 1; n <= 6; n++) f.set(mode, n % 2 === 1); // ends false: xs[0..2]
  const before = runs;
  // inputs of the last run re-run it; the others were unsubscribed
  f.set(xs[3]!, 100);
  expect(runs).toBe(before);
  f.set(xs[0]!, 100);
  expect(runs).toBe(before + 1);
  expect(seen.at(-1)).toBe(100 + 11 + 12);
  f.set(mode, true);
  expect(seen.at(-1)).toBe(100 + 14 + 15);
  f.set(xs[4]!, 0);
  expect(seen.at(-1)).toBe(100 + 0 + 15);
  stop();
});

test.runIf(gc !== undefined)("a fork's cell of a collected handle leaves its cache", async () => {
  const f = createContext().fork();
  // (a registry, not a WeakRef: `deref` in the loop's test would keep the value alive for its job)
  let collected = false;
  const registry = new FinalizationRegistry(() => {
    collected = true;
  });
  (() => {
    const value = { big: true };
    registry.register(value, 0);
    const s = signal<object>({});
    f.set(s, value); // the fork's own cell, in its cache
    expect(f.get(s) === value).toBe(true);
  })();
  const kept = signal(1);
  f.set(kept, 2);
  expect(await collectUntil(() => collected)).toBe(true);
  expect(f.get(kept)).toBe(2);
});
