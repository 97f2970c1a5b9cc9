/**
 * The bits of `SpinNode.flags`, declared once. Every module that tests or sets a node flag uses
 * these names (never a literal).
 * @module
 */

/** An input changed since the node was last verified: its next read re-checks its effect log. */
export const STALE = 1;
/** The node is cancelled and stays so until an input changes or it is re-run explicitly. */
export const CANCELLED = 2;
/** The node waits for an async dependency to settle before it can tell whether it changed. */
export const CHECKING = 4;
/** The node sits in its context's drain queue. */
export const QUEUED = 8;
/** The body itself changed (a nested spin re-created with new captures): re-run from scratch. */
export const DIRTY = 16;
/**
 * A root node read once and never tracked: it lives on its handle only (not in the context's
 * node map, not watched for GC), holds no subscriptions, and is re-verified against its log on
 * every read. Tracking, observing or forking attaches it.
 */
export const DETACHED = 32;
