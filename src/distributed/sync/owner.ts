/**
 * The owner's side of a topic: admits subscribers (authorized, before their handshake, so no
 * publish is missed), streams each one its handshake in acknowledged batches, applies authorized
 * publishes and relays them to every other subscriber (a star per topic: only the owner relays).
 * What a joiner's client state would change here is authorized as a publish of it would be, before
 * the handshake integrates it.
 * @module
 */
import type { Clock, TimerHandle } from "../../core/clock.js";
import type { ProtocolLink } from "../peer/protocols.js";
import { decide, isThenable, type Refusal } from "./authorize.js";
import { TopicError } from "./errors.js";
import { BATCH, DONE, errMessage, PUB, PUBACK, type TopicMessage } from "./messages.js";
import { SerialQueue } from "./serial-queue.js";
import {
  DEFAULT_ACK_TIMEOUT_MS,
  DEFAULT_BATCH_SIZE,
  DEFAULT_STALL_TIMEOUT_MS,
  type OwnerStrategy,
  type TopicOwnerOptions,
} from "./strategy.js";

/** What the topic layer gives an owned topic. */
export interface OwnerHost {
  send(link: ProtocolLink, msg: unknown): boolean;
  clock: Clock;
  release(topic: string): void;
}

interface Sub {
  readonly link: ProtocolLink;
  /** the subscriber's handshake number */
  readonly hs: number;
  /** highest publish sequence number applied (duplicates at or below it are skipped) */
  seenSeq: number;
  handshaking: boolean;
  batchIdx: number;
  waitAck: { idx: number; done: (err: unknown) => void } | null;
  ackSeq: number;
  ackQueued: boolean;
}

const GONE = new TopicError("ERR_CLOSED", "subscriber gone");

/** A topic this peer owns (returned by `Topics.register`). */
export class OwnedTopic {
  private readonly subs = new Map<ProtocolLink, Sub>();
  private readonly queue: SerialQueue;
  private readonly batchSize: number;
  private readonly ackTimeoutMs: number;
  private readonly stallTimeoutMs: number;
  private closedFlag = false;

  /** @internal use `Topics.register` */
  constructor(
    /** The topic's name. */
    readonly topic: string,
    private readonly strategy: OwnerStrategy,
    private readonly opts: TopicOwnerOptions,
    private readonly host: OwnerHost,
  ) {
    this.batchSize = opts.batchSize ?? DEFAULT_BATCH_SIZE;
    this.ackTimeoutMs = opts.ackTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MS;
    this.stallTimeoutMs = opts.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
    this.queue = new SerialQueue((e) => this.report(e, "topic task"));
  }

  /** Peer ids of the current subscribers. */
  get subscribers(): string[] {
    return [...this.subs.keys()].map((l) => l.peerId);
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.closedFlag;
  }

  /** Send `payload` to every subscriber (but `except`): the owner's own writes, or a relay. */
  publish(payload: unknown, except?: ProtocolLink): void {
    if (this.closedFlag) return;
    const msg = [PUB, this.topic, 0, payload];
    for (const link of this.subs.keys()) if (link !== except) this.host.send(link, msg);
  }

  /** Stop owning the topic; subscribers are told `ERR_NO_TOPIC`. */
  close(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    for (const sub of [...this.subs.values()]) {
      this.drop(sub);
      this.host.send(
        sub.link,
        errMessage(this.topic, "ERR_NO_TOPIC", `topic '${this.topic}' closed`, null, sub.hs),
      );
    }
    this.host.release(this.topic);
  }

  /** @internal a message for this topic from `link` (SUB, ACK, PUB, UNSUB) */
  _message(link: ProtocolLink, m: TopicMessage): void {
    if (this.closedFlag) return;
    switch (m[0]) {
      case 0:
        this.queue.run(() => this.onSubscribe(link, m[2], m[3]));
        return;
      case 2: {
        const sub = this.subs.get(link);
        const w = sub?.waitAck;
        if (w !== null && w !== undefined && sub!.hs === m[2] && w.idx === m[3]) w.done(null);
        return;
      }
      case 4:
        this.queue.run(() => this.onPublish(link, m[2], m[3]));
        return;
      case 6:
        this.queue.run(() => {
          const sub = this.subs.get(link);
          if (sub !== undefined && sub.hs === m[2]) this.drop(sub);
        });
        return;
      default:
        return;
    }
  }

  /** @internal the link closed: its subscription goes */
  _linkDown(link: ProtocolLink): void {
    const sub = this.subs.get(link);
    if (sub !== undefined) this.drop(sub);
  }

  private report(e: unknown, where: string): void {
    this.opts.onError?.(e, `topic '${this.topic}': ${where}`);
  }

  private drop(sub: Sub): void {
    if (this.subs.get(sub.link) === sub) this.subs.delete(sub.link);
    sub.waitAck?.done(GONE);
  }

  private refuse(link: ProtocolLink, r: Refusal, seq: number | null, hs: number | null = null): void {
    this.host.send(link, errMessage(this.topic, r.code, r.message, seq, hs));
  }

  private onSubscribe(link: ProtocolLink, hs: number, clientState: unknown): void | Promise<void> {
    const old = this.subs.get(link);
    // a duplicated subscribe: the handshake is already running (or done)
    if (old !== undefined && old.hs === hs) return;
    if (old !== undefined) this.drop(old);
    const hook = this.opts.authorizeSubscribe;
    if (hook === undefined) return this.judgeState(link, hs, clientState);
    const d = decide(() => hook(link.principal, this.topic), `subscribe to '${this.topic}'`);
    const then = (r: Refusal | null): void | Promise<void> => {
      if (this.closedFlag) return;
      if (r !== null) this.refuse(link, r, null, hs);
      else return this.judgeState(link, hs, clientState);
    };
    if (isThenable(d)) return (d as Promise<Refusal | null>).then(then);
    return then(d as Refusal | null);
  }

  /**
   * What the joiner's client state would change here passes `authorizePublish` exactly as a live
   * publish of it would (same principal, topic and hook), before anything of it is integrated.
   * The decision holds the topic's queue, so no later publish overtakes it.
   */
  private judgeState(link: ProtocolLink, hs: number, clientState: unknown): void | Promise<void> {
    const hook = this.opts.authorizePublish;
    const strategy = this.strategy;
    if (hook === undefined || strategy.contribution === undefined)
      return this.admit(link, hs, clientState, null);
    let payload: unknown;
    try {
      payload = strategy.contribution(clientState, link);
    } catch (e) {
      this.handshakeThrew(link, hs, e);
      return;
    }
    if (payload === undefined) return this.admit(link, hs, clientState, null);
    const d = decide(() => hook(link.principal, this.topic, payload), `handshake state on '${this.topic}'`);
    const then = (r: Refusal | null): void => {
      if (!this.closedFlag) this.admit(link, hs, clientState, r);
    };
    if (isThenable(d)) return (d as Promise<Refusal | null>).then(then);
    then(d as Refusal | null);
  }

  private handshakeThrew(link: ProtocolLink, hs: number, e: unknown): void {
    const code = e instanceof TopicError ? e.code : "ERR_HANDSHAKE";
    this.refuse(link, { code, message: e instanceof Error ? e.message : String(e) }, null, hs);
    if (!(e instanceof TopicError)) this.report(e, "handshake");
  }

  private admit(link: ProtocolLink, hs: number, clientState: unknown, refused: Refusal | null): void {
    const cur = this.subs.get(link);
    if (cur !== undefined && cur.hs === hs) return;
    if (cur !== undefined) this.drop(cur);
    // added before the handshake: every publish from now on reaches it (buffered over there)
    const sub: Sub = {
      link,
      hs,
      seenSeq: 0,
      handshaking: true,
      batchIdx: 0,
      waitAck: null,
      ackSeq: 0,
      ackQueued: false,
    };
    this.subs.set(link, sub);
    // the subscribe stands (reads go on), what the state would have changed does not: told as a
    // refused publish is, under sequence number 0 (no publish has it), before the handshake items
    if (refused !== null) this.refuse(link, refused, 0, hs);
    let items: Iterable<unknown> | AsyncIterable<unknown>;
    try {
      items =
        refused === null
          ? this.strategy.handshake(clientState, link)
          : this.strategy.handshake(clientState, link, refused);
    } catch (e) {
      this.drop(sub);
      this.handshakeThrew(link, hs, e);
      return;
    }
    if (Array.isArray(items) && items.length === 0) {
      this.finish(sub);
      return;
    }
    void this.stream(sub, items);
  }

  private finish(sub: Sub): void {
    sub.handshaking = false;
    this.host.send(sub.link, [DONE, this.topic, sub.hs]);
  }

  private async stream(sub: Sub, items: Iterable<unknown> | AsyncIterable<unknown>): Promise<void> {
    const it =
      Symbol.asyncIterator in items
        ? (items as AsyncIterable<unknown>)[Symbol.asyncIterator]()
        : (items as Iterable<unknown>)[Symbol.iterator]();
    let batch: unknown[] = [];
    try {
      for (;;) {
        let r = it.next();
        if (isThenable(r)) r = await this.bounded(r as Promise<IteratorResult<unknown>>);
        const res = r as IteratorResult<unknown>;
        if (this.subs.get(sub.link) !== sub) return;
        if (res.done === true) break;
        batch.push(res.value);
        if (batch.length >= this.batchSize) {
          await this.sendBatch(sub, batch);
          batch = [];
        }
      }
      if (batch.length > 0) await this.sendBatch(sub, batch);
      if (this.subs.get(sub.link) === sub) this.finish(sub);
    } catch (e) {
      if (this.subs.get(sub.link) !== sub) return;
      this.drop(sub);
      const code = e instanceof TopicError ? e.code : "ERR_HANDSHAKE";
      this.refuse(sub.link, { code, message: e instanceof Error ? e.message : String(e) }, null, sub.hs);
      this.report(e, "handshake");
    } finally {
      if (this.subs.get(sub.link) !== sub) void (it as Iterator<unknown>).return?.();
    }
  }

  /** A handshake producer's next item, failing after `stallTimeoutMs` of silence. */
  private bounded<T>(p: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const t = this.host.clock.setTimer(this.stallTimeoutMs, () =>
        reject(new TopicError("ERR_TIMEOUT", `handshake of '${this.topic}' stalled`, this.topic)),
      );
      p.then(
        (v) => {
          t.cancel();
          resolve(v);
        },
        (e: unknown) => {
          t.cancel();
          reject(e);
        },
      );
    });
  }

  private sendBatch(sub: Sub, batch: unknown[]): Promise<void> {
    const idx = sub.batchIdx++;
    return new Promise<void>((resolve, reject) => {
      let timer: TimerHandle | null = null;
      sub.waitAck = {
        idx,
        done: (err) => {
          sub.waitAck = null;
          timer?.cancel();
          if (err === null) resolve();
          else reject(err);
        },
      };
      timer = this.host.clock.setTimer(this.ackTimeoutMs, () =>
        sub.waitAck?.done(
          new TopicError(
            "ERR_TIMEOUT",
            `handshake batch ${idx} of '${this.topic}' not acknowledged`,
            this.topic,
          ),
        ),
      );
      if (!this.host.send(sub.link, [BATCH, this.topic, sub.hs, idx, batch])) sub.waitAck?.done(GONE);
    });
  }

  private onPublish(link: ProtocolLink, seq: number, payload: unknown): void | Promise<void> {
    const sub = this.subs.get(link);
    if (sub === undefined) {
      if (seq > 0)
        this.refuse(
          link,
          { code: "ERR_NOT_SUBSCRIBED", message: `publish on '${this.topic}' without a subscription` },
          seq,
        );
      return;
    }
    if (seq > 0 && seq <= sub.seenSeq) {
      // a duplicate: applied already; acknowledge again
      this.ack(sub, sub.seenSeq);
      return;
    }
    if (seq > 0) sub.seenSeq = seq;
    const hook = this.opts.authorizePublish;
    const sHook = this.opts.authorizeSubscribe;
    if (hook === undefined && sHook === undefined) return this.apply(sub, seq, payload);
    const d = decide(
      hook !== undefined
        ? () => hook(link.principal, this.topic, payload)
        : () => sHook!(link.principal, this.topic),
      `publish on '${this.topic}'`,
    );
    const then = (r: Refusal | null): void | Promise<void> => {
      if (this.closedFlag) return;
      if (r !== null) this.refuse(link, r, seq > 0 ? seq : null);
      else return this.apply(sub, seq, payload);
    };
    if (isThenable(d)) return (d as Promise<Refusal | null>).then(then);
    return then(d as Refusal | null);
  }

  private apply(sub: Sub, seq: number, payload: unknown): void | Promise<void> {
    let relay: unknown;
    try {
      relay = this.strategy.publish(payload, sub.link);
    } catch (e) {
      this.report(e, "apply publish");
      this.refuse(
        sub.link,
        { code: "ERR_MALFORMED", message: `publish not applied: ${String(e)}` },
        seq || null,
      );
      return;
    }
    if (isThenable(relay))
      return (relay as Promise<unknown>).then(
        (r) => this.relayed(sub, seq, r),
        (e: unknown) => {
          this.report(e, "apply publish");
          this.refuse(
            sub.link,
            { code: "ERR_MALFORMED", message: `publish not applied: ${String(e)}` },
            seq || null,
          );
        },
      );
    this.relayed(sub, seq, relay);
  }

  private relayed(sub: Sub, seq: number, relay: unknown): void {
    if (relay !== undefined) this.publish(relay, sub.link);
    this.ack(sub, seq);
  }

  private ack(sub: Sub, seq: number): void {
    if (seq === 0) return;
    if (seq > sub.ackSeq) sub.ackSeq = seq;
    if (sub.ackQueued) return;
    sub.ackQueued = true;
    // one cumulative ack per tick and subscriber
    queueMicrotask(() => {
      sub.ackQueued = false;
      if (this.subs.get(sub.link) === sub) this.host.send(sub.link, [PUBACK, this.topic, sub.ackSeq]);
    });
  }
}
