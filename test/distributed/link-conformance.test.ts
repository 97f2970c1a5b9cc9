/**
 * Every link adapter passes the exported conformance suite: `ws` over real sockets on 127.0.0.1
 * and the in-memory network (the browser WebSocket adapter runs it in test/browser).
 */
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { linkConformance, SimNetwork } from "spindel/distributed/testing";
import { describe, it } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import { WsLink } from "../../src/distributed/net/adapters/ws-node.js";

linkConformance(
  "memory",
  async () => {
    const [a, b] = new SimNetwork({ seed: 7 }).pair();
    return { a, b, async dispose() {} };
  },
  { describe, it },
);

linkConformance(
  "memory with latency",
  async () => {
    const [a, b] = new SimNetwork({ seed: 8, minDelayMs: 1, maxDelayMs: 5 }).pair();
    return { a, b, async dispose() {} };
  },
  { describe, it },
);

linkConformance(
  "ws",
  async () => {
    const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false });
    await once(wss, "listening");
    const accepted = once(wss, "connection") as Promise<[WebSocket]>;
    const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, {
      perMessageDeflate: false,
    });
    await once(client, "open");
    const [server] = await accepted;
    return {
      a: new WsLink(client),
      b: new WsLink(server),
      async dispose() {
        client.terminate();
        server.terminate();
        await new Promise<void>((r) => wss.close(() => r()));
      },
    };
  },
  { describe, it },
);
