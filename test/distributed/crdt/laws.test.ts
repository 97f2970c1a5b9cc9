import { CDVCS, GSet, LWWRegister, ORMap, ORSet, PNCounter, VersionedMap } from "spindel/crdt";
import { describe, test } from "vitest";
import { checkLaws } from "./harness.js";

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
