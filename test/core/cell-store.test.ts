/**
 * A context lists the cells of the unkeyed handles it registered for reaping first in a dense list
 * (`CellStore.list`), indexed by id only once something looks one up by id; a collected handle's
 * cell leaves the list, the last entry taking its place. These cases move entries across the
 * indexed part and check every reader of a context's cells: lookups by id, the enumeration behind
 * snapshots, the size, dropping by id; and, through contexts, a fork reading its root's listed
 * cells after some were reaped.
 */
import { createContext, restoreSnapshot, type Signal, signal, spin } from "spindel";
import { expect, test } from "vitest";
import { CellStore, type Listing } from "../../src/core/cell-store.js";
import { createCell } from "../../src/core/kernel/cell.js";
import { collectUntil, gc } from "./helpers.js";

const listing = (id: string): Listing => ({ id, slot: -1 });

test("listed cells: lookups by id index the list, unlisting moves the last entry, entries and size follow", () => {
  const store = new CellStore(false);
  const ls = Array.from({ length: 8 }, (_, i) => listing(`s${i}`));
  const cells = ls.map((_, i) => createCell(i, i + 1));
  for (let i = 0; i < 4; i++) store.list(ls[i]!, cells[i]!);
  store.set("keyed", createCell(-1, 1), true);
  expect(store.get("s2")).toBe(cells[2]); // indexes s0..s3
  for (let i = 4; i < 8; i++) store.list(ls[i]!, cells[i]!); // not indexed yet
  // an indexed entry goes: the last one (not indexed) moves into the indexed part
  store.unlist(ls[1]!);
  expect(ls[1]!.slot).toBe(-1);
  expect(ls[7]!.slot).toBe(1);
  expect(store.get("s1")).toBeUndefined();
  expect(store.get("s7")).toBe(cells[7]);
  expect(store.get("s5")).toBe(cells[5]);
  // an entry not indexed goes; one dropped by id; unlisting twice does nothing
  store.unlist(ls[6]!);
  store.delete("s0");
  store.unlist(ls[0]!);
  expect(store.listed(ls[0]!)).toBeUndefined();
  expect(store.get("s0")).toBeUndefined();
  expect(store.get("s6")).toBeUndefined();
  for (const i of [2, 3, 4, 5, 7]) {
    expect(store.get(`s${i}`)).toBe(cells[i]);
    expect(store.listed(ls[i]!)).toBe(cells[i]);
  }
  expect(store.size).toBe(6);
  expect(new Map(store.entries())).toEqual(
    new Map<string, unknown>([
      ["keyed", store.get("keyed")],
      ...[2, 3, 4, 5, 7].map((i) => [`s${i}`, cells[i]] as [string, unknown]),
    ]),
  );
  // emptied and listed again
  for (const i of [2, 3, 4, 5, 7]) store.unlist(ls[i]!);
  store.list(ls[1]!, cells[1]!);
  expect(store.get("s1")).toBe(cells[1]);
  expect(store.size).toBe(2);
});

test.runIf(gc !== undefined)(
  "a root's listed cells after reaping: its forks, snapshots and restored roots find the kept ones",
  async () => {
    const ctx = createContext();
    const kept: Signal<number>[] = [];
    const fork = ctx.fork();
    (() => {
      for (let i = 0; i < 200; i++) {
        const s = signal(-1);
        ctx.set(s, i);
        if (i % 7 === 0) kept.push(s);
        // a lookup by id between the writes: the list is indexed part of the way
        if (i === 100) expect(fork.get(kept[3]!)).toBe(21);
      }
    })();
    expect(ctx.cells.size).toBe(200);
    expect(await collectUntil(() => ctx.cells.size === kept.length)).toBe(true);
    const snap = ctx.snapshot();
    const back = restoreSnapshot(snap);
    kept.forEach((s, k) => {
      expect(ctx.get(s)).toBe(7 * k);
      expect(fork.get(s)).toBe(7 * k); // through the root's cell, by id
      expect(snap.get(s)).toBe(7 * k);
      expect(back.get(s)).toBe(7 * k);
    });
    // the fork tracks the root's cell, and follows its writes
    const t = spin(($) => $.track(kept[5]!) + 1);
    expect(fork.read(t)).toBe(36);
    ctx.set(kept[5]!, 100);
    expect(fork.read(t)).toBe(101);
  },
);
