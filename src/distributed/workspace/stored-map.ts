/**
 * A branchable three-way map kept in a content-addressed store: the system a workspace follows
 * over store replication. Entries live in a hash trie of immutable nodes; a snapshot node names a
 * trie root and its parent snapshots; a branch is one mutable pointer key `head/<branch>` naming a
 * snapshot. So a branch costs one key (forking moves no content), two heads share every unchanged
 * subtree, and a replica that has a head's nodes can read that head forever (snapshot isolation).
 * @module
 */
import { type ContentStore, contentAddressSync, sameEncoded } from "./content.js";
import { WorkspaceError } from "./errors.js";
import type { BranchableSystem, Conflict, MergeOptions, SystemCaps } from "./system.js";

/** The pointer key of a branch's head. */
export function headKey(branch: string): string {
  return `head/${branch}`;
}

/** The branch a pointer key names, or null for a content key. */
export function branchOfKey(key: string): string | null {
  return key.startsWith("head/") ? key.slice(5) : null;
}

/** The store key listing the branches. */
export const BRANCHES_KEY = "branches";

/** Replication order: content first, branch pointers after the content they name (higher goes later). */
export function keyOrder(key: string): number {
  return key.startsWith("head/") || key === BRANCHES_KEY ? 1 : 0;
}

type Entry = readonly [string, unknown];
interface LeafNode {
  readonly l: Entry[];
}
interface TrieNode {
  /** child address per nibble (null: empty) */
  readonly b: (string | null)[];
  /** entries below */
  readonly n: number;
}
type Node = LeafNode | TrieNode;
interface SnapshotNode {
  readonly s: string | null;
  readonly p: string[];
}

const MAX_DEPTH = 8;

function keyHash(k: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < k.length; i++) {
    h ^= k.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function nibble(k: string, depth: number): number {
  return (keyHash(k) >>> (28 - 4 * depth)) & 15;
}

/**
 * The content addresses reachable from `heads` (snapshots, their ancestors, trie nodes), not
 * descending into anything in `known` (content addressing: a known node's children are known).
 * In an order where a node's children come before it, so a replica that applies them in order
 * never holds a node whose children are missing. With `skipMissing`, content the store lacks is
 * left out instead of failing.
 */
export async function reachableContent(
  store: ContentStore,
  heads: Iterable<string>,
  known: ReadonlySet<string> = new Set(),
  skipMissing = false,
): Promise<string[]> {
  const seen = new Set<string>();
  const out: string[] = [];
  const visit = async (addr: string): Promise<void> => {
    if (seen.has(addr) || known.has(addr)) return;
    seen.add(addr);
    const node = (await store.get(addr)) as Partial<SnapshotNode & TrieNode> | undefined;
    if (node === undefined || node === null) {
      if (skipMissing) return;
      throw new WorkspaceError("ERR_MISSING_CONTENT", `content ${addr} is not in the store`, { addr });
    }
    if (Array.isArray(node.p)) {
      for (const p of node.p) await visit(p);
      if (typeof node.s === "string") await visit(node.s);
    } else if (Array.isArray(node.b)) for (const c of node.b) if (c !== null) await visit(c);
    out.push(addr);
  };
  for (const h of heads) await visit(h);
  return out;
}

/** A read-only view of one head of a stored map. */
export interface MapSnapshot {
  /** The head (snapshot address) this view reads. */
  readonly head: string;
  /** The value of `key`, or `undefined`. */
  get(key: string): Promise<unknown>;
  /** Every entry, sorted by key. */
  entries(): Promise<Array<[string, unknown]>>;
  /** The entries as a plain object. */
  toObject(): Promise<Record<string, unknown>>;
}

/** Options of {@link openStoredMap}. */
export interface StoredMapOptions {
  /** The system id (default `"map"`). */
  readonly id?: string;
  /** The branch to check out (default `"main"`; created empty when the store has no branch yet). */
  readonly branch?: string;
  /** Entries per trie leaf before it splits (default 32). */
  readonly leafSize?: number;
  /**
   * Create the branch empty when the store does not have it (default true). A follower whose
   * branches arrive by replication passes false.
   */
  readonly create?: boolean;
}

/** A write to a stored map: `[key, value]` sets, `[key]` deletes. */
export type MapOp = readonly [string, unknown] | readonly [string];

/**
 * Opens (or creates) a branchable map in `store`. Every write on the checked-out branch writes
 * its new nodes first and the branch pointer last, in one ordered `putMany`.
 */
export async function openStoredMap(store: ContentStore, opts: StoredMapOptions = {}): Promise<StoredMap> {
  const m = new StoredMap(store, opts.id ?? "map", opts.leafSize ?? 32);
  const branch = opts.branch ?? "main";
  if (opts.create !== false && (await m.head(branch)) === null) {
    const empty = await m.writeSnapshot({ s: null, p: [] }, []);
    await m.setPointer(branch, empty.head, empty.writes);
  }
  m.checkedOut = branch;
  return m;
}

/** A branchable three-way map over a content store (see {@link openStoredMap}). */
export class StoredMap implements BranchableSystem<MapSnapshot> {
  readonly type = "stored-map";
  readonly caps: SystemCaps = { branchable: true, mergeable: true, convergent: false, overlayable: true };
  /** @internal */
  checkedOut = "main";
  readonly #cache = new Map<string, unknown>();

  /** Use {@link openStoredMap}. */
  constructor(
    readonly store: ContentStore,
    readonly id: string,
    readonly leafSize: number,
  ) {}

  currentBranch(): string {
    return this.checkedOut;
  }

  async branches(): Promise<string[]> {
    const b = await this.store.get(BRANCHES_KEY);
    return Array.isArray(b) ? [...(b as string[])] : [];
  }

  async head(branch: string = this.checkedOut): Promise<string | null> {
    const h = await this.store.get(headKey(branch));
    return typeof h === "string" ? h : null;
  }

  async branch(name: string, from?: string): Promise<StoredMap> {
    const head = await this.#resolveRef(from ?? this.checkedOut);
    await this.setPointer(name, head, []);
    return this;
  }

  async checkout(name: string): Promise<StoredMap> {
    if ((await this.head(name)) === null)
      throw new WorkspaceError("ERR_NO_BRANCH", `${this.id} has no branch ${JSON.stringify(name)}`);
    this.checkedOut = name;
    return this;
  }

  async deleteBranch(name: string): Promise<StoredMap> {
    if (name === this.checkedOut)
      throw new WorkspaceError(
        "ERR_NO_BRANCH",
        `cannot delete the checked-out branch ${JSON.stringify(name)}`,
      );
    const branches = (await this.branches()).filter((b) => b !== name);
    await this.store.putMany([
      [headKey(name), null],
      [BRANCHES_KEY, branches],
    ]);
    return this;
  }

  async value(): Promise<MapSnapshot> {
    return this.asOf(await this.#resolveRef(this.checkedOut));
  }

  async asOf(head: string): Promise<MapSnapshot> {
    const snap = await this.#snapshot(head);
    const root = snap.s;
    return {
      head,
      get: (key) => this.#lookup(root, key, 0),
      entries: async () => {
        const out: Array<[string, unknown]> = [];
        await this.#collect(root, out);
        return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      },
      toObject: async () => {
        const out: Array<[string, unknown]> = [];
        await this.#collect(root, out);
        return Object.fromEntries(out);
      },
    };
  }

  /** Sets `key` on the checked-out branch; resolves to the new head. */
  set(key: string, value: unknown): Promise<string> {
    return this.transact([[key, value]]);
  }

  /** Deletes `key` on the checked-out branch; resolves to the new head. */
  delete(key: string): Promise<string> {
    return this.transact([[key]]);
  }

  /** Applies `ops` in order as one commit on the checked-out branch; resolves to the new head. */
  async transact(ops: readonly MapOp[]): Promise<string> {
    const parent = await this.#resolveRef(this.checkedOut);
    const snap = await this.#snapshot(parent);
    const writes: Array<[string, unknown]> = [];
    let root = snap.s;
    if (ops.length > 64) {
      // a bulk commit: rebuild the canonical trie once (each new node hashed once)
      const all: Array<[string, unknown]> = [];
      await this.#collect(root, all);
      const m = new Map(all);
      for (const op of ops)
        if (op.length === 2) m.set(op[0], op[1]);
        else m.delete(op[0]);
      root = await this.#build([...m], 0, writes);
    } else for (const op of ops) root = await this.#update(root, op[0], op.length === 2, op[1], 0, writes);
    if (root === snap.s) return parent;
    const next = await this.writeSnapshot({ s: root, p: [parent] }, writes);
    await this.setPointer(this.checkedOut, next.head, next.writes);
    return next.head;
  }

  async conflicts(target: string, source: string): Promise<Conflict[]> {
    const [a, b] = await Promise.all([this.#resolveRef(target), this.#resolveRef(source)]);
    const base = await this.commonAncestor(a, b);
    const { conflicts } = await this.#threeWay(base, a, b);
    return conflicts;
  }

  async merge(source: string, opts: MergeOptions = {}): Promise<StoredMap> {
    const ours = await this.#resolveRef(this.checkedOut);
    const theirs = await this.#resolveRef(source);
    const base = await this.commonAncestor(ours, theirs);
    if (base === theirs || ours === theirs) return this; // already contains the source
    if (base === ours) {
      await this.setPointer(this.checkedOut, theirs, []); // fast-forward
      return this;
    }
    const { conflicts, theirChanges } = await this.#threeWay(base, ours, theirs);
    if (conflicts.length > 0 && opts.force !== true)
      throw new WorkspaceError(
        "ERR_MERGE_CONFLICT",
        `merging ${JSON.stringify(source)} into ${JSON.stringify(this.checkedOut)} conflicts on ${conflicts
          .map((c) => JSON.stringify(c.key))
          .join(", ")}`,
        { conflicts },
      );
    const writes: Array<[string, unknown]> = [];
    let root = (await this.#snapshot(ours)).s;
    for (const [k, v] of theirChanges) root = await this.#update(root, k, v !== undefined, v, 0, writes);
    const next = await this.writeSnapshot({ s: root, p: [ours, theirs] }, writes);
    await this.setPointer(this.checkedOut, next.head, next.writes);
    return this;
  }

  /** The nearest common ancestor of two heads (null when unrelated). */
  async commonAncestor(a: string, b: string): Promise<string | null> {
    if (a === b) return a;
    const seenA = new Set<string>([a]);
    const seenB = new Set<string>([b]);
    let frontA = [a];
    let frontB = [b];
    while (frontA.length > 0 || frontB.length > 0) {
      for (const h of frontA) if (seenB.has(h)) return h;
      for (const h of frontB) if (seenA.has(h)) return h;
      frontA = await this.#parents(frontA, seenA);
      frontB = await this.#parents(frontB, seenB);
    }
    return null;
  }

  /** Every content address reachable from `head` (its snapshots and trie nodes), for replication and counting. */
  async reachable(head: string): Promise<Set<string>> {
    return new Set(await reachableContent(this.store, [head]));
  }

  /** @internal writes a snapshot node after `writes`; returns its address and the ordered writes. */
  async writeSnapshot(
    snap: SnapshotNode,
    writes: Array<[string, unknown]>,
  ): Promise<{ head: string; writes: Array<[string, unknown]> }> {
    const head = await this.#put(snap, writes);
    return { head, writes };
  }

  /** @internal writes `writes` (content, in order) and then the branch pointer and registry. */
  async setPointer(branch: string, head: string, writes: Array<[string, unknown]>): Promise<void> {
    const branches = await this.branches();
    const entries: Array<readonly [string, unknown, { immutable?: boolean }?]> = writes.map(
      ([k, v]) => [k, v, { immutable: true }] as const,
    );
    if (!branches.includes(branch)) entries.push([BRANCHES_KEY, [...branches, branch].sort()]);
    entries.push([headKey(branch), head]);
    await this.store.putMany(entries);
  }

  async #resolveRef(ref: string): Promise<string> {
    const h = await this.head(ref);
    if (h !== null) return h;
    if (/^[0-9a-f]{64}$/.test(ref) && (await this.store.has(ref))) return ref;
    throw new WorkspaceError("ERR_NO_BRANCH", `${this.id} has no branch or head ${JSON.stringify(ref)}`);
  }

  async #parents(front: string[], seen: Set<string>): Promise<string[]> {
    const next: string[] = [];
    for (const h of front)
      for (const p of (await this.#snapshot(h)).p)
        if (!seen.has(p)) {
          seen.add(p);
          next.push(p);
        }
    return next;
  }

  async #load(addr: string): Promise<unknown> {
    const hit = this.#cache.get(addr);
    if (hit !== undefined) return hit;
    const v = await this.store.get(addr);
    if (v === undefined || v === null)
      throw new WorkspaceError("ERR_MISSING_CONTENT", `${this.id}: content ${addr} is not in the store`, {
        addr,
      });
    if (this.#cache.size > 50_000) this.#cache.clear();
    this.#cache.set(addr, v);
    return v;
  }

  async #snapshot(head: string): Promise<SnapshotNode> {
    const v = (await this.#load(head)) as SnapshotNode;
    if (typeof v !== "object" || !Array.isArray(v.p))
      throw new WorkspaceError("ERR_NO_BRANCH", `${this.id}: ${head} is not a snapshot`);
    return v;
  }

  async #put(node: unknown, writes: Array<[string, unknown]>): Promise<string> {
    const addr = contentAddressSync(node);
    // a cached node is in the store already (loaded from it, or written by an earlier commit)
    if (!this.#cache.has(addr)) {
      this.#cache.set(addr, node);
      writes.push([addr, node]);
    }
    return addr;
  }

  async #lookup(addr: string | null, key: string, depth: number): Promise<unknown> {
    if (addr === null) return undefined;
    const node = (await this.#load(addr)) as Node;
    if ("l" in node) return node.l.find((e) => e[0] === key)?.[1];
    return this.#lookup(node.b[nibble(key, depth)] ?? null, key, depth + 1);
  }

  async #collect(addr: string | null, out: Array<[string, unknown]>): Promise<void> {
    if (addr === null) return;
    const node = (await this.#load(addr)) as Node;
    if ("l" in node) for (const [k, v] of node.l) out.push([k, v]);
    else for (const c of node.b) await this.#collect(c, out);
  }

  async #count(addr: string | null): Promise<number> {
    if (addr === null) return 0;
    const node = (await this.#load(addr)) as Node;
    return "l" in node ? node.l.length : node.n;
  }

  /** Builds the canonical subtree of `entries` at `depth` (a leaf while it fits). */
  async #build(entries: Entry[], depth: number, writes: Array<[string, unknown]>): Promise<string | null> {
    if (entries.length === 0) return null;
    if (entries.length <= this.leafSize || depth >= MAX_DEPTH) {
      const l = [...entries].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      return this.#put({ l }, writes);
    }
    const groups: Entry[][] = Array.from({ length: 16 }, () => []);
    for (const e of entries) (groups[nibble(e[0], depth)] as Entry[]).push(e);
    const b: (string | null)[] = [];
    for (const g of groups) b.push(await this.#build(g, depth + 1, writes));
    return this.#put({ b, n: entries.length }, writes);
  }

  /** Path-copying set (`has`) or delete of `key`; the shape stays canonical (a function of the key set). */
  async #update(
    addr: string | null,
    key: string,
    has: boolean,
    value: unknown,
    depth: number,
    writes: Array<[string, unknown]>,
  ): Promise<string | null> {
    if (addr === null) return has ? this.#build([[key, value]], depth, writes) : null;
    const node = (await this.#load(addr)) as Node;
    if ("l" in node) {
      const i = node.l.findIndex((e) => e[0] === key);
      if (!has && i < 0) return addr;
      if (has && i >= 0 && sameEncoded((node.l[i] as Entry)[1], value)) return addr;
      const next = node.l.filter((e) => e[0] !== key);
      if (has) next.push([key, value]);
      return this.#build(next, depth, writes);
    }
    const n = nibble(key, depth);
    const child = node.b[n] ?? null;
    const updated = await this.#update(child, key, has, value, depth + 1, writes);
    if (updated === child) return addr;
    const b = [...node.b];
    b[n] = updated;
    const total = node.n - (await this.#count(child)) + (await this.#count(updated));
    if (total <= this.leafSize) {
      const all: Array<[string, unknown]> = [];
      for (const c of b) await this.#collect(c, all);
      return this.#build(all, depth, writes);
    }
    return this.#put({ b, n: total }, writes);
  }

  /** Changes of `a` and `b` against `base`, and the keys both changed differently. */
  async #threeWay(
    base: string | null,
    a: string,
    b: string,
  ): Promise<{ conflicts: Conflict[]; theirChanges: Map<string, unknown> }> {
    const baseRoot = base === null ? null : (await this.#snapshot(base)).s;
    const rootA = (await this.#snapshot(a)).s;
    const rootB = (await this.#snapshot(b)).s;
    const ours = await this.#diff(baseRoot, rootA);
    const theirs = await this.#diff(baseRoot, rootB);
    const conflicts: Conflict[] = [];
    const theirChanges = new Map<string, unknown>();
    for (const [k, [baseV, theirV]] of theirs) {
      const mine = ours.get(k);
      if (mine !== undefined && !sameEncoded(mine[1], theirV))
        conflicts.push({ system: this.id, key: k, base: baseV, ours: mine[1], theirs: theirV });
      theirChanges.set(k, theirV);
    }
    return { conflicts, theirChanges };
  }

  /** Keys whose values differ between two tries: key → [in x, in y] (`undefined`: absent). */
  async #diff(x: string | null, y: string | null): Promise<Map<string, [unknown, unknown]>> {
    const out = new Map<string, [unknown, unknown]>();
    await this.#diffInto(x, y, out);
    return out;
  }

  async #diffInto(x: string | null, y: string | null, out: Map<string, [unknown, unknown]>): Promise<void> {
    if (x === y) return; // shared subtree: nothing below differs
    const nx = x === null ? null : ((await this.#load(x)) as Node);
    const ny = y === null ? null : ((await this.#load(y)) as Node);
    if (nx !== null && ny !== null && "b" in nx && "b" in ny) {
      for (let i = 0; i < 16; i++) await this.#diffInto(nx.b[i] ?? null, ny.b[i] ?? null, out);
      return;
    }
    const ex: Array<[string, unknown]> = [];
    const ey: Array<[string, unknown]> = [];
    await this.#collect(x, ex);
    await this.#collect(y, ey);
    const mx = new Map(ex);
    const my = new Map(ey);
    for (const [k, v] of mx) if (!my.has(k) || !sameEncoded(v, my.get(k))) out.set(k, [v, my.get(k)]);
    for (const [k, v] of my) if (!mx.has(k)) out.set(k, [undefined, v]);
  }
}
