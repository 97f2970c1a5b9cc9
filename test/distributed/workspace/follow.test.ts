/**
 * Workspaces over real sockets (127.0.0.1, port 0): a hub hosts a workspace, clients follow it,
 * fork it, write under the lease and merge back.
 */
import { spin } from "spindel";
import { describe, expect, it } from "vitest";
import type { WorkspaceDescriptor } from "../../../src/distributed/workspace/descriptor.js";
import { forkRemote, mergeForkRemote } from "../../../src/distributed/workspace/fork.js";
import type { ObservableStore } from "../../../src/distributed/workspace/replicate.js";
import { openStoredMap, type StoredMap } from "../../../src/distributed/workspace/stored-map.js";
import { eventually, until } from "../helpers.js";
import type { MemStore } from "./mem-store.js";
import { follower, hostRoom, type Seat } from "./room.js";

describe("followWorkspace over sockets", () => {
  it("follows a moving checkout and never seats a torn state", async () => {
    const room = await hostRoom(["left", "right"]);
    await room.commit((_id, m) => m.set("v", 0));
    const f = await follower(room.peer.url, "c1", ["left", "right"]);
    await f.follow.ready;
    expect(f.follow.wired).toEqual({ left: "subscriber", right: "subscriber" });
    // every seat the follower ever observes: both systems at the same version, the descriptor's
    const observed: Seat[] = [];
    const stop = f.ctx.observe(
      spin(($) => $.track(f.wp.workspace)),
      (seat) => {
        if (seat !== null) observed.push(seat);
      },
    );
    const N = 30;
    for (let i = 1; i <= N; i++) {
      await room.commit((_id, m) =>
        m.transact([
          ["v", i],
          [`k${i}`, i],
        ]),
      );
      if (i % 5 === 0) await until(f.ctx, f.wp.workspace, (s) => s?.left?.v === i, 10_000);
    }
    const last = await until(f.ctx, f.wp.workspace, (s) => s?.left?.v === N && s?.right?.v === N, 10_000);
    stop();
    expect(last?.left).toEqual(last?.right);
    expect(f.seats.length).toBeGreaterThanOrEqual(N / 5);
    for (const { seat, d } of f.seats) {
      expect(seat.left?.v).toBe(seat.right?.v); // never one system ahead of the other
      expect(seat.left).toEqual(seat.right);
      const left = await (f.readers.left as StoredMap).asOf(d.systems.left?.head as string);
      expect(await left.toObject()).toEqual(seat.left); // the seat is exactly the pinned heads
    }
    for (const seat of observed) expect(seat.left?.v).toBe(seat.right?.v);
    expect(observed.length).toBeGreaterThan(0);
  });

  it("a write to the leased branch from a non-holder is refused by the hub (ERR_NOT_LEASE_HOLDER); hand-off lets it through", async () => {
    const room = await hostRoom(["doc"]);
    await room.commit((_id, m) => m.set("title", "hub's"));
    const f = await follower(room.peer.url, "c1", ["doc"], ["main"]);
    await until(f.ctx, f.wp.workspace, (s) => s?.doc?.title === "hub's");
    // locally: refused before anything is written
    await expect(f.wp.write("doc", () => 1)).rejects.toMatchObject({ code: "ERR_NOT_LEASE_HOLDER" });
    // a client that skips the local check: the hub refuses the pointer write
    const mine = await openStoredMap(f.stores.doc as ObservableStore, { id: "doc", create: false });
    const hubHead = await room.maps.doc?.head("main");
    await mine.set("title", "sneaky");
    await eventually(
      () => f.errors.some((e) => e.code === "ERR_NOT_LEASE_HOLDER"),
      "refusal reaches the client",
    );
    expect(await room.maps.doc?.head("main")).toBe(hubHead);
    expect(await (await (room.maps.doc as StoredMap).value()).get("title")).toBe("hub's");
    // a non-holder cannot hand itself the lease either
    f.follow.publishDescriptor({ ...(f.wp.descriptor as WorkspaceDescriptor), owner: "c1" });
    await eventually(
      () => f.errors.filter((e) => e.code === "ERR_NOT_LEASE_HOLDER").length >= 2,
      "descriptor refusal",
    );
    expect(room.leases.holder("main")).toBe("hub");
    // hand-off: the hub publishes a descriptor naming c1
    await room.commit(async () => undefined, "c1");
    await eventually(() => f.wp.writable(), "c1 holds the lease");
    expect(room.leases.holder("main")).toBe("c1");
    await f.wp.write("doc", async () => {
      await mine.set("title", "c1's");
    });
    await eventually(
      async () => (await (await (room.maps.doc as StoredMap).value()).get("title")) === "c1's",
      "the holder's write reaches the hub",
    );
    expect(room.leases.holder("main")).toBe("c1");
  });

  it("fork of a followed checkout moves no content; write on the fork; merge back under the lease; a conflicting merge changes nothing", async () => {
    const room = await hostRoom(["doc"]);
    await room.commit((_id, m) => m.transact(Array.from({ length: 200 }, (_, i) => [`k${i}`, i] as const)));
    const f = await follower(room.peer.url, "c1", ["doc"], ["main"]);
    await until(f.ctx, f.wp.workspace, (s) => s?.doc?.k199 === 199);
    const local = f.stores.doc?.inner as MemStore;
    const nodes = local.contentNodes;
    const parent = f.wp.descriptor as WorkspaceDescriptor;
    const mine = await openStoredMap(f.stores.doc as ObservableStore, { id: "doc", create: false });
    const fork = await forkRemote(f.wp, parent, "fork-1", "c1", { doc: mine });
    await f.wp.settled();
    expect(local.contentNodes).toBe(nodes); // zero content nodes for the fork
    expect(f.wp.seated?.branch).toBe("fork-1");
    await f.wp.write("doc", async () => {
      await mine.checkout("fork-1");
      await mine.set("k1", "edited");
    });
    // the hub moves k2 meanwhile; the fork edited k1: no conflict
    await room.commit((_id, m) => m.set("k2", "hub-side"));
    await eventually(
      async () => (await mine.head("main")) === (await room.maps.doc?.head("main")),
      "hub write replicated",
    );
    // the hub hands the lease of main to c1 for the merge
    await room.commit(async () => undefined, "c1");
    await eventually(() => room.leases.holder("main") === "c1" && f.wp.descriptor?.owner === "c1", "lease");
    const r = await mergeForkRemote(fork, { doc: mine });
    expect(r.conflicts).toEqual({});
    expect(Object.keys(r.merged)).toEqual(["doc"]);
    await eventually(
      async () => (await room.maps.doc?.head("main")) === r.merged.doc,
      "merge reaches the hub",
    );
    const merged = await (await (room.maps.doc as StoredMap).value()).toObject();
    expect(merged.k1).toBe("edited");
    expect(merged.k2).toBe("hub-side");
    // a second fork conflicts with a hub edit of the same key: nothing merges, the hub is untouched
    const fork2 = await forkRemote(
      f.wp,
      { ...parent, systems: { doc: { ...parent.systems.doc, head: r.merged.doc } } } as WorkspaceDescriptor,
      "fork-2",
      "c1",
      { doc: mine },
    );
    await mine.checkout("fork-2");
    await mine.set("k3", "fork");
    await mine.checkout("main");
    await mine.set("k3", "main"); // published: c1 holds main's lease
    await eventually(
      async () => (await mine.head("main")) === (await room.maps.doc?.head("main")),
      "main edit at hub",
    );
    const hubBefore = await room.maps.doc?.head("main");
    const refused = await mergeForkRemote(fork2, { doc: mine });
    expect(refused.merged).toEqual({});
    expect(refused.conflicts.doc?.[0]).toMatchObject({ key: "k3", ours: "main", theirs: "fork" });
    expect(await mine.head("main")).toBe(hubBefore);
    expect(await room.maps.doc?.head("main")).toBe(hubBefore);
  });
});
