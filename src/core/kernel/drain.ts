/**
 * A context's drain: the queue of live nodes an input change reached, brought up to date in
 * order once the write (or the batch, or the body running synchronously) is over. A node that
 * keeps invalidating itself is settled with `ERR_CYCLE` after {@link DrainLimit.MAX_RERUNS} re-runs in one
 * drain: a law, not an endless loop. Internal.
 * @module
 */
import { failNode, refresh } from "./engine.js";
import { SpindelError } from "./errors.js";
import { Flag } from "./flags.js";
import type { SpinNode } from "./node.js";

/** Limits of the drain (`const enum`: written in place by the compiler and bundlers). */
// biome-ignore lint/suspicious/noConstEnum: internal, inlined by tsc (build) and esbuild
export const enum DrainLimit {
  /** Re-runs of one node in one drain after which it is failed with `ERR_CYCLE`. */
  MAX_RERUNS = 1000,
}

/** Drains started in this process: a node counts its re-runs per drain. */
let drainGeneration = 0;

/** The drain queue of one context. Internal. */
export class Drain {
  /** Queued nodes; `[qi, qn)` are pending, the rest null. */
  private readonly queue: (SpinNode | null)[] = [];
  private qi = 0;
  private qn = 0;
  /** Whether {@link run} is in progress (a nested call returns at once). */
  running = false;
  /** Set when the context is disposed: queued nodes are dropped, not refreshed. */
  closed = false;

  /** Whether nothing is queued and no drain is in progress. */
  get idle(): boolean {
    return !this.running && this.qi >= this.qn;
  }

  /** Whether a node is waiting in the queue. */
  get pending(): boolean {
    return this.qi < this.qn;
  }

  /** Queue `n` (no-op if already queued). */
  schedule(n: SpinNode): void {
    if ((n.flags & Flag.QUEUED) !== 0) return;
    n.flags |= Flag.QUEUED;
    this.queue[this.qn++] = n;
  }

  /**
   * Refresh every queued node that someone still needs (observed, awaited or held), including
   * nodes queued while this runs. Once {@link closed}, it only empties the queue.
   */
  run(): void {
    if (this.running || this.qi >= this.qn) return;
    this.running = true;
    const gen = ++drainGeneration;
    try {
      const q = this.queue;
      while (this.qi < this.qn) {
        const n = q[this.qi]!;
        q[this.qi++] = null;
        n.flags &= ~Flag.QUEUED;
        // nobody needs it (the last observer left after it was queued, or a lazily read body
        // invalidated itself): it stays lazily stale; a run in flight finishes and is re-checked
        // on the next read
        if (n.subs === null && n.waiters === null && n.holds <= 0) continue; // (`subs` first: the usual queued node is observed)
        // the node's first refresh in this drain (the usual case) counts one without the
        // increment's load and test
        if (n.drainGen !== gen) {
          n.drainGen = gen;
          n.drainHits = 1;
        } else if (++n.drainHits > DrainLimit.MAX_RERUNS) {
          failNode(
            n,
            new SpindelError(
              "ERR_CYCLE",
              `spin ${n.label} re-ran ${DrainLimit.MAX_RERUNS} times in one drain: it keeps invalidating itself (cycle?)`,
              { spins: [n.label] },
            ),
          );
          continue;
        }
        if (!this.closed) refresh(n);
      }
    } finally {
      this.clear();
      this.running = false;
    }
  }

  /** Drop every queued node (their Flag.QUEUED flags cleared). */
  clear(): void {
    const q = this.queue;
    for (let i = this.qi; i < this.qn; i++) {
      q[i]!.flags &= ~Flag.QUEUED;
      q[i] = null;
    }
    this.qi = 0;
    this.qn = 0;
  }
}
