/**
 * What a topic replicates is a strategy: the owner's side turns a joiner's client state into
 * handshake items (and may integrate it: the symmetric handshake) and applies inbound publishes;
 * the subscriber's side produces the client state and applies items and publishes. The topic
 * layer does the sending, batching, acknowledging, buffering and relaying.
 * @module
 */
import type { Clock } from "../../core/clock.js";
import type { ProtocolLink } from "../peer/protocols.js";
import type { Refusal } from "./authorize.js";

/**
 * An authorization decision: `true` allows; `false` refuses with `ERR_UNAUTHORIZED`; a string
 * refuses with that code (e.g. `"ERR_NOT_LEASE_HOLDER"`). A hook may also throw an error with a
 * `code` (that code and message travel) or return a promise of a decision.
 */
export type AuthDecision = boolean | string;

/** May `principal` (from the peer's `authenticate`) subscribe to `topic`? */
export type AuthorizeSubscribe = (principal: unknown, topic: string) => AuthDecision | Promise<AuthDecision>;

/** May `principal` publish `payload` on `topic`? */
export type AuthorizePublish = (
  principal: unknown,
  topic: string,
  payload: unknown,
) => AuthDecision | Promise<AuthDecision>;

/** The owner's side of a topic. */
export interface OwnerStrategy {
  /**
   * What integrating a joiner's `clientState` would change here, as the publish that would make
   * the same change live (a payload `authorizePublish` judges like any other), or `undefined` when
   * it would change nothing. A strategy whose `handshake` integrates client state must say so
   * here: with an `authorizePublish` hook, the owner asks it about this payload (same principal,
   * same topic) before `handshake` runs, and passes a refusal on to `handshake`. Without this
   * method the client state is taken to change nothing (only read). Throw a `TopicError` to refuse
   * the joiner with its code, as from `handshake`.
   */
  contribution?(clientState: unknown, link: ProtocolLink): unknown;
  /**
   * Items for a joiner on `link`, given the client state it sent. May integrate that state first
   * (and relay what it brought through `OwnedTopic.publish(payload, link)`), unless `refused`:
   * then `authorizePublish` refused what the state amounts to (see `contribution`; the joiner has
   * been told the code), so nothing of it may be integrated, and the items should bring the joiner
   * back to this owner's state. Throw a `TopicError` to refuse the joiner with its code.
   */
  handshake(
    clientState: unknown,
    link: ProtocolLink,
    refused?: Refusal,
  ): Iterable<unknown> | AsyncIterable<unknown>;
  /**
   * An authorized inbound publish from `link`. Returns what to relay to the other subscribers
   * (`undefined`: nothing, e.g. it changed nothing here). May return a promise.
   */
  publish(payload: unknown, link: ProtocolLink): unknown;
}

/** The subscriber's side of a topic. */
export interface SubscriberStrategy {
  /** What this replica sends with each subscribe (called once per handshake). */
  clientState(): unknown;
  /** One handshake item from the owner (in order; may return a promise). */
  handshakeItem(item: unknown): void | Promise<void>;
  /** One live publish relayed by the owner (in order, after the handshake; may return a promise). */
  publish(payload: unknown): void | Promise<void>;
}

/** Options of an owned topic. */
export interface TopicOwnerOptions {
  /** May this principal subscribe? (default: everyone) */
  authorizeSubscribe?: AuthorizeSubscribe;
  /**
   * May this principal publish? (default: the subscribe decision for its principal). Asked about
   * every live publish, and about what a joiner's client state would change here (the strategy's
   * `contribution`) before its handshake integrates it.
   */
  authorizePublish?: AuthorizePublish;
  /** Handshake items per batch (default 20). */
  batchSize?: number;
  /** How long the owner waits for a batch's acknowledgement (default 30,000 ms). */
  ackTimeoutMs?: number;
  /** How long a handshake producer may go quiet (default 300,000 ms). */
  stallTimeoutMs?: number;
  /** Timers of this topic (default: the peer's clock, else the default context's). */
  clock?: Clock;
  /** Diagnostics: hooks or strategies that threw, failed handshakes. */
  onError?: (error: unknown, where: string) => void;
}

/** Options of a subscription. */
export interface TopicSubscribeOptions {
  /** The owner's peer id (default: the first peer this one dialed). */
  via?: string;
  /** How long a handshake may go without progress before it fails (default 300,000 ms). */
  stallTimeoutMs?: number;
  /** Timers of this subscription (default: the peer's clock, else the default context's). */
  clock?: Clock;
  /** Diagnostics and refusals of this subscription's publishes. */
  onError?: (error: unknown, where: string) => void;
  /**
   * Subscribe again when the owner refuses a live publish sent after the current handshake's
   * client state was taken, so that the owner's answer (a reset, for a strategy whose owner judges
   * client state) rolls the refused write back at once instead of at the next reconnect. Several
   * refusals in a row cost one handshake. Default `false`.
   */
  resubscribeOnRefusal?: boolean;
  /** Every time a handshake completes (the first and each one after a reconnect). */
  onHandshakeComplete?: () => void;
  /** Health changed (`connected`, `caughtUp`, `pending`, `lastError` on the subscription). */
  onHealth?: () => void;
  /**
   * A subscribe refused with `ERR_NO_TOPIC` (the owner has not registered the topic yet, or closed
   * it): `true` or options retry the handshake on the same link with exponential backoff until the
   * topic is there; `false` (the default of the topic layer) makes the refusal final, as other codes are.
   */
  noTopicRetry?: boolean | NoTopicRetryOptions;
}

/**
 * The backoff of a subscription that retries after `ERR_NO_TOPIC`: the n-th retry (from 0) waits
 * `min(maxDelayMs, initialDelayMs * factor ** n) * (1 - jitter * r)`, where `r` in [0, 1) is drawn
 * from a PRNG seeded with the subscribing peer's id and the topic, so peers spread out but a run
 * (e.g. under a virtual clock) is deterministic. A completed handshake starts the count again.
 */
export interface NoTopicRetryOptions {
  /** First delay (default 100 ms, or `maxDelayMs` if that is smaller). */
  initialDelayMs?: number;
  /** Cap of the delay (default 10,000 ms). */
  maxDelayMs?: number;
  /** Growth factor per retry (default 2; at least 1). */
  factor?: number;
  /** Fraction of each delay that is randomized away (0–1, default 0.5; 0: exact delays). */
  jitter?: number;
  /**
   * Give up after this many retries in a row without a completed handshake: the refusal is then
   * final (`ready` rejects with `ERR_NO_TOPIC` if it was still pending). Default: never.
   */
  maxAttempts?: number;
}

/** Defaults (distributed.md §3.7). */
export const DEFAULT_BATCH_SIZE = 20;
/** Default ack timeout of a handshake batch. */
export const DEFAULT_ACK_TIMEOUT_MS = 30_000;
/** Default stall timeout of a handshake. */
export const DEFAULT_STALL_TIMEOUT_MS = 300_000;
/** Default backoff of a subscription retrying after `ERR_NO_TOPIC` (the same as a peer's reconnect). */
export const DEFAULT_NO_TOPIC_RETRY: Readonly<Required<NoTopicRetryOptions>> = Object.freeze({
  initialDelayMs: 100,
  maxDelayMs: 10_000,
  factor: 2,
  jitter: 0.5,
  maxAttempts: Number.POSITIVE_INFINITY,
});
