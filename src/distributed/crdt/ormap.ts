/**
 * OR-Map with add-wins keys (replikativ's OR-Map): every `set` writes a fresh dot carrying the
 * value and drops the dots of that key it has observed; concurrent sets keep both values, so
 * `get` returns every concurrent value. Merge rule: the dot-store join (a dot survives unless
 * the other side saw it and dropped it).
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
import { canonicalKey, checkActor, cmpStr, randomActor } from "./util.js";

function byDot<V>(x: Dot<V>, y: Dot<V>): number {
  return cmpStr(x.a, y.a) || x.n - y.n;
}

/**
 * An observed-remove map with add-wins keys and multi-value entries. Each replica writes as one
 * actor (`ORMap.empty(actor)`, a random id by default).
 */
export class ORMap<K, V> implements Convergent<ORMap<K, V>, ORMap<K, V>> {
  private constructor(
    private readonly entries_: Entries<K, V>,
    private readonly context: CausalContext,
    /** What changed locally since the last `clearDelta()`, or `null`. */
    readonly delta: ORMap<K, V> | null,
    /** The actor this replica's writes are stamped with (not replicated state). */
    readonly actor: string,
    /** For a delta made by operations: the keys it touches (canonical → key); else `null`. */
    private readonly touched: ReadonlyMap<string, K> | null = null,
  ) {}

  /** The empty map, writing as `actor` (a fresh random id when omitted). */
  static empty<K, V>(actor?: string): ORMap<K, V> {
    return new ORMap<K, V>(
      PMap.empty(),
      CausalContext.EMPTY,
      null,
      actor === undefined ? randomActor() : checkActor(actor),
    );
  }

  /** The same value writing as `actor`. */
  withActor(actor: string): ORMap<K, V> {
    return new ORMap(this.entries_, this.context, this.delta, checkActor(actor), this.touched);
  }

  /** Sets `k` to `v`, replacing the values of `k` observed here (concurrent sets elsewhere stay). */
  set(k: K, v: V): ORMap<K, V> {
    const ck = canonicalKey(k);
    const n = this.context.max(this.actor) + 1;
    const dot: Dot<V> = { a: this.actor, n, v };
    const entry: Entry<K, V> = { key: k, dots: new Map([[dotId(this.actor, n), dot]]) };
    const entries = this.entries_.set(ck, entry);
    const old = this.entries_.get(ck);
    const piece = new ORMap<K, V>(
      PMap.from([[ck, entry]]),
      CausalContext.of(old === undefined ? [dot] : [dot, ...old.dots.values()]),
      null,
      this.actor,
      new Map([[ck, k]]),
    );
    return new ORMap(entries, this.context.with(this.actor, n), this.pending(piece), this.actor);
  }

  /** Removes `k` (the values observed here); `this` when `k` is absent. */
  delete(k: K): ORMap<K, V> {
    const ck = canonicalKey(k);
    const old = this.entries_.get(ck);
    if (old === undefined) return this;
    const entries = this.entries_.delete(ck);
    const piece = new ORMap<K, V>(
      PMap.empty(),
      CausalContext.of(old.dots.values()),
      null,
      this.actor,
      new Map([[ck, k]]),
    );
    return new ORMap(entries, this.context, this.pending(piece), this.actor);
  }

  private pending(piece: ORMap<K, V>): ORMap<K, V> {
    return this.delta === null ? piece : this.delta.join(piece);
  }

  /** Every concurrent value of `k` (distinct by value, in a replica-independent order); `[]` if absent. */
  get(k: K): V[] {
    const e = this.entries_.get(canonicalKey(k));
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
    return this.entries_.has(canonicalKey(k));
  }

  /** The keys. */
  keys(): K[] {
    return [...this.entries_.values()].map((e) => e.key);
  }

  /** `[key, every concurrent value]` pairs. */
  entries(): [K, V[]][] {
    return [...this.entries_.values()].map((e) => [e.key, values(e)]);
  }

  /** The number of keys. */
  get size(): number {
    return this.entries_.size;
  }

  /** The join; `this` when `other` adds nothing. */
  join(other: ORMap<K, V>): ORMap<K, V> {
    const r = joinDots(this.entries_, this.context, other.entries_, other.context, other.touched);
    if (r === null) return this;
    const touched =
      this.touched !== null && other.touched !== null ? new Map([...this.touched, ...other.touched]) : null;
    return new ORMap(r.entries, r.context, null, this.actor, touched);
  }

  /** Integrates a delta (a delta is a small OR-Map); `this` when it adds nothing. */
  applyDelta(delta: ORMap<K, V>): ORMap<K, V> {
    return this.join(delta);
  }

  /** This map without a pending delta. */
  clearDelta(): ORMap<K, V> {
    return this.delta === null
      ? this
      : new ORMap(this.entries_, this.context, null, this.actor, this.touched);
  }

  /** Same keys with the same dots (hence values) and the same causal context. */
  equals(other: ORMap<K, V>): boolean {
    return (
      other === this || (entriesEqual(this.entries_, other.entries_) && this.context.equals(other.context))
    );
  }

  /** A canonical string form. */
  canonical(): string {
    const es = [...this.entries_]
      .map(([k, e]) => `${JSON.stringify(k)}=${[...e.dots.keys()].sort().map((x) => JSON.stringify(x))}`)
      .sort();
    return `${es.join(";")}|${this.context.canonical()}`;
  }

  /** @internal */
  static encodeData(s: ORMap<unknown, unknown>): unknown {
    const t = new ActorTable();
    const entries = [...s.entries_.values()].map((e) => {
      const row: unknown[] = [e.key];
      for (const d of e.dots.values()) row.push(t.of(d.a), d.n, d.v);
      return row;
    });
    const inEntry = (a: string, n: number): boolean => {
      for (const e of s.entries_.values()) if (e.dots.has(dotId(a, n))) return true;
      return false;
    };
    // a delta's context is mostly its own new dots: the decoder takes those from the entries
    const context = s.context.encode(t.of, s.touched === null ? undefined : inEntry);
    const data: unknown[] = [t.list, context, entries];
    // touched keys beyond the entries' own (those of removes)
    if (s.touched !== null) data.push([...s.touched].filter(([k]) => !s.entries_.has(k)).map(([, k]) => k));
    return data;
  }

  /** @internal */
  static decodeData(data: unknown): ORMap<unknown, unknown> {
    decodeCheck(Array.isArray(data) && (data.length === 3 || data.length === 4), "ORMap");
    const [a, c, es, t] = data as unknown[];
    const actors = decodeActors(a, "ORMap");
    const listed = CausalContext.decode(c, actors, "ORMap");
    decodeCheck(Array.isArray(es), "ORMap entries");
    const entries = new Map<string, Entry<unknown, unknown>>();
    for (const row of es as unknown[]) {
      decodeCheck(Array.isArray(row) && row.length >= 4 && row.length % 3 === 1, "ORMap entry");
      const r = row as unknown[];
      const dots = new Map<string, Dot<unknown>>();
      for (let i = 1; i < r.length; i += 3) {
        const actor = actors[r[i] as number];
        const n = r[i + 1];
        decodeCheck(typeof actor === "string" && isCounter(n), "ORMap dot");
        dots.set(dotId(actor, n), { a: actor, n, v: r[i + 2] });
      }
      const k = canonicalKey(r[0]);
      decodeCheck(!entries.has(k), "ORMap duplicate key");
      entries.set(k, { key: r[0], dots });
    }
    const context = listed.union(
      CausalContext.of([...entries.values()].flatMap((e) => [...e.dots.values()])),
    );
    let touched: Map<string, unknown> | null = null;
    if (t !== undefined) {
      decodeCheck(Array.isArray(t), "ORMap touched keys");
      touched = new Map((t as unknown[]).map((k) => [canonicalKey(k), k]));
      for (const [k, e] of entries) touched.set(k, e.key);
    }
    return new ORMap(PMap.from(entries), context, null, randomActor(), touched);
  }
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
