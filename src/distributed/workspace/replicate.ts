/**
 * Replicating a stored system's content store over a topic. The owner (the hub) holds the
 * authoritative store; a subscriber sends the branch heads it has and receives only the content
 * nodes it lacks (content addressing: a node it has is never re-sent, nor anything below it), in
 * children-first order, with the branch pointers last; live writes follow in the writer's order,
 * one ordered batch per commit. So a pointer a replica sees always names content it already holds:
 * this is what feeds the workspace gate. Subscribers may publish their own commits; the hub refuses
 * a pointer write to a leased branch from anyone but the holder (`ERR_NOT_LEASE_HOLDER`).
 * @module
 */
import type { Clock } from "../../core/clock.js";
import { encodeCbor } from "../../core/persist/codec.js";
import type { ProtocolHost } from "../peer/protocols.js";
import type { OwnedTopic } from "../sync/owner.js";
import type { AuthDecision, NoTopicRetryOptions } from "../sync/strategy.js";
import type { Subscription } from "../sync/subscriber.js";
import { Topics } from "../sync/topics.js";
import type { ContentStore, PutOptions } from "./content.js";
import type { LeaseTable } from "./lease.js";
import { BRANCHES_KEY, branchOfKey, headKey, keyOrder, reachableContent } from "./stored-map.js";

/** One write: key, value, immutable. */
export type Write = readonly [string, unknown, boolean];

/** A listener of an {@link ObservableStore}: the ordered writes of one batch, and where they came from. */
export type WriteListener = (writes: readonly Write[], origin: "local" | "remote") => void;

/**
 * A content store whose writes can be observed, batch by batch in order. Open the stored systems
 * of a replicated store on this wrapper so their commits are replicated.
 */
export class ObservableStore implements ContentStore {
  readonly #listeners = new Set<WriteListener>();
  /** @param inner the store written to */
  constructor(readonly inner: ContentStore) {}

  get(key: string): Promise<unknown> {
    return this.inner.get(key);
  }
  has(key: string): Promise<boolean> {
    return this.inner.has(key);
  }
  put(key: string, value: unknown, opts?: PutOptions): Promise<void> {
    return this.putMany([[key, value, opts]]);
  }
  async putMany(entries: ReadonlyArray<readonly [string, unknown, PutOptions?]>): Promise<void> {
    await this.write(
      entries.map(([k, v, o]) => [k, v, o?.immutable === true] as const),
      "local",
    );
  }
  /** Adds a listener; returns the function that removes it. */
  listen(fn: WriteListener): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }
  /** @internal writes a batch (immutable keys already present are skipped) and tells the listeners. */
  async write(writes: readonly Write[], origin: "local" | "remote"): Promise<number> {
    const fresh: Write[] = [];
    for (const w of writes) if (!(w[2] && (await this.inner.has(w[0])))) fresh.push(w);
    if (fresh.length === 0) return 0;
    await this.inner.putMany(
      fresh.map(([k, v, imm]) => [k, v, imm ? { immutable: true } : undefined] as const),
    );
    for (const l of this.#listeners) l(fresh, origin);
    return fresh.filter((w) => w[2]).length;
  }
}

/** `store` as an {@link ObservableStore} (itself if it already is one). */
export function observable(store: ContentStore): ObservableStore {
  return store instanceof ObservableStore ? store : new ObservableStore(store);
}

interface ClientState {
  readonly heads: Readonly<Record<string, string>>;
}
interface WritesPayload {
  readonly w: Write[];
}

function isWrites(p: unknown): p is WritesPayload {
  return (
    typeof p === "object" &&
    p !== null &&
    Array.isArray((p as WritesPayload).w) &&
    (p as WritesPayload).w.every((w) => Array.isArray(w) && typeof w[0] === "string")
  );
}

async function pointers(store: ContentStore): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const branches = await store.get(BRANCHES_KEY);
  if (Array.isArray(branches))
    for (const b of branches as string[]) {
      const h = await store.get(headKey(b));
      if (typeof h === "string") out[b] = h;
    }
  return out;
}

/** Options of {@link exportContent}. */
export interface ExportContentOptions {
  /** Pointer writes to a branch are refused unless the publisher holds its lease here. */
  readonly leases?: LeaseTable;
  /** Content nodes per handshake item (default 256). */
  readonly nodesPerItem?: number;
  /** Handshake items per acknowledged batch (default 20). */
  readonly batchSize?: number;
  /** Diagnostics. */
  readonly onError?: (error: unknown, where: string) => void;
}

/** What a content topic moved (this side's view). */
export interface ContentStats {
  /** Content nodes sent (handshake items and publishes). */
  nodesSent: number;
  /** Branch pointers and registry writes sent. */
  pointersSent: number;
  /** Encoded bytes of every payload sent (CBOR). */
  bytesSent: number;
  /** Content nodes received and written (nodes already held are not counted). */
  nodesReceived: number;
  /** Encoded bytes of every payload received. */
  bytesReceived: number;
}

function newStats(): ContentStats {
  return { nodesSent: 0, pointersSent: 0, bytesSent: 0, nodesReceived: 0, bytesReceived: 0 };
}

function countSent(stats: ContentStats, p: WritesPayload): WritesPayload {
  stats.bytesSent += encodeCbor(p).length;
  for (const w of p.w)
    if (w[2]) stats.nodesSent++;
    else stats.pointersSent++;
  return p;
}

function countReceived(stats: ContentStats, p: WritesPayload, fresh: number): void {
  stats.bytesReceived += encodeCbor(p).length;
  stats.nodesReceived += fresh;
}

/** A replicated content topic (owner or subscriber side). */
export interface ContentTopic {
  /** What this side sent and received so far. */
  readonly stats: ContentStats;
  /**
   * The owner: resolved once registered. A subscriber: resolved at the first completed handshake
   * (pending while it retries after `ERR_NO_TOPIC`, with `noTopicRetry`). A refused publish of this
   * replica (e.g. `ERR_NOT_LEASE_HOLDER`, even before that handshake) does not settle it: it goes to
   * `onError`. Rejects on a refusal of the subscribe itself, with its code (final), or with
   * `ERR_CLOSED` when closed first.
   */
  readonly ready: Promise<void>;
  /** Stops replicating (the store keeps what it has). */
  close(): void;
}

/** The owner's authorization of one publish: pointer writes need the branch's lease. */
export function authorizeWrites(
  leases: LeaseTable | undefined,
  principal: unknown,
  payload: unknown,
): AuthDecision {
  if (!isWrites(payload)) return "ERR_MALFORMED";
  if (leases === undefined) return true;
  for (const [k] of payload.w) {
    const b = branchOfKey(k);
    if (b !== null && !leases.mayWriteOrClaim(principal, b)) return "ERR_NOT_LEASE_HOLDER";
  }
  return true;
}

/** Owns `topic` on `peer`, replicating `store` (the hub side). */
export function exportContent(
  peer: ProtocolHost,
  topic: string,
  store: ObservableStore,
  opts: ExportContentOptions = {},
): ContentTopic {
  const per = opts.nodesPerItem ?? 256;
  const stats = newStats();
  let owned: OwnedTopic | null = null;
  const off = store.listen((writes, origin) => {
    if (origin === "local" && owned !== null) owned.publish(countSent(stats, { w: [...writes] }));
  });
  owned = Topics.of(peer).register(
    topic,
    {
      handshake: (clientState) => handshakeItems(store, clientState, per, stats),
      publish: async (payload) => {
        if (!isWrites(payload)) throw new TypeError("not a batch of writes");
        countReceived(stats, payload, await store.write(payload.w, "remote"));
        return payload;
      },
    },
    {
      authorizePublish: (principal, _topic, payload) => authorizeWrites(opts.leases, principal, payload),
      ...(opts.batchSize === undefined ? {} : { batchSize: opts.batchSize }),
      ...(opts.onError === undefined ? {} : { onError: opts.onError }),
    },
  );
  return {
    stats,
    ready: Promise.resolve(),
    close: () => {
      off();
      owned?.close();
    },
  };
}

async function* handshakeItems(
  store: ObservableStore,
  clientState: unknown,
  per: number,
  stats: ContentStats,
): AsyncGenerator<WritesPayload> {
  const cs = clientState as Partial<ClientState> | null;
  const theirs =
    cs !== null && typeof cs === "object" && typeof cs.heads === "object" && cs.heads !== null
      ? cs.heads
      : {};
  const mine = await pointers(store);
  const known = new Set<string>();
  const theirHeads: string[] = [];
  for (const h of Object.values(theirs))
    if (typeof h === "string" && (await store.has(h))) theirHeads.push(h);
  for (const a of await reachableContent(store, theirHeads, new Set(), true)) known.add(a);
  const missing = await reachableContent(store, Object.values(mine), known);
  for (let i = 0; i < missing.length; i += per) {
    const w: Write[] = [];
    for (const a of missing.slice(i, i + per)) w.push([a, await store.get(a), true]);
    yield countSent(stats, { w });
  }
  const last: Write[] = [[BRANCHES_KEY, Object.keys(mine).sort(), false]];
  for (const [b, h] of Object.entries(mine)) if (theirs[b] !== h) last.push([headKey(b), h, false]);
  last.sort((x, y) => keyOrder(x[0]) - keyOrder(y[0]));
  yield countSent(stats, { w: last });
}

/** Options of {@link subscribeContent}. */
export interface SubscribeContentOptions {
  /** Publish this replica's local commits to the owner (default false: a read-only follower). */
  readonly publish?: boolean;
  /** The owner's peer id (default: the peer dialed). */
  readonly via?: string;
  /**
   * What of a local batch to publish (default: all of it, when `publish`); e.g. content always but
   * only some branches' pointers. Nothing is published when it returns no pointer write.
   */
  readonly publishFilter?: (writes: readonly Write[]) => readonly Write[];
  /** A branch pointer arrived (its content is already local). */
  readonly onHead?: (branch: string, head: string) => void;
  /** Diagnostics, and refusals of this replica's publishes (e.g. `ERR_NOT_LEASE_HOLDER`). */
  readonly onError?: (error: unknown, where: string) => void;
  /**
   * A subscribe refused with `ERR_NO_TOPIC` (the owner has not registered the topic yet, or closed
   * it): `true` or backoff options subscribe again on the same link until it is there (the topic
   * layer's retry); `false` (the default, as the topic layer's) makes the refusal final.
   */
  readonly noTopicRetry?: boolean | NoTopicRetryOptions;
  /** Timers of the subscription: the retry after `ERR_NO_TOPIC`, the stall (default: the peer's clock). */
  readonly clock?: Clock;
}

/** Subscribes `store` to `topic` through its owner (the follower side). */
export function subscribeContent(
  peer: ProtocolHost,
  topic: string,
  store: ObservableStore,
  opts: SubscribeContentOptions = {},
): ContentTopic {
  const stats = newStats();
  const apply = async (payload: unknown): Promise<void> => {
    if (!isWrites(payload)) throw new TypeError("not a batch of writes");
    countReceived(stats, payload, await store.write(payload.w, "remote"));
    for (const [k, v] of payload.w) {
      const b = branchOfKey(k);
      if (b !== null && typeof v === "string") opts.onHead?.(b, v);
    }
  };
  let heads: Record<string, string> = {};
  const strategy = { clientState: () => ({ heads }), handshakeItem: apply, publish: apply };
  let closed = false;
  let resyncQueued = false;
  // a refused commit is undone by a fresh handshake on the same subscription (its `ready` stands):
  // it brings the owner's pointers back
  const resync = () => {
    resyncQueued = false;
    if (!closed) sub?.resubscribe();
  };
  // declared first: `onError` may run before `subscribe` returns
  let sub: Subscription | null = null;
  sub = Topics.of(peer).subscribe(topic, strategy, {
    ...(opts.via === undefined ? {} : { via: opts.via }),
    ...(opts.noTopicRetry === undefined ? {} : { noTopicRetry: opts.noTopicRetry }),
    ...(opts.clock === undefined ? {} : { clock: opts.clock }),
    onError: (e, where) => {
      opts.onError?.(e, where);
      // a refused publish leaves the subscription standing (a refused subscribe is final: `ready`
      // rejects with its code, and subscribing again would only be refused again)
      const refusedPublish = sub?.state === "subscribing" || sub?.state === "live";
      if (
        (e as { code?: unknown } | null)?.code === "ERR_NOT_LEASE_HOLDER" &&
        refusedPublish &&
        !resyncQueued
      ) {
        resyncQueued = true;
        queueMicrotask(resync);
      }
    },
  });
  // content committed on unpublished branches (a fork): it goes out with the next published
  // pointer, so a merge's parents are never missing at the owner
  const pendingContent: Write[] = [];
  // the client state is computed synchronously: keep the local pointers current
  const refresh = async () => {
    heads = await pointers(store);
  };
  const off = store.listen((writes, origin) => {
    void refresh();
    if (origin === "local") {
      // a local commit's content is local: its pointer feeds the gate like a replicated one
      for (const [k, v] of writes) {
        const b = branchOfKey(k);
        if (b !== null && typeof v === "string") opts.onHead?.(b, v);
      }
      if (opts.publish === true) {
        const out = opts.publishFilter?.(writes) ?? writes;
        if (out.some((w) => !w[2]))
          sub.publish(countSent(stats, { w: [...pendingContent.splice(0), ...out] }));
        else pendingContent.push(...out);
      }
    }
  });
  void refresh();
  return {
    stats,
    ready: sub.ready,
    close: () => {
      closed = true;
      off();
      sub.close();
    },
  };
}
