/**
 * Where a context keeps its signal cells, by signal id. The default context's cells are the signal
 * handles themselves: it holds unkeyed ones weakly, so a signal nobody references can be collected.
 * Other contexts hold cells strongly and drop a cell when its (unkeyed) handle is collected.
 * @module
 */
import type { Cell } from "./kernel/cell.js";

/** Weak entries below which the store never sweeps out collected ones. */
const SWEEP_MIN = 1024;

/** A map from signal id to cell, optionally weak for unkeyed handles. Internal. */
export class CellStore {
  private readonly strong = new Map<string, Cell>();
  private weak: Map<string, WeakRef<Cell>> | null = null;
  /**
   * Weak entries at which {@link set} sweeps out those whose handle was collected: twice the live
   * entries the last sweep left, so the sweeps cost O(1) per entry added, and the entries of
   * signals nobody references no longer pile up (a lookup only drops the entry it finds dead).
   */
  private sweepAt = SWEEP_MIN;

  /** @param weakUnkeyed hold cells of unkeyed signals weakly (the default context) */
  constructor(private readonly weakUnkeyed: boolean) {}

  /** The cell for `id`, if this context owns one. */
  get(id: string): Cell | undefined {
    const c = this.strong.get(id);
    if (c !== undefined || this.weak === null) return c;
    const ref = this.weak.get(id);
    if (ref === undefined) return undefined;
    const live = ref.deref();
    if (live === undefined) this.weak.delete(id);
    return live;
  }

  /** Own `cell` under `id`. `keyed`: the signal has an explicit key (always held strongly). */
  set(id: string, cell: Cell, keyed: boolean): void {
    if (this.weakUnkeyed && !keyed) {
      const weak = (this.weak ??= new Map());
      weak.set(id, new WeakRef(cell));
      if (weak.size >= this.sweepAt) this.sweep(weak);
    } else this.strong.set(id, cell);
  }

  /** Drop the weak entries whose cell (a signal handle) was collected. */
  private sweep(weak: Map<string, WeakRef<Cell>>): void {
    for (const [id, ref] of weak) if (ref.deref() === undefined) weak.delete(id);
    this.sweepAt = Math.max(SWEEP_MIN, 2 * weak.size);
  }

  /** Drop the cell for `id`. */
  delete(id: string): void {
    this.strong.delete(id);
    this.weak?.delete(id);
  }

  /** Every live cell. */
  *entries(): IterableIterator<[string, Cell]> {
    yield* this.strong;
    if (this.weak === null) return;
    for (const [id, ref] of this.weak) {
      const c = ref.deref();
      if (c !== undefined) yield [id, c];
      else this.weak.delete(id);
    }
  }

  /** Number of cells held (weak entries may include collected ones until the next sweep). */
  get size(): number {
    return this.strong.size + (this.weak?.size ?? 0);
  }
}
