/**
 * The observers of a source (a cell or a spin node): the nodes of the same context that depend on
 * it. One or two members live in fields of the set alone (most spins are read by one or two
 * others: no array and no storage for it, 72 bytes and more a node of cellx 1000), until a
 * third arrives or something asks for the members as an array ({@link Observers.list}: a write
 * of a signal). A few members live in an array alone (most sources have one to a handful of
 * observers: no `Set` to allocate, and the array is the view the staleness walk iterates); past
 * {@link SMALL} members, membership moves to a `Set` and the array becomes a copy of it, rebuilt
 * only after the membership changed (iterating a `Set` cost a tenth of a chain's propagation; a
 * graph that rewires on every write rebuilds the copies it walks). Internal.
 * @module
 */
import { emptyList, type SpinNode } from "./node.js";

/** Members kept in the array alone; more move to a `Set` (linear scans stay short). */
const SMALL = 8;

/** {@link Observers.list} of a set without members and without an array (never written). */
const NONE: readonly SpinNode[] = Object.freeze(emptyList<SpinNode>());

/** A set of observer nodes with an array view for iteration. Internal. */
export class Observers {
  /**
   * The first member, when there are one or two and the set is small (null otherwise: read
   * {@link list}); the second is then {@link two}. Without an array ({@link arr} null, the set
   * small), the two hold membership. A chain's staleness walk reads this object
   * alone, not the array and its storage as well (two fewer cache lines per node of a graph larger
   * than the core's cache).
   */
  one: SpinNode | null = null;
  /**
   * The second member, when there are exactly two and the set is small (null otherwise). With
   * {@link one}, the staleness walk of a node read by two others (half the nodes of cellx 1000)
   * reads this object alone, not the array and its storage.
   */
  two: SpinNode | null = null;
  /** Membership once it outgrew {@link SMALL} (null: the array alone holds it). */
  private set: Set<SpinNode> | null = null;
  /**
   * Small: the members, or null while {@link one} and {@link two} hold them (made by the third
   * member or by {@link list}). Large: the members as an array, or null after a change (see
   * {@link list}).
   */
  private arr: SpinNode[] | null = null;

  /** Number of members. */
  get size(): number {
    const set = this.set;
    if (set !== null) return set.size;
    const arr = this.arr;
    if (arr !== null) return arr.length;
    return this.one === null ? 0 : this.two === null ? 1 : 2;
  }

  /** Add `o` (no-op if present). */
  add(o: SpinNode): void {
    const set = this.set;
    if (set !== null) {
      const before = set.size;
      set.add(o); // one hash lookup: a member already there leaves the size as it was
      if (set.size !== before) this.arr = null;
      return;
    }
    const arr = this.arr;
    if (arr === null) {
      // the pair alone holds the members
      const one = this.one;
      if (one === null) this.one = o;
      else if (one !== o && this.two !== o) {
        if (this.two === null) this.two = o;
        else this.toArray(o);
      }
      return;
    }
    const n = arr.length;
    for (let i = 0; i < n; i++) if (arr[i] === o) return;
    if (n >= SMALL) {
      const big = new Set<SpinNode>(arr);
      big.add(o);
      this.set = big;
      this.arr = null;
      return;
    }
    arr.push(o);
    if (n === 0) this.one = o;
    else if (n === 1) this.two = o;
    else {
      this.one = null;
      this.two = null;
    }
  }

  /** Remove `o`; returns whether it was a member. */
  delete(o: SpinNode): boolean {
    const set = this.set;
    if (set !== null) {
      if (!set.delete(o)) return false;
      this.arr = null;
      return true;
    }
    const arr = this.arr;
    if (arr === null) return this.deleteFromPair(o);
    const n = arr.length;
    let at = -1;
    for (let i = 0; i < n; i++)
      if (arr[i] === o) {
        at = i;
        break;
      }
    if (at < 0) return false;
    for (let i = at + 1; i < n; i++) arr[i - 1] = arr[i]!;
    arr.pop(); // the last is now a copy of the one before (not a length write: see truncate)
    this.one = n === 2 || n === 3 ? arr[0]! : null;
    this.two = n === 3 ? arr[1]! : null;
    return true;
  }

  // (`toArray` and `deleteFromPair` are methods of their own: written out in `add` and `delete`,
  // they made those too large for V8 to inline them where a subscription is made or dropped, and
  // `_trackSignal` into `track`, `pruneByMarks` into `prune`: dynamic 1000x12 measured 5,231,938
  // optimized instructions an operation against 5,075,333 before the pair)

  /** {@link delete} while the pair alone holds the members. */
  private deleteFromPair(o: SpinNode): boolean {
    if (this.one === o) this.one = this.two;
    else if (this.two !== o) return false;
    this.two = null;
    return true;
  }

  /** {@link add} of a third member to the pair: the array holds the members from now on. */
  private toArray(o: SpinNode): void {
    const a = emptyList<SpinNode>();
    a.push(this.one!, this.two!, o);
    this.arr = a;
    this.one = null;
    this.two = null;
  }

  /**
   * The members as an array, in insertion order. Not to be mutated, and not to be held across a
   * change of the membership (a small set changes this very array).
   */
  list(): readonly SpinNode[] {
    const arr = this.arr;
    if (arr !== null) return arr;
    if (this.set === null) {
      const one = this.one;
      if (one === null) return NONE;
      const a = emptyList<SpinNode>();
      a.push(one);
      if (this.two !== null) a.push(this.two);
      this.arr = a; // kept from now on: the next write of a signal reads it again
      return a;
    }
    const out = emptyList<SpinNode>();
    for (const o of this.set as Set<SpinNode>) out.push(o);
    this.arr = out;
    return out;
  }

  /** The members at the time of the call (safe to change the set while iterating). */
  [Symbol.iterator](): Iterator<SpinNode> {
    if (this.set === null && this.arr === null) {
      const a: SpinNode[] = [];
      if (this.one !== null) a.push(this.one);
      if (this.two !== null) a.push(this.two);
      return a[Symbol.iterator]();
    }
    const arr = this.list();
    return (this.set === null ? arr.slice() : arr)[Symbol.iterator]();
  }
}
