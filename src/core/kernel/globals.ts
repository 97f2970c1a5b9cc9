/**
 * Process-wide mutable state shared by the core modules: the current context and run, the
 * global version counter and the batch depth. Internal.
 * @module
 */
import type { Context } from "../context.js";
import type { SpinNode } from "./node.js";
import type { Run } from "./run.js";

/** Mutable engine globals. A single object keeps reads monomorphic and avoids live-binding cycles. */
export const G: {
  /** The run whose body is executing synchronously right now (for nested `spin()` addressing). */
  run: Run | null;
  /**
   * The current context (read by `sig.value`): `null` is the default context. Set by `ctx.run`
   * and while a body runs. A field of this object, not a module variable: a body's start and end
   * store it beside {@link run} (the engine could not assign an imported binding; a call of a
   * module function is guarded by a load and compare of the function, 4 instructions each).
   */
  current: Context | null;
  /** Monotone version counter shared by signal cells and spin results. */
  version: number;
  /** Depth of nested `batch` calls. */
  batchDepth: number;
  /** Contexts that need a drain when the outermost batch ends. */
  pendingDrain: Set<Context>;
  /**
   * Whether {@link pendingDrain} may hold a context (set with every add, cleared when it is
   * emptied): the end of every run tests this field of an object it loads anyway, where the
   * set's size is three dependent loads.
   */
  drainDeferred: boolean;
  /** Lazily created default context. */
  defaultContext: Context | null;
  /**
   * Bumped by every change a fork cannot see through its own subscriptions (signal writes in any
   * context, cancellations, re-runs, async settlements): a node verified at the current epoch is
   * up to date in its context without another walk of its log.
   */
  epoch: number;
  /**
   * Bumped when a fork creates a cell of its own for a signal (from then on the fork and its
   * forks see that cell instead of an ancestor's): a cell a log entry references is the visible
   * one while this has not moved since the run.
   */
  shadowGen: number;
  /**
   * Log walks done (`stats.checks` in engine.ts): a field of this object, which the walks load
   * anyway, where a module variable was 9 instructions a walk.
   */
  checks: number;
  /**
   * A spin whose refresh threw (a stack overflow) with a run that may never end: repaired by
   * `dropStuck` once the stack unwound, at the next `ctx.read` or `ctx.observe` (no room for it there).
   */
  stuck: SpinNode | null;
} = {
  run: null,
  current: null,
  version: 0,
  batchDepth: 0,
  pendingDrain: new Set(),
  drainDeferred: false,
  defaultContext: null,
  epoch: 1,
  shadowGen: 1,
  checks: 0,
  stuck: null,
};

/** The current context ({@link G.current}; null: the default context). */
export function currentContext(): Context | null {
  return G.current;
}

/** Set the current context ({@link G.current}; null: default). Returns the previous one. */
export function setCurrent(c: Context | null): Context | null {
  const prev = G.current;
  G.current = c;
  return prev;
}

/** Next global version number. */
export function nextVersion(): number {
  return ++G.version;
}

/**
 * Defer `ctx`'s drain until the outermost batch or synchronous body ends (`flushPendingDrains`,
 * engine.ts, empties the set and clears the flag). The one place that adds to `G.pendingDrain`,
 * so `G.drainDeferred` (what the end of every run tests) cannot miss an add. Internal.
 */
export function deferDrain(ctx: Context): void {
  G.pendingDrain.add(ctx);
  G.drainDeferred = true;
}
