/**
 * One-shot spins: a body run once in a context as a transient spin, for callers that own the only
 * reference to it (a served remote call). No handle and no GC tracking: nothing but the caller can
 * reach it, and the node is dropped as soon as it answers. Internal.
 * @module
 */
import type { Context } from "./context.js";
import { cancelNode, isReady, prune, refresh, whenReady } from "./kernel/engine.js";
import { type Entry, SpinNode } from "./kernel/node.js";
import { quiescent, registerLive } from "./reaping.js";
import { freshSpinId, type SpinBody } from "./spin.js";

const EMPTY_LOG: readonly Entry[] = [];
const noop = (): void => {};

/**
 * Run `body` once in `ctx` as a transient spin: `value(spin(body))` without the handle. `done` gets
 * its first ready outcome (`ok` false: `value` is the error, a `Cancelled` after the returned
 * cancel function was called), then the node is dropped. The returned function cancels it (a no-op
 * once it answered; disposing the context answers it). Throws like `ctx.value` when the context
 * is disposed.
 * @internal
 */
export function oneShot(
  ctx: Context,
  body: SpinBody<unknown>,
  name: string,
  done: (ok: boolean, value: unknown) => void,
): () => void {
  ctx._check("run a spin");
  const n = new SpinNode(freshSpinId(), ctx, body, Object.is, undefined, name);
  if (ctx.parent !== null && !ctx.liveRegistered) registerLive(ctx);
  refresh(n);
  if (isReady(n)) {
    // settled synchronously: it never needed to be reachable
    prune(n, n.log, EMPTY_LOG);
    done(n.status === 1, n.result);
    return noop;
  }
  return pending(ctx, n, done);
}

/**
 * The rest of {@link oneShot} for a body that did not settle at once. (A function of its own: its
 * closures would make the synchronous answers allocate a context for what they capture.)
 */
function pending(ctx: Context, n: SpinNode, done: (ok: boolean, value: unknown) => void): () => void {
  const transients = (ctx.transients ??= new Set());
  transients.add(n);
  let settled = false;
  n.holds++;
  whenReady(n, (m) => {
    settled = true;
    m.holds--;
    transients.delete(m);
    if (quiescent(m)) prune(m, m.log, EMPTY_LOG);
    done(m.status === 1, m.result);
  });
  return () => {
    if (settled) return;
    ctx._check("cancel a spin");
    cancelNode(n);
    ctx._drainSoon();
  };
}
