/**
 * `oneShot(ctx, body, …)`: a body run once as a transient spin (what a served remote call uses). It behaves
 * like `ctx.value(spin(body))` — same scope, same errors, cancellation reaches `$.signal` — but
 * leaves nothing behind: no node in the context, no subscription on what it tracked.
 */
import { type Context, createContext, isCancelled, type SpinScope, signal, spin } from "spindel";
import { describe, expect, test } from "vitest";
import { oneShot } from "../../src/core/one-shot.js";
import { gate } from "./helpers.js";

type Outcome = { ok: boolean; value: unknown };

function start(
  ctx: Context,
  body: (s: SpinScope) => unknown,
): { outcome: Promise<Outcome>; cancel: () => void } {
  let settle!: (o: Outcome) => void;
  const outcome = new Promise<Outcome>((r) => {
    settle = r;
  });
  const cancel = oneShot(ctx, body, "test", (ok, value) => settle({ ok, value }));
  return { outcome, cancel };
}

describe("oneShot", () => {
  test("a synchronous body answers at once, and leaves no node and no subscription behind", () => {
    const ctx = createContext();
    const s = signal(2);
    const before = ctx._nodeCount;
    let got: Outcome | null = null;
    let runs = 0;
    oneShot(
      ctx,
      ($) => {
        runs++;
        return $.track(s) * 21;
      },
      "sync",
      (ok, value) => {
        got = { ok, value };
      },
    );
    expect(got).toEqual({ ok: true, value: 42 });
    expect(ctx._nodeCount).toBe(before);
    ctx.set(s, 3); // nothing re-runs: the transient is gone
    expect(runs).toBe(1);
  });

  test("an async body answers when it settles; errors come back as errors", async () => {
    const ctx = createContext();
    const g = gate<number>();
    const a = start(ctx, async ($) => (await $.await(g.promise)) + 1);
    g.resolve(41);
    expect(await a.outcome).toEqual({ ok: true, value: 42 });
    const boom = new Error("boom");
    const b = start(ctx, async () => {
      throw boom;
    });
    expect(await b.outcome).toEqual({ ok: false, value: boom });
    expect(ctx._nodeCount).toBe(0);
  });

  test("nested spins and awaited spins work as in any body", async () => {
    const ctx = createContext();
    const base = spin(async () => 20);
    const r = start(ctx, async ($) => {
      const inner = $.spin(async () => 2);
      return (await $.await(base)) + (await $.await(inner)) * 11;
    });
    expect(await r.outcome).toEqual({ ok: true, value: 42 });
  });

  test("cancel aborts the body's $.signal, runs its finally, and answers with Cancelled; later cancels are no-ops", async () => {
    const ctx = createContext();
    const aborted = gate<unknown>();
    const cleaned = gate<void>();
    const r = start(ctx, async ($) => {
      $.signal.addEventListener("abort", () => aborted.resolve($.signal.reason));
      try {
        return await $.await(new Promise(() => {}));
      } finally {
        cleaned.resolve();
      }
    });
    r.cancel();
    const o = await r.outcome;
    expect(o.ok).toBe(false);
    expect(isCancelled(o.value)).toBe(true);
    expect(isCancelled(await aborted.promise)).toBe(true);
    await cleaned.promise;
    r.cancel();
    const done = start(ctx, () => 1);
    expect(await done.outcome).toEqual({ ok: true, value: 1 });
    done.cancel(); // after it answered: nothing happens
  });

  test("disposing the context answers an in-flight transient with a cancellation", async () => {
    const ctx = createContext();
    const r = start(ctx, async ($) => $.await(new Promise(() => {})));
    ctx.dispose();
    const o = await r.outcome;
    expect(o.ok).toBe(false);
    expect(isCancelled(o.value) || (o.value as { code?: string }).code === "ERR_DISPOSED").toBe(true);
    expect(() => r.cancel()).not.toThrow(); // it already answered
    expect(() =>
      oneShot(
        ctx,
        () => 1,
        "late",
        () => {},
      ),
    ).toThrow(/disposed/);
  });

  test("in a fork it sees the fork's writes and leaves the parent alone", async () => {
    const root = createContext();
    const s = signal(1);
    const f = root.fork();
    f.set(s, 5);
    const r = start(f, ($) => $.track(s));
    expect(await r.outcome).toEqual({ ok: true, value: 5 });
    expect(root.get(s)).toBe(1);
    expect(f._nodeCount).toBe(0);
  });
});
