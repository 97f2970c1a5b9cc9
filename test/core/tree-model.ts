/**
 * The model the fork-tree property tests check a tree of contexts against: which context is a fork
 * of which, what each wrote, which were disposed. Reads follow the parent for what a fork did not
 * write; a restored root starts from the values visible where its snapshot was taken.
 */
import type { Context } from "spindel";

/** A tree of contexts and the writes made in each, by index (context 0 is the first root). */
export class TreeModel {
  /** The contexts, by index. */
  readonly contexts: Context[];
  private readonly parents: number[] = [-1];
  private readonly writes: Map<number, number>[] = [new Map()];
  private readonly gone = new Set<number>();
  private readonly cancelled = new Set<number>();

  /**
   * @param root the first root context
   * @param signals how many signals the tree writes (signal `s` starts at `init(s)`)
   * @param init initial value of signal `s`
   */
  constructor(
    root: Context,
    private readonly signals: number,
    private readonly init: (s: number) => number,
  ) {
    this.contexts = [root];
  }

  /** The value of signal `s` in context `k`. */
  valueIn(k: number, s: number): number {
    for (let x = k; x >= 0; x = this.parents[x]!) {
      const w = this.writes[x]!.get(s);
      if (w !== undefined) return w;
    }
    return this.init(s);
  }

  /** The values of all signals in context `k`. */
  values(k: number): number[] {
    return Array.from({ length: this.signals }, (_, s) => this.valueIn(k, s));
  }

  /** Whether `k` is a root: the first context, or one restored from a snapshot. */
  isRoot(k: number): boolean {
    return this.parents[k] === -1;
  }

  /** Whether `k` or an ancestor was disposed (every use then throws `ContextDisposedError`). */
  disposed(k: number): boolean {
    for (let x = k; x >= 0; x = this.parents[x]!) if (this.gone.has(x)) return true;
    return false;
  }

  /**
   * Whether a spin was cancelled in `k` or an ancestor, or in the context `k` was restored from
   * (a cancelled spin and what reads it may read as `Cancelled` there until an input changes).
   */
  cancelledIn(k: number): boolean {
    for (let x = k; x >= 0; x = this.parents[x]!) if (this.cancelled.has(x)) return true;
    return false;
  }

  /** A spin was cancelled in context `k`. */
  cancel(k: number): void {
    this.cancelled.add(k);
  }

  /** Context `k` wrote `value` to signal `s`. */
  write(k: number, s: number, value: number): void {
    this.writes[k]!.set(s, value);
  }

  /** `ctx` is a new fork of context `k`; returns its index. */
  addFork(k: number, ctx: Context): number {
    this.parents.push(k);
    this.writes.push(new Map());
    return this.contexts.push(ctx) - 1;
  }

  /** `ctx` is a new root restored from a snapshot of context `k`; returns its index. */
  addRestored(k: number, ctx: Context): number {
    this.parents.push(-1);
    this.writes.push(new Map(this.values(k).map((v, s) => [s, v])));
    if (this.cancelledIn(k)) this.cancelled.add(this.contexts.length);
    return this.contexts.push(ctx) - 1;
  }

  /** Context `k` was disposed (its forks with it). */
  dispose(k: number): void {
    this.gone.add(k);
  }
}
