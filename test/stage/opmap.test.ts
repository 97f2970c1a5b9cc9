import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeCbor, encodeCbor } from "../../src/core/persist/codec.js";
import { OpMap } from "../../src/distributed/stage/opmap.js";
import { planCommits, planOpMap } from "../../src/distributed/stage/plan.js";

type Step = { replica: number; kind: "assoc" | "dissoc" | "sync"; key: string; other: number };

const steps = fc.array(
  fc.record({
    replica: fc.integer({ min: 0, max: 2 }),
    kind: fc.constantFrom("assoc", "dissoc", "sync") as fc.Arbitrary<Step["kind"]>,
    key: fc.constantFrom("a", "b", "c"),
    other: fc.integer({ min: 0, max: 2 }),
  }),
  { maxLength: 30 },
);

function play(ops: Step[]): OpMap[] {
  const rs = [OpMap.empty(), OpMap.empty(), OpMap.empty()];
  for (const s of ops) {
    if (s.kind === "assoc") rs[s.replica] = rs[s.replica]!.assoc(s.key, [["assoc", [s.key, s.replica]]]);
    else if (s.kind === "dissoc") rs[s.replica] = rs[s.replica]!.dissoc(s.key, [["dissoc", s.key]]);
    else rs[s.replica] = rs[s.replica]!.join(rs[s.other]!);
  }
  return rs;
}

describe("the stage's OR-Map of op lists", () => {
  it("assoc, get, dissoc as in seed 000", () => {
    let m = OpMap.empty().assoc("name", [["assoc", ["name", "Peter"]]]);
    expect(m.get("name")).toEqual([[["assoc", ["name", "Peter"]]]]);
    expect(m.keys()).toEqual(["name"]);
    m = m.dissoc("name", [["dissoc", "name"]]);
    expect(m.get("name")).toEqual([]);
    expect(m.has("name")).toBe(false);
  });

  it("concurrent assocs both survive; a dissoc removes only what it saw (add wins)", () => {
    const base = OpMap.empty().assoc("k", [["set", 1]]);
    const a = base.assoc("k", [["set", 2]]);
    const b = base.dissoc("k", [["unset"]]);
    const merged = a.join(b);
    expect(merged.get("k")).toEqual([[["set", 2]]]);
    expect(b.join(a).equals(merged)).toBe(true);
  });

  it("join is commutative, associative and idempotent; deltas equal joins (fast-check)", () => {
    fc.assert(
      fc.property(steps, (ops) => {
        const [x, y, z] = play(ops) as [OpMap, OpMap, OpMap];
        expect(x.join(y).equals(y.join(x))).toBe(true);
        expect(
          x
            .join(y)
            .join(z)
            .equals(x.join(y.join(z))),
        ).toBe(true);
        expect(x.join(x)).toBe(x);
        const full = x.join(y).join(z);
        const again = full.join(x);
        expect(again).toBe(full);
      }),
      { seed: 42, numRuns: 200 },
    );
  });

  it("a local change carries a delta that reproduces it elsewhere", () => {
    const start = OpMap.empty()
      .assoc("a", [["x"]])
      .clearDelta();
    const changed = start.assoc("b", [["y"]]).dissoc("a", [["z"]]);
    expect(changed.delta).not.toBeNull();
    const elsewhere = start.applyDelta(changed.delta!);
    expect(elsewhere.equals(changed)).toBe(true);
    expect(elsewhere.delta).toBeNull();
    expect(elsewhere.applyDelta(changed.delta!)).toBe(elsewhere);
  });

  it("round-trips through the shared CBOR codec", () => {
    const m = OpMap.empty()
      .assoc("a", [["x", 1, { y: [2] }]])
      .dissoc("a", [["z"]])
      .assoc("b", [["w"]]);
    const back = decodeCbor(encodeCbor(m)) as OpMap;
    expect(back).toBeInstanceOf(OpMap);
    expect(back.equals(m)).toBe(true);
    expect(back.entries()).toEqual(m.entries());
  });

  it("rejects malformed operations with ERR_INVALID_ARGUMENT", () => {
    expect(() => OpMap.empty().assoc("a", [42 as never])).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }),
    );
    expect(() => OpMap.empty().assoc("a", "x" as never)).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }),
    );
  });
});

describe("stream planning", () => {
  it("OR-Map: a dissoc comes after the assocs it removed, each record once", () => {
    const m = OpMap.empty()
      .assoc("a", [["add", 1]])
      .dissoc("a", [["rm", 1]])
      .assoc("b", [["add", 2]]);
    const plan = planOpMap(m, new Set());
    expect(plan.kind).toBe("apply");
    if (plan.kind !== "apply") return;
    const names = plan.units.map((u) => u.ops[0]![0]);
    expect(names.lastIndexOf("add")).toBeLessThan(names.indexOf("rm"));
    const again = planOpMap(m, new Set(plan.units.map((u) => u.id)));
    expect(again).toEqual({ kind: "apply", units: [], reordered: false });
  });

  it("CDVCS: several heads are a conflict; an applied commit after a new one is a reorder", () => {
    expect(planCommits(["b", "a"], [], new Set())).toEqual({ kind: "conflict", heads: ["a", "b"] });
    const commits = [
      { id: "r", parents: [], txs: [] },
      { id: "x", parents: ["r"], txs: [["t", 1]] as const },
      { id: "y", parents: ["r"], txs: [["t", 2]] as const },
      { id: "m", parents: ["x", "y"], txs: [] },
    ];
    const p = planCommits(["m"], commits, new Set(["r", "y"]));
    expect(p).toMatchObject({ kind: "apply", reordered: true });
    if (p.kind === "apply") expect(p.units.map((u) => u.id)).toEqual(["x", "m"]);
  });
});
