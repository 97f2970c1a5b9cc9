/** Helpers for the primitives and combinators tests (issue 3). */
import { type Context, createContext, type Spin } from "spindel";

/** Let queued microtasks and promise continuations run (a few macrotask turns; not a timed sleep). */
export async function flush(turns = 3): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((r) => setImmediate(r));
}

/** A root context on a virtual clock. */
export function vctx(name?: string): Context {
  return createContext({ clock: "virtual", name });
}

/** Advance virtual time by `ms`, then let the woken spins continue. */
export async function advance(ctx: Context, ms: number): Promise<void> {
  await flush();
  ctx.advanceTime(ms);
  await flush();
}

/** Settle state of a promise without waiting for it. */
export function track<T>(p: Promise<T>): {
  readonly state: "pending" | "ok" | "error";
  value?: T;
  error?: unknown;
} {
  const r: { state: "pending" | "ok" | "error"; value?: T; error?: unknown } = { state: "pending" };
  p.then(
    (v) => {
      r.state = "ok";
      r.value = v;
    },
    (e) => {
      r.state = "error";
      r.error = e;
    },
  );
  return r;
}

/** The error a promise rejects with (fails the test if it resolves). */
export async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error("expected a rejection");
}

/** Observe `s` in `ctx`, collecting values and errors. */
export function collect<T>(ctx: Context, s: Spin<T>): { values: T[]; errors: unknown[]; stop: () => void } {
  const values: T[] = [];
  const errors: unknown[] = [];
  const stop = ctx.observe(
    s,
    (v) => values.push(v),
    (e) => errors.push(e),
  );
  return { values, errors, stop };
}
