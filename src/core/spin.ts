/**
 * Spin handles. A {@link Spin} is a handle: its cached result and effect log live per context.
 * @module
 */
import type { OnceSource } from "./awaitable.js";
import type { Context } from "./context.js";
import { invalidArgument } from "./errors.js";
import { G } from "./globals.js";
import type { SpinNode } from "./kernel/node.js";
import { SpinHandle } from "./kernel/spin-handle.js";
import { registerKeyedSpin } from "./registry.js";
import type { Equality, Signal } from "./signal.js";

/** What `$.interval(sig)` returns: the new value, the value this spin saw at this call last run, and deltas. */
export interface Interval<T> {
  /** Current value. */
  readonly new: T;
  /** Value this spin saw at the same call in its previous run (on the first run: the current value). */
  readonly old: T;
  /** Deltas attached to the write (`ctx.set(sig, v, deltas)`) if exactly one write happened since; otherwise undefined (unknown). */
  readonly deltas: unknown;
}

/** Anything `$.await` accepts. A function is called with the run's `AbortSignal` (only if it declares a parameter). */
export type Awaitable<T> =
  | Spin<T>
  | PromiseLike<T>
  | OnceSource<T>
  | ((signal: AbortSignal) => PromiseLike<T> | T);

/** The scope `$` passed to a spin body. Only effects through `$` create dependencies. */
export interface SpinScope {
  /** Synchronous tracked read of a signal, or of a spin that is settled or completes synchronously. */
  track<T>(source: Signal<T> | Spin<T>): T;
  /** Tracked read returning `{ new, old, deltas }`. */
  interval<T>(source: Signal<T>): Interval<T>;
  /** Suspend until `x` settles: a spin (reactive), or a one-shot wait (promise, thunk, deferred, mailbox...). */
  await<T>(x: Awaitable<T>): Promise<T>;
  /** Untracked read in the spin's context. */
  peek<T>(source: Signal<T>): T;
  /** Write a signal in the spin's context (skipped when replayed). */
  set<T>(source: Signal<T>, value: T): void;
  /** Create a nested spin addressed by this spin (stable identity across re-runs; `deps` gate re-runs). */
  spin<T>(body: SpinBody<T>, opts?: SpinOptions<T>): Spin<T>;
  /**
   * Register a cleanup for this run: it runs (last registered first) before the spin's next run,
   * when the run is cancelled or superseded, when the last observer of the spin leaves, and when
   * the context is disposed. Observations (`ctx.observe`) started while the body runs
   * synchronously belong to the run the same way: they stop with it.
   */
  onCleanup(fn: () => void): void;
  /** An `AbortSignal` aborted when this run is cancelled or superseded (created lazily). */
  readonly signal: AbortSignal;
  /** The context this run executes in. */
  readonly context: Context;
}

/** A spin body: synchronous (a fork-aware computed) or async. */
export type SpinBody<T> = ($: SpinScope) => T | Promise<T>;

/** Options of {@link spin}. */
export interface SpinOptions<T> {
  /** Debug name. */
  name?: string;
  /** Stable key: top-level spins use it as their id; nested spins use it instead of the call ordinal. */
  key?: string;
  /** Capture gate for nested spins: the spin re-runs on re-creation only when a dep changed (`Object.is`). */
  deps?: readonly unknown[];
  /** Result equality for the cut-off (default `Object.is`). */
  equals?: (a: T, b: T) => boolean;
}

let nextId = 0;

/** @internal a process-unique id for an unkeyed spin */
export function freshSpinId(): string {
  return `spin${++nextId}`;
}
/**
 * A cached, reactive, cancellable computation handle. `await spinHandle` (PromiseLike) reads it
 * in the default context; use `ctx.value(spin)` for other contexts.
 */
export class Spin<T> extends SpinHandle implements PromiseLike<T> {
  /** Stable address. */
  readonly id: string;
  /** Latest body (per-context nodes keep their own copy). */
  body: SpinBody<T>;
  /** Debug name. */
  readonly name: string | undefined;
  /** Result equality. */
  readonly equals: Equality<T>;
  /** Capture-gate deps. */
  deps: readonly unknown[] | undefined;
  /** Whether the spin has an explicit key (its state is addressable: kept in snapshots, never detached). */
  readonly keyed: boolean;
  /** @internal fast path: first root context that created a node for this spin. */
  _ctx: Context | null = null;
  /** @internal */
  _node: SpinNode | null = null;
  /** @internal made by a body (`$.spin`): its node goes with its parent's, never on its own (reaping) */
  _nested = false;
  /** @internal a fork keeps a released node of this spin (`Context.kept`): only then is it looked up */
  _kept = false;
  /**
   * @internal the fork that last answered `ctx.read` of this handle (its `uid`: the handle keeps
   * no reference to a fork), its answer and the epoch the answer holds for
   */
  _readUid = 0;
  /** @internal */
  _readValue: unknown = undefined;
  /** @internal */
  _readEpoch = 0;

  /**
   * Use {@link spin} instead.
   * @param body the body
   * @param opts options
   * @param id explicit id (nested addressing)
   */
  constructor(body: SpinBody<T>, opts: SpinOptions<T> | undefined, id: string) {
    super();
    if (typeof body !== "function") invalidArgument(`spin expects a body function, got ${typeof body}`);
    this.body = body;
    this.name = opts?.name;
    this.equals = opts?.equals ?? Object.is;
    this.deps = opts?.deps;
    this.id = id;
    this.keyed = opts?.key !== undefined;
  }

  /** PromiseLike: resolves with the spin's value in the default context. */
  // biome-ignore lint/suspicious/noThenProperty: spins are PromiseLike by contract (API.md)
  then<A = T, B = never>(
    onfulfilled?: ((value: T) => A | PromiseLike<A>) | null,
    onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    // the default context is created when context.ts loads (no factory wired at load time)
    return G.defaultContext!.value(this).then(onfulfilled, onrejected);
  }

  /** Debug representation. */
  override toString(): string {
    return `Spin(${this.name ?? this.id})`;
  }
}

/**
 * Create a spin: a cached, reactive, cancellable computation. The body does not run at creation.
 * Inside another spin's body (synchronous part), the new spin is addressed by its parent (stable
 * identity across re-runs); after an `await`, use `$.spin` for that.
 *
 * ```ts
 * const doubled = spin(($) => 2 * $.track(count));
 * const plus = spin(async ($) => (await $.await(doubled)) + 1);
 * ```
 */
export function spin<T>(body: SpinBody<T>, opts?: SpinOptions<T>): Spin<T> {
  const run = G.run;
  if (run !== null) return run.spin(body, opts);
  if (opts?.key !== undefined && (typeof opts.key !== "string" || opts.key === ""))
    invalidArgument("spin key must be a non-empty string");
  if (opts?.key === undefined) {
    const fresh = new Spin(body, opts, freshSpinId());
    fresh._uid = -fresh._uid; // a generated id is this handle's alone
    return fresh;
  }
  const h = new Spin(body, opts, opts.key);
  registerKeyedSpin(h); // so deserializeContext finds its body, whichever spin is read first
  return h;
}
