import { computed, effect } from "@preact/signals-core";
import { batch, createContext, defaultContext, Signal, SpindelError, signal, spin } from "spindel";
import { describe, expect, test } from "vitest";

describe("signals", () => {
  test("a signal is a handle: each context has its own value, starting from init", () => {
    const a = createContext();
    const b = createContext();
    const s = signal(1);
    a.set(s, 2);
    expect(a.get(s)).toBe(2);
    expect(b.get(s)).toBe(1);
    expect(s instanceof Signal).toBe(true);
  });

  test("sig.value reads and writes the default context, or the context made current by ctx.run", () => {
    const ctx = createContext();
    const s = signal("x");
    s.value = "default";
    expect(defaultContext().get(s)).toBe("default");
    ctx.run(() => {
      expect(s.value).toBe("x");
      s.value = "ctx";
      expect(s.peek()).toBe("ctx");
    });
    expect(ctx.get(s)).toBe("ctx");
    expect(s.value).toBe("default");
  });

  test("the default context and sig.value agree whichever is used first", () => {
    const a = signal(1);
    defaultContext().set(a, 3); // through the context API first
    expect(a.value).toBe(3);
    expect(a.peek()).toBe(3);
    const b = signal(1);
    b.value = 4; // through the handle first
    expect(defaultContext().get(b)).toBe(4);
    const c = signal(1);
    expect(defaultContext().get(c)).toBe(1);
    c.value = 5;
    expect(defaultContext().get(c)).toBe(5);
    expect(defaultContext().isDefault).toBe(true);
    expect(createContext({ name: "default" }).isDefault).toBe(false);
  });

  test("reading the default context while another context is current gives the default's value", () => {
    const ctx = createContext();
    const s = signal(1);
    s.value = 2;
    ctx.set(s, 3);
    expect(ctx.run(() => [defaultContext().get(s), s.value, s.peek()])).toEqual([2, 3, 3]);
  });

  test("a preact view of a non-default root is read-only (write through the context)", () => {
    const ctx = createContext();
    const s = signal(1);
    const view = ctx.toPreact(s) as unknown as { value: number };
    expect(() => {
      view.value = 2;
    }).toThrow(expect.objectContaining({ code: "ERR_READONLY" }));
    ctx.set(s, 2);
    expect(view.value).toBe(2);
  });

  test("update and compareAndSet", () => {
    const ctx = createContext();
    const s = signal(10);
    ctx.update(s, (v) => v + 1);
    expect(ctx.get(s)).toBe(11);
    expect(ctx.compareAndSet(s, 10, 0)).toBe(false);
    expect(ctx.compareAndSet(s, 11, 0)).toBe(true);
    expect(ctx.get(s)).toBe(0);
  });

  test("writing an equal value (Object.is) is a no-op: nothing re-runs", async () => {
    const ctx = createContext();
    const s = signal(1);
    let runs = 0;
    const t = spin(($) => {
      runs++;
      return $.track(s);
    });
    ctx.observe(t, () => {});
    expect(runs).toBe(1);
    ctx.set(s, 1);
    await ctx.settled();
    expect(runs).toBe(1);
    ctx.set(s, 2);
    expect(runs).toBe(2);
  });

  test("custom equals drives the cut-off", () => {
    const ctx = createContext();
    const s = signal({ id: 1, n: 0 }, { equals: (a, b) => a.id === b.id });
    let runs = 0;
    ctx.observe(
      spin(($) => {
        runs++;
        return $.track(s).id;
      }),
      () => {},
    );
    ctx.set(s, { id: 1, n: 5 });
    expect(runs).toBe(1);
    ctx.set(s, { id: 2, n: 5 });
    expect(runs).toBe(2);
  });

  test("in the default context a spindel signal is a real preact signal: effect and computed react", () => {
    const s = signal(1);
    const seen: number[] = [];
    const dispose = effect(() => {
      seen.push(s.value);
    });
    const c = computed(() => s.value * 10);
    s.value = 2;
    expect(seen).toEqual([1, 2]);
    expect(c.value).toBe(20);
    defaultContext().set(s, 3);
    expect(seen).toEqual([1, 2, 3]);
    dispose();
  });

  test("ctx.toPreact(sig): a preact view of the signal in any context (the real preact signal in a root)", () => {
    const ctx = createContext();
    const s = signal(0);
    const seen: number[] = [];
    const dispose = effect(() => {
      seen.push(ctx.toPreact(s).value);
    });
    ctx.set(s, 7);
    expect(seen).toEqual([0, 7]);
    dispose();
    const fork = ctx.fork();
    const view = fork.toPreact(s);
    const forkSeen: number[] = [];
    const d2 = effect(() => {
      forkSeen.push(view.value);
    });
    ctx.set(s, 8); // not yet written in the fork: the view follows the parent
    fork.set(s, 9); // first fork write creates the shadow; the view switches to it
    ctx.set(s, 10); // the fork's own value now wins
    fork.set(s, 11);
    expect(forkSeen).toEqual([7, 8, 9, 11]);
    d2();
  });

  test("batch: every observer re-runs at most once, and sees all writes", () => {
    const ctx = createContext();
    const a = signal(1);
    const b = signal(2);
    const seen: number[] = [];
    ctx.observe(
      spin(($) => $.track(a) + $.track(b)),
      (v) => seen.push(v),
    );
    batch(() => {
      ctx.set(a, 10);
      ctx.set(b, 20);
      expect(ctx.get(a)).toBe(10); // reads inside the batch see the write
      batch(() => ctx.set(a, 100)); // nested batch joins the outer one
    });
    expect(seen).toEqual([3, 120]);
  });

  test("batch returns the function's value and coalesces preact effects too", () => {
    const a = signal(1);
    const b = signal(1);
    let runs = 0;
    const dispose = effect(() => {
      runs++;
      return void (a.value + b.value);
    });
    const r = batch(() => {
      a.value = 2;
      b.value = 2;
      return "done";
    });
    expect(r).toBe("done");
    expect(runs).toBe(2);
    dispose();
  });

  test("bad input gives typed errors", () => {
    const ctx = createContext();
    expect(() => ctx.set({} as unknown as Signal<number>, 1)).toThrow(SpindelError);
    expect(() => ctx.get(null as unknown as Signal<number>)).toThrow(/expects a Signal/);
    expect(() => signal(0, { key: "" })).toThrow(/non-empty/);
  });

  test("a key gives a stable id", () => {
    const s = signal(0, { key: "counter" });
    expect(s.id).toBe("counter");
    expect(String(s)).toBe("Signal(counter)");
  });
});
