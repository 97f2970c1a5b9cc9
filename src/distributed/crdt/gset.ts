/**
 * G-Set: a grow-only set. Merge rule: union.
 * @module
 */
import type { Convergent } from "./convergent.js";
import { decodeCheck } from "./errors.js";
import { CRDT_TAGS, registerCrdtCodec } from "./tags.js";
import { canonicalKey } from "./util.js";

/** A grow-only set; `join` is union and the delta of `add` is the set of added elements. */
export class GSet<T> implements Convergent<GSet<T>, GSet<T>> {
  private constructor(
    /** canonical key → element */
    private readonly items: ReadonlyMap<string, T>,
    /** What changed locally since the last `clearDelta()`, or `null`. */
    readonly delta: GSet<T> | null,
  ) {}

  private static readonly EMPTY = new GSet<unknown>(new Map(), null);

  /** The empty set. */
  static empty<T>(): GSet<T> {
    return GSet.EMPTY as GSet<T>;
  }

  /** A set of `values` (no pending delta). */
  static of<T>(values: Iterable<T>): GSet<T> {
    const m = new Map<string, T>();
    for (const v of values) m.set(canonicalKey(v), v);
    return new GSet(m, null);
  }

  /** This set plus `v`; `this` when `v` is already in it. */
  add(v: T): GSet<T> {
    const k = canonicalKey(v);
    if (this.items.has(k)) return this;
    const m = new Map(this.items);
    m.set(k, v);
    const d = new Map(this.delta?.items ?? []);
    d.set(k, v);
    return new GSet(m, new GSet(d, null));
  }

  /** Whether `v` is in the set (by value, not identity). */
  has(v: T): boolean {
    return this.items.has(canonicalKey(v));
  }

  /** The elements. */
  values(): T[] {
    return [...this.items.values()];
  }

  /** The number of elements. */
  get size(): number {
    return this.items.size;
  }

  /** Union; `this` when `other` adds nothing. */
  join(other: GSet<T>): GSet<T> {
    let m: Map<string, T> | null = null;
    for (const [k, v] of other.items) {
      if (this.items.has(k)) continue;
      m ??= new Map(this.items);
      m.set(k, v);
    }
    return m === null ? this : new GSet(m, null);
  }

  /** Same as {@link GSet.join} (a delta is a set). */
  applyDelta(delta: GSet<T>): GSet<T> {
    return this.join(delta);
  }

  /** This set without a pending delta. */
  clearDelta(): GSet<T> {
    return this.delta === null ? this : new GSet(this.items, null);
  }

  /** Same elements. */
  equals(other: GSet<T>): boolean {
    if (other === this) return true;
    if (other.items.size !== this.items.size) return false;
    for (const k of this.items.keys()) if (!other.items.has(k)) return false;
    return true;
  }

  /** A canonical string form (equal sets, equal strings). */
  canonical(): string {
    return [...this.items.keys()].sort().join("\u0001");
  }

  /** @internal */
  static encodeData(s: GSet<unknown>): unknown {
    return [...s.items.values()];
  }

  /** @internal */
  static decodeData(data: unknown): GSet<unknown> {
    decodeCheck(Array.isArray(data), "GSet");
    return GSet.of(data as unknown[]);
  }
}

registerCrdtCodec<GSet<unknown>>(CRDT_TAGS.GSet, GSet, GSet.encodeData, GSet.decodeData);
