/**
 * Bridges between spins and promises, and a listener attached to an existing HTTP server.
 */
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createContext, defaultContext, isCancelled, signal, spin } from "spindel";
import { invokeRemote, Peer, promiseToSpin, spinToPromise, toAsyncIterable } from "spindel/distributed";
import { describe, expect, test } from "vitest";
import {
  client,
  defineRemote,
  gate,
  hub,
  RawClient,
  rejection,
  socketDescribe,
  socketTest,
  track,
  within,
} from "./helpers.js";

const add = defineRemote(["x", "y"], (x, y) => () => (x as number) + (y as number), "add");

describe("bridges", () => {
  test("spinToPromise: the spin's value in a context (default: the default context)", async () => {
    const n = signal(2);
    const doubled = spin(($) => 2 * $.track(n));
    const ctx = createContext();
    ctx.set(n, 21);
    expect(await spinToPromise(doubled, ctx)).toBe(42);
    expect(await spinToPromise(doubled)).toBe(2 * defaultContext().get(n));
    const failing = spin(() => {
      throw new Error("nope");
    });
    await expect(spinToPromise(failing, ctx)).rejects.toThrow("nope");
    await expect(spinToPromise({} as never, ctx)).rejects.toThrow(/expects a Spin/);
  });

  test("spinToPromise of a remote call", async () => {
    const { peer: h } = await hub();
    const c = await client(h.url!);
    expect(await spinToPromise(invokeRemote(add, c.remote("hub"), [1, 2]), createContext())).toBe(3);
  });

  test("promiseToSpin: a promise becomes a spin others can await", async () => {
    const g = gate<number>();
    const fromPromise = promiseToSpin(g.promise);
    const plusOne = spin(async ($) => (await $.await(fromPromise)) + 1);
    const ctx = createContext();
    const p = ctx.value(plusOne);
    g.resolve(41);
    expect(await p).toBe(42);
    const rejected = promiseToSpin(Promise.reject(new Error("bad")));
    await expect(createContext().value(rejected)).rejects.toThrow("bad");
    expect(() => promiseToSpin(42 as never)).toThrow(/promise/);
  });

  test("promiseToSpin with a function: started lazily per run, aborted on cancel", async () => {
    let starts = 0;
    const aborted = gate<unknown>();
    const lazy = promiseToSpin(
      (signal) =>
        new Promise<string>((_, reject) => {
          starts++;
          signal.addEventListener("abort", () => {
            aborted.resolve(signal.reason);
            reject(signal.reason);
          });
        }),
    );
    expect(starts).toBe(0);
    const ctx = createContext();
    const p = ctx.value(lazy);
    expect(starts).toBe(1);
    ctx.cancel(lazy);
    expect(isCancelled(await rejection(p))).toBe(true);
    expect(isCancelled(await within(aborted.promise, 1_000))).toBe(true);
  });
});

describe("toAsyncIterable", () => {
  test("iterates each new result of a spin that calls a remote peer", async () => {
    const { peer: h } = await hub();
    const c = await client(h.url!);
    const ctx = createContext();
    const n = signal(1);
    const total = spin(async ($) => $.await(invokeRemote<number>(add, c.remote("hub"), [$.track(n), 100])));
    const seen: number[] = [];
    for await (const v of toAsyncIterable(total, ctx)) {
      seen.push(v);
      if (v === 101) ctx.set(n, 2);
      else if (v === 102) ctx.set(n, 3);
      else break;
    }
    expect(seen).toEqual([101, 102, 103]);
  });

  test("iterates a peer's health signal", async () => {
    const { peer: h } = await hub();
    const health = createContext();
    const c = await client(h.url!, { context: health, reconnect: { initialDelayMs: 5 } });
    const seen: boolean[] = [];
    const connected = c.remote("hub").connected;
    for await (const up of toAsyncIterable(
      spin(($) => $.track(connected)),
      health,
    )) {
      seen.push(up);
      if (seen.length === 1) h.disconnect("c1");
      if (seen.length === 3) break;
    }
    expect(seen).toEqual([true, false, true]);
  });
});

socketDescribe("listening on an existing HTTP server", () => {
  socketTest(
    "peers share the server with plain HTTP; other paths are left alone; close() leaves the server running",
    async () => {
      const server = createServer((_req, res) => res.end("plain http"));
      server.listen(0, "127.0.0.1");
      await once(server, "listening");
      try {
        const port = (server.address() as AddressInfo).port;
        const ctx = createContext();
        const h = track(await Peer.listen({ id: "hub", server, path: "/peers", context: ctx }));
        expect(h.url).toBe(`ws://127.0.0.1:${port}/peers`);
        const c = await client(h.url!);
        expect(await createContext().value(invokeRemote(add, c.remote("hub"), [5, 6]))).toBe(11);
        // plain HTTP still served by the app
        expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe("plain http");
        // another path: not ours (the only upgrade listener answers 404)
        await expect(RawClient.open(`ws://127.0.0.1:${port}/elsewhere`)).rejects.toThrow(/404/);
        await h.close();
        await c.close();
        expect(server.listening).toBe(true);
        expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe("plain http");
        expect(server.listeners("upgrade")).toEqual([]);
      } finally {
        server.closeAllConnections();
        await new Promise<void>((r) => server.close(() => r()));
      }
    },
  );

  socketTest(
    "an attached server that is not bound yet has no URL until it listens (also on a unix socket)",
    async () => {
      const server = createServer();
      const ctx = createContext();
      const h = track(new Peer({ id: "hub", context: ctx }));
      expect(await h.listen({ server })).toBeUndefined();
      expect(h.url).toBeUndefined();
      const dir = mkdtempSync(join(tmpdir(), "spindel-"));
      server.listen(join(dir, "peer.sock"));
      await once(server, "listening");
      try {
        expect(h.url).toBe(`ws+unix:${join(dir, "peer.sock")}:/`);
        const c = await client(h.url!);
        expect(await createContext().value(invokeRemote(add, c.remote("hub"), [2, 2]))).toBe(4);
        await c.close();
        await h.close();
      } finally {
        await new Promise<void>((r) => server.close(() => r()));
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  socketTest("the own HTTP server answers plain requests with 426", async () => {
    const { peer: h } = await hub();
    const res = await fetch(h.url!.replace("ws://", "http://"));
    expect(res.status).toBe(426);
    await res.text();
  });

  socketTest("listening twice, or on a taken port, is an error", async () => {
    const { peer: h } = await hub();
    await expect(h.listen({})).rejects.toThrow(/already listening/);
    const port = Number(new URL(h.url!).port);
    const e = await rejection(Peer.listen({ id: "second", port }));
    expect((e as { code?: string }).code).toBe("ERR_UNAVAILABLE");
    expect(e.message).toMatch(/EADDRINUSE/);
  });
});
