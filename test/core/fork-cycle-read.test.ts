/**
 * Two spins of an await cycle settle with `ERR_CYCLE`, each log reading the other's error. In a
 * fork, a clean node is checked again at a new epoch by walking its log, which checks the spins it
 * read: for these two, each check came back to the other without end (a stack overflow) on the
 * first read after any write. A node is taken for verified while its own check runs.
 */
import { createContext, deferred, type Spin, signal, spin } from "spindel";
import { expect, test } from "vitest";

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
