import { CDVCS, type CrdtError, VersionedMap } from "spindel/crdt";
import { describe, expect, test } from "vitest";
import { decodeCbor, encodeCbor } from "../../../src/core/persist/codec.js";

function thrown(fn: () => unknown): CrdtError {
  try {
    fn();
  } catch (e) {
    return e as CrdtError;
  }
  throw new Error("expected a throw");
}

describe("CDVCS", () => {
  test("commits on one head; a join of concurrent commits has two heads; commit refuses; merge resolves", () => {
    const root = CDVCS.create<string>("alice");
    expect(root.heads).toHaveLength(1);
    const a = root.commit(["tweet-1"], "alice").commit(["tweet-2"], "alice");
    const b = root.commit(["tweet-3"], "bob");
    // fast-forward: b had only the root, so a's history is simply pulled
    expect(root.join(a).heads).toEqual(a.heads);
    const both = a.join(b);
    expect(both.heads).toHaveLength(2);
    expect(b.join(a).heads).toEqual(both.heads);
    const err = thrown(() => both.commit(["more"], "alice"));
    expect(err.code).toBe("ERR_MULTIPLE_HEADS");
    const merged = both.merge("alice");
    expect(merged.heads).toHaveLength(1);
    expect(merged.get(merged.heads[0] as string)?.parents).toEqual([...both.heads]);
    const after = merged.commit(["tweet-4"], "alice");
    expect(after.heads).toHaveLength(1);
    // the other side pulls the merge: fast-forward to one head
    expect(b.join(after).heads).toEqual(after.heads);
    expect(merged.merge("alice")).toBe(merged);
  });

  test("commits() is a causal order that every replica agrees on", () => {
    const root = CDVCS.create<number>("r");
    const a = root.commit([1], "a").commit([2], "a");
    const b = root.commit([3], "b");
    const x = a.join(b).merge("a").commit([4], "a");
    const y = b.join(a).join(x);
    const order = (v: CDVCS<number>) => v.commits().map((c) => c.id);
    expect(order(x)).toEqual(order(y));
    const pos = new Map(order(x).map((id, i) => [id, i]));
    for (const c of x.commits())
      for (const p of c.parents) expect(pos.get(p)).toBeLessThan(pos.get(c.id) as number);
    expect(x.commits().flatMap((c) => c.txs)).toHaveLength(4);
  });

  test("commit ids are content hashes: a decoded graph recomputes them, and it joins with a live one", () => {
    const v = CDVCS.create<{ op: string }>("a").commit([{ op: "x" }], "a");
    const back = decodeCbor(encodeCbor(v)) as CDVCS<{ op: string }>;
    expect(back.equals(v)).toBe(true);
    expect(back.heads).toEqual(v.heads);
    expect(back.join(v)).toBe(back);
  });
});

describe("VersionedMap", () => {
  test("branches, checkout, head hashes; a fast-forward merge", () => {
    let m = VersionedMap.empty<number>().set("a", 1);
    const h1 = m.head();
    expect(m.set("a", 1)).toBe(m);
    m = m.branch("feature").checkout("feature").set("b", 2);
    expect(m.get("b")).toBe(2);
    expect(m.checkout("main").get("b")).toBeUndefined();
    expect(m.head("main")).toBe(h1);
    m = m.checkout("main").merge("feature");
    expect(m.head("main")).toBe(m.head("feature"));
    expect(m.entries()).toEqual([
      ["a", 1],
      ["b", 2],
    ]);
    expect(thrown(() => m.checkout("nope")).code).toBe("ERR_UNKNOWN_BRANCH");
  });

  test("the same key changed differently on both sides is a conflict; disjoint keys are not", () => {
    const base = VersionedMap.empty<string>().set("x", "0").set("y", "0").branch("fork");
    const ours = base.set("x", "ours").set("y", "same");
    const both = ours.checkout("fork").set("x", "theirs").set("z", "new").set("y", "same").checkout("main");
    expect(both.conflicts("main", "fork")).toEqual([{ key: "x", base: "0", ours: "ours", theirs: "theirs" }]);
    const err = thrown(() => both.merge("fork"));
    expect(err.code).toBe("ERR_MERGE_CONFLICT");
    expect((err.data as { conflicts: unknown[] }).conflicts).toHaveLength(1);
    // disjoint keys merge cleanly
    const clean = base.set("a", "1").checkout("fork").set("b", "2").checkout("main");
    expect(clean.conflicts("main", "fork")).toEqual([]);
    const merged = clean.merge("fork");
    expect(merged.get("a")).toBe("1");
    expect(merged.get("b")).toBe("2");
    expect(merged.merge("fork")).toBe(merged);
  });

  test("merge(source, {force: true}) makes source win, whatever the order of the head hashes", () => {
    let sawLower = false;
    let sawHigher = false;
    for (let i = 0; i < 24; i++) {
      const base = VersionedMap.empty<string>().set("k", "base").branch("src");
      const m = base
        .set("k", `ours-${i}`)
        .checkout("src")
        .set("k", `theirs-${i}`)
        .set("only-src", "s")
        .checkout("main");
      if (m.head("src") < m.head("main")) sawLower = true;
      else sawHigher = true;
      const merged = m.merge("src", { force: true });
      expect(merged.get("k")).toBe(`theirs-${i}`);
      expect(merged.get("only-src")).toBe("s");
      expect(merged.conflicts("main", "src")).toEqual([]);
    }
    expect(sawLower && sawHigher).toBe(true);
  });

  test("a deleted key on one side against an unchanged key merges as a delete", () => {
    const base = VersionedMap.empty<number>().set("a", 1).branch("f");
    const m = base.checkout("f").delete("a").checkout("main").merge("f");
    expect(m.has("a")).toBe(false);
  });

  test("replicas: the encoded value joins with a live one and keeps heads", () => {
    const a = VersionedMap.empty<number>().set("a", 1).branch("f");
    const back = decodeCbor(encodeCbor(a)) as VersionedMap<number>;
    expect(back.equals(a)).toBe(true);
    expect(back.head("f")).toBe(a.head("f"));
    const b = back.checkout("f").set("b", 2);
    const joined = a.join(b.clearDelta());
    expect(joined.checkout("f").get("b")).toBe(2);
    expect(
      a
        .applyDelta(b.delta as VersionedMap<number>)
        .checkout("f")
        .get("b"),
    ).toBe(2);
  });
});
