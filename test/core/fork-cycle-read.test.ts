/**
 * Two spins of an await cycle settle with `ERR_CYCLE`, each log reading the other's error. In a
 * fork, a clean node is checked again at a new epoch by walking its log, which checks the spins it
 * read: for these two, each check came back to the other without end (a stack overflow) on the
 * first read after any write. A node is taken for verified while its own check runs.
 */
import { createContext, deferred, type Spin, signal, spin } from "spindel";
import { describe, expect, test } from "vitest";
import { acrossRuns, outcome, rootAndFork } from "./helpers.js";

test("reads in a fork after an await cycle and a write report the cycle, not a stack overflow", async () => {
  const root = createContext();
  const fork = root.fork();
  const s = signal(1);
  const gate = deferred<void>();
  const box: { a: Spin<number> | null } = { a: null };
  const b = spin(async ($) => (await $.await(box.a!)) + $.track(s), { name: "b" });
  const a = spin(
    async ($) => {
      await $.await(gate);
      return (await $.await(b)) + 1;
    },
    { name: "a" },
  );
  box.a = a;
  const first = fork.value(a);
  gate.deliver(undefined, fork);
  await expect(first).rejects.toMatchObject({ code: "ERR_CYCLE" });
  root.set(s, 2); // an ancestor's write: the fork checks again on its next read
  await expect(fork.value(a)).rejects.toMatchObject({ code: "ERR_CYCLE" });
  await expect(fork.value(b)).rejects.toMatchObject({ code: "ERR_CYCLE" });
  fork.set(s, 3); // the fork's own write
  await expect(fork.value(a)).rejects.toMatchObject({ code: "ERR_CYCLE" });
});

describe.each(rootAndFork)("an await cycle formed across runs, in a %s context", (_label, make) => {
  // `n`'s check waits on `child`'s run, and that run, after an await, awaited `n`, checking:
  // each waited on the other (in the root too)
  test("fails with ERR_CYCLE when the run awaits the checking spin after an await", async () => {
    const ctx = make();
    const { s, child, n } = acrossRuns(true);
    expect([await outcome(ctx.value(child)), await outcome(ctx.value(n))]).toEqual(["ok 0", "ok 1"]);
    ctx.set(s, 1);
    const both = [ctx.value(child), ctx.value(n)];
    expect(await Promise.all(both.map(outcome))).toEqual(["ERR_CYCLE", "ERR_CYCLE"]);
  });
});

// In a fork, `n`'s check ran `child`, whose run read `n`'s old result; the commit's re-check of
// what the run read then waited on `n`'s check, which waited on `child`: neither settled
test.each(["root", "fork"])(
  "a fork's await cycle formed across runs after a write in the %s fails with ERR_CYCLE",
  async (writer) => {
    const root = createContext();
    const fork = root.fork();
    const { s, child, n } = acrossRuns(false);
    expect([await outcome(root.value(child)), await outcome(root.value(n))]).toEqual(["ok 0", "ok 1"]);
    expect([await outcome(fork.value(child)), await outcome(fork.value(n))]).toEqual(["ok 0", "ok 1"]);
    (writer === "root" ? root : fork).set(s, 1);
    const both = [fork.value(n), fork.value(child)];
    expect(await Promise.all(both.map(outcome))).toEqual(["ERR_CYCLE", "ERR_CYCLE"]);
    if (writer === "root") {
      expect([await outcome(root.value(child)), await outcome(root.value(n))]).toEqual([
        "ERR_CYCLE",
        "ERR_CYCLE",
      ]);
    }
  },
);

// The root observes both and writes: its runs are in flight when the fork reads, and the fork's
// copies adopt their logs. The fork's check of an adopted log ran the other spin, whose run started
// a run of the checking node below its check: left checking once that run committed, it was never
// ready, or (`n` read first) the check waited on `n`'s run, which awaited the checking node
test.each([
  ["child", "n"],
  ["n", "child"],
])("a fork reading %s, then %s, while the root's await cycle forms fails with ERR_CYCLE", async (first) => {
  const root = createContext();
  const fork = root.fork();
  const { s, child, n } = acrossRuns(false);
  const seen: string[] = [];
  root.observe(
    child,
    () => {},
    (e) => seen.push(`child ${(e as { code?: string }).code}`),
  );
  root.observe(
    n,
    () => {},
    (e) => seen.push(`n ${(e as { code?: string }).code}`),
  );
  root.set(s, 1);
  const both = first === "child" ? [fork.value(child), fork.value(n)] : [fork.value(n), fork.value(child)];
  expect(await Promise.all(both.map(outcome))).toEqual(["ERR_CYCLE", "ERR_CYCLE"]);
  expect(await Promise.all([root.value(child), root.value(n)].map(outcome))).toEqual([
    "ERR_CYCLE",
    "ERR_CYCLE",
  ]);
  expect(seen.sort()).toEqual(["child ERR_CYCLE", "n ERR_CYCLE"]);
});
