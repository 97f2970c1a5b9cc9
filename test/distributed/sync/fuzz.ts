/**
 * The sync fuzz harness: ≥5 real peers (the same Peer, topic and sync code as over WebSocket) on
 * the in-memory SimNetwork with one virtual clock. A seeded schedule of random writes on every
 * kind of value, partitions (the links across it drop, as heartbeats would make them), duplicated
 * topic frames, random delays (reordering across links), crash-restarts of clients and of the hub.
 * At the end: heal, restart, drain with a step bound, then every replica is equal, nothing is
 * pending, and the number of publishes is bounded by a constant times the number of writes.
 *
 * With `refuse`, the hub's `authorizePublish` refuses every publish of that client: then nothing it
 * wrote may ever reach the hub (checked on every value the hub holds, through its crashes) nor any
 * other peer, live or in a (re)subscribe handshake; after a last reconnect it ends on the hub's state.
 */
import {
  type Clock,
  type Context,
  createClock,
  createContext,
  decodeCbor,
  type Signal,
  signal,
  spin,
} from "spindel";
import { GSet, LWWRegister, ORMap, PNCounter } from "spindel/crdt";
import { Peer, type SignalSyncHandle, syncSignal } from "spindel/distributed";
import { SimNetwork, seededRandom } from "spindel/distributed/testing";

/** One replicated value kind: its initial value, a random write, equality. */
export interface Kind<T> {
  readonly topic: string;
  /** The value a replica starts with, writing as `actor` (fresh after a crash that lost state). */
  initial(actor: string): T;
  write(v: T, actor: string, n: number, rnd: () => number): T;
  equals(a: T, b: T): boolean;
  show(v: T): unknown;
}

export const gsetKind: Kind<GSet<string>> = {
  topic: "gset",
  initial: () => GSet.empty<string>(),
  write: (v, actor, n) => v.add(`${actor}:${n}`),
  equals: (a, b) => a.equals(b),
  show: (v) => v.values().sort(),
};

export const ormapKind: Kind<ORMap<string, number>> = {
  topic: "ormap",
  initial: (actor) => ORMap.empty<string, number>(actor),
  write: (v, _a, n, rnd) => {
    const k = `k${Math.floor(rnd() * 6)}`;
    return rnd() < 0.2 ? v.delete(k) : v.set(k, n);
  },
  equals: (a, b) => a.equals(b),
  show: (v) => v.entries(),
};

export const counterKind: Kind<PNCounter> = {
  topic: "counter",
  initial: () => PNCounter.empty(),
  write: (v, actor, _n, rnd) => (rnd() < 0.7 ? v.inc(1 + Math.floor(rnd() * 3), actor) : v.dec(1, actor)),
  equals: (a, b) => a.equals(b),
  show: (v) => v.value,
};

export const registerKind: Kind<LWWRegister<number>> = {
  topic: "register",
  initial: (actor) => LWWRegister.of(0, actor, 0),
  write: (v, actor, n, rnd) => v.set(n * 1000 + Math.floor(rnd() * 1000), actor, Math.floor(rnd() * 50)),
  equals: (a, b) => a.equals(b),
  show: (v) => v.value,
};

/** A plain value: whole values under the sync's hybrid-logical-clock last-writer-wins. */
export const lwwKind: Kind<number> = {
  topic: "lww",
  initial: () => 0,
  write: (_v, _a, _n, rnd) => Math.floor(rnd() * 1000),
  equals: Object.is,
  show: (v) => v,
};

/** Kinds every seed runs. */
export const kinds: Kind<unknown>[] = [
  gsetKind,
  ormapKind,
  counterKind,
  registerKind,
  lwwKind,
] as Kind<unknown>[];

interface Node {
  id: string;
  /** bumped when a crash loses state: a datatype's actor id is never reused with a fresh state */
  incarnation: number;
  peer: Peer | null;
  ctx: Context;
  values: Map<string, unknown>;
  handles: SignalSyncHandle[];
  sigs: Signal<unknown>[];
}

/** What a seed did, and whether it converged. */
export interface FuzzResult {
  seed: number;
  writes: number;
  publishes: number;
  steps: number;
  crashes: number;
  partitions: number;
  /** With `refuse`: writes of the refused client. */
  refusedWrites: number;
}

/** The code the hub refuses the `refuse` client's publishes with. */
const REFUSED = "ERR_REFUSED_IN_FUZZ";
/** A plain LWW value written by the refused client is marked by its size. */
const MARK = 1_000_000;

/**
 * Whether `v` holds anything written by peer `id`: its actors are `${id}.${incarnation}`, which the
 * canonical form of every Convergent kind names (`"c2.1"`, a G-Set's elements as `sc2.1:…`); its
 * plain LWW values are marked.
 */
function tainted(v: unknown, id: string): boolean {
  if (typeof v === "number") return v >= MARK;
  const c = (v as { canonical?: () => string }).canonical;
  if (typeof c !== "function") return false;
  const text = c.call(v);
  return text.includes(`"${id}.`) || text.includes(`s${id}.`);
}

const TOPIC_PUB = 4;
const trace = process.env.FUZZ_TRACE !== undefined ? (...a: unknown[]) => console.log(...a) : () => {};

function isTopicFrame(bytes: Uint8Array): unknown[] | null {
  try {
    const f = decodeCbor(bytes);
    if (Array.isArray(f) && f[0] === 8 && f[1] === "topics" && Array.isArray(f[2])) return f[2] as unknown[];
  } catch {}
  return null;
}

async function tick(): Promise<void> {
  await new Promise((r) => setImmediate(r));
}

/** Run one seed; throws (with the seed in the message) when the replicas do not converge. */
export async function runSeed(
  seed: number,
  opts: { peers?: number; ops?: number; kinds?: Kind<unknown>[]; refuse?: string } = {},
): Promise<FuzzResult> {
  const refuse = opts.refuse;
  const rnd = seededRandom(seed * 7919 + 1);
  const clock: Clock = createClock("virtual");
  const net = new SimNetwork({ seed, clock, minDelayMs: 0, maxDelayMs: 4 });
  const ks = opts.kinds ?? kinds;
  const nPeers = Math.max(5, opts.peers ?? 5);
  const ops = opts.ops ?? 40;
  let publishes = 0;
  let duplicateRate = 0;
  net.setFilter((m) => {
    const t = isTopicFrame(m.bytes);
    if (t === null) return undefined;
    if (t[0] === TOPIC_PUB) publishes++;
    if (net.isPartitioned(m.from, m.to)) return "drop";
    return duplicateRate > 0 && rnd() < duplicateRate ? "duplicate" : undefined;
  });
  const sigs = ks.map((k) => signal(k.initial("init"), { name: k.topic }));
  const nodes: Node[] = [];
  const errors: string[] = [];

  const advance = async (ms: number): Promise<void> => {
    for (let i = 0; i < ms; i++) {
      clock.advance(1);
      await tick();
    }
    await tick();
  };

  /** Pump virtual time until `p` settles (the network delivers on the virtual clock). */
  const settle = async (p: Promise<unknown>): Promise<void> => {
    let done = false;
    p.then(
      () => (done = true),
      () => (done = true),
    );
    for (let i = 0; !done; i++) {
      if (i > 10_000) throw new Error("a close or listen did not settle");
      await advance(1);
    }
  };

  /** Nothing of the refused client may ever be held by anyone else: checked on every change. */
  const leaks: string[] = [];
  const guard = (n: Node): void => {
    if (refuse === undefined || n.id === refuse) return;
    for (const [i, k] of ks.entries())
      n.ctx.observe(
        spin(($) => $.track(sigs[i]!)),
        (v) => {
          if (tainted(v, refuse)) leaks.push(`${k.topic} at ${n.id}: ${JSON.stringify(k.show(v))}`);
        },
      );
  };

  const start = (n: Node): void => {
    const owner = n.id === "hub";
    n.handles = ks.map((k, i) =>
      syncSignal(n.peer!, k.topic, sigs[i]!, {
        owner,
        context: n.ctx,
        ...(owner && refuse !== undefined
          ? { authorizePublish: (principal: unknown) => (principal === refuse ? REFUSED : true) }
          : {}),
        onError: (e, where) => {
          const code = (e as { code?: string }).code;
          // refusals caused by the schedule (a handshake cut by a crash) are expected; others are bugs
          if (code === REFUSED && n.id === refuse) return;
          if (code !== "ERR_CLOSED" && code !== "ERR_NO_TOPIC") errors.push(`${n.id} ${where}: ${String(e)}`);
        },
      }),
    );
  };

  const boot = async (n: Node, keep: boolean): Promise<void> => {
    const old = n.ctx;
    n.ctx = createContext({ clock, name: n.id });
    if (!keep) n.incarnation++;
    const actor = `${n.id}.${n.incarnation}`;
    for (const [i, k] of ks.entries()) n.ctx.set(sigs[i]!, keep ? old.get(sigs[i]!) : k.initial(actor));
    guard(n);
    const base = {
      id: n.id,
      context: n.ctx,
      transport: net.transport,
      heartbeatMs: 0,
      onError: (e: unknown, where: string) => trace(n.id, "peer error", where, String(e)),
    };
    if (n.id === "hub") {
      const p = new Peer(base);
      n.peer = p;
      start(n);
      await settle(p.listen({ host: "hub" }));
    } else {
      const p = new Peer(base);
      n.peer = p;
      start(n);
      void p
        .connect({ url: "mem://hub", wait: false, reconnect: { initialDelayMs: 5, maxDelayMs: 40 } })
        .catch((e) => errors.push(`${n.id} connect: ${String(e)}`));
    }
  };

  const crash = async (n: Node): Promise<void> => {
    const p = n.peer;
    if (p === null) return;
    net.crash(n.id);
    for (const h of n.handles) h.close();
    n.peer = null;
    await settle(p.close());
  };

  for (let i = 0; i < nPeers; i++) {
    const id = i === 0 ? "hub" : `c${i}`;
    const n: Node = {
      id,
      incarnation: 0,
      peer: null,
      ctx: createContext({ clock, name: id }),
      values: new Map(),
      handles: [],
      sigs,
    };
    nodes.push(n);
  }
  let writes = 0;
  let refusedWrites = 0;
  let crashes = 0;
  let partitions = 0;
  try {
    for (const n of nodes) await boot(n, false);
    trace("booted");
    const cut = new Set<string>();
    for (let op = 0; op < ops; op++) {
      const r = rnd();
      const n = nodes[Math.floor(rnd() * nodes.length)]!;
      trace("op", op, r.toFixed(2), n.id, clock.now());
      if (r < 0.6) {
        if (n.peer === null) continue;
        const ki = Math.floor(rnd() * ks.length);
        const k = ks[ki]!;
        const s = sigs[ki]!;
        const w = k.write(n.ctx.get(s), `${n.id}.${n.incarnation}`, writes, rnd);
        if (n.id === refuse) refusedWrites++;
        n.ctx.set(s, n.id === refuse && typeof w === "number" ? w + MARK : w);
        writes++;
      } else if (r < 0.75) {
        await advance(Math.floor(rnd() * 12));
      } else if (r < 0.82) {
        duplicateRate = rnd() < 0.5 ? 0 : 0.2;
      } else if (r < 0.9) {
        if (n.id === "hub" || cut.has(n.id) || n.peer === null) continue;
        // a partition: the link drops (as a missed heartbeat makes it), dials fail until healed
        // (net.crash drops every link at the client, also one still in its hello)
        net.crash(n.id);
        net.partition([n.id], ["hub"]);
        cut.add(n.id);
        partitions++;
      } else if (r < 0.95) {
        if (cut.size > 0) {
          net.heal();
          cut.clear();
        }
      } else {
        if (n.id === "hub" && rnd() < 0.5) continue;
        crashes++;
        await crash(n);
        await advance(Math.floor(rnd() * 10));
        await boot(n, rnd() < 0.5);
      }
    }
    // heal and drain
    net.heal();
    duplicateRate = 0;
    const quiet = (): boolean =>
      nodes.every((n) => n.handles.every((h) => n.ctx.get(h.caughtUp) && n.ctx.get(h.pending) === 0)) &&
      net.pending === 0;
    let steps = 0;
    trace("drain");
    // writes of the last tick are published in a microtask: let them go out first
    await tick();
    const drain = async (): Promise<void> => {
      while (!quiet()) {
        if (++steps > 3000) {
          const state = nodes.map(
            (n) =>
              `${n.id}[${n.peer === null ? "down" : `${n.ctx.get(n.peer.status)} ${n.peer.connectedPeers().join(",")}`}]: ${n.handles
                .map(
                  (h) =>
                    `${n.ctx.get(h.connected) ? "c" : "-"}${n.ctx.get(h.caughtUp) ? "u" : "-"}${n.ctx.get(h.pending)}`,
                )
                .join(" ")}`,
          );
          throw new Error(
            `not converged within 3000 steps (30 s of virtual time): ${state.join("; ")}; in flight ${net.pending}`,
          );
        }
        await advance(10);
      }
    };
    await drain();
    const r = refuse === undefined ? undefined : nodes.find((n) => n.id === refuse);
    if (r !== undefined && r.peer !== null) {
      // its live writes the hub refused are still its own: a new handshake brings it back
      net.crash(r.id);
      await advance(1);
      await drain();
    }
    if (leaks.length > 0) throw new Error(`refused writes leaked: ${leaks.slice(0, 3).join("; ")}`);
    for (let i = 0; i < ks.length; i++) {
      const k = ks[i]!;
      const s = sigs[i]!;
      const ref = nodes[0]!.ctx.get(s);
      for (const n of nodes) {
        const v = n.ctx.get(s);
        if (!k.equals(v, ref))
          throw new Error(
            `${k.topic}: ${n.id} has ${JSON.stringify(k.show(v))}, hub ${JSON.stringify(k.show(ref))}`,
          );
      }
    }
    if (errors.length > 0) throw new Error(`errors: ${errors.slice(0, 3).join("; ")}`);
    // each write is published once and relayed to at most every other peer; handshakes relay only
    // what the owner lacked (itself written somewhere): a constant times the writes
    const bound = 2 * nPeers * Math.max(1, writes);
    if (publishes > bound) throw new Error(`${publishes} publishes for ${writes} writes (bound ${bound})`);
    return { seed, writes, publishes, steps, crashes, partitions, refusedWrites };
  } catch (e) {
    throw new Error(`seed ${seed}: ${(e as Error).message} (replay: SEED=${seed})`, { cause: e });
  } finally {
    for (const n of nodes) {
      for (const h of n.handles) h.close();
      if (n.peer !== null) await settle(n.peer.close());
    }
  }
}
