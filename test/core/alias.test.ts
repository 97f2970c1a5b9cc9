import { createContext, signal, spin } from "spindel";
import { expect, test } from "vitest";

test("the package name resolves to the sources (self-import used by docs examples)", async () => {
  const ctx = createContext();
  const s = signal(2);
  expect(await ctx.value(spin(($) => $.track(s) * 21))).toBe(42);
});
