import { GSet, ORMap, VersionedMap } from "spindel/crdt";
import { describe, expect, it } from "vitest";
import { convergentSystem } from "../../../src/distributed/workspace/convergent-system.js";
import { isWorkspaceError } from "../../../src/distributed/workspace/errors.js";
import { versionedMapSystem } from "../../../src/distributed/workspace/versioned-map-system.js";

describe("VersionedMap as a branchable system", () => {
  it("branches at a head, reads a head unchanged, merges, and reports conflicts", async () => {
    const sys = versionedMapSystem("db", VersionedMap.empty<number>().set("a", 1).set("b", 2));
    const base = (await sys.head()) as string;
    await sys.update((m) => m.set("a", 10));
    await sys.branch("fork", base);
    await sys.checkout("fork");
    await sys.update((m) => m.set("b", 20));
    expect((await sys.asOf(base)).get("a")).toBe(1);
    expect(await sys.conflicts("main", "fork")).toEqual([]);
    await sys.checkout("main");
    await sys.merge("fork");
    expect((await sys.value()).entries()).toEqual([
      ["a", 10],
      ["b", 20],
    ]);
    await sys.checkout("fork");
    await sys.update((m) => m.set("a", 11));
    await sys.checkout("main");
    const conflicts = await sys.conflicts("main", "fork");
    expect(conflicts).toEqual([{ system: "db", key: "a", base: 1, ours: 10, theirs: 11 }]);
    await expect(sys.merge("fork")).rejects.toSatisfy((e: unknown) =>
      isWorkspaceError(e, "ERR_MERGE_CONFLICT"),
    );
    await sys.merge("fork", { force: true });
    expect((await sys.value()).get("a")).toBe(11);
    await expect(sys.checkout("nope")).rejects.toSatisfy((e: unknown) =>
      isWorkspaceError(e, "ERR_NO_BRANCH"),
    );
    expect(await sys.head("nope")).toBeNull();
  });
});

describe("convergent systems over spindel/crdt", () => {
  it("G-Set: a branch shares the value, merge joins, conflicts are always empty", async () => {
    const sys = convergentSystem("tags", GSet.of(["a"]));
    const h0 = (await sys.head()) as string;
    await sys.branch("f");
    await sys.checkout("f");
    await sys.update((s) => s.add("b"));
    await sys.checkout("main");
    await sys.update((s) => s.add("c"));
    expect(await sys.conflicts("main", "f")).toEqual([]);
    await sys.merge("f");
    expect((await sys.value()).values().sort()).toEqual(["a", "b", "c"]);
    expect((await sys.asOf(h0)).values()).toEqual(["a"]);
    const h = await sys.head();
    await sys.merge("f"); // nothing new: the head stays
    expect(await sys.head()).toBe(h);
  });

  it("OR-Map: concurrent sets on two branches both survive the merge", async () => {
    const sys = convergentSystem("people", ORMap.empty<string, string>("server").set("name", "Ann"));
    await sys.branch("f");
    await sys.checkout("f");
    await sys.update((m) => m.withActor("client").set("name", "Bob"));
    await sys.checkout("main");
    await sys.update((m) => m.set("name", "Cid"));
    await sys.merge("f");
    expect((await sys.value()).get("name").sort()).toEqual(["Bob", "Cid"]);
    expect(sys.caps.convergent).toBe(true);
  });
});
