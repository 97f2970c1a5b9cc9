/**
 * `exportStore` / `subscribeStore`: a store replicated over a topic (konserve-sync's protocol,
 * distributed.md §5). The subscriber tells the owner what it holds (`{key → lastWrite}`, in
 * bounded chunks); the owner answers with what is missing or newer and the deletions the
 * subscriber has not seen, in acknowledged bundles; then every write streams live, in the
 * writer's order. Only the owner's store is written through: replication is one-way.
 * @module
 */

import { shown } from "../../core/errors.js";
import { decodeCbor } from "../../core/persist/codec.js";
import type { ProtocolHost, ProtocolLink } from "../peer/protocols.js";
import { TopicError } from "../sync/errors.js";
import type { OwnedTopic } from "../sync/owner.js";
import type { AuthorizeSubscribe } from "../sync/strategy.js";
import type { Subscription } from "../sync/subscriber.js";
import { Topics } from "../sync/topics.js";
import { StoreError } from "./errors.js";
import type { KVStore, StoreOp, WriteEvent } from "./kv.js";
import {
  ClientState,
  type Decision,
  decide,
  delItem,
  type ItemLimits,
  itemSize,
  itemToOp,
  orderKeys,
  parseClientState,
  parseStateMessage,
  putItem,
  STORE_SYNC_VERSION,
  type SyncItem,
  stateChunks,
} from "./replication.js";

/** Options of {@link exportStore}. */
export interface ExportStoreOptions {
  /** Replicate only the keys this accepts (handshake and live writes; deletions by key only: `value` is `undefined`). */
  filter?: (key: string, value: unknown) => boolean;
  /**
   * The keys to offer, in order, instead of every key: e.g. the nodes reachable from a root of a
   * content-addressed tree. Deletions are not replayed for a walked store.
   */
  walk?: (store: KVStore) => Iterable<string> | AsyncIterable<string> | Promise<Iterable<string>>;
  /** Handshake order: higher goes later (pointer keys after the content they point to). */
  keyOrder?: (key: string) => number;
  /** Most records per acknowledged bundle (default 128). */
  batchSize?: number;
  /** Most value bytes per bundle (default 256 KiB; a larger single value travels alone). */
  maxBatchBytes?: number;
  /** Values larger than this are not replicated and are reported to `onError` (default 512 KiB). */
  maxValueBytes?: number;
  /** May this principal subscribe? (see the topic layer's `AuthDecision`) */
  authorizeSubscribe?: AuthorizeSubscribe;
  /** How long a bundle may go unacknowledged (default 30,000 ms). */
  ackTimeoutMs?: number;
  /** How long a handshake may make no progress (default 300,000 ms). */
  stallTimeoutMs?: number;
  /** Diagnostics: skipped values, failed handshakes, malformed subscriber messages. */
  onError?: (error: unknown, where: string) => void;
}

/** A running export (returned synchronously). */
export interface StoreExport {
  /** The topic it owns. */
  readonly topic: string;
  /** Counters: records and deletions sent in handshakes and live. */
  readonly stats: Readonly<{ handshakeItems: number; liveItems: number; handshakes: number }>;
  /** Peer ids of the current subscribers. */
  readonly subscribers: string[];
  /** Stop exporting: the write hook goes, subscribers are told the topic closed. */
  close(): void;
}

/** Options of {@link subscribeStore}. */
export interface SubscribeStoreOptions {
  /**
   * Called for every record written to the local store by replication (`op`: `"handshake"`,
   * `"assoc"` live, `"dissoc"` for a deletion, where `value` is `undefined`). Skipped records (an
   * immutable key already held, an older copy) are not reported.
   */
  onKeyUpdate?: (key: string, value: unknown, op: "handshake" | "assoc" | "dissoc") => void;
  /** The owner's peer id (default: the peer this one dialed). */
  via?: string;
  /** Longest replicated key accepted, UTF-8 bytes (default 1,024). */
  maxKeyBytes?: number;
  /** Largest replicated value accepted (default 16 MiB). */
  maxValueBytes?: number;
  /** Keys per state chunk sent to the owner (default 1,024; about 64 KiB at most). */
  stateChunkKeys?: number;
  /** How long a handshake may make no progress (default 300,000 ms). */
  stallTimeoutMs?: number;
  /** Every completed handshake (the first and each one after a reconnect). */
  onHandshakeComplete?: () => void;
  /** Diagnostics: records refused (limits, malformed), callbacks that threw. */
  onError?: (error: unknown, where: string) => void;
}

/** A running subscription (resolved once the first handshake is complete). */
export interface StoreSubscription {
  /** A link to the owner is up and the owner admitted this replica. */
  readonly connected: boolean;
  /** The handshake on the current link is complete: live writes flow. */
  readonly caughtUp: boolean;
  /** Counters: records applied, skipped, refused. */
  readonly stats: Readonly<{ applied: number; skipped: number; refused: number; handshakes: number }>;
  /** Unsubscribe (the local store keeps what it has). */
  close(): void;
}

const STATE_CHUNK_BYTES = 64 * 1024;
/** State chunks in flight before the subscriber waits for the owner's acknowledgements. */
const STATE_WINDOW = 4;

function positive(name: string, v: number | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (!Number.isSafeInteger(v) || v <= 0)
    throw new StoreError("ERR_INVALID_ARGUMENT", `${name} must be a positive integer, got ${shown(v)}`);
  return v;
}

function report(onError: ((e: unknown, where: string) => void) | undefined, e: unknown, where: string): void {
  try {
    onError?.(e, where);
  } catch {
    // a diagnostics sink that throws has nowhere to report to
  }
}

interface Waiting {
  readonly state: ClientState;
  resolve(): void;
  reject(e: unknown): void;
  readonly done: Promise<void>;
}

/**
 * Own `topic` and replicate `store` to its subscribers. Returns at once; subscribers handshake
 * whenever they connect.
 */
export function exportStore(
  peer: ProtocolHost,
  topic: string,
  store: KVStore,
  opts: ExportStoreOptions = {},
): StoreExport {
  const batchSize = positive("batchSize", opts.batchSize, 128);
  const maxBatchBytes = positive("maxBatchBytes", opts.maxBatchBytes, 256 * 1024);
  const maxValueBytes = positive("maxValueBytes", opts.maxValueBytes, 512 * 1024);
  const { filter, walk, keyOrder } = opts;
  const stats = { handshakeItems: 0, liveItems: 0, handshakes: 0 };
  const waiting = new Map<ProtocolLink, Waiting>();
  const onError = opts.onError;

  const passes = (key: string, value: () => unknown): boolean => {
    if (filter === undefined) return true;
    try {
      return filter(key, value());
    } catch (e) {
      report(onError, e, `filter of '${key}'`);
      return false;
    }
  };

  const tooLarge = (key: string, bytes: Uint8Array): boolean => {
    if (bytes.length <= maxValueBytes) return false;
    report(
      onError,
      new StoreError(
        "ERR_LIMIT",
        `'${key}' is ${bytes.length} bytes, over maxValueBytes ${maxValueBytes}: not replicated`,
        key,
      ),
      "export",
    );
    return true;
  };

  async function candidates(client: ReadonlyMap<string, number>): Promise<NonNullable<Decision>[]> {
    const out: NonNullable<Decision>[] = [];
    if (walk !== undefined) {
      const seen = new Set<string>();
      const keys = await walk(store);
      for await (const key of keys as AsyncIterable<string>) {
        if (seen.has(key)) continue;
        seen.add(key);
        const meta = await store.meta(key);
        if (meta === undefined) continue;
        const d = decide({ key, ...meta }, client);
        if (d !== null) out.push(d);
      }
    } else {
      for await (const k of store.keys({ deleted: true })) {
        const d = decide(k, client);
        if (d !== null) out.push(d);
      }
    }
    return orderKeys(out, keyOrder);
  }

  async function* handshake(clientState: unknown, link: ProtocolLink): AsyncGenerator<SyncItem[]> {
    let hs: number;
    try {
      hs = parseClientState(clientState);
    } catch (e) {
      throw new TopicError("ERR_MALFORMED", (e as Error).message, topic);
    }
    const prev = waiting.get(link);
    prev?.reject(new TopicError("ERR_HANDSHAKE", "superseded by a new subscribe", topic));
    let resolve!: () => void;
    let reject!: (e: unknown) => void;
    const done = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    done.catch(() => {});
    const w: Waiting = { state: new ClientState(hs), resolve, reject, done };
    waiting.set(link, w);
    try {
      await done;
    } finally {
      if (waiting.get(link) === w) waiting.delete(link);
    }
    stats.handshakes++;
    const todo = await candidates(w.state.keys);
    w.state.keys.clear();
    let next = 0;
    let carry: SyncItem | null = null;
    /** The next bundle (null at the end): bounded in records and bytes. */
    const build = async (): Promise<SyncItem[] | null> => {
      const bundle: SyncItem[] = [];
      let bytes = 0;
      if (carry !== null) {
        bundle.push(carry);
        bytes = itemSize(carry);
        carry = null;
      }
      while (next < todo.length && bundle.length < batchSize) {
        const d = todo[next++]!;
        let item: SyncItem;
        if (d.del !== undefined) {
          if (!passes(d.key, () => undefined)) continue;
          item = delItem(d.key, d.del);
        } else {
          // bytes and metadata from one record: a write in between must not pair old bytes with a new time
          const e = await store.entry(d.key);
          if (e === undefined) continue; // deleted since: its tombstone streams live
          const { bytes: bytesOf, meta } = e;
          if (tooLarge(d.key, bytesOf)) continue;
          if (!passes(d.key, () => decodeCbor(bytesOf))) continue;
          item = putItem(d.key, meta.lastWrite, meta.immutable, bytesOf);
        }
        const size = itemSize(item);
        if (bundle.length > 0 && bytes + size > maxBatchBytes) {
          carry = item;
          break;
        }
        bundle.push(item);
        bytes += size;
      }
      return bundle.length > 0 ? bundle : null;
    };
    // read the next bundle from the store while the subscriber writes and acknowledges this one
    let ahead = build();
    for (;;) {
      const bundle = await ahead;
      if (bundle === null) return;
      ahead = build();
      ahead.catch(() => {});
      stats.handshakeItems += bundle.length;
      yield bundle;
    }
  }

  let owned: OwnedTopic | null = null;
  owned = Topics.of(peer).register(
    topic,
    {
      handshake,
      publish(payload, link) {
        // the only thing a subscriber publishes is what it holds, during its handshake
        const w = waiting.get(link);
        try {
          const m = parseStateMessage(payload);
          if (w !== undefined && w.state.hs === m[1] && w.state.add(m)) w.resolve();
        } catch (e) {
          // a subscriber that cannot say what it holds gets no handshake (and hears why)
          w?.reject(new TopicError("ERR_MALFORMED", (e as Error).message, topic));
          throw e;
        }
        return undefined;
      },
    },
    {
      // each handshake item is a bundle: one acknowledgement per bundle
      batchSize: 1,
      ...(opts.authorizeSubscribe !== undefined ? { authorizeSubscribe: opts.authorizeSubscribe } : {}),
      ...(opts.ackTimeoutMs !== undefined ? { ackTimeoutMs: opts.ackTimeoutMs } : {}),
      ...(opts.stallTimeoutMs !== undefined ? { stallTimeoutMs: opts.stallTimeoutMs } : {}),
      ...(onError !== undefined ? { onError } : {}),
    },
  );

  const off = store.onWrite((e: WriteEvent) => {
    if (owned === null) return;
    let item: SyncItem;
    if (e.op === "delete") {
      if (!passes(e.key, () => undefined)) return;
      item = delItem(e.key, e.meta.lastWrite);
    } else {
      if (tooLarge(e.key, e.bytes)) return;
      if (!passes(e.key, () => e.value)) return;
      item = putItem(e.key, e.meta.lastWrite, e.meta.immutable, e.bytes);
    }
    stats.liveItems++;
    owned.publish(item);
  });

  return {
    topic,
    stats,
    get subscribers() {
      return owned?.subscribers ?? [];
    },
    close() {
      off();
      for (const w of waiting.values()) w.reject(new TopicError("ERR_CLOSED", "export closed", topic));
      waiting.clear();
      owned?.close();
      owned = null;
    },
  };
}

/**
 * Subscribe `localStore` to the store exported on `topic`: resolves once the first differential
 * handshake is complete (after a reconnect, a new one runs by itself and transfers only what
 * changed). Rejects with the owner's refusal (e.g. `ERR_UNAUTHORIZED`), and with `ERR_NO_TOPIC` at
 * once when nobody exports `topic`: unlike signal sync it does not wait for an owner (the topic
 * layer's `noTopicRetry` stays off here: no handle exists yet that could cancel the wait).
 */
export async function subscribeStore(
  peer: ProtocolHost,
  topic: string,
  localStore: KVStore,
  opts: SubscribeStoreOptions = {},
): Promise<StoreSubscription> {
  const limits: ItemLimits = {
    maxKeyBytes: positive("maxKeyBytes", opts.maxKeyBytes, 1024),
    maxValueBytes: positive("maxValueBytes", opts.maxValueBytes, 16 * 1024 * 1024),
  };
  const chunkKeys = positive("stateChunkKeys", opts.stateChunkKeys, 1024);
  const stats = { applied: 0, skipped: 0, refused: 0, handshakes: 0 };
  const onError = opts.onError;
  let hs = 0;
  let sub: Subscription | null = null;
  let closed = false;
  /** The local write in progress (bundles and live records are written in arrival order). */
  let writing: Promise<void> = Promise.resolve();
  const wake = new Set<() => void>();
  const poke = (): void => {
    for (const w of [...wake]) w();
  };

  /** Until fewer than STATE_WINDOW state chunks wait for the owner's acknowledgement. */
  const room = (mine: number, base: number): Promise<boolean> =>
    new Promise<boolean>((resolve) => {
      const check = (): void => {
        if (closed || mine !== hs || sub === null) {
          wake.delete(check);
          resolve(false);
        } else if (sub.pending - base < STATE_WINDOW) {
          wake.delete(check);
          resolve(true);
        }
      };
      wake.add(check);
      check();
    });

  const sendState = async (mine: number): Promise<void> => {
    // after the subscribe frame: this runs from a later task than clientState()
    await Promise.resolve();
    // publishes of an earlier link still count as pending until this handshake completes
    const base = sub?.pending ?? 0;
    try {
      const it = stateChunks(mine, localStore.keys(), chunkKeys, STATE_CHUNK_BYTES);
      for await (const m of it) {
        if (!(await room(mine, base))) return;
        sub!.publish(m);
      }
    } catch (e) {
      report(onError, e, "reading the local keys");
    }
  };

  const apply = async (raw: unknown, op: "handshake" | "assoc"): Promise<void> => {
    // after close() the local store is the caller's again (it may be closed already)
    if (closed) return;
    const items = op === "handshake" ? (Array.isArray(raw) ? raw : []) : [raw];
    if (op === "handshake" && !Array.isArray(raw)) {
      stats.refused++;
      report(onError, new StoreError("ERR_PROTOCOL", "a handshake bundle is an array"), "handshake");
      return;
    }
    const ops: StoreOp[] = [];
    for (const it of items) {
      try {
        ops.push(itemToOp(it, limits));
      } catch (e) {
        stats.refused++;
        report(onError, e, op);
      }
    }
    if (ops.length === 0) return;
    const applied = await localStore.write(ops);
    for (let i = 0; i < ops.length; i++) {
      if (!applied[i]) {
        stats.skipped++;
        continue;
      }
      stats.applied++;
      const o = ops[i]!;
      if (opts.onKeyUpdate === undefined) continue;
      try {
        if (o.op === "delete") opts.onKeyUpdate(o.key, undefined, "dissoc");
        else opts.onKeyUpdate(o.key, decodeCbor(o.bytes), op);
      } catch (e) {
        report(onError, e, `onKeyUpdate of '${o.key}'`);
      }
    }
  };

  sub = Topics.of(peer).subscribe(
    topic,
    {
      clientState() {
        const mine = ++hs;
        poke();
        void sendState(mine);
        return [STORE_SYNC_VERSION, mine];
      },
      handshakeItem: (bundle) => {
        // one bundle is written while the next travels: acknowledge this one once the previous
        // write is done and this one has started (never more than two bundles held here)
        const previous = writing;
        const current = previous.then(() => apply(bundle, "handshake"));
        writing = current.catch((e: unknown) => report(onError, e, "handshake bundle"));
        return previous;
      },
      publish: (item) => {
        const current = writing.then(() => apply(item, "assoc"));
        writing = current.catch((e: unknown) => report(onError, e, "live record"));
        return writing;
      },
    },
    {
      ...(opts.via !== undefined ? { via: opts.via } : {}),
      ...(opts.stallTimeoutMs !== undefined ? { stallTimeoutMs: opts.stallTimeoutMs } : {}),
      ...(onError !== undefined ? { onError } : {}),
      onHealth: poke,
      onHandshakeComplete: () => {
        // complete means written: after the last bundle's write
        void writing.then(() => {
          stats.handshakes++;
          try {
            opts.onHandshakeComplete?.();
          } catch (e) {
            report(onError, e, "onHandshakeComplete");
          }
        });
      },
    },
  );
  const s = sub;
  const handle: StoreSubscription = {
    get connected() {
      return s.connected;
    },
    get caughtUp() {
      return s.caughtUp;
    },
    stats,
    close() {
      if (closed) return;
      closed = true;
      poke();
      s.close();
    },
  };
  try {
    await s.ready;
    await writing;
  } catch (e) {
    handle.close();
    throw e;
  }
  return handle;
}
