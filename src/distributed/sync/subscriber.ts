/**
 * The subscriber's side of a topic: sends its client state with the subscribe, applies the
 * handshake batches in order and acknowledges each, buffers live publishes until the handshake is
 * complete, counts its own publishes until the owner acknowledges them, and subscribes again by
 * itself whenever its link to the owner comes back.
 * @module
 */
import type { Clock, TimerHandle } from "../../core/clock.js";
import type { ProtocolLink } from "../peer/protocols.js";
import { isThenable } from "./authorize.js";
import { TopicError } from "./errors.js";
import { ACK, PUB, SUB, type TopicMessage, UNSUB } from "./messages.js";
import { SerialQueue } from "./serial-queue.js";
import { DEFAULT_STALL_TIMEOUT_MS, type SubscriberStrategy, type TopicSubscribeOptions } from "./strategy.js";

/** What the topic layer gives a subscription. */
export interface SubscriberHost {
  send(link: ProtocolLink, msg: unknown): boolean;
  clock: Clock;
  release(topic: string): void;
}

/** Where a subscription is. */
export type SubscriptionState = "waiting" | "subscribing" | "live" | "refused" | "closed";

/** A subscription to a topic another peer owns (returned by `Topics.subscribe`). */
export class Subscription {
  /** Resolves when the first handshake completes; rejects when it is refused or times out. */
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
  /** Local publishes made while no live link carried them (the next handshake does). */
  private offline = 0;
  private stall: TimerHandle | null = null;
  private readonly stallTimeoutMs: number;
  /** The last refusal or failure, if any. */
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

  /** @internal a link went down */
  _linkDown(link: ProtocolLink): void {
    if (this.link !== link) return;
    this.link = null;
    this.clearStall();
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

  private fail(err: TopicError): void {
    if (this.link !== null) this.host.send(this.link, [UNSUB, this.topic, this.hs]);
    this.stateValue = "refused";
    this.lastError = err;
    this.buffer = [];
    this.clearStall();
    this.offline += this.sentSeq - this.ackedSeq;
    this.ackedSeq = this.sentSeq;
    this.settle(err);
    this.health();
    this.report(err, "refused");
  }

  private start(link: ProtocolLink): void {
    this.link = link;
    this.expectedBatch = 0;
    this.buffer = [];
    let cs: unknown;
    try {
      cs = this.strategy.clientState();
    } catch (e) {
      this.report(e, "client state");
      cs = null;
    }
    this.stateValue = "subscribing";
    this.hs++;
    this.armStall();
    this.host.send(link, [SUB, this.topic, this.hs, cs]);
    this.health();
  }

  /** Subscribe again on the current link (e.g. after a refusal the owner may now accept). */
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
      this.lastError = null;
      this.settle(null);
      this.health();
      this.opts.onHandshakeComplete?.();
    };
    return drain(0);
  }

  private onError(code: string, message: string, seq: number | null, hs: number | null): void {
    const err = new TopicError(code, message, this.topic);
    if (seq !== null) {
      // a refused publish: it is answered, so no longer pending
      if (seq > this.ackedSeq && seq <= this.sentSeq) this.ackedSeq = seq;
      this.lastError = err;
      this.health();
      this.report(err, "publish refused");
      return;
    }
    // a refusal of an earlier handshake, or a duplicate: ignore
    if (hs !== null && hs !== this.hs) return;
    if (this.stateValue === "refused") return;
    this.fail(err);
  }
}
