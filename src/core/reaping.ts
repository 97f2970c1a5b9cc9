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
import type { SpinNode } from "./kernel/node.js";

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
