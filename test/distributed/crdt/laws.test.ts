import fc from "fast-check";
import { CDVCS, GSet, LWWRegister, ORMap, ORSet, PNCounter, VersionedMap } from "spindel/crdt";
import { describe, expect, test } from "vitest";
import { checkLaws, fcRun } from "./harness.js";

describe("lattice laws (fast-check, fixed seed)", () => {
  test("GSet", () => {
    checkLaws<GSet<number>>({ name: "GSet", start: () => GSet.empty(), op: (s, _k, x) => s.add(x) });
  });

  test("ORSet", () => {
    checkLaws<ORSet<number>>({
      name: "ORSet",
      start: (actor) => ORSet.empty(actor),
      op: (s, k, x) => (k % 2 === 0 ? s.add(x) : s.remove(x)),
    });
  });

  test("ORMap", () => {
    checkLaws<ORMap<string, number>>({
      name: "ORMap",
      start: (actor) => ORMap.empty(actor),
      op: (s, k, x, _a, t) => (k === 3 ? s.delete(`k${x}`) : s.set(`k${x}`, t)),
    });
  });

  test("LWWRegister", () => {
    checkLaws<LWWRegister<number>>({
      name: "LWWRegister",
      start: () => LWWRegister.of(-1, "root", 0),
      op: (s, k, x, actor, t) => s.set(x * 10 + k, actor, t),
    });
  });

  test("PNCounter", () => {
    checkLaws<PNCounter>({
      name: "PNCounter",
      start: () => PNCounter.empty(),
      op: (s, k, x, actor) => (k % 2 === 0 ? s.inc(x, actor) : s.dec(x, actor)),
    });
  });

  test("CDVCS", () => {
    const root = CDVCS.create<number>("root");
    checkLaws<CDVCS<number>>({
      name: "CDVCS",
      start: () => root,
      op: (s, _k, x, actor) => (s.heads.length > 1 ? s.merge(actor) : s.commit([x], actor)),
    });
  });

  test("VersionedMap", () => {
    checkLaws<VersionedMap<number>>(
      {
        name: "VersionedMap",
        start: () => VersionedMap.empty(),
        op: (m, k, x, actor, t) => {
          const s = (m.branches().includes(actor) ? m : m.branch(actor)).checkout(actor);
          if (k === 1) return s.delete(`k${x}`);
          if (k === 2) return s.checkout("main").merge(actor, { force: true });
          return s.set(`k${x}`, t);
        },
      },
      100,
    );
  });
});

describe("ORSet laws beyond the lattice (fast-check, fixed seed)", () => {
  type Op = { r: number; add: boolean; x: number; sync: number | null };
  const op: fc.Arbitrary<Op> = fc.record({
    r: fc.nat({ max: 2 }),
    add: fc.boolean(),
    x: fc.nat({ max: 4 }),
    sync: fc.option(fc.nat({ max: 2 })),
  });

  test("add wins: after any history, a concurrent add and remove of one element keep it", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 25 }), fc.nat({ max: 4 }), (ops, x) => {
        const reps = ["a", "b", "c"].map((a) => ORSet.empty<number>(a));
        for (const o of ops)
          reps[o.r] = (
            o.sync !== null
              ? (reps[o.r] as ORSet<number>).join(reps[o.sync] as ORSet<number>)
              : o.add
                ? (reps[o.r] as ORSet<number>).add(o.x)
                : (reps[o.r] as ORSet<number>).remove(o.x)
          ).clearDelta();
        const [a, b] = reps as [ORSet<number>, ORSet<number>];
        const removed = a.remove(x);
        const added = b.add(x);
        expect(removed.has(x)).toBe(false);
        expect(removed.join(added).has(x)).toBe(true);
        expect(added.join(removed).has(x)).toBe(true);
        expect(added.applyDelta(removed.delta ?? removed).has(x)).toBe(true);
        expect(removed.applyDelta(added.delta as ORSet<number>).has(x)).toBe(true);
      }),
      fcRun(0x5eed, 150),
    );
  });

  test("an ORSet is the keys of an ORMap<T, true> under the same operations and joins", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 30 }), (ops) => {
        const sets = ["a", "b", "c"].map((a) => ORSet.empty<number>(a));
        const maps = ["a", "b", "c"].map((a) => ORMap.empty<number, true>(a));
        let setDelta = ORSet.empty<number>("z");
        let mapDelta = ORMap.empty<number, true>("z");
        for (const o of ops) {
          const s = sets[o.r] as ORSet<number>;
          const m = maps[o.r] as ORMap<number, true>;
          if (o.sync !== null) {
            sets[o.r] = s.join(sets[o.sync] as ORSet<number>);
            maps[o.r] = m.join(maps[o.sync] as ORMap<number, true>);
          } else {
            const s2 = o.add ? s.add(o.x) : s.remove(o.x);
            const m2 = o.add ? m.set(o.x, true) : m.delete(o.x);
            if (s2.delta !== null) setDelta = setDelta.applyDelta(s2.delta);
            if (m2.delta !== null) mapDelta = mapDelta.applyDelta(m2.delta);
            sets[o.r] = s2.clearDelta();
            maps[o.r] = m2.clearDelta();
          }
        }
        for (let i = 0; i < 3; i++) {
          const s = sets[i] as ORSet<number>;
          const m = maps[i] as ORMap<number, true>;
          expect(s.values()).toEqual(m.keys());
          expect(s.canonical()).toBe(m.canonical());
        }
        expect(setDelta.canonical()).toBe(mapDelta.canonical());
      }),
      fcRun(0x5eed, 150),
    );
  });
});
