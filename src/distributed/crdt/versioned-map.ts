/**
 * VersionedMap: a branchable map with 3-way merge (the stand-in for a database in workspaces).
 * Commits are content-addressed; a branch points at a head. Merge rule of `join`: the union of
 * the commits, and per branch the head with the greater `(depth, hash)` — a descendant is always
 * deeper than its ancestors, so a fast-forward wins; concurrent writes to one branch on two
 * replicas keep one head (the other stays in the history). Branches are meant to be
 * single-writer: fork a branch per writer and `merge`.
 * @module
 */
import type { Convergent } from "./convergent.js";
import { CrdtError, decodeCheck } from "./errors.js";
import { CRDT_TAGS, registerCrdtCodec } from "./tags.js";
import { canonicalKey, cmpStr, contentHash, isRecord } from "./util.js";

/** A key changed differently on both sides since their common ancestor (`undefined` = absent). */
export interface Conflict<V> {
  readonly key: string;
  readonly base: V | undefined;
  readonly ours: V | undefined;
  readonly theirs: V | undefined;
}

/** `[key]` deletes, `[key, value]` sets. */
type Change<V> = readonly [key: string] | readonly [key: string, value: V];

interface VCommit<V> {
  readonly id: string;
  /** First parent = the branch it was made on; a merge commit's second parent is the source. */
  readonly parents: readonly string[];
  /** Changes against the first parent's snapshot, sorted by key. */
  readonly changes: readonly Change<V>[];
  /** Longest path from the root (the root is 0). */
  readonly depth: number;
}

interface BranchHead {
  readonly head: string;
  readonly depth: number;
}

function makeCommit<V>(parents: readonly string[], changes: readonly Change<V>[], depth: number): VCommit<V> {
  const sorted = [...changes].sort((a, b) => cmpStr(a[0], b[0]));
  return { id: contentHash({ p: parents, c: sorted }), parents, changes: sorted, depth };
}

const ROOT = makeCommit<never>([], [], 0);
const SNAPSHOT_CACHE_MAX = 256;

type Snapshot<V> = ReadonlyMap<string, V>;

/** A branchable, mergeable map with content-hashed heads. */
export class VersionedMap<V> implements Convergent<VersionedMap<V>, VersionedMap<V>> {
  private constructor(
    private readonly commits: ReadonlyMap<string, VCommit<V>>,
    private readonly branchHeads: ReadonlyMap<string, BranchHead>,
    /** The checked-out branch (local, not replicated state). */
    readonly currentBranch: string,
    /** What changed locally since the last `clearDelta()`, or `null`. */
    readonly delta: VersionedMap<V> | null,
    /** Snapshots by commit id: derived from content addresses, so sharing it is safe. */
    private readonly cache: Map<string, Snapshot<V>>,
  ) {}

  /** A map with branch `"main"` at the empty root, checked out. */
  static empty<V>(): VersionedMap<V> {
    return new VersionedMap<V>(
      new Map([[ROOT.id, ROOT]]),
      new Map([["main", { head: ROOT.id, depth: 0 }]]),
      "main",
      null,
      new Map(),
    );
  }

  /** Branch names, sorted. */
  branches(): string[] {
    return [...this.branchHeads.keys()].sort(cmpStr);
  }

  /** The head (a content hash) of `branch`, default the checked-out one. */
  head(branch: string = this.currentBranch): string {
    return this.branchOf(branch).head;
  }

  private branchOf(name: string): BranchHead {
    const b = this.branchHeads.get(name);
    if (b === undefined) throw new CrdtError("ERR_UNKNOWN_BRANCH", `no branch ${JSON.stringify(name)}`);
    return b;
  }

  /** Creates branch `name` at `from` (a branch name or a head; default the checked-out head). */
  branch(name: string, from?: string): VersionedMap<V> {
    if (typeof name !== "string" || name.length === 0 || this.branchHeads.has(name))
      throw new CrdtError(
        "ERR_INVALID_ARGUMENT",
        `branch ${JSON.stringify(name)} exists or is not a valid name`,
      );
    const at = this.resolve(from ?? this.currentBranch);
    return this.moved(name, { head: at.id, depth: at.depth }, null);
  }

  private resolve(ref: string): VCommit<V> {
    const b = this.branchHeads.get(ref);
    const c = this.commits.get(b?.head ?? ref);
    if (c === undefined)
      throw new CrdtError("ERR_UNKNOWN_BRANCH", `no branch or commit ${JSON.stringify(ref)}`);
    return c;
  }

  /** The same map with `name` checked out. */
  checkout(name: string): VersionedMap<V> {
    this.branchOf(name);
    if (name === this.currentBranch) return this;
    return new VersionedMap(this.commits, this.branchHeads, name, this.delta, this.cache);
  }

  /** The value of `key` on the checked-out branch. */
  get(key: string): V | undefined {
    return this.snapshot(this.head()).get(key);
  }

  /** Whether `key` is set on the checked-out branch. */
  has(key: string): boolean {
    return this.snapshot(this.head()).has(key);
  }

  /** The entries of the checked-out branch, sorted by key. */
  entries(): [string, V][] {
    return [...this.snapshot(this.head())].sort((a, b) => cmpStr(a[0], b[0]));
  }

  /** Sets `key` on the checked-out branch (a commit); `this` when it already has that value. */
  set(key: string, value: V): VersionedMap<V> {
    if (typeof key !== "string") throw new CrdtError("ERR_INVALID_ARGUMENT", "VersionedMap keys are strings");
    const snap = this.snapshot(this.head());
    if (snap.has(key) && canonicalKey(snap.get(key)) === canonicalKey(value)) return this;
    return this.commitOn([[key, value]]);
  }

  /** Deletes `key` on the checked-out branch (a commit); `this` when it is absent. */
  delete(key: string): VersionedMap<V> {
    if (!this.snapshot(this.head()).has(key)) return this;
    return this.commitOn([[key]]);
  }

  private commitOn(changes: Change<V>[], second?: string): VersionedMap<V> {
    const head = this.resolve(this.currentBranch);
    const parents = second === undefined ? [head.id] : [head.id, second];
    const depth = Math.max(head.depth, second === undefined ? 0 : (this.commits.get(second)?.depth ?? 0)) + 1;
    const c = makeCommit(parents, changes, depth);
    return this.moved(this.currentBranch, { head: c.id, depth }, c);
  }

  private moved(branch: string, to: BranchHead, c: VCommit<V> | null): VersionedMap<V> {
    const commits = c === null ? this.commits : new Map(this.commits).set(c.id, c);
    const heads = new Map(this.branchHeads).set(branch, to);
    const pc = new Map(this.delta?.commits ?? []);
    if (c !== null) pc.set(c.id, c);
    const pb = new Map(this.delta?.branchHeads ?? []).set(branch, to);
    const piece = new VersionedMap<V>(pc, pb, this.currentBranch, null, this.cache);
    return new VersionedMap(commits, heads, this.currentBranch, piece, this.cache);
  }

  /** The snapshot at commit `id`, built from the nearest cached ancestor on the first-parent chain. */
  private snapshot(id: string): Snapshot<V> {
    const hit = this.cache.get(id);
    if (hit !== undefined) return hit;
    const chain: VCommit<V>[] = [];
    let base: Snapshot<V> = new Map();
    for (let cur = this.commits.get(id); cur !== undefined; ) {
      const cached = this.cache.get(cur.id);
      if (cached !== undefined) {
        base = cached;
        break;
      }
      chain.push(cur);
      const p = cur.parents[0];
      if (p === undefined) break;
      cur = this.commits.get(p);
      if (cur === undefined) throw new CrdtError("ERR_UNKNOWN_BRANCH", `commit ${p} is missing`);
    }
    let snap = base;
    for (let i = chain.length - 1; i >= 0; i--) {
      const m = new Map(snap);
      for (const ch of (chain[i] as VCommit<V>).changes) {
        if (ch.length === 1) m.delete(ch[0]);
        else m.set(ch[0], ch[1] as V);
      }
      snap = m;
    }
    if (this.cache.size >= SNAPSHOT_CACHE_MAX) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(id, snap);
    return snap;
  }

  private ancestors(id: string): Set<string> {
    const seen = new Set<string>();
    const stack = [id];
    while (stack.length > 0) {
      const x = stack.pop() as string;
      if (seen.has(x)) continue;
      seen.add(x);
      for (const p of this.commits.get(x)?.parents ?? []) stack.push(p);
    }
    return seen;
  }

  /** The deepest common ancestor of two branches or heads (ties by hash). */
  commonAncestor(a: string, b: string): string {
    const ca = this.ancestors(this.resolve(a).id);
    let best: VCommit<V> | null = null;
    for (const id of this.ancestors(this.resolve(b).id)) {
      if (!ca.has(id)) continue;
      const c = this.commits.get(id) as VCommit<V>;
      if (best === null || c.depth > best.depth || (c.depth === best.depth && cmpStr(c.id, best.id) < 0))
        best = c;
    }
    return (best ?? ROOT).id;
  }

  /** Keys changed differently on both sides since the common ancestor of branches `a` and `b`. */
  conflicts(a: string, b: string): Conflict<V>[] {
    const base = this.snapshot(this.commonAncestor(a, b));
    const ours = this.snapshot(this.resolve(a).id);
    const theirs = this.snapshot(this.resolve(b).id);
    const out: Conflict<V>[] = [];
    for (const key of changedKeys(base, ours)) {
      if (!changed(base, theirs, key)) continue;
      if (same(ours, theirs, key)) continue;
      out.push({ key, base: base.get(key), ours: ours.get(key), theirs: theirs.get(key) });
    }
    return out.sort((x, y) => cmpStr(x.key, y.key));
  }

  /**
   * Merges branch `source` into the checked-out branch: a fast-forward when possible, else a merge
   * commit. Throws `ERR_MERGE_CONFLICT` (with `data.conflicts`) on conflicts unless `force`, in
   * which case `source` wins every conflicting key.
   */
  merge(source: string, opts: { force?: boolean } = {}): VersionedMap<V> {
    const ours = this.resolve(this.currentBranch);
    const theirs = this.resolve(source);
    const oursAnc = this.ancestors(ours.id);
    if (oursAnc.has(theirs.id)) return this;
    if (this.ancestors(theirs.id).has(ours.id))
      return this.moved(this.currentBranch, { head: theirs.id, depth: theirs.depth }, null);
    const conflicts = this.conflicts(this.currentBranch, source);
    if (conflicts.length > 0 && opts.force !== true)
      throw new CrdtError(
        "ERR_MERGE_CONFLICT",
        `merging ${JSON.stringify(source)} into ${JSON.stringify(this.currentBranch)} conflicts on ${conflicts.length} key(s)`,
        { conflicts },
      );
    const base = this.snapshot(this.commonAncestor(ours.id, theirs.id));
    const o = this.snapshot(ours.id);
    const t = this.snapshot(theirs.id);
    const changes: Change<V>[] = [];
    for (const key of changedKeys(base, t)) {
      if (same(o, t, key)) continue;
      changes.push(t.has(key) ? [key, t.get(key) as V] : [key]);
    }
    return this.commitOn(changes, theirs.id);
  }

  /** Union of commits, per-branch greater `(depth, head)`; `this` when `other` adds nothing. */
  join(other: VersionedMap<V>): VersionedMap<V> {
    let commits: Map<string, VCommit<V>> | null = null;
    for (const [id, c] of other.commits) {
      if (this.commits.has(id)) continue;
      commits ??= new Map(this.commits);
      commits.set(id, c);
    }
    let heads: Map<string, BranchHead> | null = null;
    for (const [name, b] of other.branchHeads) {
      const mine = this.branchHeads.get(name);
      if (
        mine !== undefined &&
        (mine.depth > b.depth || (mine.depth === b.depth && cmpStr(mine.head, b.head) >= 0))
      )
        continue;
      heads ??= new Map(this.branchHeads);
      heads.set(name, b);
    }
    if (commits === null && heads === null) return this;
    return new VersionedMap(
      commits ?? this.commits,
      heads ?? this.branchHeads,
      this.currentBranch,
      null,
      this.cache,
    );
  }

  /** Same as {@link VersionedMap.join} (a delta is a fragment: new commits and moved branches). */
  applyDelta(delta: VersionedMap<V>): VersionedMap<V> {
    return this.join(delta);
  }

  /** This map without a pending delta. */
  clearDelta(): VersionedMap<V> {
    return this.delta === null
      ? this
      : new VersionedMap(this.commits, this.branchHeads, this.currentBranch, null, this.cache);
  }

  /** The same commits and branch heads (the checked-out branch is local and not compared). */
  equals(other: VersionedMap<V>): boolean {
    if (other === this) return true;
    if (other.commits.size !== this.commits.size || other.branchHeads.size !== this.branchHeads.size)
      return false;
    for (const id of this.commits.keys()) if (!other.commits.has(id)) return false;
    for (const [n, b] of this.branchHeads) if (other.branchHeads.get(n)?.head !== b.head) return false;
    return true;
  }

  /** A canonical string form. */
  canonical(): string {
    const b = [...this.branchHeads].map(([n, h]) => `${JSON.stringify(n)}=${h.head}`).sort();
    return `${b.join(",")}|${[...this.commits.keys()].sort(cmpStr).join(",")}`;
  }

  /** @internal */
  static encodeData(v: VersionedMap<unknown>): unknown {
    const commits = [...v.commits.values()]
      .filter((c) => c.id !== ROOT.id)
      .map((c) => [c.parents, c.changes, c.depth]);
    return { b: [...v.branchHeads].map(([n, h]) => [n, h.head, h.depth]), c: commits, at: v.currentBranch };
  }

  /** @internal */
  static decodeData(data: unknown): VersionedMap<unknown> {
    decodeCheck(isRecord(data) && Array.isArray(data.b) && Array.isArray(data.c), "VersionedMap");
    const commits = new Map<string, VCommit<unknown>>([[ROOT.id, ROOT]]);
    for (const row of data.c as unknown[]) {
      decodeCheck(Array.isArray(row) && row.length === 3, "VersionedMap commit");
      const [ps, chs, depth] = row as unknown[];
      decodeCheck(
        Array.isArray(ps) && ps.length >= 1 && ps.length <= 2 && ps.every((p) => typeof p === "string"),
        "VersionedMap parents",
      );
      decodeCheck(
        Array.isArray(chs) &&
          chs.every(
            (c) => Array.isArray(c) && (c.length === 1 || c.length === 2) && typeof c[0] === "string",
          ),
        "VersionedMap changes",
      );
      decodeCheck(
        typeof depth === "number" && Number.isSafeInteger(depth) && depth > 0,
        "VersionedMap depth",
      );
      const c = makeCommit(ps as string[], chs as Change<unknown>[], depth);
      commits.set(c.id, c);
    }
    const heads = new Map<string, BranchHead>();
    for (const row of data.b as unknown[]) {
      decodeCheck(Array.isArray(row) && row.length === 3, "VersionedMap branch");
      const [n, h, d] = row as unknown[];
      decodeCheck(typeof n === "string" && n.length > 0 && !heads.has(n), "VersionedMap branch name");
      decodeCheck(
        typeof h === "string" && typeof d === "number" && Number.isSafeInteger(d) && d >= 0,
        "VersionedMap head",
      );
      heads.set(n, { head: h, depth: d });
    }
    const at =
      typeof data.at === "string" && heads.has(data.at) ? data.at : (heads.keys().next().value ?? "main");
    return new VersionedMap(commits, heads, at, null, new Map());
  }
}

function changed<V>(a: Snapshot<V>, b: Snapshot<V>, key: string): boolean {
  return !same(a, b, key);
}

function same<V>(a: Snapshot<V>, b: Snapshot<V>, key: string): boolean {
  const ha = a.has(key);
  if (ha !== b.has(key)) return false;
  return !ha || canonicalKey(a.get(key)) === canonicalKey(b.get(key));
}

function changedKeys<V>(base: Snapshot<V>, side: Snapshot<V>): string[] {
  const keys = new Set([...base.keys(), ...side.keys()]);
  return [...keys].filter((k) => changed(base, side, k));
}

registerCrdtCodec<VersionedMap<unknown>>(
  CRDT_TAGS.VersionedMap,
  VersionedMap,
  VersionedMap.encodeData,
  VersionedMap.decodeData,
);
