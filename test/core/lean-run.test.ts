/**
 * A root's node that keeps re-running a synchronous body that reads only signals and spins takes
 * the kernel's lean path (`startRun` with `Flag.LEAN`, engine.ts). These tests warm a node onto that path, then
 * make one re-run do what the lean path leaves to the general engine (a write, a cleanup, a
 * nested spin, an error, a promise, other reads, a fork, a `$` kept past its run) and check that
 * the body ran once per change and that every result matches the general engine's.
 */
import { batch, createContext, type Signal, type Spin, type SpinScope, signal, spin } from "spindel";
import { describe, expect, test } from "vitest";

/** A mode signal switched to `mode` after `warm` plain re-runs of the observed spin. */
function warmed<T>(body: ($: SpinScope, mode: string, x: number) => T) {
  const ctx = createContext();
  const x = signal(0);
  const mode = signal("plain");
  let runs = 0;
  const s = spin(($) => {
    runs++;
    return body($, $.peek(mode), $.track(x));
  });
  const seen: unknown[] = [];
  const errors: unknown[] = [];
  const stop = ctx.observe(
    s,
    (v) => seen.push(v),
    (e) => errors.push(e),
  );
  for (let k = 1; k <= 5; k++) ctx.set(x, k); // past the commits after which a node keeps a spare
  return {
    ctx,
    x,
    mode,
    s,
    seen,
    errors,
    stop,
    get runs() {
      return runs;
    },
    /** Switch the body's mode and write `x` once: one re-run. */
    step(m: string, v: number) {
      ctx.set(mode, m);
      ctx.set(x, v);
    },
  };
}

describe("the lean re-run leaves every unusual run to the general engine", () => {
  test("a write in a lean re-run, and lean again after it", () => {
    const out = signal(0);
    const w = warmed(($, m, x) => {
      if (m === "write") $.set(out, x * 10);
      return x;
    });
    expect(w.runs).toBe(6);
    w.step("write", 7);
    expect(w.runs).toBe(7);
    expect(w.ctx.get(out)).toBe(70);
    w.step("plain", 8);
    w.ctx.set(w.x, 9);
    expect(w.runs).toBe(9);
    expect(w.ctx.get(out)).toBe(70);
    expect(w.seen).toEqual([0, 1, 2, 3, 4, 5, 7, 8, 9]);
  });

  test("a cleanup registered by a lean re-run runs before the next run", () => {
    const log: string[] = [];
    const w = warmed(($, m, x) => {
      if (m === "cleanup") $.onCleanup(() => log.push(`cleanup ${x}`));
      log.push(`run ${x}`);
      return x;
    });
    log.length = 0;
    w.step("cleanup", 6);
    w.step("plain", 7);
    w.ctx.set(w.x, 8);
    expect(log).toEqual(["run 6", "cleanup 6", "run 7", "run 8"]);
  });

  test("a nested spin created by a lean re-run", () => {
    const w = warmed(($, m, x) => {
      if (m === "nested") return $.track($.spin(($$) => $$.track(w2) + 1)) + x;
      return x;
    });
    const w2 = signal(100);
    w.step("nested", 6);
    expect(w.seen.at(-1)).toBe(107);
    w.ctx.set(w2, 200);
    expect(w.seen.at(-1)).toBe(207);
    w.step("plain", 7);
    expect(w.seen.at(-1)).toBe(7);
    w.ctx.set(w2, 300); // no longer read
    expect(w.runs).toBe(9);
  });

  test("an error thrown by a lean re-run, then a value again", () => {
    const w = warmed((_$, m, x) => {
      if (m === "throw") throw new Error(`boom ${x}`);
      return x;
    });
    w.step("throw", 6);
    expect(w.errors.map((e) => (e as Error).message)).toEqual(["boom 6"]);
    expect(() => w.ctx.read(w.s)).toThrow("boom 6");
    w.step("plain", 7);
    expect(w.ctx.read(w.s)).toBe(7);
    expect(w.runs).toBe(8);
  });

  test("a lean re-run that returns a promise", async () => {
    const w = warmed((_$, m, x) => (m === "async" ? Promise.resolve(x * 2) : x));
    w.step("async", 6);
    await w.ctx.settled();
    expect(w.seen.at(-1)).toBe(12);
    w.step("plain", 7);
    expect(w.seen.at(-1)).toBe(7);
    w.ctx.set(w.x, 8);
    expect(w.seen.at(-1)).toBe(8);
    expect(w.runs).toBe(9);
  });

  test("a lean re-run that reads other sources, and stops reading them", () => {
    const others: Signal<number>[] = [signal(1), signal(2)];
    const w = warmed(($, m, x) => (m === "more" ? x + $.track(others[0]!) + $.track(others[1]!) : x));
    w.step("more", 6);
    expect(w.seen.at(-1)).toBe(9);
    w.ctx.set(others[1]!, 20);
    expect(w.seen.at(-1)).toBe(27);
    w.step("plain", 7);
    const runs = w.runs;
    w.ctx.set(others[0]!, 50); // pruned: no re-run
    expect(w.runs).toBe(runs);
    expect(w.seen.at(-1)).toBe(7);
  });

  test("a chain of lean spins under one observer", () => {
    const ctx = createContext();
    const x = signal(0);
    let runs = 0;
    let prev = spin(($) => {
      runs++;
      return $.track(x);
    });
    for (let i = 0; i < 20; i++) {
      const p = prev;
      prev = spin(($) => {
        runs++;
        return $.track(p) + 1;
      });
    }
    const seen: number[] = [];
    ctx.observe(prev, (v) => seen.push(v));
    for (let k = 1; k <= 10; k++) ctx.set(x, k);
    expect(seen).toEqual([20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30]);
    expect(runs).toBe(21 * 11);
    ctx.set(x, 10); // equal write: nothing runs
    expect(runs).toBe(21 * 11);
  });

  test("a `$` kept past a lean run fails its effects", () => {
    const kept: SpinScope[] = [];
    const w = warmed(($, _m, x) => {
      kept.push($);
      return x;
    });
    w.ctx.set(w.x, 6);
    const old = kept.at(-1)!;
    expect(() => old.track(w.x)).toThrow();
    expect(() => old.set(w.mode, "x")).toThrow();
    expect(w.ctx.get(w.mode)).toBe("plain");
    w.ctx.set(w.x, 7);
    expect(w.seen.at(-1)).toBe(7);
  });

  test("a lean re-run that cancels and re-runs its own spin: the re-run gets a run object of its own", () => {
    // a lean run stays its node's spare while it runs (leanRun): the kill has to drop it, or the
    // re-run below would reset the very run whose body is still on the stack
    const y = signal(0);
    let once = true;
    let caught: unknown = null;
    const w = warmed(($, m, x): number => {
      if (m === "self" && once) {
        once = false;
        w.ctx.cancel(w.s);
        w.ctx.rerun(w.s); // runs the body again, nested, to its commit
        try {
          $.track(y);
        } catch (e) {
          caught = e;
        }
        return -1; // the cancelled run's result: never committed
      }
      return x + $.track(y);
    });
    w.step("self", 6);
    expect((caught as { name?: string } | null)?.name).toBe("Cancelled");
    expect(w.ctx.read(w.s)).toBe(6);
    w.ctx.set(y, 10);
    expect(w.ctx.read(w.s)).toBe(16);
    w.step("plain", 7);
    w.ctx.set(y, 20);
    w.ctx.set(w.x, 8);
    expect(w.ctx.read(w.s)).toBe(28);
    expect(w.seen.slice(6)).toEqual([6, 16, 17, 27, 28]);
  });

  test("a fork of the context made while on the lean path sees the root's results, and the root stays right", () => {
    const w = warmed((_$, _m, x) => x * 2);
    const f = w.ctx.fork();
    expect(f.read(w.s)).toBe(10);
    f.set(w.x, 100);
    expect(f.read(w.s)).toBe(200);
    w.ctx.set(w.x, 6);
    w.ctx.set(w.x, 7);
    expect(w.seen.at(-1)).toBe(14);
    expect(f.read(w.s)).toBe(200);
    expect(w.ctx.read(w.s)).toBe(14);
  });

  test("a lean re-run that takes its abort signal leaves its commit to the general engine", () => {
    const signals: AbortSignal[] = [];
    const w = warmed(($, m, x) => {
      if (m === "abort") signals.push($.signal);
      return x + 1;
    });
    w.step("abort", 6);
    expect(w.seen.at(-1)).toBe(7);
    expect(signals).toHaveLength(1);
    w.step("plain", 7);
    w.ctx.set(w.x, 8);
    w.ctx.set(w.x, 9);
    expect(w.seen.at(-1)).toBe(10);
    expect(w.runs).toBe(10);
    // the run that handed its signal out was not reused: the signal is its alone, never aborted
    expect(signals[0]!.aborted).toBe(false);
  });

  test("a fork that takes a lean re-run's log while it runs", () => {
    let f: ReturnType<typeof createContext> | null = null;
    let forkRead: unknown;
    const w = warmed((_$, m, x) => {
      if (m === "fork" && f === null) {
        f = w.ctx.fork();
        forkRead = f.read(w.s);
      }
      return x * 2;
    });
    w.step("fork", 6);
    expect(forkRead).toBe(12);
    expect(w.seen.at(-1)).toBe(12);
    w.step("plain", 7);
    for (let k = 8; k <= 12; k++) w.ctx.set(w.x, k);
    expect(w.seen.at(-1)).toBe(24);
    expect(w.ctx.read(w.s)).toBe(24);
    const fork = f as unknown as ReturnType<typeof createContext>;
    fork.set(w.x, 50);
    expect(fork.read(w.s)).toBe(100);
    w.ctx.set(w.x, 13);
    expect(w.seen.at(-1)).toBe(26);
    expect(fork.read(w.s)).toBe(100);
  });

  test("a fork copying a lean node between runs, then more lean re-runs in both", () => {
    const w = warmed((_$, _m, x) => x + 1000);
    const f = w.ctx.fork();
    f.set(w.mode, "fork's"); // the fork's own cell: its copy of the node is its own
    expect(f.read(w.s)).toBe(1005);
    for (let k = 6; k <= 12; k++) {
      w.ctx.set(w.x, k);
      expect(w.seen.at(-1)).toBe(k + 1000);
    }
    for (let k = 20; k <= 25; k++) {
      f.set(w.x, k);
      expect(f.read(w.s)).toBe(k + 1000);
    }
    expect(w.ctx.read(w.s)).toBe(1012);
  });

  test("a lean re-run whose equals starts the node's next run", () => {
    const ctx = createContext();
    const x = signal(0);
    const poke = signal(0);
    let runs = 0;
    let once = true;
    const s = spin(
      ($) => {
        runs++;
        $.track(poke);
        return $.track(x) * 2;
      },
      {
        equals: (a, b) => {
          if (b === 14 && once) {
            once = false;
            ctx.set(poke, 1); // marks the node stale from inside its commit
          }
          return a === b;
        },
      },
    );
    const seen: number[] = [];
    ctx.observe(s, (v) => seen.push(v));
    for (let k = 1; k <= 7; k++) ctx.set(x, k);
    ctx.set(x, 8);
    expect(ctx.read(s)).toBe(16);
    expect(seen).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16]);
    expect(runs).toBe(10); // 8 writes of x, its first run, and the one the poke caused
  });
});

describe("the lean re-run agrees with the general engine (found by a differential fuzz)", () => {
  /** A body that catches the ERR_CYCLE of a read of a spin whose run is below it on the stack. */
  function caughtCycle(warm: number): unknown[] {
    const ctx = createContext();
    const y = signal(0);
    const z = signal(0);
    const on = signal(false);
    let runsA = 0;
    const trace: unknown[] = [];
    const B = spin(($) => {
      $.track(z);
      return `[${$.track(A)}]`;
    });
    const A: Spin<string> = spin(($) => {
      runsA++;
      let r = "-";
      if ($.peek(on)) {
        try {
          r = `B=${$.track(B)}`;
        } catch (e) {
          r = (e as { code: string }).code;
        }
      }
      return `${r} y${$.track(y)}`;
    });
    ctx.observe(B, () => {});
    for (let k = 1; k <= warm; k++) ctx.set(y, k);
    ctx.set(on, true);
    batch(() => {
      ctx.set(z, 1);
      ctx.set(y, 100); // B re-runs, reads A, which re-runs inside B and reads B: ERR_CYCLE, caught
    });
    trace.push(ctx.read(A), runsA - warm);
    ctx.set(y, 101);
    trace.push(ctx.read(A), runsA - warm);
    return trace;
  }

  test("a caught ERR_CYCLE leaves a read pending in the log: both checks stop there", () => {
    // the lean check had no test of a pending entry and re-ran the node (results nested, more runs)
    const general = caughtCycle(0);
    expect(general[0]).toBe("ERR_CYCLE y100");
    expect(caughtCycle(6)).toEqual(general);
  });
});

describe("a fork's node on the lean path", () => {
  /** A chain a -> b -> c over `x` and `y`, observed in a fork that writes `x` until its nodes are lean. */
  function forkWarmed() {
    const root = createContext();
    const x = signal(0);
    const y = signal(100);
    const runs = { a: 0, b: 0, c: 0 };
    const a = spin(($) => {
      runs.a++;
      return $.track(x) + $.track(y);
    });
    const b = spin(($) => {
      runs.b++;
      return $.track(a) * 2;
    });
    const c = spin(($) => {
      runs.c++;
      return $.track(b) + 1;
    });
    const f = root.fork();
    const seen: number[] = [];
    const stop = f.observe(c, (v) => seen.push(v));
    for (let k = 1; k <= 6; k++) f.set(x, k); // past the commits after which a node keeps a spare
    return { root, f, x, y, a, b, c, runs, seen, stop };
  }

  test("the fork's own writes: one run of each node per write, the root untouched", () => {
    const w = forkWarmed();
    expect(w.runs).toEqual({ a: 7, b: 7, c: 7 });
    expect(w.seen.at(-1)).toBe((6 + 100) * 2 + 1);
    for (let k = 7; k <= 12; k++) {
      w.f.set(w.x, k);
      expect(w.seen.at(-1)).toBe((k + 100) * 2 + 1);
    }
    expect(w.runs).toEqual({ a: 13, b: 13, c: 13 });
    expect(w.f.read(w.c)).toBe((12 + 100) * 2 + 1);
    expect(w.root.read(w.c)).toBe((0 + 100) * 2 + 1);
    w.stop();
  });

  test("an ancestor's write to a signal the fork never wrote reaches the fork's lean nodes", () => {
    const w = forkWarmed();
    w.root.set(w.y, 200);
    expect(w.f.read(w.c)).toBe((6 + 200) * 2 + 1);
    expect(w.root.read(w.c)).toBe((0 + 200) * 2 + 1);
    // and lean again after it
    for (let k = 7; k <= 9; k++) {
      w.f.set(w.x, k);
      expect(w.f.read(w.c)).toBe((k + 200) * 2 + 1);
    }
    w.root.set(w.y, 300);
    w.root.set(w.x, 1000); // the fork wrote x: its own cell stands
    expect(w.f.read(w.c)).toBe((9 + 300) * 2 + 1);
    w.stop();
  });

  test("the fork's first write of a signal its lean nodes read from the root's cell", () => {
    const w = forkWarmed();
    // y's cell in the fork is new: the lean nodes' entries still reference the root's
    w.f.set(w.y, 5);
    expect(w.f.read(w.c)).toBe((6 + 5) * 2 + 1);
    w.root.set(w.y, 700); // no longer visible in the fork
    expect(w.f.read(w.c)).toBe((6 + 5) * 2 + 1);
    w.f.set(w.x, 8);
    w.f.set(w.y, 9);
    expect(w.f.read(w.c)).toBe((8 + 9) * 2 + 1);
    expect(w.seen.at(-1)).toBe((8 + 9) * 2 + 1);
    expect(w.root.read(w.c)).toBe((0 + 700) * 2 + 1);
    w.stop();
  });

  test("a fork of a fork whose nodes are lean, written at each level", () => {
    const w = forkWarmed();
    const g = w.f.fork();
    expect(g.read(w.c)).toBe((6 + 100) * 2 + 1);
    const seenG: number[] = [];
    const stopG = g.observe(w.c, (v) => seenG.push(v));
    for (let k = 20; k <= 26; k++) {
      g.set(w.x, k);
      expect(seenG.at(-1)).toBe((k + 100) * 2 + 1);
    }
    // the parent fork's own writes: the child wrote x, so only y reaches it
    w.f.set(w.x, 7);
    w.f.set(w.y, 40);
    expect(w.f.read(w.c)).toBe((7 + 40) * 2 + 1);
    expect(g.read(w.c)).toBe((26 + 40) * 2 + 1);
    w.root.set(w.y, 500); // shadowed by the middle fork
    expect(g.read(w.c)).toBe((26 + 40) * 2 + 1);
    g.set(w.y, 1);
    expect(g.read(w.c)).toBe((26 + 1) * 2 + 1);
    expect(w.f.read(w.c)).toBe((7 + 40) * 2 + 1);
    expect(w.root.read(w.c)).toBe((0 + 500) * 2 + 1);
    stopG();
    w.stop();
  });

  test("a fork's lean node reading a spin the fork inherits from the root", () => {
    const root = createContext();
    const x = signal(0);
    const y = signal(1);
    let rootRuns = 0;
    let forkRuns = 0;
    const r = spin(($) => {
      rootRuns++;
      return $.track(y) * 10;
    });
    const s = spin(($) => {
      forkRuns++;
      return $.track(r) + $.track(x);
    });
    const stopR = root.observe(r, () => {});
    const f = root.fork();
    const seen: number[] = [];
    const stop = f.observe(s, (v) => seen.push(v));
    for (let k = 1; k <= 6; k++) f.set(x, k);
    expect(seen.at(-1)).toBe(16);
    expect(forkRuns).toBe(7);
    root.set(y, 2);
    expect(f.read(s)).toBe(26);
    expect(forkRuns).toBe(8);
    f.set(x, 7);
    expect(f.read(s)).toBe(27);
    root.set(y, 3);
    root.set(y, 4);
    expect(f.read(s)).toBe(47);
    expect(root.read(r)).toBe(40);
    expect(rootRuns).toBe(4);
    stop();
    stopR();
  });

  test("an ancestor's write while a fork's lean node runs is seen before its result is handed out", () => {
    const root = createContext();
    const x = signal(0);
    const y = signal(1);
    let poke = false;
    const s = spin(($) => {
      const v = $.track(x) + $.track(y);
      if (poke) {
        poke = false;
        root.set(y, 50); // an ancestor's write marks nothing in the fork
      }
      return v;
    });
    const f = root.fork();
    const seen: number[] = [];
    const stop = f.observe(s, (v) => seen.push(v));
    for (let k = 1; k <= 6; k++) f.set(x, k);
    poke = true;
    f.set(x, 7);
    expect(f.read(s)).toBe(57);
    expect(seen.at(-1)).toBe(57);
    stop();
  });
});
