/**
 * The owner authorizes what a subscriber's (re)subscribe handshake brings exactly as it authorizes
 * a live publish of it: same hook, principal and topic, a payload of the live shape (`{v, t}`,
 * `{s}`). A refused contribution is not integrated (nothing reaches the owner or the other
 * subscribers), the subscriber is told the hook's code through `onError`, and it ends on the
 * owner's state; reads go on. In-memory links (`SimNet`: the principal is the peer id).
 */
import { type Context, createContext, type Signal, signal, spin } from "spindel";
import { GSet, ORMap } from "spindel/crdt";
import { describe, expect, test } from "vitest";
import {
  type AuthDecision,
  exportSignal,
  subscribeSignal,
  syncSignal,
  TopicError,
  Topics,
} from "../../../src/distributed/sync/index.js";
import { type Gate, gate } from "../helpers.js";
import { type SimHost, SimNet } from "./sim.js";

async function until(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

/** Every value `sig` takes in `ctx` from now on (and the current one). */
function history<T>(ctx: Context, sig: Signal<T>): T[] {
  const seen: T[] = [];
  ctx.observe(
    spin(($) => $.track(sig)),
    (v) => void seen.push(v),
  );
  return seen;
}

interface Call {
  principal: unknown;
  topic: string;
  payload: unknown;
}

/** A hub and named clients on one in-memory net, each with its own context. */
function world(names: string[]) {
  const net = new SimNet();
  const hub = net.host("hub");
  const hctx = createContext({ name: "hub" });
  const clients = Object.fromEntries(
    names.map((n) => [n, { host: net.host(n), ctx: createContext({ name: n }), errors: [] as unknown[] }]),
  );
  return { net, hub, hctx, clients };
}

/**
 * The hub owns topic "g", a GSet starting at `{"hub"}`, and records every `authorizePublish` call;
 * `decide` answers it by principal.
 */
function gsetOwner(hub: SimHost, hctx: Context, decide: (principal: unknown) => AuthDecision) {
  const g = signal(GSet.empty<string>());
  hctx.set(g, GSet.of(["hub"]));
  const calls: Call[] = [];
  syncSignal(hub, "g", g, {
    owner: true,
    context: hctx,
    authorizePublish: (principal, topic, payload) => {
      calls.push({ principal, topic, payload });
      return decide(principal);
    },
  });
  return { g, calls };
}

describe("a subscriber's handshake state passes authorizePublish", () => {
  test("LWW: a refused principal's offline write never reaches the owner or others; it is told and rolled back", async () => {
    const { net, hub, hctx, clients } = world(["c1", "c2"]);
    const c1 = clients.c1!;
    const c2 = clients.c2!;
    const v = signal("v0");
    hctx.set(v, "hub's");
    const calls: Call[] = [];
    syncSignal(hub, "v", v, {
      owner: true,
      context: hctx,
      authorizePublish: (principal, topic, payload) => {
        calls.push({ principal, topic, payload });
        return principal === "c2" ? "ERR_NOT_LEASE_HOLDER" : true;
      },
    });
    const onHub = history(hctx, v);
    net.connect(c1.host, hub);
    const s1 = syncSignal(c1.host, "v", v, { context: c1.ctx });
    await s1.ready;
    const onC1 = history(c1.ctx, v);
    // c2 writes before it connects: the write travels in its handshake
    const s2 = syncSignal(c2.host, "v", v, { context: c2.ctx, onError: (e) => c2.errors.push(e) });
    c2.ctx.set(v, "c2's offline write");
    await new Promise((r) => setImmediate(r));
    expect(c2.ctx.get(s2.pending)).toBe(1);
    net.connect(c2.host, hub);
    await s2.ready; // reads go on: the subscribe stands
    expect(c2.errors).toHaveLength(1);
    expect(c2.errors[0]).toBeInstanceOf(TopicError);
    expect(c2.errors[0]).toMatchObject({ code: "ERR_NOT_LEASE_HOLDER", topic: "v" });
    // judged as its live publish would be: same hook, principal, topic, and a `{v, t}` payload
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ principal: "c2", topic: "v", payload: { v: "c2's offline write" } });
    expect((calls[0]!.payload as { t: unknown }).t).toEqual(expect.any(Array));
    // rolled back to the owner's value, answered (nothing pending), the refusal kept in lastError
    expect(c2.ctx.get(v)).toBe("hub's");
    expect(c2.ctx.get(s2.pending)).toBe(0);
    expect(c2.ctx.get(s2.lastError)?.code).toBe("ERR_NOT_LEASE_HOLDER");
    expect(c2.ctx.get(s2.caughtUp)).toBe(true);
    await until(() => net.inFlight === 0, "quiet");
    expect(hctx.get(v)).toBe("hub's");
    expect(onHub).not.toContain("c2's offline write");
    expect(onC1).not.toContain("c2's offline write");
    // the topic goes on: the owner's next write reaches c2, whose own writes stay refused
    hctx.set(v, "hub's v2");
    await until(() => c2.ctx.get(v) === "hub's v2" && c1.ctx.get(v) === "hub's v2", "hub's v2");
    expect(c2.ctx.get(s2.lastError)?.code).toBe("ERR_NOT_LEASE_HOLDER");
  });

  test("Convergent (GSet): a refused principal's offline adds are not joined anywhere; it ends on the owner's set", async () => {
    const { net, hub, hctx, clients } = world(["c1", "c2"]);
    const c1 = clients.c1!;
    const c2 = clients.c2!;
    const { g, calls } = gsetOwner(hub, hctx, (principal) => principal !== "c2");
    const onHub = history(hctx, g);
    c1.ctx.set(g, GSet.of(["c1-offline"]));
    const s1 = syncSignal(c1.host, "g", g, { context: c1.ctx });
    net.connect(c1.host, hub);
    await s1.ready; // allowed: integrated as before
    expect(hctx.get(g).values().sort()).toEqual(["c1-offline", "hub"]);
    expect(calls.map((c) => c.principal)).toEqual(["c1"]);
    expect(calls[0]!.payload).toMatchObject({ s: expect.any(GSet) });
    const onC1 = history(c1.ctx, g);

    c2.ctx.set(g, GSet.of(["c2-offline"]));
    const s2 = syncSignal(c2.host, "g", g, { context: c2.ctx, onError: (e) => c2.errors.push(e) });
    net.connect(c2.host, hub);
    await s2.ready;
    expect(c2.errors).toMatchObject([{ code: "ERR_UNAUTHORIZED" }]);
    expect(calls.map((c) => c.principal)).toEqual(["c1", "c2"]);
    expect(c2.ctx.get(g).values().sort()).toEqual(["c1-offline", "hub"]);
    await until(() => net.inFlight === 0, "quiet");
    for (const seen of [onHub, onC1]) expect(seen.some((s) => s.has("c2-offline"))).toBe(false);
    // c2 reads what others write afterwards
    c1.ctx.set(g, c1.ctx.get(g).add("c1-live"));
    await until(() => c2.ctx.get(g).has("c1-live"), "c1's write reaches c2");
    // a state it already shares brings nothing: a reconnect is not refused again
    net.disconnect(c2.host, hub);
    net.connect(c2.host, hub);
    await until(() => c2.ctx.get(s2.caughtUp), "c2 caught up again");
    expect(c2.errors).toHaveLength(1);
    expect(c2.ctx.get(s2.lastError)).toBe(null);
  });

  test("an OR-Map rolled back keeps writing as its own actor", async () => {
    const { net, hub, hctx, clients } = world(["c2"]);
    const c2 = clients.c2!;
    const m = signal(ORMap.empty<string, number>("init"));
    hctx.set(m, ORMap.empty<string, number>("hub").set("a", 1).clearDelta());
    let allow = false;
    syncSignal(hub, "m", m, { owner: true, context: hctx, authorizePublish: () => allow });
    c2.ctx.set(m, ORMap.empty<string, number>("c2"));
    const s = syncSignal(c2.host, "m", m, { context: c2.ctx, onError: (e) => c2.errors.push(e) });
    c2.ctx.set(m, c2.ctx.get(m).set("b", 2));
    net.connect(c2.host, hub);
    await s.ready;
    expect(c2.errors).toMatchObject([{ code: "ERR_UNAUTHORIZED" }]);
    expect(c2.ctx.get(m).entries()).toEqual([["a", [1]]]);
    expect(c2.ctx.get(m).actor).toBe("c2");
    allow = true;
    c2.ctx.set(m, c2.ctx.get(m).set("c", 3));
    await until(() => hctx.get(m).has("c"), "allowed write");
    expect(hctx.get(m).canonical()).toContain('"c2"');
  });

  test("writes made after the refused state was sent survive its rollback (they are judged as publishes)", async () => {
    // the hook judges content: anything "evil" is refused, from anyone
    const text = (x: unknown): string =>
      typeof (x as { canonical?: unknown }).canonical === "function"
        ? (x as { canonical(): string }).canonical()
        : JSON.stringify(x);
    const evil = (payload: unknown): boolean =>
      Object.values(payload as Record<string, unknown>).some((x) => text(x).includes("evil"));
    for (const kind of ["delta", "lww"] as const) {
      const net = new SimNet("step");
      const hub = net.host("hub");
      const c2 = net.host("c2");
      const hctx = createContext();
      const cctx = createContext();
      const v =
        kind === "delta"
          ? (signal(GSet.empty<string>()) as Signal<unknown>)
          : (signal("v0") as Signal<unknown>);
      hctx.set(v, kind === "delta" ? GSet.of(["hub"]) : "hub's");
      const refusals: Array<{ where: string; code: string }> = [];
      syncSignal(hub, "v", v, {
        owner: true,
        context: hctx,
        authorizePublish: (_p, _t, payload) => (evil(payload) ? "ERR_EVIL" : true),
      });
      const s = syncSignal(c2, "v", v, {
        context: cctx,
        onError: (e, where) => refusals.push({ where, code: (e as TopicError).code }),
      });
      // written while offline: it travels in the handshake
      cctx.set(v, kind === "delta" ? (cctx.get(v) as GSet<string>).add("evil") : "evil");
      await new Promise((r) => setImmediate(r));
      net.connect(c2, hub); // the subscribe is in flight, not delivered (stepped net)
      cctx.set(v, kind === "delta" ? (cctx.get(v) as GSet<string>).add("good") : "good");
      await new Promise((r) => setImmediate(r)); // its publish follows the subscribe
      while (net.inFlight > 0 || !cctx.get(s.caughtUp)) {
        net.stepOnce();
        await new Promise((r) => setImmediate(r));
      }
      await until(() => cctx.get(s.pending) === 0, "answered");
      const show = (x: unknown) => (kind === "delta" ? (x as GSet<string>).values().sort() : x);
      expect(show(hctx.get(v))).toEqual(kind === "delta" ? ["good", "hub"] : "good");
      expect(show(cctx.get(v))).toEqual(show(hctx.get(v)));
      expect(refusals).toEqual([{ where: "subscription 'v': handshake state refused", code: "ERR_EVIL" }]);
    }
  });

  test("an async hook decides in order: no publish is applied or judged before the handshake's decision", async () => {
    const { net, hub, hctx, clients } = world(["c2"]);
    const c2 = clients.c2!;
    const g = signal(GSet.empty<string>());
    hctx.set(g, GSet.of(["hub"]));
    const calls: unknown[] = [];
    const decisions: Array<Gate<AuthDecision>> = [];
    syncSignal(hub, "g", g, {
      owner: true,
      context: hctx,
      authorizePublish: (_p, _t, payload) => {
        calls.push(payload);
        const d = gate<AuthDecision>();
        decisions.push(d);
        return d.promise;
      },
    });
    c2.ctx.set(g, GSet.of(["offline"]));
    const s = syncSignal(c2.host, "g", g, { context: c2.ctx, onError: (e) => c2.errors.push(e) });
    net.connect(c2.host, hub);
    await until(() => calls.length === 1, "the handshake state is judged");
    // a live write while the decision is pending: its publish reaches the owner and waits
    c2.ctx.set(g, c2.ctx.get(g).add("live"));
    await until(() => net.inFlight === 0, "delivered");
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    expect(calls).toHaveLength(1);
    expect(hctx.get(g).values()).toEqual(["hub"]);
    expect(c2.ctx.get(s.caughtUp)).toBe(false);
    decisions[0]!.resolve("ERR_LATER");
    await until(() => calls.length === 2, "the live publish is judged after");
    expect(calls[1]).toMatchObject({ d: expect.anything() });
    expect(hctx.get(g).values()).toEqual(["hub"]); // the state was refused, the publish undecided
    decisions[1]!.resolve(true);
    await until(() => hctx.get(g).has("live"), "the allowed publish is applied");
    await until(() => c2.ctx.get(s.pending) === 0 && net.inFlight === 0, "quiet");
    expect(hctx.get(g).values().sort()).toEqual(["hub", "live"]);
    expect(c2.ctx.get(g).values().sort()).toEqual(["hub", "live"]); // "offline" rolled back
    expect(c2.errors).toMatchObject([{ code: "ERR_LATER" }]);
    // an async "yes" integrates
    c2.ctx.set(g, c2.ctx.get(g).add("offline-2"));
    await until(() => calls.length === 3, "judged");
    decisions[2]!.resolve(true);
    await until(() => hctx.get(g).has("offline-2"), "allowed");
  });

  test("a reader allowed to subscribe but not to publish: reads work, a stale write of its own is refused and dropped", async () => {
    const { net, hub, hctx, clients } = world(["reader", "writer"]);
    const r = clients.reader!;
    const v = signal(0);
    hctx.set(v, 42);
    syncSignal(hub, "v", v, { owner: true, context: hctx, authorizePublish: () => false });
    net.connect(r.host, hub);
    // nothing of its own: no refusal at all
    const plain = syncSignal(r.host, "v", v, { context: r.ctx, onError: (e) => r.errors.push(e) });
    await plain.ready;
    expect(r.ctx.get(v)).toBe(42);
    expect(r.errors).toEqual([]);
    // a mirror never sends state
    const w = clients.writer!;
    net.connect(w.host, hub);
    const m = subscribeSignal(w.host, "v", v, { context: w.ctx, onError: (e) => w.errors.push(e) });
    await m.ready;
    expect(w.ctx.get(v)).toBe(42);
    expect(w.errors).toEqual([]);
    // an exported signal refuses every inbound write, a handshake's too
    const net2 = new SimNet();
    const ex = net2.host("hub");
    const c = net2.host("c");
    const ectx = createContext();
    const cctx = createContext();
    const x = signal("initial");
    ectx.set(x, "exported");
    exportSignal(ex, "x", x, { context: ectx });
    const errs: unknown[] = [];
    const sx = syncSignal(c, "x", x, { context: cctx, onError: (e) => errs.push(e) });
    cctx.set(x, "client's"); // a write (the value a sync starts with is none)
    await new Promise((r) => setImmediate(r));
    net2.connect(c, ex);
    await sx.ready;
    expect(errs).toMatchObject([{ code: "ERR_UNAUTHORIZED" }]);
    expect(cctx.get(x)).toBe("exported");
    expect(ectx.get(x)).toBe("exported");
  });
});

describe("the topic layer asks the strategy what a client state amounts to", () => {
  test("refused: the hook sees the strategy's payload, handshake gets the refusal, the subscriber its code", async () => {
    const net = new SimNet();
    const hub = net.host("hub");
    const c1 = net.host("c1");
    net.connect(c1, hub);
    const log: unknown[] = [];
    Topics.of(hub).register(
      "t",
      {
        contribution: (cs) => (cs === "nothing" ? undefined : { wants: cs }),
        handshake: (cs, _link, refused) => {
          log.push({ cs, refused: refused?.code ?? null });
          return refused === undefined ? ["merged"] : ["reset"];
        },
        publish: (p) => p,
      },
      {
        authorizePublish: async (principal, topic, payload) => {
          log.push({ principal, topic, payload });
          return (payload as { wants: string }).wants === "ok" ? true : "ERR_NOPE";
        },
      },
    );
    const run = async (state: string) => {
      const items: unknown[] = [];
      const errors: Array<{ e: unknown; where: string }> = [];
      const s = Topics.of(c1).subscribe(
        "t",
        {
          clientState: () => state,
          handshakeItem: (i) => void items.push(i),
          publish: () => {},
        },
        { onError: (e, where) => errors.push({ e, where }) },
      );
      await s.ready;
      const out = { items, errors, lastError: s.lastError, pending: s.pending };
      s.close();
      await until(() => net.inFlight === 0, "quiet");
      return out;
    };
    const refused = await run("bad");
    expect(refused.items).toEqual(["reset"]);
    expect(refused.errors).toHaveLength(1);
    expect(refused.errors[0]!.e).toMatchObject({ code: "ERR_NOPE", topic: "t" });
    expect(refused.errors[0]!.where).toBe("subscription 't': handshake state refused");
    expect(refused.lastError?.code).toBe("ERR_NOPE");
    const allowed = await run("ok");
    expect(allowed.items).toEqual(["merged"]);
    expect(allowed.errors).toEqual([]);
    expect(allowed.lastError).toBe(null);
    const none = await run("nothing");
    expect(none.items).toEqual(["merged"]);
    expect(log).toEqual([
      { principal: "c1", topic: "t", payload: { wants: "bad" } },
      { cs: "bad", refused: "ERR_NOPE" },
      { principal: "c1", topic: "t", payload: { wants: "ok" } },
      { cs: "ok", refused: null },
      { cs: "nothing", refused: null },
    ]);
  });

  test("a subscriber that predates the rule takes the refusal for a refused publish (wire compatible)", async () => {
    const net = new SimNet();
    const hub = net.host("hub");
    const c1 = net.host("c1");
    // a hand-made subscriber that records the raw frames an owner sends it
    const frames: unknown[][] = [];
    let link: { send(p: unknown): boolean } | null = null;
    c1.attachProtocol("topics", {
      linkUp: (l) => {
        link = l;
      },
      linkDown: () => {},
      message: (_l, p) => void frames.push(p as unknown[]),
    });
    Topics.of(hub).register(
      "t",
      { contribution: (cs) => cs, handshake: () => ["reset"], publish: (p) => p },
      { authorizePublish: () => "ERR_NOPE" },
    );
    net.connect(c1, hub);
    await until(() => link !== null, "linked");
    link!.send([0, "t", 1, "mine"]);
    await until(() => frames.length === 2, "two frames");
    // ERR with seq 0 (no publish has it) and the handshake number, then the handshake as usual
    expect(frames[0]).toEqual([7, "t", "ERR_NOPE", expect.any(String), 0, 1]);
    expect(frames[1]).toEqual([1, "t", 1, 0, ["reset"]]);
    link!.send([2, "t", 1, 0]);
    await until(() => frames.length === 3, "done");
    expect(frames[2]).toEqual([3, "t", 1]);
  });

  test("a refused live publish is rolled back at once: one handshake for a run of refusals, reported once each", async () => {
    const { net, hub, hctx, clients } = world(["c1", "c2"]);
    const c1 = clients.c1!;
    const c2 = clients.c2!;
    let c2Allowed = true;
    const { g, calls } = gsetOwner(hub, hctx, (principal) =>
      principal !== "c2" || c2Allowed ? true : "ERR_NOT_LEASE_HOLDER",
    );
    net.connect(c1.host, hub);
    net.connect(c2.host, hub);
    const s1 = syncSignal(c1.host, "g", g, { context: c1.ctx });
    const s2 = syncSignal(c2.host, "g", g, { context: c2.ctx, onError: (e) => c2.errors.push(e) });
    await Promise.all([s1.ready, s2.ready]);
    const onC1 = history(c1.ctx, g);
    c2.ctx.set(g, c2.ctx.get(g).add("allowed"));
    await until(() => hctx.get(g).has("allowed"), "the allowed add");
    // the lease moves away: three writes, three publishes sent before the first refusal is back
    c2Allowed = false;
    const before = calls.length;
    for (const x of ["r1", "r2", "r3"]) {
      c2.ctx.set(g, c2.ctx.get(g).add(x));
      for (let i = 0; i < 5; i++) await Promise.resolve();
    }
    expect(c2.errors).toHaveLength(0);
    await until(() => net.inFlight === 0 && c2.ctx.get(s2.pending) === 0, "quiet");
    // rolled back to the owner's set, without waiting for a reconnect
    expect([...c2.ctx.get(g).values()].sort()).toEqual(["allowed", "hub"]);
    expect([...hctx.get(g).values()].sort()).toEqual(["allowed", "hub"]);
    expect(onC1.some((s) => s.has("r1") || s.has("r2") || s.has("r3"))).toBe(false);
    // three publishes judged, and the state of one rollback handshake: started by the first
    // refusal, its state carries the other two writes (a publish sent after a rollback's state
    // was taken and refused starts another)
    const judged = calls.slice(before);
    expect(judged.filter((c) => "d" in (c.payload as object)).length).toBe(3);
    expect(judged.filter((c) => "s" in (c.payload as object)).length).toBe(1);
    // each refusal reported once, with its code
    expect(c2.errors.length).toBe(3);
    for (const e of c2.errors) expect(e).toMatchObject({ code: "ERR_NOT_LEASE_HOLDER" });
  });
});
