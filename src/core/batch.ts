/**
 * `batch`: writes inside commit at once (reads see them), propagation runs once at the end of the
 * outermost batch, so every observer re-runs at most once per batch.
 * @module
 */
import { batch as preactBatch } from "@preact/signals-core";
import { G } from "./globals.js";
import { flushPendingDrains } from "./kernel/engine.js";

/** What a batch remembers of a cell it writes (a structural view of `Cell`, no import needed). */
interface Versioned {
  val: unknown;
  version: number;
  deltas: unknown;
  deltasBase: number;
}

/** Cells written in the current outermost batch, with their state before its first write. */
let written: Map<Versioned, [unknown, number, unknown, number]> | null = null;

/** A cell is about to be written inside a batch: remember its state before the batch's first write. Internal. */
export function noteBatchWrite(cell: Versioned): void {
  const w = (written ??= new Map());
  if (!w.has(cell)) w.set(cell, [cell.val, cell.version, cell.deltas, cell.deltasBase]);
}

/**
 * End of the outermost batch: a cell whose value is back to what it was before the batch
 * (`Object.is`) gets its old version back, so nothing that read it before re-runs.
 */
function revertUnchanged(): void {
  const w = written;
  if (w === null) return;
  written = null;
  for (const [cell, [val, version, deltas, deltasBase]] of w) {
    if (!Object.is(cell.val, val)) continue;
    cell.version = version;
    cell.deltas = deltas;
    cell.deltasBase = deltasBase;
  }
}

/** Run `fn` with propagation deferred to the end of the outermost batch. Returns `fn`'s value. */
export function batch<T>(fn: () => T): T {
  G.batchDepth++;
  try {
    return preactBatch(fn);
  } finally {
    if (--G.batchDepth === 0) {
      revertUnchanged();
      flushPendingDrains();
    }
  }
}
