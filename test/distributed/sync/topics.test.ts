import { createContext, signal } from "spindel";
import { describe, expect, test } from "vitest";
import { exportSignal, subscribeSignal, syncSignal } from "../../../src/distributed/sync/index.js";
import { TGSet } from "./gset.js";
import { SimNet } from "./sim.js";

async function until(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

describe("signal sync over the in-memory net", () => {
  test("two peers: LWW value both ways", async () => {
    const net = new SimNet();
    const hub = net.host("hub");
    const c1 = net.host("c1");
    net.connect(c1, hub);
    const hctx = createContext({ name: "hub" });
    const cctx = createContext({ name: "c1" });
    const v = signal("a");
    const s = syncSignal(hub, "v", v, { owner: true, context: hctx });
    const c = syncSignal(c1, "v", v, { context: cctx });
    await s.ready;
    await c.ready;
    expect(cctx.get(v)).toBe("a");
    expect(cctx.get(c.caughtUp)).toBe(true);
    cctx.set(v, "b");
    await until(() => hctx.get(v) === "b", "hub to see b");
    await until(() => cctx.get(c.pending) === 0, "ack");
    hctx.set(v, "c");
    await until(() => cctx.get(v) === "c", "client to see c");
  });

  test("convergent: both sides wrote before connecting end with the union", async () => {
    const net = new SimNet();
    const hub = net.host("hub");
    const c1 = net.host("c1");
    const c2 = net.host("c2");
    const ctxs = [createContext(), createContext(), createContext()];
    const g = signal(TGSet.empty());
    ctxs[0]!.set(g, TGSet.empty().add("h"));
    ctxs[1]!.set(g, TGSet.empty().add("x"));
    ctxs[2]!.set(g, TGSet.empty().add("y"));
    syncSignal(hub, "g", g, { owner: true, context: ctxs[0] });
    const a = syncSignal(c1, "g", g, { context: ctxs[1] });
    const b = syncSignal(c2, "g", g, { context: ctxs[2] });
    net.connect(c1, hub);
    await a.ready;
    net.connect(c2, hub);
    await b.ready;
    await until(() => ctxs.every((c) => c.get(g).size === 3), "union everywhere");
    await until(() => net.inFlight === 0, "quiet");
    const before = net.frames;
    ctxs[1]!.set(g, ctxs[1]!.get(g).add("z"));
    await until(() => ctxs.every((c) => c.get(g).has("z")), "z everywhere");
    await until(() => net.inFlight === 0, "quiet");
    await new Promise((r) => setImmediate(r));
    // publish, relay, ack: nothing more (no echo)
    expect(net.frames - before).toBe(3);
  });

  test("export refuses inbound writes; subscribe never publishes", async () => {
    const net = new SimNet();
    const hub = net.host("hub");
    const c1 = net.host("c1");
    net.connect(c1, hub);
    const hctx = createContext();
    const cctx = createContext();
    const v = signal(1);
    hctx.set(v, 5);
    exportSignal(hub, "v", v, { context: hctx });
    const errors: unknown[] = [];
    const c = syncSignal(c1, "v", v, { context: cctx, onError: (e) => errors.push(e) });
    await c.ready;
    expect(cctx.get(v)).toBe(5);
    cctx.set(v, 7);
    await until(() => errors.length > 0, "refusal");
    expect(errors[0]).toMatchObject({ code: "ERR_UNAUTHORIZED" });
    expect(hctx.get(v)).toBe(5);
    expect(cctx.get(c.pending)).toBe(0);
    const c2 = net.host("c2");
    net.connect(c2, hub);
    const mctx = createContext();
    const m = subscribeSignal(c2, "v", v, { context: mctx });
    await m.ready;
    expect(mctx.get(v)).toBe(5);
    const frames = net.frames;
    mctx.set(v, 9);
    await new Promise((r) => setImmediate(r));
    expect(net.frames).toBe(frames);
  });
});
