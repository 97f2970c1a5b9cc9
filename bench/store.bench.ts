/**
 * Store replication benchmark: the initial replication of 10,000 values of 1 KiB from a levelStore
 * owner to an empty levelStore subscriber over 127.0.0.1, against a raw `ws` bulk copy of the same
 * bytes into the same kind of store, in the same process and the same run; and the resync of an
 * unchanged store (bytes per key). Writes bench/results/store.json.
 *
 *   node --expose-gc --import tsx bench/store.bench.ts
 *
 * Bytes are counted by a TCP proxy between the two sides (WebSocket framing included), both ways.
 * The raw copy reads each record's bytes from the owner's store, sends them in frames of 128
 * records (CBOR `[key, bytes, …]`), and the receiver writes each frame as one batch (one fsync),
 * exactly like one replication bundle, but with no handshake, no acknowledgements, no metadata.
 */
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RawData, WebSocket, WebSocketServer } from "ws";
import { createContext, decodeCbor, encodeCbor } from "../src/core/index.js";
import { exportStore, type KVStore, levelStore, Peer, subscribeStore } from "../src/distributed/index.js";
import { countingProxy } from "../test/distributed/store/proxy.js";
import { writeResults } from "./harness.js";

const KEYS = 10_000;
const VALUE_BYTES = 1024;
const ROUNDS = 5;
const FRAME_RECORDS = 128;

const dir = mkdtempSync(join(tmpdir(), "spindel-store-bench-"));
let fresh = 0;
const freshStore = (): Promise<KVStore> => levelStore(join(dir, `db-${fresh++}`));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function fill(store: KVStore): Promise<number> {
  let payload = 0;
  for (let i = 0; i < KEYS; i += 500) {
    const batch: [string, Uint8Array][] = [];
    for (let j = i; j < Math.min(KEYS, i + 500); j++) {
      const v = new Uint8Array(VALUE_BYTES);
      for (let b = 0; b < VALUE_BYTES; b++) v[b] = (j * 31 + b * 7) & 0xff;
      batch.push([`item/${String(j).padStart(6, "0")}`, v]);
    }
    await store.putMany(batch);
  }
  for await (const k of store.keys()) payload += k.key.length + (await store.getBytes(k.key))!.length;
  return payload;
}

async function count(store: KVStore): Promise<number> {
  let n = 0;
  for await (const _ of store.keys()) n++;
  return n;
}

/** The floor: a raw ws bulk copy of the owner's records into an empty store. */
async function rawCopy(owner: KVStore): Promise<{ ms: number; bytes: number }> {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false });
  await once(wss, "listening");
  const proxy = await countingProxy((wss.address() as AddressInfo).port);
  const target = await freshStore();
  const t0 = performance.now();
  const served = new Promise<void>((resolve) => {
    wss.on("connection", async (ws: WebSocket) => {
      let frame: (string | Uint8Array)[] = [];
      for await (const k of owner.keys()) {
        frame.push(k.key, (await owner.getBytes(k.key))!);
        if (frame.length >= 2 * FRAME_RECORDS) {
          ws.send(encodeCbor(frame));
          frame = [];
        }
      }
      if (frame.length > 0) ws.send(encodeCbor(frame));
      resolve();
    });
  });
  const ws = new WebSocket(proxy.url, { perMessageDeflate: false });
  let written = 0;
  let chain: Promise<unknown> = Promise.resolve();
  const done = new Promise<void>((resolve) => {
    ws.on("message", (data: RawData) => {
      const frame = decodeCbor(data as Buffer) as (string | Uint8Array)[];
      chain = chain.then(async () => {
        const ops = [];
        for (let i = 0; i < frame.length; i += 2)
          ops.push({ op: "put" as const, key: frame[i] as string, bytes: frame[i + 1] as Uint8Array });
        await target.write(ops);
        written += ops.length;
        if (written === KEYS) resolve();
      });
    });
  });
  await served;
  await done;
  const ms = performance.now() - t0;
  const bytes = proxy.up + proxy.down;
  ws.close();
  if ((await count(target)) !== KEYS) throw new Error("raw copy incomplete");
  await target.close();
  await proxy.close();
  await new Promise<void>((r) => wss.close(() => r()));
  return { ms, bytes };
}

/** spindel: exportStore on the owner, subscribeStore of an empty store; then a resync. */
async function replicate(
  owner: KVStore,
  round: number,
): Promise<{ ms: number; bytes: number; resyncBytes: number; resyncMs: number }> {
  const hub = await Peer.listen({ id: "hub", host: "127.0.0.1", port: 0, context: createContext() });
  const proxy = await countingProxy(Number(new URL(hub.url!).port));
  const exp = exportStore(hub, `bench-${round}`, owner);
  const target = await freshStore();
  const t0 = performance.now();
  const client = await Peer.connect({ id: "sub", url: proxy.url, context: createContext() });
  const h = await subscribeStore(client, `bench-${round}`, target);
  const ms = performance.now() - t0;
  const bytes = proxy.up + proxy.down;
  if ((await count(target)) !== KEYS) throw new Error("replication incomplete");
  h.close();
  await client.close();
  // the resync of an unchanged store: a new connection, a new handshake
  proxy.reset();
  const t1 = performance.now();
  const again = await Peer.connect({ id: "sub", url: proxy.url, context: createContext() });
  const before = exp.stats.handshakeItems;
  const h2 = await subscribeStore(again, `bench-${round}`, target);
  const resyncMs = performance.now() - t1;
  const resyncBytes = proxy.up + proxy.down;
  if (exp.stats.handshakeItems !== before) throw new Error("the resync sent records");
  h2.close();
  await again.close();
  exp.close();
  await target.close();
  await hub.close();
  await proxy.close();
  return { ms, bytes, resyncBytes, resyncMs };
}

const owner = await levelStore(join(dir, "owner"));
const payloadBytes = await fill(owner);
const gc = (globalThis as { gc?: () => void }).gc;
// warm-up, unmeasured
await rawCopy(owner);
await replicate(owner, -1);
const raw: { ms: number; bytes: number }[] = [];
const spindel: { ms: number; bytes: number; resyncBytes: number; resyncMs: number }[] = [];
for (let r = 0; r < ROUNDS; r++) {
  gc?.();
  raw.push(await rawCopy(owner));
  gc?.();
  spindel.push(await replicate(owner, r));
  console.log(
    `round ${r}: raw ${raw[r]!.ms.toFixed(0)} ms ${raw[r]!.bytes} B; spindel ${spindel[r]!.ms.toFixed(0)} ms ${spindel[r]!.bytes} B; resync ${spindel[r]!.resyncBytes} B`,
  );
}
await owner.close();
rmSync(dir, { recursive: true, force: true });

const timeRatio = median(spindel.map((s, i) => s.ms / raw[i]!.ms));
const bytesRatio = median(spindel.map((s, i) => s.bytes / raw[i]!.bytes));
const resyncBytesPerKey = median(spindel.map((s) => s.resyncBytes / KEYS));
const results = {
  setup: {
    keys: KEYS,
    valueBytes: VALUE_BYTES,
    payloadBytes,
    rounds: ROUNDS,
    store: "levelStore (classic-level, fsync per batch) on both sides",
    rawFrameRecords: FRAME_RECORDS,
    replication: "exportStore defaults: bundles of 128 records / 256 KiB, one acknowledgement each",
  },
  rawMs: raw.map((r) => Math.round(r.ms)),
  rawBytes: raw.map((r) => r.bytes),
  spindelMs: spindel.map((s) => Math.round(s.ms)),
  spindelBytes: spindel.map((s) => s.bytes),
  resyncBytes: spindel.map((s) => s.resyncBytes),
  resyncMs: spindel.map((s) => Math.round(s.resyncMs)),
  ratios: {
    timeVsRaw: Number(timeRatio.toFixed(2)),
    bytesVsRaw: Number(bytesRatio.toFixed(3)),
    resyncBytesPerKey: Number(resyncBytesPerKey.toFixed(1)),
  },
  targets: { timeVsRaw: 2, bytesVsRaw: 1.1, resyncBytesPerKey: 64 },
  met: {
    timeVsRaw: timeRatio <= 2,
    bytesVsRaw: bytesRatio <= 1.1,
    resyncBytesPerKey: resyncBytesPerKey <= 64,
  },
};
console.log(JSON.stringify(results.ratios), JSON.stringify(results.met));
console.log(`wrote ${writeResults("store", results)}`);
