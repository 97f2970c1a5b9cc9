/**
 * A small persistent string-keyed map: keys hash into a fixed number of buckets, and an update
 * copies only the buckets it touches (plus the bucket array). An immutable datatype that
 * copied a whole native `Map` on every operation would pay O(size) per write.
 * @module
 */

const BITS = 6;
const WIDTH = 1 << BITS;

function bucketOf(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h >>> 0) & (WIDTH - 1);
}

/** An immutable map from strings; `set`/`delete`/`update` return a new map sharing the rest. */
export class PMap<V> implements ReadonlyMap<string, V> {
  private static readonly EMPTY = new PMap<never>(new Array(WIDTH).fill(undefined), 0);

  private constructor(
    private readonly buckets: readonly (ReadonlyMap<string, V> | undefined)[],
    /** The number of entries. */
    readonly size: number,
  ) {}

  /** The empty map. */
  static empty<V>(): PMap<V> {
    return PMap.EMPTY as PMap<V>;
  }

  /** A map of `entries`. */
  static from<V>(entries: Iterable<readonly [string, V]>): PMap<V> {
    const changes = new Map<string, V | null>();
    for (const [k, v] of entries) changes.set(k, v);
    return PMap.empty<V>().update(changes);
  }

  /** The value of `key`. */
  get(key: string): V | undefined {
    return this.buckets[bucketOf(key)]?.get(key);
  }

  /** Whether `key` is present. */
  has(key: string): boolean {
    return this.buckets[bucketOf(key)]?.has(key) ?? false;
  }

  /** This map with `key` set to `value`. */
  set(key: string, value: V): PMap<V> {
    return this.update(new Map([[key, value]]));
  }

  /** This map without `key` (`this` when absent). */
  delete(key: string): PMap<V> {
    return this.has(key) ? this.update(new Map([[key, null]])) : this;
  }

  /** Applies sets (`value`) and deletes (`null`) at once, copying each touched bucket once. */
  update(changes: ReadonlyMap<string, V | null>): PMap<V> {
    if (changes.size === 0) return this;
    const buckets = [...this.buckets];
    const copied = new Set<number>();
    let size = this.size;
    for (const [k, v] of changes) {
      const i = bucketOf(k);
      let b = buckets[i] as Map<string, V> | undefined;
      if (!copied.has(i)) {
        b = new Map(b ?? []);
        buckets[i] = b;
        copied.add(i);
      }
      const m = b as Map<string, V>;
      const had = m.has(k);
      if (v === null) {
        if (had) {
          m.delete(k);
          size--;
        }
      } else {
        m.set(k, v);
        if (!had) size++;
      }
    }
    return new PMap(buckets, size);
  }

  /** `[key, value]` pairs. */
  *entries(): MapIterator<[string, V]> {
    for (const b of this.buckets) if (b !== undefined) yield* b;
  }

  /** The keys. */
  *keys(): MapIterator<string> {
    for (const b of this.buckets) if (b !== undefined) yield* b.keys();
  }

  /** The values. */
  *values(): MapIterator<V> {
    for (const b of this.buckets) if (b !== undefined) yield* b.values();
  }

  /** Same as `entries()`. */
  [Symbol.iterator](): MapIterator<[string, V]> {
    return this.entries();
  }

  /** Calls `fn` for each entry. */
  forEach(fn: (value: V, key: string, map: ReadonlyMap<string, V>) => void): void {
    for (const [k, v] of this.entries()) fn(v, k, this);
  }
}
