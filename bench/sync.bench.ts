/**
 * Signal sync benchmark, in one process over real WebSockets on 127.0.0.1:
 *
 * 1. Fan-in: a hub and 3 clients, 10,000 random map writes spread over the clients (one write
 *    per `set`, issued in chunks of 100 per macrotask); the time until every replica is equal and
 *    the bytes handed to the sockets. spindel: an `ORMap` signal synced with `syncSignal` (deltas,
 *    relayed by the owning hub, acknowledged). Anchor: Yjs `Y.Map` with y-protocols sync step 1/2 and
 *    update messages over raw `ws`, the hub relaying every update to the other clients.
 * 2. Broadcast: one LWW signal write reaching 100 subscribers, vs a raw `ws` broadcast of the same
 *    bytes to 100 sockets (median over rounds).
 *
 *   node --expose-gc --import tsx bench/sync.bench.ts
 */
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import * as decoding from "lib0/decoding";
import * as encoding from "lib0/encoding";
import { type RawData, WebSocket, WebSocketServer } from "ws";
import * as syncProtocol from "y-protocols/sync";
import * as Y from "yjs";
import { type Context, createContext, encodeCbor, type Signal, signal } from "../src/core/index.js";
import { ORMap } from "../src/distributed/crdt/index.js";
import { Peer, syncSignal } from "../src/distributed/index.js";
import { seededRandom } from "../src/distributed/testing/index.js";
import { writeResults } from "./harness.js";

const WRITES = 10_000;
const KEYS = 1_000;
const CLIENTS = 3;
const CHUNK = 100;
const ROUNDS = 5;
const SUBSCRIBERS = 100;
const BROADCASTS = 200;

// every byte handed to a socket, both setups (the ws payload, without WebSocket framing)
let wireBytes = 0;
const origSend = WebSocket.prototype.send;
WebSocket.prototype.send = function (this: WebSocket, data: unknown, ...rest: unknown[]) {
  wireBytes += (data as { byteLength?: number }).byteLength ?? String(data).length;
  return (origSend as (...a: unknown[]) => void).call(this, data, ...rest);
} as typeof WebSocket.prototype.send;

const gc = (globalThis as { gc?: () => void }).gc;

/** A seeded PRNG: the same workload for both setups. */
const rng = seededRandom;

const workload = (() => {
  const r = rng(42);
  return Array.from({ length: WRITES }, (_, i) => ({
    client: i % CLIENTS,
    key: `k${Math.floor(r() * KEYS)}`,
    value: i,
  }));
})();

const turn = () => new Promise((r) => setImmediate(r));

async function waitFor(check: () => boolean, what: string, ms = 120_000): Promise<void> {
  const end = performance.now() + ms;
  while (!check()) {
    if (performance.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

interface Run {
  ms: number;
  bytes: number;
}

// ---------------------------------------------------------------- spindel

async function spindelFanIn(): Promise<Run> {
  const hubCtx = createContext({ name: "hub" });
  const hub = await Peer.listen({ id: "hub", host: "127.0.0.1", port: 0, context: hubCtx });
  const m = signal(ORMap.empty<string, number>("hub"));
  syncSignal(hub, "m", m as Signal<ORMap<string, number>>, { owner: true });
  const clients: { peer: Peer; ctx: Context }[] = [];
  for (let i = 0; i < CLIENTS; i++) {
    const ctx = createContext({ name: `c${i}` });
    ctx.set(m, ORMap.empty<string, number>(`c${i}`));
    const peer = await Peer.connect({ id: `c${i}`, url: hub.url, context: ctx });
    await syncSignal(peer, "m", m).ready;
    clients.push({ peer, ctx });
  }
  const ctxs = [hubCtx, ...clients.map((c) => c.ctx)];
  gc?.();
  wireBytes = 0;
  const t0 = performance.now();
  for (let i = 0; i < WRITES; i++) {
    const w = workload[i]!;
    const ctx = clients[w.client]!.ctx;
    ctx.set(m, ctx.get(m).set(w.key, w.value));
    if (i % CHUNK === CHUNK - 1) await turn();
  }
  await waitFor(() => ctxs.every((c) => c.get(m).equals(hubCtx.get(m))), "spindel replicas equal");
  const ms = performance.now() - t0;
  const bytes = wireBytes;
  if (hubCtx.get(m).size !== new Set(workload.map((w) => w.key)).size)
    throw new Error("spindel: keys missing");
  for (const c of clients) await c.peer.close();
  await hub.close();
  return { ms, bytes };
}

// ---------------------------------------------------------------- Yjs + y-protocols over raw ws

function syncMessage(write: (e: encoding.Encoder) => void): Uint8Array {
  const e = encoding.createEncoder();
  write(e);
  return encoding.toUint8Array(e);
}

async function yjsFanIn(): Promise<Run> {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false });
  await once(wss, "listening");
  const hubDoc = new Y.Doc();
  const conns = new Set<WebSocket>();
  hubDoc.on("update", (update: Uint8Array, origin: unknown) => {
    const msg = syncMessage((e) => syncProtocol.writeUpdate(e, update));
    for (const c of conns) if (c !== origin) c.send(msg);
  });
  wss.on("connection", (s: WebSocket) => {
    conns.add(s);
    s.on("message", (d: RawData) => {
      const enc = encoding.createEncoder();
      syncProtocol.readSyncMessage(decoding.createDecoder(new Uint8Array(d as Buffer)), enc, hubDoc, s);
      if (encoding.length(enc) > 0) s.send(encoding.toUint8Array(enc));
    });
    s.send(syncMessage((e) => syncProtocol.writeSyncStep1(e, hubDoc)));
  });
  const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
  const clients: { doc: Y.Doc; ws: WebSocket }[] = [];
  for (let i = 0; i < CLIENTS; i++) {
    const doc = new Y.Doc();
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.binaryType = "nodebuffer";
    ws.on("message", (d: RawData) => {
      const enc = encoding.createEncoder();
      syncProtocol.readSyncMessage(decoding.createDecoder(new Uint8Array(d as Buffer)), enc, doc, "remote");
      if (encoding.length(enc) > 0) ws.send(encoding.toUint8Array(enc));
    });
    doc.on("update", (update: Uint8Array, origin: unknown) => {
      if (origin !== "remote") ws.send(syncMessage((e) => syncProtocol.writeUpdate(e, update)));
    });
    await once(ws, "open");
    ws.send(syncMessage((e) => syncProtocol.writeSyncStep1(e, doc)));
    clients.push({ doc, ws });
  }
  const docs = [hubDoc, ...clients.map((c) => c.doc)];
  const sv = (d: Y.Doc) => Buffer.from(Y.encodeStateVector(d)).toString("base64");
  await waitFor(() => docs.every((d) => sv(d) === sv(hubDoc)), "yjs handshake");
  gc?.();
  wireBytes = 0;
  const t0 = performance.now();
  for (let i = 0; i < WRITES; i++) {
    const w = workload[i]!;
    clients[w.client]!.doc.getMap<number>("m").set(w.key, w.value);
    if (i % CHUNK === CHUNK - 1) await turn();
  }
  await waitFor(() => docs.every((d) => sv(d) === sv(hubDoc)), "yjs replicas equal");
  const ms = performance.now() - t0;
  const bytes = wireBytes;
  if (hubDoc.getMap("m").size !== new Set(workload.map((w) => w.key)).size)
    throw new Error("yjs: keys missing");
  for (const c of clients) c.ws.close();
  for (const s of conns) s.terminate();
  await new Promise<void>((r) => wss.close(() => r()));
  return { ms, bytes };
}

// ---------------------------------------------------------------- one write to 100 subscribers

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function spindelBroadcast(): Promise<{ us: number; frameBytes: number }> {
  const hubCtx = createContext({ name: "hub" });
  const hub = await Peer.listen({ id: "hub", host: "127.0.0.1", port: 0, context: hubCtx });
  const v = signal(0);
  syncSignal(hub, "v", v, { owner: true });
  const peers: Peer[] = [];
  let seen = 0;
  let target = -1;
  let done: (() => void) | null = null;
  for (let i = 0; i < SUBSCRIBERS; i++) {
    const ctx = createContext({ name: `s${i}` });
    const p = await Peer.connect({ id: `s${i}`, url: hub.url, context: ctx });
    await syncSignal(p, "v", v).ready;
    ctx.observe(
      // count each subscriber once when it reaches the target value
      (await import("../src/core/index.js")).spin(($) => $.track(v)),
      (x) => {
        if (x === target && ++seen === SUBSCRIBERS) done?.();
      },
    );
    peers.push(p);
  }
  const samples: number[] = [];
  let frameBytes = 0;
  for (let r = 0; r < BROADCASTS + 20; r++) {
    seen = 0;
    target = r + 1;
    const all = new Promise<void>((res) => {
      done = res;
    });
    const b0 = wireBytes;
    const t0 = performance.now();
    hubCtx.set(v, target);
    await all;
    const us = (performance.now() - t0) * 1000;
    if (r >= 20) samples.push(us);
    frameBytes = (wireBytes - b0) / SUBSCRIBERS;
    await turn();
  }
  for (const p of peers) await p.close();
  await hub.close();
  return { us: median(samples), frameBytes };
}

async function rawBroadcast(frameBytes: number): Promise<number> {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false });
  await once(wss, "listening");
  const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
  const socks: WebSocket[] = [];
  let seen = 0;
  let done: (() => void) | null = null;
  for (let i = 0; i < SUBSCRIBERS; i++) {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.on("message", () => {
      if (++seen === SUBSCRIBERS) done?.();
    });
    await once(ws, "open");
    socks.push(ws);
  }
  const samples: number[] = [];
  for (let r = 0; r < BROADCASTS + 20; r++) {
    seen = 0;
    const all = new Promise<void>((res) => {
      done = res;
    });
    const t0 = performance.now();
    // the same number of bytes, encoded once per round as the hub encodes once per publish
    const bytes = encodeCbor({ pad: new Uint8Array(Math.max(0, Math.round(frameBytes) - 8)), r });
    for (const c of wss.clients) c.send(bytes);
    await all;
    const us = (performance.now() - t0) * 1000;
    if (r >= 20) samples.push(us);
    await turn();
  }
  for (const s of socks) s.close();
  await new Promise<void>((r) => wss.close(() => r()));
  return median(samples);
}

// ---------------------------------------------------------------- run

async function main(): Promise<void> {
  // warm both once, then alternate rounds
  await spindelFanIn();
  await yjsFanIn();
  const sp: Run[] = [];
  const yj: Run[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    sp.push(await spindelFanIn());
    yj.push(await yjsFanIn());
    console.log(
      `round ${r + 1}: spindel ${sp[r]!.ms.toFixed(0)} ms ${sp[r]!.bytes} B | yjs ${yj[r]!.ms.toFixed(0)} ms ${yj[r]!.bytes} B`,
    );
  }
  const spMs = median(sp.map((x) => x.ms));
  const yjMs = median(yj.map((x) => x.ms));
  const spB = median(sp.map((x) => x.bytes));
  const yjB = median(yj.map((x) => x.bytes));
  const bc = await spindelBroadcast();
  const raw = await rawBroadcast(bc.frameBytes);
  const result = {
    setup: `hub + ${CLIENTS} clients in one process, 127.0.0.1, perMessageDeflate off; ${WRITES} writes over ${KEYS} keys, chunks of ${CHUNK} per macrotask; medians of ${ROUNDS} alternating rounds after a warm-up; bytes = ws payloads handed to send() (both directions, all sockets)`,
    fanIn: {
      spindel: { ms: Math.round(spMs), bytes: spB },
      yjs: { ms: Math.round(yjMs), bytes: yjB },
      timeRatio: +(spMs / yjMs).toFixed(2),
      bytesRatio: +(spB / yjB).toFixed(2),
      rounds: { spindel: sp, yjs: yj },
    },
    broadcast: {
      subscribers: SUBSCRIBERS,
      samples: BROADCASTS,
      frameBytesPerSubscriber: Math.round(bc.frameBytes),
      spindelUs: Math.round(bc.us),
      rawWsUs: Math.round(raw),
      ratio: +(bc.us / raw).toFixed(2),
    },
  };
  console.log(
    JSON.stringify({ fanIn: { ...result.fanIn, rounds: undefined }, broadcast: result.broadcast }, null, 2),
  );
  writeResults("sync", result);
}

await main();
