/**
 * The listener against idle and excess TCP connections (adversarial review): a connection that
 * never asks to upgrade is closed after `upgradeTimeoutMs`, and `maxConnections` caps how many
 * are open at once, so silent sockets cannot exhaust file descriptors. Real sockets on 127.0.0.1.
 */
import { once } from "node:events";
import { connect, type Socket } from "node:net";
import { describe, expect, test } from "vitest";
import { WebSocket } from "ws";
import { client, hub, RawClient, within } from "./helpers.js";

function portOf(url: string): number {
  return Number(new URL(url).port);
}

async function silent(port: number): Promise<Socket> {
  const s = connect(port, "127.0.0.1");
  s.on("error", () => {});
  await once(s, "connect");
  return s;
}

describe("idle and excess TCP connections", () => {
  test("sockets that never send an upgrade request are closed after upgradeTimeoutMs", async () => {
    const { peer: h } = await hub({ upgradeTimeoutMs: 200 });
    const socks = await Promise.all(Array.from({ length: 20 }, () => silent(portOf(h.url))));
    await within(Promise.all(socks.map((s) => once(s, "close"))), 5_000, "every silent socket closed");
    // a real peer upgrades within the bound and stays connected
    const c = await client(h.url);
    expect(c.isConnected("hub")).toBe(true);
  });

  test("maxConnections refuses connections over the cap; a slot frees when one closes", async () => {
    const { peer: h } = await hub({ maxConnections: 3 });
    const port = portOf(h.url);
    const held = await Promise.all([silent(port), silent(port), silent(port)]);
    const extra = await silent(port);
    await within(once(extra, "close"), 5_000, "the fourth connection is closed");
    for (const s of held) s.destroy();
    await within(Promise.all(held.map((s) => once(s, "close"))), 5_000, "closed");
    // the listener learns of the closes on its own turn: a reconnecting client gets in once it has
    const c = await client(h.url, { reconnect: { initialDelayMs: 10, maxDelayMs: 50 } });
    expect(c.isConnected("hub")).toBe(true);
  });

  test("a listener without a path option upgrades only '/', not any path", async () => {
    const { peer: h } = await hub();
    const ws = new WebSocket(`${h.url}/admin/../x`);
    ws.on("error", () => {});
    const [, res] = (await within(once(ws, "unexpected-response"), 5_000, "the refusal")) as [
      unknown,
      { statusCode: number },
    ];
    expect(res.statusCode).toBe(404);
    ws.terminate();
    const ok = await RawClient.open(`${h.url}/`);
    expect(await ok.hello("slash")).toMatchObject({ type: "hello", peer: "hub" });
    await ok.close();
  });
});
