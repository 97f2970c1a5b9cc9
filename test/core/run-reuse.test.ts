/**
 * A node that keeps re-running synchronously reuses its run object, its log array from the run
 * before last and that log's entries (issue 9: no allocation per re-run). These tests check what
 * reuse could break: subscriptions when reads change, logs shared with forks, logs that shrink
 * and grow, and (as a property) values against a model over random writes.
 */
import fc from "fast-check";
import { createContext, type Signal, type Spin, type SpinScope, signal, spin } from "spindel";
import { describe, expect, test } from "vitest";
import { gate, rootAndFork } from "./helpers.js";

const contexts = rootAndFork;

describe.each(contexts)("in a %s context", (_label, make) => {
  test("a re-run that changes which signals it reads keeps exactly the right subscriptions", () => {
    const ctx = make();
    const mode = signal(0);
    const sources = [signal(0), signal(0), signal(0)];
    let runs = 0;
    const t = spin(($) => {
      runs++;
      const m = $.track(mode);
      // mode m reads sources [0, m]: the log shrinks and grows as the mode moves
      let sum = 0;
      for (let k = 0; k <= m; k++) sum += $.track(sources[k]!);
      return sum;
    });
    const seen: number[] = [];
    const stop = ctx.observe(t, (v) => seen.push(v));
    for (let round = 0; round < 12; round++) {
      const m = round % 3;
      ctx.set(mode, m);
      for (let k = 0; k < 3; k++) {
        const before = runs;
        ctx.set(sources[k]!, round * 10 + k + 1);
        // a source the current mode reads re-runs the spin; one it does not read leaves it alone
        expect(runs - before).toBe(k <= m ? 1 : 0);
      }
      let want = 0;
      for (let k = 0; k <= m; k++) want += round * 10 + k + 1;
      expect(ctx.read(t)).toBe(want);
    }
    expect(seen.at(-1)).toBe(ctx.read(t));
    stop();
  });

  test("a `$` kept past its run fails its effects and leaves the reused run and the log alone", () => {
    const ctx = make();
    const a = signal(0);
    const b = signal(100);
    const kept: SpinScope[] = [];
    const t = spin(($) => {
      kept.push($);
      return $.track(a);
    });
    const seen: number[] = [];
    ctx.observe(t, (v) => seen.push(v));
    for (let i = 1; i <= 5; i++) ctx.set(a, i); // enough re-runs for the run object to be reused
    const stale = kept[kept.length - 2]!;
    expect(() => stale.track(b)).toThrow(expect.objectContaining({ code: "ERR_CANCELLED" }));
    let cleaned = false;
    stale.onCleanup(() => {
      cleaned = true;
    });
    expect(cleaned).toBe(true); // an ended run runs a late cleanup at once
    // the next runs read `a` only: `b` was never subscribed, its writes re-run nothing
    const runs = kept.length;
    ctx.set(b, 101);
    expect(kept.length).toBe(runs);
    ctx.set(a, 6);
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(ctx.read(t)).toBe(6);
  });

  test("a spin read through a chain of re-running spins answers every write", () => {
    const ctx = make();
    const s = signal(1);
    let prev: Spin<number> = spin(($) => $.track(s));
    for (let i = 0; i < 20; i++) {
      const p = prev;
      prev = spin(($) => $.track(p) + 1);
    }
    const tail = prev;
    const got: number[] = [];
    const stop = ctx.observe(tail, (v) => got.push(v));
    for (let v = 2; v < 30; v++) ctx.set(s, v);
    expect(got).toEqual(Array.from({ length: 29 }, (_, k) => k + 1 + 20));
    stop();
  });
});

test("a fork that took its parent's spin keeps its answer while the parent re-runs", () => {
  const root = createContext();
  const s = signal(1);
  const own = signal(100);
  const t = spin(($) => $.track(s) * 2 + $.track(own));
  const stop = root.observe(t, () => {});
  for (let v = 2; v < 6; v++) root.set(s, v); // the parent's node re-runs and recycles its logs
  const fork = root.fork();
  expect(fork.read(t)).toBe(5 * 2 + 100);
  fork.set(own, 1);
  expect(fork.read(t)).toBe(5 * 2 + 1);
  for (let v = 6; v < 12; v++) {
    root.set(s, v);
    expect(root.read(t)).toBe(v * 2 + 100);
    expect(fork.read(t)).toBe(v * 2 + 1);
  }
  fork.set(s, 0);
  for (let v = 12; v < 16; v++) root.set(s, v);
  expect(fork.read(t)).toBe(1);
  expect(root.read(t)).toBe(15 * 2 + 100);
  stop();
});

test("a fork's node that shares its parent's log is not overwritten by the parent's next re-runs", () => {
  const root = createContext();
  const s = signal(1);
  const t = spin(($) => $.track(s) * 2);
  const stop = root.observe(t, () => {});
  for (let v = 2; v < 6; v++) root.set(s, v); // the parent's node now reuses its runs and logs
  const fork = root.fork();
  const stopFork = fork.observe(t, () => {}); // the fork's own node starts from the parent's log
  for (let v = 6; v < 16; v += 2) {
    // two re-runs of the parent's node before the fork looks again: the second writes into the
    // log array before last, which the fork's node still has
    root.set(s, v);
    root.set(s, v + 1);
    expect(root.read(t)).toBe((v + 1) * 2);
    expect(fork.read(t)).toBe((v + 1) * 2); // the fork wrote nothing: it reads its parent's signal
  }
  stopFork();
  stop();
});

test("a lean node's spare storage survives a general re-run and a write between lean re-runs", () => {
  // a lean spare keeps the storage of its next run itself (`Run.buf`, see keepSpare): the general
  // engine (an explicit re-run) must not write into the committed log, and the next lean re-runs
  // must not write into the log that a reader still walks
  const root = createContext();
  const a = signal(1);
  const b = signal(10);
  const t = spin(($) => $.track(a) + $.track(b));
  const u = spin(($) => $.track(t) * 2);
  const seen: number[] = [];
  const stop = root.observe(u, (v) => seen.push(v));
  for (let v = 2; v < 8; v++) root.set(a, v); // lean re-runs from here on
  root.rerun(t); // the general engine, from the lean spare
  for (let v = 8; v < 14; v++) {
    root.set(v % 2 === 0 ? a : b, v);
    expect(root.read(t)).toBe(root.get(a) + root.get(b));
    expect(root.read(u)).toBe(2 * (root.get(a) + root.get(b)));
  }
  root.rerun(u);
  root.set(a, 100);
  expect(root.read(u)).toBe(2 * (100 + root.get(b)));
  expect(seen.at(-1)).toBe(2 * (100 + root.get(b)));
  stop();
});

test("a fork made while its parent's spin is in flight adopts that run and gets its own answer", async () => {
  const root = createContext();
  const s = signal(1);
  const open = gate();
  const t = spin(async ($) => {
    const v = $.track(s);
    await $.await(open.promise);
    return v * 10;
  });
  const pending = root.value(t);
  const fork = root.fork();
  const inFork = fork.value(t);
  open.resolve();
  expect(await pending).toBe(10);
  expect(await inFork).toBe(10);
  for (let v = 2; v < 6; v++) {
    root.set(s, v);
    expect(await root.value(t)).toBe(v * 10);
  }
  expect(await fork.value(t)).toBe(50); // the fork wrote nothing: it reads its parent's signal
});

describe.each(contexts)("property, in a %s context", (_label, make) => {
  test("random writes over spins with data-dependent reads: every read equals the model", () => {
    // spin k reads signal k, and then either spin k-1 or signal (k+1) mod n depending on the parity
    // of what it read first: writes keep changing the shape of every log
    const n = 5;
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(n - 1), fc.integer({ min: -3, max: 3 }), fc.boolean()), {
          minLength: 1,
          maxLength: 60,
        }),
        (ops) => {
          const ctx = make();
          const sigs: Signal<number>[] = Array.from({ length: n }, (_, k) => signal(k));
          const spins: Spin<number>[] = [];
          for (let k = 0; k < n; k++) {
            const below = k > 0 ? spins[k - 1]! : null;
            spins.push(
              spin(($) => {
                const a = $.track(sigs[k]!);
                if (a % 2 === 0 && below !== null) return a + $.track(below);
                return a - $.track(sigs[(k + 1) % n]!);
              }),
            );
          }
          const vals = sigs.map((_, k) => k);
          const model = (k: number): number => {
            const a = vals[k]!;
            if (a % 2 === 0 && k > 0) return a + model(k - 1);
            return a - vals[(k + 1) % n]!;
          };
          const observed: number[] = Array(n).fill(Number.NaN);
          const stops = spins.map((t, k) =>
            k % 2 === 0
              ? ctx.observe(t, (v) => {
                  observed[k] = v;
                })
              : () => {},
          );
          for (const [k, v, read] of ops) {
            vals[k] = v;
            ctx.set(sigs[k]!, v);
            for (let j = 0; j < n; j += 2) expect(observed[j]).toBe(model(j));
            if (read) for (let j = 0; j < n; j++) expect(ctx.read(spins[j]!)).toBe(model(j));
          }
          for (const stop of stops) stop();
        },
      ),
      { numRuns: 200, seed: 9 },
    );
  });
});
