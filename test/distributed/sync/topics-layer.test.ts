import { createContext, signal } from "spindel";
import { describe, expect, test } from "vitest";
import { createClock } from "../../../src/core/clock.js";
import { syncSignal, TopicError, Topics } from "../../../src/distributed/sync/index.js";
import { TGSet } from "./gset.js";
import { drain, SimNet } from "./sim.js";

async function until(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

/** A topic whose owner hands out `n` numbered items and logs publishes. */
function counterTopic(n: number) {
  const seen: unknown[] = [];
  return {
    seen,
    strategy: {
      handshake: () => Array.from({ length: n }, (_, i) => i),
      publish: (p: unknown) => {
        seen.push(p);
        return p;
      },
    },
  };
}

function collector() {
  const items: unknown[] = [];
  const pubs: unknown[] = [];
  return {
    items,
    pubs,
    strategy: {
      clientState: () => null,
      handshakeItem: (i: unknown) => {
        items.push(i);
      },
      publish: (p: unknown) => {
        pubs.push(p);
      },
    },
  };
}

describe("topics", () => {
  test("the handshake streams in acknowledged batches; live publishes during it are applied after", async () => {
    const net = new SimNet();
    const hub = net.host("hub");
    const c1 = net.host("c1");
    net.connect(c1, hub);
    const t = counterTopic(45);
    const owned = Topics.of(hub).register("n", t.strategy, { batchSize: 20 });
    const col = collector();
    const s = Topics.of(c1).subscribe("n", col.strategy);
    // published after the subscriber was admitted, before its handshake finished
    await until(() => owned.subscribers.length === 1, "admitted");
    owned.publish("live");
    await s.ready;
    expect(col.items).toEqual(Array.from({ length: 45 }, (_, i) => i));
    expect(col.pubs).toEqual(["live"]);
    expect(s.caughtUp).toBe(true);
  });

  test("an unacknowledged batch fails the handshake with ERR_TIMEOUT (virtual time)", async () => {
    const net = new SimNet();
    const hub = net.host("hub");
    const c1 = net.host("c1");
    net.connect(c1, hub);
    const clock = createClock("virtual");
    const t = counterTopic(3);
    Topics.of(hub).register("n", t.strategy, { batchSize: 2, ackTimeoutMs: 1000, clock });
    // a subscriber whose first item never finishes applying: it never acknowledges
    const s = Topics.of(c1).subscribe("n", {
      clientState: () => null,
      handshakeItem: () => new Promise<void>(() => {}),
      publish: () => {},
    });
    await until(() => net.inFlight === 0 && s.state === "subscribing", "batch sent");
    await new Promise((r) => setImmediate(r));
    clock.advance(1000);
    await expect(s.ready).rejects.toMatchObject({ code: "ERR_TIMEOUT" });
  });

  test("authorization refusals carry the code the hook chose; other topics keep working", async () => {
    const net = new SimNet();
    const hub = net.host("hub");
    const c1 = net.host("c1");
    net.connect(c1, hub);
    const topics = Topics.of(hub);
    topics.register("closed", counterTopic(0).strategy, { authorizeSubscribe: () => false });
    topics.register("lease", counterTopic(0).strategy, {
      authorizePublish: (principal) => (principal === "c1" ? "ERR_NOT_LEASE_HOLDER" : true),
    });
    topics.register("thrown", counterTopic(0).strategy, {
      authorizeSubscribe: async () => {
        throw new TopicError("ERR_FORBIDDEN_ROOM", "not in this room");
      },
    });
    const open = counterTopic(1);
    topics.register("open", open.strategy);
    const mine = Topics.of(c1);
    await expect(mine.subscribe("closed", collector().strategy).ready).rejects.toMatchObject({
      code: "ERR_UNAUTHORIZED",
    });
    await expect(mine.subscribe("thrown", collector().strategy).ready).rejects.toMatchObject({
      code: "ERR_FORBIDDEN_ROOM",
      message: "not in this room",
    });
    await expect(mine.subscribe("nowhere", collector().strategy).ready).rejects.toMatchObject({
      code: "ERR_NO_TOPIC",
    });
    const errors: unknown[] = [];
    const lease = mine.subscribe("lease", { ...collector().strategy }, { onError: (e) => errors.push(e) });
    await lease.ready;
    lease.publish("x");
    expect(lease.pending).toBe(1);
    await until(() => errors.length === 1, "refusal");
    expect(errors[0]).toMatchObject({ code: "ERR_NOT_LEASE_HOLDER" });
    expect(lease.pending).toBe(0);
    const o = mine.subscribe("open", collector().strategy);
    await o.ready;
    o.publish("y");
    await until(() => o.pending === 0, "ack");
    expect(open.seen).toEqual(["y"]);
  });

  test("malformed topic frames get a typed error reply; the link and other topics keep working", async () => {
    const net = new SimNet();
    const hub = net.host("hub");
    const c1 = net.host("c1");
    net.connect(c1, hub);
    const t = counterTopic(1);
    Topics.of(hub).register("ok", t.strategy);
    // a raw protocol on c1 sends junk under the topics protocol name
    const replies: unknown[] = [];
    const raw = net.host("raw");
    raw.attachProtocol("topics", {
      linkUp: () => {},
      linkDown: () => {},
      message: (_l, p) => {
        replies.push(p);
      },
    });
    net.connect(raw, hub);
    const link = raw.links.get("hub")!;
    link.send("junk");
    link.send([4, "ok"]);
    link.send([99, "ok", 1]);
    link.send([4, "ok", 1, { anything: 1 }]);
    await until(() => replies.length === 4, "four replies");
    expect(replies).toEqual([
      [7, null, "ERR_MALFORMED", "a topic message is an array", null, null],
      [7, "ok", "ERR_MALFORMED", "bad publish", null, null],
      [7, "ok", "ERR_MALFORMED", "unknown topic message kind 99", null, null],
      [7, "ok", "ERR_NOT_SUBSCRIBED", "publish on 'ok' without a subscription", 1, null],
    ]);
    const col = collector();
    const s = Topics.of(c1).subscribe("ok", col.strategy);
    await s.ready;
    expect(col.items).toEqual([0]);
  });

  test("creating a topic twice or with bad options is refused", () => {
    const net = new SimNet();
    const hub = net.host("hub");
    const topics = Topics.of(hub);
    topics.register("a", counterTopic(0).strategy);
    expect(() => topics.register("a", counterTopic(0).strategy)).toThrow(
      expect.objectContaining({ code: "ERR_TOPIC_EXISTS" }),
    );
    expect(() => topics.subscribe("a", collector().strategy)).toThrow(
      expect.objectContaining({ code: "ERR_TOPIC_EXISTS" }),
    );
    expect(() => topics.register("b", counterTopic(0).strategy, { batchSize: 0 })).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }),
    );
    const ctx = createContext();
    const v = signal(0);
    expect(() => syncSignal(hub, "c", v, { owner: true, via: "x", context: ctx })).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }),
    );
    expect(() => syncSignal(hub, "d", v, { authorizeSubscribe: () => true, context: ctx })).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }),
    );
  });
});

describe("signal sync semantics", () => {
  test("a third peer learns a joiner's prior writes (δ path)", async () => {
    const net = new SimNet();
    const [hub, a, b] = [net.host("hub"), net.host("a"), net.host("b")];
    const [ch, ca, cb] = [createContext(), createContext(), createContext()];
    const g = signal(TGSet.empty());
    syncSignal(hub, "g", g, { owner: true, context: ch });
    const sa = syncSignal(a, "g", g, { context: ca });
    net.connect(a, hub);
    await sa.ready;
    cb.set(g, TGSet.empty().add("b-offline"));
    const sb = syncSignal(b, "g", g, { context: cb });
    net.connect(b, hub);
    await sb.ready;
    await until(() => ca.get(g).has("b-offline"), "a learns b's prior write");
    expect(ch.get(g).values()).toEqual(["b-offline"]);
  });

  test("LWW: the owner never regresses to a joiner's older value; a newer one wins and is relayed", async () => {
    let now = 1000;
    const net = new SimNet();
    const [hub, a, b] = [net.host("hub"), net.host("a"), net.host("b")];
    const mk = () => createContext({ clock: "virtual" });
    const [ch, ca, cb] = [mk(), mk(), mk()];
    const v = signal("init");
    // stamps come from each context's (virtual) clock
    ch.advanceTime(now);
    ca.advanceTime(now);
    cb.advanceTime(now);
    const sa = syncSignal(a, "v", v, { context: ca });
    ca.set(v, "old-from-a");
    ch.advanceTime(10);
    syncSignal(hub, "v", v, { owner: true, context: ch });
    ch.set(v, "newer-on-hub");
    net.connect(a, hub);
    await sa.ready;
    expect(ch.get(v)).toBe("newer-on-hub");
    expect(ca.get(v)).toBe("newer-on-hub");
    now += 100;
    cb.advanceTime(100);
    const sb = syncSignal(b, "v", v, { context: cb });
    // a write made before connecting (the value present at creation is no write: it has no stamp)
    cb.set(v, "newest-from-b");
    net.connect(b, hub);
    await sb.ready;
    await until(() => ca.get(v) === "newest-from-b", "relayed to a");
    expect(ch.get(v)).toBe("newest-from-b");
  });

  test("LWW with concurrent writers converges to one value everywhere", async () => {
    const net = new SimNet("step", () => 0.5);
    const [hub, a, b] = [net.host("hub"), net.host("a"), net.host("b")];
    const ctxs = [createContext(), createContext(), createContext()];
    const v = signal(0);
    syncSignal(hub, "v", v, { owner: true, context: ctxs[0] });
    syncSignal(a, "v", v, { context: ctxs[1] });
    syncSignal(b, "v", v, { context: ctxs[2] });
    net.connect(a, hub);
    net.connect(b, hub);
    await drain(net);
    ctxs[1]!.set(v, 1);
    ctxs[2]!.set(v, 2);
    ctxs[0]!.set(v, 3);
    await drain(net);
    const vals = ctxs.map((c) => c.get(v));
    expect(new Set(vals).size).toBe(1);
  });

  test("reconnect after writes on both sides while apart: nothing is lost, pending drains", async () => {
    const net = new SimNet();
    const [hub, a] = [net.host("hub"), net.host("a")];
    const [ch, ca] = [createContext(), createContext()];
    const g = signal(TGSet.empty());
    syncSignal(hub, "g", g, { owner: true, context: ch });
    const sa = syncSignal(a, "g", g, { context: ca });
    net.connect(a, hub);
    await sa.ready;
    net.disconnect(a, hub);
    expect(ca.get(sa.connected)).toBe(false);
    ca.set(g, ca.get(g).add("a1"));
    ca.set(g, ca.get(g).add("a2"));
    ch.set(g, ch.get(g).add("h1"));
    await Promise.resolve();
    // the two writes of one tick travel as one publish, pending until a handshake carries it
    expect(ca.get(sa.pending)).toBe(1);
    net.connect(a, hub);
    await until(() => ca.get(sa.caughtUp), "caught up again");
    expect(ca.get(g).values()).toEqual(["a1", "a2", "h1"]);
    await until(() => ch.get(g).size === 3, "hub has all");
    expect(ca.get(sa.pending)).toBe(0);
  });

  test("incompatible sides (δ vs LWW) are refused with ERR_INCOMPATIBLE", async () => {
    const net = new SimNet();
    const [hub, a] = [net.host("hub"), net.host("a")];
    syncSignal(hub, "x", signal(TGSet.empty()), { owner: true, context: createContext() });
    const s = syncSignal(a, "x", signal(1), { context: createContext() });
    net.connect(a, hub);
    await expect(s.ready).rejects.toMatchObject({ code: "ERR_INCOMPATIBLE" });
  });
});
