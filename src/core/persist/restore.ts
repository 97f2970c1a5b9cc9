/**
 * Reviving contexts: a live root context from a snapshot or from serialized bytes. Internal module;
 * the functions are public API, re-exported by the package root.
 * @module
 */
import { Context, type ContextOptions } from "../context.js";
import { type ContextSnapshot, decodeSnapshot, restoreInto } from "./snapshot.js";

/** A new live root context from a snapshot. Cached results are served; in-flight runs resume when read. */
export function restoreSnapshot(snap: ContextSnapshot, opts?: ContextOptions): Context {
  return restoreInto(new Context(opts), snap);
}

/**
 * A live root context from bytes made by `ctx.serialize()`. Spin bodies are taken from the spin
 * handles of this process (matched by id); results are served from cache and re-run when inputs change.
 */
export function deserializeContext(bytes: Uint8Array, opts?: ContextOptions): Context {
  return restoreInto(new Context(opts), decodeSnapshot(bytes));
}
