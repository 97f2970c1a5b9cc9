/**
 * The subscriber's side of a topic: sends its client state with the subscribe, applies the
 * handshake batches in order and acknowledges each, buffers live publishes until the handshake is
 * complete, counts its own publishes until the owner acknowledges them, and subscribes again by
 * itself whenever its link to the owner comes back. With `noTopicRetry`, a refusal with
 * `ERR_NO_TOPIC` (no owner yet, or the owner closed the topic) is not final: it subscribes again on
 * the same link after a backoff, until the topic is there.
 * @module
 */
import type { Clock, TimerHandle } from "../../core/clock.js";
import { shown } from "../../core/errors.js";
import type { ProtocolLink } from "../peer/protocols.js";
import { seededRandom, stringSeed } from "../random.js";
import { isThenable } from "./authorize.js";
import { TopicError } from "./errors.js";
import { ACK, PUB, SUB, type TopicMessage, UNSUB } from "./messages.js";
import { SerialQueue } from "./serial-queue.js";
import {
  DEFAULT_NO_TOPIC_RETRY,
  DEFAULT_STALL_TIMEOUT_MS,
  type NoTopicRetryOptions,
  type SubscriberStrategy,
  type TopicSubscribeOptions,
} from "./strategy.js";

/** What the topic layer gives a subscription. */
export interface SubscriberHost {
  send(link: ProtocolLink, msg: unknown): boolean;
  clock: Clock;
  release(topic: string): void;
  /** The subscribing peer's id: seeds the retry jitter, so peers spread out (default `""`). */
  peerId?: string;
}

/**
 * Where a subscription is: `"waiting"` for a link to the owner, `"subscribing"` (handshake running),
 * `"live"`, `"retrying"` (refused with `ERR_NO_TOPIC`; the next subscribe is scheduled), `"refused"`
 * (a final refusal or failure; a new link or `resubscribe()` tries again), `"closed"`.
 */
export type SubscriptionState = "waiting" | "subscribing" | "live" | "retrying" | "refused" | "closed";

const MAX_TIMER_MS = 2_147_483_647;

/**
 * The backoff of `noTopicRetry`, checked: `null` when a refusal with `ERR_NO_TOPIC` is final.
 * Throws `ERR_INVALID_ARGUMENT` on a bad value. Pure.
 * @internal
 */
export function resolveNoTopicRetry(
  v: boolean | NoTopicRetryOptions | undefined,
  topic: string | null = null,
): Required<NoTopicRetryOptions> | null {
  if (v === undefined || v === false) return null;
  const bad = (msg: string): never => {
    throw new TopicError("ERR_INVALID_ARGUMENT", `noTopicRetry${msg}`, topic);
  };
  if (v === true) return { ...DEFAULT_NO_TOPIC_RETRY };
  if (typeof v !== "object" || v === null) return bad(" must be a boolean or an options object");
  const ms = (name: string, x: unknown, dflt: number): number => {
    if (x === undefined) return dflt;
    if (typeof x !== "number" || !(x > 0) || !(x <= MAX_TIMER_MS))
      bad(`.${name} must be a number of ms in (0, ${MAX_TIMER_MS}], got ${shown(x)}`);
    return x as number;
  };
  const maxDelayMs = ms("maxDelayMs", v.maxDelayMs, DEFAULT_NO_TOPIC_RETRY.maxDelayMs);
  const initialDelayMs = ms(
    "initialDelayMs",
    v.initialDelayMs,
    Math.min(DEFAULT_NO_TOPIC_RETRY.initialDelayMs, maxDelayMs),
  );
  if (initialDelayMs > maxDelayMs)
    bad(`.initialDelayMs (${initialDelayMs}) must not exceed maxDelayMs (${maxDelayMs})`);
  const factor = v.factor ?? DEFAULT_NO_TOPIC_RETRY.factor;
  if (typeof factor !== "number" || !(factor >= 1) || !Number.isFinite(factor))
    bad(`.factor must be a finite number >= 1, got ${String(v.factor)}`);
  const jitter = v.jitter ?? DEFAULT_NO_TOPIC_RETRY.jitter;
  if (typeof jitter !== "number" || !(jitter >= 0 && jitter <= 1))
    bad(`.jitter must be in [0, 1], got ${String(v.jitter)}`);
  const maxAttempts = v.maxAttempts ?? DEFAULT_NO_TOPIC_RETRY.maxAttempts;
  if (
    typeof maxAttempts !== "number" ||
    !(maxAttempts >= 0) ||
    (maxAttempts !== Number.POSITIVE_INFINITY && !Number.isSafeInteger(maxAttempts))
  )
    bad(`.maxAttempts must be a non-negative integer (or Infinity), got ${String(v.maxAttempts)}`);
  return { initialDelayMs, maxDelayMs, factor, jitter, maxAttempts };
}

/** A subscription to a topic another peer owns (returned by `Topics.subscribe`). */
export class Subscription {
  /**
   * Resolves when the first handshake completes. Rejects when it is refused for good, times out,
   * or the subscription is closed first (`ERR_CLOSED`). With `noTopicRetry`, `ERR_NO_TOPIC` is not
   * a refusal for good: `ready` stays pending while the subscription retries (each refusal is
   * reported to `onError` and kept in `lastError`), unless `maxAttempts` runs out.
   */
  readonly ready: Promise<void>;
  private settleReady: ((err: unknown) => void) | null;
  private stateValue: SubscriptionState = "waiting";
  private link: ProtocolLink | null = null;
  private readonly queue: SerialQueue;
  private buffer: unknown[] = [];
  private expectedBatch = 0;
  /** the current handshake's number (stale messages of earlier ones are ignored) */
  private hs = 0;
  private sentSeq = 0;
  private ackedSeq = 0;
  /** `sentSeq` when the current handshake's client state was taken: it carries publishes up to it. */
  private stateSeq = 0;
  /** The handshake started to roll back a refused publish (its state's refusal is that one again). */
  private rollbackHs = -1;
  /** Local publishes made while no live link carried them (the next handshake does). */
  private offline = 0;
  private stall: TimerHandle | null = null;
  private readonly stallTimeoutMs: number;
  private readonly retry: Required<NoTopicRetryOptions> | null;
  /** the pending subscribe after an `ERR_NO_TOPIC` */
  private retryTimer: TimerHandle | null = null;
  /** retries since the last completed handshake */
  private retries = 0;
  private readonly jitterDraw: () => number;
  /** The refusal of the current handshake's client state, if the owner refused it. */
  private stateRefused: TopicError | null = null;
  /**
   * The last refusal or failure, if any. A completed handshake clears it, unless the owner refused
   * what that handshake's client state would have changed (then it is that refusal).
   */
  lastError: TopicError | null = null;

  /** @internal use `Topics.subscribe` */
  constructor(
    /** The topic's name. */
    readonly topic: string,
    private readonly strategy: SubscriberStrategy,
    private readonly opts: TopicSubscribeOptions,
    private readonly host: SubscriberHost,
  ) {
    this.stallTimeoutMs = opts.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
    this.retry = resolveNoTopicRetry(opts.noTopicRetry, topic);
    this.jitterDraw = seededRandom(stringSeed(`${host.peerId ?? ""}\0${topic}`));
    this.queue = new SerialQueue((e) => this.report(e, "apply"));
    let settle: ((err: unknown) => void) | null = null;
    this.ready = new Promise<void>((resolve, reject) => {
      settle = (err) => (err === null ? resolve() : reject(err));
    });
    // a caller that never awaits `ready` must not see an unhandled rejection
    this.ready.catch(() => {});
    this.settleReady = settle;
  }

  /** Where the subscription is. */
  get state(): SubscriptionState {
    return this.stateValue;
  }

  /** Whether a link to the owner is up and the owner admitted this subscription. */
  get connected(): boolean {
    return this.stateValue === "subscribing" || this.stateValue === "live";
  }

  /** Whether the handshake on the current link completed (live publishes flow). */
  get caughtUp(): boolean {
    return this.stateValue === "live";
  }

  /** Local publishes the owner has not acknowledged (offline ones included). */
  get pending(): number {
    return this.offline + (this.sentSeq - this.ackedSeq);
  }

  /** The owner's peer id this subscription is linked to, if any. */
  get upstream(): string | null {
    return this.link?.peerId ?? null;
  }

  /**
   * Publish to the owner (it relays to the other subscribers and acknowledges). Without a link
   * the publish counts as pending: the next handshake's client state must carry it.
   */
  publish(payload: unknown): void {
    if (this.stateValue === "closed") return;
    const link = this.link;
    if (link !== null && this.connected) {
      const seq = this.sentSeq + 1;
      // a link that is already closing drops it: the next handshake carries it instead
      if (this.host.send(link, [PUB, this.topic, seq, payload])) this.sentSeq = seq;
      else this.offline++;
    } else this.offline++;
    this.health();
  }

  /** Unsubscribe (best effort) and stop. */
  close(): void {
    if (this.stateValue === "closed") return;
    if (this.link !== null && this.connected) this.host.send(this.link, [UNSUB, this.topic, this.hs]);
    this.stateValue = "closed";
    this.link = null;
    this.clearStall();
    this.clearRetry();
    this.settle(new TopicError("ERR_CLOSED", `subscription to '${this.topic}' closed`, this.topic));
    this.host.release(this.topic);
    this.health();
  }

  /** @internal whether `link` leads to this subscription's owner */
  _accepts(link: ProtocolLink): boolean {
    return this.opts.via !== undefined ? link.peerId === this.opts.via : link.dialed;
  }

  /** @internal a link came up */
  _linkUp(link: ProtocolLink): void {
    if (this.stateValue === "closed" || this.link !== null || !this._accepts(link)) return;
    this.start(link);
  }

  /**
   * @internal the remote attached its topics protocol while `link` was up: a subscribe sent on it
   * before was dropped there, so one still unanswered (or waiting out a retry) goes again now
   */
  _remoteUp(link: ProtocolLink): void {
    if (this.link !== link) return;
    if (this.stateValue === "subscribing" || this.stateValue === "retrying") this.start(link);
  }

  /** @internal a link went down */
  _linkDown(link: ProtocolLink): void {
    if (this.link !== link) return;
    this.link = null;
    this.clearStall();
    // a new link starts a new handshake at once (Topics re-attaches a waiting subscription)
    this.clearRetry();
    this.offline += this.sentSeq - this.ackedSeq;
    this.ackedSeq = this.sentSeq;
    this.buffer = [];
    if (this.stateValue !== "closed") this.stateValue = "waiting";
    this.health();
  }

  /** @internal a message from the owner (BATCH, DONE, PUB, PUBACK, ERR) */
  _message(link: ProtocolLink, m: TopicMessage): void {
    if (link !== this.link) return;
    switch (m[0]) {
      case 1:
        if (m[2] === this.hs) this.onBatch(link, m[3], m[4]);
        return;
      case 3:
        if (m[2] === this.hs) {
          const hs = m[2];
          this.queue.run(() => this.onDone(link, hs));
        }
        return;
      case 4:
        if (this.stateValue === "subscribing") this.buffer.push(m[3]);
        else if (this.stateValue === "live") {
          const p = m[3];
          this.queue.run(() => this.strategy.publish(p));
        }
        return;
      case 5:
        if (m[2] > this.ackedSeq && m[2] <= this.sentSeq) {
          this.ackedSeq = m[2];
          this.health();
        }
        return;
      case 7:
        this.onError(m[2], m[3], m[4], m[5]);
        return;
      default:
        return;
    }
  }

  private report(e: unknown, where: string): void {
    this.opts.onError?.(e, `subscription '${this.topic}': ${where}`);
  }

  private health(): void {
    this.opts.onHealth?.();
  }

  private settle(err: unknown): void {
    const s = this.settleReady;
    this.settleReady = null;
    s?.(err);
  }

  private clearStall(): void {
    this.stall?.cancel();
    this.stall = null;
  }

  private armStall(): void {
    this.clearStall();
    this.stall = this.host.clock.setTimer(this.stallTimeoutMs, () => {
      this.stall = null;
      if (this.stateValue !== "subscribing" || this.link === null) return;
      this.fail(new TopicError("ERR_TIMEOUT", `handshake of '${this.topic}' stalled`, this.topic));
    });
  }

  private clearRetry(): void {
    this.retryTimer?.cancel();
    this.retryTimer = null;
  }

  /** The handshake ended without completing: what was sent on it counts as offline again. */
  private abandon(err: TopicError): void {
    this.lastError = err;
    this.buffer = [];
    this.clearStall();
    this.offline += this.sentSeq - this.ackedSeq;
    this.ackedSeq = this.sentSeq;
  }

  private fail(err: TopicError): void {
    if (this.link !== null) this.host.send(this.link, [UNSUB, this.topic, this.hs]);
    this.stateValue = "refused";
    this.abandon(err);
    this.settle(err);
    this.health();
    this.report(err, "refused");
  }

  /**
   * `ERR_NO_TOPIC` with `noTopicRetry`: subscribe again on the same link after the backoff (the
   * owner holds no subscription for us, so no UNSUB). `ready` stays pending.
   */
  private retryLater(err: TopicError, retry: Required<NoTopicRetryOptions>): void {
    const link = this.link;
    if (link === null) return;
    this.stateValue = "retrying";
    this.abandon(err);
    const n = this.retries++;
    const base = Math.min(retry.maxDelayMs, retry.initialDelayMs * retry.factor ** n);
    const delay = base * (1 - retry.jitter * this.jitterDraw());
    this.clearRetry();
    this.retryTimer = this.host.clock.setTimer(delay, () => {
      this.retryTimer = null;
      if (this.stateValue === "retrying" && this.link === link) this.start(link);
    });
    this.health();
    this.report(err, `no topic at ${link.peerId}, subscribing again in ${Math.round(delay)} ms`);
  }

  private start(link: ProtocolLink): void {
    this.clearRetry();
    this.link = link;
    this.expectedBatch = 0;
    this.buffer = [];
    this.stateRefused = null;
    let cs: unknown;
    try {
      cs = this.strategy.clientState();
    } catch (e) {
      this.report(e, "client state");
      cs = null;
    }
    this.stateSeq = this.sentSeq;
    this.stateValue = "subscribing";
    this.hs++;
    this.armStall();
    this.host.send(link, [SUB, this.topic, this.hs, cs]);
    this.health();
  }

  /**
   * Subscribe again on the current link now: after a refusal the owner may now accept, or instead
   * of waiting out the backoff of a retry after `ERR_NO_TOPIC`.
   */
  resubscribe(): void {
    if (this.stateValue === "closed" || this.link === null) return;
    this.start(this.link);
  }

  private onBatch(link: ProtocolLink, idx: number, items: readonly unknown[]): void {
    // a duplicate or a batch of an earlier handshake: ignore
    if (this.stateValue !== "subscribing" || idx !== this.expectedBatch) return;
    this.expectedBatch++;
    this.armStall();
    const hs = this.hs;
    const apply = (i: number): void | Promise<void> => {
      for (; i < items.length; i++) {
        let r: void | Promise<void>;
        try {
          r = this.strategy.handshakeItem(items[i]);
        } catch (e) {
          this.report(e, "handshake item");
          continue;
        }
        if (isThenable(r)) {
          const next = i + 1;
          return (r as Promise<void>).then(
            () => apply(next),
            (e: unknown) => {
              this.report(e, "handshake item");
              return apply(next);
            },
          );
        }
      }
      if (this.link === link && this.stateValue === "subscribing" && this.hs === hs)
        this.host.send(link, [ACK, this.topic, hs, idx]);
    };
    this.queue.run(() => apply(0));
  }

  private onDone(link: ProtocolLink, hs: number): void | Promise<void> {
    if (this.link !== link || this.stateValue !== "subscribing" || this.hs !== hs) return;
    this.clearStall();
    const buffered = this.buffer;
    this.buffer = [];
    this.stateValue = "live";
    const drain = (i: number): void | Promise<void> => {
      for (; i < buffered.length; i++) {
        const r = this.strategy.publish(buffered[i]);
        if (isThenable(r)) {
          const next = i + 1;
          return (r as Promise<void>).then(() => drain(next));
        }
      }
      if (this.link !== link) return;
      this.offline = 0;
      // a refused client state stays visible: it is what this handshake settled
      this.lastError = this.stateRefused;
      this.retries = 0;
      this.settle(null);
      this.health();
      this.opts.onHandshakeComplete?.();
    };
    return drain(0);
  }

  private onError(code: string, message: string, seq: number | null, hs: number | null): void {
    const err = new TopicError(code, message, this.topic);
    if (seq === 0) {
      // what this handshake's client state would have changed was refused; the subscribe stands
      // (the owner's items bring this replica back to its state). Older owners never send it.
      if (hs !== this.hs || this.stateValue !== "subscribing") return;
      this.stateRefused = err;
      this.lastError = err;
      this.health();
      // reported already, as the refused publish this handshake rolls back
      if (hs !== this.rollbackHs) this.report(err, "handshake state refused");
      return;
    }
    if (seq !== null) {
      // a refused publish: it is answered, so no longer pending
      if (seq > this.ackedSeq && seq <= this.sentSeq) this.ackedSeq = seq;
      this.lastError = err;
      this.health();
      this.report(err, "publish refused");
      // a write the current handshake's state does not carry: a new handshake rolls it back
      const link = this.link;
      if (
        this.opts.resubscribeOnRefusal === true &&
        seq > this.stateSeq &&
        link !== null &&
        this.connected &&
        (this.stateValue === "live" || this.stateValue === "subscribing")
      ) {
        this.start(link);
        this.rollbackHs = this.hs;
      }
      return;
    }
    // a refusal of an earlier handshake, or a duplicate: ignore
    if (hs !== null && hs !== this.hs) return;
    if (this.stateValue === "refused" || this.stateValue === "retrying") return;
    const retry = this.retry;
    // no owner (yet, or any more): transient, unless the retries ran out
    if (code === "ERR_NO_TOPIC" && retry !== null && this.retries < retry.maxAttempts) {
      this.retryLater(err, retry);
      return;
    }
    this.fail(err);
  }
}
