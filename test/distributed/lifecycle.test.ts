/**
 * Deadlines, cancellation, disconnects, connection waits, reconnection, health signals,
 * heartbeats, and a `close()` that leaves nothing behind. Real sockets on 127.0.0.1.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { cancel, createContext, isCancelled, signal, spin } from "spindel";
import { invokeRemote, Peer, RemoteError } from "spindel/distributed";
import { describe, expect, test } from "vitest";
import { type RawData, WebSocketServer } from "ws";
import { DEFAULT_LIMITS } from "../../src/distributed/limits.js";
import { decodeFrame, type Frame, PROTOCOL_VERSION } from "../../src/distributed/wire.js";
import {
  client,
  defineRemote,
  gate,
  handFrame,
  hang,
  hub,
  probe,
  RawClient,
  rejection,
  socketTest,
  track,
  until,
  within,
} from "./helpers.js";

const add = defineRemote(["x", "y"], (x, y) => () => (x as number) + (y as number), "add");

describe("deadlines", () => {
  test("a call past its timeoutMs rejects with ERR_TIMEOUT and the remote body is cancelled", async () => {
    const { peer: h } = await hub();
    const c = await client(h.url!);
    const p = probe("timeout");
    const t0 = performance.now();
    const e = (await rejection(
      createContext().value(invokeRemote(hang, c.remote("hub", { timeoutMs: 60 }), ["timeout"])),
    )) as unknown as RemoteError;
    const elapsed = performance.now() - t0;
    expect(e).toBeInstanceOf(RemoteError);
    expect(e.code).toBe("ERR_TIMEOUT");
    expect(e.fn).toBe(hang.id);
    expect(elapsed).toBeGreaterThanOrEqual(55);
    expect(elapsed).toBeLessThan(2_000);
    const reason = await within(p.aborted.promise, 2_000, "remote abort");
    expect(isCancelled(reason)).toBe(true);
    await within(p.finished.promise, 2_000, "the body's finally block");
  });

  socketTest(
    "the deadline travels with the invoke: the callee stops the body on its own and answers ERR_TIMEOUT",
    async () => {
      const { peer: h } = await hub();
      const raw = await RawClient.open(h.url!);
      expect((await raw.hello("raw")).type).toBe("hello");
      const p = probe("callee-deadline");
      const n = raw.frames.length;
      // a caller that never sends cancel: only the deadline in the frame can stop the body
      raw.send({
        type: "invoke",
        id: 7,
        fn: hang.id,
        args: ["callee-deadline"],
        hash: hang.hash,
        timeoutMs: 40,
      });
      const reply = await raw.next(n);
      expect(reply).toMatchObject({ type: "error", id: 7, code: "ERR_TIMEOUT" });
      expect(isCancelled(await within(p.aborted.promise, 1_000))).toBe(true);
      await raw.close();
    },
  );

  test("per-call options: with() derives a handle; invalid values are refused", async () => {
    const solo = track(new Peer({ id: "solo" }));
    const base = solo.remote("x", { timeoutMs: 1_000 });
    expect(base.with({ connectTimeoutMs: 5 }).options).toMatchObject({
      timeoutMs: 1_000,
      connectTimeoutMs: 5,
    });
    expect(() => solo.remote("x", { timeoutMs: -1 })).toThrow(/timeoutMs/);
    expect(() => new Peer({ id: "" })).toThrow(/id/);
    expect(solo.remote("x")).toBe(solo.remote("x"));
  });
});

describe("cancellation", () => {
  test("cancelling the calling spin sends cancel: the remote body's $.signal aborts, the caller gets ERR_CANCELLED", async () => {
    const { peer: h } = await hub();
    const c = await client(h.url!);
    const ctx = createContext();
    const p = probe("cancel-spin");
    const call = invokeRemote(hang, c.remote("hub"), ["cancel-spin"]);
    const result = ctx.value(call);
    await within(p.started.promise, 2_000, "remote start");
    ctx.cancel(call);
    const e = await rejection(result);
    expect((e as { code?: unknown }).code).toBe("ERR_CANCELLED");
    expect(isCancelled(await within(p.aborted.promise, 2_000, "remote abort"))).toBe(true);
  });

  test("cancelling an outer spin cascades to the remote call it awaits", async () => {
    const { peer: h } = await hub();
    const c = await client(h.url!);
    const ctx = createContext();
    const p = probe("cascade");
    const outer = spin(async ($) => $.await(invokeRemote(hang, c.remote("hub"), ["cascade"])));
    const result = ctx.value(outer);
    await within(p.started.promise, 2_000);
    ctx.run(() => cancel(outer));
    expect((await rejection(result)).code).toBe("ERR_CANCELLED");
    expect(isCancelled(await within(p.aborted.promise, 2_000, "remote abort"))).toBe(true);
  });

  test("a superseded run cancels its remote call; the new run calls again", async () => {
    const { peer: h } = await hub();
    const c = await client(h.url!);
    const ctx = createContext();
    const which = signal("first");
    const p1 = probe("first");
    const outer = spin(async ($) => {
      const k = $.track(which);
      if (k === "first") return $.await(invokeRemote(hang, c.remote("hub"), ["first"]));
      return $.await(invokeRemote<number>(add, c.remote("hub"), [40, 2]));
    });
    const result = ctx.value(outer);
    await within(p1.started.promise, 2_000);
    ctx.set(which, "second");
    expect(await within(result, 2_000)).toBe(42);
    expect(isCancelled(await within(p1.aborted.promise, 2_000, "remote abort"))).toBe(true);
  });

  test("aborting an AbortSignal cancels the call remotely and rejects with ERR_CANCELLED", async () => {
    const { peer: h } = await hub();
    const c = await client(h.url!);
    const ac = new AbortController();
    const p = probe("abort-signal");
    const result = createContext().value(
      invokeRemote(hang, c.remote("hub", { signal: ac.signal }), ["abort-signal"]),
    );
    await within(p.started.promise, 2_000);
    ac.abort();
    const e = (await rejection(result)) as unknown as RemoteError;
    expect(e).toBeInstanceOf(RemoteError);
    expect(e.code).toBe("ERR_CANCELLED");
    expect(isCancelled(await within(p.aborted.promise, 2_000, "remote abort"))).toBe(true);
    // an already aborted signal fails at once, without sending
    const again = (await rejection(
      createContext().value(invokeRemote(add, c.remote("hub", { signal: ac.signal }), [1, 2])),
    )) as unknown as RemoteError;
    expect(again.code).toBe("ERR_CANCELLED");
  });

  test("self-invocation honours cancellation and deadlines too", async () => {
    const ctx = createContext();
    const solo = track(new Peer({ id: "solo", context: ctx }));
    const p = probe("local-cancel");
    const call = invokeRemote(hang, solo.remote("solo"), ["local-cancel"]);
    const result = ctx.value(call);
    await within(p.started.promise, 2_000);
    ctx.cancel(call);
    expect((await rejection(result)).code).toBe("ERR_CANCELLED");
    expect(isCancelled(await within(p.aborted.promise, 2_000))).toBe(true);
    probe("local-timeout");
    const t = (await rejection(
      ctx.value(invokeRemote(hang, solo.remote("solo", { timeoutMs: 30 }), ["local-timeout"])),
    )) as unknown as RemoteError;
    expect(t.code).toBe("ERR_TIMEOUT");
    // closing the peer fails its local calls too, and stops their bodies
    const p3 = probe("local-close");
    const pending = rejection(ctx.value(invokeRemote(hang, solo.remote("solo"), ["local-close"])));
    await within(p3.started.promise, 2_000);
    await solo.close();
    expect(((await pending) as unknown as RemoteError).code).toBe("ERR_CLOSED");
    expect(isCancelled(await within(p3.aborted.promise, 2_000))).toBe(true);
  });
});

/** A hand-written listener speaking the protocol, for failures the real one never produces. */
async function rawListener(onInvoke: (ws: import("ws").WebSocket, frame: Frame) => void) {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false });
  await once(wss, "listening");
  wss.on("connection", (ws) => {
    ws.on("message", (data: RawData) => {
      const f = decodeFrame(new Uint8Array(data as Buffer), DEFAULT_LIMITS);
      if (f.type === "hello") ws.send(handFrame({ type: "hello", v: PROTOCOL_VERSION, peer: "raw" }));
      else onInvoke(ws, f);
    });
  });
  const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
  return {
    url,
    async close() {
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
    },
  };
}

describe("disconnects never hang a call", () => {
  test("the listener dropping the link rejects the pending call with ERR_DISCONNECTED within 100 ms", async () => {
    const { peer: h } = await hub();
    const c = await client(h.url!);
    const p = probe("drop-clean");
    const result = createContext().value(invokeRemote(hang, c.remote("hub"), ["drop-clean"]));
    await within(p.started.promise, 2_000);
    const t0 = performance.now();
    expect(h.disconnect("c1")).toBe(true);
    const e = (await rejection(result)) as unknown as RemoteError;
    const dt = performance.now() - t0;
    expect(e).toBeInstanceOf(RemoteError);
    expect(e.code).toBe("ERR_DISCONNECTED");
    expect(dt).toBeLessThan(100);
    // the callee cancelled the orphaned body
    expect(isCancelled(await within(p.aborted.promise, 2_000))).toBe(true);
  });

  socketTest(
    "a callee that dies mid-call (socket destroyed) rejects every pending call within 100 ms",
    async () => {
      const invoked = gate<import("ws").WebSocket>();
      let count = 0;
      const raw = await rawListener((ws, f) => {
        if (f.type === "invoke" && ++count === 3) invoked.resolve(ws);
      });
      try {
        const c = await client(raw.url);
        const ctx = createContext();
        const calls = [1, 2, 3].map((i) => ctx.value(invokeRemote(add, c.remote("raw"), [i, i])));
        const ws = await within(invoked.promise, 2_000);
        const t0 = performance.now();
        ws.terminate();
        const errors = await Promise.all(calls.map((p) => rejection(p)));
        const dt = performance.now() - t0;
        for (const e of errors) expect((e as unknown as RemoteError).code).toBe("ERR_DISCONNECTED");
        expect(dt).toBeLessThan(100);
      } finally {
        await raw.close();
      }
    },
  );

  test("the listener closing rejects pending calls; closing the caller's own peer rejects with ERR_CLOSED", async () => {
    const { peer: h } = await hub();
    const c = await client(h.url!);
    const p = probe("hub-close");
    const viaHubClose = rejection(createContext().value(invokeRemote(hang, c.remote("hub"), ["hub-close"])));
    await within(p.started.promise, 2_000);
    await h.close();
    expect(((await viaHubClose) as unknown as RemoteError).code).toBe("ERR_DISCONNECTED");

    const { peer: h2 } = await hub({ id: "hub2" });
    const c2 = await client(h2.url!, { id: "c2" });
    const p2 = probe("own-close");
    const viaOwnClose = rejection(
      createContext().value(invokeRemote(hang, c2.remote("hub2"), ["own-close"])),
    );
    await within(p2.started.promise, 2_000);
    await c2.close();
    expect(((await viaOwnClose) as unknown as RemoteError).code).toBe("ERR_CLOSED");
    expect(
      (
        (await rejection(
          createContext().value(invokeRemote(add, c2.remote("hub2"), [1, 1])),
        )) as unknown as RemoteError
      ).code,
    ).toBe("ERR_CLOSED");
    void c;
  });

  socketTest(
    "a late result for a call that already timed out is dropped; the link keeps working",
    async () => {
      const cancelled = gate<number>();
      const raw = await rawListener((ws, f) => {
        if (f.type === "invoke" && f.args[0] === 1) return; // answered late, below
        if (f.type === "invoke") ws.send(handFrame({ type: "result", id: f.id, value: "on time" }));
        if (f.type === "cancel") {
          // answer the timed-out call now: too late, the caller must drop it
          ws.send(handFrame({ type: "result", id: f.id, value: "late" }));
          ws.send(
            handFrame({
              type: "error",
              id: f.id,
              code: "ERR_REMOTE_THROWN",
              name: "Error",
              message: "late too",
            }),
          );
          cancelled.resolve(f.id as number);
        }
      });
      try {
        const errors: unknown[] = [];
        const c = await client(raw.url, { onError: (e) => errors.push(e) });
        const ctx = createContext();
        const e = (await rejection(
          ctx.value(invokeRemote(add, c.remote("raw", { timeoutMs: 30 }), [1, 0])),
        )) as unknown as RemoteError;
        expect(e.code).toBe("ERR_TIMEOUT");
        await within(cancelled.promise, 2_000, "cancel frame");
        expect(await ctx.value(invokeRemote(add, c.remote("raw"), [2, 0]))).toBe("on time");
        expect(c.isConnected("raw")).toBe(true);
        expect(errors).toEqual([]);
      } finally {
        await raw.close();
      }
    },
  );
});

describe("connecting", () => {
  test("a call made before the connection exists waits for it and is answered", async () => {
    const { peer: h } = await hub();
    const c = track(new Peer({ id: "early" }));
    expect(c.status.peek()).toBe("offline");
    const result = createContext().value(invokeRemote(add, c.remote("hub"), [2, 3]));
    await c.connect({ url: h.url! });
    expect(await within(result, 2_000)).toBe(5);
  });

  test("Peer.connect({ wait: false }) returns at once; calls wait for the link", async () => {
    const { peer: h } = await hub();
    const c = await client(h.url!, { wait: false });
    const result = createContext().value(invokeRemote(add, c.remote("hub"), [4, 5]));
    expect(await within(result, 2_000)).toBe(9);
  });

  test("a call to a peer nothing links fails at once with ERR_UNAVAILABLE, not after connectTimeoutMs", async () => {
    const { peer: h } = await hub({ connectTimeoutMs: 10_000 });
    const c = await client(h.url, { connectTimeoutMs: 10_000 });
    for (const from of [h, c]) {
      const t0 = performance.now();
      const e = (await rejection(
        createContext().value(invokeRemote(add, from.remote("nobody"), [1, 1])),
      )) as unknown as RemoteError;
      expect(e.code).toBe("ERR_UNAVAILABLE");
      expect(e.peer).toBe("nobody");
      expect(e.message).toContain("no link to it is being made");
      expect(performance.now() - t0).toBeLessThan(1_000);
    }
  });

  test("when no link can come any more, waiting calls fail at once", async () => {
    // a port nobody listens on: bind one, note it, close it
    const { peer: gone } = await hub({ id: "gone" });
    const url = gone.url!;
    await gone.close();
    const c = await client(url, { wait: false, connectTimeoutMs: 10_000 });
    const t0 = performance.now();
    const e = (await rejection(
      createContext().value(invokeRemote(add, c.remote("gone"), [1, 1])),
    )) as unknown as RemoteError;
    expect(e.code).toBe("ERR_UNAVAILABLE");
    expect(performance.now() - t0).toBeLessThan(2_000);
    expect(c.status.peek()).toBe("offline");
  });

  test("Peer.connect to a closed port rejects with ERR_UNAVAILABLE", async () => {
    const { peer: gone } = await hub({ id: "gone" });
    const url = gone.url!;
    await gone.close();
    const e = (await rejection(Peer.connect({ id: "c9", url }))) as unknown as RemoteError;
    expect(e).toBeInstanceOf(RemoteError);
    expect(e.code).toBe("ERR_UNAVAILABLE");
    expect(e.message).toContain(url);
  });

  test("reconnect backs off exponentially (capped) and gives up after maxAttempts", async () => {
    const { peer: gone } = await hub({ id: "gone" });
    const url = gone.url!;
    await gone.close();
    const failures: number[] = [];
    const t0 = performance.now();
    // jitter 0: delays are exactly 20, 40, 50 (capped), 50 ms between the 5 attempts
    const e = (await rejection(
      Peer.connect({
        id: "patient",
        url,
        reconnect: { initialDelayMs: 20, factor: 2, maxDelayMs: 50, jitter: 0, maxAttempts: 4 },
        onError: (_err, where) => {
          if (where === "connect") failures.push(performance.now() - t0);
        },
      }),
    )) as unknown as RemoteError;
    const elapsed = performance.now() - t0;
    expect(e.code).toBe("ERR_UNAVAILABLE");
    expect(elapsed).toBeGreaterThanOrEqual(20 + 40 + 50 + 50 - 5);
    expect(elapsed).toBeLessThan(3_000);
    expect(failures.length).toBe(1); // reported once, when the dialer gives up
    await expect(track(new Peer({ id: "y" })).connect({ url, reconnect: { jitter: 2 } })).rejects.toThrow(
      /jitter/,
    );
    await expect(track(new Peer({ id: "z" })).connect({ url, reconnect: { factor: 0.5 } })).rejects.toThrow(
      /factor/,
    );
  });

  test("reconnect: after the link drops the client dials again (backoff) and calls work again", async () => {
    const hubCtx = createContext();
    const { peer: h } = await hub({ context: hubCtx });
    const health = createContext();
    const c = await client(h.url!, { reconnect: { initialDelayMs: 5, maxDelayMs: 40 }, context: health });
    const server = c.remote("hub");
    const ctx = createContext();
    expect(await ctx.value(invokeRemote(add, server, [1, 1]))).toBe(2);
    expect(health.get(server.connected)).toBe(true);
    const down = until(health, server.connected, (v) => !v);
    h.disconnect("c1", "test: drop");
    await down;
    await until(health, server.connected, (v) => v);
    expect(await ctx.value(invokeRemote(add, server, [2, 2]))).toBe(4);
    expect(health.get(c.status)).toBe("online");
  });

  test("reconnect: the listener restarts on the same port and the client comes back", async () => {
    const { peer: h1 } = await hub();
    const port = Number(new URL(h1.url!).port);
    const health = createContext();
    const c = await client(h1.url!, { reconnect: { initialDelayMs: 5, maxDelayMs: 30 }, context: health });
    const server = c.remote("hub");
    await h1.close();
    await until(health, c.status, (s) => s === "reconnecting");
    const failed = (await rejection(
      createContext().value(invokeRemote(add, server.with({ connectTimeoutMs: 0 }), [1, 1])),
    )) as unknown as RemoteError;
    expect(failed.code).toBe("ERR_UNAVAILABLE");
    await hub({ port }); // a new listener on the same port
    await until(health, server.connected, (v) => v);
    expect(await createContext().value(invokeRemote(add, server, [3, 4]))).toBe(7);
  });
});

describe("health", () => {
  test("status, peers and per-remote connected are signals that follow the links", async () => {
    const hubHealth = createContext();
    const { peer: h } = await hub({ context: hubHealth });
    expect(hubHealth.get(h.status)).toBe("online");
    const health = createContext();
    const c = await client(h.url!, { context: health });
    expect(health.get(c.status)).toBe("online");
    expect(health.get(c.remote("hub").connected)).toBe(true);
    expect(health.get(c.peers)).toEqual(["hub"]);
    await until(hubHealth, h.peers, (ids) => ids.includes("c1"));
    const seen: boolean[] = [];
    const stop = hubHealth.observe(
      spin(($) => $.track(h.remote("c1").connected)),
      (v) => seen.push(v),
    );
    await c.close();
    await until(hubHealth, h.remote("c1").connected, (v) => !v);
    stop();
    expect(seen).toEqual([true, false]);
    expect(health.get(c.status)).toBe("closed");
    expect(health.get(c.remote("hub").connected)).toBe(false);
    expect(hubHealth.get(h.peers)).toEqual([]);
  });

  socketTest("a link whose other side stops answering pings is dropped by the heartbeat", async () => {
    const hubHealth = createContext();
    const { peer: h } = await hub({ heartbeatMs: 50, context: hubHealth });
    const mute = await RawClient.open(h.url!, { autoPong: false });
    await mute.hello("mute");
    expect(h.isConnected("mute")).toBe(true);
    const closed = await mute.whenClosed(2_000);
    expect(closed.code).toBe(1006); // terminated, no close frame
    await until(hubHealth, h.remote("mute").connected, (v) => !v);

    const alive = await RawClient.open(h.url!);
    await alive.hello("alive");
    let pings = 0;
    const three = gate();
    alive.ws.on("ping", () => {
      if (++pings === 3) three.resolve();
    });
    await within(three.promise, 2_000, "three pings");
    expect(alive.closed).toBeNull();
    expect(h.isConnected("alive")).toBe(true);
    await alive.close();
  });
});

describe("close", () => {
  test("close() is idempotent and refuses later use", async () => {
    const { peer: h } = await hub();
    const c = await client(h.url!);
    await Promise.all([c.close(), c.close()]);
    expect(c.isClosed).toBe(true);
    await expect(c.connect({ url: h.url! })).rejects.toMatchObject({ code: "ERR_CLOSED" });
    const url = h.url;
    await h.close();
    expect(h.url).toBe(url); // still the last URL, for logs
    await expect(Peer.connect({ id: "late", url })).rejects.toMatchObject({ code: "ERR_UNAVAILABLE" });
  });

  test("after close() nothing is left open: a process using peers exits on its own", async () => {
    const script = fileURLToPath(new URL("./exit-fixture.ts", import.meta.url));
    const child = spawn(process.execPath, ["--import", "tsx", script], {
      cwd: fileURLToPath(new URL("../..", import.meta.url)),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString();
    });
    const killer = setTimeout(() => child.kill("SIGKILL"), 15_000);
    const [code, sig] = (await once(child, "exit")) as [number | null, string | null];
    clearTimeout(killer);
    expect({ code, sig, err }).toEqual({ code: 0, sig: null, err: "" });
    expect(out).toContain("result 42");
    expect(out).toContain("closed");
    expect(out).toContain("handles: none");
  });
});
