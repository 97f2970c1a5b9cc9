/**
 * The one interface every replicated datatype implements. Values are immutable: an operation
 * returns a new value that carries its pending delta; the sync layer publishes `delta`, then
 * stores `clearDelta()`. The no-op law makes a synced network fall silent: a `join` or
 * `applyDelta` that adds nothing returns the receiver itself (`===`), so nothing ticks and
 * nothing is re-published.
 * @module
 */

/**
 * A state-based CRDT with delta mutations (a join-semilattice).
 * - `join` is commutative, associative and idempotent (up to `equals`).
 * - `a.join(b) === a` and `a.applyDelta(d) === a` when `b` / `d` add nothing to `a`.
 * - Applying every delta a value produced, in any order and with duplicates, equals joining it.
 * - A value that `join` or `applyDelta` returns (other than the receiver) has no pending delta.
 */
export interface Convergent<Self, Delta> {
  /** The least upper bound of `this` and `other`; `this` itself when `other` adds nothing. */
  join(other: Self): Self;
  /** Integrates a delta; `this` itself when it adds nothing. The result has no pending delta. */
  applyDelta(delta: Delta): Self;
  /** What changed locally since the last `clearDelta()`, or `null`. */
  readonly delta: Delta | null;
  /** An equal value without a pending delta (`this` when there is none). */
  clearDelta(): Self;
  /** Same replicated state (pending deltas are not part of equality). */
  equals(other: Self): boolean;
}

/** Whether `v` implements {@link Convergent} (duck-typed on the five members). */
export function isConvergent(v: unknown): v is Convergent<unknown, unknown> {
  if (typeof v !== "object" || v === null) return false;
  const c = v as Partial<Record<"join" | "applyDelta" | "clearDelta" | "equals", unknown>>;
  return (
    typeof c.join === "function" &&
    typeof c.applyDelta === "function" &&
    typeof c.clearDelta === "function" &&
    typeof c.equals === "function" &&
    "delta" in v
  );
}
