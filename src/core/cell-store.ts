/**
 * Where a context keeps its signal cells, by signal id. The default context's cells are the signal
 * handles themselves: it holds unkeyed ones weakly, so a signal nobody references can be collected.
 * Other contexts hold cells strongly and drop a cell when its (unkeyed) handle is collected.
 * @module
 */
import type { Cell } from "./kernel/cell.js";
import { WeakValueMap } from "./weak-values.js";

/** A map from signal id to cell, optionally weak for unkeyed handles. Internal. */
export class CellStore {
  private readonly strong = new Map<string, Cell>();
  /** Unkeyed handles' cells (the default context), swept as it grows. */
  private weak: WeakValueMap<string, Cell> | null = null;

  /** @param weakUnkeyed hold cells of unkeyed signals weakly (the default context) */
  constructor(private readonly weakUnkeyed: boolean) {}

  /** The cell for `id`, if this context owns one. */
  get(id: string): Cell | undefined {
    const c = this.strong.get(id);
    if (c !== undefined || this.weak === null) return c;
    return this.weak.get(id);
  }

  /** Own `cell` under `id`. `keyed`: the signal has an explicit key (always held strongly). */
  set(id: string, cell: Cell, keyed: boolean): void {
    if (this.weakUnkeyed && !keyed) (this.weak ??= new WeakValueMap()).set(id, cell);
    else this.strong.set(id, cell);
  }

  /** Drop the cell for `id`. */
  delete(id: string): void {
    this.strong.delete(id);
    this.weak?.delete(id);
  }

  /** Every live cell. */
  *entries(): IterableIterator<[string, Cell]> {
    yield* this.strong;
    if (this.weak !== null) yield* this.weak.entries();
  }

  /** Number of cells held (weak entries may include collected ones until the next sweep). */
  get size(): number {
    return this.strong.size + (this.weak?.size ?? 0);
  }
}
