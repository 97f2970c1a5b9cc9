/**
 * `deferred<T>()`: a single-assignment value a spin can wait on with `$.await(d)`. Its state lives
 * per context (a fork has its own copy); `undefined`, `null` and `false` are values like any other.
 * @module
 */
import { type OnceSource, WAIT, type Waiter } from "../awaitable.js";
import type { Context, PrimitiveState } from "../context.js";
import {
  decodeError,
  type EncodedError,
  encodeError,
  primitiveId,
  type Revivable,
  registerPrimitive,
  type SerializableState,
} from "../registry.js";
import { adoptInherited, contextFor, type PrimitiveOptions, parkedIds, waitsToInherit } from "./prim.js";
import { checkImplicitDelivery, noteAwaited } from "./prim-home.js";

/** What a deferred holds in one context. */
export type DeferredStatus<T> =
  | { readonly status: "pending" }
  | { readonly status: "ok"; readonly value: T }
  | { readonly status: "error"; readonly error: unknown };

class DeferredState implements PrimitiveState, SerializableState {
  /** 0 pending, 1 delivered, 2 failed. */
  status: 0 | 1 | 2 = 0;
  value: unknown = undefined;
  readonly waiters: Waiter<unknown>[] = [];
  /** Spins parked on the deferred when this copy was made (fork/restore): adopted on delivery. */
  inherited: string[] | null = null;

  constructor(readonly id: string) {}

  forked(): DeferredState {
    const s = new DeferredState(this.id);
    s.status = this.status;
    s.value = this.value;
    if (this.status === 0) s.inherited = waitsToInherit(this.waiters, this.inherited);
    return s;
  }

  snapshot(): DeferredState {
    return this.forked();
  }

  dispose(): void {
    this.waiters.length = 0;
    this.inherited = null;
  }

  serialize(): { id: string; data: unknown } {
    const value = this.status === 2 ? encodeError(this.value) : this.value;
    return {
      id: this.id,
      data: { status: this.status, value, waiting: parkedIds(this.waiters, this.inherited) },
    };
  }
}

/**
 * A single-assignment value. `$.await(d)` in a spin resolves once `d` is delivered (at once if it
 * already is); `d.deliver(v)` succeeds exactly once per context and returns whether it did.
 *
 * ```ts
 * const ready = deferred<string>();
 * const s = spin(async ($) => `got ${await $.await(ready)}`);
 * const p = ctx.value(s);
 * ready.deliver("it", ctx);   // true; a second deliver returns false
 * await p;                    // "got it"
 * ```
 *
 * Operations take an optional context; without one they use the current context (`ctx.run`, or
 * the synchronous part of a body), else the default context. After an `await` inside a body pass
 * `$.context` explicitly.
 */
export class Deferred<T> implements OnceSource<T>, Revivable {
  /** Stable id (the `key` option or a process-local counter). */
  readonly id: string;
  /** Debug name. */
  readonly name: string | undefined;

  /** Use {@link deferred}. @param opts options */
  constructor(opts?: PrimitiveOptions) {
    this.id = primitiveId("deferred", opts?.key);
    this.name = opts?.name;
    registerPrimitive(this);
  }

  private state(ctx: Context): DeferredState {
    return ctx._state(this, () => new DeferredState(this.id));
  }

  /** Deliver `value` in `ctx` (exactly once): every waiting spin resumes. Returns false if already settled. */
  deliver(value: T, ctx?: Context): boolean {
    checkImplicitDelivery(this, ctx, "deliver a deferred", String(this));
    return this.settle(contextFor(ctx, "deliver a deferred"), 1, value);
  }

  /** Fail the deferred in `ctx` (exactly once): waiting spins get `error` thrown at their `$.await`. */
  fail(error: unknown, ctx?: Context): boolean {
    checkImplicitDelivery(this, ctx, "fail a deferred", String(this));
    return this.settle(contextFor(ctx, "fail a deferred"), 2, error);
  }

  private settle(ctx: Context, status: 1 | 2, value: unknown): boolean {
    const st = this.state(ctx);
    if (st.status !== 0) return false;
    st.status = status;
    st.value = value;
    const ws = st.waiters.splice(0);
    for (const w of ws) {
      if (status === 1) w.resolve(value);
      else w.reject(value);
    }
    adoptInherited(ctx, st);
    return true;
  }

  /** Whether the deferred is settled in `ctx`, and with what. */
  peek(ctx?: Context): DeferredStatus<T> {
    const st = this.state(contextFor(ctx, "read a deferred"));
    if (st.status === 0) return { status: "pending" };
    return st.status === 1 ? { status: "ok", value: st.value as T } : { status: "error", error: st.value };
  }

  /** True once delivered or failed in `ctx`. */
  isSettled(ctx?: Context): boolean {
    return this.state(contextFor(ctx, "read a deferred")).status !== 0;
  }

  /** The one-shot wait behind `$.await(deferred)` (the `OnceSource` protocol). */
  [WAIT](ctx: Context, waiter: Waiter<T>): void {
    noteAwaited(this, ctx);
    const st = this.state(ctx);
    if (st.status === 1) {
      waiter.resolve(st.value as T);
      return;
    }
    if (st.status === 2) {
      waiter.reject(st.value);
      return;
    }
    const w = waiter as Waiter<unknown>;
    st.waiters.push(w);
    waiter.onAbandon(() => {
      const i = st.waiters.indexOf(w);
      if (i >= 0) st.waiters.splice(i, 1);
    });
  }

  /** @internal state rebuilt from serialized data */
  _revive(data: unknown): PrimitiveState {
    const d = data as { status: 0 | 1 | 2; value: unknown; waiting?: string[] };
    const s = new DeferredState(this.id);
    s.status = d.status;
    s.value = d.status === 2 ? decodeError(d.value as EncodedError) : d.value;
    if (d.status === 0 && Array.isArray(d.waiting) && d.waiting.length > 0) s.inherited = d.waiting.slice();
    return s;
  }

  /** Debug representation. */
  toString(): string {
    return `Deferred(${this.name ?? this.id})`;
  }
}

/**
 * Create a single-assignment {@link Deferred}. `$.await(d)` waits for it; `d.deliver(v)` settles
 * it exactly once (per context). `undefined`, `null` and `false` are ordinary values.
 */
export function deferred<T>(opts?: PrimitiveOptions): Deferred<T> {
  return new Deferred<T>(opts);
}
