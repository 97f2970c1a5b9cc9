/** Regressions for core bugs found while building on the core (each failed before its fix). */

import { createContext, type SpinScope, spin, WAIT, type Waiter } from "spindel";
import { expect, test } from "vitest";

test("disposing a root aborts its forks' runs: pending fork reads reject, finally blocks run", async () => {
  const ctx = createContext();
  const fork = ctx.fork();
  const deeper = fork.fork();
  const parked = { [WAIT]: () => {} };
  const unwound: string[] = [];
  const body = (tag: string) => async ($: SpinScope) => {
    try {
      await $.await(parked);
    } finally {
      unwound.push(tag);
    }
  };
  const inFork = fork.value(spin(body("fork")));
  const inDeeper = deeper.value(spin(body("deeper")));
  ctx.dispose();
  await expect(inFork).rejects.toMatchObject({ code: "ERR_DISPOSED" });
  await expect(inDeeper).rejects.toMatchObject({ code: "ERR_DISPOSED" });
  await new Promise((r) => setImmediate(r));
  expect(unwound.sort()).toEqual(["deeper", "fork"]);
  expect(fork.disposed && deeper.disposed).toBe(true);
});

test("a wait's abandon hook that re-enters the drain does not restart the spin being cancelled", async () => {
  const ctx = createContext();
  const helper = spin(() => "h");
  let runs = 0;
  const src = {
    [WAIT]: (_c: unknown, w: Waiter<unknown>) => w.onAbandon(() => ctx.cancel(helper)),
  };
  const outer = spin(async ($) => {
    runs++;
    await $.await(helper);
    return $.await(src);
  });
  const p = ctx.value(outer).catch((e: { code?: string }) => e.code);
  await new Promise((r) => setImmediate(r));
  ctx.cancel(outer);
  expect(await p).toBe("ERR_CANCELLED");
  expect(runs).toBe(1);
});
