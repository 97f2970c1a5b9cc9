/**
 * A root releases a spin's node nobody needs any more (docs/concepts.md, "Garbage collection and
 * disposal"): out of the node map at once, kept on its handle, attached again when needed. The
 * first group are regressions of an earlier version of this (each failed there and passes on the
 * code before it); the second what the release is for.
 */
import { Cancelled, type Context, createContext, type Signal, type Spin, signal, spin } from "spindel";
import { describe, expect, test } from "vitest";
import { tick } from "./helpers.js";

const gc = (globalThis as { gc?: () => void }).gc;

/** Collect and turn the event loop until `cond` holds (finalization callbacks run between turns); bounded. */
async function collectUntil(cond: () => boolean): Promise<boolean> {
  for (let i = 0; i < 50 && !cond(); i++) {
    gc!();
    await tick();
  }
  return cond();
}

/**
 * A spin over one source, made in its own scope: spins built side by side in one scope share the
 * closure context that holds all their handles, so none could be collected before the others.
 */
function derived<T>(src: Signal<T> | Spin<T>, f: (v: T) => number): Spin<number> {
  return spin(($) => f($.track(src)));
}

function observersOf(ctx: Context, s: Signal<unknown>): number {
  return ctx.cells.get(s.id)?.observers?.size ?? 0;
}

describe("regressions of the first root release", () => {
  test("a nested spin the parent stopped tracking still gets its new body (capture gate)", () => {
    const ctx = createContext();
    const x = signal(0);
    const parent = spin(($) => {
      const v = $.track(x);
      const child = $.spin(() => v * 10, { deps: [v] });
      return v < 0 ? -1 : $.track(child);
    });
    const seen: number[] = [];
    const stop = ctx.observe(parent, (v) => seen.push(v));
    ctx.set(x, -1); // the parent re-runs without its child (re-created with new deps)
    ctx.set(x, 1); // and with it again, re-created once more
    expect(seen).toEqual([0, -1, 10]);
    stop();
  });

  test("a cancelled spin whose observation stopped re-runs after an input change", () => {
    const ctx = createContext();
    const s = signal(1);
    const c = spin(($) => $.track(s) * 2);
    const stop = ctx.observe(
      c,
      () => {},
      () => {},
    );
    ctx.cancel(c);
    expect(() => ctx.read(c)).toThrow(Cancelled);
    stop();
    ctx.set(s, 2);
    expect(ctx.read(c)).toBe(4);
  });

  test("dispose runs the cleanups of a source its last observer stopped tracking", () => {
    const ctx = createContext();
    const s = signal(1);
    const log: string[] = [];
    const b = spin(($) => {
      $.onCleanup(() => log.push("b"));
      return $.track(s);
    });
    const c = spin(($) => $.track(b) + 1);
    ctx.observe(c, () => {})();
    expect(log).toEqual([]); // only the observed spin's cleanups run when it is stopped
    ctx.dispose();
    expect(log).toEqual(["b"]);
  });

  test.runIf(gc !== undefined)(
    "a released graph read after a write leaves no node and no subscription once collected",
    async () => {
      const ctx = createContext();
      const s = signal(0);
      await (async () => {
        const tops = [];
        for (let i = 0; i < 20; i++) {
          const a = derived(s, (v) => v + i);
          const b = derived(a, (v) => (v >= 0 ? 1 : 0)); // re-runs to the same value
          const c = derived(b, (v) => v);
          ctx.observe(c, () => {})();
          tops.push(c);
        }
        ctx.set(s, 1);
        for (const c of tops) expect(ctx.read(c)).toBe(1); // a re-runs, b re-runs, c is still valid
      })();
      expect(await collectUntil(() => ctx._nodeCount === 0 && observersOf(ctx, s) === 0)).toBe(true);
    },
  );

  test.runIf(gc !== undefined)(
    "a source attached again through its observer's log is reaped when its release is refused",
    async () => {
      const ctx = createContext();
      const s = signal(0);
      const fork = ctx.fork();
      await (async () => {
        const b = derived(s, (v) => v + 1);
        const c = derived(b, (v) => v * 2);
        ctx.observe(c, () => {})(); // released in the job that created them
        await tick();
        expect(fork.read(derived(s, (v) => v))).toBe(0); // a fork that owns a node: no release now
        const stop = ctx.observe(c, () => {}); // c attached with its handle, b through c's log
        stop();
        expect(ctx._nodeCount).toBe(2);
      })();
      expect(await collectUntil(() => ctx._nodeCount === 0)).toBe(true);
      expect(fork.disposed).toBe(false); // the fork lived throughout
    },
  );
});
