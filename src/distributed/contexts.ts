/**
 * The per-peer context registry: which execution context an incoming call runs in. A caller
 * addresses `[peer, contextId]`; the callee looks the id up here (absent id: `"default"`).
 * Register forks under their own ids to let callers address them (a fork sees its own writes).
 * @module
 */
import { Context } from "../core/context.js";
import { invalidArgument } from "../core/errors.js";

/** The id used when a call names no context. */
export const DEFAULT_CONTEXT_ID = "default";

/** Contexts of one peer, by id. */
export class ContextRegistry {
  private readonly byId = new Map<string, Context>();

  /**
   * Register `ctx` under `id` (replacing any context registered under it).
   * @returns a function that unregisters it again (only if it is still the one registered)
   */
  register(id: string, ctx: Context): () => void {
    if (typeof id !== "string" || id === "")
      invalidArgument("contexts.register: the id must be a non-empty string");
    if (!(ctx instanceof Context))
      invalidArgument(`contexts.register: expected a Context, got ${String(ctx)}`);
    this.byId.set(id, ctx);
    return () => {
      if (this.byId.get(id) === ctx) this.byId.delete(id);
    };
  }

  /** Remove the context registered under `id`; returns whether there was one. */
  unregister(id: string): boolean {
    return this.byId.delete(id);
  }

  /** The context registered under `id` (default `"default"`), or undefined. */
  get(id: string = DEFAULT_CONTEXT_ID): Context | undefined {
    return this.byId.get(id);
  }

  /** Whether a context is registered under `id`. */
  has(id: string): boolean {
    return this.byId.has(id);
  }

  /** The registered ids, in registration order. */
  list(): string[] {
    return [...this.byId.keys()];
  }

  /** Remove every registration (the contexts themselves are not disposed). */
  clear(): void {
    this.byId.clear();
  }
}
