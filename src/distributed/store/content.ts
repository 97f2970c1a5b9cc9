/**
 * Content-addressed writes: a value is stored under the SHA-256 of its canonical CBOR, once,
 * immutable. Equal values get equal addresses on every platform and every backend.
 * @module
 */
import { addressOfBytes, canonicalCbor } from "./canonical.js";
import type { KVStore, StoreOp } from "./kv.js";

/**
 * The raw write that stores `value` under its content address, and that address: to batch with
 * other writes in one atomic `store.write` (what {@link putContent} writes alone).
 */
export async function contentOp(value: unknown): Promise<{ address: string; op: StoreOp }> {
  const bytes = canonicalCbor(value);
  const address = await addressOfBytes(bytes);
  return { address, op: { op: "put", key: address, bytes, immutable: true } };
}

/**
 * Store `value` under its content address and resolve the address. The stored bytes are the
 * canonical CBOR (so replicas hold byte-equal values); writing an existing address is a no-op.
 */
export async function putContent(store: KVStore, value: unknown): Promise<string> {
  const { address, op } = await contentOp(value);
  await store.write([op]);
  return address;
}
