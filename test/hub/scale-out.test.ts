import path from "node:path";
import { createContext, signal } from "spindel";
import { Peer } from "spindel/distributed";
import { describe, expect, it } from "vitest";
import { syncSignal } from "../../src/distributed/sync/signal-sync.js";
import { eventually, until } from "../distributed/helpers.js";
import { GCounter } from "./counter.js";
import { perTest, sharedRedis } from "./fixtures.js";
import { killAll, spawnHub } from "./process.js";
import { freePort } from "./redis.js";

const redis = sharedRedis();
const { cleanup, tmp } = perTest("spindel-scale-", killAll);

const counterModule = path.join(path.dirname(new URL(import.meta.url).pathname), "counter.ts");

function hubArgs(id: string, port: number, store: string): string[] {
  return [
    "--id",
    id,
    "--port",
    String(port),
    "--store",
    store,
    "--redis",
    redis().url,
    "--import",
    counterModule,
    "-q",
  ];
}

async function client(id: string, url: string) {
  const ctx = createContext({ name: id });
  const peer = await Peer.connect({
    id,
    url,
    context: ctx,
    reconnect: { initialDelayMs: 50, maxDelayMs: 250 },
  });
  cleanup.push(() => peer.close());
  const sig = signal(GCounter.empty());
  const sync = syncSignal(peer, "visits", sig, { context: ctx });
  cleanup.push(() => sync.close());
  await sync.ready;
  return { ctx, peer, sig, sync };
}

describe("hubs scaled out on Redis", () => {
  it("clients on different hubs converge, across a SIGKILLed and restarted hub", async () => {
    const [portA, portB] = [await freePort(), await freePort()];
    const storeB = path.join(tmp(), "b");
    const hubA = spawnHub(hubArgs("hub-a", portA, path.join(tmp(), "a")));
    let hubB = spawnHub(hubArgs("hub-b", portB, storeB));
    // -q prints nothing: wait for /health instead
    const healthy = (port: number) =>
      eventually(
        () =>
          fetch(`http://127.0.0.1:${port}/health`).then(
            (r) => r.ok,
            () => false,
          ),
        `hub on ${port} healthy`,
        20_000,
      );
    await Promise.all([healthy(portA), healthy(portB)]);
    const a = await client("a", `ws://127.0.0.1:${portA}/`);
    const b = await client("b", `ws://127.0.0.1:${portB}/`);
    for (let i = 0; i < 20; i++) a.ctx.update(a.sig, (c) => c.inc("a"));
    for (let i = 0; i < 7; i++) b.ctx.update(b.sig, (c) => c.inc("b"));
    await until(a.ctx, a.sig, (c) => c.value === 27, 10_000);
    await until(b.ctx, b.sig, (c) => c.value === 27, 10_000);

    // hub B dies without a chance to flush anything; A's client keeps writing meanwhile
    hubB.kill("SIGKILL");
    await hubB.exited;
    await until(b.ctx, b.sync.connected, (c) => !c, 10_000);
    for (let i = 0; i < 13; i++) a.ctx.update(a.sig, (c) => c.inc("a"));
    // b writes offline too
    for (let i = 0; i < 3; i++) b.ctx.update(b.sig, (c) => c.inc("b"));
    await new Promise((r) => setImmediate(r)); // the writes' publish goes out a microtask later
    await until(a.ctx, a.sync.pending, (n) => n === 0, 10_000);

    hubB = spawnHub(hubArgs("hub-b", portB, storeB));
    await healthy(portB);
    // b reconnects by itself, B catches up from its store and the stream, both sides converge
    await until(b.ctx, b.sig, (c) => c.value === 43, 15_000);
    await until(a.ctx, a.sig, (c) => c.value === 43, 15_000);
    // a late client on the restarted hub gets it all
    const c = await client("c", `ws://127.0.0.1:${portB}/`);
    await until(c.ctx, c.sig, (v) => v.value === 43, 10_000);
    const m = await (await fetch(`http://127.0.0.1:${portB}/metrics`)).text();
    expect(m).toMatch(/^spindel_hub_topics\{hub="hub-b"\} 1$/m);
    expect(hubA.output()).not.toMatch(/Error/);
  }, 90_000);
});
