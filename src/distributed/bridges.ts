/**
 * Bridges between spins and promises (the TypeScript analogues of `spin->chan` / `chan->spin`).
 * Contexts are explicit: a spin's value lives per context.
 * @module
 */
import { type Context, defaultContext } from "../core/context.js";
import { invalidArgument } from "../core/errors.js";
import { Spin, type SpinOptions, spin } from "../core/spin.js";

/**
 * The spin's value in `ctx` (default: the default context) as a promise: it runs the spin if
 * needed, resolves with its result, rejects with its error (a `Cancelled` if it is cancelled).
 */
export function spinToPromise<T>(s: Spin<T>, ctx: Context = defaultContext()): Promise<T> {
  if (!(s instanceof Spin))
    return Promise.reject(new TypeError(`spinToPromise expects a Spin, got ${String(s)}`));
  return ctx.value(s);
}

/**
 * A spin settling with the promise. Pass a function `(signal) => promise` instead to start the
 * work lazily, once per run, with an `AbortSignal` aborted when the spin is cancelled. A promise
 * passed directly is shared by every context that reads the spin.
 */
export function promiseToSpin<T>(
  p: PromiseLike<T> | ((signal: AbortSignal) => PromiseLike<T>),
  opts?: SpinOptions<T>,
): Spin<T> {
  if (typeof p === "function") {
    const start = p;
    return spin(($) => $.await((signal: AbortSignal) => start(signal)), opts);
  }
  if (p === null || typeof p !== "object" || typeof (p as PromiseLike<T>).then !== "function")
    invalidArgument(`promiseToSpin expects a promise or a function returning one, got ${String(p)}`);
  const promise = p;
  return spin(($) => $.await(promise), opts);
}
