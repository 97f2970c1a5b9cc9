/**
 * Signal handles and cells. A {@link Signal} is a handle whose value lives per context in a
 * {@link Cell}. Every cell is a real `@preact/signals-core` signal; the handle itself is the cell of
 * the default context, so `sig.value` there costs what a preact read costs and preact's
 * `effect`/`computed` react to it.
 * @module
 */
import type { Signal as PreactSignal } from "@preact/signals-core";
import { noteBatchWrite } from "./batch.js";
import type { Context } from "./context.js";
import { invalidArgument } from "./errors.js";
import { G } from "./globals.js";
import { type Cell, pget, pset, SignalHandle } from "./kernel/cell.js";
import type { SignalWatch } from "./reaping.js";

/** An equality function, bivariant in `T` so handles of any `T` can be stored together. */
export type Equality<T> = { bivariant(a: T, b: T): boolean }["bivariant"];

/** Options of {@link signal}. */
export interface SignalOptions<T> {
  /** Equality used for the write cut-off (default `Object.is`). Equal writes do nothing. */
  equals?: (a: T, b: T) => boolean;
  /** Debug name (shown in errors and `toString`). */
  name?: string;
  /** Stable id, used as the signal's address in serialized contexts (default: a process-local counter). */
  key?: string;
}

let nextId = 0;
/** The default context: created when context.ts loads (it always has by the time a write runs). */
function defaultCtx(): Context {
  return G.defaultContext!;
}

/**
 * A reactive cell handle. `sig.value` reads/writes the current context (the default context unless
 * inside `ctx.run` or a spin body). Inside spins use `$.track(sig)` to subscribe.
 */
export class Signal<T> extends SignalHandle<T> {
  /** Stable address of this signal. */
  readonly id: string;
  /** Initial value, used by every context that has not written the signal. */
  readonly init: T;
  /** Equality for the write cut-off. */
  readonly equals: Equality<T>;
  /** Debug name. */
  override readonly name: string | undefined;
  /** Whether the signal has an explicit key (its state is kept even when the handle is collected). */
  readonly keyed: boolean;
  /** @internal registered as the default context's cell */
  _reg = false;
  /** @internal what tells the contexts that made a cell for this handle that it was collected (see `watchSignal`) */
  _held: SignalWatch | null = null;
  /**
   * @internal the cell forks read where no context of their tree stores one (the initial value at
   * version 0, written by nothing: see `Context._cellOrInit`)
   */
  _initCell: Cell<T> | null = null;
  /**
   * @internal fast path: the first root context other than the default one that holds a cell for
   * this signal, with that cell in {@link _cell}. A root neither replaces nor drops its cell of a
   * live handle (the cell goes only when the handle is collected), so `ctx.set` and a run's first
   * read of the signal take the cell from here instead of looking the id up in the context's map
   * (a `Map.get` of a string key, about 100 instructions of a write).
   */
  _ctx: Context | null = null;
  /** @internal the cell of {@link _ctx} */
  _cell: Cell<T> | null = null;

  /**
   * Use {@link signal} instead.
   * @param init initial value
   * @param opts options
   */
  constructor(init: T, opts?: SignalOptions<T>) {
    super(init);
    if (opts?.key !== undefined && (typeof opts.key !== "string" || opts.key === ""))
      invalidArgument("signal key must be a non-empty string");
    this.init = init;
    this.equals = opts?.equals ?? Object.is;
    this.name = opts?.name;
    this.keyed = opts?.key !== undefined;
    this.id = opts?.key ?? `sig${++nextId}`;
    if (!this.keyed) this._uid = -this._uid; // a generated id is this handle's alone
  }

  /** The value in the current context (reactive for preact; not tracked by spins). */
  override get value(): T {
    const c = G.current;
    return c === null ? (pget.call(this as PreactSignal<unknown>) as T) : c._readSignal(this, true);
  }

  override set value(v: T) {
    const c = G.current;
    if (c === null) writeDefault(this, v);
    else c.set(this, v);
  }

  /** The value in the current context without subscribing anything (preact or spin). */
  override peek(): T {
    const c = G.current;
    return c === null ? this.val : c._readSignal(this, false);
  }

  /** Debug representation. */
  override toString(): string {
    return `Signal(${this.name ?? this.id})`;
  }
}

/** The default context's write path, kept small for the hot path of `sig.value = v`. */
function writeDefault<T>(sig: Signal<T>, v: T): void {
  const old = sig.val;
  const eq = sig.equals;
  if (eq === Object.is ? Object.is(old, v) : eq(old, v)) return;
  if (!sig._reg) defaultCtx()._register(sig);
  if (G.batchDepth > 0) noteBatchWrite(sig);
  sig.version = ++G.version;
  G.epoch++;
  if (sig.deltas !== undefined) sig.deltas = undefined;
  sig.val = v;
  pset.call(sig as PreactSignal<unknown>, v);
  const obs = sig.observers;
  if (obs !== null && obs.size > 0) defaultCtx()._notify(obs);
}

/**
 * Create a signal handle. Its value lives per context; `init` is the value in every context
 * that has not written it.
 *
 * ```ts
 * const count = signal(0);
 * count.value = 1;          // default context
 * ctx.set(count, 2);        // another context
 * ```
 */
export function signal<T>(init: T, opts?: SignalOptions<T>): Signal<T> {
  return new Signal(init, opts);
}
