/**
 * A minimal in-memory content store for the workspace tests (the package's `memoryStore` has the
 * same shape); it counts writes so tests can show what a fork or a merge wrote.
 */
import type { ContentStore, PutOptions } from "../../../src/distributed/workspace/content.js";

export class MemStore implements ContentStore {
  readonly data = new Map<string, unknown>();
  readonly immutable = new Set<string>();
  writes = 0;
  readonly hooks = new Set<(key: string, value: unknown) => void>();

  async get(key: string): Promise<unknown> {
    return this.data.get(key);
  }
  async has(key: string): Promise<boolean> {
    return this.data.has(key);
  }
  async put(key: string, value: unknown, opts?: PutOptions): Promise<void> {
    this.writes++;
    this.data.set(key, value);
    if (opts?.immutable === true) this.immutable.add(key);
    for (const h of this.hooks) h(key, value);
  }
  async putMany(entries: ReadonlyArray<readonly [string, unknown, PutOptions?]>): Promise<void> {
    for (const [k, v, o] of entries) await this.put(k, v, o);
  }
  /** Content nodes held (immutable keys). */
  get contentNodes(): number {
    return this.immutable.size;
  }
}
