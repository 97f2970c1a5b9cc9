/**
 * The protocol seam (`attachProtocol`) and peers over the in-memory network: payloads framed as
 * `[8, protocol, payload]`, routed by name, linkUp/linkDown with the link's up and down, unknown
 * names answered once and counted, oversize payloads refused at the sender with the link kept.
 */
import { createContext } from "spindel";
import { invokeRemote, Peer, type ProtocolHandler, type ProtocolLink } from "spindel/distributed";
import { SimNetwork } from "spindel/distributed/testing";
import { describe, expect, test } from "vitest";
import { defineRemote, eventually, hub, track, within } from "./helpers.js";

const add = defineRemote(["x", "y"], (x: number, y: number) => () => x + y, "proto-add");

interface Recorded {
  handler: ProtocolHandler;
  up: ProtocolLink[];
  down: ProtocolLink[];
  got: { from: string; payload: unknown }[];
}

function recorder(onMessage?: (link: ProtocolLink, payload: unknown) => void): Recorded {
  const r: Recorded = {
    up: [],
    down: [],
    got: [],
    handler: {
      linkUp: (l) => r.up.push(l),
      linkDown: (l) => r.down.push(l),
      message: (l, p) => {
        r.got.push({ from: l.peerId, payload: p });
        onMessage?.(l, p);
      },
    },
  };
  return r;
}

type OnError = (e: unknown, where: string) => void;

async function memPair(net = new SimNetwork({ seed: 3 }), principal: unknown = undefined, onError?: OnError) {
  const h = track(
    await Peer.listen({
      id: "hub",
      transport: net.transport,
      context: createContext({ name: "hub" }),
      ...(principal !== undefined ? { authenticate: () => principal } : {}),
    }),
  );
  const c = track(
    await Peer.connect({
      id: "c1",
      url: h.url!,
      transport: net.transport,
      context: createContext({ name: "c1" }),
      ...(onError !== undefined ? { onError } : {}),
    }),
  );
  return { h, c, net };
}

describe("peers over the in-memory network", () => {
  test("a listener is at mem://<id>; calls go both ways", async () => {
    const { h, c } = await memPair();
    expect(h.url).toBe("mem://hub");
    const ctx = createContext();
    expect(await ctx.value(invokeRemote(add, c.remote("hub"), [2, 3]))).toBe(5);
    await eventually(() => h.isConnected("c1"), "the hub sees c1");
    expect(await ctx.value(invokeRemote(add, h.remote("c1"), [4, 5]))).toBe(9);
  });

  test("the same seed and the same traffic give the same trace", async () => {
    const trace = async (seed: number) => {
      const net = new SimNetwork({ seed, minDelayMs: 0, maxDelayMs: 3 });
      const { h, c } = await memPair(net);
      const ctx = createContext();
      const order: number[] = [];
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          ctx.value(invokeRemote(add, c.remote("hub"), [i, 0])).then((v) => order.push(v as number)),
        ),
      );
      await h.close();
      await c.close();
      return { order, stats: { ...net.stats } };
    };
    const a = await trace(11);
    const b = await trace(11);
    expect(a).toEqual(b);
  });

  test("a crashed listener is restarted at the same address; a reconnecting client comes back", async () => {
    const net = new SimNetwork({ seed: 5 });
    const h1 = track(await Peer.listen({ id: "hub", transport: net.transport, context: createContext() }));
    const c = track(
      await Peer.connect({
        id: "c1",
        url: h1.url!,
        transport: net.transport,
        reconnect: { initialDelayMs: 1, maxDelayMs: 5 },
      }),
    );
    expect(net.crash("hub")).toBeGreaterThan(0);
    await eventually(() => !c.isConnected("hub"), "c1 sees the link drop");
    await h1.close();
    const h2 = track(await Peer.listen({ id: "hub", transport: net.transport, context: createContext() }));
    await eventually(
      () => c.isConnected("hub") && h2.isConnected("c1"),
      "c1 reconnects to the restarted hub",
    );
    const ctx = createContext();
    expect(await ctx.value(invokeRemote(add, c.remote("hub"), [1, 1]))).toBe(2);
  });

  test("a partition cuts messages; a call across it times out, and heals", async () => {
    const { c, net } = await memPair();
    net.partition(["c1"], ["hub"]);
    const ctx = createContext();
    const err = await ctx
      .value(invokeRemote(add, c.remote("hub", { timeoutMs: 50 }), [1, 2]))
      .catch((e) => e);
    expect((err as { code?: string }).code).toBe("ERR_TIMEOUT");
    expect(net.stats.dropped).toBeGreaterThan(0);
    net.heal();
    expect(await ctx.value(invokeRemote(add, c.remote("hub"), [1, 2]))).toBe(3);
  });
});

describe("attachProtocol", () => {
  for (const kind of ["memory", "ws"] as const) {
    const pair = async (principal?: unknown, onError?: OnError) => {
      if (kind === "memory") return memPair(undefined, principal, onError);
      const { peer: h } = await hub(principal !== undefined ? { authenticate: () => principal } : {});
      const c = track(
        await Peer.connect({
          id: "c1",
          url: h.url,
          context: createContext({ name: "c1" }),
          ...(onError !== undefined ? { onError } : {}),
        }),
      );
      return { h, c };
    };

    test(`${kind}: linkUp on both ends with dialed and principal, payloads in order, linkDown on close`, async () => {
      const onHub = recorder((link, p) => {
        link.send({ echo: p });
      });
      const onClient = recorder();
      const { h, c } = await pair({ user: "alice" });
      h.attachProtocol("echo", onHub.handler);
      c.attachProtocol("echo", onClient.handler);
      await eventually(() => onHub.up.length === 1 && onClient.up.length === 1, "linkUp on both ends");
      expect(onHub.up[0]).toMatchObject({ peerId: "c1", dialed: false, principal: { user: "alice" } });
      expect(onClient.up[0]).toMatchObject({ peerId: "hub", dialed: true, principal: "hub" });
      for (let i = 0; i < 50; i++) expect(onClient.up[0]!.send({ i, bytes: new Uint8Array([i]) })).toBe(true);
      await eventually(() => onClient.got.length === 50, "50 echoes");
      expect(onHub.got.map((g) => (g.payload as { i: number }).i)).toEqual(
        Array.from({ length: 50 }, (_, i) => i),
      );
      expect(onClient.got[7]).toEqual({
        from: "hub",
        payload: { echo: { i: 7, bytes: new Uint8Array([7]) } },
      });
      c.disconnect("hub");
      await eventually(() => onHub.down.length === 1 && onClient.down.length === 1, "linkDown on both ends");
      expect(onClient.down[0]).toBe(onClient.up[0]);
      expect(onClient.up[0]!.send("late")).toBe(false);
    });

    test(`${kind}: a protocol nobody attached is answered once with ERR_NO_FUNCTION and counted after`, async () => {
      const remote: { code?: string; message?: string }[] = [];
      const { h, c } = await pair(undefined, (e, where) => {
        if (where === "remote") remote.push(e as { code?: string });
      });
      const onClient = recorder();
      const detach = c.attachProtocol("lonely", onClient.handler);
      await eventually(() => onClient.up.length === 1, "linkUp");
      for (let i = 0; i < 5; i++) onClient.up[0]!.send(i);
      await eventually(() => h.droppedProtocolFrames === 4, "4 dropped after the first answered");
      await eventually(() => remote.length === 1, "the answer reaches the sender");
      expect(remote[0]).toMatchObject({ code: "ERR_NO_FUNCTION" });
      expect(remote[0]!.message).toContain("no protocol 'lonely'");
      expect(c.isConnected("hub")).toBe(true);
      detach();
      expect(() => c.attachProtocol("lonely", onClient.handler)).not.toThrow();
    });

    test(`${kind}: attached late, a link whose remote sent payloads that were dropped says \`missed\``, async () => {
      const remote: unknown[] = [];
      const { h, c } = await pair(undefined, (e, where) => {
        if (where === "remote") remote.push(e);
      });
      const onClient = recorder();
      c.attachProtocol("early", onClient.handler);
      await eventually(() => onClient.up.length === 1, "linkUp");
      onClient.up[0]!.send("before the hub attached");
      await eventually(() => remote.length === 1, "the hub's answer");
      const early = recorder();
      const quiet = recorder();
      h.attachProtocol("early", early.handler);
      h.attachProtocol("quiet", quiet.handler);
      expect(early.up.map((l) => [l.peerId, l.missed])).toEqual([["c1", true]]);
      expect(quiet.up.map((l) => [l.peerId, l.missed])).toEqual([["c1", false]]);
    });

    test(`${kind}: a payload over the frame limit throws ERR_LIMIT at the sender; the link stays up`, async () => {
      const { c } = await pair();
      const r = recorder();
      c.attachProtocol("big", r.handler);
      await eventually(() => r.up.length === 1, "linkUp");
      let err: unknown;
      try {
        r.up[0]!.send(new Uint8Array(c.limits.maxFrameBytes + 1));
      } catch (e) {
        err = e;
      }
      expect((err as { code?: string }).code).toBe("ERR_LIMIT");
      expect(c.isConnected("hub")).toBe(true);
      const ctx = createContext();
      expect(await within(ctx.value(invokeRemote(add, c.remote("hub"), [1, 2])), 5_000)).toBe(3);
    });
  }

  test("attaching a second handler under one name throws ERR_INVALID_ARGUMENT; attaching late calls linkUp for links already up", async () => {
    const { h } = await memPair();
    await eventually(() => h.isConnected("c1"), "hub sees c1");
    const r = recorder();
    h.attachProtocol("late", r.handler);
    expect(r.up.map((l) => l.peerId)).toEqual(["c1"]);
    expect(() => h.attachProtocol("late", recorder().handler)).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }),
    );
  });
});
