/**
 * Ops that arrive before what they name (their container, the element they follow) are parked and
 * applied when it arrives. Each parked op is tried again only when the op it waits for applies:
 * a log delivered one op at a time in any order costs a bounded number of tries per op (counted,
 * not timed). Before, every op that applied retried every parked op.
 */
import { type Ref, type RefOp, ref, refFromOps } from "spindel/crdt";
import { describe, expect, test, vi } from "vitest";
import { shuffle } from "./harness.js";

/** A document with a list of `n` items and a nested map per tenth item: ops of every kind. */
function origin(n: number): Ref<{ items: unknown[]; meta: Record<string, number> }> {
  const a = ref<{ items: unknown[]; meta: Record<string, number> }>({ items: [], meta: {} }, { actor: "a" });
  for (let i = 0; i < n; i++)
    a.swap((v) => ({
      items: [...v.items, i % 10 === 0 ? { at: i } : i],
      meta: { ...v.meta, [`k${i % 7}`]: i },
    }));
  a.swap((v) => ({ ...v, items: v.items.filter((_, i) => i % 3 !== 0) }));
  return a;
}

describe("parked ref ops", () => {
  test.each([1, 2, 3])(
    "a log delivered op by op in a shuffled order (seed %i): same value, tries linear in ops",
    (seed) => {
      const a = origin(600);
      const log = a.log();
      const apply = vi.spyOn(
        (Object.getPrototypeOf(a) as { constructor: { prototype: object } }).constructor.prototype as {
          apply: (op: RefOp) => boolean;
        },
        "apply",
      );
      const b = refFromOps<unknown>([], { actor: "b" });
      for (const op of shuffle(log, seed)) b.merge({ ops: [op] });
      const tries = apply.mock.calls.length;
      apply.mockRestore();
      expect(b.value).toEqual(a.value);
      expect(b.log()).toHaveLength(log.length);
      // an op is tried when it arrives and once per name it waits for (at most three)
      expect(tries).toBeLessThanOrEqual(4 * log.length);
    },
  );

  test("an op that can never apply (a map op on a list) stays in the log and is not retried", () => {
    const a = ref<{ l: number[] }>({ l: [1] }, { actor: "a" });
    const list = a.log().find((op) => op.op === "list")!;
    const bad: RefOp = { op: "set", id: [99, "z"], obj: `${list.id[0]}:${list.id[1]}`, key: "x", value: 1 };
    const b = refFromOps<{ l: number[] }>(a.log(), { actor: "b" });
    b.merge({ ops: [bad] });
    expect(b.value).toEqual({ l: [1] });
    expect(b.log()).toContainEqual(bad);
    b.swap((v) => ({ l: [...v.l, 2] }));
    expect(b.value).toEqual({ l: [1, 2] });
  });
});
