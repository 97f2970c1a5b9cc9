/**
 * Bodies that rewire at random between sources, some of them two handles of one key: after every
 * write, every derived value (read, and observed) equals its formula over the current values, in a
 * root and in a fork. This is the law behind `$.track`'s shortcut (a read recognized by the
 * handle's number) and `prune`'s (dependencies told apart by those numbers): a body that switches
 * handles at an ordinal must read the right cell, stay subscribed to what it reads and drop only
 * what it no longer reads. A reload carries the context into a new root (snapshot or CBOR bytes),
 * whose cached results must then agree too.
 */
import fc from "fast-check";
import {
  type Context,
  createContext,
  deserializeContext,
  restoreSnapshot,
  type Signal,
  type Spin,
  signal,
  spin,
} from "spindel";
import { expect, test } from "vitest";

type Op =
  | { kind: "write"; sig: number; value: number }
  | { kind: "control"; which: number; value: number }
  | { kind: "observe"; which: number }
  | { kind: "stop"; which: number }
  | { kind: "reload"; bytes: boolean };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant("write" as const), sig: fc.nat(3), value: fc.integer({ min: -5, max: 5 }) }),
  fc.record({ kind: fc.constant("control" as const), which: fc.nat(2), value: fc.nat(7) }),
  fc.record({ kind: fc.constant("observe" as const), which: fc.nat(2) }),
  fc.record({ kind: fc.constant("stop" as const), which: fc.nat(2) }),
  fc.record({ kind: fc.constant("reload" as const), bytes: fc.boolean() }),
);

let round = 0;

for (const where of ["root", "fork"] as const) {
  test(`bodies rewiring among signals, spins and same-key handles agree with their formulas (${where})`, () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 50 }), (ops) => {
        const r = ++round;
        // four cells: two unkeyed signals and one key held by two handles (k1, k2), one more unkeyed
        const s0 = signal(1);
        const s1 = signal(2);
        const k1 = signal(3, { key: `rewire-${where}-${r}` });
        const k2 = signal(3, { key: `rewire-${where}-${r}` });
        const s3 = signal(4);
        const cells = [s0, s1, k1, s3]; // writes go to these four (k2 is k1's cell)
        // spins over them, one key held by two spin handles too
        const sum = spin(($) => $.track(s0) + $.track(s1));
        const ks1 = spin(($) => $.track(k2) * 2, { key: `rewire-spin-${where}-${r}` });
        const ks2 = spin(($) => $.track(k1) * 2, { key: `rewire-spin-${where}-${r}` });
        const sources: (Signal<number> | Spin<number>)[] = [s0, s1, k1, k2, s3, sum, ks1, ks2];
        const controls = [signal(0), signal(1), signal(2)];
        const value = (ctx: Context, i: number): number => {
          const v = cells.map((c) => ctx.get(c));
          // s0, s1, k1, k2 (= k1's cell), s3, sum, ks1, ks2
          return [v[0]!, v[1]!, v[2]!, v[2]!, v[3]!, v[0]! + v[1]!, v[2]! * 2, v[2]! * 2][i]!;
        };
        // derived j reads three sources chosen by its control, in an order that moves too
        const pick = (c: number, j: number, k: number): number => (c * 3 + j * 5 + k * (c + 1)) % 8;
        const derived = controls.map((control, j) =>
          spin(($) => {
            const c = $.track(control);
            let total = 0;
            for (let k = 0; k < 3; k++) total = total * 10 + $.track(sources[pick(c, j, k)]!);
            return total;
          }),
        );
        const formula = (ctx: Context, j: number): number => {
          const c = ctx.get(controls[j]!);
          let total = 0;
          for (let k = 0; k < 3; k++) total = total * 10 + value(ctx, pick(c, j, k));
          return total;
        };

        let ctx = where === "root" ? createContext() : createContext().fork();
        const observe = (j: number) =>
          ctx.observe(derived[j]!, (v) => {
            seen[j] = v;
          });
        const seen: (number | undefined)[] = [undefined, undefined, undefined];
        const stops: ((() => void) | null)[] = [null, null, null];
        try {
          for (const o of ops) {
            if (o.kind === "write") ctx.set(cells[o.sig]!, o.value);
            else if (o.kind === "control") ctx.set(controls[o.which]!, o.value);
            else if (o.kind === "observe" && stops[o.which] === null) stops[o.which] = observe(o.which);
            else if (o.kind === "reload") {
              // the context's state carried into a new root (a snapshot, or its CBOR bytes); the
              // observations move with it
              const next = o.bytes ? deserializeContext(ctx.serialize()) : restoreSnapshot(ctx.snapshot());
              for (let j = 0; j < 3; j++) if (stops[j] !== null) stops[j]!();
              ctx = next;
              for (let j = 0; j < 3; j++) if (stops[j] !== null) stops[j] = observe(j);
            } else if (o.kind === "stop" && stops[o.which] !== null) {
              stops[o.which]!();
              stops[o.which] = null;
            }
            for (let j = 0; j < 3; j++) {
              const want = formula(ctx, j);
              if (stops[j] !== null) expect(seen[j]).toBe(want);
              expect(ctx.read(derived[j]!)).toBe(want);
            }
          }
        } finally {
          for (const s of stops) s?.();
        }
      }),
      { numRuns: Number(process.env.RUNS ?? 200), seed: Number(process.env.SEED ?? 11) },
    );
  });
}
