/**
 * The one-shot wait protocol. Primitives (deferred, mailbox, semaphore, timers, remote calls)
 * implement {@link OnceSource}; a spin body waits on them with `$.await(x)`. The run records the
 * settled value in its effect log, so a re-run replays it instead of waiting again.
 * @module
 */
import type { Context } from "../context.js";

/** Symbol under which a one-shot source exposes its wait method. */
export const WAIT: unique symbol = Symbol.for("spindel.wait");

/**
 * A pending one-shot wait handed to a {@link OnceSource}. Settle it at most once. `resolve`/`reject`
 * return false when the waiter is dead (its run was cancelled or superseded): the source must then
 * keep what it would have handed over (e.g. leave the message in the mailbox).
 */
export interface Waiter<T> {
  /** Whether the waiting run is still alive and parked on this wait. */
  readonly alive: boolean;
  /** Id of the waiting spin (a fork can re-create the wait in its own world with `ctx._adopt(id)`). */
  readonly spinId: string;
  /**
   * Hand `value` to the waiter. `undo` is called if the run dies before its body continued past the
   * wait (a message handed off in flight goes back to its queue).
   */
  resolve(value: T, undo?: () => void): boolean;
  /** Fail the wait with `error`. */
  reject(error: unknown): boolean;
  /** Register a cleanup run if the wait is abandoned (run cancelled or superseded) before it settles. */
  onAbandon(fn: () => void): void;
}

/** Something a spin can wait on once: `$.await(source)`. */
export interface OnceSource<T> {
  /** Start a wait in context `ctx` (the waiting spin's context). */
  [WAIT](ctx: Context, waiter: Waiter<T>): void;
}

/** True when `x` implements {@link OnceSource}. */
export function isOnceSource(x: unknown): x is OnceSource<unknown> {
  return typeof x === "object" && x !== null && typeof (x as { [WAIT]?: unknown })[WAIT] === "function";
}
