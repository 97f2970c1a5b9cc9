/**
 * A spin whose run reads a spin whose log check is in progress below it — the check re-ran it —
 * is on a cycle: `n` reads `child`, and `child`'s re-run starts reading `n` (a cycle formed across
 * runs, met from `n`'s side). The read fails with `ERR_CYCLE`, as preact's computed throws
 * "Cycle detected" there; it used to get `n`'s old result, and both spins settled on values
 * (`n` = 3, `child` = 2).
 */
import { batch, type Context, createContext, type Signal, type Spin, signal, spin } from "spindel";
import { describe, expect, test } from "vitest";
import { acrossRuns, outcome, rootAndFork } from "./helpers.js";

interface Pair {
  s: Signal<number>;
  child: Spin<number>;
  n: Spin<number>;
}

/** `child` awaits `n` once `s` is not 0, `n` awaits `child` (helpers.ts, `acrossRuns` with no await between). */
function asyncPair(): Pair {
  return acrossRuns(false);
}

/** The same two spins, synchronous (`$.track`). */
function syncPair(): Pair {
  const s = signal(0);
  const box: { n: Spin<number> | null } = { n: null };
  const child = spin(
    ($) => {
      const v = $.track(s);
      return v === 0 ? 0 : $.track(box.n!) + v;
    },
    { name: "child" },
  );
  const n = spin(($) => $.track(child) + 1, { name: "n" });
  box.n = n;
  return { s, child, n };
}

const forms: [string, () => Pair][] = [
  ["async", asyncPair],
  ["sync", syncPair],
];

/** Both spins' outcomes, read in `order`. */
async function readBoth(ctx: Context, p: Pair, order: "n" | "child"): Promise<string[]> {
  const both = order === "n" ? [ctx.value(p.n), ctx.value(p.child)] : [ctx.value(p.child), ctx.value(p.n)];
  const outs = await Promise.all(both.map(outcome));
  return order === "n" ? [outs[1]!, outs[0]!] : outs; // [child, n]
}

describe.each(rootAndFork)("a cycle met by a check in progress, in a %s context", (_label, make) => {
  describe.each(forms)("%s spins", (_form, pair) => {
    test.each(["n", "child"] as const)(
      "read %s first: both fail with ERR_CYCLE, then recover",
      async (order) => {
        const ctx = make();
        const p = pair();
        expect(await readBoth(ctx, p, order)).toEqual(["ok 0", "ok 1"]);
        ctx.set(p.s, 1);
        expect(await readBoth(ctx, p, order)).toEqual(["ERR_CYCLE", "ERR_CYCLE"]);
        // read again: still the cycle
        expect(await readBoth(ctx, p, order)).toEqual(["ERR_CYCLE", "ERR_CYCLE"]);
        ctx.set(p.s, 2);
        expect(await readBoth(ctx, p, order)).toEqual(["ERR_CYCLE", "ERR_CYCLE"]);
        ctx.set(p.s, 0);
        expect(await readBoth(ctx, p, order)).toEqual(["ok 0", "ok 1"]);
        ctx.set(p.s, 1);
        expect(await readBoth(ctx, p, order)).toEqual(["ERR_CYCLE", "ERR_CYCLE"]);
      },
    );
  });
});

describe.each(rootAndFork)("a check in progress, read by a run, in a %s context", (_label, make) => {
  test("ctx.read names the cycle, and the graph recovers", () => {
    const ctx = make();
    const p = syncPair();
    expect(ctx.read(p.n)).toBe(1);
    ctx.set(p.s, 1);
    let err: unknown;
    try {
      ctx.read(p.n);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: "ERR_CYCLE", data: { spins: ["child", "n", "child"] } });
    expect(() => ctx.read(p.child)).toThrow(expect.objectContaining({ code: "ERR_CYCLE" }));
    ctx.set(p.s, 0);
    expect(ctx.read(p.n)).toBe(1);
    expect(ctx.read(p.child)).toBe(0);
  });

  test("a cycle through a spin whose check is in progress too fails with ERR_CYCLE", () => {
    // n reads a, a reads child; child starts reading n: n's check checks a, whose check re-runs child
    const ctx = make();
    const s = signal(0);
    const box: { n: Spin<number> | null } = { n: null };
    const child = spin(($) => ($.track(s) === 0 ? 0 : $.track(box.n!) + 1), { name: "child" });
    const a = spin(($) => $.track(child) + 1, { name: "a" });
    const n = spin(($) => $.track(a) + 1, { name: "n" });
    box.n = n;
    expect(ctx.read(n)).toBe(2);
    ctx.set(s, 1);
    let err: unknown;
    try {
      ctx.read(n);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: "ERR_CYCLE", data: { spins: ["child", "n", "a", "child"] } });
    expect(() => ctx.read(a)).toThrow(expect.objectContaining({ code: "ERR_CYCLE" }));
    expect(() => ctx.read(child)).toThrow(expect.objectContaining({ code: "ERR_CYCLE" }));
    ctx.set(s, 0);
    expect([ctx.read(child), ctx.read(a), ctx.read(n)]).toEqual([0, 1, 2]);
  });

  test("observed spins: the drain reports the cycle to both", () => {
    const ctx = make();
    const p = syncPair();
    const seen: string[] = [];
    ctx.observe(
      p.n,
      (v) => seen.push(`n ${v}`),
      (e) => seen.push(`n ${(e as { code?: string }).code}`),
    );
    ctx.observe(
      p.child,
      (v) => seen.push(`child ${v}`),
      (e) => seen.push(`child ${(e as { code?: string }).code}`),
    );
    ctx.set(p.s, 1);
    expect(seen.slice(2).sort()).toEqual(["child ERR_CYCLE", "n ERR_CYCLE"]);
    ctx.set(p.s, 0);
    expect(seen.slice(4).sort()).toEqual(["child 0", "n 1"]);
  });

  test("a run a check's subscriber starts reads the checking spin without a cycle", () => {
    // `n`'s check re-runs `child`, whose commit tells its observer, which reads `y`: `y` reads `n`,
    // checking, but that check does not depend on `y`
    const ctx = make();
    const s = signal(0);
    const child = spin(($) => $.track(s), { name: "child" });
    const n = spin(($) => $.track(child) + 1, { name: "n" });
    const y = spin(($) => $.track(n) * 10, { name: "y" });
    const ys: string[] = [];
    expect(ctx.read(n)).toBe(1);
    let on = false;
    ctx.observe(child, () => {
      if (!on) return;
      try {
        ys.push(String(ctx.read(y)));
      } catch (e) {
        ys.push((e as { code?: string }).code ?? String(e));
      }
    });
    on = true;
    // in a batch: the read of `n` checks it before the drain re-runs `child`
    batch(() => {
      ctx.set(s, 1);
      expect(ctx.read(n)).toBe(2);
    });
    expect(ys).toHaveLength(1);
    expect(ys[0]).not.toBe("ERR_CYCLE");
  });
});

test("a fork's read of a spin from below that spin's check is not remembered for the epoch", () => {
  // `child`'s body reads `n` with `ctx.read` (untracked) while `n`'s check re-runs `child`: it gets
  // `n`'s last result; `n` then re-runs at the same epoch, and the next read of `n` answers with
  // that run, not with the answer of the read from below the check
  const fork = createContext().fork();
  const s = signal(0);
  const box: { n: Spin<number> | null } = { n: null };
  const peeked: number[] = [];
  const child = spin(
    ($) => {
      const v = $.track(s);
      if (v > 0) peeked.push(fork.read(box.n!));
      return v;
    },
    { name: "child" },
  );
  const n = spin(($) => $.track(child) + 1, { name: "n" });
  const top = spin(($) => $.track(n) * 10, { name: "top" });
  box.n = n;
  expect(fork.read(top)).toBe(10);
  fork.set(s, 5);
  expect(fork.read(top)).toBe(60); // checks `top`, whose check checks `n`
  expect(peeked).toEqual([1]);
  expect(fork.read(n)).toBe(6);
});
