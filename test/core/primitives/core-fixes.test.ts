/**
 * Regression tests for the core fixes made while building the primitives (issue 3): each failed
 * on the core before its fix. They use a minimal hand-off source so they depend only on the
 * one-shot wait protocol.
 */
import { type Context, createContext, signal, spin, WAIT, type Waiter } from "spindel";
import { describe, expect, test } from "vitest";
import { flush } from "./helpers.js";

/** A minimal FIFO mailbox on the wait protocol: hand-off with undo, dead waiters skipped. */
function tinyMailbox() {
  const queue: number[] = [];
  const waiters: Waiter<number>[] = [];
  const give = (w: Waiter<number>, m: number): void => {
    if (
      !w.resolve(m, () => {
        queue.unshift(m);
        dispatch();
      })
    )
      queue.unshift(m);
  };
  const dispatch = (): void => {
    while (queue.length > 0 && waiters.length > 0) {
      const w = waiters.shift()!;
      if (w.alive) give(w, queue.shift()!);
    }
  };
  return {
    queue,
    post(m: number): void {
      queue.push(m);
      dispatch();
    },
    [WAIT](_ctx: Context, w: Waiter<number>): void {
      if (queue.length > 0) {
        give(w, queue.shift()!);
        return;
      }
      waiters.push(w);
      w.onAbandon(() => {
        const i = waiters.indexOf(w);
        if (i >= 0) waiters.splice(i, 1);
      });
    },
  };
}

describe("core fixes", () => {
  test("a body that returns with a wait still pending neither swallows a message nor blocks settled()", async () => {
    const ctx = createContext();
    const mb = tinyMailbox();
    const quick = spin(async () => 1);
    const r = spin(async ($) => Promise.race([$.await(quick), $.await(mb)]));
    expect(await ctx.value(r)).toBe(1);
    mb.post(5);
    expect(mb.queue).toEqual([5]);
    await ctx.settled();
  });

  test("disposing a root disarms the timers armed by its forks", () => {
    const ctx = createContext({ clock: "virtual" });
    ctx.fork().setTimer(60_000, () => {});
    ctx
      .fork()
      .fork()
      .setTimer(60_000, () => {});
    expect(ctx.clock.pending).toBe(2);
    ctx.dispose();
    expect(ctx.clock.pending).toBe(0);
  });

  test("every hand-off a body used is consumed, not only the last one (no double processing)", async () => {
    const ctx = createContext();
    const mb = tinyMailbox();
    const k = signal(0);
    const out = signal<readonly number[]>([]);
    const w = spin(async ($) => {
      $.track(k);
      const [a, b] = await Promise.all([$.await(mb), $.await(mb)]);
      $.set(out, [...$.peek(out), a, b]);
      await $.await(new Promise<never>(() => {}));
    });
    ctx.observe(w, () => {});
    await flush();
    mb.post(1);
    mb.post(2);
    await flush();
    ctx.set(k, 1); // supersedes the run parked after using both messages
    await flush();
    mb.post(3);
    await flush();
    expect(ctx.get(out)).toEqual([1, 2]);
    expect(mb.queue).toEqual([]); // 3 is held by the new run, waiting for a second message
  });

  test("a hand-off settled inside its own registration is not consumed before the body saw it", async () => {
    const ctx = createContext();
    const mb = tinyMailbox();
    mb.post(1);
    const w = spin(async ($) => Promise.all([$.await(mb), $.await(mb)]));
    const p = ctx.value(w).catch(() => "cancelled");
    await flush();
    ctx.cancel(w); // Promise.all still waits: the body never saw message 1
    expect(await p).toBe("cancelled");
    expect(mb.queue).toEqual([1]);
  });

  test("settled() waits for a body whose one-shot waits settle inside their registration", async () => {
    const ctx = createContext();
    const ready = { [WAIT]: (_c: Context, w: Waiter<number>) => w.resolve(1) };
    let done = false;
    const s = spin(async ($) => {
      await $.await(ready);
      await $.await(ready);
      done = true;
      return 1;
    });
    ctx.observe(s, () => {});
    await ctx.settled();
    expect(done).toBe(true);
  });
});
