/** Role dispatch over sockets: `subscriber` systems follow the hub's store, `bidirectional` ones sync live. */
import { createContext, signal } from "spindel";
import { GSet } from "spindel/crdt";
import { describe, expect, it } from "vitest";
import type { WorkspaceDescriptor } from "../../../src/distributed/workspace/descriptor.js";
import { followWorkspace, hostWorkspace } from "../../../src/distributed/workspace/follow.js";
import { LeaseTable } from "../../../src/distributed/workspace/lease.js";
import { createWorkspacePeer } from "../../../src/distributed/workspace/peer.js";
import { type ObservableStore, observable } from "../../../src/distributed/workspace/replicate.js";
import { openStoredMap } from "../../../src/distributed/workspace/stored-map.js";
import { client, hub, until } from "../helpers.js";
import { MemStore } from "./mem-store.js";

describe("role dispatch", () => {
  it("subscriber systems follow the store, bidirectional systems converge both ways", async () => {
    const h = await hub();
    const hubStore = observable(new MemStore());
    const doc = await openStoredMap(hubStore, { id: "doc" });
    await doc.set("title", "t");
    const hubTags = signal(GSet.of(["hub"]), { name: "hub tags" });
    const descriptor = signal<WorkspaceDescriptor | null>({
      branch: "main",
      owner: "hub",
      descriptorTopic: "r/desc",
      systems: {
        doc: { branch: "main", head: (await doc.head()) as string, topic: "r/doc" },
        tags: { branch: "main", head: "live", topic: "r/tags", role: "bidirectional" },
      },
    });
    hostWorkspace(h.peer, {
      descriptorTopic: "r/desc",
      descriptor,
      context: h.ctx,
      stores: { doc: hubStore },
      signals: { tags: hubTags },
      leases: new LeaseTable({ hub: "hub" }),
    });

    const peer = await client(h.peer.url, { id: "c1" });
    const ctx = createContext({ name: "c1" });
    const localStore = observable(new MemStore());
    const reader = await openStoredMap(localStore, { id: "doc", create: false });
    const tags = signal(GSet.empty<string>(), { name: "c1 tags" });
    const wp = createWorkspacePeer<unknown, Record<string, unknown>>({
      self: "c1",
      context: ctx,
      resolveSystem: async (id, _b, head) =>
        id === "doc" ? (await reader.asOf(head)).toObject() : ctx.get(tags).values().sort(),
    });
    const f = followWorkspace(wp, peer, "r/desc", {
      stores: { doc: localStore as ObservableStore },
      signals: { tags: tags },
    });
    const seat = await until(ctx, wp.workspace, (w) => w !== null);
    expect(f.wired).toEqual({ doc: "subscriber", tags: "bidirectional" });
    expect(seat?.doc).toEqual({ title: "t" });
    expect(seat?.tags).toEqual(["hub"]);
    // live convergence both ways on the bidirectional system
    ctx.update(tags, (s) => s.add("client"));
    await until(h.ctx, hubTags, (s) => s.has("client"));
    h.ctx.update(hubTags, (s) => s.add("hub-2"));
    const v = await until(ctx, tags, (s) => s.has("hub-2"));
    expect(v.values().sort()).toEqual(["client", "hub", "hub-2"]);
  });
});
