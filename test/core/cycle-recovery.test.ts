/**
 * Regressions of a sweep of the kernel (each failed before its fix): a read that threw before its
 * entry settled (a caught `ERR_CYCLE`, a caught stack overflow) left a pending entry in a committed
 * log, where every later check stopped; a cycle formed across runs was reported as
 * `ERR_NOT_SETTLED`; `ctx.rerun` of a spin inside its own body recursed until the stack overflowed.
 */
import { batch, type Spin, type SpindelError, signal, spin } from "spindel";
import { describe, expect, test } from "vitest";
import { rootAndFork } from "./helpers.js";

/** The code of a thrown SpindelError (or the message of another error). */
function code(e: unknown): string {
  return (e as SpindelError).code ?? String(e);
}

describe.each(rootAndFork)("in a %s context", (_label, make) => {
  // warm 0: the general engine; warm 6: the node re-runs on the lean path
  test.each([0, 6])(
    "a body that caught the ERR_CYCLE of a read re-runs on a later read's change (warm %i)",
    (warm) => {
      const ctx = make();
      const y = signal(0);
      const z = signal(0);
      const on = signal(false);
      let runsA = 0;
      const box: { b: Spin<string> | null } = { b: null };
      const a = spin(
        ($) => {
          runsA++;
          let r = "-";
          if ($.peek(on)) {
            try {
              r = `B=${$.track(box.b!)}`;
            } catch (e) {
              r = code(e);
            }
          }
          return `${r} y${$.track(y)}`;
        },
        { name: "A" },
      );
      const b = spin(($) => {
        $.track(z);
        return `[${$.track(a)}]`;
      });
      box.b = b;
      const seenB: string[] = [];
      ctx.observe(b, (v) => seenB.push(v));
      for (let k = 1; k <= warm; k++) ctx.set(y, k);
      ctx.set(on, true);
      // b re-runs (z) and reads a, stale (y): a re-runs inside b's run and meets b running
      batch(() => {
        ctx.set(z, 1);
        ctx.set(y, 100);
      });
      expect(ctx.read(a)).toBe("ERR_CYCLE y100");
      expect(seenB.at(-1)).toBe("[ERR_CYCLE y100]");
      const runs = runsA;
      // a tracks y after the caught read: the write re-runs it (it read b's value, b is not running)
      ctx.set(y, 101);
      expect(ctx.read(a)).toBe("B=[ERR_CYCLE y100] y101");
      expect(seenB.at(-1)).toBe("[B=[ERR_CYCLE y100] y101]");
      expect(runsA).toBe(runs + 1);
      // b re-runs and reads a again: the cycle forms again, as it formed the first time
      ctx.set(z, 2);
      expect(ctx.read(a)).toBe("ERR_CYCLE y101");
      expect(seenB.at(-1)).toBe("[ERR_CYCLE y101]");
      expect(runsA).toBe(runs + 2);
    },
  );

  test("a cycle of synchronous spins formed across runs fails with ERR_CYCLE, and recovers once broken", () => {
    const ctx = make();
    const y = signal(0);
    const z = signal(0);
    const bOn = signal(false);
    const box: { a: Spin<string> | null } = { a: null };
    const b = spin(
      ($) => {
        const v = $.track(z);
        if ($.peek(bOn)) {
          try {
            return `B(${$.track(box.a!)})`;
          } catch (e) {
            return `B caught ${code(e)} ${JSON.stringify((e as SpindelError).data)}`;
          }
        }
        return `B${v}`;
      },
      { name: "B" },
    );
    const a = spin(($) => `A(${$.track(b)},y${$.track(y)})`, { name: "A" });
    box.a = a;
    const seenA: string[] = [];
    const seenB: string[] = [];
    // b observed first: the drain re-runs it before a, and its read of a meets a's check of b
    ctx.observe(b, (v) => seenB.push(v));
    ctx.observe(
      a,
      (v) => seenA.push(v),
      (e) => seenA.push(`${code(e)} ${(e as Error).message}`),
    );
    ctx.set(bOn, true);
    ctx.set(z, 1);
    expect(seenB).toEqual(["B0", 'B caught ERR_CYCLE {"spins":["B","A","B"]}']);
    expect(seenA).toEqual([
      "A(B0,y0)",
      "ERR_CYCLE dependency cycle: B -> A -> B (a spin cannot wait on its own result)",
    ]);
    // b stops reading a: both re-run on the values they read
    ctx.set(bOn, false);
    ctx.set(z, 2);
    ctx.set(y, 3);
    expect(seenB.at(-1)).toBe("B2");
    expect(seenA.at(-1)).toBe("A(B2,y3)");
    expect(ctx.read(a)).toBe("A(B2,y3)");
  });

  test("ctx.rerun of a spin inside its own body re-runs it after that run", () => {
    const ctx = make();
    const x = signal(0);
    let runs = 0;
    let ask = true;
    const box: { s: Spin<number> | null } = { s: null };
    const s = spin(($) => {
      runs++;
      const v = $.track(x);
      if (ask) {
        ask = false;
        ctx.rerun(box.s!);
      }
      return v * 10 + runs;
    });
    box.s = s;
    // read once: the read answers with the run it caused; the spin stays stale for the next read
    expect(ctx.read(s)).toBe(1);
    expect(ctx.read(s)).toBe(2);
    expect(ctx.read(s)).toBe(2);
    // observed: the drain re-runs it once the run that asked is over
    ask = true;
    const seen: number[] = [];
    ctx.observe(s, (v) => seen.push(v));
    ctx.set(x, 1);
    expect(runs).toBe(4);
    expect(ctx.read(s)).toBe(14);
    expect(seen.at(-1)).toBe(14);
    ctx.set(x, 2);
    expect(seen.at(-1)).toBe(25);
  });

  test("a spin that asks for its own re-run on every run fails with ERR_CYCLE, never a stuck node", () => {
    const ctx = make();
    const x = signal(0);
    const loop = signal(false);
    let runs = 0;
    const box: { s: Spin<number> | null } = { s: null };
    const s = spin(($) => {
      runs++;
      const v = $.track(x);
      if ($.peek(loop)) ctx.rerun(box.s!);
      return v;
    });
    box.s = s;
    const seen: string[] = [];
    ctx.observe(
      s,
      (v) => seen.push(`value ${v}`),
      (e) => seen.push(code(e)),
    );
    for (let k = 1; k <= 6; k++) ctx.set(x, k); // warmed: the lean path
    ctx.set(loop, true);
    expect(() => ctx.set(x, 100)).not.toThrow();
    // bounded by the drain, as a spin that writes what it tracks
    expect(seen.at(-1)).toBe("ERR_CYCLE");
    expect(runs).toBeLessThan(1_100);
    // not stuck: a later write re-runs it
    ctx.set(loop, false);
    ctx.set(x, 7);
    expect(seen.at(-1)).toBe("value 7");
    expect(ctx.read(s)).toBe(7);
  });

  test("a body that caught a stack overflow of its read re-runs on a later change", () => {
    const ctx = make();
    const x = signal(0);
    const y = signal(0);
    // a chain too long to check in one recursion, evaluated in steps
    const n = 40_000;
    const chain: Spin<number>[] = [spin(($) => $.track(x))];
    for (let i = 1; i < n; i++) {
      const prev = chain[i - 1]!;
      chain.push(spin(($) => $.track(prev)));
    }
    for (let i = 0; i < n; i += 500) ctx.read(chain[i]!);
    const top = chain[n - 1]!;
    const a = spin(($) => {
      const v = $.track(x);
      let r = "ok";
      try {
        $.track(top);
      } catch (e) {
        r = e instanceof RangeError ? "overflow" : code(e);
      }
      return `${r} ${v} ${$.track(y)}`;
    });
    expect(ctx.read(a)).toBe("ok 0 0");
    // a re-runs (x) and its read of the chain, stale, checks it in one recursion: the stack
    // overflows inside $.track, and the body catches it
    ctx.set(x, 1);
    expect(ctx.read(a)).toBe("overflow 1 0");
    // y is read after the caught read: its write re-runs a
    ctx.set(y, 1);
    for (let i = 0; i < n; i += 500) ctx.read(chain[i]!);
    expect(ctx.read(a)).toBe("ok 1 1");
  });
});
