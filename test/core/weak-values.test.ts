/**
 * A map of weakly held values: reads as a map of the live values, and the entries of collected
 * values do not pile up (swept as the map grows).
 */
import { expect, test } from "vitest";
import { WeakValueMap } from "../../src/core/weak-values.js";

const gc = (globalThis as { gc?: () => void }).gc;
const turn = () => new Promise((r) => setImmediate(r));

test("reads, overwrites and deletes like a map while the values live", () => {
  const m = new WeakValueMap<string, { n: number }>();
  const a = { n: 1 };
  const b = { n: 2 };
  m.set("a", a);
  m.set("b", b);
  expect(m.get("a")).toBe(a);
  m.set("a", b);
  expect(m.get("a")).toBe(b);
  m.delete("b");
  expect(m.get("b")).toBeUndefined();
  expect([...m.entries()]).toEqual([["a", b]]);
  expect(m.size).toBe(1);
});

test.runIf(gc !== undefined)("entries of collected values are swept out as the map grows", async () => {
  const m = new WeakValueMap<number, object>();
  const kept: object[] = [];
  let key = 0;
  for (let round = 0; round < 40; round++) {
    for (let i = 0; i < 1000; i++) {
      const v = {};
      if (i % 100 === 0) kept.push(v);
      m.set(key++, v);
    }
    gc!();
    await turn(); // a turn's values stay alive until it ends (its weak references keep them)
  }
  // 40,000 set, 400 kept: without the sweep every entry would stay
  expect(m.size).toBeLessThan(10_000);
  gc!();
  await turn();
  const live = [...m.entries()];
  expect(live.length).toBeGreaterThanOrEqual(400);
  for (let i = 0; i < kept.length; i++) expect(m.get(i * 100)).toBe(kept[i]);
  expect(m.size).toBe(live.length); // entries() dropped the dead ones it met
});
