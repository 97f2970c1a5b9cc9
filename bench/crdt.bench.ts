/**
 * Convergent datatypes benchmark: spindel's `ORMap` against Yjs's `Y.Map`, and converge's `ref`
 * against Automerge, on the same workloads in the same process and the same rounds.
 *
 *   node --expose-gc --import tsx bench/crdt.bench.ts
 *
 * Map workload: 3 actors make 10,000 random key sets and deletes (seeded) on one map, delivering
 * their updates to each other every 50 operations. Measured: the time for a fresh replica to
 * decode and apply every update (one by one, in the order they were made), and the encoded bytes
 * of the full state and of all the updates. Array workload: 2 actors append 1,000 items to one
 * array (500 each, syncing every 10 appends); measured: the time of the whole run (appends and
 * syncs), the time to load the full state into a fresh replica, and the encoded bytes.
 * Replicas are named alike on both sides: Yjs clientIDs 1, 2, 3 and ORMap actors "1", "2", "3"
 * (each update names its writer, so longer ids cost bytes on both sides).
 * Ratios are spindel / anchor (lower is better; the target is ≤ 1.5). Writes
 * bench/results/crdt.json. Speed is never asserted.
 */
import * as Automerge from "@automerge/automerge";
import * as Y from "yjs";
import { decodeCbor, encodeCbor } from "../src/core/persist/codec.js";
import { ORMap, type Ref, ref, refFromOps } from "../src/distributed/crdt/index.js";
import { writeResults } from "./harness.js";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const OPS = 10_000;
const KEYS = 1_000;
const SYNC_EVERY = 50;
const gc = (globalThis as { gc?: () => void }).gc;

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface MapOp {
  actor: number;
  key: string;
  /** `null` deletes */
  value: number | null;
}

const rand = rng(12);
const ops: MapOp[] = Array.from({ length: OPS }, (_, i) => ({
  actor: i % 3,
  key: `k${Math.floor(rand() * KEYS)}`,
  value: rand() < 0.25 ? null : Math.floor(rand() * 1e6),
}));

/** Runs the map workload on three Y.Docs; returns every local update (bytes) in order. */
function yjsRun(): { updates: Uint8Array[]; full: Uint8Array; final: Record<string, unknown> } {
  const docs = [0, 1, 2].map((i) => {
    const d = new Y.Doc();
    d.clientID = i + 1;
    return d;
  });
  const updates: Uint8Array[] = [];
  const outbox: Uint8Array[][] = [[], [], []];
  for (const [i, d] of docs.entries())
    d.on("update", (u: Uint8Array, origin: unknown) => {
      if (origin === "remote") return;
      updates.push(u);
      outbox[i]?.push(u);
    });
  ops.forEach((op, i) => {
    const m = (docs[op.actor] as Y.Doc).getMap<number>("m");
    if (op.value === null) {
      if (m.has(op.key)) m.delete(op.key);
    } else m.set(op.key, op.value);
    if ((i + 1) % SYNC_EVERY === 0) deliver();
  });
  deliver();
  function deliver() {
    outbox.forEach((box, from) => {
      for (const u of box)
        for (const [to, d] of docs.entries()) if (to !== from) Y.applyUpdate(d, u, "remote");
      box.length = 0;
    });
  }
  const d0 = docs[0] as Y.Doc;
  return { updates, full: Y.encodeStateAsUpdate(d0), final: d0.getMap("m").toJSON() };
}

/** The same workload on three ORMaps; every local delta encoded with the shared codec. */
function ormapRun(): { updates: Uint8Array[]; full: Uint8Array; final: Record<string, unknown> } {
  const reps = [0, 1, 2].map((i) => ORMap.empty<string, number>(String(i + 1)));
  const updates: Uint8Array[] = [];
  const outbox: Uint8Array[][] = [[], [], []];
  ops.forEach((op, i) => {
    let r = reps[op.actor] as ORMap<string, number>;
    r = op.value === null ? r.delete(op.key) : r.set(op.key, op.value);
    if (r.delta !== null) {
      const u = encodeCbor(r.delta);
      updates.push(u);
      outbox[op.actor]?.push(u);
      r = r.clearDelta();
    }
    reps[op.actor] = r;
    if ((i + 1) % SYNC_EVERY === 0) deliver();
  });
  deliver();
  function deliver() {
    outbox.forEach((box, from) => {
      for (const u of box)
        reps.forEach((r, to) => {
          if (to !== from) reps[to] = r.applyDelta(decodeCbor(u) as ORMap<string, number>);
        });
      box.length = 0;
    });
  }
  const r0 = reps[0] as ORMap<string, number>;
  const final: Record<string, unknown> = {};
  for (const [k, vs] of r0.entries()) final[k] = vs;
  return { updates, full: encodeCbor(r0), final };
}

const sum = (xs: Uint8Array[]) => xs.reduce((n, u) => n + u.length, 0);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

function timeIt(fn: () => void): number {
  gc?.();
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

// ---- map workload
const y = yjsRun();
const o = ormapRun();
const yKeys = Object.keys(y.final).length;
const oKeys = Object.keys(o.final).length;
const yApply: number[] = [];
const oApply: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  yApply.push(
    timeIt(() => {
      const d = new Y.Doc();
      for (const u of y.updates) Y.applyUpdate(d, u);
      if (d.getMap("m").size !== yKeys) throw new Error("yjs replica diverged");
    }),
  );
  oApply.push(
    timeIt(() => {
      let m = ORMap.empty<string, number>("fresh");
      for (const u of o.updates) m = m.applyDelta(decodeCbor(u) as ORMap<string, number>);
      if (m.size !== oKeys) throw new Error("ORMap replica diverged");
    }),
  );
}

// ---- array workload: 1,000 appends by 2 actors, syncing every 10
const APPENDS = 1_000;
function automergeRun(): { ms: number; full: Uint8Array; changes: number; len: number } {
  const t0 = performance.now();
  let a = Automerge.from<{ items: number[] }>({ items: [] }, { actor: "0a" });
  let b = Automerge.clone(a, { actor: "0b" });
  let changes = 0;
  for (let i = 0; i < APPENDS; i++) {
    if (i % 2 === 0) {
      a = Automerge.change(a, (d) => {
        d.items.push(i);
      });
      changes += Automerge.getLastLocalChange(a)?.length ?? 0;
    } else {
      b = Automerge.change(b, (d) => {
        d.items.push(i);
      });
      changes += Automerge.getLastLocalChange(b)?.length ?? 0;
    }
    if ((i + 1) % 10 === 0) {
      a = Automerge.merge(a, b);
      b = Automerge.merge(b, a);
    }
  }
  const ms = performance.now() - t0;
  return { ms, full: Automerge.save(a), changes, len: a.items.length };
}

function refRun(): {
  ms: number;
  full: Uint8Array;
  changes: number;
  len: number;
  r: Ref<{ items: number[] }>;
} {
  const t0 = performance.now();
  const a = ref<{ items: number[] }>({ items: [] }, { actor: "0a" });
  const b = refFromOps<{ items: number[] }>(a.log(), { actor: "0b" });
  let changes = 0;
  for (let i = 0; i < APPENDS; i++) {
    const r = i % 2 === 0 ? a : b;
    const before = r.clock();
    r.swap((v) => ({ items: [...v.items, i] }));
    changes += encodeCbor(r.patchFromClock(before).ops.length > 0 ? r.patchFromClock(before) : {}).length;
    if ((i + 1) % 10 === 0) {
      a.merge(b.patchFromClock(a.clock()));
      b.merge(a.patchFromClock(b.clock()));
    }
  }
  const ms = performance.now() - t0;
  return { ms, full: encodeCbor(a), changes, len: a.value.items.length, r: a };
}

const amRuns: ReturnType<typeof automergeRun>[] = [];
const refRuns: ReturnType<typeof refRun>[] = [];
const amLoad: number[] = [];
const refLoad: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  gc?.();
  amRuns.push(automergeRun());
  gc?.();
  refRuns.push(refRun());
}
const am = amRuns[0] as ReturnType<typeof automergeRun>;
const rf = refRuns[0] as ReturnType<typeof refRun>;
if (am.len !== APPENDS || rf.len !== APPENDS) throw new Error("an append was lost");
for (let r = 0; r < ROUNDS; r++) {
  amLoad.push(
    timeIt(() => {
      if (Automerge.load<{ items: number[] }>(am.full).items.length !== APPENDS)
        throw new Error("automerge load");
    }),
  );
  refLoad.push(
    timeIt(() => {
      if ((decodeCbor(rf.full) as Ref<{ items: number[] }>).value.items.length !== APPENDS)
        throw new Error("ref load");
    }),
  );
}

const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
const results = {
  rounds: ROUNDS,
  map: {
    workload: `3 actors, ${OPS} random sets/deletes over ${KEYS} keys, synced every ${SYNC_EVERY} ops`,
    liveKeys: { yjs: yKeys, ormap: oKeys },
    applyMs: { yjs: median(yApply), ormap: median(oApply), ratio: ratio(median(oApply), median(yApply)) },
    fullStateBytes: { yjs: y.full.length, ormap: o.full.length, ratio: ratio(o.full.length, y.full.length) },
    updateBytes: { yjs: sum(y.updates), ormap: sum(o.updates), ratio: ratio(sum(o.updates), sum(y.updates)) },
  },
  array: {
    workload: `2 actors, ${APPENDS} appends to one array, synced every 10`,
    runMs: {
      automerge: median(amRuns.map((x) => x.ms)),
      ref: median(refRuns.map((x) => x.ms)),
      ratio: ratio(median(refRuns.map((x) => x.ms)), median(amRuns.map((x) => x.ms))),
    },
    loadMs: {
      automerge: median(amLoad),
      ref: median(refLoad),
      ratio: ratio(median(refLoad), median(amLoad)),
    },
    fullStateBytes: {
      automerge: am.full.length,
      ref: rf.full.length,
      ratio: ratio(rf.full.length, am.full.length),
    },
    changeBytes: { automerge: am.changes, ref: rf.changes, ratio: ratio(rf.changes, am.changes) },
  },
};
console.log(JSON.stringify(results, null, 2));
console.log(`written ${writeResults("crdt", results)}`);
