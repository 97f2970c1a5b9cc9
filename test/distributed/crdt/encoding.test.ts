/**
 * Pins the wire/stored encoding of ORSet and ORMap values and deltas byte for byte. The hex and
 * canonical forms below were produced by the implementation before ORSet and ORMap shared one
 * dot store, so values stored or sent by peers running that code must keep decoding and merging
 * exactly as they did. Regenerate only on a deliberate format change (which needs a new tag).
 */
import { Tag } from "cbor-x";
import { type CrdtError, GSet, ORMap, ORSet } from "spindel/crdt";
import { describe, expect, test } from "vitest";
import { decodeCbor, encodeCbor } from "../../../src/core/persist/codec.js";

type Value = ORSet<unknown> | ORMap<unknown, unknown>;

interface Case {
  /** The value (a state or a delta) whose encoding is pinned. */
  make(): Value;
  /** A replica the decoded value is merged into (`join`, which for a delta is `applyDelta`). */
  base(): Value;
}

const set = (actor: string) => ORSet.empty<unknown>(actor);
const map = (actor: string) => ORMap.empty<unknown, unknown>(actor);

/** A replica that saw only b's second add: its context has a dot beyond its version vector. */
function gapSet(): ORSet<unknown> {
  const b1 = set("b").add("p").clearDelta();
  const b2 = b1.add("q");
  return set("c").applyDelta(b2.delta as ORSet<unknown>);
}

function gapMap(): ORMap<unknown, unknown> {
  const b1 = map("b").set("p", 1).clearDelta();
  const b2 = b1.set("q", 2);
  return map("c").applyDelta(b2.delta as ORMap<unknown, unknown>);
}

const CASES: Record<string, Case> = {
  "orset state": {
    make: () => set("a").add("x").add("y").remove("x").clearDelta(),
    base: () => set("b").add("x").clearDelta(),
  },
  "orset state, concurrent add and remove joined": {
    make: () => {
      const base = set("a").add("x").clearDelta();
      const a = base.remove("x").clearDelta();
      const b = base.withActor("b").add("x").add("z").clearDelta();
      return a.join(b);
    },
    base: () => set("a").add("x").clearDelta(),
  },
  "orset state with a context gap": {
    make: () => gapSet().add("r").clearDelta(),
    base: () => set("b").add("p").clearDelta(),
  },
  "orset state of structured elements": {
    make: () =>
      set("a")
        .add({ b: 1, a: [1, 2] })
        .add(7)
        .add("7")
        .add(null)
        .clearDelta(),
    base: () =>
      set("b")
        .add({ a: [1, 2], b: 1 })
        .clearDelta(),
  },
  "orset delta: add": {
    make: () => set("a").add("x").delta as ORSet<unknown>,
    base: () => set("b").add("y").clearDelta(),
  },
  "orset delta: remove": {
    make: () => set("a").add("x").add("y").clearDelta().remove("x").delta as ORSet<unknown>,
    base: () => set("a").add("x").add("y").clearDelta().withActor("b").add("w").clearDelta(),
  },
  "orset delta: re-add replaces the observed dot": {
    make: () => set("a").add("x").clearDelta().add("x").delta as ORSet<unknown>,
    base: () => set("a").add("x").clearDelta().withActor("b"),
  },
  "orset delta: accumulated adds and removes": {
    make: () => set("a").add("x").add("y").remove("x").add("z").remove("q").delta as ORSet<unknown>,
    base: () => set("b").add("x").clearDelta(),
  },
  "orset delta from a replica with a context gap": {
    make: () => gapSet().add("r").remove("q").delta as ORSet<unknown>,
    base: () => set("b").add("p").add("q").clearDelta(),
  },
  "ormap state": {
    make: () =>
      map("a")
        .set("k", { nested: [1, 2] })
        .set("j", 1)
        .delete("j")
        .clearDelta(),
    base: () => map("b").set("j", 2).clearDelta(),
  },
  "ormap state, concurrent values": {
    make: () => map("a").set("name", "Peter").clearDelta().join(map("b").set("name", "Paul").clearDelta()),
    base: () => map("c").set("name", "Mary").clearDelta(),
  },
  "ormap state with a context gap": {
    make: () => gapMap().set("r", [3]).clearDelta(),
    base: () => map("b").set("p", 1).clearDelta(),
  },
  "ormap state of convergent values": {
    make: () =>
      map("a")
        .set("tags", GSet.of(["x"]))
        .set({ id: 1 }, GSet.of([1, 2]))
        .clearDelta(),
    base: () =>
      map("b")
        .set("tags", GSet.of(["y"]))
        .clearDelta(),
  },
  "ormap delta: set": {
    make: () => map("a").set("k", "v").delta as ORMap<unknown, unknown>,
    base: () => map("b").set("k", "w").clearDelta(),
  },
  "ormap delta: delete": {
    make: () => map("a").set("k", 1).set("j", 2).clearDelta().delete("k").delta as ORMap<unknown, unknown>,
    base: () => map("a").set("k", 1).set("j", 2).clearDelta().withActor("b"),
  },
  "ormap delta: set replaces the observed values": {
    make: () => map("a").set("k", 1).clearDelta().set("k", 2).delta as ORMap<unknown, unknown>,
    base: () => map("a").set("k", 1).clearDelta().withActor("b").set("j", 0).clearDelta(),
  },
  "ormap delta: accumulated sets and deletes": {
    make: () =>
      map("a").set("x", 1).set("y", { z: true }).delete("x").set("x", 3).delete("q").delta as ORMap<
        unknown,
        unknown
      >,
    base: () => map("b").set("x", 0).clearDelta(),
  },
  "ormap delta from a replica with a context gap": {
    make: () => gapMap().set("r", 1).delete("q").delta as ORMap<unknown, unknown>,
    base: () => map("b").set("p", 1).set("q", 2).clearDelta(),
  },
};

/** Produced by the pre-refactor ORSet/ORMap (see the module comment). */
const PINNED: Record<string, { hex: string; canonical: string; merged: string }> = {
  "orset state": {
    hex: "d9a0018381616181820002818361790002",
    canonical: '"sy"="a\\u00002"|"a":2+',
    merged: '"sx"="b\\u00001";"sy"="a\\u00002"|"a":2+,"b":1+',
  },
  "orset state, concurrent add and remove joined": {
    hex: "d9a0018382616261618282010182000282836178000183617a0002",
    canonical: '"sx"="b\\u00001";"sz"="b\\u00002"|"a":1+,"b":2+',
    merged: '"sx"="b\\u00001";"sz"="b\\u00002"|"a":1+,"b":2+',
  },
  "orset state with a context gap": {
    hex: "d9a00183826162616382820101830000028283617100028361720101",
    canonical: '"sq"="b\\u00002";"sr"="c\\u00001"|"b":0+2,"c":1+',
    merged: '"sp"="b\\u00001";"sq"="b\\u00002";"sr"="c\\u00001"|"b":2+,"c":1+',
  },
  "orset state of structured elements": {
    hex: "d9a00183816161818200048483b900026162016161820102000183f60004836137000383070002",
    canonical:
      '"n7"="a\\u00002";"s7"="a\\u00003";"z"="a\\u00004";"{\\"a\\":[n1,n2],\\"b\\":n1}"="a\\u00001"|"a":4+',
    merged:
      '"n7"="a\\u00002";"s7"="a\\u00003";"z"="a\\u00004";"{\\"a\\":[n1,n2],\\"b\\":n1}"="a\\u00001","b\\u00001"|"a":4+,"b":1+',
  },
  "orset delta: add": {
    hex: "d9a001848161618182000181836178000180",
    canonical: '"sx"="a\\u00001"|"a":1+',
    merged: '"sx"="a\\u00001";"sy"="b\\u00001"|"a":1+,"b":1+',
  },
  "orset delta: remove": {
    hex: "d9a001848161618182000180816178",
    canonical: '|"a":1+',
    merged: '"sw"="b\\u00001";"sy"="a\\u00002"|"a":2+,"b":1+',
  },
  "orset delta: re-add replaces the observed dot": {
    hex: "d9a001848161618182000281836178000280",
    canonical: '"sx"="a\\u00002"|"a":2+',
    merged: '"sx"="a\\u00002"|"a":2+',
  },
  "orset delta: accumulated adds and removes": {
    hex: "d9a001848161618182000382836179000283617a0003816178",
    canonical: '"sy"="a\\u00002";"sz"="a\\u00003"|"a":3+',
    merged: '"sx"="b\\u00001";"sy"="a\\u00002";"sz"="a\\u00003"|"a":3+,"b":1+',
  },
  "orset delta from a replica with a context gap": {
    hex: "d9a0018482616361628282000183010002818361720001816171",
    canonical: '"sr"="c\\u00001"|"b":0+2,"c":1+',
    merged: '"sp"="b\\u00001";"sr"="c\\u00001"|"b":2+,"c":1+',
  },
  "ormap state": {
    hex: "d9a00283816161818200028184616b0001b90001666e6573746564820102",
    canonical: '"sk"="a\\u00001"|"a":2+',
    merged: '"sj"="b\\u00001";"sk"="a\\u00001"|"a":2+,"b":1+',
  },
  "ormap state, concurrent values": {
    hex: "d9a002838261616162828200018201018187646e616d6500016550657465720101645061756c",
    canonical: '"sname"="a\\u00001","b\\u00001"|"a":1+,"b":1+',
    merged: '"sname"="a\\u00001","b\\u00001","c\\u00001"|"a":1+,"b":1+,"c":1+',
  },
  "ormap state with a context gap": {
    hex: "d9a00283826162616382820101830000028284617100020284617201018103",
    canonical: '"sq"="b\\u00002";"sr"="c\\u00001"|"b":0+2,"c":1+',
    merged: '"sp"="b\\u00001";"sq"="b\\u00002";"sr"="c\\u00001"|"b":2+,"c":1+',
  },
  "ormap state of convergent values": {
    hex: "d9a0028381616181820002828464746167730001d9a00081617884b90001626964010002d9a000820102",
    canonical: '"stags"="a\\u00001";"{\\"id\\":n1}"="a\\u00002"|"a":2+',
    merged: '"stags"="a\\u00001","b\\u00001";"{\\"id\\":n1}"="a\\u00002"|"a":2+,"b":1+',
  },
  "ormap delta: set": {
    hex: "d9a00284816161818200018184616b0001617680",
    canonical: '"sk"="a\\u00001"|"a":1+',
    merged: '"sk"="a\\u00001","b\\u00001"|"a":1+,"b":1+',
  },
  "ormap delta: delete": {
    hex: "d9a00284816161818200018081616b",
    canonical: '|"a":1+',
    merged: '"sj"="a\\u00002"|"a":2+',
  },
  "ormap delta: set replaces the observed values": {
    hex: "d9a00284816161818200028184616b00020280",
    canonical: '"sk"="a\\u00002"|"a":2+',
    merged: '"sj"="b\\u00001";"sk"="a\\u00002"|"a":2+,"b":1+',
  },
  "ormap delta: accumulated sets and deletes": {
    hex: "d9a0028481616181820003828461780003038461790002b90001617af580",
    canonical: '"sx"="a\\u00003";"sy"="a\\u00002"|"a":3+',
    merged: '"sx"="a\\u00003","b\\u00001";"sy"="a\\u00002"|"a":3+,"b":1+',
  },
  "ormap delta from a replica with a context gap": {
    hex: "d9a002848261636162828200018301000281846172000101816171",
    canonical: '"sr"="c\\u00001"|"b":0+2,"c":1+',
    merged: '"sp"="b\\u00001";"sr"="c\\u00001"|"b":2+,"c":1+',
  },
};

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const fromHex = (h: string) => new Uint8Array(Buffer.from(h, "hex"));
// one of the two classes at a time: the casts only satisfy the union
const merge = (base: Value, v: Value): Value => (base as ORSet<unknown>).join(v as ORSet<unknown>);
const same = (a: Value, b: Value): boolean => (a as ORSet<unknown>).equals(b as ORSet<unknown>);

describe("ORSet / ORMap encoding is pinned", () => {
  test("every case has a fixture", () => {
    const missing = Object.entries(CASES)
      .filter(([name]) => PINNED[name] === undefined)
      .map(([name, c]) => {
        const v = c.make();
        const back = decodeCbor(encodeCbor(v)) as Value;
        return `  ${JSON.stringify(name)}: {\n    hex: ${JSON.stringify(hex(encodeCbor(v)))},\n    canonical: ${JSON.stringify(v.canonical())},\n    merged: ${JSON.stringify(merge(c.base(), back).canonical())},\n  },`;
      });
    expect(missing.join("\n")).toBe("");
    expect(Object.keys(PINNED).sort()).toEqual(Object.keys(CASES).sort());
  });

  for (const [name, c] of Object.entries(CASES))
    test(name, () => {
      const pin = PINNED[name];
      if (pin === undefined) return;
      const live = c.make();
      // today's code encodes exactly the pinned bytes
      expect(hex(encodeCbor(live))).toBe(pin.hex);
      // the pinned bytes decode to the same value, and re-encode to themselves
      const old = decodeCbor(fromHex(pin.hex)) as Value;
      expect(old).toBeInstanceOf(live.constructor);
      expect(old.canonical()).toBe(pin.canonical);
      expect(same(old, live)).toBe(true);
      expect(hex(encodeCbor(old))).toBe(pin.hex);
      // and merge into a live replica as they did
      const merged = merge(c.base(), old);
      expect(merged.canonical()).toBe(pin.merged);
      expect(merged.delta).toBeNull();
      expect(same(merged, merge(c.base(), live))).toBe(true);
    });
});

describe("ORSet / ORMap malformed encodings keep their errors", () => {
  const cases: [string, number, unknown][] = [
    ["ORSet", 40_961, [["a"], [], [["x", 0, 1, 0]]]],
    ["ORSet", 40_961, [["a"], [], [["x", 1, 1]]]],
    ["ORSet", 40_961, [["a"], [], [["x", 0, 0]]]],
    [
      "ORSet",
      40_961,
      [
        ["a"],
        [],
        [
          ["x", 0, 1],
          ["x", 0, 2],
        ],
      ],
    ],
    ["ORSet", 40_961, [["a"], [], [], 7]],
    ["ORSet", 40_961, [["a"], [], "x"]],
    ["ORSet", 40_961, [["a", "a"], [], []]],
    ["ORSet", 40_961, [["a"], [[0, 0]], [], [], 1]],
    ["ORMap", 40_962, [["a"], [], [["k", 0, 1]]]],
    ["ORMap", 40_962, [["a"], [], [["k", 1, 1, "v"]]]],
    ["ORMap", 40_962, [["a"], [], [["k", 0, 1.5, "v"]]]],
    [
      "ORMap",
      40_962,
      [
        ["a"],
        [],
        [
          ["k", 0, 1, "v"],
          ["k", 0, 2, "w"],
        ],
      ],
    ],
    ["ORMap", 40_962, [["a"], [], [], {}]],
    ["ORMap", 40_962, [["a"], [[1, 1]], []]],
    ["ORMap", 40_962, [[""], [], []]],
  ];
  const messages = [
    "malformed encoded ORSet entry",
    "malformed encoded ORSet dot",
    "malformed encoded ORSet dot",
    "malformed encoded ORSet duplicate element",
    "malformed encoded ORSet touched keys",
    "malformed encoded ORSet entries",
    "malformed encoded ORSet actors",
    "malformed encoded ORSet",
    "malformed encoded ORMap entry",
    "malformed encoded ORMap dot",
    "malformed encoded ORMap dot",
    "malformed encoded ORMap duplicate key",
    "malformed encoded ORMap touched keys",
    "malformed encoded ORMap context actor",
    "malformed encoded ORMap actor",
  ];
  test.each(cases.map((c, i) => [i, ...c] as const))("#%i %s", (i, _name, tag, data) => {
    let err: CrdtError | undefined;
    try {
      decodeCbor(encodeCbor(new Tag(data, tag)));
    } catch (e) {
      err = e as CrdtError;
    }
    expect(err?.code).toBe("ERR_DESERIALIZE");
    expect(err?.message).toBe(messages[i]);
  });
});
