/**
 * The O(1) distributed fork, over real sockets: forking a followed checkout of 1,000 or 100,000
 * content nodes transfers zero content nodes, and the same bytes and messages either way.
 */
import { describe, expect, it } from "vitest";
import type { WorkspaceDescriptor } from "../../../src/distributed/workspace/descriptor.js";
import { forkRemote } from "../../../src/distributed/workspace/fork.js";
import type { ContentStats, ObservableStore } from "../../../src/distributed/workspace/replicate.js";
import { openStoredMap } from "../../../src/distributed/workspace/stored-map.js";
import { eventually, until } from "../helpers.js";
import type { MemStore } from "./mem-store.js";
import { follower, hostRoom } from "./room.js";

async function forkAt(size: number) {
  // leafSize 1: one entry per leaf, so `size` entries are more than `size` content nodes
  const room = await hostRoom(["doc"], 1);
  await room.commit((_id, m) => m.transact(Array.from({ length: size }, (_, i) => [`k${i}`, i] as const)));
  const hubStore = room.stores.doc?.inner as MemStore;
  const f = await follower(room.peer.url, "c1", ["doc"], ["fork-1"]);
  await until(f.ctx, f.wp.workspace, (s) => s?.doc !== undefined, 60_000);
  const local = f.stores.doc?.inner as MemStore;
  expect(local.contentNodes).toBe(hubStore.contentNodes);
  const mine = await openStoredMap(f.stores.doc as ObservableStore, { id: "doc", create: false });
  const sent = f.follow.content.get("doc")?.stats as ContentStats;
  const received = room.host.content.get("doc")?.stats as ContentStats;
  const before = { ...sent };
  const hubBefore = { ...received };
  const hubNodes = hubStore.contentNodes;
  const localNodes = local.contentNodes;
  const fork = await forkRemote(f.wp, f.wp.descriptor as WorkspaceDescriptor, "fork-1", "c1", { doc: mine });
  await f.wp.settled();
  await eventually(
    async () => (await room.maps.doc?.head("fork-1")) === fork.systems.doc?.head,
    "fork pointer at hub",
  );
  return {
    contentNodes: hubNodes,
    nodesSent: sent.nodesSent - before.nodesSent,
    bytesSent: sent.bytesSent - before.bytesSent,
    pointersSent: sent.pointersSent - before.pointersSent,
    hubNodesReceived: received.nodesReceived - hubBefore.nodesReceived,
    hubNodesAdded: hubStore.contentNodes - hubNodes,
    localNodesAdded: local.contentNodes - localNodes,
    seatedOnFork: f.wp.seated?.branch === "fork-1",
  };
}

describe("O(1) fork of a followed checkout", () => {
  it("1,000 vs 100,000 content nodes: zero nodes move, the same bytes either way", {
    timeout: 120_000,
  }, async () => {
    const small = await forkAt(1_000);
    const large = await forkAt(100_000);
    expect(small.contentNodes).toBeGreaterThanOrEqual(1_000);
    expect(large.contentNodes).toBeGreaterThanOrEqual(100_000);
    for (const r of [small, large]) {
      expect(r.nodesSent).toBe(0);
      expect(r.hubNodesReceived).toBe(0);
      expect(r.hubNodesAdded).toBe(0);
      expect(r.localNodesAdded).toBe(0);
      expect(r.pointersSent).toBe(2); // the branch registry and the fork's pointer
      expect(r.seatedOnFork).toBe(true);
    }
    expect(large.bytesSent).toBe(small.bytesSent);
  });
});
