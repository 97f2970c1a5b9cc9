/**
 * OR-Set (add-wins observed-remove set): the keys of an OR-Map whose values are all `true`, on
 * the same dot store (see `dots.ts`). Merge rule: an element is in the join if one of its
 * add-dots survives, and a dot survives unless the other side has seen it and removed it — so a
 * concurrent add beats a remove.
 * @module
 */
import type { Convergent } from "./convergent.js";
import { type DotLayout, DotStore } from "./dots.js";
import { CRDT_TAGS, registerCrdtCodec } from "./tags.js";
import { checkActor, randomActor } from "./util.js";

/** On the wire an element's dots are `actor, n` pairs: the value is always `true`. */
const LAYOUT: DotLayout = { name: "ORSet", key: "element", values: false };

/**
 * An add-wins observed-remove set. Each replica writes as one actor (`ORSet.empty(actor)`, a
 * random id by default): do not write on two copies of one value with the same actor.
 */
export class ORSet<T> implements Convergent<ORSet<T>, ORSet<T>> {
  private constructor(
    private readonly store: DotStore<T, true>,
    /** What changed locally since the last `clearDelta()`, or `null`. */
    readonly delta: ORSet<T> | null,
    /** The actor this replica's writes are stamped with (not replicated state). */
    readonly actor: string,
  ) {}

  /** The empty set, writing as `actor` (a fresh random id when omitted). */
  static empty<T>(actor?: string): ORSet<T> {
    return new ORSet<T>(DotStore.empty(), null, actor === undefined ? randomActor() : checkActor(actor));
  }

  /** The same value writing as `actor`. */
  withActor(actor: string): ORSet<T> {
    return new ORSet(this.store, this.delta, checkActor(actor));
  }

  /** This set plus `v`, with a fresh dot that replaces the dots of `v` it has observed. */
  add(v: T): ORSet<T> {
    return this.after(this.store.write(v, true, this.actor));
  }

  /** This set without `v` (exactly the dots observed here); `this` when `v` is absent. */
  remove(v: T): ORSet<T> {
    const w = this.store.drop(v);
    return w === null ? this : this.after(w);
  }

  private after(w: { state: DotStore<T, true>; piece: DotStore<T, true> }): ORSet<T> {
    const d = this.delta;
    const delta = d === null ? new ORSet(w.piece, null, this.actor) : d.with(d.store.join(w.piece));
    return new ORSet(w.state, delta, this.actor);
  }

  private with(store: DotStore<T, true>): ORSet<T> {
    return store === this.store ? this : new ORSet(store, null, this.actor);
  }

  /** Whether `v` is in the set. */
  has(v: T): boolean {
    return this.store.get(v) !== undefined;
  }

  /** The elements. */
  values(): T[] {
    return this.store.keys();
  }

  /** The number of elements. */
  get size(): number {
    return this.store.entries.size;
  }

  /** The join; `this` when `other` adds nothing. */
  join(other: ORSet<T>): ORSet<T> {
    return this.with(this.store.join(other.store));
  }

  /** Integrates a delta (a delta is a small OR-Set); `this` when it adds nothing. */
  applyDelta(delta: ORSet<T>): ORSet<T> {
    return this.join(delta);
  }

  /** This set without a pending delta. */
  clearDelta(): ORSet<T> {
    return this.delta === null ? this : new ORSet(this.store, null, this.actor);
  }

  /** Same elements with the same dots and the same causal context. */
  equals(other: ORSet<T>): boolean {
    return other === this || this.store.equals(other.store);
  }

  /** A canonical string form. */
  canonical(): string {
    return this.store.canonical();
  }

  /** @internal */
  static encodeData(s: ORSet<unknown>): unknown {
    return s.store.encode(LAYOUT);
  }

  /** @internal */
  static decodeData(data: unknown): ORSet<unknown> {
    return new ORSet(DotStore.decode(data, LAYOUT) as DotStore<unknown, true>, null, randomActor());
  }
}

registerCrdtCodec<ORSet<unknown>>(CRDT_TAGS.ORSet, ORSet, ORSet.encodeData, ORSet.decodeData);
