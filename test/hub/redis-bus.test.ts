import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HubError } from "../../src/distributed/hub/errors.js";
import { type BusEntry, RedisStreamBus } from "../../src/distributed/hub/redis-bus.js";
import { freePort, type RedisServer, startRedis } from "./redis.js";

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.dispose();
});

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** Collects a topic's entries; `next(n)` resolves once n entries in total have arrived. */
function collector() {
  const got: BusEntry[] = [];
  let lastId = "0";
  const waiters: { n: number; resolve: () => void }[] = [];
  return {
    got,
    get lastId() {
      return lastId;
    },
    handler: (entries: readonly BusEntry[], last: string) => {
      got.push(...entries);
      lastId = last;
      for (const w of waiters.splice(0)) {
        if (got.length >= w.n) w.resolve();
        else waiters.push(w);
      }
    },
    next(n: number) {
      if (got.length >= n) return Promise.resolve();
      return new Promise<void>((resolve) => waiters.push({ n, resolve }));
    },
  };
}

describe("RedisStreamBus", () => {
  it("delivers another hub's appends in order, never its own", async () => {
    const a = await RedisStreamBus.connect({ url: redis.url, hubId: "a", blockMs: 2_000 });
    const b = await RedisStreamBus.connect({ url: redis.url, hubId: "b", blockMs: 2_000 });
    try {
      const onA = collector();
      const onB = collector();
      a.follow("t1", "0", onA.handler);
      b.follow("t1", "0", onB.handler);
      await b.append("t1", bytes("from b (before a's reads may see it)"));
      await onA.next(1);
      for (let i = 0; i < 20; i++) await a.append("t1", bytes(`a${i}`));
      await b.append("t1", bytes("b-last"));
      await onB.next(20);
      expect(onB.got.map((e) => text(e.payload))).toEqual(Array.from({ length: 20 }, (_, i) => `a${i}`));
      expect(onB.got.every((e) => e.origin === "a" && e.topic === "t1")).toBe(true);
      await onA.next(2);
      expect(onA.got.map((e) => text(e.payload))).toEqual(["from b (before a's reads may see it)", "b-last"]);
      expect(a.appended).toBe(20);
      expect(b.received).toBe(20);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("a new topic is read at once (the blocked read is interrupted) and from a given id", async () => {
    const a = await RedisStreamBus.connect({ url: redis.url, hubId: "a", blockMs: 60_000 });
    const b = await RedisStreamBus.connect({ url: redis.url, hubId: "b", blockMs: 60_000 });
    try {
      const first = collector();
      b.follow("quiet", "0", first.handler);
      const id1 = await a.append("t2", bytes("one"));
      await a.append("t2", bytes("two"));
      // b is blocked for 60 s on "quiet"; following t2 from the start must not wait for that
      const t2 = collector();
      b.follow("t2", "0", t2.handler);
      await t2.next(2);
      expect(t2.got.map((e) => text(e.payload))).toEqual(["one", "two"]);
      // resume after a known id
      const again = collector();
      b.follow("t2", id1, again.handler);
      await a.append("t2", bytes("three"));
      await again.next(2);
      expect(again.got.map((e) => text(e.payload))).toEqual(["two", "three"]);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("streams are trimmed to about maxLen", async () => {
    const a = await RedisStreamBus.connect({ url: redis.url, hubId: "a", maxLen: 10 });
    try {
      for (let i = 0; i < 500; i++) await a.append("trim", bytes(String(i)));
      const len = Number(
        await (a as unknown as { writer: { xlen(k: string): Promise<number> } }).writer.xlen(a.key("trim")),
      );
      expect(len).toBeLessThan(500);
      expect(len).toBeGreaterThanOrEqual(10);
    } finally {
      await a.close();
    }
  });

  it("survives a Redis restart: appends made while it is down arrive, reading resumes", async () => {
    const a = await RedisStreamBus.connect({ url: redis.url, hubId: "a", blockMs: 1_000 });
    const b = await RedisStreamBus.connect({ url: redis.url, hubId: "b", blockMs: 1_000 });
    try {
      const got = collector();
      b.follow("restart", "0", got.handler);
      await a.append("restart", bytes("before"));
      await got.next(1);
      await redis.stop();
      const pending = a.append("restart", bytes("while down"));
      await redis.start();
      await pending;
      await a.append("restart", bytes("after"));
      await got.next(3);
      expect(got.got.map((e) => text(e.payload))).toEqual(["before", "while down", "after"]);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("refuses a bad URL and an unreachable Redis with ERR_REDIS", async () => {
    await expect(RedisStreamBus.connect({ url: "not a url", hubId: "a" })).rejects.toMatchObject({
      code: "ERR_REDIS",
    });
    await expect(RedisStreamBus.connect({ url: "http://127.0.0.1:1", hubId: "a" })).rejects.toBeInstanceOf(
      HubError,
    );
    const port = await freePort();
    await expect(
      RedisStreamBus.connect({ url: `redis://127.0.0.1:${port}`, hubId: "a", connectTimeoutMs: 500 }),
    ).rejects.toMatchObject({ code: "ERR_REDIS" });
  });
});
