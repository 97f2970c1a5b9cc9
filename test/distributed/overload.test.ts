/**
 * Bounding real work (adversarial review): a call keeps its slot until its body has finished,
 * even when it was cancelled and the body ignores its abort signal; and per-peer totals over all
 * links bound calls in flight and send buffers. Real sockets, raw clients.
 */
import type { Socket } from "node:net";
import { createContext, type SpinScope } from "spindel";
import { describe, expect, test } from "vitest";
import { defineRemote, eventually, gate, hub, RawClient } from "./helpers.js";

let release = gate<void>();
let started = 0;
let finished = 0;
/** A body that ignores `$.signal`: cancelling the call does not stop it. */
const stubborn = defineRemote(
  [],
  () => async (_$: SpinScope) => {
    started++;
    await release.promise;
    finished++;
    return "done";
  },
  "overload-stubborn",
);
const blob = defineRemote(["n"], (n: number) => () => "z".repeat(n), "overload-blob");
const hold = gate<void>();
const holding = defineRemote([], () => async ($: SpinScope) => $.await(hold.promise), "overload-holding");

describe("a call holds its slot until its body finished", () => {
  test("invoke+cancel pairs to a body that ignores its abort signal are bounded by maxInflightCalls", async () => {
    release = gate<void>();
    started = 0;
    finished = 0;
    const { peer: h } = await hub({ limits: { maxInflightCalls: 50 } });
    const raw = await RawClient.open(h.url);
    await raw.hello("flood");
    const n0 = raw.frames.length;
    for (let id = 1; id <= 200; id++) {
      raw.send({ type: "invoke", id, fn: stubborn.id, args: [], hash: stubborn.hash });
      raw.send({ type: "cancel", id });
    }
    await raw.next(n0 + 199);
    const answers = raw.frames.slice(n0) as { code?: string }[];
    expect(answers.filter((f) => f.code === "ERR_CANCELLED").length).toBe(50);
    expect(answers.filter((f) => f.code === "ERR_UNAVAILABLE").length).toBe(150);
    expect(started).toBe(50);
    expect(h.inflightCalls).toBe(50); // answered (cancelled), but the bodies still run
    release.resolve();
    await eventually(() => h.inflightCalls === 0, "the slots come back once the bodies finish");
    expect(finished).toBe(50);
    const n1 = raw.frames.length;
    raw.send({ type: "invoke", id: 500, fn: blob.id, args: [3], hash: blob.hash });
    expect(await raw.next(n1)).toMatchObject({ type: "result", id: 500, value: "zzz" });
    await raw.close();
  });
});

describe("totals over all links", () => {
  test("maxInflightCallsTotal bounds calls in flight across links", async () => {
    const { peer: h } = await hub({ limits: { maxInflightCallsTotal: 3 } });
    const a = await RawClient.open(h.url);
    await a.hello("a");
    const b = await RawClient.open(h.url);
    await b.hello("b");
    a.send({ type: "invoke", id: 1, fn: holding.id, args: [], hash: holding.hash });
    a.send({ type: "invoke", id: 2, fn: holding.id, args: [], hash: holding.hash });
    b.send({ type: "invoke", id: 1, fn: holding.id, args: [], hash: holding.hash });
    await eventually(() => h.inflightCalls === 3, "three calls running");
    const nb = b.frames.length;
    b.send({ type: "invoke", id: 2, fn: holding.id, args: [], hash: holding.hash });
    const refused = await b.next(nb);
    expect(refused).toMatchObject({ type: "error", id: 2, code: "ERR_UNAVAILABLE" });
    expect(refused.message).toContain("maxInflightCallsTotal 3");
    hold.resolve();
    await eventually(() => h.inflightCalls === 0, "all finished");
    await a.close();
    await b.close();
  });

  test("maxBufferedBytesTotal closes a link whose reader stalls once all links together hold too much", async () => {
    const reports: string[] = [];
    const { peer: h } = await hub({
      limits: { maxBufferedBytesTotal: 2 * 1024 * 1024 },
      onError: (e) => reports.push(String((e as Error).message)),
      context: createContext(),
    });
    const slow = [await RawClient.open(h.url), await RawClient.open(h.url)];
    await slow[0]!.hello("slow0");
    await slow[1]!.hello("slow1");
    for (const r of slow) (r.ws as unknown as { _socket: Socket })._socket.pause();
    for (let id = 1; id <= 40; id++)
      for (const r of slow) r.send({ type: "invoke", id, fn: blob.id, args: [500_000], hash: blob.hash });
    await eventually(
      () => !h.isConnected("slow0") || !h.isConnected("slow1"),
      "a link over the total is closed",
      10_000,
    );
    for (const r of slow) (r.ws as unknown as { _socket: Socket })._socket.resume();
    const closed = await Promise.race(slow.map((r) => r.whenClosed(10_000)));
    expect(closed.code).toBe(1008);
    expect(closed.reason).toContain("maxBufferedBytesTotal");
    for (const r of slow) await r.close();
  });
});
