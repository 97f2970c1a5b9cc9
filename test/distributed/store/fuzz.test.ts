/**
 * Seeded fuzz of store replication on the in-memory network (the same Peer, topic and store code
 * as over WebSocket): an owner with an on-disk levelStore and three subscribers (two in memory,
 * one on disk) under random writes (put, putMany, delete, putContent), random message delays
 * (links interleave differently; each stays FIFO like a WebSocket), crash-restarts of subscribers (memory lost, disk kept) and of the owner
 * (its disk kept). At the end every replica equals the owner: keys, values and lastWrite.
 *
 * `STORE_FUZZ_SEEDS=200` runs more seeds (`STORE_FUZZ_FROM=` the first, default 1); `SEED=n`
 * replays one.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createContext } from "spindel";
import {
  exportStore,
  type KVStore,
  levelStore,
  memoryStore,
  Peer,
  putContent,
  type StoreExport,
  type StoreSubscription,
  subscribeStore,
} from "spindel/distributed";
import { SimNetwork, seededRandom } from "spindel/distributed/testing";
import { afterAll, describe, expect, it } from "vitest";
import { eventually } from "../helpers.js";

const dir = mkdtempSync(join(tmpdir(), "spindel-store-fuzz-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SEEDS =
  process.env.SEED !== undefined
    ? [Number(process.env.SEED)]
    : Array.from(
        { length: Number(process.env.STORE_FUZZ_SEEDS ?? 12) },
        (_, i) => Number(process.env.STORE_FUZZ_FROM ?? 1) + i,
      );
const RECONNECT = { initialDelayMs: 5, maxDelayMs: 20 };

interface Replica {
  readonly id: string;
  readonly disk: boolean;
  peer: Peer | null;
  store: KVStore;
  sub: StoreSubscription | null;
}

async function state(s: KVStore): Promise<[string, number, unknown][]> {
  const out: [string, number, unknown][] = [];
  for await (const k of s.keys()) out.push([k.key, k.lastWrite, await s.get(k.key)]);
  return out;
}

async function run(seed: number): Promise<number> {
  const rand = seededRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const net = new SimNetwork({ seed, minDelayMs: 0, maxDelayMs: 3 });
  const base = join(dir, `seed-${seed}`);
  const ownerPath = join(base, "owner");
  let ownerStore = await levelStore(ownerPath, { sync: false });
  let hub = await Peer.listen({ id: "hub", transport: net.transport, context: createContext() });
  let exp: StoreExport = exportStore(hub, "fuzz", ownerStore, { batchSize: 1 + Math.floor(rand() * 6) });
  const replicas: Replica[] = [
    { id: "m1", disk: false, peer: null, store: memoryStore(), sub: null },
    { id: "m2", disk: false, peer: null, store: memoryStore(), sub: null },
    {
      id: "d1",
      disk: true,
      peer: null,
      store: await levelStore(join(base, "d1"), { sync: false }),
      sub: null,
    },
  ];
  const start = async (r: Replica): Promise<void> => {
    r.peer = await Peer.connect({
      id: r.id,
      url: hub.url!,
      transport: net.transport,
      context: createContext(),
      reconnect: RECONNECT,
    });
    if (process.env.FUZZ_DEBUG) console.log(`connected ${r.id}`);
    r.sub = await subscribeStore(r.peer, "fuzz", r.store, {
      onError: (e, w) => process.env.FUZZ_DEBUG && console.log(`sub ${r.id} error ${w}: ${String(e)}`),
    });
    if (process.env.FUZZ_DEBUG) console.log(`subscribed ${r.id}`);
  };
  for (const r of replicas) await start(r);
  const keys = Array.from({ length: 12 }, (_, i) => `k${i}`);
  try {
    for (let step = 0; step < 40; step++) {
      const x = rand();
      if (process.env.FUZZ_DEBUG) console.log(`seed ${seed} step ${step} x ${x.toFixed(2)}`);
      if (x < 0.35) await ownerStore.put(pick(keys), { step, v: rand() });
      else if (x < 0.5)
        await ownerStore.putMany(
          Array.from({ length: 1 + Math.floor(rand() * 4) }, () => [pick(keys), step] as const),
        );
      else if (x < 0.65) await ownerStore.delete(pick(keys));
      else if (x < 0.75) await putContent(ownerStore, { node: Math.floor(rand() * 5) });
      // delays interleave the links differently; each link stays FIFO, as a WebSocket is
      else if (x < 0.82) net.setFaults({ minDelayMs: 0, maxDelayMs: 1 + Math.floor(rand() * 8) });
      else if (x < 0.93) {
        // a subscriber crashes and restarts: memory is lost, the disk is kept
        const r = pick(replicas);
        r.sub?.close();
        await r.peer?.close();
        if (r.disk) {
          await r.store.close();
          r.store = await levelStore(join(base, r.id), { sync: false });
        } else r.store = memoryStore();
        await start(r);
      } else {
        // the owner crashes and restarts on its disk; subscribers reconnect by themselves
        net.crash("hub");
        exp.close();
        await hub.close();
        await ownerStore.close();
        ownerStore = await levelStore(ownerPath, { sync: false });
        hub = await Peer.listen({ id: "hub", transport: net.transport, context: createContext() });
        exp = exportStore(hub, "fuzz", ownerStore, { batchSize: 1 + Math.floor(rand() * 6) });
      }
      if (rand() < 0.3) await new Promise<void>((r) => setImmediate(r));
    }
    net.setFaults({});
    const want = await state(ownerStore);
    for (const r of replicas) {
      const diag =
        process.env.FUZZ_DEBUG &&
        setTimeout(async () => {
          const have = JSON.stringify(await state(r.store));
          if (have === JSON.stringify(want) && r.sub?.caughtUp) return;
          console.log(
            "DIAG seed",
            seed,
            r.id,
            r.sub?.caughtUp,
            r.sub?.connected,
            JSON.stringify(r.sub?.stats),
          );
          console.log("DIAG want", JSON.stringify(want));
          console.log("DIAG have", have);
        }, 3000);
      await eventually(
        async () => r.sub?.caughtUp === true && JSON.stringify(await state(r.store)) === JSON.stringify(want),
        `seed ${seed}: replica ${r.id} equals the owner`,
        10_000,
      );
      if (diag) clearTimeout(diag);
    }
    return replicas.length;
  } finally {
    for (const r of replicas) {
      r.sub?.close();
      await r.peer?.close();
      await r.store.close();
    }
    exp.close();
    await hub.close();
    await ownerStore.close();
  }
}

describe("store replication fuzz (in-memory network, crash-restarts)", () => {
  for (const seed of SEEDS)
    it(`seed ${seed}: every replica converges to the owner`, async () => {
      expect(await run(seed)).toBe(3); // every replica was checked against the owner
    });
});
