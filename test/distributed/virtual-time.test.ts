/**
 * A peer's call deadlines, connection waits and reconnect backoff run on its context's clock. With
 * a virtual clock (`createContext({ clock: "virtual" })` as the peer's context) a test moves time by
 * hand: a 30 s timeout is tested without waiting 30 s, and nothing fires until time is advanced.
 * The sockets are real (127.0.0.1); only time is virtual.
 */
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createContext, isCancelled } from "spindel";
import { invokeRemote, type RemoteError } from "spindel/distributed";
import { describe, expect, onTestFinished, test } from "vitest";
import { client, defineRemote, hang, hub, probe, rejection, socketTest, until, within } from "./helpers.js";

const add = defineRemote(["x", "y"], (x, y) => () => (x as number) + (y as number), "vt-add");

/** Settles `p` into a flag, so a test can check "still pending" after a real round trip. */
function watch(p: Promise<unknown>): { settled: boolean; result: Promise<unknown> } {
  const w = { settled: false, result: p };
  p.then(
    () => {
      w.settled = true;
    },
    () => {
      w.settled = true;
    },
  );
  return w;
}

describe("virtual time", () => {
  test("the caller's deadline fires when its clock passes timeoutMs, not before; the callee is told to stop", async () => {
    const { peer: h } = await hub();
    const vctx = createContext({ clock: "virtual" });
    const c = await client(h.url!, { context: vctx, timeoutMs: 30_000 });
    const server = c.remote("hub");
    const p = probe("caller-deadline");
    const call = watch(rejection(vctx.value(invokeRemote(hang, server, ["caller-deadline"]))));
    await within(p.started.promise, 2_000, "the body started");
    vctx.advanceTime(29_999);
    // a real round trip on the same link: had the deadline fired, the call would have settled
    expect(await vctx.value(invokeRemote(add, server, [1, 2]))).toBe(3);
    expect(call.settled).toBe(false);
    vctx.advanceTime(1);
    const e = (await call.result) as unknown as RemoteError;
    expect(e.code).toBe("ERR_TIMEOUT");
    expect(e.message).toMatch(/timed out after 30000 ms/);
    expect(isCancelled(await within(p.aborted.promise, 2_000, "the remote body aborted"))).toBe(true);
  });

  test("the callee honours the deadline sent with the invoke on its own clock", async () => {
    const hubCtx = createContext({ clock: "virtual", name: "hub" });
    const { peer: h } = await hub({ context: hubCtx });
    const c = await client(h.url!, { timeoutMs: 3_600_000 }); // the caller's real deadline: an hour
    const p = probe("callee-deadline");
    const call = rejection(createContext().value(invokeRemote(hang, c.remote("hub"), ["callee-deadline"])));
    await within(p.started.promise, 2_000, "the body started");
    hubCtx.advanceTime(3_600_000);
    const e = (await within(call, 2_000, "the callee's answer")) as unknown as RemoteError;
    expect(e.code).toBe("ERR_TIMEOUT");
    expect(e.message).toMatch(/passed its deadline of 3600000 ms/);
    expect(isCancelled(await p.aborted.promise)).toBe(true);
  });

  socketTest(
    "a call to a peer a link may still come from waits connectTimeoutMs of the clock, then ERR_UNAVAILABLE",
    async () => {
      const { peer: h } = await hub();
      const vctx = createContext({ clock: "virtual" });
      const c = await client(h.url!, { context: vctx, connectTimeoutMs: 10_000 });
      // a second dial that hangs in its opening handshake: its remote's id is not known yet, so a
      // link to "nobody" may still come from it
      const silent = createServer(() => {});
      silent.listen(0, "127.0.0.1");
      await once(silent, "listening");
      onTestFinished(() => {
        silent.closeAllConnections?.();
        silent.close();
      });
      await c.connect({ url: `ws://127.0.0.1:${(silent.address() as AddressInfo).port}`, wait: false });
      const call = watch(rejection(vctx.value(invokeRemote(add, c.remote("nobody"), [1, 1]))));
      vctx.advanceTime(9_999);
      expect(await vctx.value(invokeRemote(add, c.remote("hub"), [2, 2]))).toBe(4);
      expect(call.settled).toBe(false);
      vctx.advanceTime(1);
      const e = (await call.result) as unknown as RemoteError;
      expect(e.code).toBe("ERR_UNAVAILABLE");
      expect(e.message).toMatch(/waited connectTimeoutMs 10000 ms/);
      expect(vctx.clock.pending).toBe(0); // nothing left armed once no deadline is live
    },
  );

  test("reconnect backoff waits on the clock: the client dials again only when time is advanced", async () => {
    const { peer: h } = await hub();
    const vctx = createContext({ clock: "virtual" });
    const c = await client(h.url!, {
      context: vctx,
      reconnect: { initialDelayMs: 60_000, maxDelayMs: 60_000, jitter: 0 },
    });
    const server = c.remote("hub");
    expect(vctx.get(server.connected)).toBe(true);
    const down = until(vctx, server.connected, (v) => !v);
    h.disconnect("c1", "test: drop");
    await down;
    // the redial is armed on the virtual clock: it does not happen by itself
    expect(vctx.clock.pending).toBeGreaterThan(0);
    const up = until(vctx, server.connected, (v) => v);
    vctx.advanceTime(60_000);
    await within(up, 5_000, "reconnected");
    expect(await vctx.value(invokeRemote(add, server, [20, 22]))).toBe(42);
  });
});
