/** deserializeContext: bodies of keyed spins come from handles created earlier in the same process. */
import { expect, test } from "vitest";
import { createContext, deserializeContext, signal, spin } from "../../src/index.js";

test("a keyed spin's body comes from its handle after deserializeContext, whichever is read first", async () => {
  const count = signal(1, { key: "deser-count" });
  const doubled = spin(($) => $.track(count) * 2, { key: "deser-doubled" });
  const plus = spin(async ($) => (await $.await(doubled)) + 1, { key: "deser-plus" });
  const ctx = createContext();
  expect(await ctx.value(plus)).toBe(3);

  const back = deserializeContext(ctx.serialize());
  back.set(count, 5);
  expect(await back.value(plus)).toBe(11); // doubled was never read in `back` before
  expect(await back.value(doubled)).toBe(10);
});

// found by test/core/fork-tree-properties.test.ts (seeds 4 and 5): an unkeyed spin's node comes
// back without its body, and a reader re-verifying it by id ran it bodiless (ERR_NO_BODY)
test("an unkeyed spin read through another one gets its body from its handle when it must re-run", () => {
  const s0 = signal(1);
  const s1 = signal(2);
  const a = spin(($) => $.track(s0) + $.track(s1));
  const c = spin(($) => $.track(a) * 10);
  const d = spin(($) => ($.track(s0) > 0 ? $.track(c) : -1));
  const ctx = createContext();
  expect(ctx.read(d)).toBe(30);
  ctx.set(s0, 0); // d, c and a stale: only d re-runs, and stops reading c
  expect(ctx.read(d)).toBe(-1);

  const back = deserializeContext(ctx.serialize());
  const seen: number[] = [];
  back.observe(c, (v) => seen.push(v)); // c re-verifies a by id: a must re-run, and has no body yet
  expect(seen).toEqual([20]);
  back.set(s1, 5);
  expect(seen).toEqual([20, 50]);

  const again = deserializeContext(ctx.serialize());
  again.set(s0, -1);
  expect(again.read(c)).toBe(10);
  expect(again.read(a)).toBe(1);
});

// found by test/core/fork-tree-properties.test.ts (seeds 9, 1-5): bytes carry a nested spin's node
// but not its handle; re-created by its parent, it kept the result computed with the old capture
test("a nested spin re-created after deserializeContext compares its deps with its restored node", () => {
  const s0 = signal(0);
  const s2 = signal(2);
  const e = spin(($) => {
    const v = $.track(s0);
    const child = $.spin(($$) => $$.track(s2) * 10 + v, { deps: [v] });
    return $.track(child) + 1;
  });
  const ctx = createContext();
  expect(ctx.read(e)).toBe(21);
  ctx.set(s0, -1); // e is stale; nothing re-runs until it is read
  const back = deserializeContext(ctx.serialize());
  expect(back.read(e)).toBe(20); // the child re-runs with v = -1
  back.set(s2, 3);
  expect(back.read(e)).toBe(30);
  const same = deserializeContext(ctx.serialize());
  same.set(s0, 0); // back to the captured value: the restored child's result stands
  expect(same.read(e)).toBe(21);
});
