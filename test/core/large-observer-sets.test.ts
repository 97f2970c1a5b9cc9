/**
 * Sources with many observers (past the eight an observer set keeps in an array alone: its members
 * then sit in a hash table) whose readers rewire on every write, many of them in one pass: a write
 * of `mode` makes every derived spin leave the sources it read and join others, a control's write
 * makes a third of them move, and the rest keep what they read. After every operation, every
 * derived value (read, and observed) equals its formula over the current values: a node that left
 * a source is not notified by it any more only if it left, and one that joined is. In a root, in a
 * fork (whose nodes observe inherited cells through its maps of external observers until its own
 * write makes a cell: the set moves onto it), and carried into a new root by a snapshot or CBOR
 * bytes (which subscribes the restored nodes again).
 */
import fc from "fast-check";
import { type Context, createContext, deserializeContext, restoreSnapshot, signal, spin } from "spindel";
import { expect, test } from "vitest";

type Op =
  | { kind: "write"; sig: number; value: number }
  | { kind: "mode" }
  | { kind: "control"; which: number; value: number }
  | { kind: "observe"; which: number }
  | { kind: "stop"; which: number }
  | { kind: "reload"; bytes: boolean };

/** Derived spins: 30 read `mode`, and each source is read by a dozen or so of them. */
const N = 30;
const SOURCES = 6;

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant("write" as const),
    sig: fc.nat(SOURCES - 1),
    value: fc.integer({ min: -9, max: 9 }),
  }),
  fc.record({ kind: fc.constant("mode" as const) }),
  fc.record({ kind: fc.constant("control" as const), which: fc.nat(2), value: fc.nat(5) }),
  fc.record({ kind: fc.constant("observe" as const), which: fc.nat(N - 1) }),
  fc.record({ kind: fc.constant("stop" as const), which: fc.nat(N - 1) }),
  fc.record({ kind: fc.constant("reload" as const), bytes: fc.boolean() }),
);

for (const where of ["root", "fork"] as const) {
  test(`many readers leaving and joining large observer sets agree with their formulas (${where})`, () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const sources = Array.from({ length: SOURCES }, (_, i) => signal(i + 1));
        const mode = signal(false);
        const controls = [signal(0), signal(1), signal(2)];
        // derived j reads three sources chosen by `mode` and its control (every third shares one):
        // a write of `mode` moves them all, a control's a third of them
        const pick = (m: boolean, c: number, j: number, k: number): number =>
          (j + k * (m ? 2 : 1) + c * (j % 2 === 0 ? 1 : 3)) % SOURCES;
        const derived = Array.from({ length: N }, (_, j) =>
          spin(($) => {
            const m = $.track(mode);
            const c = $.track(controls[j % 3]!);
            let total = 0;
            for (let k = 0; k < 3; k++) total = total * 100 + $.track(sources[pick(m, c, j, k)]!);
            return total;
          }),
        );
        const formula = (ctx: Context, j: number): number => {
          const m = ctx.get(mode);
          const c = ctx.get(controls[j % 3]!);
          let total = 0;
          for (let k = 0; k < 3; k++) total = total * 100 + ctx.get(sources[pick(m, c, j, k)]!);
          return total;
        };

        let ctx = where === "root" ? createContext() : createContext().fork();
        const seen: (number | undefined)[] = [];
        const stops: ((() => void) | null)[] = derived.map(() => null);
        const observe = (j: number) =>
          ctx.observe(derived[j]!, (v) => {
            seen[j] = v;
          });
        // most of them observed from the start: the sources' sets are large at once
        for (let j = 0; j < N; j++) if (j % 4 !== 3) stops[j] = observe(j);
        const check = () => {
          for (let j = 0; j < N; j++) {
            const want = formula(ctx, j);
            if (stops[j] !== null) expect(seen[j]).toBe(want);
            expect(ctx.read(derived[j]!)).toBe(want);
          }
        };
        try {
          check();
          for (const o of ops) {
            if (o.kind === "write") ctx.set(sources[o.sig]!, o.value);
            else if (o.kind === "mode") ctx.set(mode, !ctx.get(mode));
            else if (o.kind === "control") ctx.set(controls[o.which]!, o.value);
            else if (o.kind === "observe" && stops[o.which] === null) stops[o.which] = observe(o.which);
            else if (o.kind === "stop" && stops[o.which] !== null) {
              stops[o.which]!();
              stops[o.which] = null;
            } else if (o.kind === "reload") {
              const next = o.bytes ? deserializeContext(ctx.serialize()) : restoreSnapshot(ctx.snapshot());
              for (let j = 0; j < N; j++) if (stops[j] !== null) stops[j]!();
              ctx = next;
              for (let j = 0; j < N; j++) if (stops[j] !== null) stops[j] = observe(j);
            }
            check();
          }
        } finally {
          for (const s of stops) s?.();
        }
      }),
      { numRuns: Number(process.env.RUNS ?? 60), seed: Number(process.env.SEED ?? 40) },
    );
  });
}

test("a write reaches exactly the readers a large set holds after a rewiring pass", () => {
  // 40 spins read `a` or `b` by `mode`: one write of `mode` moves all of them from one set of 20 or
  // more to the other in one drain; writes of `a` then re-run only the readers of `a`
  const ctx = createContext();
  const a = signal(1);
  const b = signal(100);
  const mode = signal(0);
  const runs: number[] = Array.from({ length: 40 }, () => 0);
  const stops = runs.map((_, j) =>
    ctx.observe(
      spin(($) => {
        runs[j]!++;
        return (($.track(mode) + j) % 2 === 0 ? $.track(a) : $.track(b)) + j;
      }),
      () => {},
    ),
  );
  const readersOfA = () => runs.map((_, j) => j).filter((j) => (ctx.get(mode) + j) % 2 === 0);
  for (let round = 0; round < 6; round++) {
    ctx.set(mode, round);
    const before = runs.slice();
    ctx.set(a, ctx.get(a) + 1);
    const ran = runs.map((r, j) => r - before[j]!);
    expect(ran).toEqual(runs.map((_, j) => (readersOfA().includes(j) ? 1 : 0)));
  }
  for (const s of stops) s();
});
