/** The pure steps of store replication: state chunks, parsing, the differential rule, item checks. */
import { describe, expect, it } from "vitest";
import type { KeyInfo } from "../../../src/distributed/store/kv.js";
import {
  ClientState,
  decide,
  itemToOp,
  orderKeys,
  parseClientState,
  parseStateMessage,
  putItem,
  type StateMessage,
  stateChunks,
} from "../../../src/distributed/store/replication.js";

async function* keysOf(n: number, len = 8): AsyncIterable<KeyInfo> {
  for (let i = 0; i < n; i++) yield { key: `k${i}`.padEnd(len, "x"), lastWrite: i, immutable: false };
}

async function collect(it: AsyncIterable<StateMessage>): Promise<StateMessage[]> {
  const out: StateMessage[] = [];
  for await (const m of it) out.push(m);
  return out;
}

describe("store replication protocol", () => {
  it("the state goes in chunks bounded in keys and bytes, then an END with the count", async () => {
    const byKeys = await collect(stateChunks(3, keysOf(2500), 1000, 1 << 20));
    expect(byKeys.map((m) => (m[0] === 0 ? m[2].length / 2 : `end ${m[2]}`))).toEqual([
      1000,
      1000,
      500,
      "end 2500",
    ]);
    const byBytes = await collect(stateChunks(3, keysOf(100, 1000), 1000, 64 * 1024));
    for (const m of byBytes.slice(0, -1)) expect(m[0] === 0 && m[2].length / 2).toBeLessThanOrEqual(22);
    const cs = new ClientState(3);
    const done = byKeys.map((m) => cs.add(m));
    expect(done).toEqual([false, false, false, true]);
    expect(cs.keys.size).toBe(2500);
    expect(new ClientState(4).add(byKeys[0]!)).toBe(false); // another handshake's chunk is ignored
  });

  it("an END whose count does not match what arrived is a protocol error", () => {
    const cs = new ClientState(1);
    cs.add([0, 1, ["a", 1]]);
    expect(() => cs.add([1, 1, 2])).toThrow(expect.objectContaining({ code: "ERR_PROTOCOL" }));
  });

  it("malformed client states and state messages are refused with ERR_PROTOCOL", () => {
    expect(parseClientState([1, 7])).toBe(7);
    for (const bad of [null, [2, 1], [1, "x"], [1]])
      expect(() => parseClientState(bad)).toThrow(/client state/);
    expect(parseStateMessage([0, 1, ["a", 1]])).toEqual([0, 1, ["a", 1]]);
    for (const bad of [[0, 1, ["a"]], [0, 1, [1, "a"]], [1, 1, -1], [5, 1, []], "x"])
      expect(() => parseStateMessage(bad)).toThrow(expect.objectContaining({ code: "ERR_PROTOCOL" }));
  });

  it("decide: missing or newer values travel, immutable keys the replica has never do, unseen deletions do", () => {
    const client = new Map([
      ["same", 5],
      ["old", 1],
      ["imm", 1],
      ["gone", 3],
      ["gone-later", 9],
    ]);
    const k = (key: string, lastWrite: number, immutable = false, deleted = false): KeyInfo =>
      deleted ? { key, lastWrite, immutable, deleted } : { key, lastWrite, immutable };
    expect(decide(k("same", 5), client)).toBeNull();
    expect(decide(k("old", 2), client)).toEqual({ key: "old" });
    expect(decide(k("imm", 99, true), client)).toBeNull();
    expect(decide(k("new", 1), client)).toEqual({ key: "new" });
    expect(decide(k("gone", 4, false, true), client)).toEqual({ key: "gone", del: 4 });
    expect(decide(k("gone-later", 4, false, true), client)).toBeNull();
    expect(decide(k("never-had", 4, false, true), client)).toBeNull();
  });

  it("orderKeys is a stable sort by rank", () => {
    const items = ["p1", "a", "p2", "b"].map((key) => ({ key }));
    expect(orderKeys(items, (k) => (k.startsWith("p") ? 1 : 0)).map((x) => x.key)).toEqual([
      "a",
      "b",
      "p1",
      "p2",
    ]);
  });

  it("itemToOp checks shape and limits", () => {
    const limits = { maxKeyBytes: 10, maxValueBytes: 4 };
    expect(itemToOp(putItem("k", 1, true, new Uint8Array([1])), limits)).toMatchObject({
      op: "put",
      key: "k",
      immutable: true,
      ifNewer: true,
    });
    expect(itemToOp([1, "k", 2], limits)).toEqual({ op: "delete", key: "k", lastWrite: 2, ifNewer: true });
    expect(() => itemToOp(putItem("k", 1, false, new Uint8Array(5)), limits)).toThrow(
      expect.objectContaining({ code: "ERR_LIMIT" }),
    );
    expect(() => itemToOp([1, "é".repeat(6), 2], limits)).toThrow(
      expect.objectContaining({ code: "ERR_LIMIT" }),
    );
    for (const bad of [[0, "k", 1, 0, "notbytes"], [0, "", 1, 0, new Uint8Array()], [1, "k", "t"], [7], "x"])
      expect(() => itemToOp(bad, limits)).toThrow(expect.objectContaining({ code: "ERR_PROTOCOL" }));
  });
});
