/**
 * Property: remote calls settle exactly once, with the outcome their fate allows, and leave nothing
 * behind. Random batches of concurrent calls over one real link (127.0.0.1): bodies that answer,
 * answer later, throw or hang; calls left alone, cancelled, aborted or given a short deadline.
 */
import fc from "fast-check";
import { createContext, isCancelled, type SpinScope } from "spindel";
import { invokeRemote, type Peer, RemoteError } from "spindel/distributed";
import { describe, expect, test } from "vitest";
import { client, defineRemote, eventually, hub, within } from "./helpers.js";

type Kind = "value" | "later" | "throw" | "hang";
type Fate = "none" | "cancel" | "abort" | "timeout";

/** Body runs per call tag: the exactly-once half of the law. */
const runs = new Map<string, number>();
const behave = defineRemote(
  ["kind", "tag"],
  (kind, tag) => async ($: SpinScope) => {
    runs.set(tag as string, (runs.get(tag as string) ?? 0) + 1);
    switch (kind as Kind) {
      case "value":
        return tag;
      case "later":
        await $.await(new Promise((r) => setImmediate(r)));
        return tag;
      case "throw":
        throw new RangeError(`bad ${tag as string}`);
      case "hang":
        return $.await(new Promise<never>(() => {}));
    }
  },
  "prop-behave",
);

/** Internal tables of a peer, for the "nothing left behind" half. */
function leftovers(p: Peer): { outgoing: number; incoming: number; deadlines: number } {
  const inner = p as unknown as {
    all: Set<{ outgoing: Map<number, unknown>; incoming: Map<number, unknown> }>;
    deadlines: { live: number };
  };
  let outgoing = 0;
  let incoming = 0;
  for (const c of inner.all) {
    outgoing += c.outgoing.size;
    incoming += c.incoming.size;
  }
  return { outgoing, incoming, deadlines: inner.deadlines.live };
}

describe("property: remote calls", () => {
  test("every call settles exactly once with an outcome its fate allows; bodies run once; nothing is left behind", async () => {
    const { peer: h } = await hub();
    const c = await client(h.url!);
    const server = c.remote("hub");
    let batch = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc
            .record({
              kind: fc.constantFrom<Kind>("value", "later", "throw", "hang"),
              fate: fc.constantFrom<Fate>("none", "cancel", "abort", "timeout"),
            })
            .filter((o) => o.kind !== "hang" || o.fate !== "none"),
          { minLength: 1, maxLength: 12 },
        ),
        async (ops) => {
          batch++;
          const ctx = createContext();
          const calls = ops.map((op, i) => {
            const tag = `${batch}.${i}`;
            const ac = new AbortController();
            const scope =
              op.fate === "abort"
                ? server.with({ signal: ac.signal })
                : op.fate === "timeout"
                  ? server.with({ timeoutMs: 15 })
                  : server;
            const s = invokeRemote(behave, scope, [op.kind, tag]);
            let settled = 0;
            const outcome = ctx.value(s).then(
              (v) => {
                settled++;
                return { ok: true as const, v };
              },
              (e: unknown) => {
                settled++;
                return { ok: false as const, e };
              },
            );
            return { op, tag, s, ac, outcome, settledCount: () => settled };
          });
          for (const call of calls) {
            if (call.op.fate === "cancel") ctx.cancel(call.s);
            if (call.op.fate === "abort") call.ac.abort();
          }
          const outcomes = await within(
            Promise.all(calls.map((x) => x.outcome)),
            5_000,
            "every call settles",
          );
          for (const [i, call] of calls.entries()) {
            const o = outcomes[i]!;
            expect(call.settledCount()).toBe(1);
            const normal =
              call.op.kind === "value" || call.op.kind === "later"
                ? o.ok && o.v === call.tag
                : call.op.kind === "throw"
                  ? !o.ok &&
                    o.e instanceof RemoteError &&
                    o.e.code === "ERR_REMOTE_THROWN" &&
                    o.e.name === "RangeError"
                  : false;
            const stopped =
              !o.ok &&
              (call.op.fate === "cancel"
                ? isCancelled(o.e)
                : call.op.fate === "abort"
                  ? o.e instanceof RemoteError && o.e.code === "ERR_CANCELLED"
                  : call.op.fate === "timeout"
                    ? o.e instanceof RemoteError && o.e.code === "ERR_TIMEOUT"
                    : false);
            // a call left alone must have its normal outcome; a stopped one may still win the race
            if (call.op.fate === "none") expect(normal, `${call.op.kind} ${call.tag}`).toBe(true);
            else expect(normal || stopped, `${call.op.kind}/${call.op.fate} ${call.tag}`).toBe(true);
          }
          // the body of every call that reached the callee ran exactly once; none ran twice
          await eventually(
            () => leftovers(h).incoming === 0 && leftovers(h).deadlines === 0,
            "the callee's tables empty",
          );
          for (const call of calls) expect(runs.get(call.tag) ?? 0).toBeLessThanOrEqual(1);
          for (const call of calls) if (call.op.fate === "none") expect(runs.get(call.tag), call.tag).toBe(1);
          expect(leftovers(c)).toEqual({ outgoing: 0, incoming: 0, deadlines: 0 });
        },
      ),
      { numRuns: 40 },
    );
  });
});
