/**
 * The other `spindel/crdt` datatypes on a stage, by the same pattern as the OR-Map and CDVCS:
 * addressed by [user, id], a signal, persisted, synced with a connected stage.
 */

import { createContext } from "spindel";
import { createStage, memoryStore, Peer } from "spindel/distributed";
import { describe, expect, it } from "vitest";
import { hub, track, until } from "../distributed/helpers.js";

const user = "mail:team@example.com";

describe("G-Set, OR-Set, PN-Counter and LWW register on a stage", () => {
  it("sync between two stages, survive a reopen, and refuse streaming", async () => {
    const { peer: hubPeer, ctx: hubCtx } = await hub({ id: "hub" });
    const hubStore = memoryStore();
    const onHub = await createStage({ peer: hubPeer, user, store: hubStore });
    const ctx = createContext({ name: "client" });
    const peer = track(new Peer({ id: "client", context: ctx }));
    const client = await createStage({ peer, user, store: memoryStore(), context: ctx });

    const tagsHub = await onHub.gset<string>("tags");
    await tagsHub.update((s) => s.add("from hub"));
    const tags = await client.gset<string>("tags");
    await tags.update((s) => s.add("from client"));
    const counter = await client.counter("visits");
    await counter.update((c, actor) => c.inc(3, actor));
    const title = await client.lww<string>("title");
    expect(ctx.get(title.value).value).toBeNull();
    await title.update((r, actor) => r.set("Draft", actor));
    const members = await client.orset<string>("members");
    await members.update((s) => s.add("ann").add("bob"));

    await client.connect(hubPeer.url);
    expect(ctx.get(tags.value).values().sort()).toEqual(["from client", "from hub"]);
    await until(hubCtx, tagsHub.value, (s) => s.size === 2);
    const counterHub = await onHub.counter("visits");
    await until(hubCtx, counterHub.value, (c) => c.value === 3);
    await counterHub.update((c, actor) => c.dec(1, actor));
    await until(ctx, counter.value, (c) => c.value === 2);
    const titleHub = await onHub.lww<string>("title");
    await until(hubCtx, titleHub.value, (r) => r.value === "Draft");
    const membersHub = await onHub.orset<string>("members");
    await until(hubCtx, membersHub.value, (s) => s.has("bob"));
    await membersHub.update((s) => s.remove("bob"));
    await until(ctx, members.value, (s) => !s.has("bob"));

    expect(() =>
      (client as unknown as { _streamSource(a: unknown): unknown })._streamSource([user, "tags"]),
    ).toThrow(/stream an OR-Map or a CDVCS/);
    await expect(client.counter("tags")).rejects.toMatchObject({ code: "ERR_TYPE_MISMATCH" });

    await onHub.flush();
    await onHub.close();
    const { peer: again, ctx: againCtx } = await hub({ id: "hub2" });
    const reopened = await createStage({ peer: again, user, store: hubStore });
    expect(
      againCtx
        .get((await reopened.gset<string>("tags")).value)
        .values()
        .sort(),
    ).toEqual(["from client", "from hub"]);
    expect(againCtx.get((await reopened.counter("visits")).value).value).toBe(2);
    expect(againCtx.get((await reopened.lww<string>("title")).value).value).toBe("Draft");
    expect(againCtx.get((await reopened.orset<string>("members")).value).values()).toEqual(["ann"]);
    await reopened.close();
    await client.close();
  });
});
