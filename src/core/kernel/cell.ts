/**
 * Cells: per-context storage of a signal's value, the kernel's view of a signal. Every cell is a
 * real `@preact/signals-core` signal, so preact's `effect`/`computed` react to it; spins track it
 * through their context. {@link SignalHandle} is what a body passes to `$.track`: the public
 * `Signal` handle extends it.
 * @module
 */
import { Signal as PreactSignal } from "@preact/signals-core";
import { Brand, nextUid, SOURCE_KIND } from "./brand.js";
import { SpindelError } from "./errors.js";
import type { Observers } from "./observers.js";

const valueDesc = Object.getOwnPropertyDescriptor(PreactSignal.prototype, "value")!;
/** @internal preact's own `value` getter and setter, called directly (a handle overrides `value`). */
export const pget = valueDesc.get! as (this: PreactSignal<unknown>) => unknown;
/** @internal */
export const pset = valueDesc.set! as (this: PreactSignal<unknown>, v: unknown) => void;

/**
 * Per-context storage of one signal: a preact signal plus versioning and the spin nodes that
 * track it. Always accessed through {@link cellPeek}/{@link cellRead}/{@link cellWrite}. Internal.
 */
export class Cell<T = unknown> extends PreactSignal<T> {
  /** @internal The value, mirrored from the preact signal (every write goes through {@link cellWrite}). */
  val: T;
  /** @internal Global version of the last write (0: never written). */
  version = 0;
  /** @internal Deltas attached to the most recent write (undefined: unknown). */
  deltas: unknown = undefined;
  /** @internal Version before the write that carried `deltas`. */
  deltasBase = 0;
  /** @internal Spin nodes of the owning context that track this cell. */
  observers: Observers | null = null;
  /**
   * @internal Whether preact may depend on this cell: it was read through preact's getter (a
   * `toPreact` view, a preact-tracked read). Until then a write leaves preact's own copy of the value
   * behind ({@link lags}) instead of running preact's setter, and the first such read catches up.
   */
  viewed = false;
  /** @internal preact's copy of the value is older than {@link val} (see {@link viewed}) */
  lags = false;
  /** @internal Scratch stamp of `prune` (engine.ts): the cell is a source of the log being pruned against. */
  mark = 0;

  /** @param value initial value */
  constructor(value: T) {
    super(value);
    this.val = value;
  }

  /** Preact-tracked read. */
  override get value(): T {
    return cellRead(this);
  }

  /** Cells are written through their context (`ctx.set`), never directly. */
  override set value(_v: T) {
    throw new SpindelError(
      "ERR_READONLY",
      "this is a read-only preact view of a signal in a context: write it with ctx.set(signal, value)",
    );
  }
}

/** @internal Untracked read of a cell. */
export function cellPeek<T>(c: Cell<T>): T {
  return c.val;
}

/** @internal Preact-tracked read of a cell. */
export function cellRead<T>(c: Cell<T>): T {
  if (c.viewed !== true) {
    c.viewed = true;
    if (c.lags === true) {
      c.lags = false;
      pset.call(c as PreactSignal<unknown>, c.val); // nothing in preact depends on it yet
    }
  }
  return pget.call(c as PreactSignal<unknown>) as T;
}

/**
 * @internal Raw write (no equality check, no versioning): use `ctx.set`. Preact's setter (a
 * batch, a version, a walk of its subscribers) runs only for a cell preact may depend on.
 */
export function cellWrite<T>(c: Cell<T>, v: T): void {
  c.val = v;
  if (c.viewed === true) pset.call(c as PreactSignal<unknown>, v);
  else c.lags = true;
}

/** @internal Create a cell for a context that is not the default one. */
export function createCell<T>(value: T, version: number): Cell<T> {
  const c = new Cell(value);
  c.version = version;
  return c;
}

/**
 * What the kernel knows of a signal handle: a cell (the default context's) with a stable id. The
 * public `Signal` extends it; a cell that is only a context's storage (a `toPreact` view) is not one.
 */
export abstract class SignalHandle<T> extends Cell<T> {
  /** Stable address of this signal. */
  abstract readonly id: string;
  /** @internal process-unique number of this handle, negative while its id is not its own alone (see {@link nextUid}) */
  _uid: number = -nextUid();
  /** @internal a handle is the default context's preact signal: preact always sees its writes */
  override viewed = true;
}

(SignalHandle.prototype as { [SOURCE_KIND]?: number })[SOURCE_KIND] = Brand.SIGNAL_SOURCE;
