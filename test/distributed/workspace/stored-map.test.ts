import { describe, expect, it } from "vitest";
import { isWorkspaceError } from "../../../src/distributed/workspace/errors.js";
import { openStoredMap } from "../../../src/distributed/workspace/stored-map.js";
import { MemStore } from "./mem-store.js";

describe("stored map", () => {
  it("set, delete, read a head; old heads read unchanged (snapshot isolation)", async () => {
    const m = await openStoredMap(new MemStore(), { leafSize: 2 });
    const h1 = await m.transact([
      ["a", 1],
      ["b", 2],
      ["c", 3],
      ["d", 4],
    ]);
    const h2 = await m.delete("b");
    expect(await (await m.value()).toObject()).toEqual({ a: 1, c: 3, d: 4 });
    expect(await (await m.asOf(h1)).toObject()).toEqual({ a: 1, b: 2, c: 3, d: 4 });
    expect((await m.asOf(h2)).head).toBe(h2);
    expect(await (await m.asOf(h1)).get("b")).toBe(2);
  });

  it("the trie shape is a function of the contents: same entries, same root, whatever the order", async () => {
    const a = await openStoredMap(new MemStore(), { leafSize: 2 });
    const b = await openStoredMap(new MemStore(), { leafSize: 2 });
    const keys = Array.from({ length: 40 }, (_, i) => `k${i}`);
    for (const k of keys) await a.set(k, k.length);
    for (const k of [...keys].reverse()) await b.set(k, k.length);
    await a.set("extra", 1);
    await a.delete("extra");
    const root = async (m: typeof a) =>
      ((m.store as MemStore).data.get((await m.head()) as string) as { s: string }).s;
    expect(await root(a)).toBe(await root(b));
  });

  it("branch writes one pointer and no content; branches are independent", async () => {
    const store = new MemStore();
    const m = await openStoredMap(store);
    await m.transact(Array.from({ length: 100 }, (_, i) => [`k${i}`, i] as const));
    const nodes = store.contentNodes;
    const writes = store.writes;
    await m.branch("fork");
    expect(store.contentNodes).toBe(nodes);
    expect(store.writes - writes).toBe(2); // the branch registry and the pointer
    await m.checkout("fork");
    await m.set("k1", "changed");
    await m.checkout("main");
    expect(await (await m.value()).get("k1")).toBe(1);
    expect(await m.branches()).toEqual(["fork", "main"]);
  });

  it("three-way merge: disjoint changes merge, the same key changed differently conflicts", async () => {
    const m = await openStoredMap(new MemStore(), { leafSize: 4 });
    await m.transact(Array.from({ length: 30 }, (_, i) => [`k${i}`, i] as const));
    await m.branch("fork");
    await m.set("k1", "main-side");
    await m.checkout("fork");
    await m.set("k2", "fork-side");
    expect(await m.conflicts("main", "fork")).toEqual([]);
    await m.checkout("main");
    await m.merge("fork");
    const v = await (await m.value()).toObject();
    expect(v.k1).toBe("main-side");
    expect(v.k2).toBe("fork-side");
    // now a conflict
    await m.checkout("fork");
    await m.set("k5", "theirs");
    await m.checkout("main");
    await m.set("k5", "ours");
    const before = await m.head();
    const conflicts = await m.conflicts("main", "fork");
    expect(conflicts).toEqual([{ system: "map", key: "k5", base: 5, ours: "ours", theirs: "theirs" }]);
    await expect(m.merge("fork")).rejects.toSatisfy((e: unknown) =>
      isWorkspaceError(e, "ERR_MERGE_CONFLICT"),
    );
    expect(await m.head()).toBe(before);
    await m.merge("fork", { force: true });
    expect(await (await m.value()).get("k5")).toBe("theirs");
  });

  it("merge fast-forwards and is a no-op when already merged; unknown refs are ERR_NO_BRANCH", async () => {
    const m = await openStoredMap(new MemStore());
    await m.set("a", 1);
    await m.branch("f");
    await m.checkout("f");
    const fh = await m.set("b", 2);
    await m.checkout("main");
    await m.merge("f");
    expect(await m.head()).toBe(fh);
    await m.merge("f");
    expect(await m.head()).toBe(fh);
    await expect(m.checkout("nope")).rejects.toSatisfy((e: unknown) => isWorkspaceError(e, "ERR_NO_BRANCH"));
    await expect(m.merge("nope")).rejects.toSatisfy((e: unknown) => isWorkspaceError(e, "ERR_NO_BRANCH"));
  });

  it("a head whose content is missing is ERR_MISSING_CONTENT", async () => {
    const store = new MemStore();
    const m = await openStoredMap(store);
    const h = await m.set("a", 1);
    const other = await openStoredMap(new MemStore());
    await expect(other.asOf(h)).rejects.toSatisfy((e: unknown) => isWorkspaceError(e, "ERR_MISSING_CONTENT"));
  });
});
