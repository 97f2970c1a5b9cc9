/**
 * The registry of primitives (deferred, mailbox, semaphore) by stable id, and the serialization
 * hook of their per-context state, used by `ctx.serialize()` / `deserializeContext`. Internal.
 * @module
 */
import type { PrimitiveState } from "./context.js";
import { invalidArgument, SpindelError } from "./errors.js";
import { WeakValueMap } from "./weak-values.js";

/** A primitive whose per-context state can be read back by `deserializeContext`. */
export interface Revivable {
  /** Stable id (the `key` option, or a process-local counter). */
  readonly id: string;
  /** @internal state of this primitive rebuilt from `serialize()` data */
  _revive(data: unknown): PrimitiveState;
}

/** Per-context state that `ctx.serialize()` can carry. */
export interface SerializableState {
  /**
   * The primitive's id and CBOR-encodable data (never waiters), or `undefined` for transient state
   * that is not carried (a serialized context simply does not have it).
   */
  serialize(): { id: string; data: unknown } | undefined;
}

/** True when a primitive state can be serialized. */
export function isSerializableState(x: unknown): x is SerializableState {
  return typeof (x as { serialize?: unknown } | null)?.serialize === "function";
}

// live primitives by id (weakly: the entries of collected ones are swept out as the map grows)
const registry = new WeakValueMap<string, Revivable>();
let nextId = 0;

/** An id for a new primitive: its `key` (validated) or a fresh process-local one. */
export function primitiveId(prefix: string, key: string | undefined): string {
  if (key === undefined) return `${prefix}${++nextId}`;
  if (typeof key !== "string" || key === "") invalidArgument(`${prefix} key must be a non-empty string`);
  return key;
}

/** Make `p` findable by id (for deserialization). The newest primitive with an id wins. */
export function registerPrimitive(p: Revivable): void {
  registry.set(p.id, p);
}

/** The live primitive with this id, if any. */
export function primitiveById(id: string): Revivable | undefined {
  return registry.get(id);
}

/** An error as plain CBOR-encodable data (name, message, code, data). */
export interface EncodedError {
  /** Error name. */
  name: string;
  /** Message. */
  message: string;
  /** `code` of a {@link SpindelError}. */
  code?: string;
  /** `data` of a {@link SpindelError}. */
  data?: unknown;
}

/** Encode an error as {@link EncodedError}. */
export function encodeError(e: unknown): EncodedError {
  const x = e as { name?: unknown; message?: unknown; code?: unknown; data?: unknown } | null;
  const out: EncodedError = {
    name: typeof x?.name === "string" ? x.name : "Error",
    message: typeof x?.message === "string" ? x.message : String(e),
  };
  if (typeof x?.code === "string") out.code = x.code;
  if (x?.data !== undefined) out.data = x.data;
  return out;
}

/** Rebuild an error from {@link EncodedError} (a {@link SpindelError} when it had a code). */
export function decodeError(x: EncodedError): Error {
  const err = typeof x.code === "string" ? new SpindelError(x.code, x.message, x.data) : new Error(x.message);
  err.name = x.name;
  return err;
}

/** What deserialization takes from a live keyed spin handle: its code and options. */
export interface KeyedSpinHandle {
  readonly id: string;
  readonly body: unknown;
  readonly equals: unknown;
  readonly deps: readonly unknown[] | undefined;
  readonly name: string | undefined;
}

// keyed spin handles of this process by key (weakly: a handle nobody holds is not kept alive, and
// the entries of collected ones are swept out as the map grows)
const keyedSpins = new WeakValueMap<string, KeyedSpinHandle>();

/** @internal a top-level spin created with a `key` */
export function registerKeyedSpin(h: KeyedSpinHandle): void {
  keyedSpins.set(h.id, h);
}

/** @internal the live keyed spin handle with this id, if any (deserialization restores its body) */
export function keyedSpinById(id: string): KeyedSpinHandle | undefined {
  return keyedSpins.get(id);
}
