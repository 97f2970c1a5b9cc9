/**
 * Hub benchmark: hubs on one real redis-server (started here on a free port), all in this process.
 *
 * - Latency: a write by a client of hub A until it arrives at a client of hub B (p50, p99), one
 *   write at a time, against the floor: a raw Redis `XADD` by one connection until a blocked
 *   `XREAD` on another returns it.
 * - Throughput: clients spread over 1 hub vs 2 hubs each increment a shared PN-counter; writes/s
 *   from the first write until every client has the total (convergence), against a raw
 *   `XADD` stream read to its end by another connection.
 *
 *   node --expose-gc --import tsx bench/hub.bench.ts
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { type Context, createContext, type Signal, signal, spin } from "../src/core/index.js";
import { PNCounter } from "../src/distributed/crdt/index.js";
import { type Hub, startHub } from "../src/distributed/hub/index.js";
import { Peer, syncSignal } from "../src/distributed/index.js";
import { startRedis } from "../test/hub/redis.js";
import { writeResults } from "./harness.js";

const LATENCY_WARMUP = 100;
const LATENCY_SAMPLES = 1_000;
const CLIENTS = 8;
const WRITES_PER_CLIENT = 500;
const ROUNDS = 3;

interface Latency {
  p50Us: number;
  p99Us: number;
  meanUs: number;
}

function stats(us: number[]): Latency {
  const s = [...us].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))] as number;
  return { p50Us: at(0.5), p99Us: at(0.99), meanUs: s.reduce((a, b) => a + b, 0) / s.length };
}

/** Resolves when `pred` holds for `sig` in `ctx`. */
function when<T>(ctx: Context, sig: Signal<T>, pred: (v: T) => boolean): Promise<void> {
  return new Promise((resolve) => {
    let stop: (() => void) | null = null;
    let done = false;
    stop = ctx.observe(
      spin(($) => $.track(sig)),
      (v) => {
        if (!done && pred(v)) {
          done = true;
          queueMicrotask(() => stop?.());
          resolve();
        }
      },
    );
  });
}

const redis = await startRedis();
const dir = mkdtempSync(path.join(tmpdir(), "spindel-hub-bench-"));
let nextStore = 0;
const hub = (id: string): Promise<Hub> =>
  startHub({ id, port: 0, store: path.join(dir, `s${nextStore++}`), redis: redis.url });

async function client(id: string, h: Hub, topic: string) {
  const ctx = createContext({ name: id });
  const peer = await Peer.connect({ id, url: h.url, context: ctx });
  const sig = signal(PNCounter.empty());
  const sync = syncSignal(peer, topic, sig, { context: ctx });
  await sync.ready;
  return { id, ctx, peer, sig, sync };
}

// ---- floor: raw XADD -> blocked XREAD
async function redisLatency(): Promise<Latency> {
  const w = new Redis(redis.url);
  const r = new Redis(redis.url);
  const key = "bench:floor";
  let last = "0";
  const us: number[] = [];
  for (let i = 0; i < LATENCY_WARMUP + LATENCY_SAMPLES; i++) {
    const read = r.xread("BLOCK", 5_000, "STREAMS", key, last);
    // the read must be blocked before the append, or it is not a round trip
    await new Promise((res) => setImmediate(res));
    const t0 = performance.now();
    await w.xadd(key, "*", "p", "x");
    const got = await read;
    const t1 = performance.now();
    last = got?.[0]?.[1]?.[0]?.[0] ?? last;
    if (i >= LATENCY_WARMUP) us.push((t1 - t0) * 1000);
  }
  w.disconnect();
  r.disconnect();
  return stats(us);
}

async function redisThroughput(n: number): Promise<number> {
  const w = new Redis(redis.url);
  const r = new Redis(redis.url);
  const key = `bench:tput:${n}:${Math.random()}`;
  const t0 = performance.now();
  const reader = (async () => {
    let last = "0";
    let seen = 0;
    while (seen < n) {
      const got = (await r.xread("COUNT", 1000, "BLOCK", 5_000, "STREAMS", key, last)) as
        | [string, [string, string[]][]][]
        | null;
      const rows = got?.[0]?.[1] ?? [];
      seen += rows.length;
      if (rows.length > 0) last = rows[rows.length - 1]?.[0] as string;
    }
  })();
  await Promise.all(Array.from({ length: n }, () => w.xadd(key, "*", "p", "x")));
  await reader;
  const ms = performance.now() - t0;
  w.disconnect();
  r.disconnect();
  return (n / ms) * 1000;
}

// ---- hubs
async function hubLatency(): Promise<Latency> {
  const a = await hub("lat-a");
  const b = await hub("lat-b");
  const ca = await client("ca", a, "lat");
  const cb = await client("cb", b, "lat");
  const us: number[] = [];
  for (let i = 1; i <= LATENCY_WARMUP + LATENCY_SAMPLES; i++) {
    const arrived = when(cb.ctx, cb.sig, (c) => c.value >= i);
    const t0 = performance.now();
    ca.ctx.update(ca.sig, (c) => c.inc(1, "ca"));
    await arrived;
    if (i > LATENCY_WARMUP) us.push((performance.now() - t0) * 1000);
  }
  await Promise.all([ca.peer.close(), cb.peer.close()]);
  await Promise.all([a.close(), b.close()]);
  return stats(us);
}

async function hubThroughput(hubs: number, round: number): Promise<number> {
  const hs: Hub[] = [];
  for (let i = 0; i < hubs; i++) hs.push(await hub(`t${hubs}-${round}-${i}`));
  const topic = `tput-${hubs}-${round}`;
  const clients = [];
  for (let i = 0; i < CLIENTS; i++) clients.push(await client(`c${i}`, hs[i % hubs] as Hub, topic));
  const total = CLIENTS * WRITES_PER_CLIENT;
  const converged = Promise.all(clients.map((c) => when(c.ctx, c.sig, (v) => v.value === total)));
  const t0 = performance.now();
  // each client writes in bursts of 50 per tick, as an app would under load
  await Promise.all(
    clients.map(async (c) => {
      for (let i = 0; i < WRITES_PER_CLIENT; i++) {
        c.ctx.update(c.sig, (v) => v.inc(1, c.id));
        if (i % 50 === 49) await new Promise((res) => setImmediate(res));
      }
    }),
  );
  await converged;
  const ms = performance.now() - t0;
  await Promise.all(clients.map((c) => c.peer.close()));
  await Promise.all(hs.map((h) => h.close()));
  return (total / ms) * 1000;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

try {
  const floorLatency = await redisLatency();
  const hubLat = await hubLatency();
  const floorTput: number[] = [];
  const one: number[] = [];
  const two: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    floorTput.push(await redisThroughput(CLIENTS * WRITES_PER_CLIENT));
    one.push(await hubThroughput(1, r));
    two.push(await hubThroughput(2, r));
  }
  const result = {
    setup: {
      clients: CLIENTS,
      writesPerClient: WRITES_PER_CLIENT,
      latencySamples: LATENCY_SAMPLES,
      rounds: ROUNDS,
      redis: "redis-server on 127.0.0.1, appendonly yes, appendfsync always",
    },
    latency: {
      redisXaddXread: floorLatency,
      hubToHub: hubLat,
      ratioP50: hubLat.p50Us / floorLatency.p50Us,
      ratioP99: hubLat.p99Us / floorLatency.p99Us,
    },
    throughput: {
      redisXaddXreadWritesPerSec: median(floorTput),
      oneHubWritesPerSec: median(one),
      twoHubsWritesPerSec: median(two),
      twoVsOne: median(two) / median(one),
      oneHubVsRedis: median(one) / median(floorTput),
      twoHubsVsRedis: median(two) / median(floorTput),
      runs: { redis: floorTput, oneHub: one, twoHubs: two },
    },
  };
  const file = writeResults("hub", result);
  console.log(JSON.stringify(result, null, 2));
  console.log(`wrote ${file}`);
} finally {
  await redis.dispose();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
