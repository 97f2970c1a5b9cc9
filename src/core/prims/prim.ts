/**
 * Internal helpers shared by the synchronization primitives and combinators: context resolution,
 * a FIFO deque, re-creating parked waits in forks and restored contexts, and "revival" of spins a
 * combinator cancelled. Internal.
 * @module
 */
import type { Waiter } from "../awaitable.js";
import { Context, defaultContext, type PrimitiveState } from "../context.js";
import { Cancelled, invalidArgument } from "../errors.js";
import { currentContext } from "../globals.js";
import { adoptParked, rerunIfCancelled } from "../kernel/prim-api.js";
import type { Spin } from "../spin.js";

/** Options shared by `deferred`, `mailbox` and `semaphore`. */
export interface PrimitiveOptions {
  /** Debug name. */
  name?: string;
  /**
   * Stable id, used to find the primitive again when a serialized context is read back
   * (`deserializeContext`). Default: a process-local counter.
   */
  key?: string;
}

/**
 * The context an operation on a primitive applies to: the one given, else the current one
 * (inside `ctx.run` or the synchronous part of a spin body), else the default context.
 * @internal
 */
export function contextFor(ctx: Context | undefined, what: string): Context {
  const c = ctx ?? currentContext() ?? defaultContext();
  if (!(c instanceof Context)) invalidArgument(`${what}: expected a Context, got ${String(c)}`);
  c._check(what);
  return c;
}

/**
 * Re-create, in `ctx`, the wait that spin `id` had parked when this context's copy of a primitive's
 * state was made (a fork, or a context restored from a snapshot): the spin replays its in-flight log
 * here and registers its wait again, so the wait exists (and fires once) in both worlds.
 * @internal
 */
export function adoptWaiter(ctx: Context, id: string): void {
  adoptParked(ctx, id);
}

/**
 * Live waiters' spin ids followed by the ids still to adopt: what a copy of the state must adopt.
 * @internal
 */
export function parkedIds(waiters: Iterable<Waiter<never>>, inherited: readonly string[] | null): string[] {
  const ids: string[] = [];
  for (const w of waiters) if (w.alive && !ids.includes(w.spinId)) ids.push(w.spinId);
  if (inherited !== null) for (const id of inherited) if (!ids.includes(id)) ids.push(id);
  return ids;
}

/**
 * The spin ids a fork's copy of a primitive state must adopt, or null when there are none.
 * @internal
 */
export function waitsToInherit(
  waiters: Iterable<Waiter<never>>,
  inherited: readonly string[] | null,
): string[] | null {
  const ids = parkedIds(waiters, inherited);
  return ids.length > 0 ? ids : null;
}

/**
 * Before a fork acts on a primitive state it copied from its parent, re-create in `ctx` the waits
 * the parent had parked on it (once), so each of them fires in this world too.
 * @internal
 */
export function adoptInherited(ctx: Context, st: { inherited: string[] | null }): void {
  const ids = st.inherited;
  if (ids === null) return;
  st.inherited = null;
  for (const id of ids) adoptWaiter(ctx, id);
}

/**
 * A FIFO queue with O(1) amortized push, shift and unshift.
 * @internal
 */
export class Deque<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  /** Number of items. */
  get length(): number {
    return this.items.length - this.head;
  }

  /** Append at the tail. */
  push(x: T): void {
    this.items.push(x);
  }

  /** Put back at the head. */
  unshift(x: T): void {
    if (this.head > 0) this.items[--this.head] = x;
    else this.items.unshift(x);
  }

  /** Remove and return the head (undefined when empty). */
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const x = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head === this.items.length) {
      this.items.length = 0;
      this.head = 0;
    } else if (this.head > 64 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return x;
  }

  /**
   * Put `x` back in order: before the first item for which `after(item)` is true (at the tail if
   * none). Used to return a message to its place, whatever order hand-offs are undone in.
   */
  putBack(x: T, after: (item: T) => boolean): void {
    const items = this.items;
    let i = this.head;
    while (i < items.length && !after(items[i] as T)) i++;
    if (i === this.head) this.unshift(x);
    else items.splice(i, 0, x);
  }

  /** Remove the first occurrence of `x`; returns whether it was there. */
  remove(x: T): boolean {
    const i = this.items.indexOf(x, this.head);
    if (i < 0) return false;
    this.items.splice(i, 1);
    return true;
  }

  /** The items, head first. */
  toArray(): T[] {
    return this.items.slice(this.head) as T[];
  }

  /** A deque with the same items. */
  clone(): Deque<T> {
    const d = new Deque<T>();
    d.items = this.toArray();
    return d;
  }

  /** Drop every item. */
  clear(): void {
    this.items.length = 0;
    this.head = 0;
  }
}

/**
 * Cancellation reasons used by combinators when they cancel a child (race losers, timed-out spins,
 * siblings of a failed `parallel` child). A spin cancelled for one of these reasons is started over
 * when a combinator needs it again (it was cancelled on the combinator's behalf, not by the user).
 * @internal
 */
export const RACE_LOST: Cancelled = new Cancelled("spin cancelled: it lost a race");
/**
 * See {@link RACE_LOST}.
 * @internal
 */
export const TIMED_OUT: Cancelled = new Cancelled("spin cancelled: it timed out");
/**
 * See {@link RACE_LOST}.
 * @internal
 */
export const SIBLING_FAILED: Cancelled = new Cancelled("spin cancelled: a sibling in parallel failed");
/**
 * See {@link RACE_LOST}.
 * @internal
 */
export const SUPERVISOR_STOPPED: Cancelled = new Cancelled("spin cancelled: stopped by its supervisor");

function combinatorCancel(x: unknown): boolean {
  return x === RACE_LOST || x === TIMED_OUT || x === SIBLING_FAILED;
}

/**
 * Start `s` over in `ctx` if a combinator cancelled it there (see {@link RACE_LOST}).
 * @internal
 */
export function revive(ctx: Context, s: Spin<unknown>): void {
  rerunIfCancelled(ctx, s, combinatorCancel);
}

/**
 * Drain `ctx` in a microtask: after a combinator cancelled spins (marking their observers stale)
 * from inside an engine operation (a cancellation cascade, a supersede), draining synchronously
 * could restart a spin the engine is in the middle of cancelling.
 * @internal
 */
export function drainLater(ctx: Context): void {
  queueMicrotask(() => {
    if (!ctx.disposed) ctx._drainSoon();
  });
}

/**
 * A validated non-negative, finite number of milliseconds.
 * @internal
 */
export function checkMs(ms: unknown, what: string): number {
  if (typeof ms !== "number" || !(ms >= 0) || !Number.isFinite(ms))
    invalidArgument(`${what} expects a finite number of milliseconds >= 0, got ${String(ms)}`);
  return ms;
}

/**
 * Per-context state of a primitive whose spins wait in a FIFO queue (mailbox, semaphore): the
 * parked waiters, and the ids of spins that were parked when this copy was made (fork, snapshot,
 * restore), to be re-adopted. A subclass copies its own data in `forked()` and passes the copy
 * through {@link QueuedWaits.inheritWaits}.
 * @internal
 */
export abstract class QueuedWaits<T> implements PrimitiveState {
  /** Waiters, oldest first. */
  readonly waiters = new Deque<Waiter<T>>();
  /** Spins parked when this copy was made: adopted on the next event. */
  inherited: string[] | null = null;

  /** A copy for a fork (same data; parked spins become inherited ids). */
  abstract forked(): QueuedWaits<T>;

  /** A frozen copy for a snapshot: the same as a fork's. */
  snapshot(): QueuedWaits<T> {
    return this.forked();
  }

  /** The context was disposed: forget every wait. */
  dispose(): void {
    this.waiters.clear();
    this.inherited = null;
  }

  /** `copy`, inheriting the spins parked here. */
  protected inheritWaits<S extends QueuedWaits<T>>(copy: S): S {
    copy.inherited = waitsToInherit(this.waiters.toArray(), this.inherited);
    return copy;
  }

  /** Ids of the spins waiting here (live waiters and inherited ones), for serialization. */
  protected waitingIds(): string[] {
    return parkedIds(this.waiters.toArray(), this.inherited);
  }
}
