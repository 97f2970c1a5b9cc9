/**
 * Cancellation cascades through race, parallel and timeout: every cancelled body unwinds through
 * its `finally`, its `$.signal` aborts, and its timers are disarmed.
 */
import { isCancelled, parallel, race, type Spin, type SpinScope, sleep, spin, timeout } from "spindel";
import { describe, expect, test } from "vitest";
import { flush, rejection, track, vctx } from "./helpers.js";

/** A leaf that waits on an abortable thunk (like `fetch(url, { signal })`) and logs its unwinding. */
function leaf(name: string, log: string[], signals: AbortSignal[]): Spin<string> {
  return spin(
    async ($: SpinScope) => {
      try {
        return await $.await(
          (signal: AbortSignal) =>
            new Promise<string>((_resolve, reject) => {
              signals.push(signal);
              signal.addEventListener("abort", () => reject(signal.reason));
            }),
        );
      } finally {
        log.push(`finally ${name}`);
      }
    },
    { name },
  );
}

describe("cancellation cascades", () => {
  test("cancel → parallel → race + timeout: every leaf unwinds, signals abort, timers are disarmed", async () => {
    const ctx = vctx();
    const log: string[] = [];
    const signals: AbortSignal[] = [];
    const a = leaf("a", log, signals);
    const b = leaf("b", log, signals);
    const c = leaf("c", log, signals);
    const outer = spin(
      async ($) => {
        try {
          return await $.await(parallel(race(a, b, sleep(1000, "late")), timeout(c, 500, "fallback")));
        } finally {
          log.push("finally outer");
        }
      },
      { name: "outer" },
    );
    const p = ctx.value(outer);
    await flush();
    expect(signals.length).toBe(3);
    expect(ctx.clock.pending).toBe(2);
    ctx.cancel(outer);
    expect(isCancelled(await rejection(p))).toBe(true);
    await flush();
    expect(log.sort()).toEqual(["finally a", "finally b", "finally c", "finally outer"]);
    expect(signals.every((s) => s.aborted)).toBe(true);
    expect(ctx.clock.pending).toBe(0);
  });

  test("cancelling a timeout cancels its child and disarms its timer", async () => {
    const ctx = vctx();
    const log: string[] = [];
    const signals: AbortSignal[] = [];
    const t = timeout(leaf("child", log, signals), 100, "fb");
    const p = ctx.value(t);
    await flush();
    expect(ctx.clock.pending).toBe(1);
    ctx.cancel(t);
    await rejection(p);
    await flush();
    expect(log).toEqual(["finally child"]);
    expect(signals[0]!.aborted).toBe(true);
    expect(ctx.clock.pending).toBe(0);
  });

  test("a child someone else observes is not cancelled by the cascade", async () => {
    const ctx = vctx();
    const log: string[] = [];
    const signals: AbortSignal[] = [];
    const shared = leaf("shared", log, signals);
    const own = leaf("own", log, signals);
    ctx.observe(
      shared,
      () => {},
      () => {},
    );
    const r = race(shared, own);
    const p = ctx.value(r);
    await flush();
    ctx.cancel(r);
    await rejection(p);
    await flush();
    expect(log).toEqual(["finally own"]);
    expect(signals.filter((s) => s.aborted).length).toBe(1);
  });

  test("cancelling a parent parked on a race made in its body disarms the race's timers", async () => {
    const ctx = vctx();
    const log: string[] = [];
    const parent = spin(async ($) => {
      const r = race(sleep(100, "x"), sleep(200, "y"));
      try {
        return await $.await(r);
      } finally {
        log.push("parent finally");
      }
    });
    const p = track(ctx.value(parent));
    await flush();
    ctx.cancel(parent);
    await flush();
    expect(isCancelled(p.error)).toBe(true);
    expect(log).toEqual(["parent finally"]);
    expect(ctx.clock.pending).toBe(0);
  });

  test("disposing the context unwinds every parked body", async () => {
    const ctx = vctx();
    const log: string[] = [];
    const signals: AbortSignal[] = [];
    const p = ctx.value(parallel(leaf("x", log, signals), leaf("y", log, signals)));
    p.catch(() => {});
    await flush();
    ctx.dispose();
    await flush();
    expect(log.sort()).toEqual(["finally x", "finally y"]);
    expect(signals.every((s) => s.aborted)).toBe(true);
    await expect(p).rejects.toMatchObject({ code: "ERR_DISPOSED" });
  });
});
