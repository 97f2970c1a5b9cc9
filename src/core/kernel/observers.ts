/**
 * The observers of a source (a cell or a spin node): the nodes of the same context that depend on
 * it. Membership is a `Set`; the staleness walk iterates an array copy of it, rebuilt only after
 * the membership changed (iterating a `Set` cost a tenth of a chain's propagation; a graph that
 * rewires on every write rebuilds the copies it walks). Internal.
 * @module
 */
import { emptyList, type SpinNode } from "./node.js";

/** A set of observer nodes with an array view for iteration. Internal. */
export class Observers {
  /** The members. */
  private readonly set = new Set<SpinNode>();
  /** The members as an array, or null after a change (see {@link list}). */
  private arr: SpinNode[] | null = null;

  /** Number of members. */
  get size(): number {
    return this.set.size;
  }

  /** Add `o` (no-op if present). */
  add(o: SpinNode): void {
    const set = this.set;
    const before = set.size;
    set.add(o); // one hash lookup: a member already there leaves the size as it was
    if (set.size !== before) this.arr = null;
  }

  /** Remove `o`; returns whether it was a member. */
  delete(o: SpinNode): boolean {
    if (!this.set.delete(o)) return false;
    this.arr = null;
    return true;
  }

  /**
   * The members as an array, in insertion order. Not to be mutated, and not to be held across a
   * change of the membership (a change makes the next call build a new array).
   */
  list(): readonly SpinNode[] {
    const arr = this.arr;
    if (arr !== null) return arr;
    const out = emptyList<SpinNode>();
    for (const o of this.set) out.push(o);
    this.arr = out;
    return out;
  }

  /** The members at the time of the call (safe to change the set while iterating). */
  [Symbol.iterator](): Iterator<SpinNode> {
    return this.list()[Symbol.iterator]();
  }
}
