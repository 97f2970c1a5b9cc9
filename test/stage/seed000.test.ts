/**
 * Seed 000 end to end over real sockets: two stages on two listening peers, an OR-Map of op tuples
 * at [user, id], assoc on B, A connects and reads it, a dissoc converges, and the OR-Map streams
 * into a Map identity.
 */
import { join } from "node:path";
import { createContext } from "spindel";
import { createStage, levelStore, memoryStore, streamIntoIdentity } from "spindel/distributed";
import { describe, expect, it } from "vitest";
import { hub, until, within } from "../distributed/helpers.js";
import { tmp } from "./helpers.js";

const user = "mail:alice@example.com";
const ormapId = "7d274663-9396-4247-910b-409ae35fe98d";
describe("seed 000: OR-Map on two stages over WebSockets", () => {
  it("assoc on B, A connects and reads it; a dissoc on A reaches B; a stream applies both", async () => {
    const storeA = await levelStore(join(await tmp(), "a"));
    const { peer: peerA, ctx: ctxA } = await hub({ id: "a" });
    const stageA = await createStage({ peer: peerA, user, store: storeA });
    const ormA = await stageA.ormap(ormapId);

    const storeB = memoryStore();
    const { peer: peerB, ctx: ctxB } = await hub({ id: "b" });
    const stageB = await createStage({ peer: peerB, user, store: storeB });
    const ormB = await stageB.ormap(ormapId);

    await ormB.assoc("name", [["assoc", ["name", "Peter"]]]);
    expect(ormB.get("name")).toEqual([[["assoc", ["name", "Peter"]]]]);
    expect(ormA.get("name")).toEqual([]);

    await within(stageA.connect(peerB.url), 5_000, "connect");
    // the handshake brought B's assoc to A
    expect(ormA.get("name")).toEqual([[["assoc", ["name", "Peter"]]]]);

    const identity = new Map<string, unknown>();
    const stream = streamIntoIdentity(
      stageA,
      [user, ormapId],
      {
        assoc: (m: Map<string, unknown>, [k, v]: [string, unknown]) => m.set(k, v),
        dissoc: (m: Map<string, unknown>, k: string) => m.delete(k),
      },
      identity,
    );
    await within(stream.idle(), 5_000, "stream idle");
    expect(identity.get("name")).toBe("Peter");

    await ormA.dissoc("name", [["dissoc", "name"]]);
    await until(ctxB, ormB.value, (m) => !m.has("name"));
    expect(ormB.get("name")).toEqual([]);
    await until(ctxA, stream.applied, (n) => n === 2);
    expect(identity.has("name")).toBe(false);
    expect(ctxA.get(stream.error)).toBeNull();

    // both replicas hold the same records; B persisted what A wrote
    expect(ctxA.get(ormA.value).equals(ctxB.get(ormB.value))).toBe(true);
    await stageB.flush();
    const reopened = await createStage({ peer: peerB, user: "other", store: storeB }).catch((e) => e);
    expect(reopened).toBeInstanceOf(Error); // one stage per peer: the protocol is attached once
    stream.stop();
    await stageA.close();
    await stageB.close();
    await storeA.close();
  });

  it("concurrent assocs of one key on both sides both survive after connect", async () => {
    const { peer: peerA } = await hub({ id: "a" });
    const { peer: peerB, ctx: ctxB } = await hub({ id: "b" });
    const stageA = await createStage({ peer: peerA, user, store: memoryStore() });
    const stageB = await createStage({ peer: peerB, user, store: memoryStore() });
    const ormA = await stageA.ormap(ormapId);
    const ormB = await stageB.ormap(ormapId);
    await ormA.assoc("k", [["set", "from A"]]);
    await ormB.assoc("k", [["set", "from B"]]);
    await stageA.connect(peerB.url);
    await until(ctxB, ormB.value, (m) => m.get("k").length === 2);
    const values = ormA
      .get("k")
      .map((ops) => ops[0]![1])
      .sort();
    expect(values).toEqual(["from A", "from B"]);
    await stageA.close();
    await stageB.close();
  });

  it("refuses a second kind at the same address, and bad input, with typed errors", async () => {
    const { peer } = await hub({ id: "a" });
    const stage = await createStage({ peer, user, store: memoryStore(), context: createContext() });
    await stage.ormap("x");
    await expect(stage.cdvcs("x")).rejects.toMatchObject({ code: "ERR_TYPE_MISMATCH" });
    await expect(stage.ormap("")).rejects.toMatchObject({ code: "ERR_INVALID_ARGUMENT" });
    const m = await stage.ormap("y");
    await expect(m.assoc("k", [{ not: "a tuple" } as never])).rejects.toMatchObject({
      code: "ERR_INVALID_ARGUMENT",
    });
    expect(() => streamIntoIdentity(stage, [user, "nope"], {}, [])).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }),
    );
    await stage.close();
    await expect(stage.ormap("z")).rejects.toMatchObject({ code: "ERR_STAGE_CLOSED" });
  });

  it("an eval function that throws stops the stream with the error visible", async () => {
    const { peer, ctx } = await hub({ id: "a" });
    const stage = await createStage({ peer, user, store: memoryStore() });
    const m = await stage.ormap(ormapId);
    await m.assoc("a", [["boom"]]);
    const stream = streamIntoIdentity(
      stage,
      [user, ormapId],
      {
        boom: () => {
          throw new Error("bad op");
        },
      },
      {},
    );
    await expect(stream.idle()).rejects.toThrow("bad op");
    expect((ctx.get(stream.error) as Error).message).toBe("bad op");
    expect(ctx.get(stream.applied)).toBe(0);
    const unknown = streamIntoIdentity(stage, [user, ormapId], {}, {});
    await expect(unknown.idle()).rejects.toMatchObject({ code: "ERR_NO_EVAL_FN" });
    await stage.close();
  });
});

describe("a stage reopened on the same on-disk store", () => {
  it("gives back every datatype as it was", async () => {
    const dir = join(await tmp(), "s");
    const first = await levelStore(dir);
    const { peer } = await hub({ id: "a" });
    const stage = await createStage({ peer, user, store: first });
    const m = await stage.ormap("people");
    await m.assoc("name", [["assoc", ["name", "Peter"]]]);
    await m.assoc("age", [["assoc", ["age", 42]]]);
    await m.dissoc("age", [["dissoc", "age"]]);
    const c = await stage.cdvcs("log");
    await c.transact([["add", 1]]);
    await c.transact([["add", 2]]);
    await stage.close();
    await peer.close();
    await first.close();

    const store = await levelStore(dir);
    const { peer: again, ctx } = await hub({ id: "a2" });
    const reopened = await createStage({ peer: again, user, store });
    const m2 = await reopened.ormap("people");
    expect(m2.get("name")).toEqual([[["assoc", ["name", "Peter"]]]]);
    expect(ctx.get(m2.value).keys()).toEqual(["name"]);
    const c2 = await reopened.cdvcs("log");
    expect(
      ctx
        .get(c2.value)
        .commits()
        .flatMap((x) => x.txs),
    ).toEqual([
      ["add", 1],
      ["add", 2],
    ]);
    await expect(reopened.ormap("log")).rejects.toMatchObject({ code: "ERR_TYPE_MISMATCH" });
    await reopened.close();
    await store.close();
  });
});

describe("a stage that subscribes through a hub", () => {
  it("does not serve that datatype to its own dialers, also while its hub link is down", async () => {
    const { peer: hubPeer } = await hub({ id: "hub" });
    const onHub = await createStage({ peer: hubPeer, user, store: memoryStore() });
    const { peer: midPeer } = await hub({ id: "mid" });
    const mid = await createStage({ peer: midPeer, user, store: memoryStore() });
    await mid.ormap(ormapId);
    await mid.connect(hubPeer.url, { reconnect: false });
    const { peer: leafPeer } = await hub({ id: "leaf" });
    const leaf = await createStage({ peer: leafPeer, user, store: memoryStore() });
    await leaf.ormap(ormapId);
    await expect(leaf.connect(midPeer.url)).rejects.toMatchObject({ code: "ERR_STAGE_PROTOCOL" });

    await onHub.close();
    await hubPeer.close(); // mid's upstream link goes down
    const { peer: otherPeer } = await hub({ id: "other" });
    const other = await createStage({ peer: otherPeer, user, store: memoryStore() });
    await other.ormap(ormapId);
    await expect(other.connect(midPeer.url)).rejects.toMatchObject({ code: "ERR_STAGE_PROTOCOL" });
    await Promise.all([mid.close(), leaf.close(), other.close()]);
  });
});
