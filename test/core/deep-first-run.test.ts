/**
 * The first run of a deep graph recurses through `Run.track`, `refresh`, `startRun` and the body,
 * frame by frame, before V8 optimizes anything: the chain of 1,000 of the timed benchmark
 * (`bench/shapes.ts`, three closures a level) must first-run within the stack. `track`'s frame is
 * the largest of a level (its locals are shared by its paths to keep it small: see there).
 */
import { expect, test } from "vitest";
import { createContext, type Signal, type Spin, signal, spin } from "../../src/index.js";

type Get = (x: Signal<number> | Spin<number>) => number;
const computed = (fn: (get: Get) => number): Spin<number> => spin(($) => fn((x) => $.track(x)));

for (const fork of [false, true]) {
  test(`a chain of 1,000 spins read through closures first-runs within the stack (${fork ? "fork" : "root"})`, () => {
    const s = signal(0);
    let prev = computed((get) => get(s));
    for (let i = 1; i < 1000; i++) {
      const p0 = prev;
      prev = computed((get) => get(p0) + 1);
    }
    const ctx = fork ? createContext().fork() : createContext();
    const errors: unknown[] = [];
    const tail = prev;
    const stop = ctx.observe(
      spin(($) => $.track(tail)),
      () => {},
      (err) => errors.push(err),
    );
    expect(errors).toEqual([]);
    expect(ctx.read(tail)).toBe(999);
    stop();
  });
}
