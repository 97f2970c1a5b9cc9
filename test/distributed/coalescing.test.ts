/**
 * Write coalescing: frames a connection sends in one turn of the event loop leave in one write
 * (the TCP stream is corked until the next tick). A unit test with the socket faked checks when
 * cork and uncork happen; over real sockets, bursts of calls arrive in order and are answered
 * exactly once.
 */
import { EventEmitter, once } from "node:events";
import type { AddressInfo } from "node:net";
import { createContext } from "spindel";
import { invokeRemote } from "spindel/distributed";
import { describe, expect, test } from "vitest";
import { type RawData, type WebSocket, WebSocketServer } from "ws";
import { Connection, type ConnectionHost } from "../../src/distributed/connection.js";
import { DEFAULT_LIMITS } from "../../src/distributed/limits.js";
import { WsLink } from "../../src/distributed/net/adapters/ws-node.js";
import { decodeFrame, PROTOCOL_VERSION } from "../../src/distributed/wire.js";
import { client, defineRemote, gate, handFrame, hub, within } from "./helpers.js";

const concat = defineRemote(["s", "i"], (s: string, i: number) => () => s + String(i), "coalescing-concat");
const add = defineRemote(["x", "y"], (x: number, y: number) => () => x + y, "coalescing-add");

describe("write coalescing", () => {
  test("sends in one tick happen inside one cork of the TCP stream, released on the next tick", async () => {
    // the layer below (ws and its net.Socket) faked: what matters is when cork/uncork happen
    const log: string[] = [];
    let depth = 0;
    const stream = {
      cork: () => {
        depth++;
        log.push("cork");
      },
      uncork: () => {
        depth--;
        log.push("uncork");
      },
    };
    const socket = Object.assign(new EventEmitter(), {
      readyState: 1,
      bufferedAmount: 0,
      binaryType: "nodebuffer",
      _socket: stream,
      send: (bytes: Uint8Array) => log.push(bytes.length > 0 && depth > 0 ? "send corked" : "send UNCORKED"),
    });
    const host: ConnectionHost = {
      id: "me",
      limits: DEFAULT_LIMITS,
      onHello() {},
      onRefused() {},
      onInvoke() {},
      onProtocol() {},
      bufferedTotal: () => 0,
      onClosed() {},
      report() {},
    };
    const conn = new Connection(host, new WsLink(socket as unknown as WebSocket), false, undefined);
    conn.sendCancel(1);
    conn.sendCancel(2);
    conn.sendCancel(3);
    expect(log).toEqual(["cork", "send corked", "send corked", "send corked"]);
    await new Promise<void>((r) => process.nextTick(r));
    expect(log.at(-1)).toBe("uncork");
    expect(depth).toBe(0);
    // the next tick corks again
    conn.sendCancel(4);
    expect(log.slice(-2)).toEqual(["cork", "send corked"]);
    await new Promise<void>((r) => process.nextTick(r));
    expect(depth).toBe(0);
  });

  test("100 calls started in one tick all reach the callee, in order", async () => {
    const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false });
    await once(wss, "listening");
    const seen: number[] = [];
    const all = gate<void>();
    wss.on("connection", (ws) => {
      ws.on("message", (data: RawData) => {
        const f = decodeFrame(new Uint8Array(data as Buffer), DEFAULT_LIMITS);
        if (f.type === "hello") ws.send(handFrame({ type: "hello", v: PROTOCOL_VERSION, peer: "raw" }));
        else if (f.type === "invoke" && seen.push(f.args[0] as number) === 100) all.resolve();
      });
    });
    try {
      const c = await client(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
      const ctx = createContext();
      const scope = c.remote("raw");
      for (let i = 0; i < 100; i++) void ctx.value(invokeRemote(add, scope, [i, i])).catch(() => {});
      await within(all.promise, 5_000, "100 invokes");
      expect(seen).toEqual(Array.from({ length: 100 }, (_, i) => i));
    } finally {
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
    }
  });

  test("a burst of calls and their answers, coalesced both ways, each settle exactly once with their own value", async () => {
    const { peer: h } = await hub();
    const c = await client(h.url!);
    const ctx = createContext();
    const scope = c.remote("hub");
    const n = 2_000;
    const got = await Promise.all(
      Array.from({ length: n }, (_, i) => ctx.value(invokeRemote(add, scope, [i, 1_000_000]))),
    );
    expect(got).toEqual(Array.from({ length: n }, (_, i) => i + 1_000_000));
  });

  test("a tick of large frames is flushed before maxBufferedBytes is judged: no false overflow", async () => {
    const { peer: h } = await hub();
    const c = await client(h.url!, { limits: { maxBufferedBytes: 512 * 1024 } });
    const ctx = createContext();
    const scope = c.remote("hub");
    const big = "x".repeat(100_000);
    // 8 × 100 kB in one tick: 800 kB would sit in the corked stream, over the 512 kB limit
    const got = await Promise.all(
      Array.from({ length: 8 }, (_, i) => ctx.value(invokeRemote(concat, scope, [big, i]))),
    );
    expect(got.map((s) => (s as string).length)).toEqual(
      Array.from({ length: 8 }, (_, i) => 100_000 + String(i).length),
    );
    expect(c.isConnected("hub")).toBe(true);
  });

  test("a call sent in the same tick as close() fails cleanly instead of hanging", async () => {
    const { peer: h } = await hub();
    const c = await client(h.url!);
    const ctx = createContext();
    const p = ctx.value(invokeRemote(add, c.remote("hub"), [1, 2])).then(
      (v) => ({ ok: true, v }),
      (e: { code?: string }) => ({ ok: false, v: e.code }),
    );
    void c.close();
    const r = await within(p, 5_000, "the call settles");
    // either it went out before the close frame and was answered, or it was failed by the close
    expect(r.ok ? r.v === 3 : r.v === "ERR_CLOSED" || r.v === "ERR_DISCONNECTED").toBe(true);
  });
});
