/**
 * A run in a fork during which an ancestor writes what it read (while it is in flight, or from its
 * own body): the ancestor's write marks nothing in the fork (forks verify against the epoch on their
 * next read), so the commit of a run the epoch moved under checks its reads before it hands its
 * result to anyone waiting (found by the async fork-tree
 * property, seed 303). Both through a signal the run tracked and through a spin it awaited.
 */
import { createContext, signal, spin } from "spindel";
import { describe, expect, test } from "vitest";

const tick = () => Promise.resolve();

/** A root, its fork, a signal `s` (1) and an async spin `a` = `s` + 1 that waits between its read and its answer. */
function trackingSpin() {
  const root = createContext();
  const fork = root.fork();
  const s = signal(1);
  let count = 0;
  const a = spin(async ($) => {
    count++;
    const v = $.track(s);
    await $.await(tick);
    return v + 1;
  });
  return { root, fork, s, a, runs: () => count };
}

describe("a fork's run in flight across an ancestor's write", () => {
  test("a tracked signal written by the root: the fork's read gets the new value", async () => {
    const { root, fork, s, a, runs } = trackingSpin();
    fork.rerun(a);
    root.set(s, 2); // the run above already read 1
    expect(await fork.value(a)).toBe(3);
    expect(runs()).toBe(2);
    expect(await root.value(a)).toBe(3);
  });

  test("an awaited spin over a signal written by the root: the fork's read gets the new value", async () => {
    const root = createContext();
    const fork = root.fork();
    const s = signal(1);
    const c = spin(($) => $.track(s) * 10);
    const a = spin(async ($) => {
      const v = await $.await(c);
      await $.await(tick);
      return v + 1;
    });
    fork.rerun(a);
    root.set(s, 2);
    expect(await fork.value(a)).toBe(21);
  });

  test("an observation in the fork ends on the new value", async () => {
    const { root, fork, s, a } = trackingSpin();
    const seen: number[] = [];
    const stop = fork.observe(a, (v) => seen.push(v));
    root.set(s, 2);
    expect(await fork.value(a)).toBe(3); // ready: every observer has been told
    expect(seen.at(-1)).toBe(3);
    expect(seen).not.toContain(2); // the stale result is never delivered
    stop();
  });

  test("a synchronous body that writes its root's signal it read: the fork's reader gets what a root's does", async () => {
    for (const how of ["value", "observe"] as const) {
      const root = createContext();
      const fork = root.fork();
      const s = signal(1);
      const a = spin(($) => {
        const v = $.track(s);
        if (v === 1) root.set(s, 5); // during the run: its read is stale once it returns
        return v;
      });
      if (how === "value") expect(await fork.value(a)).toBe(5);
      else {
        const seen: number[] = [];
        const stop = fork.observe(a, (v) => seen.push(v));
        expect(seen).toEqual([5]);
        stop();
      }
    }
  });

  test("an awaited spin the root's write sends re-running in the fork: the awaiting run's read gets the new value", async () => {
    // seed 1655870581: the commit of `c` in the fork skipped `a`, whose run was in flight with the
    // version `c` had read, and handed `c`'s result over the old `a` to its reader
    const { root, fork, s, a } = trackingSpin();
    const b = signal(10);
    const c = spin(async ($) => (await $.await(a)) - $.track(b));
    expect(await root.value(a)).toBe(2);
    const stopC = fork.observe(c, () => {}); // its run awaits the root's settled `a` (2)
    root.set(s, 2);
    const stopA = fork.observe(a, () => {}); // the fork's `a` re-runs: in flight as `c` commits
    expect(await fork.value(c)).toBe(-7);
    expect(await root.value(c)).toBe(-7);
    stopC();
    stopA();
  });

  test("nothing changed: one run, delivered as it settles", async () => {
    const { root, fork, a, runs } = trackingSpin();
    fork.rerun(a);
    root.set(signal(0), 5); // another signal: the epoch moves, the reads did not change
    expect(await fork.value(a)).toBe(2);
    expect(runs()).toBe(1);
  });
});
