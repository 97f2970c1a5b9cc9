/**
 * The topic protocol's messages: positional arrays (small on the wire), one parser that checks
 * their shape. Every message names its topic second, so a malformed frame for one topic is
 * answered with an error for that topic and the others keep working.
 *
 * | kind | layout | sent by |
 * |---|---|---|
 * | SUB | `[0, topic, hs, clientState]` | subscriber: start (or restart) handshake number `hs` |
 * | BATCH | `[1, topic, hs, batchIdx, items[]]` | owner: up to `batchSize` handshake items |
 * | ACK | `[2, topic, hs, batchIdx]` | subscriber: batch applied (backpressure) |
 * | DONE | `[3, topic, hs]` | owner: handshake complete |
 * | PUB | `[4, topic, seq, payload]` | either side; `seq > 0` asks the owner for an ack |
 * | PUBACK | `[5, topic, seq]` | owner: every publish up to `seq` applied (cumulative) |
 * | UNSUB | `[6, topic, hs]` | subscriber (best effort) |
 * | ERR | `[7, topic \| null, code, message, seq \| null, hs \| null]` | owner: a refusal of a publish (`seq > 0`) or a handshake (`hs`, `seq` null); `seq` 0 with `hs`: what handshake `hs`'s client state would change was refused, the subscribe stands (a subscriber that predates it takes it for a refused publish) |
 * | UP | `[8, null]` | a peer whose topics came up while the link was already up: what the other side sent before was dropped (no protocol was attached), so its subscriptions waiting on this link subscribe again |
 *
 * The handshake number makes every message idempotent: a duplicated subscribe does not restart
 * the handshake, a stale batch or refusal of an earlier handshake is ignored, a duplicated
 * publish is applied once (the owner skips sequence numbers it has seen on that subscription).
 * @module
 */

/** Message kinds (first element of every topic message). */
export const SUB = 0;
/** Handshake items. */
export const BATCH = 1;
/** Handshake batch acknowledged. */
export const ACK = 2;
/** Handshake complete. */
export const DONE = 3;
/** A publish. */
export const PUB = 4;
/** Publishes acknowledged up to a sequence number. */
export const PUBACK = 5;
/** Unsubscribe. */
export const UNSUB = 6;
/** A refusal or failure. */
export const ERR = 7;
/** The topics protocol was attached on the sender while this link was up. */
export const UP = 8;

/** One topic message, as parsed. */
export type TopicMessage =
  | readonly [typeof SUB, string, number, unknown]
  | readonly [typeof BATCH, string, number, number, readonly unknown[]]
  | readonly [typeof ACK, string, number, number]
  | readonly [typeof DONE, string, number]
  | readonly [typeof PUB, string, number, unknown]
  | readonly [typeof PUBACK, string, number]
  | readonly [typeof UNSUB, string, number]
  | readonly [typeof ERR, string | null, string, string, number | null, number | null]
  | readonly [typeof UP, null];

/** Why a payload is not a topic message (and the topic it named, if any). */
export interface Malformed {
  readonly malformed: string;
  readonly topic: string | null;
}

const isCount = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;

/** Checks a payload's shape; returns the message or why it is malformed. Pure. */
export function parseMessage(p: unknown): TopicMessage | Malformed {
  if (!Array.isArray(p) || p.length < 2) return { malformed: "a topic message is an array", topic: null };
  const kind = p[0];
  const topic = p[1];
  if (kind === ERR) {
    if (
      (topic === null || typeof topic === "string") &&
      p.length === 6 &&
      typeof p[2] === "string" &&
      typeof p[3] === "string" &&
      (p[4] === null || isCount(p[4])) &&
      (p[5] === null || isCount(p[5]))
    )
      return p as unknown as TopicMessage;
    return { malformed: "bad error message", topic: typeof topic === "string" ? topic : null };
  }
  if (kind === UP)
    return p.length === 2 && topic === null
      ? (p as unknown as TopicMessage)
      : { malformed: "bad up message", topic: null };
  if (typeof topic !== "string" || topic === "")
    return { malformed: "the topic must be a string", topic: null };
  const bad = (what: string): Malformed => ({ malformed: what, topic });
  switch (kind) {
    case SUB:
      return p.length === 4 && isCount(p[2]) ? (p as unknown as TopicMessage) : bad("bad subscribe message");
    case BATCH:
      return p.length === 5 && isCount(p[2]) && isCount(p[3]) && Array.isArray(p[4])
        ? (p as unknown as TopicMessage)
        : bad("bad handshake batch");
    case ACK:
      return p.length === 4 && isCount(p[2]) && isCount(p[3])
        ? (p as unknown as TopicMessage)
        : bad("bad acknowledgement");
    case PUBACK:
      return p.length === 3 && isCount(p[2]) ? (p as unknown as TopicMessage) : bad("bad acknowledgement");
    case DONE:
    case UNSUB:
      return p.length === 3 && isCount(p[2]) ? (p as unknown as TopicMessage) : bad("bad message");
    case PUB:
      return p.length === 4 && isCount(p[2]) ? (p as unknown as TopicMessage) : bad("bad publish");
    default:
      return bad(`unknown topic message kind ${String(kind)}`);
  }
}

/** Whether {@link parseMessage} refused the payload. */
export function isMalformed(m: TopicMessage | Malformed): m is Malformed {
  return !Array.isArray(m);
}

/** An error reply. */
export function errMessage(
  topic: string | null,
  code: string,
  message: string,
  seq: number | null = null,
  hs: number | null = null,
) {
  return [ERR, topic, code, message, seq, hs] as const;
}
