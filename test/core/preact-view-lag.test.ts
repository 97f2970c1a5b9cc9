/**
 * A context's cell is a preact signal, but preact's setter runs on a write only once preact may
 * depend on the cell (it was read through preact's getter: a `toPreact` view, a preact-tracked
 * read). Until then a write leaves preact's copy behind, and the first such read catches up. These
 * tests write before, between and after preact reads and check every way preact reads a signal.
 */
import { computed, effect } from "@preact/signals-core";
import { createContext, signal, spin } from "spindel";
import { describe, expect, test } from "vitest";

describe("preact's copy of a context's cell", () => {
  test("writes before the first preact read are all seen by it, by value, peek, toString and toJSON", () => {
    const ctx = createContext();
    const s = signal(1);
    ctx.set(s, 2);
    ctx.set(s, 3);
    const view = ctx.toPreact(s);
    expect(view.peek()).toBe(3);
    expect(view.value).toBe(3);
    expect(String(view)).toBe("3");
    expect(view.toJSON()).toBe(3);
  });

  test("a preact effect and computed over a view follow writes made before and after they started", () => {
    const ctx = createContext();
    const s = signal(1);
    const view = ctx.toPreact(s);
    ctx.set(s, 5); // preact has not read it yet
    const doubled = computed(() => view.value * 2);
    const seen: number[] = [];
    const stop = effect(() => {
      seen.push(doubled.value);
    });
    ctx.set(s, 6);
    ctx.set(s, 7);
    expect(seen).toEqual([10, 12, 14]);
    stop();
  });

  test("a computed created before any write picks up writes once it is read", () => {
    const ctx = createContext();
    const s = signal(1);
    const view = ctx.toPreact(s);
    const plus = computed(() => view.value + 1);
    ctx.set(s, 10);
    expect(plus.value).toBe(11);
    ctx.set(s, 20);
    expect(plus.value).toBe(21);
  });

  test("spins and preact views of one cell agree, in a root and in a fork", () => {
    for (const ctx of [createContext(), createContext().fork()]) {
      const s = signal(1);
      const t = spin(($) => $.track(s) * 3);
      ctx.set(s, 2);
      expect(ctx.read(t)).toBe(6);
      const view = ctx.toPreact(s);
      expect(view.value).toBe(2);
      ctx.set(s, 4);
      expect(view.value).toBe(4);
      expect(ctx.read(t)).toBe(12);
    }
  });

  test("the default context's signal is preact's own: preact sees every write at once", () => {
    const s = signal(1);
    const seen: number[] = [];
    const stop = effect(() => {
      seen.push(s.value);
    });
    s.value = 2;
    expect(seen).toEqual([1, 2]);
    stop();
  });
});

// a view in a fork of a fork looked its cell up again only when its own fork made a shadow cell: the
// middle fork's write left it on the root's cell until something else moved it
test("a view in a fork of a fork follows the middle fork's first write", () => {
  const root = createContext();
  const s = signal(1);
  root.set(s, 2);
  const mid = root.fork();
  const leaf = mid.fork();
  const view = leaf.toPreact(s);
  const seen: number[] = [];
  const stop = effect(() => {
    seen.push(view.value);
  });
  mid.set(s, 3);
  expect(view.value).toBe(3);
  root.set(s, 4); // shadowed by mid's cell
  expect(view.value).toBe(3);
  leaf.set(s, 5);
  expect(view.value).toBe(5);
  mid.set(s, 6); // shadowed by leaf's cell
  expect(view.value).toBe(5);
  expect(seen).toEqual([2, 3, 5]);
  stop();
});
