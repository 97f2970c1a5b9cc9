/**
 * The datatype halves of seeds 000 (replikativ's OR-Map demo) and 001 (CDVCS, "Replicating with
 * Datomic"), translated: the values and their merges, with peers replaced by joins and
 * `stream-into-identity!` by a reduction over the values (the stage and the realize loop are the
 * sync layer's).
 */
import { CDVCS, type CrdtError, ORMap } from "spindel/crdt";
import { describe, expect, test } from "vitest";
import { decodeCbor, encodeCbor } from "../../../src/core/persist/codec.js";

type OpTuple = [symbol: string, args: unknown[]];

describe("seed 000: the OR-Map demo", () => {
  test("assoc on b, converge on a, dissoc on a; streamed into an identity", () => {
    // two stages on one datatype address, each with its own replica
    let stageA = ORMap.empty<string, OpTuple[]>("peer-a");
    let stageB = ORMap.empty<string, OpTuple[]>("peer-b");
    // (ors/assoc! stage-b [user ormap-id] :name [['assoc [:name "Peter"]]])
    stageB = stageB.set("name", [["assoc", ["name", "Peter"]]]);
    // (ors/get stage-b [user ormap-id] :name) — a set of values
    expect(stageB.get("name")).toEqual([[["assoc", ["name", "Peter"]]]]);
    // (connect! stage-a ...) — the delta crosses the wire
    stageA = stageA.applyDelta(decodeCbor(encodeCbor(stageB.delta)) as typeof stageA);
    stageB = stageB.clearDelta();
    expect(stageA.get("name")).toEqual(stageB.get("name"));

    // stream-into-identity!: reduce the op tuples through an eval-fn map into an atom
    const evalFn: Record<string, (old: Record<string, unknown>, args: unknown[]) => Record<string, unknown>> =
      {
        assoc: (old, [k, v]) => ({ ...old, [k as string]: v }),
        dissoc: (old, [k]) => {
          const { [k as string]: _, ...rest } = old;
          return rest;
        },
      };
    const realize = (m: ORMap<string, OpTuple[]>, identity: Record<string, unknown>) => {
      let out = identity;
      for (const [, values] of m.entries())
        for (const txs of values)
          for (const [sym, args] of txs) out = (evalFn[sym] as (typeof evalFn)["assoc"])(out, args);
      return out;
    };
    expect(realize(stageA, {}).name).toBe("Peter");

    // (ors/dissoc! stage-a [user ormap-id] :name [['dissoc :name]])
    stageA = stageA.delete("name");
    stageB = stageB.applyDelta(decodeCbor(encodeCbor(stageA.delta)) as typeof stageB);
    expect(stageB.get("name")).toEqual([]);
    expect(stageA.join(stageB).keys()).toEqual([]);
  });
});

describe("seed 001: CDVCS tweets", () => {
  test("batched transactions, a client that pulls and streams them in order, conflicts merged before more writes", () => {
    const server = { cdvcs: CDVCS.create<[string, { text: string }]>("collector") };
    const client = { cdvcs: CDVCS.create<[string, { text: string }]>("collector") };
    // store-tweets: one transact per buffer flush
    const flush = (tweets: string[]) => {
      server.cdvcs = server.cdvcs.commit(
        tweets.map((text): [string, { text: string }] => ["add-tweet", { text }]),
        "collector",
      );
    };
    flush(["gm", "ethereum up"]);
    flush(["ethereum down"]);
    // the client peer pulls: a fast-forward
    client.cdvcs = client.cdvcs.join(decodeCbor(encodeCbor(server.cdvcs)) as typeof client.cdvcs);
    expect(client.cdvcs.heads).toEqual(server.cdvcs.heads);
    // stream-into-identity!: apply the commits in history order through the eval-fn map
    const tweets: string[] = [];
    const evalFn = { "add-tweet": (t: { text: string }) => tweets.push(t.text) };
    for (const c of client.cdvcs.commits()) for (const [sym, t] of c.txs) evalFn[sym as "add-tweet"](t);
    expect(tweets).toEqual(["gm", "ethereum up", "ethereum down"]);
    expect(tweets.filter((s) => /ethereum/.test(s))).toHaveLength(2);

    // written on two replicas like git: conflicts must be resolved before writing more
    client.cdvcs = client.cdvcs.commit([["add-tweet", { text: "from the laptop" }]], "analyst");
    flush(["later"]);
    const merged = server.cdvcs.join(client.cdvcs);
    expect(merged.heads).toHaveLength(2);
    let err: CrdtError | undefined;
    try {
      merged.commit([["add-tweet", { text: "blocked" }]], "collector");
    } catch (e) {
      err = e as CrdtError;
    }
    expect(err?.code).toBe("ERR_MULTIPLE_HEADS");
    const resolved = merged.merge("collector").commit([["add-tweet", { text: "after merge" }]], "collector");
    expect(resolved.heads).toHaveLength(1);
    expect(resolved.commits().flatMap((c) => c.txs.map(([, t]) => t.text))).toHaveLength(6);
  });
});
