/**
 * The observers of a source (a cell or a spin node): the nodes of the same context that depend on
 * it. One or two members live in fields of the set alone (most spins are read by one or two
 * others: no array and no storage for it, 72 bytes and more a node of cellx 1000), until a
 * third arrives or something asks for the members as an array ({@link Observers.list}: a write
 * of a signal). A few members live in an array alone (most sources have one to a handful of
 * observers: no `Set` to allocate, and the array is the view the staleness walk iterates). Past
 * {@link SMALL} members, the array stays the view and an open-addressing hash table of their
 * numbers ({@link SpinNode.num}) in one `Int32Array` gives each one's place in it. A
 * graph that rewires on every write (dynamic 1000x12: a thousand nodes leave six sources of 500
 * observers and join six others) spent a third of its time in the builtin `Set` that held such a
 * membership before (35-40 ns an insert or delete; the table: a probe or two, whole-process
 * instructions of a root's operation 7.9M -> 5.9M). A large set's order is insertion order but
 * for the last member taking the place of one that left. Internal.
 * @module
 */
import { emptyList, type SpinNode } from "./node.js";

/** Members kept in the array alone; more move to the table (linear scans stay short). */
const SMALL = 8;

/** A large set that shrinks to this many members goes back to the array alone. */
const SHRINK = 4;

/** Slots of a new table (a power of two; at most half of them used). */
const FIRST_SLOTS = 32;

/** Fibonacci hashing: the product's top bits index the table. */
const GOLDEN = -1640531535; // 0x9e3779b1 as an int32

/** {@link Observers.list} of a set without members and without an array (never written). */
const NONE: readonly SpinNode[] = Object.freeze(emptyList<SpinNode>());

/** The last {@link SpinNode.num} given. */
let lastNum = 0;

/** `o`'s number, given now if it has none (numbers are hashes: a repeat after 2^32 is harmless). */
function numOf(o: SpinNode): number {
  let num = o.num;
  if (num === 0) {
    num = lastNum = (lastNum + 1) | 0;
    if (num === 0) num = lastNum = 1;
    o.num = num;
  }
  return num;
}

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
  /**
   * The members, or null while {@link one} and {@link two} hold them (a small set, until the third
   * member or {@link list} makes it). In a large set, the members too: the view {@link list} returns,
   * in the order they joined but for the last member taking a leaver's place.
   */
  private arr: SpinNode[] | null = null;
  /**
   * Large sets: the hash table of the members' places in {@link arr} (null while the set is small).
   * Two numbers a slot: the number ({@link SpinNode.num}) of the member it holds (0: empty) and the
   * member's index in {@link arr}; linear probing from the number's hash, no tombstones (a delete
   * shifts the run after it back). The slots are a power of two. (The table holds places, not the
   * members: the members' array stays the view in join order, with no copy to make after a change.
   * Iterated in the table's order instead, a fan-out of 1,000 effects walked its nodes in hash
   * order: 150-210 -> 290-350 us an operation, the same optimized instructions.) An `Int32Array`,
   * not a `number[]` (8 bytes an element in Node's V8, which does not compress pointers): half the
   * memory a leave or join reads, root dynamic 1000x12 timed 617-676 -> 571-657 us an operation and
   * fork 656-771 -> 654-717, interleaved, for 6,254,312 -> 6,262,990 optimized instructions (root).
   */
  private tab: Int32Array | null = null;

  /** Number of members. */
  get size(): number {
    const arr = this.arr;
    if (arr !== null) return arr.length;
    return this.one === null ? 0 : this.two === null ? 1 : 2;
  }

  /** Add `o` (no-op if present). */
  add(o: SpinNode): void {
    const arr = this.arr;
    if (arr !== null) {
      const tab = this.tab;
      if (tab !== null) this.addLarge(tab, arr, o);
      else this.addToArray(arr, o);
      return;
    }
    // the pair alone holds the members
    const one = this.one;
    if (one === null) this.one = o;
    else if (one !== o && this.two !== o) {
      if (this.two === null) this.two = o;
      else this.toArray(o);
    }
  }

  /** Remove `o`; returns whether it was a member. */
  delete(o: SpinNode): boolean {
    const arr = this.arr;
    if (arr === null) return this.deleteFromPair(o);
    const tab = this.tab;
    return tab === null ? this.deleteFromArray(arr, o) : this.deleteLarge(tab, arr, o);
  }

  // (Every path but the pair's is a method of its own: written out in `add` and `delete`, they
  // made those too large for V8 to inline them where a subscription is made or dropped, and
  // `_trackSignal` into `track`, `pruneByMarks` into `prune`: dynamic 1000x12 measured 5,231,938
  // optimized instructions an operation against 5,075,333 before the pair; a fork's `track` and
  // `pruneByMarks` called `add` and `delete` of 212 and 187 bytes of bytecode)

  /** {@link add} while the array alone holds the members. */
  private addToArray(arr: SpinNode[], o: SpinNode): void {
    const n = arr.length;
    for (let i = 0; i < n; i++) if (arr[i] === o) return;
    arr.push(o);
    if (n >= SMALL) this.rehash(arr, FIRST_SLOTS);
    else if (n === 0) this.one = o;
    else if (n === 1) this.two = o;
    else {
      this.one = null;
      this.two = null;
    }
  }

  /** {@link delete} while the array alone holds the members. */
  private deleteFromArray(arr: SpinNode[], o: SpinNode): boolean {
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

  /** {@link add} to a large set. */
  private addLarge(tab: Int32Array, arr: SpinNode[], o: SpinNode): void {
    const num = numOf(o);
    const mask = tab.length - 1; // the slots times two, less one
    let h = (Math.imul(num, GOLDEN) >>> (Math.clz32(mask) + 1)) << 1;
    let k: number;
    while ((k = tab[h]!) !== 0) {
      if (k === num && arr[tab[h + 1]!] === o) return; // (a number repeats only after 2^32 nodes)
      h = (h + 2) & mask;
    }
    const at = arr.length;
    tab[h] = num;
    tab[h + 1] = at;
    arr.push(o);
    if (at * 4 >= mask + 1) this.rehash(arr, mask + 1);
  }

  /** {@link delete} from a large set: the last member takes the leaver's place in the array. */
  private deleteLarge(tab: Int32Array, arr: SpinNode[], o: SpinNode): boolean {
    const num = o.num;
    if (num === 0) return false; // never joined a large set
    const mask = tab.length - 1;
    const shift = Math.clz32(mask) + 1; // 32 - log2 of the slots
    let h = (Math.imul(num, GOLDEN) >>> shift) << 1;
    let k: number;
    while ((k = tab[h]!) !== num || arr[tab[h + 1]!] !== o) {
      if (k === 0) return false;
      h = (h + 2) & mask;
    }
    const at = tab[h + 1]!;
    // empty slot `h`: move back each later member of the run whose home slot is not cyclically
    // within (h, j]
    for (let j = (h + 2) & mask; (k = tab[j]!) !== 0; j = (j + 2) & mask) {
      if (((j - ((Math.imul(k, GOLDEN) >>> shift) << 1)) & mask) >= ((j - h) & mask)) {
        tab[h] = k;
        tab[h + 1] = tab[j + 1]!;
        h = j;
      }
    }
    tab[h] = 0;
    tab[h + 1] = 0;
    const last = arr.length - 1;
    if (at !== last) {
      const m = arr[last]!;
      arr[at] = m;
      const mnum = m.num;
      let g = (Math.imul(mnum, GOLDEN) >>> shift) << 1;
      while (tab[g] !== mnum || tab[g + 1] !== last) g = (g + 2) & mask;
      tab[g + 1] = at;
    }
    arr.pop();
    if (last * 16 <= mask + 1) this.shrink(arr, mask + 1);
    return true;
  }

  /** A large set down to an eighth of its slots: half the slots, or the array alone from {@link SHRINK} members. */
  private shrink(arr: SpinNode[], size: number): void {
    if (arr.length > SHRINK) {
      this.rehash(arr, size >> 2);
      return;
    }
    this.tab = null;
    const n = arr.length;
    this.one = n === 1 || n === 2 ? arr[0]! : null;
    this.two = n === 2 ? arr[1]! : null;
  }

  /** Make a table of `slots` slots (a power of two, at least twice the members) for the members in `arr`. */
  private rehash(arr: readonly SpinNode[], slots: number): void {
    const tab = new Int32Array(slots * 2);
    const mask = slots * 2 - 1;
    const shift = 32 - Math.log2(slots);
    for (let i = 0; i < arr.length; i++) {
      const num = numOf(arr[i]!);
      let h = (Math.imul(num, GOLDEN) >>> shift) << 1;
      while (tab[h] !== 0) h = (h + 2) & mask;
      tab[h] = num;
      tab[h + 1] = i;
    }
    this.tab = tab;
    this.one = null;
    this.two = null;
  }

  /**
   * The members as an array: in insertion order while the set is small; once it is large, in
   * insertion order but for the last member taking the place of one that left. Not to be mutated,
   * and not to be held across a change of the membership (the set changes this very array).
   */
  list(): readonly SpinNode[] {
    const arr = this.arr;
    if (arr !== null) return arr;
    const one = this.one;
    if (one === null) return NONE;
    const a = emptyList<SpinNode>();
    a.push(one);
    if (this.two !== null) a.push(this.two);
    this.arr = a; // kept from now on: the next write of a signal reads it again
    return a;
  }

  /** The members at the time of the call (safe to change the set while iterating). */
  [Symbol.iterator](): Iterator<SpinNode> {
    const arr = this.arr;
    if (arr === null) {
      const a: SpinNode[] = [];
      if (this.one !== null) a.push(this.one);
      if (this.two !== null) a.push(this.two);
      return a[Symbol.iterator]();
    }
    return arr.slice()[Symbol.iterator]();
  }
}
