import { Cancelled, ContextDisposedError, createContext, signal, spin } from "spindel";
import { describe, expect, test } from "vitest";
import { gate } from "./helpers.js";

describe("forks", () => {
  test("fork writes never reach the parent; the fork reads through for what it has not written", () => {
    const parent = createContext();
    const a = signal(1);
    const b = signal(2);
    parent.set(a, 10);
    const fork = parent.fork();
    fork.set(a, 100);
    expect(fork.get(a)).toBe(100);
    expect(parent.get(a)).toBe(10);
    expect(fork.get(b)).toBe(2);
    parent.set(b, 20); // parent writes to entities the fork has not written are visible
    expect(fork.get(b)).toBe(20);
    fork.set(b, 200);
    parent.set(b, 21);
    expect(fork.get(b)).toBe(200);
  });

  test("a fork inherits cached results until a dependency changes in the fork", async () => {
    const parent = createContext();
    const a = signal(1);
    const other = signal(0);
    let runs = 0;
    const t = spin(($) => {
      runs++;
      return $.track(a) * 2;
    });
    expect(await parent.value(t)).toBe(2);
    const fork = parent.fork();
    expect(await fork.value(t)).toBe(2);
    fork.set(other, 1); // not a dependency
    expect(await fork.value(t)).toBe(2);
    expect(runs).toBe(1);
    fork.set(a, 5);
    expect(await fork.value(t)).toBe(10);
    expect(runs).toBe(2);
    expect(await parent.value(t)).toBe(2);
    expect(runs).toBe(2);
  });

  test("inherited async chains re-run in the fork only from the changed input", async () => {
    const parent = createContext();
    const a = signal(1);
    const b = signal(1);
    const runs = { x: 0, y: 0, z: 0 };
    const x = spin(async ($) => {
      runs.x++;
      return $.track(a);
    });
    const y = spin(async ($) => {
      runs.y++;
      return $.track(b);
    });
    const z = spin(async ($) => {
      runs.z++;
      return (await $.await(x)) + (await $.await(y));
    });
    expect(await parent.value(z)).toBe(2);
    const fork = parent.fork();
    fork.set(b, 10);
    expect(await fork.value(z)).toBe(11);
    expect(runs).toEqual({ x: 1, y: 2, z: 2 });
    expect(await parent.value(z)).toBe(2);
  });

  test("observed spins in a fork react to fork writes only", async () => {
    const parent = createContext();
    const a = signal(1);
    const t = spin(($) => $.track(a));
    const fork = parent.fork();
    const inFork: number[] = [];
    const inParent: number[] = [];
    fork.observe(t, (v) => inFork.push(v));
    parent.observe(t, (v) => inParent.push(v));
    fork.set(a, 2);
    parent.set(a, 3);
    fork.set(a, 4);
    expect(inFork).toEqual([1, 2, 4]);
    expect(inParent).toEqual([1, 3]);
  });

  test("a fork's observer of an inherited spin reacts when the fork writes that spin's input", async () => {
    const parent = createContext();
    const a = signal(1);
    const inner = spin(($) => $.track(a) + 1);
    const outer = spin(($) => $.track(inner) * 10);
    expect(await parent.value(outer)).toBe(20);
    const fork = parent.fork();
    const seen: number[] = [];
    fork.observe(outer, (v) => seen.push(v));
    fork.set(a, 2);
    expect(seen).toEqual([20, 30]);
    expect(await parent.value(outer)).toBe(20);
  });

  test("a fork of a fork layers correctly", async () => {
    const root = createContext();
    const a = signal("root");
    const f1 = root.fork();
    f1.set(a, "f1");
    const f2 = f1.fork();
    expect(f2.get(a)).toBe("f1");
    f2.set(a, "f2");
    expect([root.get(a), f1.get(a), f2.get(a)]).toEqual(["root", "f1", "f2"]);
    const t = spin(($) => `v:${$.track(a)}`);
    expect(await Promise.all([root.value(t), f1.value(t), f2.value(t)])).toEqual(["v:root", "v:f1", "v:f2"]);
  });

  test("a fork reading a spin parked in the parent resumes it in the fork (the wait exists in both worlds)", async () => {
    const parent = createContext();
    const a = signal(1);
    const g = gate<number>();
    let prefixRuns = 0;
    const t = spin(async ($) => {
      prefixRuns++;
      const x = $.track(a);
      const y = await $.await(() => g.promise);
      return x + y;
    });
    const inParent = parent.value(t);
    const fork = parent.fork();
    const inFork = fork.value(t);
    g.resolve(100);
    expect(await inParent).toBe(101);
    expect(await inFork).toBe(101);
    expect(prefixRuns).toBe(2); // the fork replays the prefix once
  });

  test("fork creation is O(1): it copies nothing", () => {
    const parent = createContext();
    const sigs = Array.from({ length: 1000 }, (_, i) => signal(i));
    for (const s of sigs) parent.set(s, -1);
    const fork = parent.fork();
    expect(fork.cells.size).toBe(0);
    expect(fork.nodes.size).toBe(0);
    expect(fork.get(sigs[500]!)).toBe(-1);
  });

  test("cancel in a fork does not touch the parent", async () => {
    const parent = createContext();
    const t = spin(() => 1);
    await parent.value(t);
    const fork = parent.fork();
    fork.cancel(t);
    await expect(fork.value(t)).rejects.toBeInstanceOf(Cancelled);
    expect(await parent.value(t)).toBe(1);
  });
});

describe("dispose", () => {
  test("later use throws a clear ContextDisposedError; forks of it are disposed too", async () => {
    const ctx = createContext();
    const fork = ctx.fork();
    const s = signal(1);
    ctx.dispose();
    expect(ctx.disposed).toBe(true);
    expect(() => ctx.set(s, 2)).toThrow(ContextDisposedError);
    expect(() => ctx.get(s)).toThrow(/context is disposed/);
    expect(() => fork.get(s)).toThrow(ContextDisposedError);
    await expect(ctx.value(spin(() => 1))).rejects.toMatchObject({ code: "ERR_DISPOSED" });
  });

  test("dispose cancels running spins (finally runs), fails pending reads and disarms timers", async () => {
    const ctx = createContext();
    const events: string[] = [];
    const t = spin(async ($) => {
      try {
        await $.await(new Promise(() => {}));
      } finally {
        events.push("finally");
      }
    });
    const p = ctx.value(t);
    let fired = false;
    ctx.setTimer(10_000, () => {
      fired = true;
    });
    expect(ctx.clock.pending).toBe(1);
    ctx.dispose();
    await expect(p).rejects.toMatchObject({ code: "ERR_DISPOSED" });
    expect(ctx.clock.pending).toBe(0);
    await new Promise((r) => setImmediate(r));
    expect(events).toEqual(["finally"]);
    expect(fired).toBe(false);
  });
});

describe("virtual clock", () => {
  test("timers fire deterministically on advanceTime, in due order", () => {
    const ctx = createContext({ clock: "virtual" });
    const fired: string[] = [];
    ctx.setTimer(20, () => fired.push("b"));
    ctx.setTimer(10, () => fired.push("a"));
    const c = ctx.setTimer(15, () => fired.push("cancelled"));
    c.cancel();
    ctx.advanceTime(9);
    expect(fired).toEqual([]);
    ctx.advanceTime(11);
    expect(fired).toEqual(["a", "b"]);
    expect(ctx.now()).toBe(20);
  });

  test("advanceTime on a real clock is a typed error", () => {
    expect(() => createContext().advanceTime(1)).toThrow(/virtual clock/);
  });
});
