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
