/**
 * The bits of `SpinNode.flags`, declared once. Every module that tests or sets a node flag uses
 * these names (never a literal). A `const enum`: the compiler and bundlers write the
 * numbers in place (a module constant is a variable load in an esbuild bundle and in the output of
 * tsc alike, several instructions on every test of a flag).
 * @module
 */

/** The bits of `SpinNode.flags`. */
// biome-ignore lint/suspicious/noConstEnum: internal, inlined by tsc (build) and esbuild
export const enum Flag {
  /** An input changed since the node was last verified: its next read re-checks its effect log. */
  STALE = 1,
  /** The node is cancelled and stays so until an input changes or it is re-run explicitly. */
  CANCELLED = 2,
  /** The node waits for an async dependency to settle before it can tell whether it changed. */
  CHECKING = 4,
  /** The node sits in its context's drain queue. */
  QUEUED = 8,
  /** The body itself changed (a nested spin re-created with new captures): re-run from scratch. */
  DIRTY = 16,
  /**
   * A root node out of its context's node map: read once and never tracked, or released once nothing
   * needed it (reaping.ts). It lives on its handle only, nothing subscribes to it, it holds no
   * subscriptions once settled, and a read re-verifies it against its log. Tracking, observing or
   * forking attaches it, and so does attaching a node whose log reads it.
   */
  DETACHED = 32,
  /**
   * A root's node that is its handle's own slot (`handle._node`) and may leave the node map once
   * nothing needs it (see `releaseNode` in reaping.ts): a top-level spin without a key, in the first
   * root that used its handle. Nested and keyed spins never have it.
   */
  ON_HANDLE = 64,
  /** The node's handle is registered for reaping in the node's context (registered once). */
  WATCHED = 128,
  /** The node's handle waits in the end-of-job watch list (see `watchSoon` in reaping.ts). */
  WATCH_PENDING = 256,
  /**
   * The node's spare run (`SpinNode.spare`) comes from a run that had nothing for the general
   * engine to do around it: a synchronous body (in a root or a fork) that entered no write or
   * one-shot wait, created no nested spin and left no cleanup. Its next re-run from a clean check takes the lean
   * path (`leanRun` in engine.ts). Set and cleared only where a spare is kept: it says nothing
   * while `spare` is null.
   */
  LEAN = 512,
  /**
   * The node is a fork's (its context has a parent), set with {@link LEAN} where a spare is kept
   * and never cleared (a node's context does not change): the lean path's fork-only steps test this
   * bit of the flags it loads anyway instead of the context's parent.
   */
  LEAN_FORK = 1024,
  /**
   * A root's node whose committed log comes from a run that did nothing rare (`Run.rare`: every
   * entry a read of a signal or a spin, referencing the root's cell or node): its check may take
   * the lean walk (in `leanRefresh`) without a spare run, as a node that never re-runs (a constant
   * input upstream) is checked on every write. Set at the general commit; `installLog` clears it
   * (a log from elsewhere: a killed run's, an ancestor's, a snapshot's), and a fork's copy of the
   * node does not take it.
   */
  LEAN_LOG = 2048,
  /**
   * A root's node that waits in the end-of-job watch list for its entry in the node map as well
   * (see `watchSoon` in reaping.ts): it is attached and counts as in the map (`Context.nodes`
   * makes the entry before anyone reads the map), but a node released in the job it was made in
   * never touches the map.
   */
  MAP_PENDING = 4096,
}
