import {
  absolve,
  attempt,
  Cancelled,
  createContext,
  deferred,
  delay,
  first,
  isCancelled,
  mailbox,
  parallel,
  race,
  type Spin,
  signal,
  sleep,
  spin,
} from "spindel";
import { describe, expect, test } from "vitest";
import { advance, collect, flush, rejection, track, vctx } from "./helpers.js";

/** A spin that records its start and finally, and settles when its deferred does. */
function gated<T>(name: string, log: string[]) {
  const d = deferred<T>({ name });
  const s = spin(
    async ($) => {
      log.push(`start ${name}`);
      try {
        return await $.await(d);
      } finally {
        log.push(`finally ${name}`);
      }
    },
    { name },
  );
  return { d, s };
}

describe("parallel", () => {
  test("results come in argument order, whatever order the children finish in", async () => {
    const ctx = vctx();
    const p = ctx.value(parallel(sleep(30, "a"), sleep(10, "b"), sleep(20, "c")));
    await advance(ctx, 30);
    expect(await p).toEqual(["a", "b", "c"]);
  });

  test("every child starts before the first wait (no waterfall)", async () => {
    const ctx = createContext();
    const log: string[] = [];
    const a = gated<number>("a", log);
    const b = gated<number>("b", log);
    const c = gated<number>("c", log);
    const p = track(ctx.value(parallel(a.s, b.s, c.s)));
    expect(log).toEqual(["start a", "start b", "start c"]); // synchronously, before anything settled
    c.d.deliver(3, ctx);
    a.d.deliver(1, ctx);
    b.d.deliver(2, ctx);
    await flush();
    expect(p.value).toEqual([1, 2, 3]);
  });

  test("takes spins, one-shot sources, promises and thunks", async () => {
    const ctx = createContext();
    const d = deferred<string>();
    const mb = mailbox<number>();
    mb.post(7, ctx);
    d.deliver("d", ctx);
    const r = await ctx.value(
      parallel(
        spin(() => 1),
        d,
        mb,
        Promise.resolve("p"),
        (signal: AbortSignal) => (signal.aborted ? "aborted" : "thunk"),
      ),
    );
    expect(r).toEqual([1, "d", 7, "p", "thunk"]);
  });

  test("fail-fast: the first error rejects and cancels the running siblings (their finally runs)", async () => {
    const ctx = createContext();
    const log: string[] = [];
    const a = gated<number>("a", log);
    const b = gated<number>("b", log);
    const bad = spin(
      async ($) => {
        await $.await(Promise.resolve());
        throw new Error("bad child");
      },
      { name: "bad" },
    );
    const err = await rejection(ctx.value(parallel(a.s, bad, b.s)));
    expect((err as Error).message).toBe("bad child");
    await flush();
    expect(log).toEqual(["start a", "start b", "finally a", "finally b"]);
    await expect(ctx.value(a.s)).rejects.toBeInstanceOf(Cancelled);
  });

  test("fail-fast does not cancel a sibling someone else is waiting on", async () => {
    const ctx = createContext();
    const log: string[] = [];
    const shared = gated<number>("shared", log);
    const other = ctx.value(shared.s); // another consumer holds it
    const bad = spin(async () => {
      throw new Error("bad");
    });
    await rejection(ctx.value(parallel(shared.s, bad)));
    await flush();
    expect(log).toEqual(["start shared"]);
    shared.d.deliver(5, ctx);
    expect(await other).toBe(5);
  });

  test("reactive: a child's re-completion updates its slot, compared with the previous value (Q2)", async () => {
    const ctx = createContext();
    const x = signal(1);
    const y = signal(100);
    const a = spin(($) => $.track(x));
    const b = spin(async ($) => $.track(y));
    const seen = collect(ctx, parallel(a, b));
    await flush();
    ctx.set(x, 10);
    await flush();
    ctx.set(x, 1); // back to the first value: still a change w.r.t. the previous one
    await flush();
    ctx.set(y, 200);
    await flush();
    expect(seen.values).toEqual([
      [1, 100],
      [10, 100],
      [1, 100],
      [1, 200],
    ]);
  });

  test("an equal re-completion does not re-fire; an error re-completion rejects, a later value recovers", async () => {
    const ctx = createContext();
    const x = signal(2);
    const parity = spin(($) => {
      const v = $.track(x);
      if (v < 0) throw new Error("negative");
      return v % 2;
    });
    const seen = collect(
      ctx,
      parallel(
        parity,
        spin(() => "k"),
      ),
    );
    await flush();
    ctx.set(x, 4); // parity unchanged
    await flush();
    expect(seen.values).toEqual([[0, "k"]]);
    ctx.set(x, -1);
    await flush();
    expect((seen.errors[0] as Error).message).toBe("negative");
    ctx.set(x, 3);
    await flush();
    expect(seen.values).toEqual([
      [0, "k"],
      [1, "k"],
    ]);
  });

  test("a sibling cancelled by fail-fast is started over when the parallel runs again", async () => {
    const ctx = createContext();
    const x = signal(-1);
    let slowRuns = 0;
    const g = deferred<string>();
    const slow = spin(async ($) => {
      slowRuns++;
      return await $.await(g);
    });
    const check = spin(async ($) => {
      const v = $.track(x);
      await $.await(Promise.resolve());
      if (v < 0) throw new Error("negative");
      return v;
    });
    const seen = collect(ctx, parallel(check, slow));
    await flush();
    expect((seen.errors[0] as Error).message).toBe("negative");
    expect(slowRuns).toBe(1);
    ctx.set(x, 5);
    await flush();
    expect(slowRuns).toBe(2); // revived, not stuck on its cancellation
    g.deliver("done", ctx);
    await flush();
    expect(seen.values).toEqual([[5, "done"]]);
  });

  test("one-shot children are not waited on again when a spin child re-completes", async () => {
    const ctx = createContext();
    const mb = mailbox<string>();
    const x = signal(1);
    const seen = collect(
      ctx,
      parallel(
        mb,
        spin(($) => $.track(x)),
      ),
    );
    await flush();
    mb.post("m1", ctx);
    mb.post("m2", ctx);
    await flush();
    ctx.set(x, 2);
    await flush();
    expect(seen.values).toEqual([
      ["m1", 1],
      ["m1", 2],
    ]);
    expect(mb.messages(ctx)).toEqual(["m2"]);
  });

  test("cancelling the parallel cascades to its children", async () => {
    const ctx = createContext();
    const log: string[] = [];
    const a = gated<number>("a", log);
    const b = gated<number>("b", log);
    const par = parallel(a.s, b.s);
    const p = ctx.value(par);
    await flush();
    ctx.cancel(par);
    expect(isCancelled(await rejection(p))).toBe(true);
    await flush();
    expect(log).toEqual(["start a", "start b", "finally a", "finally b"]);
  });

  test("rejects bad arguments", () => {
    expect(() => parallel()).toThrow(/at least one/);
    expect(() => parallel(42 as unknown as Spin<number>)).toThrow(/spins, promises/);
  });
});

describe("race", () => {
  test("the first to settle wins; the losers are cancelled (finally runs) and their timers disarmed", async () => {
    const ctx = vctx();
    const log: string[] = [];
    const slow = spin(
      async ($) => {
        try {
          return await $.await(delay(100, "slow"));
        } finally {
          log.push("slow finally");
        }
      },
      { name: "slow" },
    );
    const p = ctx.value(race(slow, sleep(10, "fast")));
    await flush();
    expect(ctx.clock.pending).toBe(2);
    await advance(ctx, 10);
    expect(await p).toBe("fast");
    expect(log).toEqual(["slow finally"]);
    expect(ctx.clock.pending).toBe(0);
    await expect(ctx.value(slow)).rejects.toBeInstanceOf(Cancelled);
  });

  test("a child already settled wins at once, and the rest are not started", async () => {
    const ctx = createContext();
    let started = 0;
    const other = spin(async () => {
      started++;
      return "other";
    });
    expect(
      await ctx.value(
        race(
          spin(() => "ready"),
          other,
        ),
      ),
    ).toBe("ready");
    expect(started).toBe(0);
  });

  test("an error wins like a value", async () => {
    const ctx = vctx();
    const p = ctx.value(
      race(
        spin(async () => {
          throw new Error("first");
        }),
        sleep(10, "late"),
      ),
    );
    expect(((await rejection(p)) as Error).message).toBe("first");
    expect(ctx.clock.pending).toBe(0);
  });

  test("cancellation errors of children are ignored unless every child was cancelled", async () => {
    const ctx = vctx();
    const a = spin(async ($) => await $.await(delay(50, "a")), { name: "a" });
    const b = spin(async ($) => await $.await(delay(20, "b")), { name: "b" });
    const r = track(ctx.value(race(a, b)));
    await flush();
    ctx.cancel(b);
    await advance(ctx, 50);
    expect(r.value).toBe("a");
    const c = spin(async ($) => await $.await(delay(50, "c")));
    const d = spin(async ($) => await $.await(delay(50, "d")));
    const both = track(ctx.value(race(c, d)));
    await flush();
    ctx.cancel(c);
    ctx.cancel(d);
    await flush();
    expect(isCancelled(both.error)).toBe(true);
  });

  test("not reactive: once settled it keeps its result", async () => {
    const ctx = createContext();
    const x = signal(1);
    const seen = collect(ctx, race(spin(($) => $.track(x))));
    await flush();
    ctx.set(x, 2);
    await flush();
    expect(seen.values).toEqual([1]);
  });

  test("races one-shot sources: only the winner consumes", async () => {
    const ctx = vctx();
    const mb = mailbox<string>();
    const p = ctx.value(race(mb, delay(10, "timeout")));
    await advance(ctx, 10);
    expect(await p).toBe("timeout");
    mb.post("later", ctx);
    expect(mb.messages(ctx)).toEqual(["later"]);
  });

  test("a losing thunk sees its AbortSignal abort", async () => {
    const ctx = createContext();
    let seen: AbortSignal | null = null;
    const p = ctx.value(
      race((signal: AbortSignal) => {
        seen = signal;
        return new Promise<string>(() => {});
      }, Promise.resolve("promise")),
    );
    expect(await p).toBe("promise");
    expect((seen as AbortSignal | null)?.aborted).toBe(true);
  });

  test("a loser cancelled by a race is started over when another race needs it", async () => {
    const ctx = vctx();
    let runs = 0;
    const slow = spin(async ($) => {
      runs++;
      return await $.await(delay(100, "slow"));
    });
    expect(
      await ctx.value(
        race(
          spin(() => "now"),
          slow,
        ),
      ),
    ).toBe("now");
    expect(runs).toBe(0); // never started: the first child was ready
    const p1 = ctx.value(race(slow, sleep(10, "quick")));
    await advance(ctx, 10);
    expect(await p1).toBe("quick");
    expect(runs).toBe(1);
    const p2 = ctx.value(race(slow, sleep(500, "late")));
    await advance(ctx, 100);
    expect(await p2).toBe("slow");
    expect(runs).toBe(2);
  });

  test("cancelling the race cascades to its contenders", async () => {
    const ctx = createContext();
    const log: string[] = [];
    const a = gated<number>("a", log);
    const b = gated<number>("b", log);
    const r = race(a.s, b.s);
    const p = ctx.value(r);
    await flush();
    ctx.cancel(r);
    await rejection(p);
    await flush();
    expect(log).toEqual(["start a", "start b", "finally a", "finally b"]);
  });

  test("rejects bad arguments", () => {
    expect(() => race()).toThrow(/at least one/);
  });
});

describe("first (one-shot race)", () => {
  test("inside a body: replayed before the point of change, raced afresh after it", async () => {
    const ctx = vctx();
    const mb = mailbox<string>();
    const x = signal(1);
    let waits = 0;
    const s = spin(async ($) => {
      waits++;
      const m = await $.await(first(mb, delay(100, "none")));
      return `${m}/${$.track(x)}`;
    });
    const seen = collect(ctx, s);
    await flush();
    mb.post("hello", ctx);
    await flush();
    ctx.set(x, 2); // after the first(): replayed
    await flush();
    expect(seen.values).toEqual(["hello/1", "hello/2"]);
    expect(waits).toBe(2);
    expect(ctx.clock.pending).toBe(0);
  });
});

describe("attempt / absolve", () => {
  test("attempt resolves a thunk returning the value, or throwing the error", async () => {
    const ctx = createContext();
    const good = await ctx.value(attempt(spin(() => 42)));
    expect(good()).toBe(42);
    const bad = await ctx.value(
      attempt(
        spin(() => {
          throw new Error("oops");
        }),
      ),
    );
    expect(() => bad()).toThrow("oops");
  });

  test("attempt is reactive and does not re-fire for an equal outcome", async () => {
    const ctx = createContext();
    const x = signal(2);
    const half = spin(($) => {
      const v = $.track(x);
      if (v === 0) throw new Error("zero");
      return Math.floor(v / 2);
    });
    const seen = collect(ctx, attempt(half));
    await flush();
    ctx.set(x, 3); // 1 again: no new result
    await flush();
    ctx.set(x, 0);
    await flush();
    ctx.set(x, 4);
    await flush();
    expect(seen.values.length).toBe(3);
    expect(seen.values[0]!()).toBe(1);
    expect(() => seen.values[1]!()).toThrow("zero");
    expect(seen.values[2]!()).toBe(2);
  });

  test("absolve undoes attempt", async () => {
    const ctx = createContext();
    expect(await ctx.value(absolve(attempt(spin(() => "v"))))).toBe("v");
    const e = await rejection(
      ctx.value(
        absolve(
          attempt(
            spin(() => {
              throw new Error("again");
            }),
          ),
        ),
      ),
    );
    expect((e as Error).message).toBe("again");
    await expect(ctx.value(absolve(spin(() => 5 as unknown as () => number)))).rejects.toThrow(/thunk/);
  });
});
