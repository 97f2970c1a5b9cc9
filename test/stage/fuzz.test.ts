/**
 * The stage on the seeded simulated network: a hub stage and three client stages (real Peers over
 * SimNetwork on one virtual clock), each on a store that survives its crashes. A seeded schedule of
 * OR-Map assocs and dissocs, CDVCS transactions (merging first when heads diverged), partitions,
 * dropped links and crash-restarts (the stage reopened from its store, the stream restarted with
 * its applied log). At the end: every stage holds the same OR-Map and CDVCS, and the stream on c1
 * wrote each transaction's atomic write exactly once across all its restarts.
 */
import { type Clock, type Context, createClock, createContext, type Signal } from "spindel";
import type { CDVCS } from "spindel/crdt";
import {
  atomicWrites,
  createStage,
  type IdentityStream,
  type KVStore,
  memoryStore,
  type OpMap,
  Peer,
  type Stage,
  streamIntoIdentity,
} from "spindel/distributed";
import { SimNetwork, seededRandom } from "spindel/distributed/testing";
import { describe, expect, it } from "vitest";

const user = "fuzz";
type Tx = readonly ["add", number];

interface Node {
  id: string;
  store: KVStore;
  ctx: Context;
  peer: Peer | null;
  stage: Stage | null;
  stream: IdentityStream | null;
}

async function tick(): Promise<void> {
  await new Promise((r) => setImmediate(r));
}

async function runSeed(seed: number, ops = 30): Promise<{ txs: number; crashes: number }> {
  const rnd = seededRandom(seed * 104_729 + 7);
  const clock: Clock = createClock("virtual");
  const net = new SimNetwork({ seed, clock, minDelayMs: 0, maxDelayMs: 3 });
  let dup = 0;
  net.setFilter((m) => {
    if (net.isPartitioned(m.from, m.to)) return "drop";
    return dup > 0 && rnd() < dup ? "duplicate" : undefined;
  });
  const errors: string[] = [];
  const writesPerKey = new Map<string, number>();
  const advance = async (ms: number): Promise<void> => {
    for (let i = 0; i < ms; i++) {
      clock.advance(1);
      await tick();
    }
    await tick();
  };
  const settle = async <T>(p: Promise<T>, what: string): Promise<T> => {
    let done = false;
    const q = p.finally(() => {
      done = true;
    });
    q.catch(() => {});
    for (let i = 0; !done; i++) {
      if (i > 20_000) throw new Error(`${what} did not settle`);
      await advance(1);
    }
    return q;
  };
  const nodes: Node[] = ["hub", "c1", "c2", "c3"].map((id) => {
    const store = memoryStore();
    if (id === "c1")
      store.onWrite((ev) => {
        const key = (ev as { key?: string }).key;
        if (typeof key === "string" && key.startsWith("seen/"))
          writesPerKey.set(key, (writesPerKey.get(key) ?? 0) + 1);
      });
    return { id, store, ctx: createContext({ clock, name: id }), peer: null, stage: null, stream: null };
  });
  let txCount = 0;

  const boot = async (n: Node): Promise<void> => {
    n.ctx = createContext({ clock, name: n.id });
    const peer = new Peer({
      id: n.id,
      context: n.ctx,
      transport: net.transport,
      heartbeatMs: 0,
      connectTimeoutMs: 60_000,
      onError: () => {},
    });
    n.peer = peer;
    const stage = await createStage({
      peer,
      user,
      store: n.store,
      context: n.ctx,
      onError: (e, where) => {
        const code = (e as { code?: string }).code;
        if (!["ERR_CLOSED", "ERR_NO_TOPIC", "ERR_STAGE_CLOSED", "ERR_DISCONNECTED"].includes(code ?? ""))
          errors.push(`${n.id} ${where}: ${String(e)}`);
      },
    });
    n.stage = stage;
    await settle(stage.ormap("m"), "open ormap");
    await settle(stage.cdvcs("log"), "open cdvcs");
    if (n.id === "hub") await settle(peer.listen({ host: "hub" }), "listen");
    else void stage.connect("mem://hub").catch(() => {}); // redials by itself
    if (n.id === "c1")
      n.stream = streamIntoIdentity(
        stage,
        [user, "log"],
        { add: (_: null, id: number) => atomicWrites([[`seen/${id}`, true]]) },
        null,
        { appliedLog: "fuzz" },
      );
  };

  const crash = async (n: Node): Promise<void> => {
    if (n.peer === null) return;
    net.crash(n.id);
    n.stream?.stop();
    n.stream = null;
    const stage = n.stage!;
    const peer = n.peer;
    n.stage = null;
    n.peer = null;
    await settle(stage.close(), "stage close");
    await settle(peer.close(), "peer close");
  };

  let crashes = 0;
  try {
    for (const n of nodes) await boot(n);
    for (let op = 0; op < ops; op++) {
      const r = rnd();
      const n = nodes[Math.floor(rnd() * nodes.length)]!;
      if (r < 0.25) {
        if (n.stage === null) continue;
        const m = await settle(n.stage.ormap("m"), "ormap");
        const key = `k${Math.floor(rnd() * 4)}`;
        const p = rnd() < 0.3 ? m.dissoc(key, [["dissoc", key]]) : m.assoc(key, [["assoc", [key, op]]]);
        await settle(p, "ormap write");
      } else if (r < 0.55) {
        if (n.stage === null) continue;
        const c = await settle(n.stage.cdvcs<Tx>("log"), "cdvcs");
        // heads can diverge again between a merge and the transaction (a remote commit arrives): retry
        for (let attempt = 0; ; attempt++) {
          if (c.heads.length > 1) await settle(c.merge(), "merge");
          try {
            await settle(c.transact([["add", txCount]]), "transact");
            txCount++;
            break;
          } catch (e) {
            if ((e as { code?: string }).code !== "ERR_MULTIPLE_HEADS" || attempt > 5) throw e;
          }
        }
      } else if (r < 0.7) {
        await advance(Math.floor(rnd() * 15));
      } else if (r < 0.77) {
        dup = rnd() < 0.5 ? 0 : 0.2;
      } else if (r < 0.85) {
        if (n.id === "hub") continue;
        net.crash(n.id); // the links drop; the stage redials once healed
        net.partition([n.id], ["hub"]);
      } else if (r < 0.92) {
        net.heal();
      } else {
        crashes++;
        await crash(n);
        await advance(Math.floor(rnd() * 10));
        await boot(n);
      }
    }
    net.heal();
    dup = 0;
    const hub = nodes[0]!;
    const stageValue = <T>(x: Node, id: string): T => {
      const handle = x.stage!.lookup([user, id]) as { value: Signal<T> } | undefined;
      if (handle === undefined) throw new Error(`${x.id} has no ${id} open`);
      return x.ctx.get(handle.value);
    };
    const converged = (): boolean => {
      const m = stageValue<OpMap>(hub, "m");
      const c = stageValue<CDVCS<Tx>>(hub, "log");
      return nodes.every(
        (x) =>
          x.stage !== null &&
          stageValue<OpMap>(x, "m").equals(m) &&
          stageValue<CDVCS<Tx>>(x, "log").equals(c),
      );
    };
    const drain = async (what: string): Promise<void> => {
      for (let steps = 0; !(converged() && net.pending === 0); steps++) {
        if (steps > 3000) throw new Error(`${what}: not converged within 30 s of virtual time`);
        await advance(10);
      }
    };
    await drain("after the schedule");
    const log = await settle(hub.stage!.cdvcs<Tx>("log"), "cdvcs");
    if (log.heads.length > 1) {
      await settle(log.merge(), "final merge");
      await drain("after the final merge");
    }
    const c1 = nodes[1]!;
    await settle(c1.stream!.idle(), "stream idle");
    if (errors.length > 0) throw new Error(`errors: ${errors.slice(0, 3).join("; ")}`);
    for (let i = 0; i < txCount; i++) {
      const k = `seen/${i}`;
      if (writesPerKey.get(k) !== 1) throw new Error(`${k} written ${writesPerKey.get(k) ?? 0} times`);
    }
    if (writesPerKey.size !== txCount)
      throw new Error(`${writesPerKey.size} seen keys for ${txCount} transactions`);
    return { txs: txCount, crashes };
  } catch (e) {
    throw new Error(`seed ${seed}: ${(e as Error).message}`, { cause: e });
  } finally {
    for (const n of nodes) {
      n.stream?.stop();
      if (n.stage !== null) await settle(n.stage.close(), "close").catch(() => {});
      if (n.peer !== null) await settle(n.peer.close(), "close").catch(() => {});
    }
  }
}

const SEEDS = Number(process.env.STAGE_FUZZ_SEEDS ?? 100);

describe("the stage on a seeded simulated network", () => {
  it(`converges and streams exactly once over ${SEEDS} seeds (partitions, duplicates, reordering, crash-restarts)`, async () => {
    let txs = 0;
    let crashes = 0;
    for (let seed = 1; seed <= SEEDS; seed++) {
      const r = await runSeed(seed);
      txs += r.txs;
      crashes += r.crashes;
    }
    expect(txs).toBeGreaterThan(SEEDS); // the schedules did write
    expect(crashes).toBeGreaterThan(0);
  }, 240_000);
});
