/**
 * `syncSignal` / `exportSignal` / `subscribeSignal`: a signal's value replicated over a topic.
 * The owner registers the topic and relays; everyone else subscribes through it. Convergent
 * values travel as deltas and join; anything else travels whole under hybrid-logical-clock
 * last-writer-wins. Health is exposed as signals in the sync's context.
 * @module
 */
import type { Context } from "../../core/context.js";
import { defaultContext } from "../../core/context.js";
import { type Signal, signal } from "../../core/signal.js";
import { spin } from "../../core/spin.js";
import { isConvergent } from "../crdt/convergent.js";
import type { ProtocolHost } from "../peer/protocols.js";
import { TopicError } from "./errors.js";
import { isStamp, type Stamp } from "./hlc.js";
import type { OwnedTopic } from "./owner.js";
import { DeltaReplica, LwwReplica, type SyncPayload } from "./replica.js";
import type { AuthorizePublish, AuthorizeSubscribe, NoTopicRetryOptions } from "./strategy.js";
import { resolveNoTopicRetry, type Subscription } from "./subscriber.js";
import { Topics } from "./topics.js";

/** A peer signals sync over: a `Peer` (anything with links and protocols; its `"default"` context is used). */
export type SyncPeer = ProtocolHost;

/** Options of {@link syncSignal}, {@link exportSignal} and {@link subscribeSignal}. */
export interface SyncSignalOptions {
  /** This peer owns the topic (exactly one owner per topic: the relay hub). */
  owner?: boolean;
  /** Subscriber: the owner's peer id (default: the peer this one dialed). */
  via?: string;
  /** Where the value and the health signals live (default: the peer's `"default"` context, else `defaultContext()`). */
  context?: Context;
  /**
   * Last-writer-wins: the stamp of the value the sync starts with, when it is known (one stored
   * beside the value, read from {@link SignalSyncHandle.stamp}). Without it, a value this context
   * last held under a stamp (an earlier sync of the signal, e.g. a topic registered again) keeps that
   * stamp; else the owner's starting value (unless `null` or `undefined`) counts as written just
   * before the sync started, and a subscriber's is not a write. Refused on a Convergent value.
   */
  stamp?: Stamp;
  /**
   * Owner, last-writer-wins: the value the sync starts with (other than `null`/`undefined`, with no
   * `stamp` given or remembered) counts as written just before the sync started, so a subscriber's
   * copy stamped earlier loses to it: for an owner whose starting value is authoritative (restored
   * from storage). Default `false`: the starting value is not a write, and an owner that restarts
   * relearns the value from its subscribers. Refused on a subscriber or a Convergent signal.
   */
  startsWritten?: boolean;
  /** Owner: may this principal subscribe? `false` or a code string refuses (see `AuthDecision`). */
  authorizeSubscribe?: AuthorizeSubscribe;
  /**
   * Owner: may this principal publish? (default: the subscribe decision). Judges every live
   * publish (`{d}`, `{s}`, `{v, t}`) and, in the same shape, what a subscriber's handshake state
   * would change here (`{s}` its Convergent state, `{v, t}` an LWW write newer than the owner's):
   * refused, nothing of it is integrated, the subscriber hears the code in `onError` and goes back
   * to the owner's state, and its subscription stands (it reads on).
   */
  authorizePublish?: AuthorizePublish;
  /** Owner: handshake items per batch (default 20). */
  batchSize?: number;
  /** Owner: how long a handshake batch may go unacknowledged (default 30,000 ms). */
  ackTimeoutMs?: number;
  /** How long a handshake may make no progress (default 300,000 ms). */
  stallTimeoutMs?: number;
  /**
   * Subscriber: what a refusal with `ERR_NO_TOPIC` does (the owner has not registered the topic
   * yet, or closed it). Default `true`: subscribe again on the same link with exponential backoff
   * (100 ms doubling up to 10 s, jitter 0.5, no limit: see `NoTopicRetryOptions`), while `ready` stays
   * pending and each refusal goes to `onError` and `lastError`; options tune the backoff. `false`:
   * the refusal is final and `ready` rejects with it at once. Ignored on the owner.
   */
  noTopicRetry?: boolean | NoTopicRetryOptions;
  /** Diagnostics: refused publishes, failed handshakes, each `ERR_NO_TOPIC` retried, values of the wrong kind. */
  onError?: (error: unknown, where: string) => void;
}

/** A running sync of one signal (returned synchronously). */
export interface SignalSyncHandle {
  /**
   * The first handshake is done, both directions (on the owner: the topic is registered). Rejects
   * on a final refusal (e.g. `ERR_UNAUTHORIZED`, `ERR_INCOMPATIBLE`) or when closed first
   * (`ERR_CLOSED`); while the owner answers `ERR_NO_TOPIC` and `noTopicRetry` is on (the default)
   * it stays pending and the subscription retries.
   */
  readonly ready: Promise<void>;
  /** A link to the owner is up and the owner admitted this replica (always true on the owner). */
  readonly connected: Signal<boolean>;
  /** The handshake on the current link completed: live updates flow (always true on the owner). */
  readonly caughtUp: Signal<boolean>;
  /** Local changes the owner has not acknowledged (0 on the owner). */
  readonly pending: Signal<number>;
  /**
   * The last refusal or failure this replica got (an `ERR_NO_TOPIC` it is retrying after, a refused
   * publish or handshake state, a failed handshake); `null` again once a handshake completes, unless
   * the owner refused that handshake's state (always `null` on the owner).
   */
  readonly lastError: Signal<TopicError | null>;
  /** How this topic replicates: `"delta"` (Convergent) or `"lww"`. */
  readonly mode: "delta" | "lww";
  /**
   * Last-writer-wins: the stamp of the value the signal holds in the sync's context (a local write
   * not yet published is stamped first), to store beside the value and give back as the `stamp`
   * option when the sync starts again from it; `null`: the value was never written (or the topic
   * is Convergent).
   */
  stamp(): Stamp | null;
  /** Stop syncing (the signal keeps its value). */
  close(): void;
}

type Role = "sync" | "export" | "mirror";

function contextOf(peer: SyncPeer): Context {
  const reg = (peer as { contexts?: { get?: (id?: string) => Context | undefined } }).contexts;
  return reg?.get?.("default") ?? defaultContext();
}

function wallClock(ctx: Context): () => number {
  // stamps compare across machines: wall time on real clocks, virtual time in simulations
  return ctx.clock.kind === "real" ? () => Date.now() : () => ctx.now();
}

function invalid(topic: string, msg: string): never {
  throw new TopicError("ERR_INVALID_ARGUMENT", `sync of '${topic}': ${msg}`, topic);
}

function start<T>(peer: SyncPeer, topic: string, sig: Signal<T>, opts: SyncSignalOptions, role: Role) {
  if (typeof opts !== "object" || opts === null) invalid(topic, "options must be an object");
  const owner = role === "export" || opts.owner === true;
  if (role === "mirror" && opts.owner === true) invalid(topic, "subscribeSignal never owns a topic");
  if (owner && opts.via !== undefined)
    invalid(topic, "the owner subscribes through nobody (`via` with `owner`)");
  if (!owner && (opts.authorizeSubscribe !== undefined || opts.authorizePublish !== undefined))
    invalid(topic, "only the owner authorizes (authorize hooks without `owner`)");
  if (role === "export" && opts.authorizePublish !== undefined)
    invalid(topic, "an exported signal refuses every publish (`authorizePublish` with exportSignal)");
  // checked on the owner too (a shared options object): a typo fails where it is written
  const noTopicRetry = opts.noTopicRetry === undefined ? true : opts.noTopicRetry;
  resolveNoTopicRetry(noTopicRetry, topic);
  const ctx = opts.context ?? contextOf(peer);
  const s = sig as Signal<unknown>;
  const report = (e: unknown, where = "sync") => opts.onError?.(e, `${topic}: ${where}`);
  const convergent = isConvergent(ctx.get(s));
  if (opts.stamp !== undefined) {
    if (convergent) invalid(topic, "a Convergent value has no stamp (`stamp` on a Convergent signal)");
    if (!isStamp(opts.stamp)) invalid(topic, "`stamp` must be a stamp [wallMs, counter, actor]");
  }
  if (opts.startsWritten !== undefined) {
    if (typeof opts.startsWritten !== "boolean") invalid(topic, "`startsWritten` must be a boolean");
    if (opts.startsWritten && !owner) invalid(topic, "only an owner's starting value counts as written");
    if (opts.startsWritten && convergent)
      invalid(topic, "a Convergent value has no stamp (`startsWritten` on a Convergent signal)");
  }
  const replica: DeltaReplica | LwwReplica = convergent
    ? new DeltaReplica(ctx, s, report)
    : new LwwReplica(ctx, s, peer.id, wallClock(ctx), {
        written: owner && opts.startsWritten === true,
        stamp: opts.stamp,
      });
  const connected = signal(owner, { name: `sync ${topic} connected` });
  const caughtUp = signal(owner, { name: `sync ${topic} caughtUp` });
  const pending = signal(0, { name: `sync ${topic} pending` });
  const lastError = signal<TopicError | null>(null, { name: `sync ${topic} lastError` });
  const topics = Topics.of(peer);
  let publishLocal: () => void;
  let closeTopic: () => void;
  let ready: Promise<void>;

  if (owner) {
    let owned: OwnedTopic | null = null;
    const flush = (): void => {
      const p = replica.local();
      if (p !== undefined) owned?.publish(p);
    };
    owned = topics.register(
      topic,
      {
        // what a joiner's state would change here is authorized as its publish would be
        contribution: (cs) => {
          flush();
          return replica.contribution(cs);
        },
        handshake: (cs, link, refused) => {
          flush();
          return replica.handshake(cs, (p: SyncPayload) => owned?.publish(p, link), refused !== undefined);
        },
        publish: (payload) => {
          flush();
          return replica.apply(payload, false) ? payload : undefined;
        },
      },
      {
        authorizeSubscribe: opts.authorizeSubscribe,
        authorizePublish: role === "export" ? () => false : opts.authorizePublish,
        batchSize: opts.batchSize,
        ackTimeoutMs: opts.ackTimeoutMs,
        stallTimeoutMs: opts.stallTimeoutMs,
        clock: ctx.clock,
        onError: opts.onError,
      },
    );
    publishLocal = flush;
    closeTopic = () => owned?.close();
    ready = Promise.resolve();
  } else {
    const mirror = role === "mirror";
    let sub: Subscription | null = null;
    const flush = (): void => {
      if (mirror) return;
      const p = replica.local();
      if (p !== undefined) sub?.publish(p);
    };
    const health = (): void => {
      if (sub === null) return;
      ctx.set(connected, sub.connected);
      ctx.set(caughtUp, sub.caughtUp);
      ctx.set(pending, sub.pending);
      ctx.set(lastError, sub.lastError);
    };
    sub = topics.subscribe(
      topic,
      {
        clientState: () => {
          // whatever changed locally travels in the state itself
          if (!mirror) replica.local();
          return replica.clientState(mirror);
        },
        handshakeItem: (item) => {
          flush();
          replica.apply(item, true);
        },
        publish: (payload) => {
          flush();
          replica.apply(payload, false);
        },
      },
      {
        via: opts.via,
        stallTimeoutMs: opts.stallTimeoutMs,
        noTopicRetry,
        clock: ctx.clock,
        onError: opts.onError,
        onHealth: health,
        onHandshakeComplete: () => replica.handshakeDone(),
        // the owner's answer to the new handshake resets this replica: a refused write goes at once
        resubscribeOnRefusal: true,
      },
    );
    health();
    publishLocal = flush;
    closeTopic = () => sub?.close();
    ready = sub.ready;
  }

  // the publish watch: every change of the value in `ctx` (mirrors never publish). Writes made in
  // one tick travel as one publish: a Convergent value accumulates its delta until it is cleared,
  // an LWW value is sent as it is at the end of the tick. A remote update flushes first.
  let closed = false;
  let queued = false;
  const flushQueued = (): void => {
    queued = false;
    if (!closed) publishLocal();
  };
  const stop =
    role === "mirror"
      ? () => {}
      : ctx.observe(
          spin(($) => $.track(s), { name: `sync ${topic}` }),
          () => {
            if (queued) return;
            queued = true;
            queueMicrotask(flushQueued);
          },
          (e) => report(e, "watch"),
        );
  const handle: SignalSyncHandle = {
    ready,
    connected,
    caughtUp,
    pending,
    lastError,
    mode: replica.mode,
    stamp() {
      if (replica instanceof DeltaReplica) return null;
      if (!closed) publishLocal();
      return replica.currentStamp;
    },
    close() {
      if (closed) return;
      closed = true;
      stop();
      closeTopic();
      if (replica instanceof LwwReplica) replica.retire();
      ctx.set(connected, false);
      ctx.set(caughtUp, false);
    },
  };
  return handle;
}

/**
 * Replicate `sig`'s value in `opts.context` over `topic`: with `owner: true` this peer owns the
 * topic (the relay hub); otherwise it subscribes through `via` (default: the peer it dialed).
 * Convergent values travel as deltas and join; other values travel whole and the greatest
 * hybrid-logical-clock stamp wins everywhere. Invalid option combinations throw `ERR_INVALID_ARGUMENT`.
 */
export function syncSignal<T>(
  peer: SyncPeer,
  topic: string,
  sig: Signal<T>,
  opts: SyncSignalOptions = {},
): SignalSyncHandle {
  return start(peer, topic, sig, opts, "sync");
}

/**
 * Own `topic` and publish `sig` to every subscriber; inbound publishes are refused
 * (`ERR_UNAUTHORIZED`), and so is what a subscriber's handshake state would change (it is rolled
 * back to the exported value).
 */
export function exportSignal<T>(
  peer: SyncPeer,
  topic: string,
  sig: Signal<T>,
  opts: SyncSignalOptions = {},
): SignalSyncHandle {
  return start(peer, topic, sig, opts, "export");
}

/** A read-only mirror of `topic` in `sig`: it applies what the owner sends and never publishes. */
export function subscribeSignal<T>(
  peer: SyncPeer,
  topic: string,
  sig: Signal<T>,
  opts: SyncSignalOptions = {},
): SignalSyncHandle {
  return start(peer, topic, sig, opts, "mirror");
}
