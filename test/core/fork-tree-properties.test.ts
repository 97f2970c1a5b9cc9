/**
 * Fork isolation over a tree of contexts, read synchronously and observed: random writes anywhere in
 * the tree, interleaved with `ctx.read`s, observations started and stopped, and new forks. Every read
 * must equal what a plain model of the tree computes (reads follow the parent), and so must every
 * observation in the root after each step, and an observation in a fork right after a write in that
 * fork that changed one of its spin's inputs (events of a parent are not delivered into a fork:
 * docs/forking.md). This exercises the kernel's shortcuts: a re-run keeping its last run's
 * subscriptions, entries read through their cells while no fork created one since, `ctx.read`
 * answering from its per-epoch cache. A context restored from a snapshot of any of them (or from its
 * serialized bytes) joins the tree as a new root; a disposed context (and its forks) refuses every use.
 * Writes batched in one context reach a root's observation once, and only if its value changed.
 * A preact effect over `ctx.toPreact(sig)` in any context always holds the value visible there.
 * A spin cancelled (or re-run) in one context changes nothing anywhere else: every context that is
 * not the one it was cancelled in, a fork below it or a root restored from one of those still reads
 * and observes exactly the model; in those a read gives the model's value or `Cancelled`.
 */

import { effect } from "@preact/signals-core";
import fc from "fast-check";
import {
  batch,
  ContextDisposedError,
  createContext,
  defaultContext,
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
  | { kind: "write"; ctx: number; sig: number; value: number }
  | { kind: "read"; ctx: number; spin: number }
  | { kind: "observe"; ctx: number; spin: number }
  | { kind: "stop"; which: number }
  | { kind: "fork"; ctx: number }
  | { kind: "restore"; ctx: number; bytes: boolean }
  | { kind: "dispose"; ctx: number }
  | { kind: "batch"; ctx: number; writes: { sig: number; value: number }[] }
  | { kind: "view"; ctx: number; sig: number }
  | { kind: "cancel"; ctx: number; spin: number }
  | { kind: "rerun"; ctx: number; spin: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant("write" as const),
    ctx: fc.nat(7),
    sig: fc.nat(SIGNALS - 1),
    value: fc.integer({ min: -3, max: 3 }),
  }),
  fc.record({ kind: fc.constant("read" as const), ctx: fc.nat(7), spin: fc.nat(4) }),
  fc.record({ kind: fc.constant("observe" as const), ctx: fc.nat(7), spin: fc.nat(4) }),
  fc.record({ kind: fc.constant("stop" as const), which: fc.nat(7) }),
  fc.record({ kind: fc.constant("fork" as const), ctx: fc.nat(7) }),
  fc.record({ kind: fc.constant("restore" as const), ctx: fc.nat(7), bytes: fc.boolean() }),
  fc.record({ kind: fc.constant("dispose" as const), ctx: fc.nat(7) }),
  fc.record({ kind: fc.constant("view" as const), ctx: fc.nat(7), sig: fc.nat(SIGNALS - 1) }),
  fc.record({ kind: fc.constant("cancel" as const), ctx: fc.nat(7), spin: fc.nat(4) }),
  fc.record({ kind: fc.constant("rerun" as const), ctx: fc.nat(7), spin: fc.nat(4) }),
  fc.record({
    kind: fc.constant("batch" as const),
    ctx: fc.nat(7),
    writes: fc.array(fc.record({ sig: fc.nat(SIGNALS - 1), value: fc.integer({ min: -3, max: 3 }) }), {
      minLength: 1,
      maxLength: 3,
    }),
  }),
);

for (const where of ["a new root", "the default context"] as const)
  test(`a tree of forks, written, read and observed at random, agrees with a model of it (${where})`, () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const sigs: Signal<number>[] = Array.from({ length: SIGNALS }, (_, i) => signal(i));
        // a small diamond over the signals, plus a spin over spins
        const a = spin(($) => $.track(sigs[0]!) + $.track(sigs[1]!));
        const b = spin(($) => $.track(sigs[1]!) * $.track(sigs[2]!));
        const c = spin(($) => $.track(a) - $.track(b));
        const d = spin(($) => ($.track(sigs[0]!) > 0 ? $.track(c) : $.track(sigs[2]!)));
        // a spin with a nested spin, re-created with its captured value as `deps`
        const e = spin(($) => {
          const v = $.track(sigs[0]!);
          const child = $.spin(($$) => $$.track(sigs[2]!) * 10 + v, { deps: [v] });
          return $.track(child) + 1;
        });
        const spins: Spin<number>[] = [a, b, c, d, e];
        const formulas = [
          (v: number[]) => v[0]! + v[1]!,
          (v: number[]) => v[1]! * v[2]!,
          (v: number[]) => v[0]! + v[1]! - v[1]! * v[2]!,
          (v: number[]) => (v[0]! > 0 ? v[0]! + v[1]! - v[1]! * v[2]! : v[2]!),
          (v: number[]) => v[2]! * 10 + v[0]! + 1,
        ];

        const tree = new TreeModel(
          where === "a new root" ? createContext() : defaultContext(),
          SIGNALS,
          (s) => s,
        );
        const contexts = tree.contexts;
        const valueIn = (k: number, s: number): number => tree.valueIn(k, s);
        // contexts whose cached results went through CBOR bytes (or were taken from such a context):
        // CBOR carries -0 as 0 (src/core/persist/codec.ts), so there zero is compared without its sign
        const lossy: boolean[] = [false];
        const expected = (k: number, sp: number): number => {
          const v = formulas[sp]!(tree.values(k));
          return lossy[k] ? v + 0 : v;
        };
        const got = (k: number, v: number | undefined): number | undefined =>
          lossy[k] && v !== undefined ? v + 0 : v;

        // preact effects over `ctx.toPreact` views: a view follows every write visible in its
        // context, a parent's included (it is a preact computed over the visible cell)
        const views: { ctx: number; sig: number; last: number | undefined; stop: () => void }[] = [];
        const observations: {
          ctx: number;
          spin: number;
          last: number | undefined;
          calls: number;
          errors: unknown[];
          stop: () => void;
        }[] = [];
        // the signals each spin reads (d's depend on s0: only observed in the root)
        const inputs = [
          [0, 1],
          [1, 2],
          [0, 1, 2],
          [0, 1, 2],
          [0, 2],
        ];
        // even numbers count from the first context, odd ones from the newest (deep trees get used)
        const pick = (n: number): number =>
          n % 2 === 0 ? (n >> 1) % contexts.length : contexts.length - 1 - ((n >> 1) % contexts.length);
        const isRoot = (k: number): boolean => tree.isRoot(k);
        const disposed = (k: number): boolean => tree.disposed(k);
        const cancelledIn = (k: number): boolean => tree.cancelledIn(k);
        // a read where a spin may be cancelled: the model's value or `Cancelled`
        const readIn = (k: number, sp: number): void => {
          if (!cancelledIn(k)) {
            expect(got(k, contexts[k]!.read(spins[sp]!))).toBe(expected(k, sp));
            return;
          }
          let v: number;
          try {
            v = contexts[k]!.read(spins[sp]!);
          } catch (err) {
            expect((err as { code?: string }).code).toBe("ERR_CANCELLED");
            return;
          }
          expect(got(k, v)).toBe(expected(k, sp));
        };
        const checkObservations = (written?: { ctx: number; sigs: number[] }) => {
          for (const o of observations)
            if (disposed(o.ctx) || cancelledIn(o.ctx)) continue;
            else if (
              isRoot(o.ctx) ||
              (written !== undefined &&
                written.ctx === o.ctx &&
                o.spin !== 3 &&
                written.sigs.some((s) => inputs[o.spin]!.includes(s)))
            )
              expect(got(o.ctx, o.last)).toBe(expected(o.ctx, o.spin));
          for (const o of observations)
            if (!disposed(o.ctx) && !cancelledIn(o.ctx)) expect(o.errors).toEqual([]);
        };

        for (const o of ops) {
          let written: { ctx: number; sigs: number[] } | undefined;
          switch (o.kind) {
            case "write": {
              const k = pick(o.ctx);
              if (disposed(k)) {
                expect(() => contexts[k]!.set(sigs[o.sig]!, o.value)).toThrow(ContextDisposedError);
                break;
              }
              if (valueIn(k, o.sig) !== o.value) written = { ctx: k, sigs: [o.sig] };
              contexts[k]!.set(sigs[o.sig]!, o.value);
              tree.write(k, o.sig, o.value);
              break;
            }
            case "read": {
              const k = pick(o.ctx);
              if (disposed(k)) {
                expect(() => contexts[k]!.read(spins[o.spin]!)).toThrow(ContextDisposedError);
                break;
              }
              readIn(k, o.spin);
              break;
            }
            case "observe": {
              const k = pick(o.ctx);
              if (!isRoot(k) && o.spin === 3) break; // see `inputs`
              if (disposed(k)) {
                expect(() => contexts[k]!.observe(spins[o.spin]!, () => {})).toThrow(ContextDisposedError);
                break;
              }
              const entry = {
                ctx: k,
                spin: o.spin,
                last: undefined as number | undefined,
                calls: 0,
                errors: [] as unknown[],
                stop: () => {},
              };
              entry.stop = contexts[k]!.observe(
                spins[o.spin]!,
                (v) => {
                  entry.last = v;
                  entry.calls++;
                },
                (err) => {
                  entry.errors.push(err);
                },
              );
              observations.push(entry);
              break;
            }
            case "view": {
              const k = pick(o.ctx);
              if (disposed(k)) break;
              const view = contexts[k]!.toPreact(sigs[o.sig]!);
              const entry = { ctx: k, sig: o.sig, last: undefined as number | undefined, stop: () => {} };
              entry.stop = effect(() => {
                entry.last = view.value;
              });
              views.push(entry);
              break;
            }
            case "stop": {
              if (observations.length === 0) break;
              const [gone] = observations.splice(o.which % observations.length, 1);
              gone!.stop();
              break;
            }
            case "fork": {
              const k = pick(o.ctx);
              if (disposed(k)) {
                expect(() => contexts[k]!.fork()).toThrow(ContextDisposedError);
                break;
              }
              tree.addFork(k, contexts[k]!.fork());
              lossy.push(lossy[k]!);
              break;
            }
            case "restore": {
              // a new root from a snapshot of context k (or its CBOR bytes): the values visible there,
              // and its spins' cached results and logs (those it read without any context storing the
              // signal too)
              const k = pick(o.ctx);
              if (disposed(k)) break;
              const from = contexts[k]!;
              tree.addRestored(
                k,
                o.bytes ? deserializeContext(from.serialize()) : restoreSnapshot(from.snapshot()),
              );
              lossy.push(o.bytes || lossy[k]!);
              break;
            }
            case "dispose": {
              // any context but the first (its forks go with it)
              const k = pick(o.ctx);
              if (k === 0) break;
              contexts[k]!.dispose();
              tree.dispose(k);
              break;
            }
            case "batch": {
              // writes in one batch: an observation in a root re-runs once, at the end, and is told
              // only if its value changed (a write undone within the batch changes nothing)
              const k = pick(o.ctx);
              if (disposed(k)) break;
              const before = observations.map((ob) => ({
                calls: ob.calls,
                value: expected(ob.ctx, ob.spin),
              }));
              const old = tree.values(k);
              batch(() => {
                for (const w of o.writes) {
                  contexts[k]!.set(sigs[w.sig]!, w.value);
                  tree.write(k, w.sig, w.value);
                }
              });
              const now = tree.values(k);
              written = { ctx: k, sigs: now.flatMap((v, sg) => (v !== old[sg] ? [sg] : [])) };
              observations.forEach((ob, i) => {
                if (!isRoot(ob.ctx) || disposed(ob.ctx) || cancelledIn(ob.ctx)) return;
                const calls = ob.calls - before[i]!.calls;
                expect(calls).toBeLessThanOrEqual(1);
                const value = expected(ob.ctx, ob.spin);
                // a cache restored from bytes may hold 0 where the re-run gives -0 (seed 77 at
                // size "medium"): told rightly, since the values differ by Object.is
                const signLost = lossy[ob.ctx] && value === 0;
                if (Object.is(value, before[i]!.value) && !signLost) expect(calls).toBe(0);
              });
              break;
            }
            case "cancel": {
              const k = pick(o.ctx);
              if (disposed(k)) {
                expect(() => contexts[k]!.cancel(spins[o.spin]!)).toThrow(ContextDisposedError);
                break;
              }
              contexts[k]!.cancel(spins[o.spin]!);
              tree.cancel(k);
              // cancelled where it was cancelled: until an input changes or it is re-run
              expect(() => contexts[k]!.read(spins[o.spin]!)).toThrow(
                expect.objectContaining({ code: "ERR_CANCELLED" }),
              );
              break;
            }
            case "rerun": {
              // a re-run from scratch computes what the model says (where nothing was cancelled)
              const k = pick(o.ctx);
              if (disposed(k)) {
                expect(() => contexts[k]!.rerun(spins[o.spin]!)).toThrow(ContextDisposedError);
                break;
              }
              contexts[k]!.rerun(spins[o.spin]!);
              // a spin over signals alone is its formula again; one over spins may read a
              // cancelled one (where a spin was cancelled)
              if (o.spin <= 1) expect(got(k, contexts[k]!.read(spins[o.spin]!))).toBe(expected(k, o.spin));
              else readIn(k, o.spin);
              break;
            }
          }
          checkObservations(written);
          for (const v of views) if (!disposed(v.ctx)) expect(v.last).toBe(valueIn(v.ctx, v.sig));
        }
        for (let k = 0; k < contexts.length; k++)
          for (let sp = 0; sp < spins.length; sp++)
            if (disposed(k)) expect(() => contexts[k]!.read(spins[sp]!)).toThrow(ContextDisposedError);
            else readIn(k, sp);
        for (const o of observations) o.stop();
        for (const v of views) v.stop();
      }),
      {
        // the default context keeps every run's state until its handles are collected and a turn of
        // the event loop reaps them (none comes during the property), and each restore snapshots all
        // of it: fewer cases there
        numRuns:
          where === "a new root"
            ? Number(process.env.RUNS ?? 600)
            : Math.min(Number(process.env.RUNS ?? 150), 400),
        seed: Number(process.env.SEED ?? 9),
        // sequences that failed once, run first (contexts as `pick` numbers them: 0 the first,
        // 1 the newest, 2k the k-th): a view in a fork of a fork after the middle fork's first
        // write; a root restored from a fork's snapshot over the root's outdated cache
        examples: [
          [
            [
              { kind: "fork", ctx: 0 }, // 1, of the root
              { kind: "fork", ctx: 1 }, // 2, of 1
              { kind: "view", ctx: 1, sig: 0 }, // in 2
              { kind: "write", ctx: 2, sig: 0, value: 3 }, // in 1
            ],
          ],
          [
            [
              { kind: "fork", ctx: 0 }, // 1
              { kind: "fork", ctx: 0 }, // 2
              { kind: "write", ctx: 1, sig: 0, value: 1 }, // in 2
              { kind: "restore", ctx: 0, bytes: false }, // 3, from the root
              { kind: "read", ctx: 0, spin: 2 }, // in the root
              { kind: "restore", ctx: 4, bytes: false }, // 4, from 2
            ],
          ],
        ],
      },
    );
  });
