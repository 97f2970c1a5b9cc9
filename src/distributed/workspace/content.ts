/**
 * The part of a key-value store a stored system needs (a structural subset of the package's
 * `KVStore`, so any backend fits), and content addressing: an address is the SHA-256 of the
 * canonical CBOR of a node (object keys sorted), written once and immutable.
 * @module
 */
import { encodeCbor } from "../../core/persist/codec.js";
import { sha256Hex } from "./sha256.js";

/** Options of a write. */
export interface PutOptions {
  /** Content-addressed: never rewritten, never re-sent to a replica that has it. */
  readonly immutable?: boolean;
}

/** The store operations a stored system uses (every `KVStore` has them). */
export interface ContentStore {
  /** The value under `key`, or `undefined`. */
  get(key: string): Promise<unknown>;
  /** Whether `key` is present. */
  has(key: string): Promise<boolean>;
  /** Writes one key. */
  put(key: string, value: unknown, opts?: PutOptions): Promise<void>;
  /** Writes keys in order (content before the pointer that names it). */
  putMany(entries: ReadonlyArray<readonly [string, unknown, PutOptions?]>): Promise<void>;
}

/** Recursively sorts object keys so equal values encode to equal bytes. */
export function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v instanceof Uint8Array || v instanceof Date || v instanceof Map || v instanceof Set) return v;
  if (typeof v === "object" && v !== null) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = canonical(x);
    }
    return out;
  }
  return v;
}

/** Canonical CBOR bytes of `v`. */
export function canonicalBytes(v: unknown): Uint8Array {
  return encodeCbor(canonical(v));
}

/** The content address of `v`: hex SHA-256 of its canonical CBOR. */
export function contentAddressSync(v: unknown): string {
  return sha256Hex(canonicalBytes(v));
}

/** The content address of `v` (see {@link contentAddressSync}). */
export async function contentAddress(v: unknown): Promise<string> {
  return contentAddressSync(v);
}

/** Value equality of CBOR-encodable values (equal canonical bytes; `sameKey` in crdt/util.ts differs on -0, NaN and class instances). */
export function sameEncoded(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  const x = canonicalBytes(a);
  const y = canonicalBytes(b);
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}
