/**
 * The IndexedDB backend for browsers: one object store of records per database. Each batch is one
 * `readwrite` transaction with `durability: "strict"` (the browser flushes before `complete`), and
 * `entries()` reads in pages, one short transaction each (IndexedDB transactions end when the
 * event loop turns, so a cursor cannot be held across awaits).
 * @module
 */
import { StoreError } from "../errors.js";
import { createStore, type KVStore, type StoreBackend, type StoreOptions } from "../kv.js";

const OBJECT_STORE = "records";
const PAGE = 256;

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

function asBytes(v: unknown, key: string): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  throw new StoreError("ERR_STORE_CORRUPT", `the record of '${key}' is not bytes`, key);
}

/** A {@link StoreBackend} over the IndexedDB database `name` (what {@link indexedDbStore} uses). */
export async function indexedDbBackend(name: string): Promise<StoreBackend> {
  if (typeof name !== "string" || name === "")
    throw new StoreError("ERR_INVALID_ARGUMENT", "indexedDbStore needs a database name");
  const idb = (globalThis as { indexedDB?: IDBFactory }).indexedDB;
  if (idb === undefined) throw new StoreError("ERR_STORE_OPEN", "IndexedDB is not available here");
  let db: IDBDatabase;
  try {
    db = await new Promise<IDBDatabase>((resolve, reject) => {
      const r = idb.open(name, 1);
      r.onupgradeneeded = () => {
        if (!r.result.objectStoreNames.contains(OBJECT_STORE)) r.result.createObjectStore(OBJECT_STORE);
      };
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
      r.onblocked = () => reject(new Error("the database is blocked by another connection"));
    });
  } catch (e) {
    throw new StoreError(
      "ERR_STORE_OPEN",
      `cannot open the IndexedDB database '${name}': ${String(e)}`,
      undefined,
      e,
    );
  }
  if (!db.objectStoreNames.contains(OBJECT_STORE)) {
    db.close();
    throw new StoreError("ERR_STORE_OPEN", `the IndexedDB database '${name}' is not a spindel store`);
  }
  // another tab upgrading or deleting the database: let it, this handle fails from then on
  db.onversionchange = () => db.close();
  return {
    async get(key) {
      const v = await request(db.transaction(OBJECT_STORE, "readonly").objectStore(OBJECT_STORE).get(key));
      return v === undefined ? undefined : asBytes(v, key);
    },
    write(ops) {
      return new Promise<void>((resolve, reject) => {
        const tx = db.transaction(OBJECT_STORE, "readwrite", { durability: "strict" });
        const os = tx.objectStore(OBJECT_STORE);
        for (const op of ops) {
          if (op.type === "put") os.put(op.value, op.key);
          else os.delete(op.key);
        }
        tx.oncomplete = () => resolve();
        tx.onerror = () => reject(tx.error);
        tx.onabort = () => reject(tx.error ?? new Error("the IndexedDB transaction aborted"));
      });
    },
    async *entries() {
      let after: string | undefined;
      for (;;) {
        const tx = db.transaction(OBJECT_STORE, "readonly");
        const os = tx.objectStore(OBJECT_STORE);
        const range = after === undefined ? undefined : IDBKeyRange.lowerBound(after, true);
        const [keys, values] = await Promise.all([
          request(os.getAllKeys(range, PAGE)),
          request(os.getAll(range, PAGE)),
        ]);
        for (let i = 0; i < keys.length; i++) {
          const k = String(keys[i]);
          const v = values[i];
          // a foreign value: an empty record fails the header check, so keys() reports and skips it
          yield [k, v instanceof Uint8Array ? v : new Uint8Array(0)] as const;
        }
        if (keys.length < PAGE) return;
        after = String(keys[keys.length - 1]);
      }
    },
    async close() {
      db.close();
    },
  };
}

/**
 * A store in the browser's IndexedDB database `name` (created if missing); a reload reads every
 * key back. Fails with `ERR_STORE_OPEN` when IndexedDB is unavailable or the database cannot be
 * opened.
 */
export async function indexedDbStore(name: string, opts?: StoreOptions): Promise<KVStore> {
  return createStore(await indexedDbBackend(name), opts);
}
