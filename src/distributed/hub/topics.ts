/**
 * The hub owns every signal topic a client opens, lazily: the first subscribe to an unknown topic
 * opens it from the journal (and, with Redis, from the topic's stream), or creates it from the
 * joiner's own state. The topic's shape follows signal sync (`{d}` deltas and `{s}` states for
 * Convergent values, `{v, t}` stamped values for last-writer-wins); the hub needs no datatype of
 * its own, since registered codecs decode the values and they join themselves.
 *
 * Every write the hub accepts is journaled before it is acknowledged (one small log entry, not a
 * rewrite of the value), relayed to the hub's other subscribers, and appended to the topic's Redis
 * stream; what other hubs append is applied, journaled and relayed here.
 *
 * Inbound topic messages pass through in order; while a topic opens (disk and Redis reads), every
 * later message waits behind it, so no link's messages are reordered.
 * @module
 */

import type { Context } from "../../core/context.js";
import { decodeCbor, encodeCbor } from "../../core/persist/codec.js";
import { type Signal, signal } from "../../core/signal.js";
import { isConvergent } from "../crdt/convergent.js";
import type { ProtocolHandler, ProtocolHost, ProtocolLink } from "../peer/protocols.js";
import type { Peer } from "../peer.js";
import { levelStore } from "../store/adapters/level.js";
import type { KVStore } from "../store/kv.js";
import { STORE_SYNC_VERSION } from "../store/replication.js";
import { exportStore, type StoreExport } from "../store/sync.js";
import { TopicError } from "../sync/errors.js";
import { PUB, SUB } from "../sync/messages.js";
import type { OwnedTopic } from "../sync/owner.js";
import { DeltaReplica, LwwReplica, type Replica, type SyncMode, type SyncPayload } from "../sync/replica.js";
import { Topics } from "../sync/topics.js";
import type { HubJournal, TopicMeta } from "./journal.js";
import type { BusEntry, RedisStreamBus } from "./redis-bus.js";

/** How long opening a topic waits for its Redis stream before it opens without it. */
const CATCH_UP_MS = 2_000;

/**
 * How long a topic found to have nothing (no journal, no stream entries) is answered `ERR_NO_TOPIC`
 * from memory when a mirror asks again. Without Redis only this hub writes the journal, so the
 * answer holds until a writer opens the topic here; with Redis, another hub may have created it,
 * so its stream is read again after this long.
 */
const DEFAULT_ABSENT_RECHECK_MS = 2_000;

/** Log entries after which a topic's journal is folded into a snapshot. */
const COMPACT_EVERY = 512;

/** A stream entry: the topic's mode and one payload. */
interface StreamEntry {
  m: SyncMode;
  p: SyncPayload;
}

type Report = (e: unknown, where: string) => void;

/** Whether a signal subscriber's client state carries a value (a mirror's carries only its mode). */
function bringsState(cs: unknown): boolean {
  return typeof cs === "object" && cs !== null && ("s" in cs || "v" in cs);
}

/** One topic the hub owns. */
class HubTopic {
  owned: OwnedTopic | null = null;
  private chain: Promise<void> = Promise.resolve();
  private busChain: Promise<void> = Promise.resolve();
  private sinceSnapshot: number;
  private sinceStreamSnapshot = 0;

  constructor(
    readonly name: string,
    readonly mode: SyncMode,
    readonly replica: Replica,
    private meta: TopicMeta,
    logLength: number,
    private readonly hub: HubTopics,
  ) {
    this.sinceSnapshot = logLength;
  }

  /** The value as one payload (`{s}` or `{v, t}`): the snapshot. */
  snapshot(): SyncPayload | undefined {
    return this.replica.handshake({ m: this.mode }, () => {})[0];
  }

  /**
   * Journal an accepted write; resolves once it is on disk. With `toBus`, it is also appended to the
   * topic's stream (in order, after the disk write).
   */
  record(p: SyncPayload, toBus: boolean): Promise<void> {
    this.meta = { ...this.meta, seq: this.meta.seq + 1 };
    const meta = this.meta;
    const hub = this.hub;
    hub.writes++;
    hub.inFlight++;
    const compact = ++this.sinceSnapshot >= COMPACT_EVERY;
    if (compact) this.sinceSnapshot = 0;
    const snap = compact ? this.snapshot() : undefined;
    const written = this.chain.then(async () => {
      await hub.journal.append(this.name, meta, p);
      if (snap !== undefined) await hub.journal.compact(this.name, meta, snap);
    });
    this.chain = written.catch((e: unknown) => hub.report(e, `journal of '${this.name}'`));
    const bus = hub.bus;
    if (toBus && bus !== undefined) {
      hub.inFlight++;
      // a snapshot now and then keeps a trimmed stream enough to start from
      const streamSnap = ++this.sinceStreamSnapshot >= Math.max(1, Math.floor(hub.streamSnapshotEvery));
      if (streamSnap) this.sinceStreamSnapshot = 0;
      const extra = streamSnap ? this.snapshot() : undefined;
      // one connection keeps the commands' order: the appends are pipelined, never awaited one by one
      const appended = bus.append(this.name, encodeCbor({ m: this.mode, p } satisfies StreamEntry));
      const snapAppended =
        extra === undefined ? undefined : bus.append(this.name, encodeCbor({ m: this.mode, p: extra }));
      const both = Promise.all([appended, snapAppended])
        .then(() => {})
        .catch((e: unknown) => hub.report(e, `redis append of '${this.name}'`))
        .finally(() => hub.inFlight--);
      this.busChain = Promise.all([this.busChain, both]).then(() => {});
    }
    return written.finally(() => hub.inFlight--);
  }

  /** Other hubs' entries (in stream order), then the new stream position. */
  fromBus(entries: readonly BusEntry[], lastId: string): void {
    for (const e of entries) {
      let entry: StreamEntry;
      try {
        entry = decodeCbor(e.payload) as StreamEntry;
      } catch (err) {
        this.hub.report(err, `stream entry ${e.id} of '${this.name}'`);
        continue;
      }
      if (entry?.m !== this.mode) {
        this.hub.report(
          new TopicError(
            "ERR_INCOMPATIBLE",
            `stream entry ${e.id} is ${String(entry?.m)}, the topic ${this.mode}`,
          ),
          `stream of '${this.name}'`,
        );
        continue;
      }
      let changed = false;
      try {
        changed = this.replica.apply(entry.p, false);
      } catch (err) {
        this.hub.report(err, `stream entry ${e.id} of '${this.name}'`);
      }
      if (!changed) continue;
      this.owned?.publish(entry.p);
      // a failed write is reported by the journal chain
      this.record(entry.p, false).catch(() => {});
    }
    this.meta = { ...this.meta, streamId: lastId };
    const meta = this.meta;
    // the position is written after the entries it covers (same chain); the reader goes on meanwhile
    this.chain = this.chain
      .then(() => this.hub.journal.setMeta(this.name, meta))
      .catch((e: unknown) => this.hub.report(e, `journal of '${this.name}'`));
  }

  /** Writes in flight have settled. */
  async idle(): Promise<void> {
    await this.chain;
    await this.busChain;
  }
}

/** The topics a hub owns (see the module comment). */
export class HubTopics {
  private readonly topics: Topics;
  private readonly open = new Map<string, HubTopic>();
  private readonly stores = new Map<string, { store: KVStore; exported: StoreExport }>();
  private readonly storesOpening = new Map<string, Promise<KVStore>>();
  private readonly host: ProtocolHost;
  private readonly queue: { run: () => void; topic: string | undefined; cs: unknown }[] = [];
  /** Topics found to have nothing, and when (the hub context's clock): see `absentRecheckMs`. */
  private readonly absent = new Map<string, number>();
  private pumping = false;
  private closed = false;
  /** Publishes accepted (local and from other hubs). */
  writes = 0;
  /** Writes on their way to disk or Redis. */
  inFlight = 0;
  /** A snapshot entry goes to a topic's stream after this many appends of this hub. */
  readonly streamSnapshotEvery: number;

  constructor(
    private readonly peer: Peer,
    private readonly ctx: Context,
    /** @internal */ readonly journal: HubJournal,
    /** @internal */ readonly bus: RedisStreamBus | undefined,
    /** @internal */ readonly report: Report,
    redisMaxLen = 10_000,
    /** With Redis, how long a topic found to have nothing is not looked up in its stream again. */
    private readonly absentRecheckMs = DEFAULT_ABSENT_RECHECK_MS,
  ) {
    this.streamSnapshotEvery = Math.max(16, Math.floor(redisMaxLen / 4));
    const host: ProtocolHost & { readonly _clock: unknown } = {
      id: peer.id,
      get _clock() {
        return peer._clock;
      },
      attachProtocol: (name, handler) => peer.attachProtocol(name, this.gate(handler)),
    };
    this.host = host;
    this.topics = Topics.of(host);
    this.topics.onError = (e, where) => report(e, where);
  }

  /** Topics open (signal topics and store topics). */
  get count(): number {
    return this.open.size + this.stores.size;
  }

  /**
   * The store replicated on `topic` (a `levelStore` under the hub's store directory, created on
   * first use and exported): what is written to it streams to every subscriber of the topic
   * (`subscribeStore`). A client's first subscribe to a store topic opens it the same way.
   */
  store(topic: string): Promise<KVStore> {
    const open = this.stores.get(topic);
    if (open !== undefined) return Promise.resolve(open.store);
    let p = this.storesOpening.get(topic);
    if (p === undefined) {
      p = (async () => {
        if (this.topics.has(topic))
          throw new TopicError("ERR_TOPIC_EXISTS", `'${topic}' is a signal topic`, topic);
        const store = await levelStore(this.storeDir(topic));
        const exported = exportStore(this.host, topic, store, {
          onError: (e, where) => this.report(e, where),
        });
        this.stores.set(topic, { store, exported });
        return store;
      })();
      this.storesOpening.set(topic, p);
      p.finally(() => this.storesOpening.delete(topic)).catch(() => {});
    }
    return p;
  }

  private storeDir(topic: string): string {
    return `${this.journal.dir}/stores/${encodeURIComponent(topic)}`;
  }

  /** Writes not yet on disk or in Redis. */
  get pending(): number {
    return this.inFlight + this.journal.pending;
  }

  /** Every write in flight settles; topics close. */
  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.open.values()) await t.idle();
    for (const t of this.open.values()) {
      this.bus?.unfollow(t.name);
      t.owned?.close();
    }
    await Promise.allSettled(this.storesOpening.values());
    for (const { store, exported } of this.stores.values()) {
      exported.close();
      await store.close();
    }
    this.stores.clear();
  }

  /** Wraps the topic layer's handler: messages naming a topic that is not open yet wait for it. */
  private gate(handler: ProtocolHandler): ProtocolHandler {
    return {
      linkUp: (l) => this.dispatch(() => handler.linkUp(l)),
      linkDown: (l) => this.dispatch(() => handler.linkDown(l)),
      message: (l, p) => {
        let topic: string | undefined;
        let cs: unknown;
        if (Array.isArray(p) && (p[0] === SUB || p[0] === PUB) && typeof p[1] === "string" && p[1] !== "") {
          topic = p[1];
          if (p[0] === SUB) cs = p[3]; // [SUB, topic, handshake number, clientState]
        }
        this.dispatch(() => handler.message(l, p), topic, cs);
      },
    };
  }

  private dispatch(run: () => void, topic?: string, cs?: unknown): void {
    if (!this.pumping && this.queue.length === 0 && (topic === undefined || this.isOpen(topic))) {
      run();
      return;
    }
    this.queue.push({ run, topic, cs });
    if (!this.pumping) void this.pump();
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      while (this.queue.length > 0) {
        const next = this.queue[0] as (typeof this.queue)[number];
        if (next.topic !== undefined && !this.isOpen(next.topic) && !this.closed) {
          try {
            await this.openTopic(next.topic, next.cs);
          } catch (e) {
            // the topic layer answers the subscribe with ERR_NO_TOPIC
            this.report(e, `open '${next.topic}'`);
          }
        }
        this.queue.shift();
        next.run();
      }
    } finally {
      this.pumping = false;
    }
  }

  private isOpen(topic: string): boolean {
    return this.open.has(topic) || this.stores.has(topic);
  }

  /**
   * Opens `topic` from the journal and the stream, or creates it from a joiner's state `cs`. A
   * joiner that brings no state (a read-only mirror) never creates one: the topic stays closed
   * (its subscribe is answered `ERR_NO_TOPIC`) and is remembered as absent, so the mirror's retries
   * read neither the disk nor (until `absentRecheckMs` passed) Redis again.
   */
  private async openTopic(name: string, cs: unknown): Promise<void> {
    // a store subscriber's state is `[version, handshake]`; a signal's is an object
    if (Array.isArray(cs) && cs[0] === STORE_SYNC_VERSION) {
      if (this.absent.has(name) || (await this.journal.load(name)) === undefined) {
        this.absent.delete(name);
        await this.store(name);
      }
      return;
    }
    const since = this.absent.get(name);
    const brings = bringsState(cs);
    if (since !== undefined && !brings) {
      const fresh = this.bus === undefined || this.ctx.clock.now() - since < this.absentRecheckMs;
      if (fresh) return;
    }
    // absent: only this hub writes its journal, so nothing is there (the stream may have news)
    const rec = since !== undefined ? undefined : await this.journal.load(name);
    const known: SyncPayload[] = [];
    if (rec?.snapshot !== undefined) known.push(rec.snapshot as SyncPayload);
    for (const p of rec?.log ?? []) known.push(p as SyncPayload);
    let streamId = rec?.meta.streamId ?? null;
    const fromStream: SyncPayload[] = [];
    let modeFromStream: SyncMode | undefined;
    if (this.bus !== undefined) {
      // Redis down must not stall the hub: without an answer in time, the topic opens from the
      // journal and the joiner, and following the stream catches up once Redis is back
      const caught = await this.bounded(this.bus.readAfter(name, streamId ?? "0"), CATCH_UP_MS);
      if (caught === undefined) this.report(new Error("Redis did not answer in time"), `catch up '${name}'`);
      else streamId = caught.lastId;
      for (const e of caught?.entries ?? []) {
        try {
          const entry = decodeCbor(e.payload) as StreamEntry;
          modeFromStream ??= entry.m;
          if (entry.m === modeFromStream) fromStream.push(entry.p);
        } catch (err) {
          this.report(err, `stream entry ${e.id} of '${name}'`);
        }
      }
    }
    const joinerMode = brings ? (cs as { m?: unknown }).m : undefined;
    const mode = (rec?.meta.mode as SyncMode | undefined) ?? modeFromStream ?? joinerMode;
    if (mode !== "delta" && mode !== "lww") {
      // a read-only mirror of a topic nobody has written, or a malformed subscribe
      this.absent.set(name, this.ctx.clock.now());
      return;
    }
    const sig: Signal<unknown> = signal<unknown>(null, { name: `hub topic ${name}` });
    let replica: Replica;
    let seed: SyncPayload | undefined;
    const all = [...known, ...fromStream];
    if (mode === "delta") {
      let base = all.find((p) => "s" in p && isConvergent(p.s)) as
        | { s: { clearDelta(): unknown } }
        | undefined;
      if (base === undefined) {
        const s = (cs as { s?: unknown } | null)?.s;
        if (joinerMode !== "delta" || !isConvergent(s)) {
          this.absent.set(name, this.ctx.clock.now());
          return;
        }
        base = { s };
        seed = { s };
      }
      this.ctx.set(sig, base.s.clearDelta());
      replica = new DeltaReplica(this.ctx, sig, (e) => this.report(e, `topic '${name}'`));
    } else {
      replica = new LwwReplica(this.ctx, sig, this.peer.id, () => Date.now());
    }
    for (const p of known) this.applyQuietly(replica, p, name);
    const meta: TopicMeta = { mode, seq: rec?.meta.seq ?? 0, streamId };
    const topic = new HubTopic(name, mode, replica, meta, rec?.log.length ?? 0, this);
    // what other hubs wrote since this hub last read: applied and journaled
    for (const p of fromStream)
      if (this.applyQuietly(replica, p, name)) topic.record(p, false).catch(() => {});
    // nothing reaches the disk for a topic nobody wrote: its first write journals the meta too
    if (seed !== undefined) await topic.record(seed, true);
    topic.owned = this.topics.register(
      name,
      {
        handshake: (clientState, link) => this.handshake(topic, clientState, link),
        publish: async (payload) => {
          if (!topic.replica.apply(payload, false)) return undefined;
          await topic.record(payload as SyncPayload, true);
          return payload;
        },
      },
      { onError: (e, where) => this.report(e, where) },
    );
    this.open.set(name, topic);
    this.absent.delete(name);
    this.bus?.follow(name, streamId ?? "0", (entries, lastId) => topic.fromBus(entries, lastId));
  }

  /** `p`'s value, or `undefined` when it takes longer than `ms` (on the hub context's clock). */
  private bounded<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
    return new Promise<T | undefined>((resolve) => {
      const timer = this.ctx.clock.setTimer(ms, () => resolve(undefined));
      p.then(
        (v) => {
          timer.cancel();
          resolve(v);
        },
        (e: unknown) => {
          timer.cancel();
          this.report(e, "redis catch-up");
          resolve(undefined);
        },
      );
    });
  }

  private applyQuietly(replica: Replica, p: SyncPayload, name: string): boolean {
    try {
      return replica.apply(p, true);
    } catch (e) {
      this.report(e, `journal entry of '${name}'`);
      return false;
    }
  }

  private async *handshake(topic: HubTopic, cs: unknown, link: ProtocolLink): AsyncGenerator<unknown> {
    const recorded: Promise<void>[] = [];
    const relay = (p: SyncPayload): void => {
      topic.owned?.publish(p, link);
      recorded.push(topic.record(p, true));
    };
    // the hub's value of an LWW topic nobody wrote is a placeholder: a joiner's unwritten value
    // becomes the topic's instead of being replaced by it
    const seed =
      topic.replica instanceof LwwReplica ? topic.replica.takeUnwritten(cs, link.peerId) : undefined;
    if (seed !== undefined) relay(seed);
    const items = topic.replica.handshake(cs, relay);
    // what the joiner brought is on disk before its handshake completes
    await Promise.all(recorded);
    yield* items;
  }
}
