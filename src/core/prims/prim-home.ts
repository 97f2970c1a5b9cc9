/**
 * Where a deferred or a mailbox is awaited, so that an implicit delivery cannot silently go to the
 * wrong context. `d.deliver(v)` / `mb.post(m)` without a context, outside `ctx.run` and outside a
 * spin body, used to settle in the default context — while the spin waiting on it sits in another
 * context and hangs forever. Now such a delivery is refused with {@link AmbiguousContextError} when
 * the primitive has been awaited in other contexts and never in the default one. Internal, except
 * for the error class.
 * @module
 */
import { type Context, defaultContext } from "../context.js";
import { SpindelError } from "../errors.js";
import { currentContext } from "../globals.js";

/**
 * A deferred or mailbox was delivered to without a context (`d.deliver(v)`, `mb.post(m)` outside
 * `ctx.run` and outside a spin body) while it is awaited only in contexts other than the default
 * one. Code `ERR_AMBIGUOUS_CONTEXT`. Fix: pass the context, `d.deliver(v, ctx)` / `mb.post(m, ctx)`,
 * or deliver inside `ctx.run(() => …)`.
 */
export class AmbiguousContextError extends SpindelError {
  /** @param what the operation, e.g. "deliver a deferred" */
  constructor(what: string, name: string, contexts: number) {
    super(
      "ERR_AMBIGUOUS_CONTEXT",
      `cannot ${what} (${name}) without a context: it is awaited in ${contexts === 1 ? "another context" : `${contexts} other contexts`}, not in the default context, so an implicit delivery would never reach its waiters. Fix: pass the context, e.g. deliver(value, ctx) / post(message, ctx), or call it inside ctx.run(() => …).`,
      { operation: what, primitive: name, contexts },
    );
    this.name = "AmbiguousContextError";
  }
}

const homes = new WeakMap<object, WeakRef<Context>[]>();

/** @internal `prim` is awaited in `ctx` */
export function noteAwaited(prim: object, ctx: Context): void {
  let list = homes.get(prim);
  if (list === undefined) {
    list = [];
    homes.set(prim, list);
  }
  for (let i = list.length - 1; i >= 0; i--) {
    const c = list[i]!.deref();
    if (c === ctx) return;
    if (c === undefined || c.disposed) list.splice(i, 1);
  }
  list.push(new WeakRef(ctx));
}

/**
 * @internal refuse an implicit delivery (no `ctx`, no current context) to a primitive awaited only
 * in contexts other than the default one
 */
export function checkImplicitDelivery(
  prim: object,
  ctx: Context | undefined,
  what: string,
  name: string,
): void {
  if (ctx !== undefined || currentContext() !== null) return;
  const list = homes.get(prim);
  if (list === undefined || list.length === 0) return;
  const def = defaultContext();
  let others = 0;
  for (const ref of list) {
    const c = ref.deref();
    if (c === undefined || c.disposed) continue;
    if (c === def) return;
    others++;
  }
  if (others > 0) throw new AmbiguousContextError(what, name, others);
}
