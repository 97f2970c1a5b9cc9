/**
 * The topic protocol's messages: positional arrays (small on the wire), one parser that checks
 * their shape. Every message names its topic second, so a malformed frame for one topic is
 * answered with an error for that topic and the others keep working.
 *
 * | kind | layout | sent by |
 * |---|---|---|
 * | SUB | `[0, topic, clientState]` | subscriber: start (or restart) the handshake |
 * | BATCH | `[1, topic, batchIdx, items[]]` | owner: up to `batchSize` handshake items |
 * | ACK | `[2, topic, batchIdx]` | subscriber: batch applied (backpressure) |
 * | DONE | `[3, topic]` | owner: handshake complete |
 * | PUB | `[4, topic, seq, payload]` | either side; `seq > 0` asks the owner for an ack |
 * | PUBACK | `[5, topic, seq]` | owner: every publish up to `seq` applied (cumulative) |
 * | UNSUB | `[6, topic]` | subscriber (best effort) |
 * | ERR | `[7, topic \| null, code, message, seq \| null]` | owner: a refusal; `seq` names the refused publish |
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

/** One topic message, as parsed. */
export type TopicMessage =
  | readonly [typeof SUB, string, unknown]
  | readonly [typeof BATCH, string, number, readonly unknown[]]
  | readonly [typeof ACK, string, number]
  | readonly [typeof DONE, string]
  | readonly [typeof PUB, string, number, unknown]
  | readonly [typeof PUBACK, string, number]
  | readonly [typeof UNSUB, string]
  | readonly [typeof ERR, string | null, string, string, number | null];

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
      p.length === 5 &&
      typeof p[2] === "string" &&
      typeof p[3] === "string" &&
      (p[4] === null || isCount(p[4]))
    )
      return p as unknown as TopicMessage;
    return { malformed: "bad error message", topic: typeof topic === "string" ? topic : null };
  }
  if (typeof topic !== "string" || topic === "")
    return { malformed: "the topic must be a string", topic: null };
  const bad = (what: string): Malformed => ({ malformed: what, topic });
  switch (kind) {
    case SUB:
      return p.length === 3 ? (p as unknown as TopicMessage) : bad("bad subscribe message");
    case BATCH:
      return p.length === 4 && isCount(p[2]) && Array.isArray(p[3])
        ? (p as unknown as TopicMessage)
        : bad("bad handshake batch");
    case ACK:
    case PUBACK:
      return p.length === 3 && isCount(p[2]) ? (p as unknown as TopicMessage) : bad("bad acknowledgement");
    case DONE:
    case UNSUB:
      return p.length === 2 ? (p as unknown as TopicMessage) : bad("bad message");
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
export function errMessage(topic: string | null, code: string, message: string, seq: number | null = null) {
  return [ERR, topic, code, message, seq] as const;
}
