import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createContext, signal } from "spindel";
import { Peer, syncSignal } from "spindel/distributed";
import { afterEach, describe, it } from "vitest";
import { type Hub, startHub } from "../../src/distributed/hub/hub.js";
import { until, within } from "../distributed/helpers.js";
import { GCounter } from "./counter.js";
import { type RedisServer, startRedis } from "./redis.js";

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function hub(id: string, redis: RedisServer): Promise<Hub> {
  const dir = mkdtempSync(path.join(tmpdir(), "spindel-outage-"));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  const h = await startHub({ id, port: 0, store: dir, redis: redis.url });
  cleanup.push(() => h.close());
  return h;
}

async function client(id: string, h: Hub) {
  const ctx = createContext({ name: id });
  const peer = await Peer.connect({ id, url: h.url, context: ctx });
  cleanup.push(() => peer.close());
  const sig = signal(GCounter.empty());
  const sync = syncSignal(peer, "outage", sig, { context: ctx });
  return { ctx, sig, sync };
}

describe("hubs while Redis is down", () => {
  it("a topic still opens and takes writes; they reach the other hub once Redis is back", async () => {
    const redis = await startRedis();
    cleanup.push(() => redis.dispose());
    const a = await hub("hub-a", redis);
    const b = await hub("hub-b", redis);
    await redis.stop();
    const ca = await client("ca", a);
    // opening waits for the stream only briefly, then opens from the journal and the joiner
    await within(ca.sync.ready, 10_000, "the topic opened without Redis");
    for (let i = 0; i < 5; i++) ca.ctx.update(ca.sig, (c) => c.inc("ca"));
    await new Promise((r) => setImmediate(r)); // the writes' publish goes out a microtask later
    await until(ca.ctx, ca.sync.pending, (n) => n === 0, 10_000);
    await redis.start();
    const cb = await client("cb", b);
    await until(cb.ctx, cb.sig, (c) => c.value === 5, 15_000);
    cb.ctx.update(cb.sig, (c) => c.inc("cb"));
    await until(ca.ctx, ca.sig, (c) => c.value === 6, 15_000);
  }, 60_000);
});
