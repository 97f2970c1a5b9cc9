/**
 * How a stage save reaches the store: a non-CDVCS value writes its content node and its head in
 * one atomic batch (one backend write, so one fsync on LevelDB), with exactly the keys, bytes and
 * flags the two separate writes (`putContent`, then `put`) used to produce.
 */

import { createContext } from "spindel";
import { GSet, LWWRegister, ORSet, PNCounter } from "spindel/crdt";
import {
  type BackendOp,
  createStage,
  createStore,
  type KVStore,
  levelBackend,
  memoryBackend,
  OpMap,
  Peer,
  putContent,
  type StageKind,
  type StoreBackend,
} from "spindel/distributed";
import { describe, expect, it } from "vitest";
import { type Address, headKey } from "../../src/distributed/stage/address.js";
import { loadDatatype, saveDatatype } from "../../src/distributed/stage/persist.js";
import { track } from "../distributed/helpers.js";
import { tmp } from "./helpers.js";

const user = "mail:team@example.com";

/** `backend` recording every batch it is asked to write; a batch writing `failOn` throws instead. */
function counting(backend: StoreBackend): StoreBackend & { batches: BackendOp[][]; failOn: string | null } {
  const c = {
    batches: [] as BackendOp[][],
    failOn: null as string | null,
    get: (key: string) => backend.get(key),
    entries: () => backend.entries(),
    close: () => backend.close(),
    async write(ops: readonly BackendOp[]) {
      if (ops.some((op) => op.key === c.failOn)) throw new Error("the disk is full");
      c.batches.push([...ops]);
      await backend.write(ops);
    },
  };
  return c;
}

/** Every live key with its value bytes and immutability. */
async function dump(store: KVStore): Promise<[string, string, boolean][]> {
  const out: [string, string, boolean][] = [];
  for await (const k of store.keys())
    out.push([k.key, Buffer.from((await store.getBytes(k.key)) as Uint8Array).toString("hex"), k.immutable]);
  return out;
}

const values: [StageKind, () => unknown][] = [
  ["ormap", () => OpMap.empty().assoc("ann", [["add", 1]])],
  ["orset", () => ORSet.empty<string>("a").add("ann").add("bob").remove("ann")],
  ["gset", () => GSet.of(["x", { b: 1, a: 2 }])],
  ["counter", () => PNCounter.empty().inc(3, "a").dec(1, "b")],
  ["lww", () => LWWRegister.of({ title: "Draft" }, "a", 7)],
];

describe("a stage save of a non-CDVCS value", () => {
  for (const [kind, make] of values)
    it(`${kind}: one atomic batch, content then head, the same records as putContent + put`, async () => {
      const address: Address = [user, `the-${kind}`];
      const backend = counting(memoryBackend());
      const store = createStore(backend);
      const value = make();
      await saveDatatype(store, address, kind, value, new Set());
      expect(backend.batches.length).toBe(1);
      const node = ((await store.get(headKey(address))) as { node: string }).node;
      expect(backend.batches[0]?.map((op) => op.key)).toEqual([node, headKey(address)]);

      // what the two writes of the earlier code stored
      const before = createStore(memoryBackend());
      const v = value as { clearDelta?: () => unknown };
      const addr = await putContent(before, typeof v.clearDelta === "function" ? v.clearDelta() : v);
      await before.put(headKey(address), { kind, node: addr });
      expect(await dump(store)).toEqual(await dump(before));

      const loaded = await loadDatatype(store, address);
      expect(loaded?.kind).toBe(kind);
      expect(await dump(store)).toEqual(await dump(before));

      // saving an equal value again writes only the head (the node is already there)
      await saveDatatype(store, address, kind, value, new Set());
      expect(backend.batches.length).toBe(2);
      expect(backend.batches[1]?.map((op) => op.key)).toEqual([headKey(address)]);
    });

  it("a failed save leaves the previous value and no orphan node", async () => {
    const address: Address = [user, "set"];
    const backend = counting(memoryBackend());
    const store = createStore(backend);
    const one = ORSet.empty<string>("a").add("one");
    await saveDatatype(store, address, "orset", one, new Set());
    const keys = (await dump(store)).map(([k]) => k);
    backend.failOn = headKey(address); // the head's write fails: its node must not stay behind
    await expect(saveDatatype(store, address, "orset", one.add("two"), new Set())).rejects.toThrow(
      /the disk is full/,
    );
    expect((await dump(store)).map(([k]) => k)).toEqual(keys);
    const loaded = (await loadDatatype(store, address))?.value as ORSet<string>;
    expect(loaded.values()).toEqual(["one"]);
  });

  it("on LevelDB: one backend write per update, and a reopen reads it back", async () => {
    const dir = await tmp();
    const backend = counting(await levelBackend(dir));
    const ctx = createContext({ name: "persist" });
    const peer = track(new Peer({ id: "persist", context: ctx }));
    const stage = await createStage({ peer, user, store: createStore(backend), context: ctx });
    const members = await stage.orset<string>("members");
    const log = await stage.ormap("log");
    await stage.flush();

    const head = (id: string) => headKey([user, id]);
    const keysOf = async (fn: () => Promise<void>): Promise<string[][]> => {
      const n = backend.batches.length;
      await fn();
      return backend.batches.slice(n).map((b) => b.map((op) => op.key));
    };
    // one batch per update: the node and its head (the watch's save of the same value writes nothing)
    expect(await keysOf(() => members.update((s) => s.add("ann")))).toEqual([
      [expect.any(String), head("members")],
    ]);
    expect(await keysOf(() => log.assoc("t1", [["tweet", "hi"]]))).toEqual([
      [expect.any(String), head("log")],
    ]);
    // an update that changes nothing writes nothing
    expect(await keysOf(() => members.update((s) => s.remove("nobody")))).toEqual([]);
    await stage.close();
    await backend.close();

    const again = createStore(await levelBackend(dir));
    const ctx2 = createContext({ name: "persist again" });
    const peer2 = track(new Peer({ id: "persist2", context: ctx2 }));
    const reopened = await createStage({ peer: peer2, user, store: again, context: ctx2 });
    expect(ctx2.get((await reopened.orset<string>("members")).value).values()).toEqual(["ann"]);
    expect((await reopened.ormap("log")).get("t1")).toEqual([[["tweet", "hi"]]]);
    await reopened.close();
    await again.close();
  });
});

describe("a stage save that fails", () => {
  it("rejects the update with the store's error (no hang), keeps the value, and a later flush saves it", async () => {
    const backend = counting(memoryBackend());
    const store = createStore(backend);
    const ctx = createContext({ name: "failing save" });
    const peer = track(new Peer({ id: "failing", context: ctx }));
    const reported: unknown[] = [];
    const stage = await createStage({
      peer,
      user,
      store,
      context: ctx,
      onError: (err) => reported.push(err),
    });
    const members = await stage.orset<string>("members");
    await stage.flush();
    backend.failOn = headKey([user, "members"]);
    await expect(members.update((s) => s.add("ann"))).rejects.toThrow("the disk is full");
    expect(reported).toHaveLength(1);
    expect(ctx.get(members.value).values()).toEqual(["ann"]); // nothing lost in memory
    await expect(stage.flush()).rejects.toThrow("the disk is full"); // retried, failed again
    backend.failOn = null;
    await stage.flush(); // retried, and written
    const stored = (await loadDatatype(store, [user, "members"]))?.value as ORSet<string>;
    expect(stored.values()).toEqual(["ann"]);
    await members.update((s) => s.add("bob")); // saves go on as before
    const after = await loadDatatype(store, [user, "members"]);
    expect((after!.value as ORSet<string>).values()).toEqual(["ann", "bob"]);
    await stage.close();
  });

  it("close closes even when the last save fails, and reports the error", async () => {
    const backend = counting(memoryBackend());
    const ctx = createContext({ name: "failing close" });
    const peer = track(new Peer({ id: "failing-close", context: ctx }));
    const stage = await createStage({
      peer,
      user,
      store: createStore(backend),
      context: ctx,
      onError: () => {},
    });
    const members = await stage.orset<string>("members");
    backend.failOn = headKey([user, "members"]);
    await expect(members.update((s) => s.add("ann"))).rejects.toThrow("the disk is full");
    await expect(stage.close()).rejects.toThrow("the disk is full");
    await expect(stage.orset<string>("other")).rejects.toThrow(/closed/);
  });
});
