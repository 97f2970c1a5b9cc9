/**
 * Hosting a workspace again (real sockets, 127.0.0.1 port 0) never rolls the hub's descriptor back:
 * the descriptor a new host starts with is a write, so a follower's older copy (stamped by the
 * previous host) loses to it on the follower's resubscribe handshake, whether the hub hosts again in
 * the same process (after changing the descriptor while it was not hosting) or restarts with the
 * descriptor it stored. A genuinely newer write of the lease holder still wins: one made while the
 * hub hosted again with an unchanged descriptor, and one made before a restart that was given the
 * stored descriptor's stamp.
 */
import { signal, spin } from "spindel";
import { describe, expect, it } from "vitest";
import type { WorkspaceDescriptor } from "../../../src/distributed/workspace/descriptor.js";
import { hostWorkspace } from "../../../src/distributed/workspace/follow.js";
import { LeaseTable } from "../../../src/distributed/workspace/lease.js";
import { eventually, hub, until } from "../helpers.js";
import { follower, hostRoom } from "./room.js";

type Room = Awaited<ReturnType<typeof hostRoom>>;
type Follower = Awaited<ReturnType<typeof follower>>;

/** Drops the follower's link to the hub (from its side), waits until the hub has let it go too. */
async function goOffline(f: Follower, hubPeer: { isConnected(id: string): boolean }, id: string) {
  f.peer.disconnect("hub");
  await eventually(() => !f.peer.isConnected("hub") && !hubPeer.isConnected(id), `${id} offline`);
}

/** Every descriptor the hub's signal holds from now on. */
function record(room: Pick<Room, "ctx" | "descriptor">) {
  const seen: Array<WorkspaceDescriptor | null> = [];
  const stop = room.ctx.observe(
    spin(($) => $.track(room.descriptor)),
    (d) => void seen.push(d),
  );
  return { seen, stop };
}

/** A room whose main branch c1 holds, and c1 following it (seated on `title: "v1"`). */
async function heldByC1() {
  const room = await hostRoom(["doc"]);
  await room.commit((_id, m) => m.set("title", "v1"), "c1");
  const c1 = await follower(room.peer.url, "c1", ["doc"], ["main"]);
  await until(c1.ctx, c1.wp.workspace, (s) => s?.doc?.title === "v1");
  await eventually(() => c1.wp.writable() && room.leases.holder("main") === "c1", "c1 holds main");
  return { room, c1, d1: room.ctx.get(room.descriptor) as WorkspaceDescriptor };
}

describe("hosting a workspace again", () => {
  it("in the same process, after the hub changed the descriptor: the holder's older copy does not roll it back", async () => {
    const { room, c1, d1 } = await heldByC1();
    room.host.close();
    await eventually(
      () =>
        c1.errors.some((e) => e.code === "ERR_NO_TOPIC" && (e as { topic?: string }).topic === "room/desc"),
      "c1 told ERR_NO_TOPIC",
    );
    // while it does not host, the hub moves main on (it may always re-assign; c1 keeps the lease)
    await room.commit((_id, m) => m.set("title", "v2"), "c1");
    const d2 = room.ctx.get(room.descriptor) as WorkspaceDescriptor;
    expect(d2).not.toEqual(d1);
    const hubSaw = record(room);
    room.hostAgain();
    // c1 re-joins with its copy of v1 (stamped, and c1 holds the lease): it takes v2 instead
    await until(c1.ctx, c1.wp.workspace, (s) => s?.doc?.title === "v2", 10_000);
    expect(c1.ctx.get(c1.follow.descriptor)).toEqual(d2);
    expect(room.ctx.get(room.descriptor)).toEqual(d2);
    hubSaw.stop();
    expect(hubSaw.seen.filter((d) => d !== d2)).toEqual([]);
    expect(c1.errors.filter((e) => e.code === "ERR_NOT_LEASE_HOLDER")).toEqual([]);
  });

  it("after a restart with the stored descriptor: a holder that was away does not roll it back", async () => {
    const { room, c1 } = await heldByC1();
    await goOffline(c1, room.peer, "c1");
    await room.commit((_id, m) => m.set("title", "v2"), "c1");
    const stored = room.ctx.get(room.descriptor) as WorkspaceDescriptor;
    // the hub process stops, and starts again on the same port from what it stored
    room.host.close();
    await room.peer.close();
    const port = Number(new URL(room.peer.url).port);
    const h = await hub({ port });
    const descriptor = signal<WorkspaceDescriptor | null>(stored, { name: "restored descriptor" });
    const restarted = { ctx: h.ctx, descriptor };
    const hubSaw = record(restarted);
    const leases = new LeaseTable({ hub: "hub" });
    hostWorkspace(h.peer, {
      descriptorTopic: "room/desc",
      descriptor,
      context: h.ctx,
      stores: room.stores,
      leases,
    });
    await c1.peer.connect({ url: h.peer.url });
    await until(c1.ctx, c1.wp.workspace, (s) => s?.doc?.title === "v2", 10_000);
    expect(c1.ctx.get(c1.follow.descriptor)).toEqual(stored);
    expect(h.ctx.get(descriptor)).toEqual(stored);
    hubSaw.stop();
    expect(hubSaw.seen.filter((d) => d !== stored)).toEqual([]);
    expect(leases.holder("main")).toBe("c1");
  });

  it("the holder's hand-off written while the hub hosted again (unchanged) is still adopted", async () => {
    const { room, c1, d1 } = await heldByC1();
    await goOffline(c1, room.peer, "c1");
    const handOff: WorkspaceDescriptor = { ...d1, owner: "c2" };
    c1.follow.publishDescriptor(handOff);
    // meanwhile the hub hosts the workspace again, its descriptor unchanged
    room.host.close();
    room.hostAgain();
    await c1.peer.connect({ url: room.peer.url });
    await until(room.ctx, room.descriptor, (d) => d?.owner === "c2");
    expect(room.ctx.get(room.descriptor)).toEqual(handOff);
    expect(room.leases.holder("main")).toBe("c2");
    expect(c1.ctx.get(c1.follow.descriptor)).toEqual(handOff);
  });

  it("a restart given the stored stamp adopts the holder's hand-off written after it, and still refuses to roll back", async () => {
    const { room, c1, d1 } = await heldByC1();
    const c2 = await follower(room.peer.url, "c2", ["doc"]);
    await until(c2.ctx, c2.wp.workspace, (s) => s?.doc?.title === "v1");
    await goOffline(c1, room.peer, "c1");
    await goOffline(c2, room.peer, "c2");
    // the hub moves main on while both are away, and stores the descriptor with its stamp
    await room.commit((_id, m) => m.set("title", "v2"), "c1");
    const stored = room.ctx.get(room.descriptor) as WorkspaceDescriptor;
    const stamp = room.host.descriptorStamp();
    expect(stamp).not.toBeNull();
    const at = (stamp as readonly [number, number, string])[0];
    // a write on another millisecond than the stored one: genuinely newer, never a tie
    await eventually(() => Date.now() > at, "the clock moved past the stored stamp");
    // c1, still away and still the holder, hands main to c2 (based on its copy of v1)
    const handOff: WorkspaceDescriptor = { ...d1, owner: "c2" };
    c1.follow.publishDescriptor(handOff);

    room.host.close();
    await room.peer.close();
    const h = await hub({ port: Number(new URL(room.peer.url).port) });
    const descriptor = signal<WorkspaceDescriptor | null>(stored, { name: "restored descriptor" });
    const leases = new LeaseTable({ hub: "hub" });
    const host = hostWorkspace(h.peer, {
      descriptorTopic: "room/desc",
      descriptor,
      descriptorStamp: stamp ?? undefined,
      context: h.ctx,
      stores: room.stores,
      leases,
    });
    expect(host.descriptorStamp()).toEqual(stamp);
    // c2's copy of v1 is older than the stored stamp: it takes v2
    await c2.peer.connect({ url: h.peer.url });
    await until(
      c2.ctx,
      c2.follow.descriptor,
      (d) => d !== null && d.systems.doc?.head === stored.systems.doc?.head,
    );
    expect(h.ctx.get(descriptor)).toEqual(stored);
    // c1's hand-off is newer than the stored stamp: the hub adopts it and c2 gets it
    await c1.peer.connect({ url: h.peer.url });
    await until(h.ctx, descriptor, (d) => d?.owner === "c2");
    expect(h.ctx.get(descriptor)).toEqual(handOff);
    expect(leases.holder("main")).toBe("c2");
    await until(c2.ctx, c2.follow.descriptor, (d) => d?.owner === "c2");
  });
});
