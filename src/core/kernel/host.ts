/**
 * The kernel's host: what the engine needs from the context a node lives in (alien-signals'
 * `createReactiveSystem` takes the same kind of seam as functions). The runtime's `Context`
 * implements it; the kernel never sees the rest of `Context`.
 * @module
 */
import type { Signal } from "../signal.js";
import type { Spin, SpinBody, SpinOptions } from "../spin.js";
import type { Cell } from "./cell.js";
import type { Kind, SpinNode } from "./node.js";
import type { SpinHandle } from "./spin-handle.js";

/** What a context provides to the nodes and runs living in it. Internal. */
export interface KernelHost {
  /** The context this one was forked from (null: a root). */
  readonly parent: KernelHost | null;
  /** Queue `n` for the next drain of this context (no-op if queued). */
  _schedule(n: SpinNode): void;
  /** Run the drain now, or at the end of the batch or body in progress. */
  _drainSoon(): void;
  /** Count a run starting (+1) or parking/settling (-1) towards `settled()`. */
  _busy(delta: number): void;
  /** Report an error nobody handles (the context's `onError`). */
  _report(source: string, error: unknown): void;
  /** Version of the signal with this id as seen here (0: never written). */
  _versionOf(id: string): number;
  /**
   * The node serving spin `id` here: own, or an ancestor's still valid here (`own`: always own).
   * `handle`: the spin's handle when known (a log entry's), so that a node made for it here is
   * released and reaped by its handle as one a read makes.
   */
  _node(id: string, handle: SpinHandle | undefined, own: boolean): SpinNode | undefined;
  /**
   * Drop `observer`'s subscription to a signal or spin (`ref`: the entry's source object, `src`:
   * the handle it read, each if known).
   */
  _unsubscribe(kind: Kind, id: string, observer: SpinNode, ref: object | null, src: object | null): void;
  /** The cell of `sig` visible here, for a read that keeps no reference to it (untracked). */
  _peekCell(sig: Signal<unknown>): Cell;
  /** Subscribe `observer` to `sig`; returns the cell visible here. */
  _trackSignal(sig: Signal<unknown>, observer: SpinNode): Cell;
  /** Subscribe `observer` to spin `s`; returns the node serving it here. */
  _trackSpin(s: Spin<unknown>, observer: SpinNode): SpinNode;
  /** The handle of a spin nested in `parent`'s body at `addr` (stable across re-runs, capture-gated). */
  _nestedSpin<T>(
    parent: SpinNode,
    body: SpinBody<T>,
    opts: SpinOptions<T> | undefined,
    addr: string,
    inPrefix: boolean,
  ): Spin<T>;
  /** The node serving spin `s` here: own, or an ancestor's still valid here (never copied). */
  _nodeFor(s: Spin<unknown>): SpinNode;
  /** The node of spin `s` owned by this context (a fork copies an ancestor's now). */
  _ownNode(s: Spin<unknown>): SpinNode;
  /** The node of spin `id` this context owns, if any (no ancestor, no creation). */
  _ownedNode(id: string): SpinNode | undefined;
  /** Re-create here the wait an ancestor's spin `id` is parked on, by replaying its in-flight log. */
  _adopt(id: string): void;
  /** Write a signal here (`$.set`). */
  set<T>(sig: Signal<T>, value: T): void;
}
