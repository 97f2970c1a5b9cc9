/**
 * The `KVStore` interface and `createStore`, which builds one over a small {@link StoreBackend}
 * (an ordered byte map with atomic batches). Every backend shares this layer, so records, write
 * order, hooks, immutability and tombstones behave the same everywhere; a backend only stores bytes.
 *
 * A record is a 10-byte header (format, flags, `lastWrite` as a float64) and the value's CBOR.
 * Deletes leave a tombstone (flag) so replication can replay them to a replica that was away.
 * @module
 */

import { shown } from "../../core/errors.js";
import { decodeCbor, encodeCbor } from "../../core/persist/codec.js";
import { StoreError } from "./errors.js";

/** Per-key metadata. */
export interface KeyMeta {
  /** When the key was last written (ms since the epoch, strictly increasing per store). */
  readonly lastWrite: number;
  /** Whether the key is immutable (written once, e.g. a content address). */
  readonly immutable: boolean;
}

/** A key and its metadata, as `keys()` yields them. */
export interface KeyInfo extends KeyMeta {
  /** The key. */
  readonly key: string;
  /** Only with `keys({ deleted: true })`: the key was deleted at `lastWrite` (a tombstone). */
  readonly deleted?: boolean;
}

/** Options of one write. */
export interface PutOptions {
  /** Written once: a later different value is refused with `ERR_IMMUTABLE`; an equal one is a no-op. */
  immutable?: boolean;
  /** Keep this write time instead of the store's clock (replication keeps the writer's). */
  lastWrite?: number;
}

/** One entry of `putMany`: key, value, options. */
export type PutEntry = readonly [key: string, value: unknown, opts?: PutOptions];

/** A raw write: the value already encoded as CBOR bytes (what replication moves). */
export type StoreOp =
  | {
      readonly op: "put";
      readonly key: string;
      /** The value's CBOR bytes. */
      readonly bytes: Uint8Array;
      readonly immutable?: boolean;
      readonly lastWrite?: number;
      /** Apply only if the key is absent or its `lastWrite` is older (immutable keys are never replaced). */
      readonly ifNewer?: boolean;
    }
  | {
      readonly op: "delete";
      readonly key: string;
      readonly lastWrite?: number;
      /** Apply only if the key's `lastWrite` is older. */
      readonly ifNewer?: boolean;
    };

/** What a write hook sees, once per key written, after the write is durable, in write order. */
export type WriteEvent =
  | {
      readonly op: "put";
      readonly key: string;
      /** The value's CBOR bytes. */
      readonly bytes: Uint8Array;
      readonly meta: KeyMeta;
      /** The value (decoded on first access). */
      readonly value: unknown;
    }
  | { readonly op: "delete"; readonly key: string; readonly meta: KeyMeta };

/** A write hook (see `KVStore.onWrite`). */
export type WriteHook = (event: WriteEvent) => void;

/** An asynchronous key-value store with per-key metadata; see docs/stores.md. */
export interface KVStore {
  /** The value under `key`, or `undefined`. Throws `ERR_STORE_CORRUPT` if the record cannot be read. */
  get<T = unknown>(key: string): Promise<T | undefined>;
  /** The value's CBOR bytes under `key`, or `undefined`. */
  getBytes(key: string): Promise<Uint8Array | undefined>;
  /** The value's CBOR bytes and the key's metadata, read together from one record, or `undefined`. */
  entry(key: string): Promise<{ readonly bytes: Uint8Array; readonly meta: KeyMeta } | undefined>;
  /** Whether `key` holds a value. */
  has(key: string): Promise<boolean>;
  /** The key's metadata, or `undefined` when it holds no value. */
  meta(key: string): Promise<KeyMeta | undefined>;
  /** Write one value; durable when the promise resolves. */
  put(key: string, value: unknown, opts?: PutOptions): Promise<void>;
  /** Write several values atomically, applied (and reported to hooks) in the given order. */
  putMany(entries: Iterable<PutEntry>): Promise<void>;
  /** Delete `key` (a tombstone remains for replication); resolves whether it held a value. */
  delete(key: string, opts?: { lastWrite?: number }): Promise<boolean>;
  /**
   * Raw writes, atomic and in order; resolves, per op, whether it was applied (an equal immutable
   * value, an `ifNewer` op that is not newer, or a delete of an absent key is not).
   */
  write(ops: readonly StoreOp[]): Promise<boolean[]>;
  /** Every key with its metadata, in key order; `{ deleted: true }` adds tombstones. */
  keys(opts?: { deleted?: boolean }): AsyncIterable<KeyInfo>;
  /** Call `hook` after every write; returns the function that removes it. */
  onWrite(hook: WriteHook): () => void;
  /** Remove tombstones older than `before` (ms); resolves how many went. */
  purgeDeleted(before: number): Promise<number>;
  /** Close the store (pending writes finish first). Later calls fail with `ERR_STORE_CLOSED`. */
  close(): Promise<void>;
  /** Whether `close()` was called. */
  readonly closed: boolean;
}

/** One operation of a backend batch. */
export type BackendOp =
  | { readonly type: "put"; readonly key: string; readonly value: Uint8Array }
  | { readonly type: "del"; readonly key: string };

/**
 * What a backend provides: an ordered map from string keys to bytes. `write` applies a batch
 * atomically and resolves only when it is durable (as durable as the medium is); `entries` yields
 * every pair in key order, and may see writes made while it runs.
 */
export interface StoreBackend {
  /** The bytes under `key`, or `undefined`. */
  get(key: string): Promise<Uint8Array | undefined>;
  /** Apply a batch atomically, in order. */
  write(ops: readonly BackendOp[]): Promise<void>;
  /** Every pair, in key order (UTF-8 byte order or code-unit order: the backend's). */
  entries(): AsyncIterable<readonly [string, Uint8Array]>;
  /** Release the medium. */
  close(): Promise<void>;
}

/** Options of {@link createStore} (every backend accepts them). */
export interface StoreOptions {
  /** Longest key in UTF-8 bytes (default 1,024). */
  maxKeyBytes?: number;
  /** Largest value in CBOR bytes (default 16 MiB). */
  maxValueBytes?: number;
  /** The clock of `lastWrite` (default `Date.now`). */
  now?: () => number;
  /** A record `keys()` skipped because it could not be read, or a hook that threw. */
  onError?: (error: unknown, key: string | undefined) => void;
}

const FORMAT = 1;
const IMMUTABLE = 1;
const DELETED = 2;
const HEADER = 10;

interface Decoded {
  readonly flags: number;
  readonly lastWrite: number;
  readonly body: Uint8Array;
}

function encodeRecord(flags: number, lastWrite: number, body: Uint8Array): Uint8Array {
  const r = new Uint8Array(HEADER + body.length);
  r[0] = FORMAT;
  r[1] = flags;
  new DataView(r.buffer).setFloat64(2, lastWrite);
  r.set(body, HEADER);
  return r;
}

function decodeRecord(key: string, r: Uint8Array): Decoded {
  if (r.length < HEADER || r[0] !== FORMAT || (r[1]! & ~(IMMUTABLE | DELETED)) !== 0)
    throw new StoreError("ERR_STORE_CORRUPT", `the record of '${key}' has no valid header`, key);
  const lastWrite = new DataView(r.buffer, r.byteOffset, r.byteLength).getFloat64(2);
  if (!Number.isFinite(lastWrite))
    throw new StoreError("ERR_STORE_CORRUPT", `the record of '${key}' has no valid write time`, key);
  return { flags: r[1]!, lastWrite, body: r.subarray(HEADER) };
}

function decodeValue(key: string, body: Uint8Array): unknown {
  try {
    return decodeCbor(body);
  } catch (e) {
    throw new StoreError("ERR_STORE_CORRUPT", `the value of '${key}' does not decode`, key, e);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const utf8 = new TextEncoder();

function positiveInt(name: string, v: number | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (!Number.isSafeInteger(v) || v <= 0)
    throw new StoreError("ERR_INVALID_ARGUMENT", `${name} must be a positive integer, got ${shown(v)}`);
  return v;
}

/** Build a {@link KVStore} over `backend` (what `memoryStore`, `levelStore` and `indexedDbStore` do). */
export function createStore(backend: StoreBackend, opts: StoreOptions = {}): KVStore {
  const maxKeyBytes = positiveInt("maxKeyBytes", opts.maxKeyBytes, 1024);
  const maxValueBytes = positiveInt("maxValueBytes", opts.maxValueBytes, 16 * 1024 * 1024);
  const now = opts.now ?? Date.now;
  const hooks = new Set<WriteHook>();
  let lastIssued = Number.NEGATIVE_INFINITY;
  let isClosed = false;
  let tail: Promise<unknown> = Promise.resolve();

  const report = (e: unknown, key: string | undefined): void => {
    try {
      opts.onError?.(e, key);
    } catch {
      // a diagnostics sink that throws has nowhere to report to
    }
  };

  const checkOpen = (): void => {
    if (isClosed) throw new StoreError("ERR_STORE_CLOSED", "the store is closed");
  };

  const checkKey = (key: unknown): string => {
    if (typeof key !== "string" || key === "")
      throw new StoreError("ERR_INVALID_ARGUMENT", "a key is a non-empty string");
    if (key.length > maxKeyBytes / 3 && utf8.encode(key).length > maxKeyBytes)
      throw new StoreError("ERR_LIMIT", `key over ${maxKeyBytes} bytes`, key.slice(0, 64));
    return key;
  };

  const checkBytes = (key: string, b: Uint8Array): void => {
    if (b.length > maxValueBytes)
      throw new StoreError("ERR_LIMIT", `value of '${key}' is ${b.length} bytes, over ${maxValueBytes}`, key);
  };

  /**
   * The next write time: after every time this store issued, and after the key's own (a reopened
   * store, or a clock that stepped back, must not make a key's lastWrite go backwards: replicas
   * would take the new write for an older one). 2^-10 ms steps stay exact in a float64.
   */
  const tick = (after: number | undefined): number => {
    let t = Math.max(now(), lastIssued + 1 / 1024);
    if (after !== undefined && t <= after) t = after + 1 / 1024;
    lastIssued = t;
    return t;
  };

  const readRecord = async (key: string): Promise<Decoded | undefined> => {
    const r = await backend.get(key);
    return r === undefined ? undefined : decodeRecord(key, r);
  };

  const live = async (key: string): Promise<Decoded | undefined> => {
    checkOpen();
    const d = await readRecord(checkKey(key));
    return d === undefined || (d.flags & DELETED) !== 0 ? undefined : d;
  };

  /** Serialize writes: their order is the hooks' order and the lastWrite order. */
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const p = tail.then(fn);
    tail = p.catch(() => undefined);
    return p;
  };

  const writeOps = async (ops: readonly StoreOp[]): Promise<boolean[]> => {
    checkOpen();
    for (const op of ops) {
      checkKey(op.key);
      if (op.op === "put") {
        if (!(op.bytes instanceof Uint8Array))
          throw new StoreError("ERR_INVALID_ARGUMENT", "a put carries the value's bytes", op.key);
        checkBytes(op.key, op.bytes);
      } else if (op.op !== "delete") throw new StoreError("ERR_INVALID_ARGUMENT", "an op is put or delete");
      if (op.lastWrite !== undefined && !Number.isFinite(op.lastWrite))
        throw new StoreError("ERR_INVALID_ARGUMENT", "lastWrite is a finite number", op.key);
    }
    return serial(async () => {
      checkOpen();
      // the state each key will have after the ops before it in this batch
      const staged = new Map<string, Decoded | undefined>();
      const current = async (key: string): Promise<Decoded | undefined> => {
        if (staged.has(key)) return staged.get(key);
        const d = await readRecord(key).catch((e: unknown) => {
          // an unreadable record is overwritten by a new write
          report(e, key);
          return undefined;
        });
        staged.set(key, d);
        return d;
      };
      const batch: BackendOp[] = [];
      const events: WriteEvent[] = [];
      const applied: boolean[] = [];
      for (const op of ops) {
        const cur = await current(op.key);
        const present = cur !== undefined && (cur.flags & DELETED) === 0;
        if (op.ifNewer === true && cur !== undefined) {
          if (present && (cur.flags & IMMUTABLE) !== 0) {
            applied.push(false);
            continue;
          }
          if (op.lastWrite !== undefined && cur.lastWrite >= op.lastWrite) {
            applied.push(false);
            continue;
          }
        }
        if (op.op === "delete") {
          if (!present) {
            applied.push(false);
            continue;
          }
          const lastWrite = op.lastWrite ?? tick(cur.lastWrite);
          const rec = encodeRecord(DELETED, lastWrite, new Uint8Array(0));
          batch.push({ type: "put", key: op.key, value: rec });
          staged.set(op.key, { flags: DELETED, lastWrite, body: new Uint8Array(0) });
          events.push({ op: "delete", key: op.key, meta: { lastWrite, immutable: false } });
          applied.push(true);
          continue;
        }
        if (present && (cur.flags & IMMUTABLE) !== 0) {
          if (sameBytes(cur.body, op.bytes)) {
            applied.push(false);
            continue;
          }
          throw new StoreError("ERR_IMMUTABLE", `'${op.key}' is immutable and holds another value`, op.key);
        }
        const immutable = op.immutable === true;
        const lastWrite = op.lastWrite ?? tick(cur?.lastWrite);
        const flags = immutable ? IMMUTABLE : 0;
        batch.push({ type: "put", key: op.key, value: encodeRecord(flags, lastWrite, op.bytes) });
        staged.set(op.key, { flags, lastWrite, body: op.bytes });
        events.push(putEvent(op.key, op.bytes, { lastWrite, immutable }));
        applied.push(true);
      }
      if (batch.length > 0) await backend.write(batch);
      for (const e of events)
        for (const h of hooks) {
          try {
            h(e);
          } catch (err) {
            report(err, e.key);
          }
        }
      return applied;
    });
  };

  const encodeValue = (key: string, value: unknown): Uint8Array => {
    try {
      return encodeCbor(value);
    } catch (e) {
      throw new StoreError("ERR_INVALID_ARGUMENT", `the value of '${key}' cannot be encoded as CBOR`, key, e);
    }
  };

  const putOp = (key: string, value: unknown, o: PutOptions | undefined): StoreOp => {
    checkKey(key);
    const op: { op: "put"; key: string; bytes: Uint8Array; immutable?: boolean; lastWrite?: number } = {
      op: "put",
      key,
      bytes: encodeValue(key, value),
    };
    if (o?.immutable === true) op.immutable = true;
    if (o?.lastWrite !== undefined) op.lastWrite = o.lastWrite;
    return op;
  };

  async function* keys(o?: { deleted?: boolean }): AsyncIterable<KeyInfo> {
    checkOpen();
    const withDeleted = o?.deleted === true;
    for await (const [key, r] of backend.entries()) {
      let d: Decoded;
      try {
        d = decodeRecord(key, r);
      } catch (e) {
        report(e, key);
        continue;
      }
      const deleted = (d.flags & DELETED) !== 0;
      if (deleted && !withDeleted) continue;
      const immutable = (d.flags & IMMUTABLE) !== 0;
      yield deleted
        ? { key, lastWrite: d.lastWrite, immutable, deleted }
        : { key, lastWrite: d.lastWrite, immutable };
    }
  }

  return {
    async get<T>(key: string): Promise<T | undefined> {
      const d = await live(key);
      return d === undefined ? undefined : (decodeValue(key, d.body) as T);
    },
    async getBytes(key) {
      return (await live(key))?.body;
    },
    async entry(key) {
      const d = await live(key);
      return d === undefined
        ? undefined
        : { bytes: d.body, meta: { lastWrite: d.lastWrite, immutable: (d.flags & IMMUTABLE) !== 0 } };
    },
    async has(key) {
      return (await live(key)) !== undefined;
    },
    async meta(key) {
      const d = await live(key);
      return d === undefined ? undefined : { lastWrite: d.lastWrite, immutable: (d.flags & IMMUTABLE) !== 0 };
    },
    async put(key, value, o) {
      await writeOps([putOp(key, value, o)]);
    },
    async putMany(entries) {
      const ops: StoreOp[] = [];
      for (const e of entries) {
        if (!Array.isArray(e))
          throw new StoreError("ERR_INVALID_ARGUMENT", "putMany takes [key, value, opts?] entries");
        ops.push(putOp(e[0], e[1], e[2]));
      }
      await writeOps(ops);
    },
    async delete(key, o) {
      const op: { op: "delete"; key: string; lastWrite?: number } = { op: "delete", key };
      if (o?.lastWrite !== undefined) op.lastWrite = o.lastWrite;
      const [done] = await writeOps([op]);
      return done === true;
    },
    write: writeOps,
    keys,
    onWrite(hook) {
      hooks.add(hook);
      return () => {
        hooks.delete(hook);
      };
    },
    async purgeDeleted(before) {
      checkOpen();
      return serial(async () => {
        const gone: BackendOp[] = [];
        for await (const [key, r] of backend.entries()) {
          try {
            const d = decodeRecord(key, r);
            if ((d.flags & DELETED) !== 0 && d.lastWrite < before) gone.push({ type: "del", key });
          } catch (e) {
            report(e, key);
          }
        }
        if (gone.length > 0) await backend.write(gone);
        return gone.length;
      });
    },
    async close() {
      if (isClosed) return;
      isClosed = true;
      hooks.clear();
      await tail;
      await backend.close();
    },
    get closed() {
      return isClosed;
    },
  };
}

function putEvent(key: string, bytes: Uint8Array, meta: KeyMeta): WriteEvent {
  let decoded = false;
  let value: unknown;
  return {
    op: "put",
    key,
    bytes,
    meta,
    get value() {
      if (!decoded) {
        value = decodeValue(key, bytes);
        decoded = true;
      }
      return value;
    },
  };
}
