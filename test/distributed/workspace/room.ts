/** A hosted workspace ("room") on a real socket hub, and followers of it, for the workspace tests. */
import { type Context, createContext, signal } from "spindel";
import type { WorkspaceDescriptor } from "../../../src/distributed/workspace/descriptor.js";
import { followWorkspace, hostWorkspace } from "../../../src/distributed/workspace/follow.js";
import { LeaseTable } from "../../../src/distributed/workspace/lease.js";
import { createWorkspacePeer } from "../../../src/distributed/workspace/peer.js";
import { type ObservableStore, observable } from "../../../src/distributed/workspace/replicate.js";
import { openStoredMap, type StoredMap } from "../../../src/distributed/workspace/stored-map.js";
import { client, hub } from "../helpers.js";
import { MemStore } from "./mem-store.js";

export type Seat = Record<string, Record<string, unknown>>;

export async function hostRoom(ids: string[], leafSize?: number) {
  const h = await hub();
  const stores: Record<string, ObservableStore> = {};
  const maps: Record<string, StoredMap> = {};
  for (const id of ids) {
    stores[id] = observable(new MemStore());
    maps[id] = await openStoredMap(stores[id] as ObservableStore, {
      id,
      ...(leafSize === undefined ? {} : { leafSize }),
    });
  }
  const pins = async (): Promise<WorkspaceDescriptor["systems"]> => {
    const out: Record<string, { branch: string; head: string; topic: string }> = {};
    for (const id of ids)
      out[id] = { branch: "main", head: (await maps[id]?.head("main")) as string, topic: `room/${id}` };
    return out;
  };
  const descriptor = signal<WorkspaceDescriptor | null>(
    { branch: "main", owner: "hub", descriptorTopic: "room/desc", systems: await pins() },
    { name: "room descriptor" },
  );
  const leases = new LeaseTable({ hub: "hub" });
  const errors: unknown[] = [];
  /** Hosts the room's workspace (again, after `host.close()`): same topic, signal, stores and leases. */
  const hostAgain = () =>
    hostWorkspace(h.peer, {
      descriptorTopic: "room/desc",
      descriptor,
      context: h.ctx,
      stores,
      leases,
      onError: (e) => errors.push(e),
    });
  const host = hostAgain();
  /** The hub commits `ops` on every system, then publishes a descriptor pinning the new heads. */
  const commit = async (edit: (id: string, m: StoredMap) => Promise<unknown>, owner = "hub") => {
    for (const id of ids) await edit(id, maps[id] as StoredMap);
    h.ctx.set(descriptor, { branch: "main", owner, descriptorTopic: "room/desc", systems: await pins() });
  };
  return { ...h, stores, maps, descriptor, leases, host, hostAgain, commit, pins, errors };
}

export async function follower(url: string, id: string, ids: string[], publishBranches: string[] = []) {
  const peer = await client(url, { id });
  const ctx: Context = createContext({ name: id });
  const stores: Record<string, ObservableStore> = {};
  const readers: Record<string, StoredMap> = {};
  for (const s of ids) {
    stores[s] = observable(new MemStore());
    readers[s] = await openStoredMap(stores[s] as ObservableStore, { id: s, create: false });
  }
  const seats: Array<{ seat: Seat; d: WorkspaceDescriptor }> = [];
  const wp = createWorkspacePeer<Record<string, unknown>, Seat>({
    self: id,
    context: ctx,
    resolveSystem: async (s, _branch, head) => (await (readers[s] as StoredMap).asOf(head)).toObject(),
    onReseat: (seat, d) => seats.push({ seat, d }),
  });
  const errors: Array<{ code?: string }> = [];
  const follow = followWorkspace(wp, peer, "room/desc", {
    stores,
    publishBranches,
    onError: (e) => errors.push(e as { code?: string }),
  });
  return { peer, ctx, wp, follow, stores, readers, seats, errors };
}
