import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createContext, signal } from "spindel";
import { Peer } from "spindel/distributed";
import { afterEach, describe, expect, it } from "vitest";
import { type Hub, startHub } from "../../src/distributed/hub/hub.js";
import { memoryStore } from "../../src/distributed/store/adapters/memory.js";
import { subscribeStore } from "../../src/distributed/store/sync.js";
import { syncSignal } from "../../src/distributed/sync/signal-sync.js";
import { until } from "../distributed/helpers.js";
import { GCounter } from "./counter.js";

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

function tmp(): string {
  const d = mkdtempSync(path.join(tmpdir(), "spindel-hub-"));
  cleanup.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

async function hub(store: string, extra: Parameters<typeof startHub>[0] = {}): Promise<Hub> {
  const h = await startHub({ port: 0, store, ...extra });
  cleanup.push(() => h.close());
  return h;
}

async function client(id: string, h: Hub) {
  const ctx = createContext({ name: id });
  const peer = await Peer.connect({ id, url: h.url, context: ctx });
  cleanup.push(() => peer.close());
  return { ctx, peer };
}

describe("hub (in process)", () => {
  it("owns a topic a client opens: last-writer-wins values reach the other client", async () => {
    const h = await hub(tmp());
    const a = await client("a", h);
    const b = await client("b", h);
    const sa = signal<string | null>(null);
    const sb = signal<string | null>(null);
    const ha = syncSignal(a.peer, "title", sa, { context: a.ctx });
    const hb = syncSignal(b.peer, "title", sb, { context: b.ctx });
    await Promise.all([ha.ready, hb.ready]);
    a.ctx.set(sa, "hello");
    await until(b.ctx, sb, (v) => v === "hello");
    b.ctx.set(sb, "world");
    await until(a.ctx, sa, (v) => v === "world");
    expect(h.metrics().topics).toBe(1);
    expect(h.metrics().writes).toBeGreaterThanOrEqual(2);
  });

  it("Convergent deltas of a datatype the hub never saw join on every replica, and survive a restart", async () => {
    const store = tmp();
    let h = await hub(store);
    const a = await client("a", h);
    const b = await client("b", h);
    const sa = signal(GCounter.empty());
    const sb = signal(GCounter.empty());
    const ha = syncSignal(a.peer, "count", sa, { context: a.ctx });
    const hb = syncSignal(b.peer, "count", sb, { context: b.ctx });
    await Promise.all([ha.ready, hb.ready]);
    for (let i = 0; i < 10; i++) a.ctx.update(sa, (c) => c.inc("a"));
    for (let i = 0; i < 5; i++) b.ctx.update(sb, (c) => c.inc("b"));
    await until(a.ctx, sa, (c) => c.value === 15);
    await until(b.ctx, sb, (c) => c.value === 15);
    await until(a.ctx, ha.pending, (n) => n === 0);
    await until(b.ctx, hb.pending, (n) => n === 0);
    ha.close();
    hb.close();
    await h.close();
    h = await hub(store);
    // a fresh replica with nothing gets everything back from the restarted hub's store
    const c = await client("c", h);
    const sc = signal(GCounter.empty());
    const hc = syncSignal(c.peer, "count", sc, { context: c.ctx });
    await hc.ready;
    await until(c.ctx, sc, (v) => v.value === 15);
  });

  it("store topics: what the hub's store gets streams to subscribers, and survives a restart", async () => {
    const dir = tmp();
    let h = await hub(dir);
    const files = await h.store("files");
    await files.put("readme", { text: "hello" });
    const a = await client("a", h);
    const mine = memoryStore();
    const sub = await subscribeStore(a.peer, "files", mine);
    expect(await mine.get("readme")).toEqual({ text: "hello" });
    const arrived = new Promise<void>((resolve) => {
      const off = mine.onWrite(() => {
        off();
        resolve();
      });
    });
    await files.put("live", 42);
    await arrived;
    expect(await mine.get("live")).toBe(42);
    sub.close();
    await h.close();
    // a client opening the topic first (no hub-side code) gets what is on disk
    h = await hub(dir);
    const b = await client("b", h);
    const theirs = memoryStore();
    await subscribeStore(b.peer, "files", theirs);
    expect(await theirs.get("readme")).toEqual({ text: "hello" });
    expect(await theirs.get("live")).toBe(42);
    expect(h.metrics().topics).toBe(1);
  });

  it("a busy port and an unwritable or locked store are clear errors", async () => {
    const store = tmp();
    const h = await hub(store);
    await expect(startHub({ port: h.port, store: tmp() })).rejects.toMatchObject({ code: "ERR_PORT_IN_USE" });
    await expect(startHub({ port: 0, store })).rejects.toMatchObject({
      code: "ERR_STORE_UNWRITABLE",
      message: expect.stringMatching(/in use by another process/),
    });
    // a path under a regular file can be created by nobody, root included
    const file = path.join(tmp(), "a-file");
    writeFileSync(file, "");
    await expect(startHub({ port: 0, store: path.join(file, "data") })).rejects.toMatchObject({
      code: "ERR_STORE_UNWRITABLE",
      message: expect.stringMatching(/cannot create the store directory/),
    });
  });

  it("serves /health and /metrics", async () => {
    const h = await hub(tmp(), { id: "hub-x" });
    const health = await fetch(new URL("/health", h.httpUrl));
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: "ok", id: "hub-x", redis: false, connections: 0 });
    await client("a", h);
    const m = await (await fetch(new URL("/metrics", h.httpUrl))).text();
    expect(m).toMatch(/^spindel_hub_connections\{hub="hub-x"\} 1$/m);
    expect(m).toMatch(/^spindel_hub_topics\{hub="hub-x"\} 0$/m);
    expect(m).toMatch(/^spindel_hub_pending\{hub="hub-x"\} 0$/m);
  });
});
