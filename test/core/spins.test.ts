import { createContext, defaultContext, type Spin, SpindelError, signal, spin } from "spindel";
import { describe, expect, test } from "vitest";
import { gate } from "./helpers.js";

describe("spins: the API example", () => {
  test("runs lazily, caches, and re-runs on change (API.md)", async () => {
    const ctx = createContext();
    const count = signal(0);
    const doubled = spin(($) => 2 * $.track(count));
    const plus = spin(async ($) => (await $.await(doubled)) + 1);
    expect(await ctx.value(plus)).toBe(1);
    ctx.set(count, 5);
    await ctx.settled();
    expect(await ctx.value(plus)).toBe(11);
  });

  test("a spin is PromiseLike in the default context", async () => {
    const s = signal(20);
    const t = spin(($) => $.track(s) + 1);
    expect(await t).toBe(21);
    defaultContext().set(s, 41);
    expect(await t).toBe(42);
  });
});

describe("spins: caching and laziness", () => {
  test("the body does not run at creation; a second read is served from cache", async () => {
    const ctx = createContext();
    let runs = 0;
    const t = spin(() => ++runs);
    expect(runs).toBe(0);
    expect(await ctx.value(t)).toBe(1);
    expect(await ctx.value(t)).toBe(1);
    expect(runs).toBe(1);
  });

  test("an unobserved spin re-runs only when read; an observed one eagerly in the drain", async () => {
    const ctx = createContext();
    const s = signal(1);
    let lazyRuns = 0;
    let eagerRuns = 0;
    const lazy = spin(($) => {
      lazyRuns++;
      return $.track(s);
    });
    const eager = spin(($) => {
      eagerRuns++;
      return $.track(s);
    });
    await ctx.value(lazy);
    ctx.observe(eager, () => {});
    ctx.set(s, 2);
    ctx.set(s, 3);
    await ctx.settled();
    expect(eagerRuns).toBe(3);
    expect(lazyRuns).toBe(1);
    expect(await ctx.value(lazy)).toBe(3);
    expect(lazyRuns).toBe(2);
  });

  test("observe delivers the current result and every new one; the returned function stops it", async () => {
    const ctx = createContext();
    const s = signal(1);
    const seen: number[] = [];
    const stop = ctx.observe(
      spin(async ($) => $.track(s) * 2),
      (v) => seen.push(v),
    );
    await ctx.settled();
    ctx.set(s, 2);
    await ctx.settled();
    stop();
    ctx.set(s, 3);
    await ctx.settled();
    expect(seen).toEqual([2, 4]);
  });

  test("a result equal to the previous one does not re-fire observers or parents (cut-off)", async () => {
    const ctx = createContext();
    const s = signal(1);
    const parity = spin(($) => $.track(s) % 2);
    let parentRuns = 0;
    const parent = spin(async ($) => {
      parentRuns++;
      return (await $.await(parity)) === 1 ? "odd" : "even";
    });
    const seen: string[] = [];
    ctx.observe(parent, (v) => seen.push(v));
    await ctx.settled();
    ctx.set(s, 3);
    await ctx.settled();
    ctx.set(s, 4);
    await ctx.settled();
    expect(seen).toEqual(["odd", "even"]);
    expect(parentRuns).toBe(2);
  });

  test("spawn keeps a spin live and reports errors to onError", async () => {
    const ctx = createContext();
    const s = signal(1);
    const errors: unknown[] = [];
    const values: number[] = [];
    const stop = ctx.spawn(
      spin(($) => {
        const v = $.track(s);
        if (v < 0) throw new Error("negative");
        return v;
      }),
      { onError: (e) => errors.push(e), onValue: (v) => values.push(v as number) },
    );
    ctx.set(s, -1);
    ctx.set(s, 2);
    stop();
    ctx.set(s, 3);
    expect(values).toEqual([1, 2]);
    expect(errors).toHaveLength(1);
  });

  test("an unhandled error of an observed spin goes to the context's onError", async () => {
    const reported: string[] = [];
    const ctx = createContext({ onError: (_e, source) => reported.push(source) });
    ctx.spawn(
      spin(
        () => {
          throw new Error("boom");
        },
        { name: "exploder" },
      ),
    );
    expect(reported).toEqual(["spawned exploder"]);
  });
});

describe("spins: glitch law", () => {
  test("diamond b=2a, c=a+10, d=b+c: d computes exactly 13 then 25 (async bodies)", async () => {
    const ctx = createContext();
    const a = signal(1);
    const b = spin(async ($) => 2 * $.track(a));
    const c = spin(async ($) => $.track(a) + 10);
    const log: number[] = [];
    const d = spin(async ($) => {
      const v = (await $.await(b)) + (await $.await(c));
      log.push(v);
      return v;
    });
    ctx.observe(d, () => {});
    await ctx.settled();
    ctx.set(a, 5);
    await ctx.settled();
    expect(log).toEqual([13, 25]);
  });

  test("diamond with synchronous bodies, observed, computes 13 then 25 synchronously", () => {
    const ctx = createContext();
    const a = signal(1);
    const b = spin(($) => 2 * $.track(a));
    const c = spin(($) => $.track(a) + 10);
    const log: number[] = [];
    const d = spin(($) => {
      const v = $.track(b) + $.track(c);
      log.push(v);
      return v;
    });
    const seen: number[] = [];
    ctx.observe(d, (v) => seen.push(v));
    ctx.set(a, 5);
    expect(log).toEqual([13, 25]);
    expect(seen).toEqual([13, 25]);
  });

  test("a parent awaiting two async siblings that both re-complete never sees one old and one new", async () => {
    const ctx = createContext();
    const a = signal(1);
    const slow = gate();
    let first = true;
    const b = spin(async ($) => {
      const v = $.track(a);
      if (!first) await $.await(slow.promise);
      return v * 2;
    });
    const c = spin(async ($) => $.track(a) + 10);
    const log: number[] = [];
    const d = spin(async ($) => {
      const [x, y] = await Promise.all([$.await(c), $.await(b)]);
      log.push(x + y);
      return x + y;
    });
    ctx.observe(d, () => {});
    await ctx.settled();
    first = false;
    ctx.set(a, 5);
    await ctx.settled();
    expect(log).toEqual([13]); // b still parked on `slow`: nothing computed from mixed inputs
    slow.resolve(); // settled() does not wait for parked spins: wait for d itself
    expect(await ctx.value(d)).toBe(25);
    expect(log).toEqual([13, 25]);
  });
});

describe("spins: dynamic dependencies", () => {
  test("conditional branches add and prune dependencies", async () => {
    const ctx = createContext();
    const flag = signal(true);
    const x = signal("x");
    const y = signal("y");
    let runs = 0;
    const t = spin(($) => {
      runs++;
      return $.track(flag) ? $.track(x) : $.track(y);
    });
    ctx.observe(t, () => {});
    ctx.set(y, "y2"); // not a dependency yet
    expect(runs).toBe(1);
    ctx.set(flag, false);
    expect(runs).toBe(2);
    expect(await ctx.value(t)).toBe("y2");
    ctx.set(x, "x2"); // pruned
    expect(runs).toBe(2);
    ctx.set(y, "y3");
    expect(runs).toBe(3);
  });

  test("a change during the first suspension is not lost (eager edges)", async () => {
    const ctx = createContext();
    const s = signal(1);
    const g = gate();
    let waited = false;
    const t = spin(async ($) => {
      const v = $.track(s);
      if (!waited) {
        waited = true;
        await $.await(g.promise);
      }
      return v;
    });
    const seen: number[] = [];
    ctx.observe(t, (v) => seen.push(v));
    ctx.set(s, 2);
    await ctx.settled();
    expect(seen).toEqual([2]);
  });
});

describe("spins: nested spins", () => {
  test("nested spins keep a stable identity across re-runs (parent + call order)", async () => {
    const ctx = createContext();
    const s = signal(1);
    const handles: Spin<number>[] = [];
    const parent = spin(async ($) => {
      const v = $.track(s);
      const child = spin(() => 100, { deps: undefined }); // opt out of the plugin's injected deps
      handles.push(child);
      return v + (await $.await(child));
    });
    ctx.observe(parent, () => {});
    await ctx.settled();
    ctx.set(s, 2);
    await ctx.settled();
    expect(handles).toHaveLength(2);
    expect(handles[0]).toBe(handles[1]);
    expect(await ctx.value(parent)).toBe(102);
  });

  test("deps capture gate: a nested spin re-runs only when a dep changed (Object.is)", async () => {
    const ctx = createContext();
    const user = signal("ann");
    const page = signal(1);
    let childRuns = 0;
    const parent = spin(async ($) => {
      const u = $.track(user);
      const p = $.track(page);
      const profile = $.spin(
        () => {
          childRuns++;
          return `profile:${u}`;
        },
        { deps: [u] },
      );
      return `${await $.await(profile)}@${p}`;
    });
    expect(await ctx.value(parent)).toBe("profile:ann@1");
    ctx.set(page, 2);
    expect(await ctx.value(parent)).toBe("profile:ann@2");
    expect(childRuns).toBe(1);
    ctx.set(user, "bob");
    expect(await ctx.value(parent)).toBe("profile:bob@2");
    expect(childRuns).toBe(2);
  });

  test("without deps, a nested spin re-created after the point of change re-runs (new closure)", async () => {
    const ctx = createContext();
    const s = signal(1);
    let childRuns = 0;
    const parent = spin(async ($) => {
      const v = $.track(s);
      const child = $.spin(
        () => {
          childRuns++;
          return v * 10;
        },
        { deps: undefined }, // no deps: the plugin would inject [childRuns, v]
      );
      return $.await(child);
    });
    expect(await ctx.value(parent)).toBe(10);
    ctx.set(s, 2);
    expect(await ctx.value(parent)).toBe(20);
    expect(childRuns).toBe(2);
  });

  test("keys address nested spins independently of call order", async () => {
    const ctx = createContext();
    const items = signal(["a", "b"]);
    const ids = new Map<string, string>();
    const parent = spin(($) => {
      for (const it of $.track(items)) ids.set(it, spin(() => it, { key: it, deps: [it] }).id);
      return ids.size;
    });
    await ctx.value(parent);
    const before = ids.get("b");
    ctx.set(items, ["b", "a"]);
    await ctx.value(parent);
    expect(ids.get("b")).toBe(before);
    expect(before).toMatch(/k:b$/);
  });
});

describe("spins: errors", () => {
  test("errors are cached, re-thrown at every read, and cleared by a re-run on input change", async () => {
    const ctx = createContext();
    const s = signal(0);
    let runs = 0;
    const t = spin(($) => {
      runs++;
      const v = $.track(s);
      if (v === 0) throw new Error("zero");
      return 10 / v;
    });
    await expect(ctx.value(t)).rejects.toThrow("zero");
    await expect(ctx.value(t)).rejects.toThrow("zero");
    expect(runs).toBe(1);
    ctx.set(s, 2);
    expect(await ctx.value(t)).toBe(5);
  });

  test("an awaited error is thrown at the parent's await and can be caught there", async () => {
    const ctx = createContext();
    const bad = spin(async () => {
      throw new TypeError("nope");
    });
    const parent = spin(async ($) => {
      try {
        return await $.await(bad);
      } catch (e) {
        return `caught ${(e as Error).name}`;
      }
    });
    expect(await ctx.value(parent)).toBe("caught TypeError");
  });
});

describe("spins: effects through $", () => {
  test("$.track of an async spin that has not settled is a typed error", async () => {
    const ctx = createContext();
    const slow = spin(async () => 1);
    const t = spin(($) => $.track(slow));
    await expect(ctx.value(t)).rejects.toMatchObject({ code: "ERR_NOT_SETTLED" });
  });

  test("$.peek does not track; $.set writes in the spin's context; $.context is the context", async () => {
    const ctx = createContext();
    const a = signal(1);
    const out = signal(0);
    let runs = 0;
    let seenCtx: unknown;
    const t = spin(($) => {
      runs++;
      seenCtx = $.context;
      const v = $.peek(a);
      $.set(out, v * 100);
      return v;
    });
    ctx.observe(t, () => {});
    ctx.set(a, 2);
    expect(runs).toBe(1);
    expect(ctx.get(out)).toBe(100);
    expect(seenCtx).toBe(ctx);
  });

  test("reading sig.value inside a body reads the spin's context but does not track", async () => {
    const ctx = createContext();
    const a = signal(1);
    let runs = 0;
    const t = spin(() => {
      runs++;
      return a.value;
    });
    ctx.set(a, 5);
    expect(await ctx.value(t)).toBe(5);
    ctx.set(a, 6);
    expect(await ctx.value(t)).toBe(5);
    expect(runs).toBe(1);
  });

  test("$.interval gives new, old (what this spin saw last) and the write's deltas", async () => {
    const ctx = createContext();
    const list = signal<number[]>([]);
    const seen: unknown[] = [];
    ctx.observe(
      spin(($) => {
        const iv = $.interval(list);
        seen.push({ new: iv.new, old: iv.old, deltas: iv.deltas });
        return iv.new.length;
      }),
      () => {},
    );
    ctx.set(list, [1], [{ add: 1 }]);
    ctx.set(list, [1, 2], [{ add: 2 }]);
    expect(seen).toEqual([
      { new: [], old: [], deltas: undefined },
      { new: [1], old: [], deltas: [{ add: 1 }] },
      { new: [1, 2], old: [1], deltas: [{ add: 2 }] },
    ]);
  });

  test("$.await takes promises and thunks; a thunk that declares a parameter gets the AbortSignal", async () => {
    const ctx = createContext();
    let got: unknown;
    const t = spin(async ($) => {
      const a = await $.await(Promise.resolve(1));
      const b = await $.await((signal: AbortSignal) => {
        got = signal;
        return Promise.resolve(2);
      });
      const c = await $.await(() => 3);
      return a + b + c;
    });
    expect(await ctx.value(t)).toBe(6);
    expect(got).toBeInstanceOf(AbortSignal);
  });

  test("$.await rejects signals and garbage with typed errors", async () => {
    const ctx = createContext();
    const s = signal(1);
    const t1 = spin(async ($) => $.await(s as never));
    const t2 = spin(async ($) => $.await(42 as never));
    await expect(ctx.value(t1)).rejects.toThrow(/use \$\.track/);
    await expect(ctx.value(t2)).rejects.toMatchObject({ code: "ERR_INVALID_ARGUMENT" });
  });

  test("bad arguments to the API are typed errors", async () => {
    const ctx = createContext();
    expect(() => spin(42 as never)).toThrow(SpindelError);
    await expect(ctx.value({} as never)).rejects.toThrow(/expects a Spin/);
    expect(() => ctx.observe({} as never, () => {})).toThrow(/expects a Spin/);
  });
});

describe("spins: settled", () => {
  test("settled() does not wait for spins parked on an external promise", async () => {
    const ctx = createContext();
    const never = new Promise<number>(() => {});
    const t = spin(async ($) => $.await(never));
    ctx.observe(t, () => {});
    await ctx.settled(); // would hang if parked spins counted
    expect(true).toBe(true);
  });

  test("settled() waits for a spin that is computing (not parked)", async () => {
    const ctx = createContext();
    let done = false;
    ctx.observe(
      spin(async () => {
        for (let i = 0; i < 3; i++) await Promise.resolve();
        done = true;
        return 1;
      }),
      () => {},
    );
    await ctx.settled();
    expect(done).toBe(true);
  });
});
