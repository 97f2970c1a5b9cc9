import {
  Cancelled,
  debounce,
  deferred,
  delay,
  isCancelled,
  never,
  sample,
  signal,
  sleep,
  spin,
  TimeoutError,
  throttle,
  timeout,
} from "spindel";
import { describe, expect, test } from "vitest";
import { advance, collect, flush, rejection, track, vctx } from "./helpers.js";

describe("sleep / delay / never", () => {
  test("sleep resolves with its value after ms of virtual time", async () => {
    const ctx = vctx();
    const p = track(ctx.value(sleep(50, "done")));
    await advance(ctx, 49);
    expect(p.state).toBe("pending");
    await advance(ctx, 1);
    expect(p.value).toBe("done");
    const zero = track(ctx.value(sleep(0)));
    await advance(ctx, 0); // virtual timers fire only when time is advanced, even at 0 ms
    expect(zero.state).toBe("ok");
    expect(zero.value).toBeUndefined();
  });

  test("cancelling a sleep disarms its timer and it stays cancelled (Q3)", async () => {
    const ctx = vctx();
    const s = sleep(100, "v");
    const p = ctx.value(s);
    await flush();
    expect(ctx.clock.pending).toBe(1);
    ctx.cancel(s);
    expect(ctx.clock.pending).toBe(0);
    expect(isCancelled(await rejection(p))).toBe(true);
    await advance(ctx, 200);
    await expect(ctx.value(s)).rejects.toBeInstanceOf(Cancelled);
  });

  test("delay is a one-shot wait: replayed before the point of change, timed afresh after it", async () => {
    const ctx = vctx();
    const x = signal(1);
    const y = signal(1);
    let runs = 0;
    const s = spin(async ($) => {
      runs++;
      const a = $.track(x);
      await $.await(delay(10));
      return a + $.track(y);
    });
    const seen = collect(ctx, s);
    await advance(ctx, 10);
    expect(seen.values).toEqual([2]);
    ctx.set(y, 2); // after the delay: replayed, no wait
    await flush();
    expect(seen.values).toEqual([2, 3]);
    ctx.set(x, 5); // before the delay: waits again
    await flush();
    expect(seen.values).toEqual([2, 3]);
    expect(ctx.clock.pending).toBe(1);
    await advance(ctx, 10);
    expect(seen.values).toEqual([2, 3, 7]);
    expect(runs).toBe(3);
  });

  test("a superseded delay is disarmed", async () => {
    const ctx = vctx();
    const x = signal(1);
    const s = spin(async ($) => {
      const v = $.track(x);
      await $.await(delay(100));
      return v;
    });
    const seen = collect(ctx, s);
    await flush();
    ctx.set(x, 2);
    ctx.set(x, 3);
    await flush();
    expect(ctx.clock.pending).toBe(1);
    await advance(ctx, 100);
    expect(seen.values).toEqual([3]);
  });

  test("never settles; a spin parked on it does not keep settled() waiting; cancel ends it", async () => {
    const ctx = vctx();
    const n = never<number>();
    const p = track(ctx.value(n));
    await ctx.settled();
    await advance(ctx, 1_000_000);
    expect(p.state).toBe("pending");
    ctx.cancel(n);
    await flush();
    expect(isCancelled(p.error)).toBe(true);
  });

  test("invalid durations are rejected", () => {
    expect(() => sleep(-1)).toThrow(/milliseconds/);
    expect(() => delay(Number.NaN)).toThrow(/milliseconds/);
    expect(() => timeout(never(), Number.POSITIVE_INFINITY)).toThrow(/milliseconds/);
  });
});

describe("timeout", () => {
  test("the child's value when it is in time; the timer is disarmed", async () => {
    const ctx = vctx();
    const p = ctx.value(timeout(sleep(10, "fast"), 50, "fallback"));
    await advance(ctx, 10);
    expect(await p).toBe("fast");
    expect(ctx.clock.pending).toBe(0);
  });

  test("the fallback when late; the child is cancelled (its finally runs, its timer is disarmed)", async () => {
    const ctx = vctx();
    const log: string[] = [];
    const slow = spin(async ($) => {
      try {
        return await $.await(delay(1000, "slow"));
      } finally {
        log.push("finally");
      }
    });
    const p = ctx.value(timeout(slow, 50, "fallback"));
    await advance(ctx, 50);
    expect(await p).toBe("fallback");
    expect(log).toEqual(["finally"]);
    expect(ctx.clock.pending).toBe(0);
  });

  test("without a fallback it rejects with TimeoutError (ERR_TIMEOUT); undefined is a valid fallback", async () => {
    const ctx = vctx();
    const p = rejection(ctx.value(timeout(never(), 20)));
    await advance(ctx, 20);
    const e = await p;
    expect(e).toBeInstanceOf(TimeoutError);
    expect((e as TimeoutError).code).toBe("ERR_TIMEOUT");
    const q = ctx.value(timeout(never(), 20, undefined));
    await advance(ctx, 20);
    expect(await q).toBeUndefined();
  });

  test("the child's error passes through", async () => {
    const ctx = vctx();
    const bad = spin(async ($) => {
      await $.await(delay(5));
      throw new Error("child failed");
    });
    const p = rejection(ctx.value(timeout(bad, 50, "fallback")));
    await advance(ctx, 5);
    expect(((await p) as Error).message).toBe("child failed");
    expect(ctx.clock.pending).toBe(0);
  });

  test("a timeout over a one-shot source", async () => {
    const ctx = vctx();
    const d = deferred<string>();
    const p = ctx.value(timeout(d, 100, "none"));
    await flush();
    d.deliver("yes", ctx);
    expect(await p).toBe("yes");
    expect(ctx.clock.pending).toBe(0);
  });
});

describe("debounce", () => {
  test("a burst of writes gives one result, the last value, ms after the last write", async () => {
    const ctx = vctx();
    const q = signal("");
    const d = debounce(q, 100);
    const seen = collect(ctx, d);
    await advance(ctx, 100);
    expect(seen.values).toEqual([""]);
    ctx.set(q, "a");
    await advance(ctx, 60);
    ctx.set(q, "ab");
    await advance(ctx, 60);
    ctx.set(q, "abc");
    await advance(ctx, 99);
    expect(seen.values).toEqual([""]);
    await advance(ctx, 1);
    expect(seen.values).toEqual(["", "abc"]);
    expect(ctx.clock.pending).toBe(0);
  });

  test("intermediate writes create no run of the debounced spin's dependents", async () => {
    const ctx = vctx();
    const q = signal(0);
    let downstreamRuns = 0;
    const d = debounce(q, 50);
    const down = spin(async ($) => {
      downstreamRuns++;
      return (await $.await(d)) * 2;
    });
    const seen = collect(ctx, down);
    await advance(ctx, 50);
    expect(downstreamRuns).toBe(1);
    for (let i = 1; i <= 10; i++) {
      ctx.set(q, i);
      await advance(ctx, 10);
    }
    expect(downstreamRuns).toBe(1);
    await advance(ctx, 50);
    expect(seen.values).toEqual([0, 20]);
    expect(downstreamRuns).toBe(2);
  });

  test("during a burst the debounced spin keeps one run in flight (no restart per write)", async () => {
    const ctx = vctx();
    const q = signal(0);
    const d = debounce(q, 50);
    collect(ctx, d);
    await advance(ctx, 50);
    const node = ctx._nodeFor(d);
    expect(node.run).toBeNull();
    ctx.set(q, 1);
    await flush();
    const run = node.run;
    expect(run).not.toBeNull();
    for (let i = 2; i <= 5; i++) {
      ctx.set(q, i);
      await advance(ctx, 10);
      expect(node.run).toBe(run);
    }
    await advance(ctx, 50);
    expect(node.run).toBeNull();
    expect(await ctx.value(d)).toBe(5);
  });

  test("debounces a spin source, including its errors", async () => {
    const ctx = vctx();
    const x = signal(1);
    const src = spin(($) => {
      const v = $.track(x);
      if (v < 0) throw new Error("neg");
      return v * 10;
    });
    const seen = collect(ctx, debounce(src, 30));
    await advance(ctx, 30);
    ctx.set(x, 2);
    ctx.set(x, 3);
    await advance(ctx, 30);
    ctx.set(x, -1);
    await advance(ctx, 30);
    expect(seen.values).toEqual([10, 30]);
    expect((seen.errors[0] as Error).message).toBe("neg");
  });

  test("a value equal to the last result does not re-fire", async () => {
    const ctx = vctx();
    const q = signal(1);
    const seen = collect(ctx, debounce(q, 10));
    await advance(ctx, 10);
    ctx.set(q, 2);
    ctx.set(q, 1);
    await advance(ctx, 10);
    expect(seen.values).toEqual([1]);
  });

  test("cancelling the debounced spin disarms its timer; disposing the context too", async () => {
    const ctx = vctx();
    const q = signal(1);
    const d = debounce(q, 100);
    const seen = collect(ctx, d);
    await advance(ctx, 100);
    ctx.set(q, 2);
    await flush();
    expect(ctx.clock.pending).toBe(1);
    ctx.cancel(d);
    expect(ctx.clock.pending).toBe(0);
    seen.stop();
    const ctx2 = vctx();
    collect(ctx2, debounce(q, 100));
    await flush();
    expect(ctx2.clock.pending).toBe(1);
    ctx2.dispose();
    expect(ctx2.clock.pending).toBe(0);
  });

  test("rejects a non-source", () => {
    expect(() => debounce(5 as never, 10)).toThrow(/Signal or a Spin/);
  });
});

describe("throttle", () => {
  test("leading value at once, then at most one merged value per period", async () => {
    const ctx = vctx();
    const pos = signal(0);
    const moves = throttle(pos, 10, (acc: number[] | undefined, v: number) => [...(acc ?? []), v]);
    const seen = collect(ctx, moves);
    await flush();
    expect(seen.values).toEqual([[0]]);
    ctx.set(pos, 1);
    await flush();
    ctx.set(pos, 2);
    await flush();
    ctx.set(pos, 3);
    await flush();
    expect(seen.values).toEqual([[0]]);
    await advance(ctx, 100);
    expect(seen.values).toEqual([[0], [1, 2, 3]]);
    await advance(ctx, 500);
    ctx.set(pos, 9); // quiet for longer than a period: leading edge again
    await flush();
    expect(seen.values).toEqual([[0], [1, 2, 3], [9]]);
    expect(ctx.clock.pending).toBe(0);
  });

  test("default merge keeps the latest; accepts a spin source", async () => {
    const ctx = vctx();
    const x = signal(1);
    const src = spin(($) => $.track(x) + 1);
    const seen = collect(ctx, throttle(src, 20));
    await flush();
    ctx.set(x, 5);
    await flush();
    ctx.set(x, 6);
    await flush();
    await advance(ctx, 50);
    expect(seen.values).toEqual([2, 7]);
  });

  test("rejects a bad rate", () => {
    expect(() => throttle(signal(1), 0)).toThrow(/Hz/);
  });
});

describe("sample", () => {
  test("emits the latest value at the end of each window that saw a change; no timer while quiet", async () => {
    const ctx = vctx();
    const x = signal(0);
    const seen = collect(ctx, sample(x, 100));
    await advance(ctx, 100);
    expect(seen.values).toEqual([0]);
    expect(ctx.clock.pending).toBe(0);
    ctx.set(x, 1);
    await advance(ctx, 30);
    ctx.set(x, 2);
    await advance(ctx, 30);
    ctx.set(x, 3);
    await advance(ctx, 40);
    expect(seen.values).toEqual([0, 3]);
    ctx.set(x, 4);
    await advance(ctx, 100);
    expect(seen.values).toEqual([0, 3, 4]);
    expect(ctx.clock.pending).toBe(0);
  });
});

describe("rate limiters in forks", () => {
  test("a fork's writes are debounced in the fork, without affecting the parent", async () => {
    const ctx = vctx();
    const q = signal("p0");
    const d = debounce(q, 50);
    const parent = collect(ctx, d);
    await advance(ctx, 50);
    const f = ctx.fork();
    const forked = collect(f, d);
    await flush();
    expect(forked.values).toEqual(["p0"]);
    f.set(q, "f1");
    await advance(ctx, 50);
    expect(forked.values).toEqual(["p0", "f1"]);
    expect(parent.values).toEqual(["p0"]);
    expect(await ctx.value(d)).toBe("p0");
  });
});
