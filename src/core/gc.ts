/**
 * Garbage collection: when a spin handle is collected, each context that holds a node for it drops
 * the node once it is quiescent (nothing running, observed or waiting); when an unkeyed signal
 * handle is collected, contexts drop its cell unless a spin still tracks it.
 * @module
 */
import type { Context } from "./context.js";

interface Held {
  readonly ctx: WeakRef<Context>;
  readonly id: string;
  readonly signal: boolean;
}

const registry = new FinalizationRegistry<Held>((held) => {
  const ctx = held.ctx.deref();
  if (ctx === undefined) return;
  if (held.signal) ctx._reapCell(held.id);
  else ctx._reap(held.id);
});

/** Watch `handle`: when it is collected, context `ctx` may drop its node `id`. */
export function watchHandle(handle: object, ctx: WeakRef<Context>, id: string): void {
  registry.register(handle, { ctx, id, signal: false });
}

/** Watch a signal handle: when it is collected, context `ctx` may drop its cell `id`. */
export function watchSignal(handle: object, ctx: WeakRef<Context>, id: string): void {
  registry.register(handle, { ctx, id, signal: true });
}
