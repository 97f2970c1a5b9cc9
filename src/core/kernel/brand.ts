/**
 * The brand `$.track` tells a signal from a spin by: one property load on the handle's prototype,
 * where two `instanceof` walks of the prototype chain cost a tenth of a spin-to-spin re-run.
 * Internal.
 * @module
 */

/** Key of the brand on the prototypes of signal and spin handles. */
export const SOURCE_KIND: unique symbol = Symbol("spindel.sourceKind");
/** The brands of handles (`const enum`: written in place by the compiler and bundlers). */
// biome-ignore lint/suspicious/noConstEnum: internal, inlined by tsc (build) and esbuild
export const enum Brand {
  /** Brand of a signal handle. */
  SIGNAL_SOURCE = 1,
  /** Brand of a spin handle. */
  SPIN_SOURCE = 2,
}

/** What `$.track` receives: a branded handle, or anything else (rejected). */
export interface MaybeSource {
  readonly [SOURCE_KIND]?: number;
}

/** The brand of `x`: {@link Brand.SIGNAL_SOURCE}, {@link Brand.SPIN_SOURCE} or undefined. */
export function sourceKind(x: unknown): number | undefined {
  return x !== null && typeof x === "object" ? (x as MaybeSource)[SOURCE_KIND] : undefined;
}

let lastUid = 0;

/**
 * A process-unique number for a new signal or spin handle (`_uid`), copied into the log entries of
 * its reads: `prune` tells two entries' sources apart by comparing it, one integer compare where
 * the ids are strings (a call into the engine's string comparison). A handle stores it negated
 * while other handles may carry its id (keyed and nested handles): two positive numbers that differ
 * name two different ids, without comparing the ids. (`$.track` compares the handle itself, which
 * the entry keeps as `src`.)
 */
export function nextUid(): number {
  return ++lastUid;
}
