import { cancel, createContext, Deferred, deferred, isCancelled, parallel, signal, spin } from "spindel";
import { describe, expect, test } from "vitest";
import { flush, rejection, track } from "./helpers.js";

describe("deferred", () => {
  test("a waiting spin resumes when the deferred is delivered; deliver succeeds exactly once", async () => {
    const ctx = createContext();
    const d = deferred<string>();
    const s = spin(async ($) => `got ${await $.await(d)}`);
    const p = track(ctx.value(s));
    await flush();
    expect(p.state).toBe("pending");
    expect(d.deliver("a", ctx)).toBe(true);
    expect(d.deliver("b", ctx)).toBe(false);
    expect(d.fail(new Error("late"), ctx)).toBe(false);
    await flush();
    expect(p.value).toBe("got a");
    expect(d.peek(ctx)).toEqual({ status: "ok", value: "a" });
  });

  test.each([
    ["undefined", undefined],
    ["null", null],
    ["false", false],
    ["0", 0],
    ["empty string", ""],
  ])("%s is a value: it resolves waiters, before and after delivery (Q1)", async (_name, v) => {
    const ctx = createContext();
    const d = deferred<unknown>();
    const early = spin(async ($) => ({ v: await $.await(d) }));
    const p = ctx.value(early);
    await flush();
    expect(d.deliver(v, ctx)).toBe(true);
    expect(await p).toEqual({ v });
    const late = spin(async ($) => ({ v: await $.await(d) }));
    expect(await ctx.value(late)).toEqual({ v });
    expect(d.isSettled(ctx)).toBe(true);
    expect(d.deliver("other", ctx)).toBe(false);
  });

  test("every waiter resumes, each once", async () => {
    const ctx = createContext();
    const d = deferred<number>();
    let after = 0;
    const ws = [0, 1, 2].map((i) =>
      spin(async ($) => {
        const v = await $.await(d);
        after++;
        return v + i;
      }),
    );
    const ps = ws.map((w) => ctx.value(w));
    await flush();
    d.deliver(10, ctx);
    expect(await Promise.all(ps)).toEqual([10, 11, 12]);
    expect(after).toBe(3);
  });

  test("fail() rejects waiters with the error (a try/catch in the body sees it)", async () => {
    const ctx = createContext();
    const d = deferred<number>();
    const s = spin(async ($) => {
      try {
        return await $.await(d);
      } catch (e) {
        return `caught ${(e as Error).message}`;
      }
    });
    const p = ctx.value(s);
    await flush();
    expect(d.fail(new Error("boom"), ctx)).toBe(true);
    expect(await p).toBe("caught boom");
    expect(d.peek(ctx).status).toBe("error");
  });

  test("a cancelled waiter is removed; its finally runs; delivery later still reaches live waiters", async () => {
    const ctx = createContext();
    const d = deferred<number>();
    const log: string[] = [];
    const a = spin(async ($) => {
      try {
        return await $.await(d);
      } finally {
        log.push("a finally");
      }
    });
    const b = spin(async ($) => (await $.await(d)) * 2);
    const pa = ctx.value(a);
    const pb = ctx.value(b);
    await flush();
    ctx.cancel(a);
    const err = await rejection(pa);
    expect(isCancelled(err)).toBe(true);
    await flush();
    expect(log).toEqual(["a finally"]);
    d.deliver(4, ctx);
    expect(await pb).toBe(8);
  });

  test("a re-run before the point of change replays the delivered value instead of waiting", async () => {
    const ctx = createContext();
    const d = deferred<number>();
    const s = signal(1);
    let waits = 0;
    const t = spin(async ($) => {
      waits++;
      const v = await $.await(d);
      return v + $.track(s);
    });
    const seen: number[] = [];
    ctx.observe(t, (v) => seen.push(v));
    await flush();
    d.deliver(100, ctx);
    await flush();
    ctx.set(s, 2);
    await flush();
    expect(seen).toEqual([101, 102]);
    expect(waits).toBe(2); // the body ran twice, the wait happened once (replayed)
  });

  test("the default context is used outside ctx.run; ctx.run selects another", async () => {
    const ctx = createContext();
    const d = deferred<number>();
    ctx.run(() => d.deliver(7));
    expect(d.peek(ctx)).toEqual({ status: "ok", value: 7 });
    const other = createContext();
    expect(d.peek(other)).toEqual({ status: "pending" });
  });

  test("a deferred can be a parallel child (one-shot)", async () => {
    const ctx = createContext();
    const d = deferred<string>();
    const both = parallel(
      d,
      spin(() => 1),
    );
    const p = ctx.value(both);
    await flush();
    d.deliver("x", ctx);
    expect(await p).toEqual(["x", 1]);
  });

  test("cancel() of a parked waiter via the top-level helper", async () => {
    const d = deferred<number>();
    const s = spin(async ($) => await $.await(d));
    const p = s.then(
      () => "resolved",
      (e) => (isCancelled(e) ? "cancelled" : "other"),
    );
    await flush();
    cancel(s);
    expect(await p).toBe("cancelled");
  });

  test("is a class with a debug name", () => {
    const d = deferred<number>({ name: "ready" });
    expect(d).toBeInstanceOf(Deferred);
    expect(String(d)).toBe("Deferred(ready)");
    expect(() => deferred({ key: "" })).toThrow(/non-empty/);
  });
});

describe("deferred in forks", () => {
  test("a delivery in a fork is not seen by the parent, and the reverse", async () => {
    const ctx = createContext();
    const d = deferred<number>();
    const f = ctx.fork();
    d.deliver(1, f);
    expect(d.peek(ctx)).toEqual({ status: "pending" });
    d.deliver(2, ctx);
    expect(d.peek(f)).toEqual({ status: "ok", value: 1 });
    expect(d.peek(ctx)).toEqual({ status: "ok", value: 2 });
  });

  test("a waiter parked before the fork exists in both worlds and fires once in each", async () => {
    const ctx = createContext();
    const d = deferred<number>();
    let after = 0;
    const w = spin(async ($) => {
      const v = await $.await(d);
      after++;
      return v * 10;
    });
    const parent = ctx.value(w);
    await flush();
    const f = ctx.fork();
    d.deliver(1, f);
    await flush();
    expect(await f.value(w)).toBe(10);
    expect(after).toBe(1);
    d.deliver(2, ctx);
    expect(await parent).toBe(20);
    expect(after).toBe(2);
    expect(await f.value(w)).toBe(10);
  });
});
