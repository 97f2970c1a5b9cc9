import { effect } from "@preact/signals-core";
import { createContext, deserializeContext, signal } from "spindel";
import {
  CDVCS,
  CrdtDecodeError,
  GSet,
  isConvergent,
  LWWRegister,
  nextHLC,
  ORMap,
  ORSet,
  PNCounter,
  ref,
  VersionedMap,
} from "spindel/crdt";
import { describe, expect, test } from "vitest";
import { decodeCbor, encodeCbor } from "../../../src/core/persist/codec.js";
import { checkCbor, DEFAULT_LIMITS } from "../../../src/distributed/limits.js";
import { shuffle } from "./harness.js";

describe("GSet", () => {
  test("add, has, values, size; delta holds what was added since clearDelta", () => {
    let s = GSet.empty<string>().add("a");
    expect(s.delta?.values()).toEqual(["a"]);
    s = s.clearDelta();
    expect(s.delta).toBeNull();
    s = s.add("b").add("c");
    expect(s.delta?.values().sort()).toEqual(["b", "c"]);
    expect(s.has("a") && s.has("b") && !s.has("z")).toBe(true);
    expect(s.size).toBe(3);
    expect(s.add("a")).toBe(s);
    expect(GSet.of([{ x: 1, y: 2 }]).has({ y: 2, x: 1 })).toBe(true);
  });
});

describe("ORSet", () => {
  test("add wins over a concurrent remove, in both merge orders", () => {
    const base = ORSet.empty<string>("a").add("x").clearDelta();
    const a = base.remove("x");
    const b = base.withActor("b").add("x");
    expect(a.has("x")).toBe(false);
    expect(a.join(b).has("x")).toBe(true);
    expect(b.join(a).has("x")).toBe(true);
    expect(
      base
        .withActor("c")
        .applyDelta(a.delta as ORSet<string>)
        .has("x"),
    ).toBe(false);
  });

  test("a remove after an add is exact: it drops what it saw, on every replica", () => {
    const a = ORSet.empty<string>("a").add("x").add("y");
    const b = ORSet.empty<string>("b").join(a).remove("x");
    expect(a.join(b).values()).toEqual(["y"]);
    expect(b.join(a).values()).toEqual(["y"]);
    expect(b.remove("nope")).toBe(b);
  });
});

describe("ORMap", () => {
  test("concurrent sets keep both values; a later set replaces what it saw; delete is exact", () => {
    const a = ORMap.empty<string, string>("a").set("name", "Peter");
    const b = ORMap.empty<string, string>("b").set("name", "Paul");
    const both = a.join(b);
    expect(both.get("name")).toEqual(["Peter", "Paul"]);
    expect(b.join(a).get("name")).toEqual(["Peter", "Paul"]);
    const resolved = both.set("name", "Mary");
    expect(resolved.get("name")).toEqual(["Mary"]);
    expect(resolved.join(a).join(b)).toBe(resolved);
    const gone = resolved.delete("name");
    expect(gone.get("name")).toEqual([]);
    expect(gone.keys()).toEqual([]);
    // a concurrent set the delete did not see survives it
    const c = resolved.withActor("c").set("name", "Ann");
    expect(gone.join(c).get("name")).toEqual(["Ann"]);
    expect(gone.entries()).toEqual([]);
    expect(gone.delete("name")).toBe(gone);
  });
});

describe("ORMap of convergent values", () => {
  test("getJoined merges the concurrent values of a key", () => {
    const a = ORMap.empty<string, GSet<string>>("a").set("tags", GSet.of(["x"]));
    const b = ORMap.empty<string, GSet<string>>("b").set("tags", GSet.of(["y"]));
    const both = a.join(b);
    expect(both.get("tags")).toHaveLength(2);
    expect(both.getJoined("tags")?.values().sort()).toEqual(["x", "y"]);
    expect(both.getJoined("none")).toBeUndefined();
    const back = decodeCbor(encodeCbor(both)) as typeof both;
    expect(back.getJoined("tags")?.values().sort()).toEqual(["x", "y"]);
  });
});

describe("LWWRegister", () => {
  test("every replica picks the same winner whatever the merge order (ties by actor)", () => {
    const start = LWWRegister.of("init", "root", 100);
    const writes = [
      start.set("a", "a", 200),
      start.set("b", "b", 200), // same stamp as a's: actor b wins the tie
      start.set("c", "c", 150),
    ];
    const winners = new Set<string>();
    for (let seed = 0; seed < 12; seed++) {
      let r = start;
      for (const w of shuffle(writes, seed)) r = r.join(w);
      winners.add(r.value);
    }
    expect([...winners]).toEqual(["b"]);
  });

  test("a clock that jumps backwards still yields increasing stamps", () => {
    let r = LWWRegister.of<number | string>(0, "a", 1_000);
    const stamps = [r.stamp];
    for (const now of [1_000, 900, 500, 1_001, 1_001, 10]) {
      r = r.set(stamps.length, "a", now);
      stamps.push(r.stamp);
    }
    for (let i = 1; i < stamps.length; i++) {
      const [w0, c0] = stamps[i - 1] as [number, number];
      const [w1, c1] = stamps[i] as [number, number];
      expect(w1 > w0 || (w1 === w0 && c1 > c0)).toBe(true);
    }
    expect(nextHLC([5, 3], 4)).toEqual([5, 4]);
    expect(nextHLC([5, 3], 6)).toEqual([6, 0]);
    // a write after seeing a remote future stamp is newer than it
    const remote = LWWRegister.of<number | string>("far", "b", 9_999);
    expect(r.join(remote).set("mine", "a", 10).join(remote).value).toBe("mine");
  });
});

describe("PNCounter", () => {
  test("inc and dec per actor; join takes per-actor maxima", () => {
    const a = PNCounter.empty().inc(5, "a").dec(2, "a");
    const b = PNCounter.empty().inc(1, "b");
    expect(a.value).toBe(3);
    expect(a.join(b).value).toBe(4);
    expect(a.join(b).join(a)).toEqual(a.join(b));
    expect(a.inc(0, "a")).toBe(a);
    expect(() => a.inc(-1, "a")).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }));
  });
});

describe("codecs", () => {
  const values = () => [
    GSet.empty<string>().add("a").add("b"),
    ORSet.empty<string>("a").add("x").add("y").remove("x"),
    ORMap.empty<string, unknown>("a")
      .set("k", { nested: [1, 2] })
      .set("j", 1)
      .delete("j"),
    LWWRegister.of({ v: 1 }, "a", 7),
    PNCounter.empty().inc(3, "a").dec(1, "b"),
    CDVCS.create<string>("a").commit(["tx"], "a"),
    VersionedMap.empty<number>().set("k", 1).branch("b"),
  ];

  test("each value survives encode → decode equal, passes the wire check, joins with a live one", () => {
    for (const v of values()) {
      const bytes = encodeCbor({ v });
      expect(() => checkCbor(bytes, DEFAULT_LIMITS)).not.toThrow();
      const back = (decodeCbor(bytes) as { v: typeof v }).v;
      expect(back.constructor).toBe(v.constructor);
      expect((back as { equals(o: unknown): boolean }).equals(v)).toBe(true);
      expect((back as { join(o: unknown): unknown }).join(v)).toBe(back);
    }
  });

  test("values survive ctx.serialize() / deserializeContext", () => {
    const ctx = createContext();
    const vs = values();
    const sigs = vs.map((_, i) => signal<unknown>(null, { key: `crdt.codec.${i}` }));
    for (const [i, v] of vs.entries()) ctx.set(sigs[i] as never, v);
    const back = deserializeContext(ctx.serialize());
    for (const [i, v] of vs.entries())
      expect((back.get(sigs[i] as never) as { equals(o: unknown): boolean }).equals(v)).toBe(true);
  });

  test("malformed input is refused with a typed error", () => {
    const tagged = (tag: number, data: unknown) => {
      const inner = encodeCbor(data);
      return new Uint8Array([0xd9, tag >> 8, tag & 0xff, ...inner]);
    };
    const bad: [number, unknown][] = [
      [40_960, "not an array"],
      [40_961, [["a"], [[0, 1]], [["x", 5, 1]]]], // actor index out of the table
      [40_961, [["a", "a"], [], []]], // a repeated actor
      [40_961, [["a"], [], [["x", 0, 1]], "y"]], // touched keys not a list
      [40_962, [["a"], [], [["k", 0, 1]]]], // entry row of the wrong length
      [40_963, ["v", -1, 0, "a"]],
      [40_963, ["v", 1, 0, ""]],
      [40_964, [["a", 1, "x"]]],
      [
        40_964,
        [
          ["a", 1, 1],
          ["a", 2, 2],
        ],
      ],
    ];
    for (const [tag, data] of bad) {
      let err: unknown;
      try {
        decodeCbor(tagged(tag, data));
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(data)).toBeInstanceOf(CrdtDecodeError);
      expect((err as CrdtDecodeError).code).toBe("ERR_DESERIALIZE");
    }
  });
});

describe("a signal holding a datatype", () => {
  test("an update ticks observers once; an update that adds nothing does not tick", () => {
    const ctx = createContext();
    const tags = signal(GSet.empty<string>());
    let ticks = -1; // the effect's first run reads the initial value
    const stop = effect(() => {
      ctx.toPreact(tags).value;
      ticks++;
    });
    ctx.update(tags, (s) => s.add("x"));
    expect(ticks).toBe(1);
    ctx.update(tags, (s) => s.add("x"));
    ctx.update(tags, (s) => s.join(GSet.of(["x"])));
    ctx.update(tags, (s) => s.applyDelta(GSet.empty()));
    expect(ticks).toBe(1);
    expect(ctx.get(tags).values()).toEqual(["x"]);
    stop();
  });
});

describe("ORMap at size", () => {
  test("thousands of sets and deletes over many keys match a plain model, and a replica fed the deltas agrees", () => {
    let m = ORMap.empty<string, number>("a");
    let replica = ORMap.empty<string, number>("b");
    const model = new Map<string, number>();
    for (let i = 0; i < 3000; i++) {
      const k = `k${(i * 7919) % 701}`;
      if (i % 5 === 0) {
        m = m.delete(k);
        model.delete(k);
      } else {
        m = m.set(k, i);
        model.set(k, i);
      }
      if (m.delta !== null)
        replica = replica.applyDelta(decodeCbor(encodeCbor(m.delta)) as ORMap<string, number>);
      m = m.clearDelta();
    }
    expect(m.size).toBe(model.size);
    for (const [k, v] of model) expect(m.get(k)).toEqual([v]);
    expect(replica.equals(m)).toBe(true);
    expect(new Map(m.entries().map(([k, vs]) => [k, vs[0]]))).toEqual(model);
  });
});

describe("the Convergent interface", () => {
  test("every immutable datatype is convergent; the mutable ref is not", () => {
    for (const v of [
      GSet.empty(),
      ORSet.empty(),
      ORMap.empty(),
      LWWRegister.of(1, "a"),
      PNCounter.empty(),
      CDVCS.create("a"),
      VersionedMap.empty(),
    ])
      expect(isConvergent(v)).toBe(true);
    expect(isConvergent(ref(1))).toBe(false);
    expect(isConvergent({ join: 1 })).toBe(false);
  });
});

describe("purity", () => {
  test("spindel/crdt imports no Node built-ins, no I/O and nothing above it (browser-safe)", async () => {
    const { readFileSync, readdirSync } = await import("node:fs");
    const dir = new URL("../../../src/distributed/crdt/", import.meta.url);
    const seen = new Set<string>();
    const visit = (url: URL) => {
      if (seen.has(url.href)) return;
      seen.add(url.href);
      const src = readFileSync(url, "utf8");
      for (const m of src.matchAll(/from "([^"]+)"/g)) {
        const spec = m[1] as string;
        expect(spec.startsWith("node:"), `${url.pathname} imports ${spec}`).toBe(false);
        if (spec.startsWith(".")) visit(new URL(spec.replace(/\.js$/, ".ts"), url));
        else expect(["cbor-x"], `${url.pathname} imports ${spec}`).toContain(spec);
      }
      expect(src).not.toMatch(/setTimeout|setInterval|\bContext\b/);
    };
    for (const f of readdirSync(dir)) if (f.endsWith(".ts")) visit(new URL(f, dir));
    expect([...seen].some((u) => u.endsWith("core/persist/codec-tags.ts"))).toBe(true);
  });
});
