/**
 * A root releases a spin's node nobody needs any more (docs/concepts.md, "Garbage collection and
 * disposal"): out of the node map at once, kept on its handle, attached again when needed. The
 * first group are regressions of an earlier version of this (each failed there and passes on the
 * code before it); the second what the release is for.
 */
import { Cancelled, type Context, createContext, race, type Signal, type Spin, signal, spin } from "spindel";
import { describe, expect, test } from "vitest";
import { collectUntil, type Gate, gate, gc, tick } from "./helpers.js";

/** Collect and turn the event loop until `cond` holds (finalization callbacks run between turns); bounded. */
/**
 * A spin over one source, made in its own scope: spins built side by side in one scope share the
 * closure context that holds all their handles, so none could be collected before the others.
 */
function derived<T>(src: Signal<T> | Spin<T>, f: (v: T) => number): Spin<number> {
  return spin(($) => f($.track(src)));
}

/**
 * Collect until `ref`'s target is gone; bounded. A `deref()` keeps the target alive until the end of
 * the task that called it, so each check is followed by a turn before the next collection.
 */
async function collectTarget(ref: WeakRef<object>): Promise<boolean> {
  for (let i = 0; i < 50; i++) {
    gc!();
    await tick();
    if (ref.deref() === undefined) return true;
    await tick();
  }
  return false;
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

describe("a root releases what nobody needs", () => {
  test("a graph observed and dropped leaves no node in the map, without waiting for a collection", () => {
    const ctx = createContext();
    const s = signal(1);
    for (let i = 0; i < 1000; i++) {
      const a = spin(($) => $.track(s) + i);
      const b = spin(($) => $.track(a) * 2);
      const c = spin(($) => $.track(b) + $.track(a));
      const stop = ctx.observe(c, () => {});
      ctx.set(s, i);
      stop();
    }
    expect(ctx._nodeCount).toBe(0);
    expect(observersOf(ctx, s)).toBe(0);
  });

  test("a root's cell lets go of its emptied observer set (the cell stays until its handle goes)", () => {
    const ctx = createContext();
    const s = signal(1);
    const c = spin(($) => $.track(s) * 2);
    const stop = ctx.observe(c, () => {});
    ctx.set(s, 2);
    stop();
    const cell = ctx.cells.get(s.id);
    expect(cell?.val).toBe(2);
    expect(cell?.observers).toBeNull();
    // observed anew, the cell gets a set again and the write reaches the spin
    let seen = 0;
    const again = ctx.observe(c, (v) => {
      seen = v;
    });
    ctx.set(s, 3);
    expect(seen).toBe(6);
    expect(observersOf(ctx, s)).toBe(1);
    again();
  });

  test("a released source is attached again when its observer is observed anew", () => {
    const ctx = createContext();
    const a = signal(0);
    const b = spin(($) => $.track(a));
    const c = spin(($) => $.track(b));
    ctx.observe(c, () => {})();
    expect(ctx._nodeCount).toBe(0);
    let runs = 0;
    const stop = ctx.observe(c, () => runs++);
    expect(runs).toBe(1);
    expect(ctx._nodeCount).toBe(2); // c, and b through c's log
    ctx.set(a, 1); // reaches c through b
    expect(runs).toBe(2);
    expect(ctx.read(c)).toBe(1);
    stop();
    ctx.set(a, 2);
    expect(runs).toBe(2);
    expect(ctx._nodeCount).toBe(0);
    expect(ctx.read(c)).toBe(2); // re-verified against its inputs, through b
  });

  test("a node stays while a spin still tracks it, and goes with the last one", () => {
    const ctx = createContext();
    const s = signal(1);
    const shared = spin(($) => $.track(s) * 10);
    const x = spin(($) => $.track(shared) + 1);
    const y = spin(($) => $.track(shared) + 2);
    const stopX = ctx.observe(x, () => {});
    const stopY = ctx.observe(y, () => {});
    stopX();
    expect(ctx._nodeCount).toBe(2); // y and shared
    ctx.set(s, 2);
    expect(ctx.read(y)).toBe(22);
    stopY();
    expect(ctx._nodeCount).toBe(0);
    expect(ctx.read(x)).toBe(21);
  });

  test("a spin that re-runs without a source releases it", () => {
    const ctx = createContext();
    const flag = signal(true);
    const s = signal(1);
    const src = spin(($) => $.track(s) + 1);
    const top = spin(($) => ($.track(flag) ? $.track(src) : 0));
    const stop = ctx.observe(top, () => {});
    expect(ctx._nodeCount).toBe(2);
    ctx.set(flag, false);
    expect(ctx._nodeCount).toBe(1);
    expect(observersOf(ctx, s)).toBe(0);
    ctx.set(s, 5);
    ctx.set(flag, true);
    expect(ctx.read(top)).toBe(6);
    stop();
    expect(ctx._nodeCount).toBe(0);
  });

  test("not released: keyed spins, parents of nested spins, spins holding cleanups, cancelled spins", () => {
    const ctx = createContext();
    const s = signal(1);
    ctx.observe(
      spin(($) => $.track(s), { key: "release.keyed" }),
      () => {},
    )();
    expect(ctx._nodeCount).toBe(1);
    ctx.observe(
      spin(($) => $.track($.spin(($$) => $$.track(s) + 1))),
      () => {},
    )();
    expect(ctx._nodeCount).toBe(3); // the parent and its child
    const withCleanup = spin(($) => {
      $.onCleanup(() => {});
      return $.track(s);
    });
    ctx.observe(
      spin(($) => $.track(withCleanup)),
      () => {},
    )();
    expect(ctx._nodeCount).toBe(4); // the source holding a cleanup (the observed spin went)
    const cancelled = spin(($) => $.track(s));
    const stop = ctx.observe(
      cancelled,
      () => {},
      () => {},
    );
    ctx.cancel(cancelled);
    stop();
    expect(ctx._nodeCount).toBe(5);
  });

  test("an observed spin's own cleanups run when it is stopped, and it is released", () => {
    const ctx = createContext();
    const s = signal(1);
    const log: string[] = [];
    const c = spin(($) => {
      const v = $.track(s);
      $.onCleanup(() => log.push(`cleanup ${v}`));
      return v;
    });
    ctx.observe(c, () => {})();
    expect(log).toEqual(["cleanup 1"]);
    expect(ctx._nodeCount).toBe(0);
    ctx.dispose();
    expect(log).toEqual(["cleanup 1"]);
  });

  test("a fork that owns nodes holds the root's releases back until it is disposed", () => {
    const ctx = createContext();
    const s = signal(1);
    const fork = ctx.fork();
    expect(fork.read(spin(($) => $.track(s)))).toBe(1);
    ctx.observe(
      spin(($) => $.track(s)),
      () => {},
    )();
    expect(ctx._nodeCount).toBe(1); // a fork may resolve through the root's nodes
    fork.dispose();
    ctx.observe(
      spin(($) => $.track(s)),
      () => {},
    )();
    expect(ctx._nodeCount).toBe(1); // the new one went at once
    expect(ctx.liveForks?.size ?? 0).toBe(0);
  });

  test.runIf(gc !== undefined)("a collected fork does not hold the root's releases back", async () => {
    const ctx = createContext();
    const s = signal(1);
    const ref = (() => {
      const fork = ctx.fork();
      expect(fork.read(spin(($) => $.track(s)))).toBe(1);
      return new WeakRef(fork);
    })();
    expect(await collectTarget(ref)).toBe(true);
    ctx.observe(
      spin(($) => $.track(s)),
      () => {},
    )();
    expect(ctx._nodeCount).toBe(0);
  });

  test("a fork made after a release reads and observes through the released nodes", () => {
    const ctx = createContext();
    const s = signal(1);
    let runs = 0;
    const b = spin(($) => {
      runs++;
      return $.track(s) * 2;
    });
    const c = spin(($) => $.track(b) + 1);
    ctx.observe(c, () => {})();
    expect(ctx._nodeCount).toBe(0);
    const fork = ctx.fork();
    expect(fork.read(c)).toBe(3);
    expect(runs).toBe(1); // served from the released nodes' caches
    const seen: number[] = [];
    const stop = fork.observe(c, (v) => seen.push(v));
    fork.set(s, 5);
    expect(seen).toEqual([3, 11]);
    expect(ctx.read(c)).toBe(3);
    stop();
  });

  test("a released async spin awaited again, and through a combinator, is attached while it runs", async () => {
    const ctx = createContext();
    const s = signal(1);
    const slow = spin(async ($) => {
      const v = $.track(s);
      await Promise.resolve();
      return v * 2;
    });
    const top = spin(async ($) => (await $.await(slow)) + 1);
    const stop = ctx.observe(top, () => {});
    await ctx.settled();
    expect(ctx.read(top)).toBe(3);
    stop();
    expect(ctx._nodeCount).toBe(0);
    ctx.set(s, 2);
    const p = ctx.value(top);
    expect(ctx._nodeCount).toBe(2); // running: attached, so a dispose would reach it
    expect(await p).toBe(5);
    ctx.set(s, 3);
    const fork = ctx.fork();
    expect(await fork.value(top)).toBe(7);
    expect(await ctx.value(top)).toBe(7);
  });

  test("a released async spin a combinator cancels stays cancelled only until an input changes", async () => {
    const ctx = createContext();
    const s = signal(1);
    let wait: Gate<void> = gate();
    const slow = spin(async ($) => {
      const v = $.track(s);
      await $.await(() => wait.promise);
      return v;
    });
    const stop = ctx.observe(slow, () => {});
    wait.resolve();
    expect(await ctx.value(slow)).toBe(1);
    stop();
    expect(ctx._nodeCount).toBe(0);
    wait = gate(); // never resolved: the next run of slow waits
    ctx.set(s, 2);
    // the combinator (in an observed spin) starts slow's run and cancels it when the other side
    // wins: slow is attached first, so that an input change ends the cancellation
    const won = gate<number>();
    const stopRace = ctx.observe(
      spin(async ($) => $.await(race(slow, Promise.resolve(7)))),
      (v) => won.resolve(v),
    );
    expect(await won.promise).toBe(7);
    stopRace();
    wait = gate();
    wait.resolve();
    ctx.set(s, 3);
    expect(await ctx.value(slow)).toBe(3);
  });

  test("a released async spin whose run a combinator starts is reached by dispose", async () => {
    const ctx = createContext();
    const s = signal(1);
    let wait: Gate<void> = gate();
    const aborted: number[] = [];
    const slow = spin(async ($) => {
      const v = $.track(s);
      $.signal.addEventListener("abort", () => aborted.push(v));
      await $.await(() => wait.promise);
      return v;
    });
    const stop = ctx.observe(slow, () => {});
    wait.resolve();
    expect(await ctx.value(slow)).toBe(1);
    stop();
    expect(ctx._nodeCount).toBe(0);
    wait = gate(); // never resolved
    ctx.set(s, 2);
    ctx.observe(
      spin(async ($) => $.await(race(slow, new Promise<number>(() => {})))),
      () => {},
    );
    await tick();
    ctx.dispose(); // cancels the runs of the context's nodes: slow's is one of them
    expect(aborted).toEqual([2]);
  });

  test("create and dispose in a loop that never yields keeps nothing (observers, cells' observer sets)", () => {
    const ctx = createContext();
    const s = signal(0);
    for (let i = 0; i < 100; i++) {
      const x = signal(i);
      const d = spin(($) => $.track(x) * 2 + $.track(s));
      const stop = ctx.observe(
        spin(($) => $.track(d) + 1),
        () => {},
      );
      ctx.set(x, i + 1);
      stop();
    }
    expect(ctx._nodeCount).toBe(0);
    expect(observersOf(ctx, s)).toBe(0);
  });
});

describe("review of the second root release", () => {
  test("dispose runs the cleanup a released spin registered when a one-off read re-ran it", () => {
    const ctx = createContext();
    const s = signal(1);
    const log: number[] = [];
    const c = spin(($) => {
      const v = $.track(s);
      if (v > 1) $.onCleanup(() => log.push(v));
      return v;
    });
    ctx.observe(c, () => {})();
    ctx.set(s, 2);
    expect(ctx.read(c)).toBe(2);
    ctx.dispose();
    expect(log).toEqual([2]);
  });

  test("dispose runs the cleanup of a released source a one-off read re-ran", () => {
    const ctx = createContext();
    const s = signal(1);
    const log: number[] = [];
    const b = spin(($) => {
      const v = $.track(s);
      if (v > 1) $.onCleanup(() => log.push(v));
      return v > 0;
    });
    const c = spin(($) => ($.track(b) ? 1 : 0));
    ctx.observe(c, () => {})();
    ctx.set(s, 2);
    expect(ctx.read(c)).toBe(1);
    ctx.dispose();
    expect(log).toEqual([2]);
  });

  function topOverKeyed(s: Signal<number>): Spin<number> {
    return spin(async ($) => {
      await $.await(Promise.resolve());
      return (await $.await(spin(($$) => $$.track(s) * 2, { key: "release-review.k" }))) + 1;
    });
  }

  test.runIf(gc !== undefined)(
    "a released spin over a keyed spin whose handle was collected sees later input changes",
    async () => {
      const ctx = createContext();
      const s = signal(1);
      const top = topOverKeyed(s);
      const stop = ctx.observe(top, () => {});
      expect(await ctx.value(top)).toBe(3);
      stop();
      for (let i = 0; i < 20; i++) {
        gc!();
        await tick();
      }
      ctx.set(s, 5);
      expect(await ctx.value(top)).toBe(11);
    },
  );
});

describe("one-off reads leave nothing subscribed", () => {
  test("a synchronous spin that writes an input it tracks, read once, is not left in the input's observers", () => {
    const ctx = createContext();
    const s = signal(0);
    const bump = spin(($) => {
      const v = $.track(s);
      if (v < 3) $.set(s, v + 1);
      return v;
    });
    expect(ctx.read(bump)).toBe(0);
    expect(ctx.get(s)).toBe(1);
    expect(observersOf(ctx, s)).toBe(0);
    expect(ctx._nodeCount).toBe(0);
    // the next read re-verifies it against its log: the write it made is a change
    expect(ctx.read(bump)).toBe(1);
    expect(observersOf(ctx, s)).toBe(0);
  });
});
