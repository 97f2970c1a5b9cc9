/**
 * OR-Set (add-wins observed-remove set) as a delta-state dot store. Merge rule: an element is in
 * the join if one of its add-dots survives, and a dot survives unless the other side has seen it
 * and removed it — so a concurrent add beats a remove.
 * @module
 */
import type { Convergent } from "./convergent.js";
import {
  ActorTable,
  CausalContext,
  type Dot,
  decodeActors,
  dotId,
  type Entries,
  type Entry,
  entriesEqual,
  isCounter,
  joinDots,
} from "./dots.js";
import { decodeCheck } from "./errors.js";
import { PMap } from "./pmap.js";
import { CRDT_TAGS, registerCrdtCodec } from "./tags.js";
import { canonicalKey, checkActor, randomActor } from "./util.js";

/**
 * An add-wins observed-remove set. Each replica writes as one actor (`ORSet.empty(actor)`, a
 * random id by default): do not write on two copies of one value with the same actor.
 */
export class ORSet<T> implements Convergent<ORSet<T>, ORSet<T>> {
  private constructor(
    private readonly entries: Entries<T, true>,
    private readonly context: CausalContext,
    /** What changed locally since the last `clearDelta()`, or `null`. */
    readonly delta: ORSet<T> | null,
    /** The actor this replica's writes are stamped with (not replicated state). */
    readonly actor: string,
    /** For a delta made by operations: the keys it touches (canonical → key); else `null`. */
    private readonly touched: ReadonlyMap<string, T> | null = null,
  ) {}

  /** The empty set, writing as `actor` (a fresh random id when omitted). */
  static empty<T>(actor?: string): ORSet<T> {
    return new ORSet<T>(
      PMap.empty(),
      CausalContext.EMPTY,
      null,
      actor === undefined ? randomActor() : checkActor(actor),
    );
  }

  /** The same value writing as `actor`. */
  withActor(actor: string): ORSet<T> {
    return new ORSet(this.entries, this.context, this.delta, checkActor(actor), this.touched);
  }

  /** This set plus `v`, with a fresh dot that replaces the dots of `v` it has observed. */
  add(v: T): ORSet<T> {
    const k = canonicalKey(v);
    const n = this.context.max(this.actor) + 1;
    const dot: Dot<true> = { a: this.actor, n, v: true };
    const entry: Entry<T, true> = { key: v, dots: new Map([[dotId(this.actor, n), dot]]) };
    const entries = this.entries.set(k, entry);
    const old = this.entries.get(k);
    const piece = new ORSet<T>(
      PMap.from([[k, entry]]),
      CausalContext.of([dot, ...(old?.dots.values() ?? [])]),
      null,
      this.actor,
      new Map([[k, v]]),
    );
    return new ORSet(entries, this.context.with(this.actor, n), this.pending(piece), this.actor);
  }

  /** This set without `v` (exactly the dots observed here); `this` when `v` is absent. */
  remove(v: T): ORSet<T> {
    const k = canonicalKey(v);
    const old = this.entries.get(k);
    if (old === undefined) return this;
    const entries = this.entries.delete(k);
    const piece = new ORSet<T>(
      PMap.empty(),
      CausalContext.of(old.dots.values()),
      null,
      this.actor,
      new Map([[k, v]]),
    );
    return new ORSet(entries, this.context, this.pending(piece), this.actor);
  }

  private pending(piece: ORSet<T>): ORSet<T> {
    return this.delta === null ? piece : this.delta.join(piece);
  }

  /** Whether `v` is in the set. */
  has(v: T): boolean {
    return this.entries.has(canonicalKey(v));
  }

  /** The elements. */
  values(): T[] {
    return [...this.entries.values()].map((e) => e.key);
  }

  /** The number of elements. */
  get size(): number {
    return this.entries.size;
  }

  /** The join; `this` when `other` adds nothing. */
  join(other: ORSet<T>): ORSet<T> {
    const r = joinDots(this.entries, this.context, other.entries, other.context, other.touched);
    if (r === null) return this;
    const touched =
      this.touched !== null && other.touched !== null ? new Map([...this.touched, ...other.touched]) : null;
    return new ORSet(r.entries, r.context, null, this.actor, touched);
  }

  /** Integrates a delta (a delta is a small OR-Set); `this` when it adds nothing. */
  applyDelta(delta: ORSet<T>): ORSet<T> {
    return this.join(delta);
  }

  /** This set without a pending delta. */
  clearDelta(): ORSet<T> {
    return this.delta === null ? this : new ORSet(this.entries, this.context, null, this.actor, this.touched);
  }

  /** Same elements with the same dots and the same causal context. */
  equals(other: ORSet<T>): boolean {
    return (
      other === this || (entriesEqual(this.entries, other.entries) && this.context.equals(other.context))
    );
  }

  /** A canonical string form. */
  canonical(): string {
    const es = [...this.entries]
      .map(([k, e]) => `${JSON.stringify(k)}=${[...e.dots.keys()].sort().map((x) => JSON.stringify(x))}`)
      .sort();
    return `${es.join(";")}|${this.context.canonical()}`;
  }

  /** @internal */
  static encodeData(s: ORSet<unknown>): unknown {
    const t = new ActorTable();
    const entries = [...s.entries.values()].map((e) => {
      const row: unknown[] = [e.key];
      for (const d of e.dots.values()) row.push(t.of(d.a), d.n);
      return row;
    });
    const inEntry = (a: string, n: number): boolean => {
      for (const e of s.entries.values()) if (e.dots.has(dotId(a, n))) return true;
      return false;
    };
    // a delta's context is mostly its own new dots: the decoder takes those from the entries
    const context = s.context.encode(t.of, s.touched === null ? undefined : inEntry);
    const data: unknown[] = [t.list, context, entries];
    // touched keys beyond the entries' own (those of removes)
    if (s.touched !== null) data.push([...s.touched].filter(([k]) => !s.entries.has(k)).map(([, k]) => k));
    return data;
  }

  /** @internal */
  static decodeData(data: unknown): ORSet<unknown> {
    decodeCheck(Array.isArray(data) && (data.length === 3 || data.length === 4), "ORSet");
    const [a, c, es, t] = data as unknown[];
    const actors = decodeActors(a, "ORSet");
    const listed = CausalContext.decode(c, actors, "ORSet");
    decodeCheck(Array.isArray(es), "ORSet entries");
    const entries = new Map<string, Entry<unknown, true>>();
    for (const row of es as unknown[]) {
      decodeCheck(Array.isArray(row) && row.length >= 3 && row.length % 2 === 1, "ORSet entry");
      const r = row as unknown[];
      const dots = new Map<string, Dot<true>>();
      for (let i = 1; i < r.length; i += 2) {
        const actor = actors[r[i] as number];
        decodeCheck(typeof actor === "string" && isCounter(r[i + 1]), "ORSet dot");
        dots.set(dotId(actor, r[i + 1] as number), { a: actor, n: r[i + 1] as number, v: true });
      }
      const k = canonicalKey(r[0]);
      decodeCheck(!entries.has(k), "ORSet duplicate element");
      entries.set(k, { key: r[0], dots });
    }
    const context = listed.union(
      CausalContext.of([...entries.values()].flatMap((e) => [...e.dots.values()])),
    );
    let touched: Map<string, unknown> | null = null;
    if (t !== undefined) {
      decodeCheck(Array.isArray(t), "ORSet touched keys");
      touched = new Map((t as unknown[]).map((k) => [canonicalKey(k), k]));
      for (const [k, e] of entries) touched.set(k, e.key);
    }
    return new ORSet(PMap.from(entries), context, null, randomActor(), touched);
  }
}

registerCrdtCodec<ORSet<unknown>>(CRDT_TAGS.ORSet, ORSet, ORSet.encodeData, ORSet.decodeData);
