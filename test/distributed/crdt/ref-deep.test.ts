/**
 * A ref nested tens of thousands deep: every operation whose cost grows with the depth (building,
 * reading, comparing, merging, diffing a local edit, the codec) works without a call per level, so
 * none of them overflows the stack.
 */
import { Tag } from "cbor-x";
import {
  decodeRefOps,
  encodeRefOps,
  GSet,
  LWWRegister,
  type Ref,
  type RefOp,
  ref,
  refFromOps,
} from "spindel/crdt";
import { describe, expect, test } from "vitest";
import { decodeCbor, encodeCbor } from "../../../src/core/persist/codec.js";

const DEPTH = 50_000;
const REF_TAG = 40_967;

/** `leaf` inside `depth` containers, maps and lists by turns: `{ k: [{ k: [… leaf …] }] }`. */
function nest(depth: number, leaf: unknown): unknown {
  let v = leaf;
  for (let i = depth - 1; i >= 0; i--) v = i % 2 === 0 ? { k: v } : [v];
  return v;
}

/** What {@link nest} put inside, or a description of where a value is not that shape. */
function unnest(v: unknown, depth: number): unknown {
  let at = v;
  for (let i = 0; i < depth; i++) {
    if (i % 2 === 0) {
      const rec = at as Record<string, unknown>;
      if (typeof at !== "object" || at === null || Array.isArray(at) || Object.keys(rec).join() !== "k")
        return `not { k } at depth ${i}`;
      at = rec.k;
    } else {
      if (!Array.isArray(at) || at.length !== 1) return `not [x] at depth ${i}`;
      at = at[0];
    }
  }
  return at;
}

/** The state a caller can see, compared without walking the value (the log says it all). */
const fingerprint = (r: Ref<unknown>) => ({ log: r.log().length, clock: r.clock() });

describe(`a ref nested ${DEPTH.toLocaleString("en")} deep`, () => {
  test("builds, reads, edits in place, merges into a replica and survives its codec", () => {
    const a = ref<unknown>(nest(DEPTH, "leaf"), { actor: "a" });
    expect(unnest(a.value, DEPTH)).toBe("leaf");
    const built = a.log().length;

    // the same value again writes nothing (a comparison all the way down)
    a.reset(nest(DEPTH, "leaf"));
    expect(a.log()).toHaveLength(built);

    // an edit at the bottom is two ops (the innermost list's element removed, one inserted):
    // every level above it is edited in place
    const seen: unknown[] = [];
    a.watch((v) => seen.push(unnest(v, DEPTH)));
    a.reset(nest(DEPTH, "changed"));
    expect(
      a
        .log()
        .slice(built)
        .map((op) => op.op),
    ).toEqual(["rm", "ins"]);
    expect(seen).toEqual(["changed"]);

    // a replica, and one that merges it into a document of its own
    const b = refFromOps<unknown>(a.log(), { actor: "b" });
    expect(unnest(b.value, DEPTH)).toBe("changed");
    const c = ref<unknown>({ other: 1 }, { actor: "c" });
    c.merge(a);
    expect(unnest(c.value, DEPTH)).toBe("changed");
    // concurrent edits at the bottom of two replicas converge: both inserts survive there
    b.reset(nest(DEPTH, "from b"));
    c.reset(nest(DEPTH, "from c"));
    b.merge(c.patchFromClock(b.clock()));
    c.merge(b);
    const bottom = unnest(b.value, DEPTH - 1) as string[];
    expect([...bottom].sort()).toEqual(["from b", "from c"]);
    expect(unnest(c.value, DEPTH - 1)).toEqual(bottom);
    c.reset(nest(DEPTH, "from c"));
    // merging what changes nothing visible notifies nobody
    const heard: unknown[] = [];
    c.watch((v) => heard.push(v));
    c.merge(b);
    c.merge(a);
    // new ops, but none that shows: the old and new value are compared all the way down
    const had = c.log().length;
    c.merge({ ops: [{ op: "map", id: [1, "zz"] }] });
    expect(c.log()).toHaveLength(had + 1);
    expect(heard).toEqual([]);

    // the log's encoding, and the ref through its CBOR tag
    expect(decodeRefOps(encodeRefOps(c.log()))).toEqual(c.log());
    const back = decodeCbor(encodeCbor(c)) as Ref<unknown>;
    expect(fingerprint(back)).toEqual(fingerprint(c));
    expect(unnest(back.value, DEPTH)).toBe("from c");
    const tagged = decodeCbor(encodeCbor(new Tag(encodeRefOps(c.log()), REF_TAG))) as Ref<unknown>;
    expect(unnest(tagged.value, DEPTH)).toBe("from c");
  });

  test("a log that nests lists one in the next, built by hand, loads in any order", () => {
    const log: RefOp[] = [
      { op: "list", id: [1, "a"] },
      { op: "set", id: [2, "a"], obj: "0:", key: "v", node: "1:a" },
    ];
    for (let i = 3; i < 2 * DEPTH; i += 2) {
      log.push({ op: "list", id: [i, "a"] });
      log.push({ op: "ins", id: [i + 1, "a"], obj: `${i === 3 ? 1 : i - 2}:a`, after: null, node: `${i}:a` });
    }
    const lists = (v: unknown): number => {
      let n = 0;
      for (let at = v; Array.isArray(at); at = at[0]) n++;
      return n;
    };
    expect(lists(refFromOps(log).value)).toBe(DEPTH);
    // innermost first: every op parks until the one it refers to arrives
    expect(lists(refFromOps([...log].reverse()).value)).toBe(DEPTH);
    // a ref of its own whose write at the root is older: the log's value wins
    const into = ref<unknown>(5, { actor: "w" });
    into.merge({ ops: log });
    expect(lists(into.value)).toBe(DEPTH);
    expect(lists((decodeCbor(encodeCbor(new Tag(encodeRefOps(log), REF_TAG))) as Ref<unknown>).value)).toBe(
      DEPTH,
    );
  });

  test("values compared by their canonical form, nested as deep: an LWW register, a grow-only set", () => {
    const v = nest(DEPTH, 1);
    const w = nest(DEPTH, 2);
    expect(LWWRegister.of(v, "a", 5).equals(LWWRegister.of(nest(DEPTH, 1), "a", 5))).toBe(true);
    expect(LWWRegister.of(v, "a", 5).equals(LWWRegister.of(w, "a", 5))).toBe(false);
    const s = GSet.of([v]);
    expect(s.has(nest(DEPTH, 1))).toBe(true);
    expect(s.has(w)).toBe(false);
  });

  test("a value that contains itself is refused, not walked forever", () => {
    const loop: Record<string, unknown> = { a: [1] };
    (loop.a as unknown[]).push({ back: loop });
    const r = ref<unknown>({ x: 1 }, { actor: "a" });
    expect(() => r.reset(loop)).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }));
    expect(() => GSet.of([loop])).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }));
    // shared, but not inside itself: fine
    const shared = { s: 1 };
    expect(ref<unknown>({ p: shared, q: [shared] }, { actor: "a" }).value).toEqual({
      p: { s: 1 },
      q: [{ s: 1 }],
    });
    expect(GSet.of([{ p: shared, q: shared }]).has({ p: { s: 1 }, q: { s: 1 } })).toBe(true);
  });
});
