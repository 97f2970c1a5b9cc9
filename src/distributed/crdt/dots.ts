/**
 * The causal machinery behind the observed-remove datatypes: dots (an actor's n-th event), a
 * compact causal context (a version vector plus the dots beyond it), and the dot-store join of
 * delta-state CRDTs: a dot survives if both sides have it, or one side has it and the other has
 * not seen it. A remove is therefore exact: it drops precisely the dots its replica observed.
 * {@link DotStore} is that state with its operations, deltas and codec: the one implementation
 * ORMap and ORSet (an ORMap whose values are all `true`) are thin faces of.
 * @module
 */
import { decodeCheck } from "./errors.js";
import { PMap } from "./pmap.js";
import { canonicalKey } from "./util.js";

/** One write: the `n`-th event of actor `a`, carrying `v`. */
export interface Dot<V> {
  readonly a: string;
  readonly n: number;
  readonly v: V;
}

/** The live dots of one key. */
export interface Entry<K, V> {
  readonly key: K;
  /** dot id (see {@link dotId}) → dot */
  readonly dots: ReadonlyMap<string, Dot<V>>;
}

/** The map key of a dot (injective: `n` has no NUL, so the last NUL splits). */
export function dotId(a: string, n: number): string {
  return `${a}\u0000${n}`;
}

const EMPTY_CLOUD: ReadonlyMap<string, ReadonlySet<number>> = new Map();

/** Every dot a replica has seen: a version vector plus the dots beyond it (compacted). */
export class CausalContext {
  static readonly EMPTY: CausalContext = new CausalContext(new Map(), EMPTY_CLOUD);

  private constructor(
    /** actor → every counter `1..n` seen */
    readonly vv: ReadonlyMap<string, number>,
    /** actor → counters seen beyond `vv` (never contiguous with it) */
    readonly cloud: ReadonlyMap<string, ReadonlySet<number>>,
  ) {}

  /** A context holding exactly `dots`. */
  static of(dots: Iterable<{ a: string; n: number }>): CausalContext {
    const cloud = new Map<string, Set<number>>();
    for (const d of dots) {
      let s = cloud.get(d.a);
      if (s === undefined) cloud.set(d.a, (s = new Set()));
      s.add(d.n);
    }
    return compact(new Map(), cloud);
  }

  /** Whether dot `(a, n)` was seen. */
  has(a: string, n: number): boolean {
    return (this.vv.get(a) ?? 0) >= n || (this.cloud.get(a)?.has(n) ?? false);
  }

  /** The highest counter seen for `a` (0 if none). */
  max(a: string): number {
    let m = this.vv.get(a) ?? 0;
    const c = this.cloud.get(a);
    if (c !== undefined) for (const n of c) if (n > m) m = n;
    return m;
  }

  /** Whether every dot of `o` is in this context. */
  covers(o: CausalContext): boolean {
    for (const [a, n] of o.vv) if ((this.vv.get(a) ?? 0) < n && !this.coversRange(a, n)) return false;
    for (const [a, s] of o.cloud) for (const n of s) if (!this.has(a, n)) return false;
    return true;
  }

  private coversRange(a: string, upTo: number): boolean {
    for (let n = (this.vv.get(a) ?? 0) + 1; n <= upTo; n++) if (!this.has(a, n)) return false;
    return true;
  }

  /** The union; `this` when `o` adds nothing. */
  union(o: CausalContext): CausalContext {
    if (o === this || this.covers(o)) return this;
    const vv = new Map(this.vv);
    for (const [a, n] of o.vv) if ((vv.get(a) ?? 0) < n) vv.set(a, n);
    const cloud = new Map<string, Set<number>>();
    for (const src of [this.cloud, o.cloud])
      for (const [a, s] of src) {
        let t = cloud.get(a);
        if (t === undefined) cloud.set(a, (t = new Set()));
        for (const n of s) t.add(n);
      }
    return compact(vv, cloud);
  }

  /** This context plus one dot. */
  with(a: string, n: number): CausalContext {
    if (this.has(a, n)) return this;
    const vv = new Map(this.vv);
    if ((vv.get(a) ?? 0) === n - 1 && !this.cloud.has(a)) {
      vv.set(a, n);
      return new CausalContext(vv, this.cloud);
    }
    const cloud = new Map<string, Set<number>>();
    for (const [x, s] of this.cloud) cloud.set(x, new Set(s));
    let t = cloud.get(a);
    if (t === undefined) cloud.set(a, (t = new Set()));
    t.add(n);
    return compact(vv, cloud);
  }

  /** Same set of dots (the representation is canonical, so this is structural). */
  equals(o: CausalContext): boolean {
    if (o === this) return true;
    if (o.vv.size !== this.vv.size || o.cloud.size !== this.cloud.size) return false;
    for (const [a, n] of this.vv) if (o.vv.get(a) !== n) return false;
    for (const [a, s] of this.cloud) {
      const t = o.cloud.get(a);
      if (t === undefined || t.size !== s.size) return false;
      for (const n of s) if (!t.has(n)) return false;
    }
    return true;
  }

  /** A canonical string form. */
  canonical(): string {
    const actors = [...new Set([...this.vv.keys(), ...this.cloud.keys()])].sort();
    return actors
      .map((a) => {
        const c = [...(this.cloud.get(a) ?? [])].sort((x, y) => x - y);
        return `${JSON.stringify(a)}:${this.vv.get(a) ?? 0}+${c.join(".")}`;
      })
      .join(",");
  }

  /**
   * Plain data: `[[actorIndex, vvMax, ...cloudCounters], ...]` over an actor table, leaving out
   * the cloud dots `implied` says the decoder gets elsewhere (the dots of the entries).
   */
  encode(actorIndex: (a: string) => number, implied?: (a: string, n: number) => boolean): number[][] {
    const out: number[][] = [];
    const actors = new Set([...this.vv.keys(), ...this.cloud.keys()]);
    for (const a of actors) {
      const cloud = [...(this.cloud.get(a) ?? [])].filter((n) => implied === undefined || !implied(a, n));
      const max = this.vv.get(a) ?? 0;
      if (max === 0 && cloud.length === 0) continue;
      out.push([actorIndex(a), max, ...cloud]);
    }
    return out;
  }

  /** Inverse of {@link CausalContext.encode}; throws `ERR_DESERIALIZE` on malformed data. */
  static decode(data: unknown, actors: readonly string[], what: string): CausalContext {
    decodeCheck(Array.isArray(data), `${what} context`);
    const vv = new Map<string, number>();
    const cloud = new Map<string, Set<number>>();
    for (const row of data as unknown[]) {
      decodeCheck(Array.isArray(row) && row.length >= 2, `${what} context`);
      const r = row as unknown[];
      const a = actors[r[0] as number];
      decodeCheck(typeof a === "string", `${what} context actor`);
      decodeCheck(!vv.has(a) && !cloud.has(a), `${what} context actor`);
      for (let i = 1; i < r.length; i++) decodeCheck(isCounter(r[i], i === 1), `${what} context counter`);
      if ((r[1] as number) > 0) vv.set(a, r[1] as number);
      if (r.length > 2) cloud.set(a, new Set(r.slice(2) as number[]));
    }
    return compact(vv, cloud);
  }
}

/** A non-negative (or, unless `zero`, positive) safe integer. */
export function isCounter(v: unknown, zero = false): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && (zero ? v >= 0 : v > 0);
}

function compact(vv: Map<string, number>, cloud: Map<string, Set<number>>): CausalContext {
  const out = new Map<string, ReadonlySet<number>>();
  for (const [a, s] of cloud) {
    let m = vv.get(a) ?? 0;
    while (s.has(m + 1)) m++;
    if (m > 0) vv.set(a, m);
    const rest = new Set<number>();
    for (const n of s) if (n > m) rest.add(n);
    if (rest.size > 0) out.set(a, rest);
  }
  return new (
    CausalContext as unknown as new (
      vv: ReadonlyMap<string, number>,
      cloud: ReadonlyMap<string, ReadonlySet<number>>,
    ) => CausalContext
  )(vv, out.size === 0 ? EMPTY_CLOUD : out);
}

/** Entries keyed by canonical key. */
type Entries<K, V> = PMap<Entry<K, V>>;

/** How a datatype lays its dots out on the wire. */
export interface DotLayout {
  /** The datatype's name, for decode errors. */
  readonly name: string;
  /** What the datatype calls a key, for decode errors. */
  readonly key: string;
  /** Whether each dot carries a value (`[actor, n, v]`) or stands for `true` (`[actor, n]`). */
  readonly values: boolean;
}

/**
 * The replicated state of an observed-remove datatype: the live dots per key and the causal
 * context. A delta made by operations also knows the keys it touches, so applying it does not
 * scan every key. Immutable; ORMap and ORSet add the actor and the pending delta around it.
 */
export class DotStore<K, V> {
  private static readonly EMPTY = new DotStore<never, never>(PMap.empty(), CausalContext.EMPTY, null);

  private constructor(
    readonly entries: Entries<K, V>,
    readonly context: CausalContext,
    /** For a delta made by operations: the keys it touches (canonical → key); else `null`. */
    private readonly touched: ReadonlyMap<string, K> | null,
  ) {}

  /** The empty store. */
  static empty<K, V>(): DotStore<K, V> {
    return DotStore.EMPTY;
  }

  /** The live dots of `k`. */
  get(k: K): Entry<K, V> | undefined {
    return this.entries.get(canonicalKey(k));
  }

  /** The keys with a live dot. */
  keys(): K[] {
    return [...this.entries.values()].map((e) => e.key);
  }

  /**
   * `k` holds one fresh dot of `actor` carrying `v`, replacing the dots of `k` seen here. The
   * piece is the delta: that dot, and a context of it and the dots it replaces.
   */
  write(k: K, v: V, actor: string): { state: DotStore<K, V>; piece: DotStore<K, V> } {
    const ck = canonicalKey(k);
    const n = this.context.max(actor) + 1;
    const dot: Dot<V> = { a: actor, n, v };
    const entry: Entry<K, V> = { key: k, dots: new Map([[dotId(actor, n), dot]]) };
    const old = this.entries.get(ck);
    return {
      state: new DotStore(this.entries.set(ck, entry), this.context.with(actor, n), null),
      piece: new DotStore(
        PMap.from([[ck, entry]]),
        CausalContext.of(old === undefined ? [dot] : [dot, ...old.dots.values()]),
        new Map([[ck, k]]),
      ),
    };
  }

  /** `k` without the dots seen here (the piece: no entries, a context of those dots); `null` if absent. */
  drop(k: K): { state: DotStore<K, V>; piece: DotStore<K, V> } | null {
    const ck = canonicalKey(k);
    const old = this.entries.get(ck);
    if (old === undefined) return null;
    return {
      state: new DotStore(this.entries.delete(ck), this.context, null),
      piece: new DotStore(PMap.empty(), CausalContext.of(old.dots.values()), new Map([[ck, k]])),
    };
  }

  /**
   * The dot-store join: a dot survives if both sides have it, or one side has it and the other
   * has not seen it. `this` when `o` adds nothing (the no-op law). When `o` is a delta made by
   * operations, only its touched keys can lose dots (a dot belongs to one key everywhere).
   */
  join(o: DotStore<K, V>): DotStore<K, V> {
    const e1 = this.entries;
    const changes = new Map<string, Entry<K, V> | null>();
    // dots of e1 the other side has seen but no longer holds are removed
    const c2 = o.context;
    const scan: Iterable<string> | null =
      c2.vv.size === 0 && c2.cloud.size === 0 ? null : o.touched !== null ? o.touched.keys() : e1.keys();
    if (scan !== null)
      for (const k of scan) {
        const x = e1.get(k);
        if (x === undefined) continue;
        const y = o.entries.get(k);
        let kept: Map<string, Dot<V>> | null = null;
        for (const [id, d] of x.dots) {
          if ((y === undefined || !y.dots.has(id)) && c2.has(d.a, d.n)) {
            kept ??= new Map(x.dots);
            kept.delete(id);
          }
        }
        if (kept !== null) changes.set(k, kept.size === 0 ? null : { key: x.key, dots: kept });
      }
    // dots of o this side has not seen are added
    for (const [k, y] of o.entries) {
      const cur = changes.has(k) ? (changes.get(k) ?? undefined) : e1.get(k);
      let next: Map<string, Dot<V>> | null = null;
      for (const [id, d] of y.dots) {
        if (cur?.dots.has(id) || this.context.has(d.a, d.n)) continue;
        next ??= new Map(cur?.dots ?? []);
        next.set(id, d);
      }
      if (next !== null) changes.set(k, { key: cur?.key ?? y.key, dots: next });
    }
    const context = this.context.union(c2);
    if (changes.size === 0 && context === this.context) return this;
    const touched =
      this.touched !== null && o.touched !== null ? new Map([...this.touched, ...o.touched]) : null;
    return new DotStore(e1.update(changes), context, touched);
  }

  /** Same keys with the same dot ids (hence values), and the same causal context. */
  equals(o: DotStore<K, V>): boolean {
    if (o === this) return true;
    const a = this.entries;
    const b = o.entries;
    if (a !== b) {
      if (a.size !== b.size) return false;
      for (const [k, x] of a) {
        const y = b.get(k);
        if (y === undefined || y.dots.size !== x.dots.size) return false;
        for (const id of x.dots.keys()) if (!y.dots.has(id)) return false;
      }
    }
    return this.context.equals(o.context);
  }

  /** A canonical string form. */
  canonical(): string {
    const es = [...this.entries]
      .map(([k, e]) => `${JSON.stringify(k)}=${[...e.dots.keys()].sort().map((x) => JSON.stringify(x))}`)
      .sort();
    return `${es.join(";")}|${this.context.canonical()}`;
  }

  /**
   * Plain data: `[actors, context, entries]`, plus for a delta the touched keys beyond its
   * entries' own (those of removes). An entry row is `[key, ...dots]`, each dot `actorIndex, n`
   * and, when the layout has values, `v`.
   */
  encode(layout: DotLayout): unknown[] {
    const t = new ActorTable();
    const entries = [...this.entries.values()].map((e) => {
      const row: unknown[] = [e.key];
      for (const d of e.dots.values())
        if (layout.values) row.push(t.of(d.a), d.n, d.v);
        else row.push(t.of(d.a), d.n);
      return row;
    });
    const inEntry = (a: string, n: number): boolean => {
      for (const e of this.entries.values()) if (e.dots.has(dotId(a, n))) return true;
      return false;
    };
    // a delta's context is mostly its own new dots: the decoder takes those from the entries
    const context = this.context.encode(t.of, this.touched === null ? undefined : inEntry);
    const data: unknown[] = [t.list, context, entries];
    const touched = this.touched;
    if (touched !== null) data.push([...touched].filter(([k]) => !this.entries.has(k)).map(([, k]) => k));
    return data;
  }

  /**
   * Inverse of {@link DotStore.encode} (a dot without a value carries `true`); throws
   * `ERR_DESERIALIZE` on malformed data.
   */
  static decode(data: unknown, layout: DotLayout): DotStore<unknown, unknown> {
    const { name } = layout;
    decodeCheck(Array.isArray(data) && (data.length === 3 || data.length === 4), name);
    const [a, c, es, t] = data as unknown[];
    const actors = decodeActors(a, name);
    const listed = CausalContext.decode(c, actors, name);
    decodeCheck(Array.isArray(es), `${name} entries`);
    const width = layout.values ? 3 : 2;
    const entries = new Map<string, Entry<unknown, unknown>>();
    for (const row of es as unknown[]) {
      decodeCheck(
        Array.isArray(row) && row.length > width && (row.length - 1) % width === 0,
        `${name} entry`,
      );
      const r = row as unknown[];
      const dots = new Map<string, Dot<unknown>>();
      for (let i = 1; i < r.length; i += width) {
        const actor = actors[r[i] as number];
        const n = r[i + 1];
        decodeCheck(typeof actor === "string" && isCounter(n), `${name} dot`);
        dots.set(dotId(actor, n), { a: actor, n, v: layout.values ? r[i + 2] : true });
      }
      const k = canonicalKey(r[0]);
      decodeCheck(!entries.has(k), `${name} duplicate ${layout.key}`);
      entries.set(k, { key: r[0], dots });
    }
    const context = listed.union(
      CausalContext.of([...entries.values()].flatMap((e) => [...e.dots.values()])),
    );
    let touched: Map<string, unknown> | null = null;
    if (t !== undefined) {
      decodeCheck(Array.isArray(t), `${name} touched keys`);
      touched = new Map((t as unknown[]).map((k) => [canonicalKey(k), k]));
      for (const [k, e] of entries) touched.set(k, e.key);
    }
    return new DotStore(PMap.from(entries), context, touched);
  }
}

/** An actor table for compact encodings. */
class ActorTable {
  readonly list: string[] = [];
  private readonly index = new Map<string, number>();
  /** The index of `a`, adding it if new. */
  readonly of = (a: string): number => {
    let i = this.index.get(a);
    if (i === undefined) {
      i = this.list.length;
      this.list.push(a);
      this.index.set(a, i);
    }
    return i;
  };
}

/** Reads an actor table from encoded data. */
function decodeActors(data: unknown, what: string): string[] {
  decodeCheck(Array.isArray(data), `${what} actors`);
  for (const a of data as unknown[]) decodeCheck(typeof a === "string" && a.length > 0, `${what} actor`);
  decodeCheck(new Set(data as string[]).size === (data as string[]).length, `${what} actors`);
  return data as string[];
}
