/**
 * Frames over the limits (adversarial review): every one is answered to its call with `ERR_LIMIT`
 * (never a misleading `ERR_TIMEOUT`, never a torn-down link), limits are exchanged in the hello,
 * and a sender checks a frame against the receiver's limits before sending it.
 * Real sockets on 127.0.0.1; raw clients and a raw listener speak CBOR by hand.
 */
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { createContext } from "spindel";
import { invokeRemote, Peer } from "spindel/distributed";
import { describe, expect, test } from "vitest";
import { type RawData, WebSocketServer } from "ws";
import { DEFAULT_LIMITS } from "../../src/distributed/limits.js";
import { decodeFrame, PROTOCOL_VERSION } from "../../src/distributed/wire.js";
import {
  client,
  defineRemote,
  handFrame,
  hang,
  hub,
  probe,
  RawClient,
  rejection,
  track,
  within,
} from "./helpers.js";

const add = defineRemote(["x", "y"], (x: number, y: number) => () => x + y, "limits-add");
const nest = defineRemote(
  ["depth"],
  (depth: number) => () => {
    let v: unknown = 1;
    for (let i = 0; i < depth; i++) v = [v];
    return v;
  },
  "limits-nest",
);
const blob = defineRemote(["n"], (n: number) => () => "x".repeat(n), "limits-blob");

function nested(depth: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

describe("frames over the limits fail their call alone", () => {
  test("the hello carries the sender's limits", async () => {
    const { peer: h } = await hub({ limits: { maxFrameBytes: 4096, maxDepth: 8 } });
    const raw = await RawClient.open(h.url);
    const answer = await raw.hello("raw");
    expect(answer).toMatchObject({ type: "hello", limits: { maxFrameBytes: 4096, maxDepth: 8 } });
    await raw.close();
  });

  test("an invoke nested over maxDepth is answered to its id with ERR_LIMIT; the link stays", async () => {
    const { peer: h } = await hub({ limits: { maxDepth: 8 } });
    const raw = await RawClient.open(h.url);
    await raw.hello("deep");
    const n = raw.frames.length;
    raw.send({ type: "invoke", id: 41, fn: add.id, args: [nested(20), 1] });
    expect(await raw.next(n)).toMatchObject({ type: "error", id: 41, code: "ERR_LIMIT" });
    raw.send({ type: "invoke", id: 42, fn: add.id, args: [1, 2], hash: add.hash });
    expect(await raw.next(n + 1)).toMatchObject({ type: "result", id: 42, value: 3 });
    await raw.close();
  });

  test("an invoke over maxFrameBytes is answered to its id with ERR_LIMIT, not a 1009 close", async () => {
    const { peer: h } = await hub({ limits: { maxFrameBytes: 4096 } });
    const raw = await RawClient.open(h.url);
    await raw.hello("big");
    const n = raw.frames.length;
    raw.send({ type: "invoke", id: 7, fn: add.id, args: ["x".repeat(6_000), 1] });
    expect(await raw.next(n)).toMatchObject({ type: "error", id: 7, code: "ERR_LIMIT" });
    expect(raw.closed).toBeNull();
    raw.send({ type: "invoke", id: 8, fn: add.id, args: [2, 2], hash: add.hash });
    expect(await raw.next(n + 1)).toMatchObject({ type: "result", id: 8, value: 4 });
    await raw.close();
  });

  test("arguments over the callee's limits fail at the caller with ERR_LIMIT; calls in flight are untouched", async () => {
    const { peer: h } = await hub({ limits: { maxFrameBytes: 64 * 1024, maxDepth: 16 } });
    const c = await client(h.url);
    const ctx = createContext();
    const p = probe("limits-inflight");
    let inflightSettled = false;
    const inflight = ctx.value(invokeRemote(hang, c.remote("hub"), ["limits-inflight"]));
    inflight.then(
      () => {
        inflightSettled = true;
      },
      () => {
        inflightSettled = true;
      },
    );
    await within(p.started.promise, 5_000, "the hanging call started");
    const big = await rejection(
      ctx.value(invokeRemote(add, c.remote("hub", { timeoutMs: Infinity }), ["x".repeat(100_000), 1])),
    );
    expect(big).toMatchObject({ code: "ERR_LIMIT" });
    expect(big.message).toContain("maxFrameBytes 65536");
    const deep = await rejection(
      ctx.value(invokeRemote(add, c.remote("hub", { timeoutMs: Infinity }), [nested(40), 1])),
    );
    expect(deep).toMatchObject({ code: "ERR_LIMIT" });
    expect(c.isConnected("hub")).toBe(true);
    expect(await ctx.value(invokeRemote(add, c.remote("hub"), [1, 2]))).toBe(3);
    expect(inflightSettled).toBe(false);
  });

  test("a result over the caller's limits fails that call with ERR_LIMIT (timeoutMs Infinity still settles)", async () => {
    const { peer: h } = await hub();
    const c = await client(h.url, { limits: { maxDepth: 8, maxFrameBytes: 8 * 1024 } });
    const ctx = createContext();
    const scope = c.remote("hub", { timeoutMs: Infinity });
    expect(await within(rejection(ctx.value(invokeRemote(nest, scope, [30]))), 5_000)).toMatchObject({
      code: "ERR_LIMIT",
    });
    expect(await within(rejection(ctx.value(invokeRemote(blob, scope, [20_000]))), 5_000)).toMatchObject({
      code: "ERR_LIMIT",
    });
    expect(c.isConnected("hub")).toBe(true);
    expect(await ctx.value(invokeRemote(add, scope, [1, 2]))).toBe(3);
  });

  test("a listener that ignores our limits: its oversize or too-deep result fails only that call", async () => {
    const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false });
    await once(wss, "listening");
    wss.on("connection", (ws) => {
      ws.on("message", (data: RawData) => {
        const f = decodeFrame(new Uint8Array(data as Buffer), DEFAULT_LIMITS);
        if (f.type === "hello") ws.send(handFrame({ type: "hello", v: PROTOCOL_VERSION, peer: "rogue" }));
        else if (f.type === "invoke") {
          const x = f.args[0] as number;
          const value = x === 1 ? "y".repeat(6_000) : x === 2 ? nested(30) : x + 1;
          ws.send(handFrame({ type: "result", id: f.id, value }));
        }
      });
    });
    try {
      const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
      const c = track(
        await Peer.connect({
          id: "c1",
          url,
          limits: { maxFrameBytes: 4096, maxDepth: 8 },
          timeoutMs: Infinity,
        }),
      );
      const ctx = createContext();
      const scope = c.remote("rogue");
      const one = await within(rejection(ctx.value(invokeRemote(add, scope, [1, 0]))), 5_000);
      expect(one).toMatchObject({ code: "ERR_LIMIT" });
      expect(one.message).toContain("maxFrameBytes 4096");
      expect(await within(rejection(ctx.value(invokeRemote(add, scope, [2, 0]))), 5_000)).toMatchObject({
        code: "ERR_LIMIT",
      });
      expect(c.isConnected("rogue")).toBe(true);
      expect(await ctx.value(invokeRemote(add, scope, [5, 0]))).toBe(6);
    } finally {
      await new Promise<void>((r) => {
        for (const ws of wss.clients) ws.terminate();
        wss.close(() => r());
      });
    }
  });
});
