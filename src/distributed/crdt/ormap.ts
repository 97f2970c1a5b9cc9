/**
 * OR-Map with add-wins keys (replikativ's OR-Map): every `set` writes a fresh dot carrying the
 * value and drops the dots of that key it has observed; concurrent sets keep both values, so
 * `get` returns every concurrent value. Merge rule: the dot-store join of `dots.ts` (a dot
 * survives unless the other side saw it and dropped it).
 * @module
 */
import type { Convergent } from "./convergent.js";
import { type Dot, type DotLayout, DotStore, type Entry } from "./dots.js";
import { CRDT_TAGS, registerCrdtCodec } from "./tags.js";
import { canonicalKey, checkActor, cmpStr, randomActor } from "./util.js";

/** On the wire a key's dots are `actor, n, value` triples. */
const LAYOUT: DotLayout = { name: "ORMap", key: "key", values: true };

/**
 * An observed-remove map with add-wins keys and multi-value entries. Each replica writes as one
 * actor (`ORMap.empty(actor)`, a random id by default).
 */
export class ORMap<K, V> implements Convergent<ORMap<K, V>, ORMap<K, V>> {
  private constructor(
    private readonly store: DotStore<K, V>,
    /** What changed locally since the last `clearDelta()`, or `null`. */
    readonly delta: ORMap<K, V> | null,
    /** The actor this replica's writes are stamped with (not replicated state). */
    readonly actor: string,
  ) {}

  /** The empty map, writing as `actor` (a fresh random id when omitted). */
  static empty<K, V>(actor?: string): ORMap<K, V> {
    return new ORMap<K, V>(DotStore.empty(), null, actor === undefined ? randomActor() : checkActor(actor));
  }

  /** The same value writing as `actor`. */
  withActor(actor: string): ORMap<K, V> {
    return new ORMap(this.store, this.delta, checkActor(actor));
  }

  /** Sets `k` to `v`, replacing the values of `k` observed here (concurrent sets elsewhere stay). */
  set(k: K, v: V): ORMap<K, V> {
    return this.after(this.store.write(k, v, this.actor));
  }

  /** Removes `k` (the values observed here); `this` when `k` is absent. */
  delete(k: K): ORMap<K, V> {
    const w = this.store.drop(k);
    return w === null ? this : this.after(w);
  }

  private after(w: { state: DotStore<K, V>; piece: DotStore<K, V> }): ORMap<K, V> {
    const d = this.delta;
    const delta = d === null ? new ORMap(w.piece, null, this.actor) : d.with(d.store.join(w.piece));
    return new ORMap(w.state, delta, this.actor);
  }

  private with(store: DotStore<K, V>): ORMap<K, V> {
    return store === this.store ? this : new ORMap(store, null, this.actor);
  }

  /** Every concurrent value of `k` (distinct by value, in a replica-independent order); `[]` if absent. */
  get(k: K): V[] {
    const e = this.store.get(k);
    return e === undefined ? [] : values(e);
  }

  /**
   * The join of every concurrent value of `k` when the values are themselves convergent (the
   * Merging-OR-Map reading: concurrent sets of a key merge instead of coexisting); `undefined`
   * if absent.
   */
  getJoined<W extends Convergent<W, unknown>>(this: ORMap<K, W>, k: K): W | undefined {
    const vs = this.get(k);
    let out: W | undefined;
    for (const v of vs) out = out === undefined ? v : out.join(v);
    return out;
  }

  /** Whether `k` has a value. */
  has(k: K): boolean {
    return this.store.get(k) !== undefined;
  }

  /** The keys. */
  keys(): K[] {
    return this.store.keys();
  }

  /** `[key, every concurrent value]` pairs. */
  entries(): [K, V[]][] {
    return [...this.store.entries.values()].map((e) => [e.key, values(e)]);
  }

  /** The number of keys. */
  get size(): number {
    return this.store.entries.size;
  }

  /** The join; `this` when `other` adds nothing. */
  join(other: ORMap<K, V>): ORMap<K, V> {
    return this.with(this.store.join(other.store));
  }

  /** Integrates a delta (a delta is a small OR-Map); `this` when it adds nothing. */
  applyDelta(delta: ORMap<K, V>): ORMap<K, V> {
    return this.join(delta);
  }

  /** This map without a pending delta. */
  clearDelta(): ORMap<K, V> {
    return this.delta === null ? this : new ORMap(this.store, null, this.actor);
  }

  /** Same keys with the same dots (hence values) and the same causal context. */
  equals(other: ORMap<K, V>): boolean {
    return other === this || this.store.equals(other.store);
  }

  /** A canonical string form. */
  canonical(): string {
    return this.store.canonical();
  }

  /** @internal */
  static encodeData(s: ORMap<unknown, unknown>): unknown {
    return s.store.encode(LAYOUT);
  }

  /** @internal */
  static decodeData(data: unknown): ORMap<unknown, unknown> {
    return new ORMap(DotStore.decode(data, LAYOUT), null, randomActor());
  }
}

function byDot<V>(x: Dot<V>, y: Dot<V>): number {
  return cmpStr(x.a, y.a) || x.n - y.n;
}

function values<K, V>(e: Entry<K, V>): V[] {
  if (e.dots.size === 1) for (const d of e.dots.values()) return [d.v];
  const seen = new Set<string>();
  const out: V[] = [];
  for (const d of [...e.dots.values()].sort(byDot)) {
    const k = canonicalKey(d.v);
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(d.v);
  }
  return out;
}

registerCrdtCodec<ORMap<unknown, unknown>>(CRDT_TAGS.ORMap, ORMap, ORMap.encodeData, ORMap.decodeData);
