/**
 * Clock and virtual time: every timer goes through the context's clock; disposing a context or
 * cancelling a spin disarms its timers, so no stray timer keeps Node alive.
 */
import {
  createContext,
  debounce,
  delay,
  isCancelled,
  parallel,
  race,
  SpindelError,
  signal,
  sleep,
  spin,
  timeout,
} from "spindel";
import { describe, expect, test } from "vitest";
import { advance, collect, flush, rejection, track, vctx } from "./helpers.js";

/** Node timers currently keeping the event loop alive. */
function activeTimers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
}

describe("real clock: no stray timers", () => {
  test("a sleep resolves on the real clock", async () => {
    const ctx = createContext();
    expect(await ctx.value(sleep(5, "woke"))).toBe("woke");
    expect(ctx.clock.pending).toBe(0);
  });

  test("cancelling a sleeping spin clears its Node timer", async () => {
    const ctx = createContext();
    const before = activeTimers();
    const s = sleep(60_000);
    const p = ctx.value(s);
    await flush();
    expect(activeTimers()).toBe(before + 1);
    ctx.cancel(s);
    await rejection(p);
    expect(activeTimers()).toBe(before);
    expect(ctx.clock.pending).toBe(0);
  });

  test("disposing the context clears the timers of its spins, of its rate limiters and of its forks", async () => {
    const ctx = createContext();
    const before = activeTimers();
    const q = signal(0);
    const p1 = ctx.value(sleep(60_000));
    collect(ctx, debounce(q, 60_000));
    const f = ctx.fork();
    const p2 = f.value(timeout(sleep(120_000), 90_000, "fallback"));
    p1.catch(() => {});
    p2.catch(() => {});
    await flush();
    expect(activeTimers()).toBe(before + 4);
    ctx.dispose();
    expect(activeTimers()).toBe(before);
    expect(ctx.clock.pending).toBe(0);
    await expect(p1).rejects.toMatchObject({ code: "ERR_DISPOSED" });
  });

  test("disposing a fork clears its own timers only", async () => {
    const ctx = createContext();
    const before = activeTimers();
    const f = ctx.fork();
    const inParent = ctx.value(sleep(60_000));
    const inFork = f.value(sleep(60_000));
    inParent.catch(() => {});
    inFork.catch(() => {});
    await flush();
    expect(activeTimers()).toBe(before + 2);
    f.dispose();
    expect(activeTimers()).toBe(before + 1);
    ctx.dispose();
    expect(activeTimers()).toBe(before);
  });

  test("a race's losing timers and a timeout's timer are cleared as soon as it settles", async () => {
    const ctx = createContext();
    const before = activeTimers();
    expect(await ctx.value(race(sleep(60_000, "slow"), sleep(1, "fast")))).toBe("fast");
    expect(await ctx.value(timeout(sleep(1, "quick"), 60_000, "late"))).toBe("quick");
    expect(activeTimers()).toBe(before);
  });
});

describe("virtual time", () => {
  test("advanceTime fires due timers in due order (ties in arming order), deterministically", async () => {
    const ctx = vctx();
    const order: string[] = [];
    const mk = (name: string, ms: number) =>
      spin(
        async ($) => {
          await $.await(delay(ms));
          order.push(name);
        },
        { name },
      );
    const all = ctx.value(parallel(mk("c", 30), mk("a", 10), mk("b", 20), mk("a2", 10)));
    await advance(ctx, 15);
    expect(order).toEqual(["a", "a2"]);
    expect(ctx.now()).toBe(15);
    await advance(ctx, 100);
    expect(order).toEqual(["a", "a2", "b", "c"]);
    await all;
  });

  test("a timer armed by a timer callback within the window fires in the same advance", () => {
    const ctx = vctx();
    const log: number[] = [];
    ctx.setTimer(10, () => {
      log.push(ctx.now());
      ctx.setTimer(5, () => log.push(ctx.now()));
    });
    ctx.advanceTime(20);
    expect(log).toEqual([10, 15]);
    expect(ctx.now()).toBe(20);
  });

  test("advanceTime needs a virtual clock", () => {
    const ctx = createContext();
    let err: unknown;
    try {
      ctx.advanceTime(1);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SpindelError);
    expect((err as SpindelError).code).toBe("ERR_VIRTUAL_CLOCK");
  });

  test("forks share the root's clock: a fork's timer fires when the root advances", async () => {
    const ctx = vctx();
    const f = ctx.fork();
    const p = track(f.value(sleep(10, "fork")));
    await advance(ctx, 10);
    expect(p.value).toBe("fork");
  });

  test("cancelling a spin cascades to the timers of everything it waits on", async () => {
    const ctx = vctx();
    const outer = spin(async ($) => {
      return await $.await(parallel(race(sleep(100), sleep(200)), timeout(sleep(300), 400, "x")));
    });
    const p = ctx.value(outer);
    await flush();
    expect(ctx.clock.pending).toBe(4);
    ctx.cancel(outer);
    expect(isCancelled(await rejection(p))).toBe(true);
    expect(ctx.clock.pending).toBe(0);
  });
});
