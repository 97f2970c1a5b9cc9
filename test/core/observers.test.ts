/**
 * A source's observer set keeps a few members in an array alone and adds a hash table of their
 * positions past eight (back to the array alone at four): whatever the sequence of adds and
 * deletes, it behaves as a `Set` (in insertion order until it first grew large: a delete from a
 * large set moves the last member into the hole), and an iteration started before a change sees
 * the members as they were. `one` and `two` (what the staleness walk reads first) are the members
 * of a set of one or two, or null: never members of a larger set or ones that left.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { SpinNode } from "../../src/core/kernel/node.js";
import { Observers } from "../../src/core/kernel/observers.js";

const nodes = Array.from({ length: 24 }, (_, i) => ({ id: `n${i}`, num: 0 }) as unknown as SpinNode);

/** `actual` holds the members of `ref`: in its order while `ordered`. */
function same(actual: readonly SpinNode[], ref: Set<SpinNode>, ordered: boolean): void {
  if (ordered) expect(actual).toEqual([...ref]);
  else expect(new Set(actual)).toEqual(ref);
  expect(actual.length).toBe(ref.size);
}

describe("Observers", () => {
  it("behaves as an insertion-ordered Set through the small and large forms", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 23 })), { maxLength: 200, size: "max" }),
        (ops) => {
          const obs = new Observers();
          const ref = new Set<SpinNode>();
          let big = false; // grew past 8 members: the order is no longer insertion order
          for (const [add, k] of ops) {
            const n = nodes[k]!;
            if (add) {
              obs.add(n);
              ref.add(n);
            } else expect(obs.delete(n)).toBe(ref.delete(n));
            big ||= ref.size > 8;
            expect(obs.size).toBe(ref.size);
            same(obs.list(), ref, !big);
            const small = [obs.one, obs.two].filter((o) => o !== null);
            if (small.length > 0) same(small, ref, !big);
            if (obs.one === null) expect(obs.two).toBe(null);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("behaves as an insertion-ordered Set with its pair alone, until a list is asked for", () => {
    // one or two members live in `one` and `two` without an array; `list()` (a signal's write)
    // makes the array, a third member too: a run of operations that asks for a list only now
    // and then goes through all the forms
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 11 })), {
          maxLength: 120,
        }),
        (ops) => {
          const obs = new Observers();
          const ref = new Set<SpinNode>();
          let big = false; // grew past 8 members: the order is no longer insertion order
          for (const [op, k] of ops) {
            const n = nodes[k]!;
            if (op === 0) {
              obs.add(n);
              ref.add(n);
            } else if (op === 1) expect(obs.delete(n)).toBe(ref.delete(n));
            else if (k % 4 === 0) same(obs.list(), ref, !big);
            big ||= ref.size > 8;
            expect(obs.size).toBe(ref.size);
            same([...obs], ref, !big);
            const small = [obs.one, obs.two].filter((o) => o !== null);
            if (small.length > 0) same(small, ref, !big);
            if (!big && ref.size <= 2) expect(small.length).toBe(ref.size);
            if (obs.one === null) expect(obs.two).toBe(null);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("names its one or two members in `one` and `two` while the array holds membership", () => {
    const obs = new Observers();
    const pair = () => [obs.one, obs.two];
    expect(pair()).toEqual([null, null]);
    obs.add(nodes[0]!);
    expect(pair()).toEqual([nodes[0], null]);
    obs.add(nodes[0]!);
    expect(pair()).toEqual([nodes[0], null]);
    obs.add(nodes[1]!);
    expect(pair()).toEqual([nodes[0], nodes[1]]);
    obs.add(nodes[2]!);
    expect(pair()).toEqual([null, null]);
    obs.delete(nodes[1]!);
    expect(pair()).toEqual([nodes[0], nodes[2]]);
    obs.delete(nodes[0]!);
    expect(pair()).toEqual([nodes[2], null]);
    obs.add(nodes[3]!);
    expect(pair()).toEqual([nodes[2], nodes[3]]);
    obs.delete(nodes[3]!);
    obs.delete(nodes[2]!);
    expect(pair()).toEqual([null, null]);
  });

  it("an iteration sees the members at its start, in both forms", () => {
    for (const count of [3, 12]) {
      const obs = new Observers();
      for (let i = 0; i < count; i++) obs.add(nodes[i]!);
      const seen: SpinNode[] = [];
      for (const o of obs) {
        seen.push(o);
        obs.delete(o);
        obs.add(nodes[20]!);
      }
      same(seen, new Set(nodes.slice(0, count)), count <= 8); // (a large set's order is its table's)
      expect(obs.list()).toEqual([nodes[20]!]);
    }
  });

  it("a large set stays a set through growth, shrinking and back to the array (hundreds of members)", () => {
    // the table of a large set: joins past half its slots double it, leaves below an eighth halve
    // it, and four members go back to the array alone; a delete shifts the probe run after it back
    const many = Array.from({ length: 400 }, (_, i) => ({ id: `m${i}`, num: 0 }) as unknown as SpinNode);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 399 })), {
          maxLength: 3000,
          size: "max", // (fast-check's default size keeps arrays to a few dozen operations)
        }),
        (ops) => {
          const obs = new Observers();
          const ref = new Set<SpinNode>();
          for (const [op, k] of ops) {
            const n = many[k]!;
            if (op < 5) {
              obs.add(n);
              ref.add(n);
            } else if (op < 9) expect(obs.delete(n)).toBe(ref.delete(n));
            else {
              // leave down to a few: the shrinking path
              for (const m of [...ref].slice(3)) {
                expect(obs.delete(m)).toBe(true);
                ref.delete(m);
              }
            }
            expect(obs.size).toBe(ref.size);
          }
          same(obs.list(), ref, false);
          for (const m of many) expect(obs.delete(m)).toBe(ref.has(m));
          expect(obs.size).toBe(0);
        },
      ),
      { numRuns: 40 },
    );
  });
  it("a large set's view is its members in join order; a leaver's place goes to the last member", () => {
    // the staleness walk and the drain take a write's observers in this order: near join order,
    // the nodes of a fan-out are walked in the order they were made (hash order scattered them over
    // memory: twice the time an operation)
    const many = Array.from({ length: 1000 }, (_, i) => ({ id: `j${i}`, num: 0 }) as unknown as SpinNode);
    const obs = new Observers();
    for (const m of many) obs.add(m);
    expect(obs.list()).toEqual(many);
    expect(obs.delete(many[10]!)).toBe(true);
    const after = obs.list();
    expect(after.length).toBe(999);
    expect(after[10]).toBe(many[999]);
    expect(after.slice(0, 10)).toEqual(many.slice(0, 10));
    expect(after.slice(11)).toEqual(many.slice(11, 999));
    expect(obs.delete(many[999]!)).toBe(true); // the moved member leaves from its new place
    expect(obs.list().length).toBe(998);
    expect(obs.list()[10]).toBe(many[998]);
    obs.add(many[10]!);
    expect(obs.list()[998]).toBe(many[10]);
  });
});
