/**
 * Signal sync between real peers over WebSockets on 127.0.0.1 (port 0): the hub owns each topic
 * and relays; clients subscribe through it.
 */
import { type Context, createContext, type Signal, signal } from "spindel";
import { exportSignal, Peer, subscribeSignal, syncSignal } from "spindel/distributed";
import { describe, expect, test } from "vitest";
import { client, eventually, hub, track, until } from "../helpers.js";
import { TGSet } from "./gset.js";

async function setup(n = 2) {
  const h = await hub();
  const clients: { peer: Peer; ctx: Context }[] = [];
  for (let i = 1; i <= n; i++) {
    const ctx = createContext({ name: `c${i}` });
    clients.push({ peer: await client(h.peer.url, { id: `c${i}`, context: ctx }), ctx });
  }
  return { h, clients };
}

const same = <T>(ctxs: Context[], sig: Signal<T>, eq: (a: T, b: T) => boolean = Object.is) =>
  ctxs.every((c) => eq(c.get(sig), ctxs[0]!.get(sig)));

describe("signal sync over WebSockets", () => {
  test("two writers (LWW): each sees the other's writes", async () => {
    const { h, clients } = await setup(1);
    const v = signal("start");
    const s = syncSignal(h.peer, "v", v, { owner: true });
    const c = syncSignal(clients[0]!.peer, "v", v);
    await s.ready;
    await c.ready;
    const cctx = clients[0]!.ctx;
    cctx.set(v, "from-client");
    await until(h.ctx, v, (x) => x === "from-client");
    h.ctx.set(v, "from-hub");
    await until(cctx, v, (x) => x === "from-hub");
    await until(cctx, c.pending, (p) => p === 0);
    expect(cctx.get(c.connected)).toBe(true);
    expect(cctx.get(c.caughtUp)).toBe(true);
  });

  test("fan-in through the hub with two clients (δ): every replica gets every write", async () => {
    const { h, clients } = await setup(2);
    const g = signal(TGSet.empty());
    syncSignal(h.peer, "g", g, { owner: true });
    const handles = clients.map((c) => syncSignal(c.peer, "g", g));
    await Promise.all(handles.map((x) => x.ready));
    for (let i = 0; i < 20; i++) {
      const c = clients[i % 2]!;
      c.ctx.set(g, c.ctx.get(g).add(`w${i}`));
    }
    const ctxs = [h.ctx, ...clients.map((c) => c.ctx)];
    for (const ctx of ctxs) await until(ctx, g, (x) => x.size === 20);
    expect(same(ctxs, g, (a, b) => a.equals(b))).toBe(true);
  });

  test("a late joiner gets the current value; a third peer learns a joiner's prior writes", async () => {
    const { h, clients } = await setup(1);
    const g = signal(TGSet.empty());
    syncSignal(h.peer, "g", g, { owner: true });
    const a = syncSignal(clients[0]!.peer, "g", g);
    await a.ready;
    clients[0]!.ctx.set(g, clients[0]!.ctx.get(g).add("early"));
    await until(h.ctx, g, (x) => x.has("early"));
    // the joiner wrote before it connected
    const lctx = createContext({ name: "late" });
    const late = track(new Peer({ id: "late", context: lctx }));
    lctx.set(g, TGSet.empty().add("late-offline"));
    const l = syncSignal(late, "g", g);
    await late.connect({ url: h.peer.url });
    await l.ready;
    expect(lctx.get(g).values()).toEqual(["early", "late-offline"]);
    await until(clients[0]!.ctx, g, (x) => x.has("late-offline"));
  });

  test("both sides wrote before connecting: the union after one handshake", async () => {
    const h = await hub();
    const g = signal(TGSet.empty());
    h.ctx.set(g, TGSet.empty().add("hub-1"));
    syncSignal(h.peer, "g", g, { owner: true });
    h.ctx.set(g, h.ctx.get(g).add("hub-2"));
    const ctx = createContext();
    const p = track(new Peer({ id: "c1", context: ctx }));
    ctx.set(g, TGSet.empty().add("c-1"));
    const c = syncSignal(p, "g", g);
    ctx.set(g, ctx.get(g).add("c-2"));
    await p.connect({ url: h.peer.url });
    await c.ready;
    expect(ctx.get(g).values()).toEqual(["c-1", "c-2", "hub-1", "hub-2"]);
    await until(h.ctx, g, (x) => x.size === 4);
  });

  test("reconnect after writes on both sides while apart: nothing is lost", async () => {
    const h = await hub();
    const ctx = createContext();
    const p = await client(h.peer.url, { id: "c1", context: ctx, reconnect: { initialDelayMs: 20 } });
    const g = signal(TGSet.empty());
    syncSignal(h.peer, "g", g, { owner: true });
    const c = syncSignal(p, "g", g);
    await c.ready;
    // hold the reconnect until both sides wrote
    const reconnecting = until(ctx, c.connected, (x) => !x);
    h.peer.disconnect("c1");
    await reconnecting;
    ctx.set(g, ctx.get(g).add("client-apart"));
    h.ctx.set(g, h.ctx.get(g).add("hub-apart"));
    await Promise.resolve();
    expect(ctx.get(c.pending)).toBe(1);
    await until(ctx, c.caughtUp, (x) => x, 10_000);
    expect(ctx.get(g).values()).toEqual(["client-apart", "hub-apart"]);
    await until(h.ctx, g, (x) => x.has("client-apart"));
    await until(ctx, c.pending, (n) => n === 0);
  });

  test("export refuses inbound writes; subscribe never publishes", async () => {
    const { h, clients } = await setup(2);
    const v = signal(0);
    h.ctx.set(v, 42);
    exportSignal(h.peer, "v", v);
    const errors: unknown[] = [];
    const w = syncSignal(clients[0]!.peer, "v", v, { onError: (e) => errors.push(e) });
    const m = subscribeSignal(clients[1]!.peer, "v", v);
    await w.ready;
    await m.ready;
    expect(clients[1]!.ctx.get(v)).toBe(42);
    clients[0]!.ctx.set(v, 7);
    await eventually(() => errors.length === 1, "refusal");
    expect(errors[0]).toMatchObject({ code: "ERR_UNAUTHORIZED" });
    // the refused write is rolled back at once (a new handshake), reported once
    await until(clients[0]!.ctx, v, (x) => x === 42);
    expect(errors).toHaveLength(1);
    clients[1]!.ctx.set(v, 9);
    h.ctx.set(v, 43);
    await until(clients[1]!.ctx, v, (x) => x === 43);
    await until(clients[0]!.ctx, v, (x) => x === 43);
    expect(h.ctx.get(v)).toBe(43);
  });

  test("LWW with concurrent writers converges to one value everywhere", async () => {
    const { h, clients } = await setup(2);
    const v = signal(0);
    syncSignal(h.peer, "v", v, { owner: true });
    const hs = clients.map((c) => syncSignal(c.peer, "v", v));
    await Promise.all(hs.map((x) => x.ready));
    for (let round = 0; round < 10; round++) {
      clients[0]!.ctx.set(v, round * 10 + 1);
      clients[1]!.ctx.set(v, round * 10 + 2);
      h.ctx.set(v, round * 10 + 3);
    }
    const ctxs = [h.ctx, ...clients.map((c) => c.ctx)];
    await Promise.all(clients.map((c, i) => until(c.ctx, hs[i]!.pending, (n) => n === 0)));
    await eventually(() => same(ctxs, v), "one value everywhere");
  });

  test("authorization refusals carry their code; the principal comes from authenticate", async () => {
    const h = await hub({ authenticate: (hello) => ({ user: hello.credential }) });
    const ctxA = createContext();
    const ctxB = createContext();
    const a = await client(h.peer.url, { id: "a", context: ctxA, credential: "alice" });
    const b = await client(h.peer.url, { id: "b", context: ctxB, credential: "bob" });
    const v = signal("v0");
    syncSignal(h.peer, "doc", v, {
      owner: true,
      authorizeSubscribe: (p) => (p as { user: string }).user !== "mallory",
      authorizePublish: (p) => ((p as { user: string }).user === "alice" ? true : "ERR_NOT_LEASE_HOLDER"),
    });
    syncSignal(h.peer, "secret", signal(0), { owner: true, authorizeSubscribe: () => false });
    const errs: unknown[] = [];
    const sa = syncSignal(a, "doc", v);
    const sb = syncSignal(b, "doc", v, { onError: (e) => errs.push(e) });
    await sa.ready;
    await sb.ready;
    await expect(syncSignal(b, "secret", signal(0)).ready).rejects.toMatchObject({
      code: "ERR_UNAUTHORIZED",
    });
    ctxB.set(v, "bob-wrote");
    await eventually(() => errs.length === 1, "bob refused");
    expect(errs[0]).toMatchObject({ code: "ERR_NOT_LEASE_HOLDER" });
    await until(ctxB, v, (x) => x === "v0");
    expect(errs).toHaveLength(1);
    ctxA.set(v, "alice-wrote");
    await until(h.ctx, v, (x) => x === "alice-wrote");
    await until(ctxB, v, (x) => x === "alice-wrote");
  });

  test("malformed topic frames get typed errors while other topics keep syncing", async () => {
    const { h, clients } = await setup(1);
    const v = signal(0);
    syncSignal(h.peer, "v", v, { owner: true });
    const c = syncSignal(clients[0]!.peer, "v", v);
    await c.ready;
    // a peer speaking the topics protocol by hand
    const raw = track(new Peer({ id: "raw", context: createContext() }));
    const replies: unknown[] = [];
    let link: { send(p: unknown): boolean } | null = null;
    raw.attachProtocol("topics", {
      linkUp: (l) => {
        link = l;
      },
      linkDown: () => {},
      message: (_l, p) => {
        replies.push(p);
      },
    });
    await raw.connect({ url: h.peer.url });
    await eventually(() => link !== null, "raw link");
    link!.send({ not: "an array" });
    link!.send([0, "v", "not-a-number", null]);
    link!.send([0, "v", 1, { m: "delta" }]);
    clients[0]!.ctx.set(v, 5);
    await eventually(() => replies.length === 3, "three refusals");
    expect(replies.map((r) => (r as unknown[])[2])).toEqual([
      "ERR_MALFORMED",
      "ERR_MALFORMED",
      "ERR_INCOMPATIBLE",
    ]);
    await until(h.ctx, v, (x) => x === 5);
    h.ctx.set(v, 6);
    await until(clients[0]!.ctx, v, (x) => x === 6);
    expect(h.peer.isConnected("raw")).toBe(true);
  });
});
