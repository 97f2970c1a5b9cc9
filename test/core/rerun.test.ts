import { Cancelled, createContext, type Spin, signal, spin } from "spindel";
import { describe, expect, test } from "vitest";
import { gate, Ticket } from "./helpers.js";

describe("re-run semantics (decision 1)", () => {
  test("one-shot waits before the point of change are replayed, never consumed twice", async () => {
    const ctx = createContext();
    const a = signal(1);
    const b = signal(1);
    const tickets = new Ticket();
    let fetches = 0;
    const t = spin(async ($) => {
      const x = $.track(a);
      const ticket = await $.await(tickets); // one-shot wait
      const data = await $.await(() => {
        fetches++;
        return Promise.resolve(`data${fetches}`);
      });
      const y = $.track(b); // point of change when b changes
      return `${x}:${ticket}:${data}:${y}`;
    });
    const seen: string[] = [];
    ctx.observe(t, (v) => seen.push(v));
    expect(tickets.release()).toBe(1);
    expect(await ctx.value(t)).toBe("1:1:data1:1"); // settled() would not wait for the parked fetch
    ctx.set(b, 2);
    expect(await ctx.value(t)).toBe("1:1:data1:2");
    expect(seen).toEqual(["1:1:data1:1", "1:1:data1:2"]);
    expect(tickets.waits).toBe(1);
    expect(fetches).toBe(1);
  });

  test("effects after the point of change happen exactly once per re-run", async () => {
    const ctx = createContext();
    const a = signal(1);
    const tickets = new Ticket();
    let after = 0;
    const t = spin(async ($) => {
      const x = $.track(a);
      const ticket = await $.await(tickets);
      after++;
      return x * 100 + ticket;
    });
    const seen: number[] = [];
    ctx.observe(t, (v) => seen.push(v));
    tickets.release();
    await ctx.settled();
    ctx.set(a, 2); // point of change is before the wait: the wait happens again, live
    await ctx.settled();
    expect(tickets.waits).toBe(2);
    tickets.release();
    await ctx.value(t);
    expect(seen).toEqual([101, 202]);
    expect(after).toBe(2);
  });

  test("code between effects may run again (documented): a prefix counter runs once per re-run", async () => {
    const ctx = createContext();
    const a = signal(1);
    const b = signal(1);
    let prefix = 0;
    let suffix = 0;
    const t = spin(($) => {
      prefix++;
      $.track(a);
      $.track(b);
      suffix++;
      return 0;
    });
    ctx.observe(t, () => {});
    ctx.set(b, 2);
    expect([prefix, suffix]).toEqual([2, 2]);
  });

  test("a superseded run is cancelled at its pending effect (finally runs, $.signal aborts) and never commits", async () => {
    const ctx = createContext();
    const q = signal("first");
    const slow = gate<string>();
    const events: string[] = [];
    let signalAtStart: AbortSignal | undefined;
    const t = spin(async ($) => {
      const query = $.track(q);
      if (query === "first") {
        signalAtStart = $.signal;
        try {
          return await $.await(slow.promise);
        } finally {
          events.push(`finally ${query}`);
        }
      }
      return `result for ${query}`;
    });
    const seen: string[] = [];
    ctx.observe(t, (v) => seen.push(v));
    ctx.set(q, "second");
    await ctx.settled();
    slow.resolve("stale result"); // the old run's wait settles late
    await slow.promise;
    await ctx.settled();
    expect(seen).toEqual(["result for second"]);
    expect(events).toEqual(["finally first"]);
    expect(signalAtStart?.aborted).toBe(true);
    expect(signalAtStart?.reason).toBeInstanceOf(Cancelled);
    expect(await ctx.value(t)).toBe("result for second");
  });

  test("a superseded run's abandoned wait is released (the source sees onAbandon)", async () => {
    const ctx = createContext();
    const a = signal(1);
    const tickets = new Ticket();
    const t = spin(async ($) => {
      $.track(a);
      return $.await(tickets);
    });
    ctx.observe(t, () => {});
    ctx.set(a, 2);
    expect(tickets.abandoned).toBe(1);
    expect(tickets.pending).toHaveLength(1);
    tickets.release();
    expect(await ctx.value(t)).toBe(1); // the first ticket went to the live run only
  });

  test("a value handed to a run that dies before continuing is undone", async () => {
    const ctx = createContext();
    const a = signal(1);
    const undone: number[] = [];
    const source = {
      [Symbol.for("spindel.wait")](_c: unknown, w: { resolve(v: number, undo: () => void): boolean }) {
        w.resolve(7, () => undone.push(7));
      },
    };
    const t = spin(async ($) => {
      const v = await $.await(source as never);
      return v;
    });
    const p = ctx.value(t); // hands 7 over synchronously; the body has not continued yet
    ctx.cancel(t);
    await expect(p).rejects.toBeInstanceOf(Cancelled);
    expect(undone).toEqual([7]);
    void a;
  });

  test("several pending waits in one run (Promise.all) replay by call order", async () => {
    const ctx = createContext();
    const a = signal(1);
    const t1 = new Ticket();
    const t2 = new Ticket();
    const t = spin(async ($) => {
      const [x, y] = await Promise.all([$.await(t1), $.await(t2)]);
      return x + y + $.track(a);
    });
    const p = ctx.value(t);
    t2.release();
    t1.release();
    expect(await p).toBe(3);
    ctx.set(a, 10);
    expect(await ctx.value(t)).toBe(12);
    expect(t1.waits + t2.waits).toBe(2);
  });
});

describe("cancellation", () => {
  test("a parked body rejects at its pending effect with Cancelled; finally runs; $.signal aborts", async () => {
    const ctx = createContext();
    const events: string[] = [];
    let sig: AbortSignal | undefined;
    const t = spin(async ($) => {
      sig = $.signal;
      try {
        await $.await(new Promise(() => {}));
      } catch (e) {
        events.push(e instanceof Cancelled ? "cancelled" : "other");
        throw e;
      } finally {
        events.push("finally");
      }
    });
    const p = ctx.value(t);
    await Promise.resolve();
    ctx.cancel(t);
    await expect(p).rejects.toBeInstanceOf(Cancelled);
    await ctx.settled();
    expect(events).toEqual(["cancelled", "finally"]);
    expect(sig?.aborted).toBe(true);
  });

  test("cancellation cascades to the awaited child (its finally runs too)", async () => {
    const ctx = createContext();
    const events: string[] = [];
    const child = spin(async ($) => {
      try {
        return await $.await(new Promise<number>(() => {}));
      } finally {
        events.push("child finally");
      }
    });
    const parent = spin(async ($) => {
      try {
        return await $.await(child);
      } finally {
        events.push("parent finally");
      }
    });
    ctx.observe(
      parent,
      () => {},
      () => {},
    );
    await ctx.settled();
    ctx.cancel(parent);
    await ctx.settled();
    expect(events.sort()).toEqual(["child finally", "parent finally"]);
    await expect(ctx.value(child)).rejects.toBeInstanceOf(Cancelled);
  });

  test("cancellation does not cascade to a child someone else waits on", async () => {
    const ctx = createContext();
    const g = gate<number>();
    const child = spin(async ($) => $.await(g.promise));
    const p1 = spin(async ($) => $.await(child));
    const p2 = spin(async ($) => $.await(child));
    const r1 = ctx.value(p1);
    const r2 = ctx.value(p2);
    ctx.cancel(p1);
    g.resolve(5);
    await expect(r1).rejects.toBeInstanceOf(Cancelled);
    expect(await r2).toBe(5);
  });

  test("a cancelled spin stays cancelled until an input changes or it is re-run explicitly", async () => {
    const ctx = createContext();
    const s = signal(1);
    let runs = 0;
    const t = spin(($) => {
      runs++;
      return $.track(s);
    });
    expect(await ctx.value(t)).toBe(1);
    ctx.cancel(t);
    await expect(ctx.value(t)).rejects.toBeInstanceOf(Cancelled);
    await expect(ctx.value(t)).rejects.toMatchObject({ code: "ERR_CANCELLED" });
    expect(runs).toBe(1);
    ctx.set(s, 2);
    expect(await ctx.value(t)).toBe(2);
    ctx.cancel(t);
    ctx.rerun(t);
    expect(await ctx.value(t)).toBe(2);
    expect(runs).toBe(3);
  });

  test("a body that catches Cancelled and returns normally still ends cancelled", async () => {
    const ctx = createContext();
    const t = spin(async ($) => {
      try {
        await $.await(new Promise(() => {}));
        return "finished";
      } catch {
        return "swallowed";
      }
    });
    const p = ctx.value(t);
    await Promise.resolve();
    ctx.cancel(t);
    await expect(p).rejects.toBeInstanceOf(Cancelled);
    await ctx.settled();
    await expect(ctx.value(t)).rejects.toBeInstanceOf(Cancelled);
  });

  test("a running body that is cancelled throws at its next effect", async () => {
    const ctx = createContext();
    const s = signal(1);
    let reachedAfter = false;
    const t: Spin<number> = spin(async ($) => {
      await $.await(Promise.resolve());
      $.context.cancel(t); // cancel while running (not parked)
      $.track(s); // next effect throws Cancelled
      reachedAfter = true;
      return 1;
    });
    await expect(ctx.value(t)).rejects.toBeInstanceOf(Cancelled);
    expect(reachedAfter).toBe(false);
  });

  test("parents awaiting a cancelled spin get Cancelled at their await", async () => {
    const ctx = createContext();
    const child = spin(async ($) => $.await(new Promise<number>(() => {})));
    const parent = spin(async ($) => {
      try {
        return await $.await(child);
      } catch (e) {
        return e instanceof Cancelled ? "child cancelled" : "other";
      }
    });
    const p = ctx.value(parent);
    await Promise.resolve();
    ctx.cancel(child);
    expect(await p).toBe("child cancelled");
  });
});
