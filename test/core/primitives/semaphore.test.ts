import {
  createContext,
  deferred,
  holding,
  isCancelled,
  parallel,
  Semaphore,
  SpindelError,
  semaphore,
  signal,
  spin,
} from "spindel";
import { describe, expect, test } from "vitest";
import { collect, flush, rejection, track } from "./helpers.js";

describe("semaphore", () => {
  test("n permits: the n+1-th acquirer waits until a release, FIFO", async () => {
    const ctx = createContext();
    const sem = semaphore(2);
    const order: string[] = [];
    const acquirer = (name: string) =>
      spin(
        async ($) => {
          const p = await $.await(sem.acquire());
          order.push(name);
          return p;
        },
        { name },
      );
    const [a, b, c, d] = ["a", "b", "c", "d"].map(acquirer);
    const pa = ctx.value(a!);
    const pb = ctx.value(b!);
    const pc = track(ctx.value(c!));
    const pd = track(ctx.value(d!));
    const permitA = await pa;
    await pb;
    await flush();
    expect(order).toEqual(["a", "b"]);
    expect(sem.available(ctx)).toBe(0);
    expect(pc.state).toBe("pending");
    expect(sem.release(permitA, ctx)).toBe(true);
    await flush();
    expect(order).toEqual(["a", "b", "c"]);
    expect(pd.state).toBe("pending");
    sem.release(ctx); // the oldest held permit (b's)
    await flush();
    expect(order).toEqual(["a", "b", "c", "d"]);
    expect(sem.available(ctx)).toBe(0);
  });

  test("releasing a permit twice is a no-op the second time; over-release throws ERR_OVER_RELEASE", async () => {
    const ctx = createContext();
    const sem = semaphore(1);
    const p = sem.tryAcquire(ctx)!;
    expect(p).not.toBeNull();
    expect(sem.tryAcquire(ctx)).toBeNull();
    expect(sem.release(p, ctx)).toBe(true);
    expect(sem.release(p, ctx)).toBe(false);
    expect(sem.available(ctx)).toBe(1);
    let err: unknown;
    try {
      sem.release(ctx);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SpindelError);
    expect((err as SpindelError).code).toBe("ERR_OVER_RELEASE");
    expect(sem.available(ctx)).toBe(1);
  });

  test("a cancelled waiter never takes a permit", async () => {
    const ctx = createContext();
    const sem = semaphore(1);
    const held = sem.tryAcquire(ctx)!;
    const w1 = spin(async ($) => await $.await(sem.acquire()), { name: "w1" });
    const w2 = spin(async ($) => await $.await(sem.acquire()), { name: "w2" });
    const p1 = ctx.value(w1);
    const p2 = ctx.value(w2);
    await flush();
    ctx.cancel(w1);
    expect(isCancelled(await rejection(p1))).toBe(true);
    sem.release(held, ctx);
    const got = await p2;
    expect(typeof got.permit).toBe("number");
    expect(sem.available(ctx)).toBe(0);
    sem.release(got, ctx);
    expect(sem.available(ctx)).toBe(1);
  });

  test("a permit handed to a waiter that dies in flight is released again (not lost)", async () => {
    const ctx = createContext();
    const sem = semaphore(1);
    const held = sem.tryAcquire(ctx)!;
    const w = spin(async ($) => await $.await(sem.acquire()));
    const p = ctx.value(w);
    await flush();
    sem.release(held, ctx); // handed to w, whose body has not continued yet
    ctx.cancel(w);
    await rejection(p);
    expect(sem.available(ctx)).toBe(1);
  });

  test("invalid permit counts are rejected", () => {
    expect(() => semaphore(0)).toThrow(/positive integer/);
    expect(() => semaphore(1.5)).toThrow(/positive integer/);
    expect(semaphore(3)).toBeInstanceOf(Semaphore);
    expect(semaphore(3).permits).toBe(3);
  });

  test("semaphore state is per context; a fork has its own copy", async () => {
    const ctx = createContext();
    const sem = semaphore(2);
    sem.tryAcquire(ctx);
    const f = ctx.fork();
    sem.tryAcquire(f);
    expect(sem.available(f)).toBe(0);
    expect(sem.available(ctx)).toBe(1);
    sem.release(f);
    expect(sem.available(f)).toBe(1);
    expect(sem.available(ctx)).toBe(1);
  });
});

describe("semaphore in forks", () => {
  test("a waiter parked before the fork exists in both worlds and gets a permit once in each", async () => {
    const ctx = createContext();
    const sem = semaphore(1);
    const held = sem.tryAcquire(ctx)!;
    let acquired = 0;
    const w = spin(async ($) => {
      const p = await $.await(sem.acquire());
      acquired++;
      return p.permit;
    });
    const parent = track(ctx.value(w));
    await flush();
    const f = ctx.fork();
    sem.release(held, f);
    await flush();
    expect(typeof (await f.value(w))).toBe("number");
    expect(acquired).toBe(1);
    expect(parent.state).toBe("pending");
    sem.release(held, ctx);
    await flush();
    expect(parent.state).toBe("ok");
    expect(acquired).toBe(2);
    expect(sem.available(ctx)).toBe(0);
    expect(sem.available(f)).toBe(0);
  });
});

describe("holding", () => {
  test("runs the spin under a permit: at most n at a time, all complete", async () => {
    const ctx = createContext();
    const sem = semaphore(2);
    let active = 0;
    let peak = 0;
    const gates = [0, 1, 2, 3, 4].map(() => deferred<void>());
    const jobs = gates.map((g, i) =>
      holding(
        sem,
        spin(async ($) => {
          active++;
          peak = Math.max(peak, active);
          await $.await(g);
          active--;
          return i;
        }),
      ),
    );
    const all = track(ctx.value(parallel(...jobs)));
    for (const g of gates) {
      await flush();
      expect(active).toBeLessThanOrEqual(2);
      g.deliver(undefined, ctx);
    }
    await flush();
    expect(all.value).toEqual([0, 1, 2, 3, 4]);
    expect(peak).toBe(2);
    expect(sem.available(ctx)).toBe(2);
  });

  test("releases exactly once when the spin fails", async () => {
    const ctx = createContext();
    const sem = semaphore(1);
    const bad = holding(
      sem,
      spin(async () => {
        throw new Error("nope");
      }),
    );
    await expect(ctx.value(bad)).rejects.toThrow("nope");
    expect(sem.available(ctx)).toBe(1);
    expect(() => sem.release(ctx)).toThrow(/over-released/);
  });

  test("releases exactly once when cancelled while holding, and when cancelled while waiting", async () => {
    const ctx = createContext();
    const sem = semaphore(1);
    const g = deferred<number>();
    const log: string[] = [];
    const inner = spin(async ($) => {
      try {
        return await $.await(g);
      } finally {
        log.push("inner finally");
      }
    });
    const first = holding(sem, inner);
    const second = holding(
      sem,
      spin(() => 2),
    );
    const p1 = ctx.value(first);
    const p2 = track(ctx.value(second));
    await flush();
    expect(sem.available(ctx)).toBe(0);
    ctx.cancel(second); // waiting for the permit: nothing to release
    await flush();
    expect(p2.state).toBe("error");
    ctx.cancel(first); // holding: releases once; the inner spin is cancelled too
    await rejection(p1);
    await flush();
    expect(log).toEqual(["inner finally"]);
    expect(sem.available(ctx)).toBe(1);
  });

  test("a reactive re-completion of the inner spin does not release again (Q8)", async () => {
    const ctx = createContext();
    const sem = semaphore(1);
    const s = signal(1);
    const inner = spin(($) => $.track(s) * 10);
    const h = holding(sem, inner);
    const seen = collect(ctx, h);
    await flush();
    expect(seen.values).toEqual([10]);
    expect(sem.available(ctx)).toBe(1);
    ctx.set(s, 2);
    await flush();
    ctx.set(s, 3);
    await flush();
    expect(seen.values).toEqual([10, 20, 30]);
    expect(sem.available(ctx)).toBe(1); // never over-released
    expect(seen.errors).toEqual([]);
  });

  test("accepts a body and rejects a non-semaphore", async () => {
    const ctx = createContext();
    const sem = semaphore(1);
    expect(await ctx.value(holding(sem, () => "x"))).toBe("x");
    expect(() => holding({} as Semaphore, () => 1)).toThrow(/Semaphore/);
  });
});
