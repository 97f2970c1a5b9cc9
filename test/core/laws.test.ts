/**
 * Laws of core.md that are not covered by name elsewhere. Each test names its law.
 */

import { createContext, deserializeContext, restoreSnapshot, type Spin, signal, spin } from "spindel";
import { describe, expect, test } from "vitest";
import { gate } from "./helpers.js";

const gc = (globalThis as { gc?: () => void }).gc;
async function churnGc(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    gc?.();
    await new Promise((r) => setImmediate(r));
  }
}

describe("core.md laws", () => {
  test("L1: state is context-relative; handles carry none", async () => {
    const a = createContext();
    const b = createContext();
    const s = signal(1);
    const t = spin(($) => $.track(s) * 10);
    a.set(s, 2);
    expect([await a.value(t), await b.value(t)]).toEqual([20, 10]);
  });

  test("L5: a parent awaiting a child re-runs with the child's new result on every re-completion", async () => {
    const ctx = createContext();
    const s = signal(1);
    const child = spin(async ($) => $.track(s));
    const seen: number[] = [];
    ctx.observe(
      spin(async ($) => (await $.await(child)) * 100),
      (v) => seen.push(v),
    );
    await ctx.settled();
    for (const v of [2, 3]) {
      ctx.set(s, v);
      await ctx.settled();
    }
    expect(seen).toEqual([100, 200, 300]);
  });

  test("L8: a throwing observer callback is isolated: other observers still get the result", () => {
    const errors: unknown[] = [];
    const ctx = createContext({ onError: (e) => errors.push(e) });
    const s = signal(1);
    const t = spin(($) => $.track(s));
    const seen: number[] = [];
    ctx.observe(t, () => {
      throw new Error("observer bug");
    });
    ctx.observe(t, (v) => seen.push(v));
    ctx.set(s, 2);
    expect(seen).toEqual([1, 2]);
    expect(errors).toHaveLength(2);
  });

  test("L8: a spin that keeps invalidating itself is reported as a cycle, not an endless loop", () => {
    const ctx = createContext();
    const s = signal(0);
    const loop = spin(($) => {
      const v = $.track(s);
      $.set(s, v + 1);
      return v;
    });
    const errors: unknown[] = [];
    ctx.observe(
      loop,
      () => {},
      (err) => errors.push(err),
    );
    expect(errors).toEqual([expect.objectContaining({ code: "ERR_CYCLE" })]);
  });

  test("L13: nested spin ids are stable across re-runs, forks and restores", async () => {
    const ctx = createContext();
    const s = signal(1);
    const ids: string[] = [];
    const parent = spin(async ($) => {
      const v = $.track(s);
      const child = $.spin(() => v, { deps: [v] });
      ids.push(child.id);
      return $.await(child);
    });
    await ctx.value(parent);
    ctx.set(s, 2);
    await ctx.value(parent);
    const fork = ctx.fork();
    fork.set(s, 3);
    await fork.value(parent);
    const restored = restoreSnapshot(ctx.snapshot());
    restored.set(s, 4);
    await restored.value(parent);
    expect(new Set(ids).size).toBe(1);
    expect(ids).toHaveLength(4);
  });

  test("L18(b): a child that completes synchronously while being awaited is not missed", async () => {
    const ctx = createContext();
    const s = signal(1);
    const child = spin(($) => $.track(s) + 1);
    const parent = spin(async ($) => (await $.await(child)) * 2);
    expect(await ctx.value(parent)).toBe(4);
    ctx.set(s, 2);
    expect(await ctx.value(parent)).toBe(6);
  });

  test.runIf(gc !== undefined)(
    "L18(c): a parent parked on a running child is not reaped even if nothing references the handles",
    async () => {
      const ctx = createContext();
      const g = gate<number>();
      let p: Promise<number> | undefined;
      (() => {
        const child = spin(async ($) => $.await(g.promise));
        const parent = spin(async ($) => (await $.await(child)) + 1);
        p = ctx.value(parent);
      })();
      await churnGc();
      g.resolve(41);
      expect(await p).toBe(42);
    },
  );

  test.runIf(gc !== undefined)(
    "L18(d): a spawned spin parked on an external wait is pinned against GC",
    async () => {
      const ctx = createContext();
      const g = gate<number>();
      const got: number[] = [];
      ctx.spawn(
        spin(async ($) => $.await(g.promise)),
        { onValue: (v) => got.push(v as number) },
      );
      await churnGc();
      g.resolve(7);
      await g.promise;
      await new Promise((r) => setImmediate(r));
      expect(got).toEqual([7]);
    },
  );

  test("L18(e): after a resume at track k, later changes of k are still observed", async () => {
    const ctx = createContext();
    const a = signal(1);
    const b = signal(1);
    const c = signal(1);
    const seen: string[] = [];
    ctx.observe(
      spin(($) => `${$.track(a)}${$.track(b)}${$.track(c)}`),
      (v) => seen.push(v),
    );
    ctx.set(b, 2);
    ctx.set(b, 3);
    ctx.set(c, 4);
    ctx.set(a, 5);
    ctx.set(b, 6);
    expect(seen).toEqual(["111", "121", "131", "134", "534", "564"]);
  });

  test("L20: a fork shares cached results until a dependency changes in the fork", async () => {
    const ctx = createContext();
    const s = signal(1);
    let runs = 0;
    const t: Spin<number> = spin(($) => {
      runs++;
      return $.track(s);
    });
    await ctx.value(t);
    const f = ctx.fork();
    await f.value(t);
    expect(runs).toBe(1);
  });

  test("L21: a deserialized context serves cached values and reacts again", async () => {
    const ctx = createContext();
    const s = signal(2, { key: "l21.s" });
    let runs = 0;
    const t = spin(
      ($) => {
        runs++;
        return $.track(s) ** 2;
      },
      { key: "l21.t" },
    );
    await ctx.value(t);
    const back = deserializeContext(ctx.serialize());
    expect(await back.value(t)).toBe(4);
    back.set(s, 3);
    expect(await back.value(t)).toBe(9);
    expect(runs).toBe(2);
  });
});

test("cancelling an observed or spawned spin is not reported as an unhandled error", async () => {
  const reported: unknown[] = [];
  const ctx = createContext({ onError: (e) => reported.push(e) });
  const a = spin(async ($) => $.await(new Promise(() => {})));
  const b = spin(async ($) => $.await(new Promise(() => {})));
  ctx.spawn(a);
  ctx.observe(b, () => {});
  ctx.cancel(a);
  ctx.cancel(b);
  await ctx.settled();
  expect(reported).toEqual([]);
});
