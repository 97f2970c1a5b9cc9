/**
 * A subscribe refused with `ERR_NO_TOPIC` (no owner yet, or the owner closed the topic) retries on
 * the same link with exponential backoff, in virtual time on the small in-memory host: the delays,
 * what `ready` does meanwhile, `close()` and link drops during a pending retry, the opt-out, the
 * codes that stay final, and an owner that closes and comes back.
 */
import { createContext, signal } from "spindel";
import { describe, expect, test } from "vitest";
import { type Clock, createClock } from "../../../src/core/clock.js";
import {
  exportSignal,
  subscribeSignal,
  syncSignal,
  type TopicError,
  Topics,
} from "../../../src/distributed/sync/index.js";
import type { TopicSubscribeOptions } from "../../../src/distributed/sync/strategy.js";
import { TGSet } from "./gset.js";
import { type SimHost, SimNet } from "./sim.js";

async function until(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

/** How a promise settled so far. */
function watch(p: Promise<unknown>) {
  const w = { state: "pending" as "pending" | "resolved" | "rejected", error: undefined as unknown };
  p.then(
    () => (w.state = "resolved"),
    (e: unknown) => {
      w.state = "rejected";
      w.error = e;
    },
  );
  return w;
}

/**
 * A topic-layer subscriber that records the virtual time of each subscribe it sends and of each
 * `ERR_NO_TOPIC` it is told about.
 */
function probe(host: SimHost, topic: string, clock: Clock, opts: TopicSubscribeOptions) {
  const sent: number[] = [];
  const refused: number[] = [];
  const errors: unknown[] = [];
  const sub = Topics.of(host).subscribe(
    topic,
    {
      clientState: () => {
        sent.push(clock.now());
        return null;
      },
      handshakeItem: () => {},
      publish: () => {},
    },
    {
      clock,
      ...opts,
      onError: (e) => {
        errors.push(e);
        if ((e as TopicError).code === "ERR_NO_TOPIC") refused.push(clock.now());
      },
    },
  );
  /** the wait before each retry: from a refusal to the next subscribe */
  const delays = () => refused.slice(0, sent.length - 1).map((at, i) => sent[i + 1]! - at);
  return { sub, sent, refused, errors, delays };
}

/** A hub that speaks topics but owns none yet, and a client `c1` linked to it. */
function hubWithoutTopic() {
  const net = new SimNet();
  const hub = net.host("hub");
  Topics.of(hub);
  const c1 = net.host("c1");
  net.connect(c1, hub);
  return { net, hub, c1 };
}

const noOwner = { handshake: () => [], publish: (p: unknown) => p };

describe("ERR_NO_TOPIC is transient (virtual time)", () => {
  test("the backoff doubles from initialDelayMs, is capped at maxDelayMs, and starts again after a handshake", async () => {
    const { hub, c1 } = hubWithoutTopic();
    const clock = createClock("virtual");
    const p = probe(c1, "t", clock, { noTopicRetry: { initialDelayMs: 100, maxDelayMs: 1000, jitter: 0 } });
    const ready = watch(p.sub.ready);
    for (let i = 1; i <= 6; i++) {
      await until(() => p.refused.length === i, `refusal ${i}`);
      expect(p.sub.state).toBe("retrying");
      expect(p.sub.connected).toBe(false);
      expect(p.sub.lastError).toMatchObject({ code: "ERR_NO_TOPIC" });
      // exactly one timer: the pending subscribe (the stall timer went with the refused handshake)
      expect(clock.pending).toBe(1);
      expect(ready.state).toBe("pending");
      clock.advance(1000); // the longest delay: fires this one retry and nothing more
    }
    await until(() => p.refused.length === 7, "refusal 7");
    expect(p.delays()).toEqual([100, 200, 400, 800, 1000, 1000]);
    // the owner appears: the next retry joins
    const owned = Topics.of(hub).register("t", noOwner);
    clock.advance(1000);
    await p.sub.ready;
    expect(p.sub.state).toBe("live");
    expect(p.sub.lastError).toBeNull();
    expect(clock.pending).toBe(0);
    // the owner closes: refused again, and the backoff starts from initialDelayMs
    owned.close();
    await until(() => p.refused.length === 8, "refusal after close");
    expect(p.sub.state).toBe("retrying");
    clock.advance(1000);
    await until(() => p.sent.length === 9, "retry after close");
    expect(p.delays().at(-1)).toBe(100);
    p.sub.close();
  });

  test("jitter shortens each delay by up to its fraction, deterministically per peer and topic", async () => {
    const run = async () => {
      const net = new SimNet();
      const hub = net.host("hub");
      Topics.of(hub);
      const hosts = [net.host("c1"), net.host("c2")];
      const clock = createClock("virtual");
      const probes = hosts.map((h) => {
        net.connect(h, hub);
        return probe(h, "t", clock, { noTopicRetry: { initialDelayMs: 100, maxDelayMs: 800, jitter: 0.5 } });
      });
      for (let i = 1; i <= 5; i++) {
        await until(() => probes.every((p) => p.refused.length === i), `refusal ${i}`);
        clock.advance(800);
      }
      await until(() => probes.every((p) => p.sent.length === 6), "last retry");
      for (const p of probes) p.sub.close();
      return probes.map((p) => p.delays());
    };
    const [a, b] = await run();
    const nominal = [100, 200, 400, 800, 800];
    for (const d of [a!, b!])
      d.forEach((ms, i) => {
        expect(ms).toBeGreaterThanOrEqual(nominal[i]! / 2);
        expect(ms).toBeLessThanOrEqual(nominal[i]!);
      });
    expect(a).not.toEqual(b); // two peers spread out
    expect(await run()).toEqual([a, b]); // the same on every run
  });

  test("ready stays pending while retrying; lastError reports each ERR_NO_TOPIC; close() cancels the retry timer and rejects ready with ERR_CLOSED", async () => {
    const { net, c1 } = hubWithoutTopic();
    const ctx = createContext({ clock: "virtual" });
    const errors: unknown[] = [];
    const c = syncSignal(c1, "v", signal(0), { context: ctx, onError: (e) => errors.push(e) });
    const ready = watch(c.ready);
    await until(() => errors.length === 1, "the first refusal");
    expect(errors[0]).toMatchObject({ code: "ERR_NO_TOPIC" });
    expect(ctx.get(c.lastError)).toMatchObject({ code: "ERR_NO_TOPIC" });
    expect(ctx.get(c.connected)).toBe(false);
    expect(ctx.clock.pending).toBe(1);
    ctx.advanceTime(100); // the default first delay, at most
    await until(() => errors.length === 2, "the second refusal");
    expect(ready.state).toBe("pending");
    const frames = net.frames;
    c.close();
    expect(ctx.clock.pending).toBe(0);
    await until(() => ready.state !== "pending", "ready settles");
    expect(ready.state).toBe("rejected");
    expect(ready.error).toMatchObject({ code: "ERR_CLOSED" });
    // nothing more goes out, whatever the time
    ctx.advanceTime(60_000);
    await new Promise((r) => setImmediate(r));
    expect(net.frames).toBe(frames);
  });

  test("a link drop cancels the pending retry; the reconnect subscribes at once and finds the owner", async () => {
    const { net, hub, c1 } = hubWithoutTopic();
    const ctx = createContext({ clock: "virtual" });
    const hctx = createContext();
    const v = signal("initial");
    const errors: unknown[] = [];
    const c = syncSignal(c1, "v", v, { context: ctx, onError: (e) => errors.push(e) });
    await until(() => errors.length === 1, "refusal");
    expect(ctx.clock.pending).toBe(1);
    net.disconnect(c1, hub);
    expect(ctx.clock.pending).toBe(0);
    hctx.set(v, "from-owner");
    syncSignal(hub, "v", v, { owner: true, context: hctx });
    net.connect(c1, hub); // no time passes: the new link's handshake does not wait for a backoff
    await c.ready;
    expect(ctx.get(v)).toBe("from-owner");
    expect(ctx.get(c.lastError)).toBeNull();
    expect(ctx.get(c.caughtUp)).toBe(true);
  });

  test("noTopicRetry: false refuses at once, as before: ready rejects with ERR_NO_TOPIC, no timer, no retry", async () => {
    const { net, hub, c1 } = hubWithoutTopic();
    const ctx = createContext({ clock: "virtual" });
    const c = syncSignal(c1, "v", signal(0), { context: ctx, noTopicRetry: false });
    await expect(c.ready).rejects.toMatchObject({ code: "ERR_NO_TOPIC" });
    expect(ctx.get(c.lastError)).toMatchObject({ code: "ERR_NO_TOPIC" });
    expect(ctx.clock.pending).toBe(0);
    syncSignal(hub, "v", signal(0), { owner: true, context: createContext() });
    const frames = net.frames;
    ctx.advanceTime(60_000);
    await new Promise((r) => setImmediate(r));
    expect(net.frames).toBe(frames);
    expect(ctx.get(c.caughtUp)).toBe(false);
  });

  test("maxAttempts: after that many retries the refusal is final and ready rejects with ERR_NO_TOPIC", async () => {
    const { c1 } = hubWithoutTopic();
    const ctx = createContext({ clock: "virtual" });
    const errors: unknown[] = [];
    const c = subscribeSignal(c1, "v", signal(0), {
      context: ctx,
      noTopicRetry: { initialDelayMs: 10, maxDelayMs: 10, maxAttempts: 2 },
      onError: (e) => errors.push(e),
    });
    const ready = watch(c.ready);
    for (let i = 1; i <= 2; i++) {
      await until(() => errors.length === i, `refusal ${i}`);
      expect(ready.state).toBe("pending");
      ctx.advanceTime(10);
    }
    await until(() => ready.state !== "pending", "ready settles");
    expect(ready.error).toMatchObject({ code: "ERR_NO_TOPIC" });
    expect(errors).toHaveLength(3);
    expect(ctx.clock.pending).toBe(0);
  });

  test("a final code is not retried: a subscriber retrying after ERR_NO_TOPIC stops at ERR_UNAUTHORIZED", async () => {
    const { net, hub, c1 } = hubWithoutTopic();
    const ctx = createContext({ clock: "virtual" });
    const errors: TopicError[] = [];
    const c = syncSignal(c1, "v", signal(0), {
      context: ctx,
      noTopicRetry: { initialDelayMs: 50, jitter: 0 },
      onError: (e) => errors.push(e as TopicError),
    });
    const ready = watch(c.ready);
    await until(() => errors.length === 1, "no topic yet");
    expect(ready.state).toBe("pending");
    // the owner appears and refuses this subscriber
    syncSignal(hub, "v", signal(0), {
      owner: true,
      context: createContext(),
      authorizeSubscribe: () => false,
    });
    ctx.advanceTime(50);
    await until(() => ready.state !== "pending", "ready settles");
    expect(ready.error).toMatchObject({ code: "ERR_UNAUTHORIZED" });
    expect(errors.map((e) => e.code)).toEqual(["ERR_NO_TOPIC", "ERR_UNAUTHORIZED"]);
    expect(ctx.get(c.lastError)).toMatchObject({ code: "ERR_UNAUTHORIZED" });
    expect(ctx.clock.pending).toBe(0);
    const frames = net.frames;
    ctx.advanceTime(60_000);
    await new Promise((r) => setImmediate(r));
    expect(net.frames).toBe(frames);
  });

  test("the owner closes: subscribers retry, keep writing, and re-join a new owner with nothing lost", async () => {
    const net = new SimNet();
    const hub = net.host("hub");
    const c1 = net.host("c1");
    const c2 = net.host("c2");
    net.connect(c1, hub);
    net.connect(c2, hub);
    const clock = createClock("virtual");
    const g = signal(TGSet.empty());
    const hctx = createContext({ clock, name: "hub" });
    const ctx1 = createContext({ clock, name: "c1" });
    const ctx2 = createContext({ clock, name: "c2" });
    hctx.set(g, TGSet.empty().add("first-owner"));
    const owner = syncSignal(hub, "g", g, { owner: true, context: hctx });
    const retry = { initialDelayMs: 100, maxDelayMs: 100 };
    const refusals: unknown[] = [];
    const a = syncSignal(c1, "g", g, {
      context: ctx1,
      noTopicRetry: retry,
      onError: (e) => refusals.push(e),
    });
    const m = subscribeSignal(c2, "g", g, { context: ctx2, noTopicRetry: retry });
    await Promise.all([a.ready, m.ready]);
    expect(ctx2.get(g).values()).toEqual(["first-owner"]);
    owner.close();
    await until(() => ctx1.get(a.lastError)?.code === "ERR_NO_TOPIC", "c1 told the topic closed");
    expect(refusals).toHaveLength(1);
    await until(() => ctx2.get(m.lastError)?.code === "ERR_NO_TOPIC", "c2 told the topic closed");
    expect(ctx1.get(a.connected)).toBe(false);
    expect(ctx2.get(m.caughtUp)).toBe(false);
    // written while no owner exists: the next handshake carries it
    ctx1.set(g, ctx1.get(g).add("while-closed"));
    await until(() => ctx1.get(a.pending) === 1, "pending while retrying");
    // nobody owns it for a while: still retrying
    clock.advance(100);
    await until(() => refusals.length === 2, "refused again");
    expect(refusals[1]).toMatchObject({ code: "ERR_NO_TOPIC" });
    expect(ctx1.get(a.caughtUp)).toBe(false);
    // a new owner (a fresh context: it knows nothing) registers the topic
    const h2 = createContext({ clock, name: "hub-2" });
    h2.set(g, TGSet.empty().add("second-owner"));
    syncSignal(hub, "g", g, { owner: true, context: h2 });
    clock.advance(100);
    await until(() => ctx1.get(a.caughtUp) && ctx2.get(m.caughtUp), "both re-joined");
    const all = ["first-owner", "second-owner", "while-closed"];
    await until(() => h2.get(g).size === 3 && ctx2.get(g).size === 3, "the union everywhere");
    expect(h2.get(g).values()).toEqual(all);
    expect(ctx1.get(g).values()).toEqual(all);
    expect(ctx2.get(g).values()).toEqual(all);
    expect(ctx1.get(a.pending)).toBe(0);
    expect(ctx1.get(a.lastError)).toBeNull();
    // live again, both ways
    h2.set(g, h2.get(g).add("live"));
    await until(() => ctx1.get(g).has("live") && ctx2.get(g).has("live"), "live from the new owner");
  });

  test("an exported topic closed and exported again: a mirror re-joins it", async () => {
    const { hub, c1 } = hubWithoutTopic();
    const clock = createClock("virtual");
    const v = signal(0);
    const hctx = createContext({ clock });
    const ctx = createContext({ clock });
    hctx.set(v, 1);
    const e = exportSignal(hub, "v", v, { context: hctx });
    const m = subscribeSignal(c1, "v", v, { context: ctx, noTopicRetry: { initialDelayMs: 10, jitter: 0 } });
    await m.ready;
    e.close();
    await until(() => ctx.get(m.lastError)?.code === "ERR_NO_TOPIC", "told the topic closed");
    hctx.set(v, 2);
    exportSignal(hub, "v", v, { context: hctx });
    clock.advance(10);
    await until(() => ctx.get(m.caughtUp), "re-joined");
    await until(() => ctx.get(v) === 2, "the new export's value");
  });

  test("an owner peer that had never used topics: the subscribe it dropped is sent again when its topics come up", async () => {
    const net = new SimNet();
    const hub = net.host("hub"); // no protocol "topics" attached: what arrives for it is dropped
    const c1 = net.host("c1");
    net.connect(c1, hub);
    const ctx = createContext({ clock: "virtual" });
    const v = signal("initial");
    const c = syncSignal(c1, "v", v, { context: ctx });
    // the topic layer's own default (no ERR_NO_TOPIC retry): the resend does not depend on it
    const raw = Topics.of(c1).subscribe("raw", { clientState: () => null, handshakeItem() {}, publish() {} });
    const ready = watch(c.ready);
    await until(() => net.inFlight === 0, "the subscribes dropped");
    await new Promise((r) => setImmediate(r));
    expect(ready.state).toBe("pending");
    expect(ctx.get(c.connected)).toBe(true); // as far as it knows, its subscribe is on its way
    const hctx = createContext();
    hctx.set(v, "from-owner");
    syncSignal(hub, "v", v, { owner: true, context: hctx });
    Topics.of(hub).register("raw", noOwner);
    // no time passes: the owner's topics tell the link to subscribe again
    await c.ready;
    await raw.ready;
    expect(ctx.get(v)).toBe("from-owner");
    ctx.set(v, "from-client");
    await until(() => hctx.get(v) === "from-client", "the client's write at the owner");
  });

  test("bad noTopicRetry options are refused with ERR_INVALID_ARGUMENT", () => {
    const net = new SimNet();
    const c1 = net.host("c1");
    const ctx = createContext();
    const bad: unknown[] = [
      "yes",
      0,
      null,
      { initialDelayMs: 0 },
      { initialDelayMs: -5 },
      { initialDelayMs: Number.NaN },
      { maxDelayMs: Number.POSITIVE_INFINITY },
      { maxDelayMs: 2 ** 31 },
      { initialDelayMs: 500, maxDelayMs: 100 },
      { factor: 0.5 },
      { factor: Number.POSITIVE_INFINITY },
      { jitter: -0.1 },
      { jitter: 1.5 },
      { maxAttempts: -1 },
      { maxAttempts: 1.5 },
    ];
    for (const [i, noTopicRetry] of bad.entries()) {
      const opts = { context: ctx, noTopicRetry } as unknown as Parameters<typeof syncSignal>[3];
      expect(() => syncSignal(c1, `s${i}`, signal(0), opts), JSON.stringify(noTopicRetry)).toThrow(
        expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }),
      );
      expect(() =>
        Topics.of(c1).subscribe(
          `t${i}`,
          { clientState: () => null, handshakeItem() {}, publish() {} },
          {
            noTopicRetry: noTopicRetry as TopicSubscribeOptions["noTopicRetry"],
          },
        ),
      ).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }));
    }
    // checked on the owner too, where it is otherwise ignored
    expect(() =>
      syncSignal(c1, "o", signal(0), { owner: true, context: ctx, noTopicRetry: { jitter: 2 } }),
    ).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }));
    // nothing was left half-created
    expect(Topics.of(c1).has("s0") || Topics.of(c1).has("t0") || Topics.of(c1).has("o")).toBe(false);
    // good ones pass: a smaller cap than the default first delay lowers that delay
    for (const ok of [true, false, {}, { maxDelayMs: 50 }, { maxAttempts: 0 }, { jitter: 1, factor: 1 }])
      syncSignal(c1, `ok-${JSON.stringify(ok)}`, signal(0), { context: ctx, noTopicRetry: ok }).close();
  });
});
