/**
 * A context looks a signal's cell up by id only when some context may hold one: an unkeyed handle
 * that no context made a cell for is answered without a lookup. These cases hold cells the handle
 * did not make through the context reading it: a snapshot restored from the default context
 * (whose cells are the handles), from another root, and a fork of either.
 */
import { createContext, defaultContext, deserializeContext, restoreSnapshot, signal, spin } from "spindel";
import { expect, test } from "vitest";

test("a root restored from the default context's snapshot reads the values written there", () => {
  const s = signal(1);
  s.value = 5; // the default context's cell is the handle itself
  const restored = restoreSnapshot(defaultContext().snapshot());
  expect(restored.get(s)).toBe(5);
  expect(restored.read(spin(($) => $.track(s) * 2))).toBe(10);
  const f = restored.fork();
  expect(f.get(s)).toBe(5);
  expect(f.read(spin(($) => $.track(s) + 1))).toBe(6);
  restored.set(s, 7);
  expect(f.get(s)).toBe(7);
  expect(s.value).toBe(5);
});

test("a root restored from another root's snapshot, and its forks, read that root's values", () => {
  const root = createContext();
  const s = signal("a");
  root.set(s, "b");
  const restored = restoreSnapshot(root.snapshot());
  const f = restored.fork();
  expect(f.get(s)).toBe("b");
  expect(restored.read(spin(($) => $.track(s).toUpperCase()))).toBe("B");
  expect(s.value).toBe("a");
});

test("a handle no context has touched reads its initial value everywhere, then its own writes", () => {
  const root = createContext();
  const f = root.fork();
  const s = signal(3);
  expect(f.get(s)).toBe(3);
  expect(f.read(spin(($) => $.track(s)))).toBe(3);
  const t = signal(4);
  f.set(t, 40);
  expect(f.get(t)).toBe(40);
  expect(root.get(t)).toBe(4);
  const u = signal(5);
  expect(root.read(spin(($) => $.track(u)))).toBe(5);
  root.set(u, 50);
  expect(f.get(u)).toBe(50);
});

test("bytes from another process give an unkeyed signal its value when its id matches (same creation order)", () => {
  // another process's bytes, simulated: a cell stored under the id the next unkeyed signal of this
  // process will get (unkeyed ids follow creation order: docs/forking.md)
  const probe = signal(0);
  const nextId = `sig${Number(probe.id.slice(3)) + 1}`;
  const elsewhere = createContext();
  elsewhere.set(signal(0, { key: nextId }), 42);
  const back = deserializeContext(elsewhere.serialize());
  const s = signal(0); // never touched by any context of this process
  expect(s.id).toBe(nextId);
  expect(back.get(s)).toBe(42);
  expect(back.fork().get(s)).toBe(42);
  expect(back.read(spin(($) => $.track(s) + 1))).toBe(43);
});

test("forks reading a signal no context stored share its initial value, not each other's writes", () => {
  // forks of any tree read such a signal through one cell of the handle's (the initial value at
  // version 0): a fork's write makes a cell of the fork's own, a root's write the root's
  const s = signal(1);
  const t = spin(($) => $.track(s) * 10);
  const root = createContext();
  const a = root.fork();
  const b = root.fork();
  const other = createContext().fork();
  expect(a.read(t)).toBe(10);
  expect(b.read(t)).toBe(10);
  expect(other.read(t)).toBe(10);
  a.set(s, 2);
  expect(a.read(t)).toBe(20);
  expect(b.read(t)).toBe(10);
  expect(other.read(t)).toBe(10);
  expect(root.get(s)).toBe(1);
  root.set(s, 3);
  expect(b.read(t)).toBe(30);
  expect(b.fork().read(t)).toBe(30);
  expect(a.read(t)).toBe(20);
  expect(other.read(t)).toBe(10);
  expect(other.get(s)).toBe(1);
  expect(createContext().fork().get(s)).toBe(1);
});

// A handle keeps the cell of the first root (other than the default one) that holds one for it
// (`Signal._ctx` / `_cell`), so a write or a run's first read there does not look the id up.
test("a handle's kept cell is its first root's: other roots, forks and keyed twins keep their own", () => {
  const a = createContext();
  const b = createContext();
  const s = signal(0);
  a.set(s, 1); // a's cell is kept on the handle
  b.set(s, 2); // b looks its own up
  const fa = a.fork();
  fa.set(s, 3);
  expect([a.get(s), b.get(s), fa.get(s), s.value]).toEqual([1, 2, 3, 0]);
  const seen: number[] = [];
  const stop = a.observe(
    spin(($) => $.track(s) * 10),
    (v) => seen.push(v),
  );
  a.set(s, 4);
  b.set(s, 5);
  fa.set(s, 6);
  expect(seen).toEqual([10, 40]);
  expect([a.get(s), b.get(s), fa.get(s)]).toEqual([4, 5, 6]);
  stop();
  // two handles of one key share the root's cell, whichever made it
  const k1 = signal(0, { key: "cell-lookup-twin" });
  const k2 = signal(0, { key: "cell-lookup-twin" });
  const fb = b.fork();
  expect(fb.get(k2)).toBe(0);
  b.set(k1, 7);
  expect([b.get(k2), fb.get(k1), fb.get(k2)]).toEqual([7, 7, 7]);
  const reads: number[] = [];
  const stop2 = b.observe(
    spin(($) => $.track(k2) + 1),
    (v) => reads.push(v),
  );
  b.set(k1, 8);
  b.set(k2, 9);
  expect(reads).toEqual([8, 9, 10]);
  stop2();
});

test("a root made from a snapshot holds cells of its own, not the handle's kept one", () => {
  const root = createContext();
  const s = signal(1);
  root.set(s, 2); // kept on the handle
  const restored = restoreSnapshot(root.snapshot());
  restored.set(s, 3);
  expect([root.get(s), restored.get(s)]).toEqual([2, 3]);
  root.set(s, 4);
  expect(restored.read(spin(($) => $.track(s) * 2))).toBe(6);
  expect(root.read(spin(($) => $.track(s) * 2))).toBe(8);
});
