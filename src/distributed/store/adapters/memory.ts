/**
 * The in-memory backend: a Map of records. Nothing survives the process; writes are atomic.
 * @module
 */
import { createStore, type KVStore, type StoreBackend, type StoreOptions } from "../kv.js";

/** A {@link StoreBackend} over a Map (what {@link memoryStore} uses). */
export function memoryBackend(): StoreBackend {
  const map = new Map<string, Uint8Array>();
  return {
    async get(key) {
      return map.get(key);
    },
    async write(ops) {
      for (const op of ops) {
        if (op.type === "put") map.set(op.key, op.value);
        else map.delete(op.key);
      }
    },
    async *entries() {
      const keys = [...map.keys()].sort();
      for (const k of keys) {
        const v = map.get(k);
        if (v !== undefined) yield [k, v] as const;
      }
    },
    async close() {
      map.clear();
    },
  };
}

/** A store in memory (tests, caches, the subscriber side of a short-lived replica). */
export function memoryStore(opts?: StoreOptions): KVStore {
  return createStore(memoryBackend(), opts);
}
