import { createContext, deserializeContext, restoreSnapshot, SpindelError, signal, spin } from "spindel";
import { describe, expect, test } from "vitest";

describe("snapshots", () => {
  test("a snapshot is a frozen full copy; writes to it throw", async () => {
    const ctx = createContext();
    const a = signal(1);
    // keyed: addressable state (an unkeyed spin only ever read once lives on its handle)
    const t = spin(($) => $.track(a) * 3, { key: "snap.frozen.t" });
    ctx.set(a, 2);
    await ctx.value(t);
    const snap = ctx.snapshot();
    ctx.set(a, 3);
    expect(snap.get(a)).toBe(2);
    expect(snap.peek(t)).toEqual({ status: "ok", value: 6 });
    expect(() => snap.set(a, 5)).toThrow(SpindelError);
    expect(Object.isFrozen(snap)).toBe(true);
  });

  test("a snapshot of a fork includes inherited state", () => {
    const ctx = createContext();
    const a = signal(0);
    const b = signal(0);
    ctx.set(a, 1);
    const fork = ctx.fork();
    fork.set(b, 2);
    const snap = fork.snapshot();
    expect([snap.get(a), snap.get(b)]).toEqual([1, 2]);
  });

  test("restoreSnapshot gives a live root: cached results served, reactive to writes", async () => {
    const ctx = createContext();
    const a = signal(1);
    let runs = 0;
    const t = spin(async ($) => {
      runs++;
      return $.track(a) + 100;
    });
    expect(await ctx.value(t)).toBe(101);
    const restored = restoreSnapshot(ctx.snapshot());
    expect(await restored.value(t)).toBe(101);
    expect(runs).toBe(1);
    restored.set(a, 2);
    expect(await restored.value(t)).toBe(102);
    expect(await ctx.value(t)).toBe(101);
    expect(runs).toBe(2);
    const seen: number[] = [];
    restored.observe(t, (v) => seen.push(v));
    restored.set(a, 3);
    await restored.settled();
    expect(seen).toEqual([102, 103]);
  });

  test("a restored spin that read a signal no context stored reacts to that signal's first write", () => {
    // a fork reads a signal nobody wrote without storing a cell: the snapshot has the spin, not the
    // cell; the restored root makes the cell when the signal is first used, and the spin observes it
    const root = createContext();
    const f = root.fork();
    const x = signal(1);
    const y = signal(10);
    const s = spin(($) => $.track(x) * 2, { key: "snap.unstored.s" });
    const t = spin(($) => $.track(y) + 1, { key: "snap.unstored.t" });
    expect(f.read(s)).toBe(2);
    expect(f.read(t)).toBe(11);
    const snap = f.snapshot();
    const r = restoreSnapshot(snap);
    const seen: number[] = [];
    const stop = r.observe(s, (v) => seen.push(v));
    r.set(x, 5);
    expect(seen).toEqual([2, 10]);
    expect(r.read(s)).toBe(10);
    stop();
    // read only, never observed: the pull finds the write too
    r.set(y, 20);
    expect(r.read(t)).toBe(21);
    // a fork of another restored root: the fork's write reaches the root's node through the fork
    const r2 = restoreSnapshot(snap);
    const g = r2.fork();
    g.set(x, 7);
    expect(g.read(s)).toBe(14);
    expect(r2.read(s)).toBe(2);
    r2.set(x, 3);
    expect(r2.read(s)).toBe(6);
    expect(g.read(s)).toBe(14);
  });

  test("a fork's snapshot restores the ancestors' cached spins only as far as the fork's writes leave them valid", () => {
    // found by test/core/fork-tree-properties.test.ts (seed 9): the fork's snapshot holds the
    // root's nodes, computed before the fork's write; the restored root answered with them
    const s0 = signal(0);
    const s1 = signal(1);
    const a = spin(($) => $.track(s0) + $.track(s1));
    const c = spin(($) => $.track(a) * 10);
    const other = spin(($) => $.track(s1) * 2);
    const root = createContext();
    const f = root.fork();
    f.set(s0, 1);
    expect(root.read(c)).toBe(10);
    expect(root.read(other)).toBe(2);
    const r = restoreSnapshot(f.snapshot());
    expect(r.get(s0)).toBe(1);
    expect(r.read(c)).toBe(20); // a's input changed: a and its reader c re-run
    expect(r.read(a)).toBe(2);
    expect(r.read(other)).toBe(2); // its input is as it read it: still valid
    const seen: number[] = [];
    r.observe(c, (v) => seen.push(v));
    r.set(s1, 2);
    expect(seen).toEqual([20, 30]);
  });

  test("restoreSnapshot rejects anything but a snapshot", () => {
    expect(() => restoreSnapshot({} as never)).toThrow(/expects a snapshot/);
  });
});

describe("serialize / deserialize (CBOR)", () => {
  test("round trip: signal values and cached results, served without re-running", async () => {
    const ctx = createContext();
    const a = signal(0, { key: "ser.a" });
    const m = signal(new Map<string, number>(), { key: "ser.m" });
    let runs = 0;
    const t = spin(
      async ($) => {
        runs++;
        return { sum: $.track(a) + $.track(m).size, at: new Date(0), big: 2n ** 70n };
      },
      { key: "ser.t" },
    );
    ctx.set(a, 41);
    ctx.set(m, new Map([["x", 1]]));
    await ctx.value(t);
    const bytes = ctx.serialize();
    expect(bytes).toBeInstanceOf(Uint8Array);
    const back = deserializeContext(bytes);
    expect(back.get(a)).toBe(41);
    expect(back.get(m)).toEqual(new Map([["x", 1]]));
    expect(await back.value(t)).toEqual({ sum: 42, at: new Date(0), big: 2n ** 70n });
    expect(runs).toBe(1);
    back.set(a, 1); // reactive after deserialize: deps were restored from the log
    expect((await back.value(t)).sum).toBe(2);
    expect(runs).toBe(2);
  });

  test("errors survive as typed errors", async () => {
    const ctx = createContext();
    const t = spin(
      () => {
        throw new SpindelError("ERR_APP", "app failed", { why: 1 });
      },
      { key: "ser.err" },
    );
    await expect(ctx.value(t)).rejects.toThrow();
    const back = deserializeContext(ctx.serialize());
    await expect(back.value(t)).rejects.toMatchObject({
      code: "ERR_APP",
      message: "app failed",
      data: { why: 1 },
    });
  });

  test("values CBOR cannot carry are a typed error naming the signal", () => {
    const ctx = createContext();
    const f = signal<unknown>(null, { key: "ser.fn" });
    ctx.set(f, () => 1);
    expect(() => ctx.serialize()).toThrow(/ser\.fn/);
  });

  test("garbage bytes are a typed error", () => {
    expect(() => deserializeContext(new Uint8Array([1, 2, 3]))).toThrow(
      /not a serialized spindel context|not CBOR/,
    );
    expect(() => deserializeContext("nope" as never)).toThrow(SpindelError);
  });
});
