/**
 * Store replication as pure steps over messages (the topic layer does the sending): the
 * subscriber's state in bounded chunks, the owner's differential answer, bundles of records
 * bounded in count and bytes, and the checks a receiver makes before writing anything.
 *
 * | message | layout | sent by |
 * |---|---|---|
 * | client state | `[1, hs]` | subscriber, with the topic subscribe (`hs` numbers its handshakes) |
 * | STATE | `[0, hs, [key, lastWrite, key, lastWrite, …]]` | subscriber (a publish): part of what it holds |
 * | END | `[1, hs, count]` | subscriber (a publish): that was all of it |
 * | bundle | `[item, …]` | owner: one handshake item, a batch of records written atomically |
 * | PUT item | `[0, key, lastWrite, immutable 0/1, valueBytes]` | owner (in a bundle, or alone as a live publish) |
 * | DEL item | `[1, key, lastWrite]` | owner: the key was deleted at `lastWrite` |
 * @module
 */
import { StoreError } from "./errors.js";
import type { KeyInfo, StoreOp } from "./kv.js";

/** The version the client state carries. */
export const STORE_SYNC_VERSION = 1;
/** Subscriber → owner: a chunk of `[key, lastWrite]` pairs. */
export const STATE = 0;
/** Subscriber → owner: the state is complete. */
export const END = 1;
/** A record. */
export const PUT = 0;
/** A deletion. */
export const DEL = 1;

/** A record or a deletion, as it travels. */
export type SyncItem =
  | readonly [typeof PUT, string, number, 0 | 1, Uint8Array]
  | readonly [typeof DEL, string, number];

/** What the subscriber publishes while it tells the owner what it holds. */
export type StateMessage =
  | readonly [typeof STATE, number, readonly (string | number)[]]
  | readonly [typeof END, number, number];

/** Limits a receiver applies to every record (a bad one is skipped and reported; the link stays). */
export interface ItemLimits {
  /** Longest key in UTF-8 bytes. */
  maxKeyBytes: number;
  /** Largest value in bytes. */
  maxValueBytes: number;
}

const utf8 = new TextEncoder();

/** Split `[key, lastWrite]` pairs into STATE messages of at most `maxKeys` keys or about `maxBytes`. */
export async function* stateChunks(
  hs: number,
  keys: AsyncIterable<KeyInfo>,
  maxKeys: number,
  maxBytes: number,
): AsyncGenerator<StateMessage, number> {
  let chunk: (string | number)[] = [];
  let bytes = 0;
  let count = 0;
  for await (const k of keys) {
    chunk.push(k.key, k.lastWrite);
    // a key's CBOR is its UTF-8 bytes plus a short head; a float64 is 9 bytes
    bytes += k.key.length * 3 + 12;
    count++;
    if (chunk.length >= 2 * maxKeys || bytes >= maxBytes) {
      yield [STATE, hs, chunk];
      chunk = [];
      bytes = 0;
    }
  }
  if (chunk.length > 0) yield [STATE, hs, chunk];
  yield [END, hs, count];
  return count;
}

function protocolError(message: string): never {
  throw new StoreError("ERR_PROTOCOL", `store sync: ${message}`);
}

/** Parse a subscriber's client state (`[1, hs]`). Throws `ERR_PROTOCOL`. */
export function parseClientState(cs: unknown): number {
  if (!Array.isArray(cs) || cs.length !== 2 || cs[0] !== STORE_SYNC_VERSION || !Number.isSafeInteger(cs[1]))
    protocolError("a client state is [1, handshake number]");
  return cs[1] as number;
}

/** Parse a STATE or END message. Throws `ERR_PROTOCOL`. */
export function parseStateMessage(p: unknown): StateMessage {
  if (!Array.isArray(p) || p.length !== 3 || !Number.isSafeInteger(p[1]))
    protocolError("a state message is [kind, hs, body]");
  if (p[0] === END) {
    if (!Number.isSafeInteger(p[2]) || (p[2] as number) < 0) protocolError("an END message carries a count");
    return p as unknown as StateMessage;
  }
  if (p[0] !== STATE || !Array.isArray(p[2]) || p[2].length % 2 !== 0)
    protocolError("a STATE message carries pairs");
  const body = p[2] as unknown[];
  for (let i = 0; i < body.length; i += 2)
    if (typeof body[i] !== "string" || typeof body[i + 1] !== "number")
      protocolError("a STATE pair is [key string, lastWrite number]");
  return p as unknown as StateMessage;
}

/** What the subscriber holds, gathered from its STATE messages. */
export class ClientState {
  readonly keys = new Map<string, number>();
  private received = 0;

  /** @param hs the handshake these messages belong to */
  constructor(readonly hs: number) {}

  /** Add one message; resolves `true` when END arrived and the count matches. Throws `ERR_PROTOCOL`. */
  add(m: StateMessage): boolean {
    if (m[1] !== this.hs) return false;
    if (m[0] === STATE) {
      const body = m[2];
      for (let i = 0; i < body.length; i += 2) this.keys.set(body[i] as string, body[i + 1] as number);
      this.received += body.length / 2;
      return false;
    }
    if (m[2] !== this.received) protocolError(`END says ${m[2]} keys, ${this.received} arrived`);
    return true;
  }
}

/** What the owner decided to send for one key. */
export type Decision = { readonly key: string; readonly del?: number } | null;

/**
 * The differential rule for one of the owner's keys (with its tombstones): send a value the
 * subscriber lacks, or holds older (never an immutable key it has); send a deletion the subscriber
 * has not seen.
 */
export function decide(k: KeyInfo, client: ReadonlyMap<string, number>): Decision {
  const theirs = client.get(k.key);
  if (k.deleted === true)
    return theirs !== undefined && theirs < k.lastWrite ? { key: k.key, del: k.lastWrite } : null;
  if (theirs === undefined) return { key: k.key };
  if (k.immutable) return null;
  return k.lastWrite > theirs ? { key: k.key } : null;
}

/** Stable sort by `keyOrder` (higher goes later), e.g. pointer keys after their content. */
export function orderKeys<T extends { readonly key: string }>(
  items: T[],
  keyOrder?: (key: string) => number,
): T[] {
  if (keyOrder === undefined) return items;
  const ranked = items.map((it, i) => ({ it, i, r: keyOrder(it.key) }));
  ranked.sort((a, b) => a.r - b.r || a.i - b.i);
  return ranked.map((x) => x.it);
}

/** A PUT item. */
export function putItem(key: string, lastWrite: number, immutable: boolean, bytes: Uint8Array): SyncItem {
  return [PUT, key, lastWrite, immutable ? 1 : 0, bytes];
}

/** A DEL item. */
export function delItem(key: string, lastWrite: number): SyncItem {
  return [DEL, key, lastWrite];
}

/** The bytes an item adds to a frame, roughly (for bundling). */
export function itemSize(it: SyncItem): number {
  return it[0] === PUT ? it[1].length * 3 + it[4].length + 24 : it[1].length * 3 + 16;
}

/**
 * Check one received item and turn it into a store write (`ifNewer`: a record older than the
 * replica's copy, or an immutable key it holds, is skipped by the store). Throws `ERR_PROTOCOL`
 * or `ERR_LIMIT` for an item to skip.
 */
export function itemToOp(raw: unknown, limits: ItemLimits): StoreOp {
  if (!Array.isArray(raw) || (raw[0] !== PUT && raw[0] !== DEL)) protocolError("an item is [0|1, key, …]");
  const key = raw[1];
  const lastWrite = raw[2];
  if (typeof key !== "string" || key === "") protocolError("an item's key is a non-empty string");
  if (
    key.length > limits.maxKeyBytes ||
    (key.length * 3 > limits.maxKeyBytes && utf8.encode(key).length > limits.maxKeyBytes)
  )
    throw new StoreError("ERR_LIMIT", `a replicated key over ${limits.maxKeyBytes} bytes`, key.slice(0, 64));
  if (typeof lastWrite !== "number" || !Number.isFinite(lastWrite))
    protocolError(`the lastWrite of '${key}' is not a number`);
  if (raw[0] === DEL) {
    if (raw.length !== 3) protocolError("a DEL item is [1, key, lastWrite]");
    return { op: "delete", key, lastWrite, ifNewer: true };
  }
  const bytes = raw[4];
  if (raw.length !== 5 || (raw[3] !== 0 && raw[3] !== 1) || !(bytes instanceof Uint8Array))
    protocolError("a PUT item is [0, key, lastWrite, 0|1, bytes]");
  if (bytes.length > limits.maxValueBytes)
    throw new StoreError(
      "ERR_LIMIT",
      `the replicated value of '${key}' is over ${limits.maxValueBytes} bytes`,
      key,
    );
  return { op: "put", key, bytes, lastWrite, immutable: raw[3] === 1, ifNewer: true };
}
