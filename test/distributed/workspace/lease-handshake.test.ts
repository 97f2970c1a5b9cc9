/**
 * The lease holds across a reconnect (real sockets, 127.0.0.1 port 0): what a follower wrote while
 * it was away travels in its resubscribe handshake, and the hub judges it as it judges a live
 * publish. A non-holder's offline descriptor (naming itself owner) and branch pointer are refused
 * with `ERR_NOT_LEASE_HOLDER`, reach neither the hub nor other followers, and are rolled back on the
 * writer; the holder's offline hand-off is adopted.
 */
import { spin } from "spindel";
import { describe, expect, it } from "vitest";
import type { WorkspaceDescriptor } from "../../../src/distributed/workspace/descriptor.js";
import type { ObservableStore } from "../../../src/distributed/workspace/replicate.js";
import { openStoredMap, type StoredMap } from "../../../src/distributed/workspace/stored-map.js";
import { eventually, until } from "../helpers.js";
import { follower, hostRoom } from "./room.js";

type Follower = Awaited<ReturnType<typeof follower>>;

/** Drops the follower's link to the hub (from its side), waits until the hub has let it go too. */
async function goOffline(f: Follower, hubPeer: { isConnected(id: string): boolean }, id: string) {
  f.peer.disconnect("hub");
  await eventually(() => !f.peer.isConnected("hub") && !hubPeer.isConnected(id), `${id} offline`);
}

describe("the lease over a reconnect handshake", () => {
  it("a non-holder's offline descriptor and pointer are refused (ERR_NOT_LEASE_HOLDER), reach nobody, and are rolled back", async () => {
    const room = await hostRoom(["doc"]);
    await room.commit((_id, m) => m.set("title", "hub's"));
    const mallory = await follower(room.peer.url, "mallory", ["doc"], ["main"]);
    const bystander = await follower(room.peer.url, "c2", ["doc"]);
    await until(mallory.ctx, mallory.wp.workspace, (s) => s?.doc?.title === "hub's");
    await until(bystander.ctx, bystander.wp.workspace, (s) => s?.doc?.title === "hub's");
    // every descriptor the bystander ever holds, and every one the hub ever holds
    const seenByBystander: Array<WorkspaceDescriptor | null> = [];
    const stopB = bystander.ctx.observe(
      spin(($) => $.track(bystander.follow.descriptor)),
      (d) => void seenByBystander.push(d),
    );
    const seenByHub: Array<WorkspaceDescriptor | null> = [];
    const stopH = room.ctx.observe(
      spin(($) => $.track(room.descriptor)),
      (d) => void seenByHub.push(d),
    );
    const hubDescriptor = room.ctx.get(room.descriptor) as WorkspaceDescriptor;
    const hubHead = await room.maps.doc?.head("main");

    await goOffline(mallory, room.peer, "mallory");
    // while away: she names herself the owner of main and moves main's pointer
    const stolen: WorkspaceDescriptor = { ...hubDescriptor, owner: "mallory" };
    mallory.follow.publishDescriptor(stolen);
    const mine = await openStoredMap(mallory.stores.doc as ObservableStore, { id: "doc", create: false });
    await mine.set("title", "mallory's");
    expect(await mine.head("main")).not.toBe(hubHead);

    await mallory.peer.connect({ url: room.peer.url });
    await eventually(
      () => mallory.errors.some((e) => e.code === "ERR_NOT_LEASE_HOLDER"),
      "the refusal reaches mallory",
    );
    // rolled back on mallory: the hub's descriptor, the hub's pointer
    await until(mallory.ctx, mallory.follow.descriptor, (d) => d?.owner === "hub");
    expect(mallory.ctx.get(mallory.follow.descriptor)).toEqual(hubDescriptor);
    await eventually(async () => (await mine.head("main")) === hubHead, "mallory's pointer rolled back");
    await until(mallory.ctx, mallory.wp.workspace, (s) => s?.doc?.title === "hub's");
    expect(mallory.wp.writable()).toBe(false);

    // the hub and the bystander: untouched, and they never held her descriptor
    expect(room.leases.holder("main")).toBe("hub");
    expect(room.ctx.get(room.descriptor)).toEqual(hubDescriptor);
    expect(await room.maps.doc?.head("main")).toBe(hubHead);
    // the hub still works: its next commit reaches both followers
    await room.commit((_id, m) => m.set("title", "hub's v2"));
    await until(mallory.ctx, mallory.wp.workspace, (s) => s?.doc?.title === "hub's v2");
    await until(bystander.ctx, bystander.wp.workspace, (s) => s?.doc?.title === "hub's v2");
    stopB();
    stopH();
    expect(seenByHub.some((d) => d?.owner === "mallory")).toBe(false);
    expect(seenByBystander.some((d) => d?.owner === "mallory")).toBe(false);
    expect(room.leases.holder("main")).toBe("hub");
  });

  it("the holder's offline hand-off is adopted by the hub (an allowed handshake still integrates)", async () => {
    const room = await hostRoom(["doc"]);
    await room.commit((_id, m) => m.set("title", "hub's"));
    const c1 = await follower(room.peer.url, "c1", ["doc"], ["main"]);
    const c2 = await follower(room.peer.url, "c2", ["doc"]);
    await until(c1.ctx, c1.wp.workspace, (s) => s?.doc?.title === "hub's");
    await room.commit(async () => undefined, "c1"); // the hub hands main to c1
    await eventually(() => c1.wp.writable() && room.leases.holder("main") === "c1", "c1 holds main");

    await goOffline(c1, room.peer, "c1");
    // while away, c1 hands main on to c2
    const handOff: WorkspaceDescriptor = { ...(c1.wp.descriptor as WorkspaceDescriptor), owner: "c2" };
    c1.follow.publishDescriptor(handOff);
    await c1.peer.connect({ url: room.peer.url });
    await until(room.ctx, room.descriptor, (d) => d?.owner === "c2");
    expect(room.leases.holder("main")).toBe("c2");
    await until(c2.ctx, c2.follow.descriptor, (d) => d?.owner === "c2");
    await eventually(() => c2.wp.writable(), "c2 may write");
    expect(c1.errors.filter((e) => e.code === "ERR_NOT_LEASE_HOLDER")).toEqual([]);
    expect(c1.ctx.get(c1.follow.descriptor)).toEqual(handOff);
    expect((room.maps.doc as StoredMap) !== undefined).toBe(true);
  });
});
