/**
 * CDVCS (replikativ's confluent distributed version control system): a grow-only DAG of
 * content-addressed commits. Merge rule: the union of the commit graphs; several heads after a
 * join are a lifted conflict that a merge commit resolves, and `commit` refuses to write past it.
 * @module
 */
import type { Convergent } from "./convergent.js";
import { CrdtError, decodeCheck } from "./errors.js";
import { CRDT_TAGS, registerCrdtCodec } from "./tags.js";
import { checkActor, cmpStr, contentHash } from "./util.js";

/** One commit: its content-hash id, parent ids (sorted), transactions and author. */
export interface Commit<Tx> {
  readonly id: string;
  readonly parents: readonly string[];
  readonly txs: readonly Tx[];
  readonly author: string;
}

function makeCommit<Tx>(parents: readonly string[], txs: readonly Tx[], author: string): Commit<Tx> {
  const ps = [...parents].sort(cmpStr);
  return { id: contentHash({ parents: ps, transactions: txs, author }), parents: ps, txs, author };
}

function frontier(commits: ReadonlyMap<string, Commit<unknown>>): string[] {
  const parents = new Set<string>();
  for (const c of commits.values()) for (const p of c.parents) parents.add(p);
  return [...commits.keys()].filter((id) => !parents.has(id)).sort(cmpStr);
}

/** A git-like convergent commit graph. */
export class CDVCS<Tx> implements Convergent<CDVCS<Tx>, CDVCS<Tx>> {
  /** The commits no other commit descends from (sorted). More than one is a conflict to merge. */
  readonly heads: readonly string[];

  private constructor(
    private readonly graph: ReadonlyMap<string, Commit<Tx>>,
    /** What changed locally since the last `clearDelta()` (the new commits), or `null`. */
    readonly delta: CDVCS<Tx> | null,
    heads?: readonly string[],
  ) {
    this.heads = heads ?? frontier(graph);
  }

  /** A new graph with one root commit by `author`. */
  static create<Tx>(author: string): CDVCS<Tx> {
    const root = makeCommit<Tx>([], [], checkActor(author));
    return new CDVCS(new Map([[root.id, root]]), null);
  }

  /**
   * A commit of `txs` on the single head. Throws `ERR_MULTIPLE_HEADS` while there are several
   * heads: merge first.
   */
  commit(txs: readonly Tx[], author: string): CDVCS<Tx> {
    if (this.heads.length !== 1)
      throw new CrdtError(
        "ERR_MULTIPLE_HEADS",
        `cannot commit on ${this.heads.length} heads: merge them first`,
        { heads: this.heads },
      );
    return this.add(makeCommit(this.heads, [...txs], checkActor(author)));
  }

  /** A merge commit over all heads (with optional resolving `txs`); `this` when there is one head. */
  merge(author: string, txs: readonly Tx[] = []): CDVCS<Tx> {
    if (this.heads.length < 2) return this;
    return this.add(makeCommit(this.heads, [...txs], checkActor(author)));
  }

  private add(c: Commit<Tx>): CDVCS<Tx> {
    if (this.graph.has(c.id)) return this;
    const g = new Map(this.graph);
    g.set(c.id, c);
    const piece = new Map(this.delta?.graph ?? []);
    piece.set(c.id, c);
    return new CDVCS(g, new CDVCS(piece, null), [c.id]);
  }

  /** The commit with `id`, if present. */
  get(id: string): Commit<Tx> | undefined {
    return this.graph.get(id);
  }

  /** The number of commits. */
  get size(): number {
    return this.graph.size;
  }

  /**
   * Every commit in a causal order that every replica with the same graph agrees on: parents
   * before children, ready commits by ascending id.
   */
  commits(): Commit<Tx>[] {
    const pending = new Map<string, number>();
    const children = new Map<string, string[]>();
    for (const c of this.graph.values()) {
      let n = 0;
      for (const p of c.parents) {
        if (!this.graph.has(p)) continue;
        n++;
        let list = children.get(p);
        if (list === undefined) children.set(p, (list = []));
        list.push(c.id);
      }
      pending.set(c.id, n);
    }
    const ready = [...pending].filter(([, n]) => n === 0).map(([id]) => id);
    const out: Commit<Tx>[] = [];
    while (ready.length > 0) {
      ready.sort((a, b) => cmpStr(b, a));
      const id = ready.pop() as string;
      out.push(this.graph.get(id) as Commit<Tx>);
      for (const ch of children.get(id) ?? []) {
        const n = (pending.get(ch) as number) - 1;
        pending.set(ch, n);
        if (n === 0) ready.push(ch);
      }
    }
    return out;
  }

  /** Whether commit `a` is `b` or one of its ancestors. */
  isAncestor(a: string, b: string): boolean {
    const seen = new Set<string>();
    const stack = [b];
    while (stack.length > 0) {
      const id = stack.pop() as string;
      if (id === a) return true;
      if (seen.has(id)) continue;
      seen.add(id);
      for (const p of this.graph.get(id)?.parents ?? []) stack.push(p);
    }
    return false;
  }

  /** Union of the commit graphs; `this` when `other` adds nothing. */
  join(other: CDVCS<Tx>): CDVCS<Tx> {
    let g: Map<string, Commit<Tx>> | null = null;
    for (const [id, c] of other.graph) {
      if (this.graph.has(id)) continue;
      g ??= new Map(this.graph);
      g.set(id, c);
    }
    return g === null ? this : new CDVCS(g, null);
  }

  /** Same as {@link CDVCS.join} (a delta is a set of commits). */
  applyDelta(delta: CDVCS<Tx>): CDVCS<Tx> {
    return this.join(delta);
  }

  /** This graph without a pending delta. */
  clearDelta(): CDVCS<Tx> {
    return this.delta === null ? this : new CDVCS(this.graph, null, this.heads);
  }

  /** The same commits. */
  equals(other: CDVCS<Tx>): boolean {
    if (other === this) return true;
    if (other.graph.size !== this.graph.size) return false;
    for (const id of this.graph.keys()) if (!other.graph.has(id)) return false;
    return true;
  }

  /** A canonical string form (the sorted commit ids). */
  canonical(): string {
    return [...this.graph.keys()].sort(cmpStr).join(",");
  }

  /** @internal */
  static encodeData(v: CDVCS<unknown>): unknown {
    return v.commits().map((c) => [c.parents, c.txs, c.author]);
  }

  /** @internal ids are recomputed from content, so a tampered commit cannot keep its id */
  static decodeData(data: unknown): CDVCS<unknown> {
    decodeCheck(Array.isArray(data), "CDVCS");
    const g = new Map<string, Commit<unknown>>();
    for (const row of data as unknown[]) {
      decodeCheck(Array.isArray(row) && row.length === 3, "CDVCS commit");
      const [ps, txs, author] = row as unknown[];
      decodeCheck(
        Array.isArray(ps) && ps.every((p) => typeof p === "string" && /^[0-9a-f]{64}$/.test(p)),
        "CDVCS parents",
      );
      decodeCheck(Array.isArray(txs), "CDVCS transactions");
      decodeCheck(typeof author === "string" && author.length > 0, "CDVCS author");
      const c = makeCommit(ps as string[], txs as unknown[], author);
      g.set(c.id, c);
    }
    return new CDVCS(g, null);
  }
}

registerCrdtCodec<CDVCS<unknown>>(CRDT_TAGS.CDVCS, CDVCS, CDVCS.encodeData, CDVCS.decodeData);
