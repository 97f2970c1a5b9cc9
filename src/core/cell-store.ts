/**
 * Where a context keeps its signal cells, by signal id. The default context's cells are the signal
 * handles themselves: it holds unkeyed ones weakly, so a signal nobody references can be collected.
 * Other contexts hold cells strongly and drop a cell when its (unkeyed) handle is collected.
 * @module
 */
import type { Cell } from "./kernel/cell.js";
import { WeakValueMap } from "./weak-values.js";

/**
 * What a listed cell is known by (see {@link CellStore.list}): the signal's id and the cell's
 * place in the list, kept up to date by the store. The registration that reports the handle
 * collected carries it (`SignalHeld`), so the cell leaves the list without a lookup. Internal.
 */
export interface Listing {
  /** The signal's id. */
  readonly id: string;
  /** Index in its store's list (-1: not listed). */
  slot: number;
}

/** A map from signal id to cell, optionally weak for unkeyed handles. Internal. */
export class CellStore {
  private readonly strong = new Map<string, Cell>();
  /** Unkeyed handles' cells (the default context), swept as it grows. */
  private weak: WeakValueMap<string, Cell> | null = null;
  /**
   * Cells of unkeyed handles this context registered for reaping first ({@link list}), in a dense
   * list instead of {@link strong}: a context that makes a cell per new signal (create + dispose)
   * pays an array push where it paid a `Map.set` of a new string key into a map that grows until
   * the finalization callbacks run (24 % of a root's create + dispose in a CPU profile). The list is
   * indexed by id only when someone looks a listed cell up by id ({@link byId}).
   */
  private readonly listCells: Cell[] = [];
  /** The listings of {@link listCells}, at the same index. */
  private readonly listKeys: Listing[] = [];
  /** Listings by id: every entry of the list below {@link indexed} (made on the first lookup by id). */
  private byId: Map<string, Listing> | null = null;
  private indexed = 0;

  /** @param weakUnkeyed hold cells of unkeyed signals weakly (the default context) */
  constructor(private readonly weakUnkeyed: boolean) {}

  /** The cell for `id`, if this context owns one. */
  get(id: string): Cell | undefined {
    const c = this.strong.get(id);
    if (c !== undefined) return c;
    if (this.listKeys.length !== 0) return this.getListed(id);
    return this.weak === null ? undefined : this.weak.get(id);
  }

  /** Own `cell` under `id`. `keyed`: the signal has an explicit key (always held strongly). */
  set(id: string, cell: Cell, keyed: boolean): void {
    if (this.weakUnkeyed && !keyed) (this.weak ??= new WeakValueMap()).set(id, cell);
    else this.strong.set(id, cell);
  }

  /**
   * Own `cell`, the cell of the unkeyed signal `l.id`, in the list ({@link listCells}); it leaves
   * with {@link unlist} (or {@link delete}). Not for the default context.
   */
  list(l: Listing, cell: Cell): void {
    l.slot = this.listKeys.length;
    this.listKeys.push(l);
    this.listCells.push(cell);
  }

  /** The listed cell of `l` (undefined: not listed). */
  listed(l: Listing): Cell | undefined {
    return l.slot < 0 ? undefined : this.listCells[l.slot];
  }

  /** Drop the listed cell of `l`: the last entry of the list takes its place. */
  unlist(l: Listing): void {
    const i = l.slot;
    if (i < 0) return;
    const keys = this.listKeys;
    const cells = this.listCells;
    const last = keys.length - 1;
    const byId = this.byId;
    if (byId !== null && i < this.indexed) byId.delete(l.id);
    if (i !== last) {
      const m = keys[last]!;
      keys[i] = m;
      cells[i] = cells[last]!;
      m.slot = i;
      // an entry not indexed yet moving below the indexed part is indexed now
      if (byId !== null && i < this.indexed && last >= this.indexed) byId.set(m.id, m);
    }
    keys.pop();
    cells.pop();
    l.slot = -1;
    if (this.indexed > keys.length) this.indexed = keys.length;
  }

  /** The listed cell for `id`, indexing the entries listed since the last lookup by id. */
  private getListed(id: string): Cell | undefined {
    const keys = this.listKeys;
    const byId = (this.byId ??= new Map());
    for (let k = this.indexed; k < keys.length; k++) byId.set(keys[k]!.id, keys[k]!);
    this.indexed = keys.length;
    const l = byId.get(id);
    return l === undefined ? (this.weak === null ? undefined : this.weak.get(id)) : this.listCells[l.slot];
  }

  /** Drop the cell for `id`. */
  delete(id: string): void {
    if (!this.strong.delete(id) && this.listKeys.length !== 0) {
      this.getListed(id); // indexes the whole list
      const l = this.byId!.get(id);
      if (l !== undefined) this.unlist(l);
    }
    this.weak?.delete(id);
  }

  /** Every live cell. */
  *entries(): IterableIterator<[string, Cell]> {
    yield* this.strong;
    const keys = this.listKeys;
    const cells = this.listCells;
    for (let k = 0; k < keys.length; k++) yield [keys[k]!.id, cells[k]!];
    if (this.weak !== null) yield* this.weak.entries();
  }

  /** Number of cells held (weak entries may include collected ones until the next sweep). */
  get size(): number {
    return this.strong.size + this.listKeys.length + (this.weak?.size ?? 0);
  }
}
