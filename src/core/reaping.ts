/**
 * Garbage collection of context state. When a spin handle is collected, each context that holds a
 * node for it drops the node once it is quiescent (nothing running, observed or waiting; else it
 * is swept when the context next settles); when an unkeyed signal handle is collected, contexts
 * drop its cell unless a spin still tracks it. A fork that owns nodes registers with its
 * ancestors, so disposing one of them reaches the fork's runs. Internal.
 * @module
 */
import type { Context } from "./context.js";
import { G } from "./globals.js";
import { prune } from "./kernel/engine.js";
import { CHECKING, DETACHED, ON_HANDLE, UNWATCHED, WATCH_PENDING, WATCHED } from "./kernel/flags.js";
import type { Entry, SpinNode } from "./kernel/node.js";

interface Held {
  readonly ctx: WeakRef<Context>;
  readonly id: string;
  readonly signal: boolean;
}

const registry = new FinalizationRegistry<Held>((held) => {
  const ctx = held.ctx.deref();
  if (ctx === undefined) return;
  if (held.signal) reapCell(ctx, held.id);
  else reapNode(ctx, held.id);
});

/**
 * Watch `handle`: when it is collected, context `ctx` may drop its node `id`.
 * @internal
 */
export function watchHandle(handle: object, ctx: WeakRef<Context>, id: string): void {
  registry.register(handle, { ctx, id, signal: false });
}

/** Root nodes attached in the current job whose handles are not watched yet (see {@link watchSoon}). */
const pendingNodes: SpinNode[] = [];
/** The handles of {@link pendingNodes}, at the same index (held until the flush). */
const pendingHandles: object[] = [];
let flushQueued = false;

/**
 * Watch the handle of root node `n` at the end of the current job if the node is still in its
 * context's map then. A node created and released within one job (observed and stopped, a graph
 * built and dropped) lives on its handle only and needs no watch: a finalization registration
 * costs far more than the node (the handle then outlives the young generation).
 * @internal
 */
export function watchSoon(n: SpinNode, handle: object): void {
  if ((n.flags & (WATCHED | WATCH_PENDING)) !== 0) return;
  n.flags = (n.flags | WATCH_PENDING) & ~UNWATCHED;
  pendingNodes.push(n);
  pendingHandles.push(handle);
  if (pendingNodes.length >= 1024) flushWatches();
  else if (!flushQueued) {
    flushQueued = true;
    queueMicrotask(flushWatches);
  }
}

function flushWatches(): void {
  flushQueued = false;
  for (let i = 0; i < pendingNodes.length; i++) {
    const n = pendingNodes[i]!;
    n.flags &= ~WATCH_PENDING;
    // released meanwhile: it lives on its handle; attached again by its handle, it is queued again
    if ((n.flags & (DETACHED | WATCHED)) !== 0) continue;
    n.flags |= WATCHED;
    watchHandle(pendingHandles[i]!, (n.ctx as Context).weak, n.id);
  }
  pendingNodes.length = 0;
  pendingHandles.length = 0;
}

/**
 * Watch a signal handle: when it is collected, context `ctx` may drop its cell `id`.
 * @internal
 */
export function watchSignal(handle: object, ctx: WeakRef<Context>, id: string): void {
  registry.register(handle, { ctx, id, signal: true });
}

/**
 * Nothing needs the node: no run in flight, no observer, subscriber, pin, waiter or hold.
 * @internal
 */
export function quiescent(n: SpinNode): boolean {
  return (
    n.run === null &&
    !n.eager &&
    n.waiters === null &&
    n.holds <= 0 &&
    (n.observers === null || n.observers.size === 0)
  );
}

/** The handle of an unkeyed signal was collected: drop its cell unless something still tracks it. */
function reapCell(ctx: Context, id: string): void {
  const cell = ctx.cells.get(id);
  if (cell !== undefined && (cell.observers === null || cell.observers.size === 0)) ctx.cells.delete(id);
}

/** The handle of a spin was collected: drop its node now if quiescent, else when the context settles. */
function reapNode(ctx: Context, id: string): void {
  const n = ctx.nodes.get(id);
  if (n === undefined) return;
  if (quiescent(n)) dropNode(ctx, n);
  else ctx.orphans.add(id);
}

/**
 * Drop the nodes whose handles were collected while they were busy, now quiescent.
 * @internal
 */
export function sweepOrphans(ctx: Context): void {
  for (const id of ctx.orphans) {
    const n = ctx.nodes.get(id);
    if (n === undefined) ctx.orphans.delete(id);
    else if (quiescent(n)) {
      ctx.orphans.delete(id);
      dropNode(ctx, n);
    }
  }
}

function dropNode(ctx: Context, n: SpinNode): void {
  G.epoch++;
  prune(n, n.log, []);
  ctx.nodes.delete(n.id);
}

/**
 * Fork `ctx` now owns nodes: register it with its ancestors, so disposing one of them reaches its runs.
 * @internal
 */
export function registerLive(ctx: Context): void {
  ctx.liveRegistered = true;
  const me = ctx.weak;
  for (let a = ctx.parent; a !== null; a = a.parent) (a.liveForks ??= new Set()).add(me);
}

const NO_LOG: readonly Entry[] = [];

/**
 * A root's node that nothing in its context needs any more (no observer node, no subscriber,
 * nothing running or waiting, no nested spins, no fork that owns nodes) leaves the node map and
 * its sources' observer sets and lives on its handle only, as a one-off read's node does
 * ({@link DETACHED}): it goes with its handle. Without this, a dropped graph was kept one
 * finalization callback per layer (each node's body holds the handles it reads, and the map held
 * the node). Its sources are released in turn when it was their last observer. The next track,
 * observe or fork of the handle attaches it again.
 * @internal
 */
export function releaseNode(ctx: Context, n: SpinNode): void {
  if (
    (n.flags & (ON_HANDLE | DETACHED | CHECKING)) !== ON_HANDLE ||
    n.children !== null ||
    !quiescent(n) ||
    (ctx.liveForks !== null && ctx.liveForks.size > 0) ||
    ctx.nodes.get(n.id) !== n
  )
    return;
  ctx.nodes.delete(n.id);
  G.epoch++;
  prune(n, n.log, NO_LOG); // still attached here: its sources it was the last observer of go too
  n.flags |= DETACHED;
}
