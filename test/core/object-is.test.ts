/**
 * The write cut-off and the result comparison of a spin use `Object.is` written out
 * (`objectIs`): it must agree with `Object.is` on every value, -0 and NaN included.
 */
import fc from "fast-check";
import { createContext, signal, spin } from "spindel";
import { describe, expect, it } from "vitest";
import { objectIs } from "../../src/core/kernel/engine.js";

describe("objectIs", () => {
  it("agrees with Object.is", () => {
    const special = fc.constantFrom<unknown>(0, -0, Number.NaN, Infinity, -Infinity, "", null, undefined);
    const value = fc.oneof(special, fc.anything(), fc.double());
    fc.assert(
      fc.property(value, value, (a, b) => {
        expect(objectIs(a, b)).toBe(Object.is(a, b));
        expect(objectIs(a, a)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it("a write of -0 over 0 is a change, NaN over NaN is not", () => {
    const ctx = createContext();
    const s = signal<number>(0);
    let runs = 0;
    const t = spin(($) => {
      runs++;
      return 1 / $.track(s);
    });
    const seen: number[] = [];
    ctx.observe(t, (v) => seen.push(v));
    ctx.set(s, -0);
    expect(seen).toEqual([Infinity, -Infinity]);
    ctx.set(s, Number.NaN);
    const before = runs;
    ctx.set(s, Number.NaN);
    expect(runs).toBe(before);
  });

  it("a spin whose result goes from 0 to -0 tells its observers", () => {
    const ctx = createContext();
    const s = signal(1);
    const zero = spin(($) => ($.track(s) > 0 ? 0 : -0));
    const seen: number[] = [];
    ctx.observe(zero, (v) => seen.push(1 / v));
    ctx.set(s, -1);
    ctx.set(s, -2); // -0 again: no change
    expect(seen).toEqual([Infinity, -Infinity]);
  });
});

describe("the lean re-run's result compare (written out in leanRun)", () => {
  it("hands out a result exactly when Object.is says it changed, -0 and NaN included", () => {
    const ctx = createContext();
    const i = signal(0);
    // warm-up values first: a node re-runs on the lean path once it keeps a spare
    const vals = [
      1,
      2,
      3,
      4,
      0,
      -0,
      -0,
      Number.NaN,
      Number.NaN,
      5,
      5,
      0,
      0,
      "a",
      "a",
      null,
      undefined,
      undefined,
    ];
    const t = spin(($) => vals[$.track(i)]);
    const seen: unknown[] = [];
    ctx.observe(t, (v) => seen.push(v));
    for (let k = 1; k < vals.length; k++) ctx.set(i, k);
    const expected = vals.filter((v, k) => k === 0 || !Object.is(v, vals[k - 1]));
    expect(seen).toEqual(expected);
    expect(seen.length).toBe(12);
    expect(Object.is(seen[5], -0)).toBe(true);
  });
});
