/**
 * A real browser as a peer: a page bundled by Vite (browser conditions, the spindel plugin) runs in
 * Chromium, connects to a Node listener over 127.0.0.1 with the browser's own WebSocket, calls it,
 * and is called back over the same link. Needs Chromium (`apt-get install -y chromium`, which
 * `.ci/run` does; or set CHROMIUM_PATH).
 */
import { type AddressInfo, createServer as createNetServer, Socket } from "node:net";
import type { Page } from "playwright-core";
import { createContext, isCancelled } from "spindel";
import { type ListeningPeer, Peer } from "spindel/distributed";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { eventually, within } from "../distributed/helpers.js";
import { type BrowserPage, callPage, openPage } from "./harness.js";
import { aborts, counter, whereAmI } from "./remotes.js";

let opened: BrowserPage;
let page: Page;
let hub: ListeningPeer;
const hubCtx = createContext({ name: "hub" });
let script = "";

beforeAll(async () => {
  hub = await Peer.listen({ id: "hub", host: "127.0.0.1", port: 0, context: hubCtx });
  opened = await openPage("page", "spindel");
  ({ page, script } = opened);
  const errors = opened.errors;
  await page.waitForFunction(
    () => typeof (globalThis as Record<string, unknown>).spindelRun === "function",
    null,
    {
      timeout: 10_000,
    },
  );
  expect(errors).toEqual([]);
}, 60_000);

afterAll(async () => {
  await opened?.close();
  await hub?.close();
});

/** Call a page helper (defined in page.ts) with JSON-able arguments. */
const call = <T>(name: string, ...args: unknown[]): Promise<T> => callPage<T>(page, name, ...args);

describe("a browser peer (Chromium)", () => {
  test("the bundle has no Node-only code in it", () => {
    expect(script).not.toMatch(/from\s*["'](ws|node:[a-z]+)["']/);
    expect(script).toContain("registerRemote(");
  });

  test("calls the Node hub over its own WebSocket: values, CBOR types, remote errors, cancellation", async () => {
    const aborted = new Promise<unknown>((r) => aborts.set("from-browser", r));
    const out = (await page.evaluate(
      (url) => (globalThis as unknown as { spindelRun(u: string): Promise<unknown> }).spindelRun(url),
      hub.url,
    )) as Record<string, unknown>;
    expect(out.bumps).toEqual([2, 5]);
    expect(hubCtx.get(counter)).toBe(5); // the calls ran in the hub's context
    expect(out.echo).toEqual({
      n: 1.5,
      big: true,
      when: true,
      bytes: "1,2,3",
      set: "a",
      map: 1,
      nested: '{"list":[null,true,"x"]}',
    });
    expect(out.fail).toEqual({
      code: "ERR_REMOTE_THROWN",
      name: "RangeError",
      message: "nope",
      data: { why: "asked to" },
    });
    expect(out.cancel).toBe("cancelled");
    expect(isCancelled(await within(aborted, 5_000, "the hub's body aborted"))).toBe(true);
    expect(out.status).toBe("online");
    expect(hub.isConnected("browser")).toBe(true);
  });

  test("the link is symmetric: the hub calls a function in the browser", async () => {
    expect(await hubCtx.value(whereAmI(hub.remote("browser")))).toBe("chromium");
  });

  test("what a page cannot do is refused clearly: headers, listening", async () => {
    const headers = await page.evaluate(
      (url) => (globalThis as unknown as { spindelHeaders(u: string): Promise<string> }).spindelHeaders(url),
      hub.url,
    );
    expect(headers).toMatch(/^ERR_UNAVAILABLE: .*a page cannot set WebSocket headers/);
    const listen = await page.evaluate(() =>
      (globalThis as unknown as { spindelListen(): Promise<string> }).spindelListen(),
    );
    expect(listen).toMatch(/^ERR_UNAVAILABLE: peer 'tab' cannot listen here \(browser\)/);
  });

  test("after the listener drops the link, the page reconnects (backoff) and calls work again", async () => {
    expect(await call("spOpen", "again", hub.url, { reconnect: { initialDelayMs: 20 } })).toBe("ok");
    hub.disconnect("again", "test: drop");
    await eventually(
      async () => (await call<string>("spStatus", "again")) === "online" && hub.isConnected("again"),
      "back online",
    );
    expect(await call("spEcho", "again", 10, 5_000)).toBe("length 10");
    expect(await call("spShut", "again")).toBe("closed");
  });

  test("a listener that vanishes without closing is noticed by the page's ping frames", async () => {
    // a TCP relay between page and hub that stops forwarding: no close ever reaches the page
    const port = Number(new URL(hub.url).port);
    let frozen = false;
    const sockets: Socket[] = [];
    const relay = createNetServer((client) => {
      const upstream = new Socket();
      sockets.push(client, upstream);
      client.on("error", () => {});
      upstream.on("error", () => {});
      upstream.connect(port, "127.0.0.1");
      client.on("data", (d: Buffer) => {
        if (!frozen) upstream.write(d);
      });
      upstream.on("data", (d: Buffer) => {
        if (!frozen) client.write(d);
      });
    });
    await new Promise<void>((r) => relay.listen(0, "127.0.0.1", r));
    try {
      const url = `ws://127.0.0.1:${(relay.address() as AddressInfo).port}/`;
      expect(
        await call("spOpen", "vanish", url, { heartbeatMs: 100, reconnect: { initialDelayMs: 10_000 } }),
      ).toBe("ok");
      expect(await call("spEcho", "vanish", 3, 5_000)).toBe("length 3");
      frozen = true;
      await eventually(
        async () => (await call<string>("spStatus", "vanish")) !== "online",
        "the page noticed",
      );
      expect(await call("spStatus", "vanish")).toBe("reconnecting");
      expect(await call("spShut", "vanish")).toBe("closed");
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => relay.close(r));
    }
  });

  test("a server that accepts TCP but never answers the upgrade: connectTimeoutMs bounds it", async () => {
    const sockets: Socket[] = [];
    const silent = createNetServer((s) => {
      sockets.push(s);
      s.on("error", () => {});
    });
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    try {
      const url = `ws://127.0.0.1:${(silent.address() as AddressInfo).port}/`;
      const t0 = performance.now();
      const r = await call<string>("spOpen", "silent", url, { connectTimeoutMs: 300 });
      expect(r).toMatch(/^ERR_UNAVAILABLE: /);
      expect(performance.now() - t0).toBeLessThan(4_000); // bounded by the 300 ms, not hanging
      // with reconnect it keeps trying instead of sticking at "connecting"
      expect(
        await call("spOpen", "silent2", url, {
          connectTimeoutMs: 200,
          wait: false,
          reconnect: { initialDelayMs: 20, maxDelayMs: 20 },
        }),
      ).toBe("ok");
      const before = sockets.length;
      await eventually(() => sockets.length >= before + 3, "three dial attempts");
      expect(await call("spShut", "silent2")).toBe("closed");
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });

  test("an answer larger than the page's maxFrameBytes fails that call at once with ERR_LIMIT, not at the deadline", async () => {
    expect(await call("spOpen", "small", hub.url, { limits: { maxFrameBytes: 2_048 } })).toBe("ok");
    const t0 = performance.now();
    const r = await call<string>("spEcho", "small", 5_000, 60_000);
    // the page announced its limits in the hello: the hub refuses to send the answer
    expect(r).toMatch(/^ERR_LIMIT: .*maxFrameBytes 2048/);
    expect(performance.now() - t0).toBeLessThan(10_000); // not the 60 s deadline
    expect(await call("spShut", "small")).toBe("closed");
  });

  test("the browser closes its peer: the hub sees it go", async () => {
    const status = await page.evaluate(() =>
      (globalThis as unknown as { spindelClose(): Promise<string> }).spindelClose(),
    );
    expect(status).toBe("closed");
    await eventually(() => !hub.isConnected("browser"), "the hub saw the page go");
  });
});
