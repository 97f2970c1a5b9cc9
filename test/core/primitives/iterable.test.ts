import { createContext, deferred, isCancelled, next, signal, spin, toAsyncIterable } from "spindel";
import { describe, expect, test } from "vitest";
import { flush, rejection, track } from "./helpers.js";

/** An async iterable whose items are released by hand; counts pulls. */
function manualSource<T>() {
  const pending: ((r: IteratorResult<T>) => void)[] = [];
  const queued: IteratorResult<T>[] = [];
  let pulls = 0;
  const it: AsyncIterableIterator<T> = {
    next(): Promise<IteratorResult<T>> {
      pulls++;
      const r = queued.shift();
      if (r !== undefined) return Promise.resolve(r);
      return new Promise((resolve) => pending.push(resolve));
    },
    [Symbol.asyncIterator]() {
      return it;
    },
  };
  return {
    it,
    get pulls() {
      return pulls;
    },
    push(v: T) {
      const r: IteratorResult<T> = { done: false, value: v };
      const w = pending.shift();
      if (w !== undefined) w(r);
      else queued.push(r);
    },
    end() {
      const r: IteratorResult<T> = { done: true, value: undefined };
      const w = pending.shift();
      if (w !== undefined) w(r);
      else queued.push(r);
    },
  };
}

describe("next(iterable) inside spins", () => {
  test("takes items one by one from an async generator, then { done: true }", async () => {
    const ctx = createContext();
    async function* gen() {
      yield 1;
      yield 2;
    }
    const g = gen();
    const take3 = spin(async ($) => {
      const a = await $.await(next(g));
      const b = await $.await(next(g));
      const c = await $.await(next(g));
      return [a, b, c];
    });
    expect(await ctx.value(take3)).toEqual([
      { done: false, value: 1 },
      { done: false, value: 2 },
      { done: true, value: undefined },
    ]);
  });

  test("a re-run replays the items it already took (never pulls them twice)", async () => {
    const ctx = createContext();
    const src = manualSource<string>();
    const x = signal(1);
    const s = spin(async ($) => {
      const r = await $.await(next(src.it));
      return `${r.value}:${$.track(x)}`;
    });
    const seen: string[] = [];
    ctx.observe(s, (v) => seen.push(v));
    await flush();
    src.push("a");
    await flush();
    ctx.set(x, 2);
    await flush();
    expect(seen).toEqual(["a:1", "a:2"]);
    expect(src.pulls).toBe(1);
  });

  test("an item fetched for a cancelled waiter is kept for the next one", async () => {
    const ctx = createContext();
    const src = manualSource<number>();
    const first = spin(async ($) => (await $.await(next(src.it))).value, { name: "first" });
    const p = ctx.value(first);
    await flush();
    expect(src.pulls).toBe(1); // the pull is in flight
    ctx.cancel(first);
    expect(isCancelled(await rejection(p))).toBe(true);
    src.push(42); // arrives after its waiter died
    await flush();
    const second = spin(async ($) => (await $.await(next(src.it))).value, { name: "second" });
    expect(await ctx.value(second)).toBe(42);
    expect(src.pulls).toBe(1);
  });

  test("several waiting spins each get a distinct item", async () => {
    const ctx = createContext();
    const src = manualSource<number>();
    const ws = [0, 1, 2].map((i) =>
      spin(async ($) => (await $.await(next(src.it))).value, { name: `w${i}` }),
    );
    const ps = ws.map((w) => ctx.value(w));
    await flush();
    src.push(1);
    await flush();
    src.push(2);
    await flush();
    src.push(3);
    expect((await Promise.all(ps)).sort()).toEqual([1, 2, 3]);
  });

  test("an iterator error rejects the waiting spin and later waits", async () => {
    const ctx = createContext();
    async function* bad() {
      yield 1;
      throw new Error("broken stream");
    }
    const g = bad();
    const s = spin(async ($) => {
      await $.await(next(g));
      return await $.await(next(g));
    });
    expect(((await rejection(ctx.value(s))) as Error).message).toBe("broken stream");
    const again = spin(async ($) => await $.await(next(g)));
    await expect(ctx.value(again)).rejects.toThrow("broken stream");
  });

  test("works with sync iterables too, and rejects non-iterables", async () => {
    const ctx = createContext();
    const arr = [10, 20];
    const s = spin(async ($) => [(await $.await(next(arr))).value, (await $.await(next(arr))).value]);
    expect(await ctx.value(s)).toEqual([10, 20]);
    expect(() => next(5 as never)).toThrow(/iterable/);
    const notIter = spin(async ($) => await $.await(next({} as AsyncIterable<number>)));
    await expect(ctx.value(notIter)).rejects.toThrow(/iterable/);
  });
});

describe("toAsyncIterable(spin, ctx)", () => {
  test("yields the current result, then each new one", async () => {
    const ctx = createContext();
    const x = signal(1);
    const doubled = spin(($) => $.track(x) * 2);
    const it = toAsyncIterable(doubled, ctx)[Symbol.asyncIterator]();
    expect(await it.next()).toEqual({ done: false, value: 2 });
    const pending = it.next();
    ctx.set(x, 2);
    expect(await pending).toEqual({ done: false, value: 4 });
    ctx.set(x, 3);
    ctx.set(x, 4);
    expect(await it.next()).toEqual({ done: false, value: 6 });
    expect(await it.next()).toEqual({ done: false, value: 8 });
    await it.return?.();
    expect(await it.next()).toEqual({ done: true, value: undefined });
  });

  test("for await ... break stops observing the spin", async () => {
    const ctx = createContext();
    const x = signal(0);
    let runs = 0;
    const s = spin(($) => {
      runs++;
      return $.track(x);
    });
    const got: number[] = [];
    const loop = (async () => {
      for await (const v of toAsyncIterable(s, ctx)) {
        got.push(v);
        if (v === 2) break;
      }
    })();
    await flush();
    ctx.set(x, 1);
    await flush();
    ctx.set(x, 2);
    await loop;
    expect(got).toEqual([0, 1, 2]);
    const before = runs;
    ctx.set(x, 3); // no longer observed: lazy, does not re-run
    await flush();
    expect(runs).toBe(before);
  });

  test("an error result is thrown from the loop and ends it", async () => {
    const ctx = createContext();
    const x = signal(1);
    const s = spin(($) => {
      const v = $.track(x);
      if (v < 0) throw new Error("negative");
      return v;
    });
    const got: number[] = [];
    const loop = (async () => {
      for await (const v of toAsyncIterable(s, ctx)) got.push(v);
    })();
    await flush();
    ctx.set(x, -1);
    await expect(loop).rejects.toThrow("negative");
    expect(got).toEqual([1]);
  });

  test("disposing the context ends the iteration", async () => {
    const ctx = createContext();
    const d = deferred<number>();
    const s = spin(async ($) => await $.await(d));
    const it = toAsyncIterable(s, ctx)[Symbol.asyncIterator]();
    const r = track(it.next());
    await flush();
    expect(r.state).toBe("pending");
    ctx.dispose();
    await flush();
    expect(r.value).toEqual({ done: true, value: undefined });
  });

  test("rejects a non-spin", () => {
    expect(() => toAsyncIterable(5 as never, createContext())).toThrow(/Spin/);
  });
});
