/**
 * `batch`: writes inside commit at once (reads see them), propagation runs once at the end of the
 * outermost batch, so every observer re-runs at most once per batch.
 * @module
 */
import { batch as preactBatch } from "@preact/signals-core";
import { G } from "./globals.js";

/** Run the drains deferred by a batch or by a body that was running synchronously. Internal. */
export function flushPendingDrains(): void {
  if (G.pendingDrain.size === 0 || G.batchDepth > 0 || G.run !== null) return;
  const ctxs = [...G.pendingDrain];
  G.pendingDrain.clear();
  for (const c of ctxs) c._drainSoon();
}

/** Run `fn` with propagation deferred to the end of the outermost batch. Returns `fn`'s value. */
export function batch<T>(fn: () => T): T {
  G.batchDepth++;
  try {
    return preactBatch(fn);
  } finally {
    if (--G.batchDepth === 0) flushPendingDrains();
  }
}
