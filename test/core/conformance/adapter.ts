/**
 * spindel as a `reactive-framework-test-suite` framework: a signal is a spindel signal, a computed
 * a synchronous spin, an effect an observed spin whose returned function is its `$.onCleanup`.
 * Reads inside a body go through the body's scope `$` (the adapter keeps the stack of scopes);
 * reads outside are `ctx.get` / `ctx.read`. Errors of effects surface at the write (or effect
 * creation) that caused them, as in the suite's reference frameworks.
 */
import type { ReactiveFramework } from "reactive-framework-test-suite";
import { batch, type Context, Spin, type SpinScope, signal } from "spindel";

/** A framework bound to `ctx` (a root context or a fork). */
export function spindelFramework(ctx: Context, name: string): ReactiveFramework {
  const scopes: (SpinScope | null)[] = [];
  const errors: unknown[] = [];
  let ids = 0;
  let depth = 0;
  const top = (): SpinScope | null => (scopes.length > 0 ? scopes[scopes.length - 1]! : null);
  function within<T>($: SpinScope | null, fn: () => T): T {
    scopes.push($);
    try {
      return fn();
    } finally {
      scopes.pop();
    }
  }
  /** Run an outer operation; effect errors raised meanwhile are thrown at its end. */
  function outer<T>(fn: () => T): T {
    depth++;
    let out: T;
    try {
      out = fn();
    } finally {
      depth--;
    }
    if (depth === 0 && errors.length > 0) {
      const first = errors[0];
      errors.length = 0;
      throw first;
    }
    return out;
  }
  return {
    name,
    signal<T>(init: T) {
      const s = signal(init);
      return {
        read: (): T => {
          const $ = top();
          return $ !== null ? $.track(s) : ctx.get(s);
        },
        write: (v: T): void => outer(() => ctx.set(s, v)),
      };
    },
    computed<T>(fn: () => T) {
      const sp = new Spin<T>(($) => within($, fn), undefined, `rfts${++ids}`);
      return {
        read: (): T => {
          const $ = top();
          return $ !== null ? $.track(sp) : ctx.read(sp);
        },
      };
    },
    // biome-ignore lint/suspicious/noConfusingVoidType: the suite's ReactiveFramework signature
    effect(fn: () => void | (() => void)): () => void {
      const sp = new Spin<undefined>(
        ($) => {
          const cleanup = within($, fn);
          // a cleanup reads untracked, whichever body happens to be running when it is called
          if (typeof cleanup === "function") $.onCleanup(() => within(null, cleanup));
          return undefined;
        },
        undefined,
        `rfts${++ids}`,
      );
      return outer(() =>
        ctx.observe(
          sp,
          () => {},
          (err) => {
            errors.push(err);
          },
        ),
      );
    },
    run(fn: () => void): void {
      ctx.run(fn);
    },
    batch(fn: () => void): void {
      outer(() => batch(fn));
    },
    untracked<T>(fn: () => T): T {
      return within(null, fn);
    },
  };
}
