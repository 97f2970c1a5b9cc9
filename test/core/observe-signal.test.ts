/** ctx.observe accepts a signal as well as a spin. */
import { expect, test } from "vitest";
import { createContext, signal } from "../../src/index.js";

test("ctx.observe(signal, …) reports the value in that context and each change, until stopped", async () => {
  const count = signal(1);
  const ctx = createContext();
  const fork = ctx.fork();
  const seen: number[] = [];
  const forkSeen: number[] = [];
  const stop = ctx.observe(count, (v) => seen.push(v));
  fork.observe(count, (v) => forkSeen.push(v));
  ctx.set(count, 2);
  await new Promise<void>((resolve) => queueMicrotask(resolve));
  expect(seen).toEqual([1, 2]);
  fork.set(count, 7);
  await new Promise<void>((resolve) => queueMicrotask(resolve));
  expect(forkSeen.at(-1)).toBe(7);
  expect(seen.at(-1)).toBe(2); // the fork's write stays in the fork
  stop();
  ctx.set(count, 3);
  await new Promise<void>((resolve) => queueMicrotask(resolve));
  expect(seen).toEqual([1, 2]);
});
