/**
 * Topics over a peer's links: one protocol (`"topics"`) per peer routes each message to the topic
 * this peer owns or subscribes to. A malformed frame is answered with an `ERR_MALFORMED` error for
 * its topic; the link and every other topic keep working.
 * @module
 */
import type { Clock } from "../../core/clock.js";
import { defaultContext } from "../../core/context.js";
import type { ProtocolHost, ProtocolLink } from "../peer/protocols.js";
import { TopicError } from "./errors.js";
import { ERR, errMessage, isMalformed, PUB, parseMessage, UP } from "./messages.js";
import { OwnedTopic } from "./owner.js";
import type {
  OwnerStrategy,
  SubscriberStrategy,
  TopicOwnerOptions,
  TopicSubscribeOptions,
} from "./strategy.js";
import { Subscription } from "./subscriber.js";

/** The protocol name topics ride on. */
export const TOPICS_PROTOCOL = "topics";

const registry = new WeakMap<ProtocolHost, Topics>();

function positive(name: string, v: number | undefined, integer: boolean): void {
  if (v === undefined) return;
  if (typeof v !== "number" || !(v > 0) || (integer && !Number.isInteger(v)))
    throw new TopicError(
      "ERR_INVALID_ARGUMENT",
      `${name} must be a positive ${integer ? "integer" : "number"}`,
    );
}

/** Diagnostics sink of the topic layer (protocol errors nobody else reports). */
export type TopicDiagnostics = (error: unknown, where: string) => void;

/** The topics of one peer: `Topics.of(peer)`. */
export class Topics {
  private readonly links = new Set<ProtocolLink>();
  private readonly owned = new Map<string, OwnedTopic>();
  private readonly subscribed = new Map<string, Subscription>();
  private readonly clock: Clock;
  /** Protocol errors (malformed frames from remotes), for diagnostics. */
  onError: TopicDiagnostics | undefined = undefined;

  private constructor(readonly host: ProtocolHost) {
    this.clock = (host as { _clock?: Clock })._clock ?? defaultContext().clock;
    // a link already up when the protocol attaches, whose remote sent topic frames before (a
    // subscribe, before anything here used topics): they were dropped, so tell it to send again
    let attaching = true;
    host.attachProtocol(TOPICS_PROTOCOL, {
      linkUp: (link) => {
        this.links.add(link);
        if (attaching && link.missed === true) this.send(link, [UP, null]);
        for (const s of this.subscribed.values()) s._linkUp(link);
      },
      linkDown: (link) => {
        this.links.delete(link);
        for (const t of this.owned.values()) t._linkDown(link);
        for (const s of this.subscribed.values()) s._linkDown(link);
        // another link may lead to the same owner (e.g. a new one came up before the old closed)
        for (const s of this.subscribed.values()) if (s.state === "waiting") this.attach(s);
      },
      message: (link, payload) => this.message(link, payload),
    });
    attaching = false;
  }

  /** The topics of `host` (attached on first use, one per host). */
  static of(host: ProtocolHost): Topics {
    let t = registry.get(host);
    if (t === undefined) {
      t = new Topics(host);
      registry.set(host, t);
    }
    return t;
  }

  /** Whether this peer owns or subscribes to `topic`. */
  has(topic: string): boolean {
    return this.owned.has(topic) || this.subscribed.has(topic);
  }

  /**
   * Own `topic`: remotes subscribe to it through this peer, which relays every publish.
   * Throws `ERR_TOPIC_EXISTS` if this peer already owns or subscribes to it.
   */
  register(topic: string, strategy: OwnerStrategy, opts: TopicOwnerOptions = {}): OwnedTopic {
    this.checkNew(topic);
    positive("batchSize", opts.batchSize, true);
    positive("ackTimeoutMs", opts.ackTimeoutMs, false);
    positive("stallTimeoutMs", opts.stallTimeoutMs, false);
    const t = new OwnedTopic(topic, strategy, opts, {
      send: (l, m) => this.send(l, m),
      clock: opts.clock ?? this.clock,
      release: (name) => {
        if (this.owned.get(name) === t) this.owned.delete(name);
      },
    });
    this.owned.set(topic, t);
    return t;
  }

  /**
   * Subscribe to `topic` through its owner (`via`, default: the first peer this one dialed). The
   * handshake starts as soon as a link to the owner is up, and again after every reconnect. A
   * refusal with `ERR_NO_TOPIC` is final unless `opts.noTopicRetry` asks for retries. Bad options
   * throw `ERR_INVALID_ARGUMENT`.
   */
  subscribe(topic: string, strategy: SubscriberStrategy, opts: TopicSubscribeOptions = {}): Subscription {
    this.checkNew(topic);
    positive("stallTimeoutMs", opts.stallTimeoutMs, false);
    if (opts.via !== undefined && (typeof opts.via !== "string" || opts.via === ""))
      throw new TopicError("ERR_INVALID_ARGUMENT", "via must be a peer id", topic);
    // the Subscription checks noTopicRetry (ERR_INVALID_ARGUMENT) before anything is registered
    const s = new Subscription(topic, strategy, opts, {
      send: (l, m) => this.send(l, m),
      clock: opts.clock ?? this.clock,
      peerId: this.host.id,
      release: (name) => {
        if (this.subscribed.get(name) === s) this.subscribed.delete(name);
      },
    });
    this.subscribed.set(topic, s);
    this.attach(s);
    return s;
  }

  private attach(s: Subscription): void {
    for (const link of this.links) {
      if (s._accepts(link)) {
        s._linkUp(link);
        return;
      }
    }
  }

  private checkNew(topic: string): void {
    if (typeof topic !== "string" || topic === "")
      throw new TopicError("ERR_INVALID_ARGUMENT", "a topic is a non-empty string");
    if (this.has(topic))
      throw new TopicError("ERR_TOPIC_EXISTS", `peer '${this.host.id}' already has topic '${topic}'`, topic);
  }

  private send(link: ProtocolLink, msg: unknown): boolean {
    try {
      return link.send(msg);
    } catch (e) {
      this.onError?.(e, `send to ${link.peerId}`);
      return false;
    }
  }

  private message(link: ProtocolLink, payload: unknown): void {
    const m = parseMessage(payload);
    if (isMalformed(m)) {
      this.onError?.(new TopicError("ERR_MALFORMED", m.malformed, m.topic), `from ${link.peerId}`);
      // never answer an error with an error
      if (!(Array.isArray(payload) && payload[0] === ERR))
        this.send(link, errMessage(m.topic, "ERR_MALFORMED", m.malformed));
      return;
    }
    const kind = m[0];
    if (kind === UP) {
      for (const s of this.subscribed.values()) s._remoteUp(link);
      return;
    }
    const topic = m[1];
    if (topic === null) return;
    const owned = this.owned.get(topic);
    const sub = this.subscribed.get(topic);
    switch (kind) {
      case 0:
      case 2:
      case 6:
        if (owned !== undefined) owned._message(link, m);
        else if (kind === 0)
          this.send(link, errMessage(topic, "ERR_NO_TOPIC", `no topic '${topic}' here`, null, m[2]));
        return;
      case PUB:
        if (owned !== undefined) owned._message(link, m);
        else if (sub !== undefined) sub._message(link, m);
        else if (m[2] > 0)
          this.send(link, errMessage(topic, "ERR_NO_TOPIC", `no topic '${topic}' here`, m[2]));
        return;
      default:
        sub?._message(link, m);
    }
  }
}
