/**
 * The fork tree of `fork-tree-properties.test.ts` with async spins: bodies that await one-shot
 * waits and other spins, so runs are in flight while the tree is written, forked, snapshotted,
 * serialized, restored and disposed. Whenever the tree has settled, every root's observation holds
 * its spin's value over the current inputs, and every read (`ctx.value`) resolves to it. Spins
 * cancelled (or re-run) with runs in flight change nothing outside the context they were cancelled
 * in (its forks, roots restored from those): there a read resolves to the model's value or rejects
 * with `Cancelled`; everywhere else it is exactly the model, and no observation gets an error.
 */
import fc from "fast-check";
import {
  ContextDisposedError,
  createContext,
  deserializeContext,
  restoreSnapshot,
  type Signal,
  type Spin,
  signal,
  spin,
} from "spindel";
import { expect, test } from "vitest";
import { TreeModel } from "./tree-model.js";

const SIGNALS = 3;

type Op =
  | { kind: "write"; ctx: number; sig: number; value: number; settle: boolean }
  | { kind: "read"; ctx: number; spin: number }
  | { kind: "observe"; ctx: number; spin: number }
  | { kind: "stop"; which: number }
  | { kind: "fork"; ctx: number }
  | { kind: "restore"; ctx: number; bytes: boolean }
  | { kind: "dispose"; ctx: number }
  | { kind: "settle" }
  | { kind: "cancel"; ctx: number; spin: number }
  | { kind: "rerun"; ctx: number; spin: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant("write" as const),
    ctx: fc.nat(7),
    sig: fc.nat(SIGNALS - 1),
    value: fc.integer({ min: 1, max: 4 }),
    settle: fc.boolean(),
  }),
  fc.record({ kind: fc.constant("read" as const), ctx: fc.nat(7), spin: fc.nat(4) }),
  fc.record({ kind: fc.constant("observe" as const), ctx: fc.nat(7), spin: fc.nat(4) }),
  fc.record({ kind: fc.constant("stop" as const), which: fc.nat(7) }),
  fc.record({ kind: fc.constant("fork" as const), ctx: fc.nat(7) }),
  fc.record({ kind: fc.constant("restore" as const), ctx: fc.nat(7), bytes: fc.boolean() }),
  fc.record({ kind: fc.constant("dispose" as const), ctx: fc.nat(7) }),
  fc.constant({ kind: "settle" as const }),
  fc.record({ kind: fc.constant("cancel" as const), ctx: fc.nat(7), spin: fc.nat(4) }),
  fc.record({ kind: fc.constant("rerun" as const), ctx: fc.nat(7), spin: fc.nat(4) }),
);

/** A few turns of the event loop: every one-shot wait below resolves within them. */
async function turns(): Promise<void> {
  for (let i = 0; i < 4; i++) await new Promise((r) => setImmediate(r));
}

let round = 0;

test("an async fork tree, written while runs are in flight, agrees with a model of it once settled", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(op, { maxLength: 40 }), async (ops) => {
      const r = ++round;
      const sigs: Signal<number>[] = Array.from({ length: SIGNALS }, (_, i) => signal(i + 1));
      const tick = () => Promise.resolve();
      // keyed, so serialized bytes find their bodies whichever is read first
      const a = spin(
        async ($) => {
          const x = $.track(sigs[0]!);
          await $.await(tick);
          return x + $.track(sigs[1]!);
        },
        { key: `aft${r}.a` },
      );
      const b = spin(($) => $.track(sigs[1]!) * $.track(sigs[2]!), { key: `aft${r}.b` });
      const c = spin(async ($) => (await $.await(a)) - $.track(b), { key: `aft${r}.c` });
      const d = spin(
        async ($) => {
          const v = await $.await(c);
          await $.await(tick);
          return v * 2 + $.track(sigs[2]!);
        },
        { key: `aft${r}.d` },
      );
      // a nested async spin, created before the parent's first wait and re-created with its capture
      const e = spin(
        async ($) => {
          const v = $.track(sigs[0]!);
          const child = $.spin(
            async ($$) => {
              await $$.await(tick);
              return $$.track(sigs[2]!) * 10 + v;
            },
            { deps: [v] },
          );
          return (await $.await(child)) + 1;
        },
        { key: `aft${r}.e` },
      );
      const spins: Spin<number>[] = [a, b, c, d, e];
      const formulas = [
        (v: number[]) => v[0]! + v[1]!,
        (v: number[]) => v[1]! * v[2]!,
        (v: number[]) => v[0]! + v[1]! - v[1]! * v[2]!,
        (v: number[]) => 2 * (v[0]! + v[1]! - v[1]! * v[2]!) + v[2]!,
        (v: number[]) => v[2]! * 10 + v[0]! + 1,
      ];

      const tree = new TreeModel(createContext(), SIGNALS, (s) => s + 1);
      const contexts = tree.contexts;
      const expected = (k: number, sp: number): number => formulas[sp]!(tree.values(k));
      const disposed = (k: number): boolean => tree.disposed(k);
      const isRoot = (k: number): boolean => tree.isRoot(k);
      const cancelledIn = (k: number): boolean => tree.cancelledIn(k);
      const observations: {
        ctx: number;
        spin: number;
        last: number | undefined;
        errors: unknown[];
        stop: () => void;
      }[] = [];
      const check = () => {
        // events of a parent are not delivered into a fork (docs/forking.md): roots only
        for (const o of observations) {
          if (disposed(o.ctx) || cancelledIn(o.ctx)) continue;
          if (isRoot(o.ctx)) expect(o.last).toBe(expected(o.ctx, o.spin));
          expect(o.errors).toEqual([]);
        }
      };
      // a read where a spin may be cancelled: the model's value or `Cancelled`
      const readIn = async (k: number, sp: number): Promise<void> => {
        if (!cancelledIn(k)) {
          expect(await contexts[k]!.value(spins[sp]!)).toBe(expected(k, sp));
          return;
        }
        let v: number;
        try {
          v = await contexts[k]!.value(spins[sp]!);
        } catch (err) {
          expect((err as { code?: string }).code).toBe("ERR_CANCELLED");
          return;
        }
        expect(v).toBe(expected(k, sp));
      };

      try {
        for (const o of ops) {
          const k = "ctx" in o ? o.ctx % contexts.length : 0;
          switch (o.kind) {
            case "write":
              if (disposed(k))
                expect(() => contexts[k]!.set(sigs[o.sig]!, o.value)).toThrow(ContextDisposedError);
              else {
                contexts[k]!.set(sigs[o.sig]!, o.value);
                tree.write(k, o.sig, o.value);
              }
              if (o.settle) {
                await turns();
                check();
              }
              break;
            case "read":
              if (disposed(k))
                await expect(contexts[k]!.value(spins[o.spin]!)).rejects.toThrow(ContextDisposedError);
              else await readIn(k, o.spin);
              break;
            case "observe": {
              if (disposed(k)) break;
              const entry = {
                ctx: k,
                spin: o.spin,
                last: undefined as number | undefined,
                errors: [] as unknown[],
                stop: () => {},
              };
              entry.stop = contexts[k]!.observe(
                spins[o.spin]!,
                (v) => {
                  entry.last = v;
                },
                (err) => {
                  entry.errors.push(err);
                },
              );
              observations.push(entry);
              break;
            }
            case "stop": {
              if (observations.length === 0) break;
              const [out] = observations.splice(o.which % observations.length, 1);
              out!.stop();
              break;
            }
            case "fork":
              if (disposed(k)) break;
              tree.addFork(k, contexts[k]!.fork());
              break;
            case "restore": {
              if (disposed(k)) break;
              const from = contexts[k]!;
              tree.addRestored(
                k,
                o.bytes ? deserializeContext(from.serialize()) : restoreSnapshot(from.snapshot()),
              );
              break;
            }
            case "dispose":
              if (k === 0) break;
              contexts[k]!.dispose();
              tree.dispose(k);
              break;
            case "settle":
              await turns();
              check();
              break;
            case "cancel":
              if (disposed(k)) {
                expect(() => contexts[k]!.cancel(spins[o.spin]!)).toThrow(ContextDisposedError);
                break;
              }
              contexts[k]!.cancel(spins[o.spin]!);
              tree.cancel(k);
              break;
            case "rerun":
              if (disposed(k)) {
                expect(() => contexts[k]!.rerun(spins[o.spin]!)).toThrow(ContextDisposedError);
                break;
              }
              contexts[k]!.rerun(spins[o.spin]!);
              break;
          }
        }
        await turns();
        check();
        for (let k = 0; k < contexts.length; k++)
          if (!disposed(k)) for (let sp = 0; sp < spins.length; sp++) await readIn(k, sp);
      } finally {
        for (const o of observations) o.stop();
      }
    }),
    {
      numRuns: Number(process.env.RUNS ?? 200),
      seed: Number(process.env.SEED ?? 5),
      // failing cases found by other seeds, run first on every seed
      examples: [
        // seed 303: a fork's run in flight read a signal its root then wrote; its late commit
        // handed the old result to the fork's read
        [
          [
            { kind: "fork", ctx: 0 },
            { kind: "rerun", ctx: 3, spin: 0 },
            { kind: "write", ctx: 0, sig: 0, value: 2, settle: false },
            { kind: "read", ctx: 3, spin: 0 },
          ],
        ],
        // seed 1655870581: the fork's run of c awaited the root's settled a; the root then wrote
        // a's signal and the fork's a re-ran; c's commit skipped a (a run in flight, its version
        // still the one c read) and handed c over the old a to the fork's read
        [
          [
            { kind: "fork", ctx: 0 },
            { kind: "read", ctx: 0, spin: 0 },
            { kind: "observe", ctx: 3, spin: 2 },
            { kind: "write", ctx: 0, sig: 0, value: 2, settle: false },
            { kind: "observe", ctx: 1, spin: 0 },
            { kind: "read", ctx: 1, spin: 2 },
          ],
        ],
      ],
    },
  );
});
