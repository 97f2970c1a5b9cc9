/**
 * A wait the body abandoned (the losing `$.await` of a `Promise.race`) stayed a pending entry in the
 * committed log, where every log check stops: a later write of a signal read after the race never
 * re-ran the spin. The entry now settles as an abandoned error read at the run's finish: a spin's
 * keeps the version the awaited spin had (the node re-runs from it once that spin changes), a
 * one-shot's is waited on again by a re-run, never replayed with a value it never had.
 */
import { type Context, deferred, type SpinScope, signal, spin } from "spindel";
import { describe, expect, test } from "vitest";
import { rootAndFork, tick } from "./helpers.js";

/** Wait until the context settled and its observers were told. */
async function settle(ctx: Context): Promise<void> {
  await ctx.settled();
  await tick();
}

describe.each(rootAndFork)("in a %s context", (_label, make) => {
  test("a read after a race of spins re-runs the spin although the losing spin never settled", async () => {
    const ctx = make();
    const y = signal(0);
    const slowGate = deferred<number>();
    const slow = spin(async ($: SpinScope) => await $.await(slowGate));
    const fast = spin(() => 1);
    let runs = 0;
    const a = spin(async ($: SpinScope) => {
      runs++;
      const v = await Promise.race([$.await(slow), $.await(fast)]);
      return `${v} y${$.track(y)}`;
    });
    const seen: string[] = [];
    ctx.observe(a, (v) => seen.push(v));
    await settle(ctx);
    expect(seen).toEqual(["1 y0"]);
    ctx.set(y, 1);
    await settle(ctx);
    expect(seen).toEqual(["1 y0", "1 y1"]);
    expect(runs).toBe(2);
    // the abandoned read of slow re-runs a once slow commits a result: the race meets it settled
    slowGate.deliver(7, ctx);
    await settle(ctx);
    expect(seen).toEqual(["1 y0", "1 y1", "7 y1"]);
    ctx.set(y, 2);
    await settle(ctx);
    expect(seen.at(-1)).toBe("7 y2");
  });

  test("a read after a race of one-shot waits re-runs the spin; the losing wait is waited on again", async () => {
    const ctx = make();
    const y = signal(0);
    const g1 = deferred<string>();
    const g2 = deferred<string>();
    const got: unknown[] = [];
    const a = spin(async ($: SpinScope) => {
      const v = await Promise.race([
        $.await(g1).then((x) => {
          got.push(x);
          return x;
        }),
        $.await(g2),
      ]);
      return `${v} y${$.track(y)}`;
    });
    const seen: string[] = [];
    ctx.observe(a, (v) => seen.push(v));
    g2.deliver("two", ctx);
    await settle(ctx);
    expect(seen).toEqual(["two y0"]);
    ctx.set(y, 1);
    await settle(ctx);
    // g2's wait replays its value; g1's, abandoned, is not replayed as settled (with no value)
    expect(seen).toEqual(["two y0", "two y1"]);
    expect(got).toEqual([]);
    ctx.set(y, 2);
    await settle(ctx);
    expect(seen).toEqual(["two y0", "two y1", "two y2"]);
    expect(got).toEqual([]);
  });
});
