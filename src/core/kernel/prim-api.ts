/**
 * The kernel as the primitives (`src/core/prims/`) see it: a spin's state in one context is an
 * opaque {@link PrimNode}, and everything a primitive does with it — hold it while waiting on it,
 * release it, cancel it when nobody else needs it, learn when it settled or when its cancelled
 * body has unwound — goes through these functions. The node's and run's fields stay the kernel's
 * business: the kernel can change them without touching a primitive. Internal.
 * @module
 */
import type { Spin } from "../spin.js";
import { cancelNode, isReady, refresh, rerunNode, whenReady } from "./engine.js";
import type { Cancelled } from "./errors.js";
import { Flag } from "./flags.js";
import type { KernelHost } from "./host.js";
import type { SpinNode } from "./node.js";

/**
 * A spin's state in one context, as a primitive holds it: pass it to the functions of this module,
 * never read its fields.
 * @internal
 */
export type PrimNode = SpinNode;

/**
 * The node serving `s` in `ctx`: the context's own, or an ancestor's a fork can still use as is
 * (nothing is copied). For waiting on a spin.
 * @internal
 */
export function nodeOf(ctx: KernelHost, s: Spin<unknown>): PrimNode {
  return ctx._nodeFor(s);
}

/**
 * The node of `s` owned by `ctx` (a fork makes its copy now). For acting on a spin in this
 * context only: cancelling, re-running, watching its run.
 * @internal
 */
export function ownNodeOf(ctx: KernelHost, s: Spin<unknown>): PrimNode {
  return ctx._ownNode(s);
}

/**
 * Bring `n` up to date: serve its cached result if still valid, else start (or keep) its run.
 * Afterwards {@link isSettled} says whether a result is available now.
 * @internal
 */
export function update(n: PrimNode): void {
  refresh(n);
}

/**
 * Whether `n` has a current result: settled, nothing in flight, nothing pending.
 * @internal
 */
export function isSettled(n: PrimNode): boolean {
  return isReady(n);
}

/**
 * Whether `n`'s current result is a value (true) or an error (false). Meaningful once
 * {@link isSettled}.
 * @internal
 */
export function isOk(n: PrimNode): boolean {
  return n.status === 1;
}

/**
 * `n`'s current value, or its error when not {@link isOk}.
 * @internal
 */
export function resultOf(n: PrimNode): unknown {
  return n.result;
}

/**
 * Call `fn` with `n`'s outcome once it is settled (now, if it already is). Does not hold the node:
 * pair it with {@link hold} so a cancellation cascade spares the spin while this waits.
 * @internal
 */
export function whenSettled(n: PrimNode, fn: (ok: boolean, value: unknown) => void): void {
  whenReady(n, (m) => fn(m.status === 1, m.result));
}

/**
 * Register one waiter on `n`'s run: while held, cancelling a run that awaits `n` does not cascade
 * into `n`. Every hold is matched by one {@link release}.
 * @internal
 */
export function hold(n: PrimNode): void {
  n.holds++;
}

/**
 * Undo one {@link hold}.
 * @internal
 */
export function release(n: PrimNode): void {
  n.holds--;
}

/**
 * Whether a run of `n` is in flight.
 * @internal
 */
export function isRunning(n: PrimNode): boolean {
  return n.run !== null;
}

/**
 * Cancel `n`'s run in flight with `reason` unless someone else still needs it: at most `ownHolds`
 * holds (the caller's own) and no observer or spawn keeping it live. Returns whether it cancelled.
 * Observers of `n` are marked stale; the caller drains the context when it is safe to.
 * @internal
 */
export function cancelIfUnheld(n: PrimNode, reason: Cancelled, ownHolds = 0): boolean {
  if (n.run === null || n.holds > ownHolds || n.eager) return false;
  cancelNode(n, reason);
  return true;
}

/**
 * Cancel `n` with `reason`: its run in flight (if any) rejects at its pending effect, and the node
 * caches the cancellation until an input changes or it is re-run.
 * @internal
 */
export function cancel(n: PrimNode, reason: Cancelled): void {
  cancelNode(n, reason);
}

/**
 * Call `fn` once the body of `n`'s run in flight has settled — finished, or unwound through its
 * `finally` blocks after a cancellation. Returns false (and never calls `fn`) when nothing runs.
 * @internal
 */
export function onSettled(n: PrimNode, fn: () => void): boolean {
  const run = n.run;
  if (run === null) return false;
  const more = run.moreOf();
  const prev = more.onSettled;
  run.rare = true;
  more.onSettled =
    prev === null
      ? fn
      : () => {
          prev();
          fn();
        };
  return true;
}

/**
 * Start `s` over in `ctx` if its node there is cancelled, idle, and `cancelledBy` accepts the
 * cancellation (e.g. one a combinator caused, which must not stick once the combinator is gone).
 * @internal
 */
export function rerunIfCancelled(
  ctx: KernelHost,
  s: Spin<unknown>,
  cancelledBy: (reason: unknown) => boolean,
): void {
  const n = ctx._nodeFor(s);
  if ((n.flags & Flag.CANCELLED) !== 0 && n.run === null && cancelledBy(n.result)) rerunNode(ctx._ownNode(s));
}

/**
 * Re-create in `ctx` the wait spin `id` had parked when `ctx`'s copy of a primitive's state was made
 * (a fork, or a context restored from a snapshot): the spin replays its in-flight log here and
 * registers its wait again.
 * @internal
 */
export function adoptParked(ctx: KernelHost, id: string): void {
  const own = ctx._ownedNode(id);
  if (own === undefined) {
    ctx._adopt(id);
    return;
  }
  // a deserialized spin gets its body back when its handle is next used: it resumes then
  if (own.run === null && own.adopt !== null && own.body !== null) refresh(own);
}
