/**
 * L18, wakeup conservation: a wakeup obligation is always in exactly one place (a primitive's
 * waiter list, the drain queue, or a running body with a failure route). One regression test per
 * lost-wakeup fix of the original, (a) to (i), written against the primitives.
 */
import { createContext, deferred, isCancelled, mailbox, next, signal, sleep, spin } from "spindel";
import { describe, expect, test } from "vitest";
import { collect, flush, rejection, track } from "./helpers.js";

const gc = (globalThis as { gc?: () => void }).gc;

describe("L18 lost-wakeup regressions", () => {
  test("(a) first-run gap: a change during the first suspension is not dropped", async () => {
    const ctx = createContext();
    const s = signal(1);
    const d = deferred<number>();
    const t = spin(async ($) => $.track(s) + (await $.await(d)));
    const seen = collect(ctx, t);
    await flush();
    ctx.set(s, 10); // while the first run is parked on d
    await flush();
    d.deliver(100, ctx);
    await flush();
    expect(seen.values).toEqual([110]);
  });

  test("(b) register-before-invoke: a child completing right after it starts still wakes its parent", async () => {
    const ctx = createContext();
    const quick = spin(async ($) => (await $.await(Promise.resolve(2))) * 2);
    const parent = spin(async ($) => (await $.await(quick)) + 1);
    expect(await ctx.value(parent)).toBe(5);
    const d = deferred<number>();
    d.deliver(7, ctx); // a source that resolves inside the wait registration itself
    expect(await ctx.value(spin(async ($) => await $.await(d)))).toBe(7);
  });

  test.runIf(gc !== undefined)(
    "(c) GC does not reap a parent suspended on a running child whose handle is unreachable",
    async () => {
      const ctx = createContext();
      const d = deferred<string>();
      const p = (() => {
        const child = spin(async ($) => `child ${await $.await(d)}`);
        return ctx.value(spin(async ($) => `parent(${await $.await(child)})`));
      })();
      await flush();
      gc!();
      await flush();
      gc!();
      d.deliver("done", ctx);
      expect(await p).toBe("parent(child done)");
    },
  );

  test.runIf(gc !== undefined)(
    "(d) a spawned spin parked on an external wait is not collected (spawn pins it)",
    async () => {
      const ctx = createContext();
      const mb = mailbox<number>();
      const got: number[] = [];
      ctx.spawn(
        spin(async ($) => await $.await(mb)),
        { onValue: (v) => got.push(v as number) },
      );
      await flush();
      gc!();
      await flush();
      gc!();
      mb.post(5, ctx);
      await flush();
      expect(got).toEqual([5]);
    },
  );

  test("(e) multi-track: a signal tracked after a resume point stays tracked", async () => {
    const ctx = createContext();
    const a = signal(1);
    const b = signal(1);
    const d = deferred<number>();
    d.deliver(100, ctx);
    const t = spin(async ($) => {
      const x = $.track(a);
      const y = await $.await(d);
      return x + y + $.track(b);
    });
    const seen = collect(ctx, t);
    await flush();
    ctx.set(b, 2);
    await flush();
    ctx.set(b, 3);
    await flush();
    ctx.set(a, 2);
    await flush();
    ctx.set(b, 4);
    await flush();
    expect(seen.values).toEqual([102, 103, 104, 105, 106]);
  });

  test("(f) zombie continuation: a superseded run settling later does not repaint the result", async () => {
    const ctx = createContext();
    const s = signal("old");
    const gates = new Map<string, ReturnType<typeof deferred<string>>>();
    const gateFor = (k: string) => {
      let g = gates.get(k);
      if (g === undefined) gates.set(k, (g = deferred<string>()));
      return g;
    };
    const t = spin(async ($) => {
      const k = $.track(s);
      const g = gateFor(k);
      return `${k}:${await $.await(g)}`;
    });
    const seen = collect(ctx, t);
    await flush();
    ctx.set(s, "new");
    await flush();
    gateFor("new").deliver("fresh", ctx);
    await flush();
    gateFor("old").deliver("stale", ctx); // the superseded run's wait: abandoned, nothing happens
    await flush();
    expect(seen.values).toEqual(["new:fresh"]);
    expect(await ctx.value(t)).toBe("new:fresh");
  });

  test("(g) a cancelled waiter never eats a message or an iterator item", async () => {
    const ctx = createContext();
    const mb = mailbox<string>();
    let release!: () => void;
    const released = new Promise<void>((r) => {
      release = r;
    });
    const items = (async function* () {
      await released;
      yield "item";
    })();
    const w1 = spin(async ($) => await $.await(mb));
    const w2 = spin(async ($) => (await $.await(next(items))).value);
    const p1 = ctx.value(w1);
    const p2 = ctx.value(w2);
    await flush();
    mb.post("msg", ctx); // handed off...
    ctx.cancel(w1); // ...to a waiter cancelled before it continued
    ctx.cancel(w2); // the iterator pull is in flight
    expect(isCancelled(await rejection(p1))).toBe(true);
    expect(isCancelled(await rejection(p2))).toBe(true);
    release(); // the item arrives after its waiter died
    await flush();
    expect(mb.messages(ctx)).toEqual(["msg"]);
    expect(await ctx.value(spin(async ($) => (await $.await(next(items))).value))).toBe("item");
  });

  test("(h) a throw right after a resumed wait fails the spin (never left pending); settled() resolves", async () => {
    const ctx = createContext();
    const mb = mailbox<number>();
    const t = spin(async ($) => {
      const m = await $.await(mb);
      throw new Error(`cannot handle ${m}`);
    });
    const p = track(ctx.value(t));
    await flush();
    mb.post(1, ctx);
    await ctx.settled();
    await flush();
    expect(p.state).toBe("error");
    expect((p.error as Error).message).toBe("cannot handle 1");
    // post and cancel in the same tick: the wakeup is not lost between pop and hand-off
    const u = spin(async ($) => await $.await(mb));
    const v = spin(async ($) => await $.await(mb));
    const pu = ctx.value(u);
    const pv = ctx.value(v);
    await flush();
    mb.post(2, ctx);
    ctx.cancel(u);
    expect(await pv).toBe(2);
    await rejection(pu);
  });

  test("(i) on the real clock a timer firing is authoritative: a short sleep always wakes", async () => {
    const ctx = createContext();
    const results = await Promise.all([1, 2, 3, 5, 8].map((ms) => ctx.value(sleep(ms, ms))));
    expect(results).toEqual([1, 2, 3, 5, 8]);
    expect(ctx.clock.pending).toBe(0);
  });
});
