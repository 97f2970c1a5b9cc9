/**
 * The stage benchmark (seed 001's shape): 10,000 transactions in batches of 100 committed to a CDVCS
 * on a collector stage and streamed into an array on a second peer (its own LevelDB store, an applied
 * log), against the floor: the same batches sent as raw `ws` CBOR messages and pushed into an array.
 *
 * - throughput: transactions per second from the first commit until the array holds all 10,000;
 * - catch-up: a restarted analysis peer (store reopened from disk, 10,000 already applied) until its
 *   stream is idle, against the floor of receiving the same 100 messages again.
 *
 * Run: `npm run bench -- stage` (writes bench/results/stage.json).
 */
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RawData, WebSocket, WebSocketServer } from "ws";
import { createContext, decodeCbor, encodeCbor } from "../src/core/index.js";
import { createStage, levelStore, memoryStore, Peer, streamIntoIdentity } from "../src/distributed/index.js";
import { writeResults } from "./harness.js";

const TXS = 10_000;
const BATCH = 100;
const ROUNDS = 3;
const user = "mail:collector@example.com";

type Tweet = { id: number; text: string; user: string; ts: number };
const tweet = (i: number): Tweet => ({
  id: i,
  text: `tweet number ${i} about nothing much`,
  user: `u${i % 97}`,
  ts: 1_700_000_000_000 + i,
});
const batches: ["add-tweet", Tweet][][] = Array.from({ length: TXS / BATCH }, (_, b) =>
  Array.from({ length: BATCH }, (_, i) => ["add-tweet", tweet(b * BATCH + i)] as ["add-tweet", Tweet]),
);

async function spindelRound(round: number): Promise<{ throughputMs: number; catchUpMs: number }> {
  const id = `bench-${round}-${Date.now()}`;
  const collectorPeer = await Peer.listen({
    id: "collector",
    host: "127.0.0.1",
    port: 0,
    context: createContext(),
  });
  const collector = await createStage({ peer: collectorPeer, user, store: memoryStore() });
  const tweets = await collector.cdvcs(id);
  const dir = await mkdtemp(join(tmpdir(), "spindel-stage-bench-"));

  const open = async () => {
    const ctx = createContext();
    const store = await levelStore(dir);
    const peer = new Peer({ id: "analysis", context: ctx });
    const stage = await createStage({ peer, user, store, context: ctx });
    await stage.cdvcs(id);
    await stage.connect(collectorPeer.url);
    const texts: string[] = [];
    const stream = streamIntoIdentity(
      stage,
      [user, id],
      { "add-tweet": (arr: string[], t: Tweet) => arr.push(t.text) },
      texts,
      { appliedLog: "analysis" },
    );
    const close = async () => {
      stream.stop();
      await stage.close();
      await peer.close();
      await store.close();
    };
    return { ctx, stream, texts, close };
  };

  const a = await open();
  await a.stream.idle();
  const t0 = performance.now();
  for (const b of batches) await tweets.transact(b);
  await new Promise<void>((resolve) => {
    const check = () => {
      if (a.ctx.get(a.stream.applied) >= TXS) resolve();
      else setTimeout(check, 1);
    };
    check();
  });
  const throughputMs = performance.now() - t0;
  if (a.texts.length !== TXS) throw new Error(`expected ${TXS} applied, got ${a.texts.length}`);
  await a.close();

  const t1 = performance.now();
  const b = await open();
  await b.stream.idle();
  const catchUpMs = performance.now() - t1;
  if (b.texts.length !== 0) throw new Error(`a restart re-applied ${b.texts.length} transactions`);
  await b.close();
  await collector.close();
  await collectorPeer.close();
  await rm(dir, { recursive: true, force: true });
  return { throughputMs, catchUpMs };
}

async function rawRound(): Promise<{ throughputMs: number; catchUpMs: number }> {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await once(wss, "listening");
  const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
  const frames = batches.map((b) => encodeCbor(b));
  const receive = async (): Promise<number> => {
    const connection = once(wss, "connection");
    const ws = new WebSocket(url);
    await once(ws, "open");
    const server = (await connection)[0] as WebSocket;
    const texts: string[] = [];
    const t0 = performance.now();
    const done = new Promise<void>((resolve) => {
      ws.on("message", (data: RawData) => {
        const b = decodeCbor(data as Buffer) as ["add-tweet", Tweet][];
        for (const [, t] of b) texts.push(t.text);
        if (texts.length === TXS) resolve();
      });
    });
    for (const f of frames) server.send(f);
    await done;
    const ms = performance.now() - t0;
    ws.close();
    server.close();
    return ms;
  };
  const throughputMs = await receive();
  const catchUpMs = await receive();
  await new Promise<void>((r) => wss.close(() => r()));
  return { throughputMs, catchUpMs };
}

const round2 = (x: number) => Math.round(x * 100) / 100;
const runs: {
  spindel: { throughputMs: number; catchUpMs: number };
  raw: { throughputMs: number; catchUpMs: number };
}[] = [];
await rawRound(); // warm-up
await spindelRound(-1);
for (let r = 0; r < ROUNDS; r++) {
  const raw = await rawRound();
  const spindel = await spindelRound(r);
  runs.push({ raw, spindel });
  console.log(
    `round ${r}: spindel ${spindel.throughputMs.toFixed(0)} ms (catch-up ${spindel.catchUpMs.toFixed(0)} ms), raw ws ${raw.throughputMs.toFixed(1)} ms (again ${raw.catchUpMs.toFixed(1)} ms)`,
  );
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const thr = runs.map((r) => r.spindel.throughputMs / r.raw.throughputMs);
const cu = runs.map((r) => r.spindel.catchUpMs / r.raw.catchUpMs);
const result = {
  transactions: TXS,
  batch: BATCH,
  rounds: ROUNDS,
  throughputTxPerSec: {
    spindel: Math.round(TXS / (median(runs.map((r) => r.spindel.throughputMs)) / 1000)),
    rawWs: Math.round(TXS / (median(runs.map((r) => r.raw.throughputMs)) / 1000)),
    timeRatio: { median: round2(median(thr)), min: round2(Math.min(...thr)), max: round2(Math.max(...thr)) },
  },
  catchUpAfterRestartMs: {
    spindel: round2(median(runs.map((r) => r.spindel.catchUpMs))),
    rawWsResend: round2(median(runs.map((r) => r.raw.catchUpMs))),
    timeRatio: { median: round2(median(cu)), min: round2(Math.min(...cu)), max: round2(Math.max(...cu)) },
  },
  runs,
};
const out = writeResults("stage", result);
console.log(
  JSON.stringify({ throughput: result.throughputTxPerSec, catchUp: result.catchUpAfterRestartMs }, null, 2),
);
console.log(`written ${out}`);
