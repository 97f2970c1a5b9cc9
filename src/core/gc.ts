/**
 * Garbage collection of spin nodes: when a spin handle is collected, each context that holds a
 * node for it drops the node once it is quiescent (nothing running, observed or waiting).
 * @module
 */
import type { Context } from "./context.js";

interface Held {
  readonly ctx: WeakRef<Context>;
  readonly id: string;
}

const registry = new FinalizationRegistry<Held>((held) => {
  held.ctx.deref()?._reap(held.id);
});

/** Watch `handle`: when it is collected, context `ctx` may drop its node `id`. */
export function watchHandle(handle: object, ctx: WeakRef<Context>, id: string): void {
  registry.register(handle, { ctx, id });
}
