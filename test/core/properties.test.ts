import fc from "fast-check";
import { createContext, deserializeContext, type Signal, signal, spin } from "spindel";
import { describe, expect, test } from "vitest";
import { gate, Ticket } from "./helpers.js";

describe("laws (property tests)", () => {
  test("fork isolation: random writes in parent and fork; the fork sees its writes over the parent's, the parent never sees the fork's", async () => {
    const N = 4;
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.tuple(fc.boolean(), fc.integer({ min: 0, max: N - 1 }), fc.integer({ min: -5, max: 5 })),
          {
            maxLength: 30,
          },
        ),
        async (ops) => {
          const parent = createContext();
          const sigs = Array.from({ length: N }, () => signal(0));
          const sum = spin(($) => sigs.reduce((acc, s) => acc + $.track(s), 0));
          const fork = parent.fork();
          await parent.value(sum);
          const pm = new Array<number>(N).fill(0);
          const fm = new Map<number, number>();
          for (const [inFork, i, v] of ops) {
            if (inFork) {
              fork.set(sigs[i]!, v);
              fm.set(i, v);
            } else {
              parent.set(sigs[i]!, v);
              pm[i] = v;
            }
            const expectFork = pm.map((p, k) => fm.get(k) ?? p);
            for (let k = 0; k < N; k++) {
              expect(parent.get(sigs[k]!)).toBe(pm[k]);
              expect(fork.get(sigs[k]!)).toBe(expectFork[k]);
            }
            expect(await parent.value(sum)).toBe(pm.reduce((a, b) => a + b, 0));
            expect(await fork.value(sum)).toBe(expectFork.reduce((a, b) => a + b, 0));
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  test("exactly once: one-shot waits before the point of change are never redone; those after it once per run", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom("s0", "s1", "both"), { maxLength: 15 }), async (ops) => {
        const ctx = createContext();
        const s0 = signal(0);
        const s1 = signal(0);
        const A = new Ticket();
        const B = new Ticket();
        let afterB = 0;
        const t = spin(async ($) => {
          const x = $.track(s0);
          const a = await $.await(A);
          const y = $.track(s1);
          const b = await $.await(B);
          afterB++;
          return [x, a, y, b];
        });
        const pending = ctx.value(t);
        A.release();
        await new Promise((r) => setImmediate(r));
        B.release();
        await pending;
        let expectA = 1;
        let expectB = 1;
        let n = 0;
        for (const op of ops) {
          n++;
          if (op === "s0" || op === "both") ctx.set(s0, n);
          if (op === "s1" || op === "both") ctx.set(s1, n);
          const p = ctx.value(t);
          if (op !== "s1") {
            expectA++;
            await new Promise((r) => setImmediate(r));
            A.release();
          }
          expectB++;
          await new Promise((r) => setImmediate(r));
          B.release();
          const [x, , y] = await p;
          expect([x, y]).toEqual([ctx.get(s0), ctx.get(s1)]);
        }
        expect(A.waits).toBe(expectA);
        expect(B.waits).toBe(expectB);
        expect(afterB).toBe(expectB);
      }),
      { numRuns: 60 },
    );
  });

  test("no stale commit: under random interleavings of writes and wait settlements, every result comes from the current input", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.constant<"write">("write"), fc.nat({ max: 20 })), {
          minLength: 1,
          maxLength: 40,
        }),
        async (ops) => {
          const ctx = createContext();
          const s = signal(0);
          const gates: { g: ReturnType<typeof gate<void>>; done: boolean }[] = [];
          const t = spin(async ($) => {
            const v = $.track(s);
            const g = gate<void>();
            gates.push({ g, done: false });
            await $.await(g.promise);
            return v * 2;
          });
          const seen: number[] = [];
          ctx.observe(t, (v) => {
            expect(v).toBe(ctx.get(s) * 2); // never a result computed from a superseded input
            seen.push(v);
          });
          let w = 0;
          for (const op of ops) {
            if (op === "write") ctx.set(s, ++w);
            else {
              const open = gates.filter((x) => !x.done);
              if (open.length > 0) {
                const pick = open[op % open.length]!;
                pick.done = true;
                pick.g.resolve();
                await new Promise((r) => setImmediate(r));
              }
            }
          }
          for (const x of gates) x.g.resolve();
          await new Promise((r) => setImmediate(r));
          for (const x of gates) x.g.resolve();
          expect(await ctx.value(t)).toBe(w * 2);
        },
      ),
      { numRuns: 100 },
    );
  });

  const cborValue = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: "small" },
      fc.integer(),
      fc.double({ noNaN: true }).filter((d) => !Object.is(d, -0)),
      fc.string(),
      fc.boolean(),
      fc.constant(null),
      fc.bigInt(),
      fc.date({ noInvalidDate: true, min: new Date("0001-01-01"), max: new Date("9999-12-31") }),
      fc.uint8Array({ maxLength: 8 }),
      fc.array(tie("value"), { maxLength: 4 }),
      fc.dictionary(
        fc.string().filter((k) => k !== "__proto__"),
        tie("value"),
        { maxKeys: 4 },
      ),
      fc.array(fc.tuple(fc.string(), tie("value")), { maxLength: 3 }).map((e) => new Map(e)),
      fc.uniqueArray(fc.integer(), { maxLength: 4 }).map((e) => new Set(e)),
    ),
  })).value;

  test("serialize ∘ deserialize is the identity on signal values and cached results", async () => {
    let round = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(cborValue, { minLength: 1, maxLength: 5 }), async (values) => {
        round++;
        const ctx = createContext();
        const sigs: Signal<unknown>[] = values.map((_, i) =>
          signal<unknown>(null, { key: `prop${round}.${i}` }),
        );
        values.forEach((v, i) => {
          ctx.set(sigs[i]!, v);
        });
        const all = spin(($) => sigs.map((s) => $.track(s)), { key: `prop${round}.all` });
        await ctx.value(all);
        const back = deserializeContext(ctx.serialize());
        sigs.forEach((s, i) => {
          expect(back.get(s)).toEqual(values[i]);
        });
        expect(await back.value(all)).toEqual(values);
        expect(deserializeContext(back.serialize()).get(sigs[0]!)).toEqual(values[0]);
      }),
      { numRuns: 100 },
    );
  });
});
