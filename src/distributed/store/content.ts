/**
 * Content-addressed writes: a value is stored under the SHA-256 of its canonical CBOR, once,
 * immutable. Equal values get equal addresses on every platform and every backend.
 * @module
 */
import { addressOfBytes, canonicalCbor } from "./canonical.js";
import type { KVStore } from "./kv.js";

/**
 * Store `value` under its content address and resolve the address. The stored bytes are the
 * canonical CBOR (so replicas hold byte-equal values); writing an existing address is a no-op.
 */
export async function putContent(store: KVStore, value: unknown): Promise<string> {
  const bytes = canonicalCbor(value);
  const address = await addressOfBytes(bytes);
  await store.write([{ op: "put", key: address, bytes, immutable: true }]);
  return address;
}
