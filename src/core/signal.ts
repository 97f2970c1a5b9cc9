/**
 * Signal handles. A {@link Signal} is a handle: its value lives per context in a {@link Cell}.
 * In a root context the cell wraps a real `@preact/signals-core` signal, so preact's
 * `effect`/`computed` react to spindel signals read through `sig.value`.
 * @module
 */
import { type Signal as PreactSignal, signal as preactSignal } from "@preact/signals-core";
import type { Context } from "./context.js";
import { invalidArgument } from "./errors.js";
import { G } from "./globals.js";
import type { SpinNode } from "./node.js";

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

/** Per-context storage of one signal. Internal. */
export interface Cell<T = unknown> {
  /** The preact signal holding the value. */
  readonly p: PreactSignal<T>;
  /** Global version of the last write (0: never written in any context). */
  version: number;
  /** Value before the most recent write. */
  prev: T;
  /** Version before the most recent write. */
  prevVersion: number;
  /** Deltas attached to the most recent write (undefined: unknown). */
  deltas: unknown;
  /** Spin nodes of the owning context that track this cell. */
  observers: Set<SpinNode> | null;
}

/** Create a cell. Internal. */
export function createCell<T>(value: T, version: number, prev: T): Cell<T> {
  return { p: preactSignal(value), version, prev, prevVersion: 0, deltas: undefined, observers: null };
}

let nextId = 0;
const byId = new Map<string, WeakRef<Signal<unknown>>>();

/** Find a live signal handle by id (used by deserialization). Internal. */
export function signalById(id: string): Signal<unknown> | undefined {
  return byId.get(id)?.deref();
}

/**
 * A reactive cell handle. `sig.value` reads/writes the current context (the default context unless
 * inside `ctx.run` or a spin body). Inside spins use `$.track(sig)` to subscribe.
 */
export class Signal<T> {
  /** Stable address of this signal. */
  readonly id: string;
  /** Initial value, used by every context that has not written the signal. */
  readonly init: T;
  /** Equality for the write cut-off. */
  readonly equals: Equality<T>;
  /** Debug name. */
  readonly name: string | undefined;
  /** @internal fast path: the first root context that touched this signal and its cell there. */
  _ctx: Context | null = null;
  /** @internal */
  _cell: Cell<T> | null = null;

  /**
   * Use {@link signal} instead.
   * @param init initial value
   * @param opts options
   */
  constructor(init: T, opts?: SignalOptions<T>) {
    this.init = init;
    this.equals = opts?.equals ?? Object.is;
    this.name = opts?.name;
    this.id = opts?.key ?? `sig${++nextId}`;
    if (opts?.key !== undefined) {
      if (typeof opts.key !== "string" || opts.key === "")
        invalidArgument("signal key must be a non-empty string");
    }
    byId.set(this.id, new WeakRef(this as Signal<unknown>));
  }

  /** The value in the current context (reactive for preact in root contexts; not tracked by spins). */
  get value(): T {
    const c = G.current ?? defaultCtx();
    if (c === this._ctx) return this._cell!.p.value;
    return c._readSignal(this, true);
  }

  set value(v: T) {
    (G.current ?? defaultCtx()).set(this, v);
  }

  /** The value in the current context without subscribing anything (preact or spin). */
  peek(): T {
    const c = G.current ?? defaultCtx();
    if (c === this._ctx) return this._cell!.p.peek();
    return c._readSignal(this, false);
  }

  /** Debug representation. */
  toString(): string {
    return `Signal(${this.name ?? this.id})`;
  }
}

let defaultFactory: (() => Context) | null = null;
/** @internal wire the default-context factory (set by context.ts, avoiding an import cycle at load). */
export function setDefaultFactory(f: () => Context): void {
  defaultFactory = f;
}
function defaultCtx(): Context {
  return G.defaultContext ?? defaultFactory!();
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
