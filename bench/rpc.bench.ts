/**
 * Remote-call benchmark: round-trip latency (p50, p99) and pipelined calls per second of a
 * spindel remote call over WebSocket, against a raw `ws` echo of the same CBOR payload, in the
 * same process and the same run. Writes bench/results/rpc.json.
 *
 *   node --expose-gc --import tsx bench/rpc.bench.ts
 *
 * Both sides (caller and callee) run in this one process, on 127.0.0.1, as in the ws baseline of
 * the research notes; the raw echo encodes the payload once, the server echoes the bytes, the
 * client decodes them. A spindel call additionally builds the invoke frame, validates and decodes
 * it on the callee, looks the body up, runs it as a spin in the callee's context, encodes the
 * result frame, and validates, decodes and settles it on the caller.
 */
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { type RawData, WebSocket, WebSocketServer } from "ws";
import { createContext, decodeCbor, encodeCbor } from "../src/core/index.js";
import { invokeRemote, Peer, registerRemote } from "../src/distributed/index.js";
import { writeResults } from "./harness.js";

const LATENCY_WARMUP = 2_000;
const LATENCY_SAMPLES = 10_000;
const PIPELINE_CALLS = 20_000;
const PIPELINE_ROUNDS = 5;
/** Calls kept in flight by the windowed pipeline (the burst variant issues all of them at once). */
const WINDOW = 256;

const payload = {
  id: 12_345,
  name: "widget",
  tags: ["alpha", "beta", "gamma"],
  price: 9.99,
  active: true,
  dims: { w: 3, h: 4 },
};
const payloadBytes = encodeCbor(payload).length;

const gc = (globalThis as { gc?: () => void }).gc;

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

interface Latency {
  p50Us: number;
  p99Us: number;
  meanUs: number;
}

/** All `n` calls at once. */
function burst(roundTrip: () => Promise<unknown>, n: number): Promise<unknown> {
  return Promise.all(Array.from({ length: n }, roundTrip));
}

/** `n` calls with at most WINDOW in flight: each completion starts the next. */
function windowed(roundTrip: () => Promise<unknown>, n: number): Promise<unknown> {
  let started = 0;
  const lane = async (): Promise<void> => {
    while (started < n) {
      started++;
      await roundTrip();
    }
  };
  return Promise.all(Array.from({ length: Math.min(WINDOW, n) }, lane));
}

/** A system under test: a round trip of the payload, and teardown. */
interface Subject {
  roundTrip: () => Promise<unknown>;
  close: () => Promise<void>;
}

// ---------------------------------------------------------------- raw ws echo

async function rawEcho(): Promise<Subject> {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false });
  await once(wss, "listening");
  wss.on("connection", (s) =>
    s.on("message", (d: RawData, bin: boolean) => s.send(d as Buffer, { binary: bin })),
  );
  const ws = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, {
    perMessageDeflate: false,
  });
  await once(ws, "open");
  let waiting: ((v: unknown) => void)[] = [];
  let head = 0;
  ws.on("message", (d: RawData) => {
    const v = decodeCbor(d as Buffer);
    const w = waiting[head++]!;
    if (head === waiting.length) {
      waiting = [];
      head = 0;
    }
    w(v);
  });
  return {
    roundTrip: () =>
      new Promise((resolve) => {
        waiting.push(resolve);
        ws.send(encodeCbor(payload), { binary: true });
      }),
    async close() {
      ws.close();
      await once(ws, "close");
      await new Promise<void>((r) => wss.close(() => r()));
    },
  };
}

// ---------------------------------------------------------------- spindel remote call

async function spindelCall(): Promise<Subject> {
  const echo = registerRemote("bench/rpc:echo:0", ["v"], "bench-echo", (v) => () => v);
  const hub = await Peer.listen({ id: "hub", host: "127.0.0.1", port: 0, context: createContext() });
  const client = await Peer.connect({ id: "bench", url: hub.url });
  const server = client.remote("hub");
  const ctx = createContext();
  const roundTrip = (): Promise<unknown> => ctx.value(invokeRemote(echo, server, [payload]));
  const check = (await roundTrip()) as typeof payload;
  if (check.name !== payload.name || check.dims.h !== 4) throw new Error("echo returned a different payload");
  return {
    roundTrip,
    async close() {
      await client.close();
      await hub.close();
    },
  };
}

// ---------------------------------------------------------------- measurement
// Both subjects stay up and are measured block by block, alternating, so a change of machine load
// during the run hits both alike.

const BLOCKS = 20;
/**
 * Unmeasured round trips after each forced `gc()`. A full collection deoptimizes optimized code
 * that embeds objects it frees (V8's "weak objects" deopts), hitting the subject with more
 * optimized code harder: right after `gc()` a spindel call runs about twice as slow, and it takes
 * some 2,000–4,000 calls to re-optimize. Re-warming measures both subjects at steady state.
 */
const REWARM = 4_000;
const subjects = { raw: await rawEcho(), rpc: await spindelCall() };
type Name = keyof typeof subjects;
const names: Name[] = ["raw", "rpc"];

for (const n of names) for (let i = 0; i < LATENCY_WARMUP; i++) await subjects[n].roundTrip();
const samples: Record<Name, Float64Array> = {
  raw: new Float64Array(LATENCY_SAMPLES),
  rpc: new Float64Array(LATENCY_SAMPLES),
};
const perBlock = LATENCY_SAMPLES / BLOCKS;
for (let b = 0; b < BLOCKS; b++) {
  for (const n of names) {
    gc?.();
    const rt = subjects[n].roundTrip;
    for (let i = 0; i < REWARM; i++) await rt();
    const xs = samples[n];
    for (let i = b * perBlock; i < (b + 1) * perBlock; i++) {
      const t0 = performance.now();
      await rt();
      xs[i] = (performance.now() - t0) * 1000;
    }
  }
}
/**
 * p50 ratio paired by block: spindel's p50 in block b over the raw echo's p50 in block b (measured
 * just before it), then the median over blocks. A burst of load from other jobs hits one pair, not
 * the pooled distribution of one subject.
 */
function pairedP50Ratios(): number[] {
  const ratios: number[] = [];
  for (let b = 0; b < BLOCKS; b++) {
    const p50 = (xs: Float64Array): number => {
      const block = xs.slice(b * perBlock, (b + 1) * perBlock).sort();
      return percentile(block, 0.5);
    };
    ratios.push(p50(samples.rpc) / p50(samples.raw));
  }
  return ratios.sort((x, y) => x - y);
}
const paired = pairedP50Ratios();

function summarize(xs: Float64Array): Latency {
  xs.sort();
  let sum = 0;
  for (const x of xs) sum += x;
  return { p50Us: percentile(xs, 0.5), p99Us: percentile(xs, 0.99), meanUs: sum / xs.length };
}

async function rates(
  run: (rt: () => Promise<unknown>, n: number) => Promise<unknown>,
): Promise<Record<Name, number>> {
  for (const n of names) await run(subjects[n].roundTrip, 2_000); // warm-up
  const got: Record<Name, number[]> = { raw: [], rpc: [] };
  for (let r = 0; r < PIPELINE_ROUNDS; r++) {
    for (const n of names) {
      gc?.();
      await run(subjects[n].roundTrip, REWARM);
      const t0 = performance.now();
      await run(subjects[n].roundTrip, PIPELINE_CALLS);
      got[n].push(PIPELINE_CALLS / ((performance.now() - t0) / 1000));
    }
  }
  const median = (xs: number[]): number => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return { raw: median(got.raw), rpc: median(got.rpc) };
}

const latencyOf = { raw: summarize(samples.raw), rpc: summarize(samples.rpc) };
const windowedRate = await rates(windowed);
const burstRate = await rates(burst);
await subjects.rpc.close();
await subjects.raw.close();
// ---------------------------------------------------------------- deadline cost
// 100,000 calls issued at once, each with its own deadline (10 min: none fires), so both sides hold 100,000 live
// deadlines: every call with a distinct timeoutMs (600,000 + i/1000 ms) against every call with the
// same one. Deadlines grouped by exact duration made the distinct case quadratic; the heap makes
// every deadline operation O(log n) whatever the values.
const DEADLINE_CALLS = 100_000;
const DEADLINE_ROUNDS = 3;

async function deadlineRates(): Promise<{ one: number; distinct: number }> {
  const echo = registerRemote("bench/rpc:deadline-echo:0", ["v"], "bench-deadline-echo", (v) => () => v);
  const big = { maxPendingCalls: 200_000, maxInflightCalls: 200_000, maxInflightCallsTotal: 200_000 };
  const hub = await Peer.listen({
    id: "dl-hub",
    host: "127.0.0.1",
    port: 0,
    context: createContext(),
    limits: big,
  });
  const client = await Peer.connect({ id: "dl-bench", url: hub.url, limits: big });
  const ctx = createContext();
  const run = async (distinct: boolean): Promise<number> => {
    const scopes = Array.from({ length: DEADLINE_CALLS }, (_, i) =>
      client.remote("dl-hub", { timeoutMs: distinct ? 600_000 + i / 1000 : 600_000 }),
    );
    gc?.();
    const t0 = performance.now();
    await Promise.all(scopes.map((s) => ctx.value(invokeRemote(echo, s, [payload]))));
    return DEADLINE_CALLS / ((performance.now() - t0) / 1000);
  };
  await run(false); // warm-up
  await run(true);
  const got = { one: [] as number[], distinct: [] as number[] };
  for (let r = 0; r < DEADLINE_ROUNDS; r++) {
    got.one.push(await run(false));
    got.distinct.push(await run(true));
  }
  await client.close();
  await hub.close();
  const median = (xs: number[]): number => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  return { one: median(got.one), distinct: median(got.distinct) };
}

const deadlineRate = await deadlineRates();

const raw = { latency: latencyOf.raw, windowed: windowedRate.raw, burst: burstRate.raw };
const rpc = { latency: latencyOf.rpc, windowed: windowedRate.rpc, burst: burstRate.rpc };

const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d;
const result = {
  date: new Date().toISOString(),
  node: process.version,
  setup:
    "caller and callee in one process, 127.0.0.1, perMessageDeflate off, CBOR payload; raw and spindel measured in alternating blocks, each after gc() and an unmeasured re-warm",
  payloadBytes,
  latencyUs: {
    rawEcho: {
      p50: round(raw.latency.p50Us),
      p99: round(raw.latency.p99Us),
      mean: round(raw.latency.meanUs),
    },
    spindel: {
      p50: round(rpc.latency.p50Us),
      p99: round(rpc.latency.p99Us),
      mean: round(rpc.latency.meanUs),
    },
    ratioP50: round(rpc.latency.p50Us / raw.latency.p50Us, 2),
    ratioP50PairedByBlock: {
      median: round(paired[Math.floor(BLOCKS / 2)]!, 2),
      min: round(paired[0]!, 2),
      max: round(paired[BLOCKS - 1]!, 2),
      blocks: BLOCKS,
    },
    ratioP99: round(rpc.latency.p99Us / raw.latency.p99Us, 2),
    samples: LATENCY_SAMPLES,
  },
  pipelinedPerSec: {
    window: WINDOW,
    rawEcho: Math.round(raw.windowed),
    spindel: Math.round(rpc.windowed),
    ratio: round(rpc.windowed / raw.windowed, 2),
    callsPerRound: PIPELINE_CALLS,
    rounds: PIPELINE_ROUNDS,
  },
  burstPerSec: {
    note: "all calls of a round issued at once (20,000 in flight)",
    rawEcho: Math.round(raw.burst),
    spindel: Math.round(rpc.burst),
    ratio: round(rpc.burst / raw.burst, 2),
  },
  deadlines: {
    note: `${DEADLINE_CALLS} calls at once, each with its own deadline on both sides; median of ${DEADLINE_ROUNDS} rounds`,
    oneDeadlinePerSec: Math.round(deadlineRate.one),
    distinctDeadlinesPerSec: Math.round(deadlineRate.distinct),
    /** time with distinct deadlines over time with one deadline */
    costRatio: round(deadlineRate.one / deadlineRate.distinct, 2),
  },
  targets: { p50RatioAtMost: 1.5, throughputRatioAtLeast: 0.5, deadlineCostRatioAtMost: 1.5 },
  met: {
    p50: rpc.latency.p50Us / raw.latency.p50Us <= 1.5,
    p50PairedByBlock: paired[Math.floor(BLOCKS / 2)]! <= 1.5,
    throughput: rpc.windowed / raw.windowed >= 0.5,
    deadlines: deadlineRate.one / deadlineRate.distinct <= 1.5,
  },
};

const out = writeResults("rpc", result);
console.log(
  [
    `payload ${payloadBytes} B`,
    `latency p50: raw ${result.latencyUs.rawEcho.p50} µs, spindel ${result.latencyUs.spindel.p50} µs (x${result.latencyUs.ratioP50}, target <= 1.5)`,
    `latency p50 ratio paired by block: median x${result.latencyUs.ratioP50PairedByBlock.median} (x${result.latencyUs.ratioP50PairedByBlock.min}–x${result.latencyUs.ratioP50PairedByBlock.max} over ${BLOCKS} blocks)`,
    `latency p99: raw ${result.latencyUs.rawEcho.p99} µs, spindel ${result.latencyUs.spindel.p99} µs (x${result.latencyUs.ratioP99})`,
    `pipelined (${WINDOW} in flight): raw ${result.pipelinedPerSec.rawEcho}/s, spindel ${result.pipelinedPerSec.spindel}/s (x${result.pipelinedPerSec.ratio}, target >= 0.5)`,
    `burst (${PIPELINE_CALLS} at once): raw ${result.burstPerSec.rawEcho}/s, spindel ${result.burstPerSec.spindel}/s (x${result.burstPerSec.ratio})`,
    `deadlines (${DEADLINE_CALLS} at once): one ${result.deadlines.oneDeadlinePerSec}/s, distinct ${result.deadlines.distinctDeadlinesPerSec}/s (cost x${result.deadlines.costRatio}, target <= 1.5)`,
    `written ${out}`,
  ].join("\n"),
);
