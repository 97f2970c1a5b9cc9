/**
 * Subscribing before the topic exists, between real peers over WebSockets on 127.0.0.1 (port 0):
 * the subscriber's `ready` waits (it is told `ERR_NO_TOPIC` and retries, or its subscribe was
 * dropped by a peer that had never used topics), and the sync starts by itself once an owner
 * registers the topic, directly or through the hub's lazily opened topics.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createContext, signal } from "spindel";
import { Peer, subscribeSignal, syncSignal, type TopicError } from "spindel/distributed";
import { afterEach, describe, expect, test } from "vitest";
import { startHub } from "../../../src/distributed/hub/hub.js";
import { client, hub, track, until, within } from "../helpers.js";
import { TGSet } from "./gset.js";

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

/** Resolves with the first error `onError` gets (the handle's diagnostics sink). */
function firstError() {
  let resolve!: (e: TopicError) => void;
  const first = new Promise<TopicError>((r) => (resolve = r));
  return { first, onError: (e: unknown) => resolve(e as TopicError) };
}

/** How a promise settled so far. */
function watch(p: Promise<unknown>) {
  const w = { state: "pending" as "pending" | "resolved" | "rejected" };
  p.then(
    () => (w.state = "resolved"),
    () => (w.state = "rejected"),
  );
  return w;
}

describe("subscribing before the owner registers the topic (WebSockets)", () => {
  test("told ERR_NO_TOPIC, the subscribers retry; once the owner registers, ready resolves and values flow both ways", async () => {
    const h = await hub();
    // the hub speaks topics (it owns another one), so a subscribe to "doc" is refused with ERR_NO_TOPIC
    syncSignal(h.peer, "other", signal(0), { owner: true });
    const ctxA = createContext({ name: "a" });
    const ctxB = createContext({ name: "b" });
    const a = await client(h.peer.url, { id: "a", context: ctxA });
    const b = await client(h.peer.url, { id: "b", context: ctxB });
    const doc = signal("initial");
    const errsA = firstError();
    const errsB = firstError();
    const sa = syncSignal(a, "doc", doc, { onError: errsA.onError });
    const mb = subscribeSignal(b, "doc", doc, { onError: errsB.onError });
    const readyA = watch(sa.ready);
    const readyB = watch(mb.ready);
    expect(await within(errsA.first, 5_000, "a's refusal")).toMatchObject({ code: "ERR_NO_TOPIC" });
    expect(await within(errsB.first, 5_000, "b's refusal")).toMatchObject({ code: "ERR_NO_TOPIC" });
    expect(ctxA.get(sa.lastError)).toMatchObject({ code: "ERR_NO_TOPIC" });
    expect(ctxA.get(sa.connected)).toBe(false);
    expect(readyA.state).toBe("pending");
    expect(readyB.state).toBe("pending");
    // written while retrying: pending until a handshake carries it
    ctxA.set(doc, "a's draft");
    await until(ctxA, sa.pending, (n) => n === 1);
    // the owner registers the topic late
    h.ctx.set(doc, "hub's version");
    syncSignal(h.peer, "doc", doc, { owner: true });
    await within(Promise.all([sa.ready, mb.ready]), 5_000, "ready after the owner came");
    expect(ctxA.get(sa.lastError)).toBeNull();
    expect(ctxA.get(sa.caughtUp)).toBe(true);
    // the write made before the owner existed is not lost (the hub's value was never written: no stamp)
    await until(h.ctx, doc, (v) => v === "a's draft");
    await until(ctxB, doc, (v) => v === "a's draft");
    ctxA.set(doc, "from a");
    await until(h.ctx, doc, (v) => v === "from a");
    await until(ctxB, doc, (v) => v === "from a");
    h.ctx.set(doc, "from the hub");
    await until(ctxA, doc, (v) => v === "from the hub");
    await until(ctxB, doc, (v) => v === "from the hub");
    await until(ctxA, sa.pending, (n) => n === 0);
  });

  test("a hub peer that never used topics: the subscribe it dropped is sent again when the owner registers", async () => {
    // the hub answers the unknown protocol once, at the connection level
    const dropped = firstError();
    const h = await hub({ onError: dropped.onError });
    const ctx = createContext({ name: "c1" });
    const p = await client(h.peer.url, { id: "c1", context: ctx });
    const g = signal(TGSet.empty());
    ctx.set(g, TGSet.empty().add("client-early"));
    const c = syncSignal(p, "g", g);
    const ready = watch(c.ready);
    expect(String(await within(dropped.first, 5_000, "the hub dropping the subscribe"))).toMatch(
      /no protocol 'topics'/,
    );
    expect(ready.state).toBe("pending");
    h.ctx.set(g, TGSet.empty().add("hub-early"));
    syncSignal(h.peer, "g", g, { owner: true });
    await within(c.ready, 5_000, "ready after the owner came");
    expect(ctx.get(g).values()).toEqual(["client-early", "hub-early"]);
    await until(h.ctx, g, (x) => x.has("client-early"));
    h.ctx.set(g, h.ctx.get(g).add("live"));
    await until(ctx, g, (x) => x.has("live"));
  });

  test("through the hub: a mirror of a topic nobody has written retries until a writer opens it", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "spindel-notopic-"));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const server = await startHub({ port: 0, store: dir });
    cleanup.push(() => server.close());
    const mctx = createContext({ name: "mirror" });
    const wctx = createContext({ name: "writer" });
    const mirrorPeer = track(await Peer.connect({ id: "mirror", url: server.url, context: mctx }));
    const writerPeer = track(await Peer.connect({ id: "writer", url: server.url, context: wctx }));
    const g = signal(TGSet.empty());
    const errs = firstError();
    const m = subscribeSignal(mirrorPeer, "tags", g, { onError: errs.onError });
    const ready = watch(m.ready);
    // a read-only mirror brings no state: the hub cannot open a topic from it
    expect(await within(errs.first, 5_000, "the mirror's refusal")).toMatchObject({ code: "ERR_NO_TOPIC" });
    expect(ready.state).toBe("pending");
    wctx.set(g, TGSet.empty().add("first"));
    const w = syncSignal(writerPeer, "tags", g);
    await within(w.ready, 5_000, "the writer opens the topic");
    await within(m.ready, 5_000, "the mirror's ready");
    await until(mctx, g, (x) => x.has("first"));
    wctx.set(g, wctx.get(g).add("second"));
    await until(mctx, g, (x) => x.has("second"));
    expect(mctx.get(m.lastError)).toBeNull();
  });
});
