import { createContext } from "spindel";
import { GSet } from "spindel/crdt";
import { describe, expect, it } from "vitest";
import { composite } from "../../../src/distributed/workspace/composite.js";
import { convergentSystem } from "../../../src/distributed/workspace/convergent-system.js";
import type { WorkspaceDescriptor } from "../../../src/distributed/workspace/descriptor.js";
import { isWorkspaceError } from "../../../src/distributed/workspace/errors.js";
import { forkRemote, mergeForkRemote } from "../../../src/distributed/workspace/fork.js";
import { LeaseTable } from "../../../src/distributed/workspace/lease.js";
import { createWorkspacePeer } from "../../../src/distributed/workspace/peer.js";
import { openStoredMap, type StoredMap } from "../../../src/distributed/workspace/stored-map.js";
import type { BranchableSystem } from "../../../src/distributed/workspace/system.js";
import { MemStore } from "./mem-store.js";

async function setup() {
  const docsStore = new MemStore();
  const docs = await openStoredMap(docsStore, { id: "docs" });
  await docs.transact(Array.from({ length: 50 }, (_, i) => [`doc${i}`, `v${i}`] as const));
  const tags = convergentSystem("tags", GSet.of(["a"]));
  const systems = { docs, tags } as Record<string, BranchableSystem>;
  const parent: WorkspaceDescriptor = {
    branch: "main",
    owner: "server",
    systems: {
      docs: { branch: "main", head: (await docs.head("main")) as string },
      tags: { branch: "main", head: (await tags.head("main")) as string },
    },
  };
  const ctx = createContext();
  const wp = createWorkspacePeer<unknown>({
    self: "client",
    context: ctx,
    resolveSystem: (id, _branch, head) => (systems[id] as BranchableSystem).asOf(head),
  });
  wp.setDescriptor(parent);
  for (const [id, pin] of Object.entries(parent.systems)) wp.applyHeadUpdate(id, pin.branch, pin.head);
  await wp.settled();
  return { docs, docsStore, tags, systems, parent, ctx, wp };
}

describe("forkRemote", () => {
  it("forks from the parent's pinned heads, writes no content, claims the lease and re-seats onto the fork", async () => {
    const { docs, docsStore, systems, parent, ctx, wp } = await setup();
    // the parent's branch moves on after the checkout was pinned: the fork must start at the pin
    await docs.set("doc0", "moved-after-pin");
    const nodes = docsStore.contentNodes;
    expect(wp.writable()).toBe(false);
    const fork = await forkRemote(wp, parent, "fork-1", "client", systems);
    await wp.settled();
    expect(docsStore.contentNodes).toBe(nodes); // O(1): only branch pointers moved
    expect(fork.owner).toBe("client");
    expect(fork.forkOf?.heads.docs).toBe(parent.systems.docs?.head);
    expect(wp.writable()).toBe(true);
    expect(wp.seated).toEqual(fork);
    expect(await docs.head("fork-1")).toBe(parent.systems.docs?.head);
    const seated = ctx.get(wp.workspace) as Record<string, unknown>;
    expect(await (seated.docs as { get(k: string): Promise<unknown> }).get("doc0")).toBe("v0");
  });

  it("an unknown system is refused before anything changes", async () => {
    const { parent, wp, docs } = await setup();
    await expect(forkRemote(wp, parent, "f", "client", { docs })).rejects.toSatisfy((e: unknown) =>
      isWorkspaceError(e, "ERR_UNKNOWN_SYSTEM"),
    );
    expect(wp.descriptor).toEqual(parent);
    expect(await docs.head("f")).toBeNull();
  });
});

describe("mergeForkRemote", () => {
  it("fork → write → merge: every system's fork changes land on the parent branch", async () => {
    const { docs, tags, systems, parent, wp } = await setup();
    const fork = await forkRemote(wp, parent, "fork-1", "client", systems);
    await wp.write("docs", async () => {
      await docs.checkout("fork-1");
      await docs.set("doc1", "edited on the fork");
    });
    await tags.checkout("fork-1");
    await tags.update((s) => s.add("b"));
    const r = await mergeForkRemote(fork, systems);
    expect(r.conflicts).toEqual({});
    expect(r.error).toBeUndefined();
    expect(Object.keys(r.merged).sort()).toEqual(["docs", "tags"]);
    expect(r.merged.docs).toBe(await docs.head("main"));
    expect(await (await docs.value()).get("doc1")).toBe("edited on the fork");
    expect((await tags.value()).values()).toEqual(["a", "b"]);
  });

  it("a conflict in one system merges nothing anywhere and leaves the parent untouched", async () => {
    const { docs, tags, systems, parent, wp } = await setup();
    const fork = await forkRemote(wp, parent, "fork-1", "client", systems);
    await docs.checkout("fork-1");
    await docs.set("doc2", "theirs");
    await tags.checkout("fork-1");
    await tags.update((s) => s.add("z"));
    await docs.checkout("main");
    await docs.set("doc2", "ours");
    const before = { docs: await docs.head("main"), tags: await tags.head("main") };
    const r = await mergeForkRemote(fork, systems);
    expect(r.merged).toEqual({});
    expect(r.conflicts).toEqual({
      docs: [{ system: "docs", key: "doc2", base: "v2", ours: "ours", theirs: "theirs" }],
    });
    expect({ docs: await docs.head("main"), tags: await tags.head("main") }).toEqual(before);
    const forced = await mergeForkRemote(fork, systems, { force: true });
    expect(Object.keys(forced.merged).sort()).toEqual(["docs", "tags"]);
    expect(await (await docs.value()).get("doc2")).toBe("theirs");
  });

  it("a detector that throws is an indeterminate conflict: nothing merges", async () => {
    const { systems, parent, wp, tags } = await setup();
    const fork = await forkRemote(wp, parent, "fork-1", "client", systems);
    const broken = Object.create(systems.docs as StoredMap) as StoredMap;
    broken.conflicts = async () => {
      throw new Error("detector down");
    };
    const before = await tags.head("main");
    const r = await mergeForkRemote(fork, { ...systems, docs: broken });
    expect(r.merged).toEqual({});
    expect(r.conflicts).toEqual({ docs: [{ system: "docs", indeterminate: true, error: "detector down" }] });
    expect(await tags.head("main")).toBe(before);
  });

  it("a later system failing reports exactly what merged before it", async () => {
    const { systems, parent, wp, tags, docs } = await setup();
    const fork = await forkRemote(wp, parent, "fork-1", "client", systems);
    await docs.checkout("fork-1");
    await docs.set("doc3", "x");
    const failing: BranchableSystem = {
      id: tags.id,
      type: tags.type,
      caps: tags.caps,
      currentBranch: () => tags.currentBranch(),
      branches: () => tags.branches(),
      head: (b) => tags.head(b),
      branch: (n, f) => tags.branch(n, f),
      checkout: (n) => tags.checkout(n),
      deleteBranch: (n) => tags.deleteBranch(n),
      conflicts: (a, b) => tags.conflicts(a, b),
      merge: async () => {
        throw new Error("disk full");
      },
      value: () => tags.value(),
      asOf: (h) => tags.asOf(h),
    };
    const r = await mergeForkRemote(fork, { docs, tags: failing });
    expect(Object.keys(r.merged)).toEqual(["docs"]);
    expect((r.error as Error).message).toBe("disk full");
    expect(await (await docs.value()).get("doc3")).toBe("x");
  });
});

describe("composite system", () => {
  it("capabilities intersect; a merge checks every component before merging any", async () => {
    const map = await openStoredMap(new MemStore(), { id: "m" });
    await map.set("k", 1);
    const set = convergentSystem("s", GSet.of(["x"]));
    const c = composite("both", { m: map, s: set });
    expect(c.caps).toEqual({ branchable: true, mergeable: true, convergent: false, overlayable: true });
    const base = (await c.head()) as string;
    await c.branch("f", base);
    await c.checkout("f");
    await map.set("k", 2);
    await set.update((s) => s.add("y"));
    await c.checkout("main");
    await map.set("k", 3);
    const sBefore = await set.head("main");
    await expect(c.merge("f")).rejects.toSatisfy((e: unknown) => isWorkspaceError(e, "ERR_MERGE_CONFLICT"));
    expect(await set.head("main")).toBe(sBefore);
    expect(await c.conflicts("main", "f")).toEqual([{ system: "m", key: "k", base: 1, ours: 3, theirs: 2 }]);
    await c.merge("f", { force: true });
    const v = (await c.value()) as { s: GSet<string> };
    expect(v.s.values()).toEqual(["x", "y"]);
    expect(await (await c.asOf(base)).m).toBeDefined();
  });
});

describe("LeaseTable", () => {
  it("refuses writes from non-holders; a hand-off is a new descriptor from the holder", () => {
    const t = new LeaseTable({ hub: "hub" });
    const d: WorkspaceDescriptor = { branch: "main", owner: "alice", systems: {} };
    t.accept("hub", d);
    expect(t.mayWrite("alice", "main")).toBe(true);
    expect(() => t.check("bob", "main")).toThrow(expect.objectContaining({ code: "ERR_NOT_LEASE_HOLDER" }));
    expect(() => t.accept("bob", { ...d, owner: "bob" })).toThrow(
      expect.objectContaining({ code: "ERR_NOT_LEASE_HOLDER" }),
    );
    expect(t.holder("main")).toBe("alice");
    t.accept("alice", { ...d, owner: "bob" });
    expect(t.holder("main")).toBe("bob");
    expect(t.mayWrite("alice", "main")).toBe(false);
    expect(t.mayWrite("nobody", "unleased")).toBe(false);
  });

  it("a lease with a ttl lapses on the context clock unless renewed", () => {
    const ctx = createContext({ clock: "virtual" });
    const t = new LeaseTable({ clock: ctx.clock, ttlMs: 1000 });
    const d: WorkspaceDescriptor = { branch: "b", owner: "alice", systems: {} };
    t.accept("alice", d);
    ctx.advanceTime(600);
    t.accept("alice", d); // renewal
    ctx.advanceTime(600);
    expect(t.holder("b")).toBe("alice");
    ctx.advanceTime(400);
    expect(t.holder("b")).toBeUndefined();
    t.accept("bob", { ...d, owner: "bob" }); // a lapsed lease can be claimed
    expect(t.holder("b")).toBe("bob");
  });
});
