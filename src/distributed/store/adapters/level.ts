/**
 * The LevelDB backend for Node, over `classic-level` (prebuilt binaries ship in its npm package).
 * Every batch is written with `sync: true`: when a write resolves it is on disk, so a process
 * killed right after (SIGKILL, power loss of the process) loses no acknowledged write.
 * @module
 */
import { ClassicLevel } from "classic-level";
import { StoreError } from "../errors.js";
import { createStore, type KVStore, type StoreBackend, type StoreOptions } from "../kv.js";

/** Options of {@link levelStore}. */
export interface LevelStoreOptions extends StoreOptions {
  /**
   * Write batches with `fsync` before they resolve (default `true`). `false` trades the durability
   * of the last writes before a machine crash for speed (a killed process still loses nothing:
   * LevelDB's log is in the OS page cache).
   */
  sync?: boolean;
}

/** A {@link StoreBackend} over a LevelDB directory (what {@link levelStore} uses). */
export async function levelBackend(path: string, opts: { sync?: boolean } = {}): Promise<StoreBackend> {
  if (typeof path !== "string" || path === "")
    throw new StoreError("ERR_INVALID_ARGUMENT", "levelStore needs a directory path");
  const db = new ClassicLevel<string, Uint8Array>(path, { keyEncoding: "utf8", valueEncoding: "view" });
  try {
    await db.open();
  } catch (e) {
    const cause = (e as { cause?: { message?: string } }).cause;
    throw new StoreError(
      "ERR_STORE_OPEN",
      `cannot open the LevelDB store at ${path}: ${cause?.message ?? (e as Error).message}`,
      undefined,
      e,
    );
  }
  const sync = opts.sync !== false;
  return {
    async get(key) {
      const v = await db.get(key);
      return v === undefined ? undefined : v;
    },
    async write(ops) {
      await db.batch(
        ops.map((op) =>
          op.type === "put" ? { type: "put", key: op.key, value: op.value } : { type: "del", key: op.key },
        ),
        { sync },
      );
    },
    async *entries() {
      for await (const [k, v] of db.iterator()) yield [k, v] as const;
    },
    async close() {
      await db.close();
    },
  };
}

/**
 * A store on disk in the LevelDB directory `path` (created if missing). A cold reopen reads every
 * key back. Fails with `ERR_STORE_OPEN` when the directory cannot be opened (not a directory, no
 * permission, held by another process).
 */
export async function levelStore(path: string, opts: LevelStoreOptions = {}): Promise<KVStore> {
  const { sync, ...rest } = opts;
  return createStore(await levelBackend(path, sync === undefined ? {} : { sync }), rest);
}
