/**
 * Store replication over real sockets on 127.0.0.1: the differential handshake, filter, ordered
 * bundles, immutable keys skipped, dissoc, unsubscribe, reconnect resync (deletions made while
 * apart replayed), a walker over a content-addressed tree with its root key last, bad frames.
 */
import { exportStore, type KVStore, memoryStore, putContent, subscribeStore } from "spindel/distributed";
import { describe, expect, test } from "vitest";
import { client, eventually, hub, within } from "../helpers.js";
import { countingProxy } from "./proxy.js";

type Update = [string, unknown, string];

async function pair(reconnect = false) {
  const h = await hub();
  const c = await client(h.peer.url!, reconnect ? { reconnect: { initialDelayMs: 10, maxDelayMs: 50 } } : {});
  return { owner: h.peer, sub: c };
}

async function snapshot(s: KVStore): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for await (const k of s.keys()) out[k.key] = await s.get(k.key);
  return out;
}

describe("store replication", () => {
  test("an empty replica gets every key with its metadata; later writes stream live in order", async () => {
    const { owner, sub } = await pair();
    const src = memoryStore();
    await src.putMany([
      ["a", 1],
      ["b", { x: [1, 2] }],
      ["c", "immutable", { immutable: true }],
    ]);
    const exp = exportStore(owner, "t", src, { batchSize: 2 });
    const dst = memoryStore();
    const updates: Update[] = [];
    const h = await subscribeStore(sub, "t", dst, { onKeyUpdate: (k, v, op) => updates.push([k, v, op]) });
    expect(await snapshot(dst)).toEqual({ a: 1, b: { x: [1, 2] }, c: "immutable" });
    expect(await dst.meta("c")).toEqual(await src.meta("c"));
    expect(await dst.meta("a")).toEqual(await src.meta("a"));
    expect(updates.map((u) => u[2])).toEqual(["handshake", "handshake", "handshake"]);
    expect(exp.stats.handshakeItems).toBe(3);
    updates.length = 0;
    await src.putMany([
      ["z", 1],
      ["a", 2],
      ["m", 3],
    ]);
    await src.put("a", 3);
    await eventually(() => updates.length === 4, "four live updates");
    expect(updates).toEqual([
      ["z", 1, "assoc"],
      ["a", 2, "assoc"],
      ["m", 3, "assoc"],
      ["a", 3, "assoc"],
    ]);
    expect(await dst.get("a")).toBe(3);
    h.close();
    exp.close();
  });

  test("the handshake is differential: only missing or newer keys travel, never an immutable key the replica has", async () => {
    const { owner, sub } = await pair();
    const src = memoryStore();
    const dst = memoryStore();
    await src.put("same", 1, { lastWrite: 100 });
    await dst.put("same", 1, { lastWrite: 100 });
    await src.put("newer", "owner's", { lastWrite: 200 });
    await dst.put("newer", "old", { lastWrite: 150 });
    await src.put("older", "owner's", { lastWrite: 100 });
    await dst.put("older", "replica's", { lastWrite: 300 });
    await src.put("imm", "v", { immutable: true, lastWrite: 500 });
    await dst.put("imm", "v", { immutable: true, lastWrite: 1 });
    await src.put("missing", 42);
    const exp = exportStore(owner, "diff", src);
    const updates: Update[] = [];
    const h = await subscribeStore(sub, "diff", dst, { onKeyUpdate: (k, v, op) => updates.push([k, v, op]) });
    expect(updates.map((u) => u[0]).sort()).toEqual(["missing", "newer"]);
    expect(exp.stats.handshakeItems).toBe(2);
    expect(await snapshot(dst)).toEqual({
      same: 1,
      newer: "owner's",
      older: "replica's",
      imm: "v",
      missing: 42,
    });
    h.close();
    exp.close();
  });

  test("filter gates the handshake and live writes", async () => {
    const { owner, sub } = await pair();
    const src = memoryStore();
    await src.putMany([
      ["pub/1", 1],
      ["priv/1", 2],
      ["pub/2", { secret: true }],
    ]);
    const exp = exportStore(owner, "f", src, {
      filter: (k, v) => k.startsWith("pub/") && !(typeof v === "object" && v !== null && "secret" in v),
    });
    const dst = memoryStore();
    const updates: Update[] = [];
    const h = await subscribeStore(sub, "f", dst, { onKeyUpdate: (k, v, op) => updates.push([k, v, op]) });
    expect(await snapshot(dst)).toEqual({ "pub/1": 1 });
    await src.put("priv/2", 3);
    await src.put("pub/3", 4);
    await eventually(() => updates.length === 2, "the live write that passes");
    expect(updates[1]).toEqual(["pub/3", 4, "assoc"]);
    expect(await dst.has("priv/2")).toBe(false);
    h.close();
    exp.close();
  });

  test("ordered bundles: keyOrder puts pointer keys after content; bundles respect batchSize", async () => {
    const { owner, sub } = await pair();
    const src = memoryStore();
    await src.putMany([
      ["head/main", "ptr"],
      ["node/1", 1],
      ["head/dev", "ptr"],
      ["node/2", 2],
      ["node/3", 3],
    ]);
    const exp = exportStore(owner, "o", src, {
      batchSize: 2,
      keyOrder: (k) => (k.startsWith("head/") ? 1 : 0),
    });
    const seen: string[] = [];
    const h = await subscribeStore(sub, "o", memoryStore(), { onKeyUpdate: (k) => seen.push(k) });
    expect(seen).toEqual(["node/1", "node/2", "node/3", "head/dev", "head/main"]);
    expect(exp.stats.handshakeItems).toBe(5);
    h.close();
    exp.close();
  });

  test("immutable keys the replica holds are skipped live too (not written, not reported)", async () => {
    const { owner, sub } = await pair();
    const src = memoryStore();
    const exp = exportStore(owner, "i", src);
    const dst = memoryStore();
    const addr = await putContent(dst, { node: 1 });
    const updates: Update[] = [];
    const h = await subscribeStore(sub, "i", dst, { onKeyUpdate: (k, v, op) => updates.push([k, v, op]) });
    expect(await putContent(src, { node: 1 })).toBe(addr);
    await src.put("after", 1);
    await eventually(() => updates.length >= 1, "the later write");
    expect(updates).toEqual([["after", 1, "assoc"]]);
    expect(h.stats.skipped).toBe(1);
    h.close();
    exp.close();
  });

  test("dissoc propagates live; unsubscribe stops updates", async () => {
    const { owner, sub } = await pair();
    const src = memoryStore();
    await src.putMany([
      ["a", 1],
      ["b", 2],
    ]);
    const exp = exportStore(owner, "d", src);
    const dst = memoryStore();
    const updates: Update[] = [];
    const h = await subscribeStore(sub, "d", dst, { onKeyUpdate: (k, v, op) => updates.push([k, v, op]) });
    await src.delete("a");
    await eventually(() => updates.length === 3, "the dissoc");
    expect(updates[2]).toEqual(["a", undefined, "dissoc"]);
    expect(await dst.has("a")).toBe(false);
    h.close();
    await eventually(() => exp.subscribers.length === 0, "the owner dropped the subscriber");
    await src.put("b", 3);
    await src.put("c", 4);
    // a second subscription over the same link: its handshake comes after anything sent before it
    const dst2 = memoryStore();
    const h2 = await subscribeStore(sub, "d", dst2);
    expect(await snapshot(dst2)).toEqual({ b: 3, c: 4 });
    expect(updates.length).toBe(3);
    h2.close();
    expect(await dst.get("b")).toBe(2);
    exp.close();
  });

  test("reconnect: the resync transfers only what changed, and replays deletions made while apart", async () => {
    const { owner, sub } = await pair(true);
    const src = memoryStore();
    await src.putMany(Array.from({ length: 50 }, (_, i) => [`k${i}`, i] as const));
    const exp = exportStore(owner, "r", src, { batchSize: 8 });
    const dst = memoryStore();
    const updates: Update[] = [];
    let completions = 0;
    const h = await subscribeStore(sub, "r", dst, {
      onKeyUpdate: (k, v, op) => updates.push([k, v, op]),
      onHandshakeComplete: () => completions++,
    });
    expect(exp.stats.handshakeItems).toBe(50);
    expect(owner.disconnect("c1")).toBe(true);
    await eventually(() => !h.connected, "the link is down");
    await src.put("k1", "changed");
    await src.delete("k2");
    await src.put("new", true);
    updates.length = 0;
    await eventually(() => completions === 2, "the second handshake", 10_000);
    expect(exp.stats.handshakeItems).toBe(53);
    expect(updates.sort()).toEqual([
      ["k1", "changed", "handshake"],
      ["k2", undefined, "dissoc"],
      ["new", true, "handshake"],
    ]);
    expect(await snapshot(dst)).toEqual(await snapshot(src));
    h.close();
    exp.close();
  });

  test("a walker ships only the nodes reachable from the root, root key last", async () => {
    const { owner, sub } = await pair();
    const src = memoryStore();
    const leafA = await putContent(src, { leaf: "a" });
    const leafB = await putContent(src, { leaf: "b" });
    const inner = await putContent(src, { children: [leafA, leafB] });
    const root = await putContent(src, { children: [inner, leafA] });
    await putContent(src, { leaf: "garbage, unreachable" });
    await src.put("root", root);
    const walk = async function* (s: KVStore): AsyncIterable<string> {
      const start = await s.get<string>("root");
      const stack = start === undefined ? [] : [start];
      const seen = new Set<string>();
      while (stack.length > 0) {
        const k = stack.pop()!;
        if (seen.has(k)) continue;
        seen.add(k);
        yield k;
        const node = await s.get<{ children?: string[] }>(k);
        for (const c of node?.children ?? []) stack.push(c);
      }
      yield "root";
    };
    const exp = exportStore(owner, "w", src, { walk, keyOrder: (k) => (k === "root" ? 1 : 0) });
    const dst = memoryStore();
    const seen: string[] = [];
    const missingAtRoot: string[] = [];
    const h = await subscribeStore(sub, "w", dst, {
      onKeyUpdate: (k) => {
        seen.push(k);
      },
    });
    expect(seen.at(-1)).toBe("root");
    expect(new Set(seen)).toEqual(new Set([leafA, leafB, inner, root, "root"]));
    // every node the root points to arrived before the root
    for (const k of [leafA, leafB, inner, root])
      if (seen.indexOf(k) > seen.indexOf("root")) missingAtRoot.push(k);
    expect(missingAtRoot).toEqual([]);
    expect(await dst.get(root)).toEqual({ children: [inner, leafA] });
    h.close();
    exp.close();
  });

  test("records over the replica's limits are refused with typed errors; the rest and the link keep working", async () => {
    const { owner, sub } = await pair();
    const src = memoryStore();
    await src.putMany([
      ["small", 1],
      ["big", "x".repeat(5000)],
      ["k".repeat(300), 2],
    ]);
    const exp = exportStore(owner, "l", src);
    const dst = memoryStore();
    const errors: string[] = [];
    const h = await subscribeStore(sub, "l", dst, {
      maxValueBytes: 1000,
      maxKeyBytes: 200,
      onError: (e) => errors.push((e as { code?: string }).code ?? String(e)),
    });
    expect(await snapshot(dst)).toEqual({ small: 1 });
    expect(errors).toEqual(["ERR_LIMIT", "ERR_LIMIT"]);
    expect(h.stats.refused).toBe(2);
    await src.put("after", 3);
    await eventually(async () => (await dst.get("after")) === 3, "a later live write");
    h.close();
    exp.close();
  });

  test("a resync of an unchanged store sends no values and at most 64 bytes per key", async () => {
    const h0 = await hub();
    const proxy = await countingProxy(Number(new URL(h0.peer.url!).port));
    try {
      const sub = await client(proxy.url, { reconnect: { initialDelayMs: 10, maxDelayMs: 50 } });
      const src = memoryStore();
      await src.putMany(Array.from({ length: 3000 }, (_, i) => [`key-${i}`, "v".repeat(100)] as const));
      const exp = exportStore(h0.peer, "big", src);
      const dst = memoryStore();
      let completions = 0;
      const h = await subscribeStore(sub, "big", dst, {
        stateChunkKeys: 500,
        onHandshakeComplete: () => completions++,
      });
      expect(exp.stats.handshakeItems).toBe(3000);
      expect(proxy.down).toBeGreaterThan(3000 * 100);
      h0.peer.disconnect("c1");
      await eventually(() => !h.connected, "the link is down");
      proxy.reset();
      await eventually(() => completions === 2, "the resync", 10_000);
      expect(exp.stats.handshakeItems).toBe(3000);
      expect(h.stats.applied).toBe(3000);
      const bytes = proxy.up + proxy.down;
      expect(bytes / 3000).toBeLessThanOrEqual(64);
      expect(proxy.down).toBeLessThan(3000); // acknowledgements, no values
      h.close();
      exp.close();
    } finally {
      await proxy.close();
    }
  });

  test("a topic nobody exports is refused: subscribeStore rejects with ERR_NO_TOPIC", async () => {
    const { owner, sub } = await pair();
    const other = exportStore(owner, "other", memoryStore());
    await expect(within(subscribeStore(sub, "nobody", memoryStore()), 5_000)).rejects.toMatchObject({
      code: "ERR_NO_TOPIC",
    });
    other.close();
  });
});
