/**
 * A stack overflow in a deep chain of bodies that catch what their reads throw landed between a
 * run's start and its commit (on the call of the commit, of the code restoring the running run)
 * and left nodes with a run that never ended (n.run set, never committed): no write re-ran them,
 * `ctx.read` threw `ERR_NOT_SETTLED` for a synchronous spin. Such runs are now dropped once the
 * stack unwound (`dropStuck`): the node re-runs when next read. Where the overflow lands depends on
 * the frames V8 has compiled by then: chains of several lengths, in a fresh file.
 */
import { type Context, createContext, type Spin, type SpindelError, signal, spin } from "spindel";
import { expect, test } from "vitest";

/** The spins of `chain` whose read throws (or answers no number) after an overflowing first run. */
function failedReads(ctx: Context, n: number): string[] {
  const x = signal(0);
  const chain: Spin<number>[] = [spin(($) => $.track(x))];
  for (let i = 1; i < n; i++) {
    const prev = chain[i - 1]!;
    chain.push(
      spin(($) => {
        try {
          return $.track(prev) + 1;
        } catch (e) {
          return e instanceof RangeError ? -1 : -2;
        }
      }),
    );
  }
  const seen: number[] = [];
  const stop = ctx.observe(chain[n - 1]!, (v) => seen.push(v));
  expect(seen).toHaveLength(1);
  const failed: string[] = [];
  // the reads go down the chain a step at a time: each has a result or runs
  for (let i = 0; i < n; i++) {
    try {
      const v = ctx.read(chain[i]!);
      if (typeof v !== "number") failed.push(`${n}/${i}: ${String(v)}`);
    } catch (e) {
      failed.push(`${n}/${i}: ${(e as SpindelError).code ?? String(e)}`);
    }
  }
  // (observed, the top would re-check the chain in one recursion on this write: an overflow)
  stop();
  ctx.set(x, 5);
  expect(ctx.read(chain[0]!)).toBe(5);
  expect(ctx.read(chain[1]!)).toBe(6);
  return failed;
}

// the fork first: where the overflow lands moves as V8 compiles more of the engine
for (const fork of [true, false]) {
  test(`a deep chain of bodies that catch a stack overflow leaves no run that never ends (${fork ? "fork" : "root"})`, () => {
    const failed: string[] = [];
    for (const n of [3_000, 6_000, 12_000, 2_000, 2_500, 3_500, 4_000, 8_000]) {
      const root = createContext();
      failed.push(...failedReads(fork ? root.fork() : root, n));
    }
    expect(failed).toEqual([]);
  });
}
