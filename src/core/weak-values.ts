/**
 * A map whose values are held weakly: an entry whose value was collected reads as absent, and such
 * entries are swept out as the map grows (each sweep when the map holds twice the live entries the
 * last one left, so sweeping costs O(1) per entry added). Without the sweep, an entry per value ever
 * stored would stay: a lookup only drops the entry it finds dead. Internal.
 * @module
 */

/** Entries below which the map never sweeps. */
const SWEEP_MIN = 1024;

/** Map from key to a weakly held object. Internal. */
export class WeakValueMap<K, V extends object> {
  private readonly map = new Map<K, WeakRef<V>>();
  private sweepAt = SWEEP_MIN;

  /** The live value under `key` (an entry found dead is dropped). */
  get(key: K): V | undefined {
    const ref = this.map.get(key);
    if (ref === undefined) return undefined;
    const live = ref.deref();
    if (live === undefined) this.map.delete(key);
    return live;
  }

  /** Hold `value` weakly under `key`. */
  set(key: K, value: V): void {
    const map = this.map;
    map.set(key, new WeakRef(value));
    if (map.size >= this.sweepAt) {
      for (const [k, ref] of map) if (ref.deref() === undefined) map.delete(k);
      this.sweepAt = Math.max(SWEEP_MIN, 2 * map.size);
    }
  }

  /** Drop the entry under `key`. */
  delete(key: K): void {
    this.map.delete(key);
  }

  /** The live entries (dead ones met on the way are dropped). */
  *entries(): IterableIterator<[K, V]> {
    for (const [k, ref] of this.map) {
      const v = ref.deref();
      if (v !== undefined) yield [k, v];
      else this.map.delete(k);
    }
  }

  /** Number of entries, dead ones not swept yet included. */
  get size(): number {
    return this.map.size;
  }
}
