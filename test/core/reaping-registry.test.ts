/**
 * The reaping of a context's nodes goes on when another context is collected at a bad moment. V8
 * (11.3, Node 20) drops a FinalizationRegistry that becomes unreachable between the collection that
 * found its targets dead and the task that runs its callbacks from its list of registries to clean
 * up; the task, finding that list empty, returns without clearing its "task posted" flag, and no
 * FinalizationRegistry of the process gets a callback again. A registry per context did that when a
 * fork was dropped right after its handles (release-properties, "in a fork", FC_SIZE=large
 * SEED=1435007359 GC_RUNS=200: after one such case, every later case of the worker failed). On a
 * failure here every later finalization of this file's worker stalls: it has a file of its own.
 */
import { type Context, createContext, signal, spin } from "spindel";
import { expect, test } from "vitest";
import { collectUntil, gc, tick } from "./helpers.js";

/** `ctx` reads a spin made here: its node stays in the map, registered for reaping at the end of the job. */
function readOnce(ctx: Context): void {
  const s = signal(1);
  expect(ctx.read(spin(($) => $.track(s) + 1))).toBe(2);
}

test.runIf(gc !== undefined)(
  "a fork collected after its handles, before their finalization runs, does not stop the reaping of other contexts",
  async () => {
    let dropped: Context | null = createContext().fork();
    readOnce(dropped);
    await tick(); // the node's handle is registered
    expect(dropped._nodeCount).toBe(1);
    gc!(); // the handle is collected: its registration waits for the cleanup task
    dropped = null;
    gc!(); // the fork is collected before that task runs
    const probe = createContext().fork();
    readOnce(probe);
    await tick();
    expect(probe._nodeCount).toBe(1);
    expect(await collectUntil(() => probe._nodeCount === 0)).toBe(true);
  },
);

test.runIf(gc !== undefined)(
  "forks dropped without dispose() do not pile up in their root's set of live forks",
  async () => {
    const root = createContext();
    const s = signal(0);
    const sp = spin(($) => $.track(s) + 1);
    const liveForks = () => (root as unknown as { liveForks: Set<unknown> | null }).liveForks?.size ?? 0;
    /** Forks that own a node each (a write, then a read), dropped at once. */
    const forkAndDrop = (n: number) => {
      for (let i = 0; i < n; i++) {
        const f = root.fork();
        f.set(s, i + 1);
        expect(f.read(sp)).toBe(i + 2);
      }
    };
    forkAndDrop(3000);
    expect(liveForks()).toBe(3000); // alive until the job ends (their weak references keep them)
    await tick();
    gc!();
    await tick();
    forkAndDrop(3000);
    // the 3,000 collected ones were swept on the way (3,000 left here; without the sweep 6,000)
    expect(liveForks()).toBeLessThan(4000);
  },
);
