/**
 * The value a last-writer-wins owner starts with (real sockets, 127.0.0.1 port 0): by default it is
 * not a write, so a restarted owner relearns the value from its subscribers; with `startsWritten`
 * (an authoritative value restored from storage) a subscriber's older stamped copy arriving in its
 * resubscribe handshake does not roll it back, while a write made after it still wins; given the
 * stored stamp (`stamp`, read from `handle.stamp()`), a subscriber's write made while the owner was
 * away wins too; an owner that starts with nothing (`null`) takes the subscriber's value; an owner
 * registering its topic again keeps its unchanged value's stamp.
 */
import { createContext, signal } from "spindel";
import { compareStamps, syncSignal } from "spindel/distributed";
import { describe, expect, test } from "vitest";
import { GSet } from "../../../src/distributed/crdt/gset.js";
import { client, hub, until } from "../helpers.js";

async function setup() {
  const h = await hub();
  const ctxB = createContext({ name: "b" });
  const b = await client(h.peer.url, { id: "b", context: ctxB });
  const doc = signal<string | null>(null, { name: "doc" });
  const owner = syncSignal(h.peer, "doc", doc, { owner: true });
  h.ctx.set(doc, "v1");
  const sb = syncSignal(b, "doc", doc);
  await sb.ready;
  await until(ctxB, doc, (v) => v === "v1");
  return { h, ctxB, doc, owner, sb };
}

describe("the value an LWW owner starts with", () => {
  test("by default a restarted owner's starting value is not a write: it takes the subscriber's", async () => {
    const { h, ctxB, doc, owner, sb } = await setup();
    owner.close();
    await until(ctxB, sb.lastError, (e) => e?.code === "ERR_NO_TOPIC");
    // a fresh process whose signal starts from a default, not from storage
    const fresh = signal<string | null>("default", { name: "fresh" });
    const again = syncSignal(h.peer, "doc", fresh, { owner: true });
    expect(again.stamp()).toBeNull();
    await until(h.ctx, fresh, (v) => v === "v1");
    expect(ctxB.get(doc)).toBe("v1");
  });

  test("startsWritten, from a stored value: a subscriber's older copy does not replace it; a later write does", async () => {
    const { h, ctxB, doc, owner, sb } = await setup();
    const v1At = owner.stamp()![0];
    owner.close();
    await until(ctxB, sb.lastError, (e) => e?.code === "ERR_NO_TOPIC");
    // a value declared written counts as written the millisecond before the owner starts: an owner
    // restarted within a millisecond of v1's write would tie with v1's stamp (case 3 cannot know
    // when the value was written), so the restart waits for the wall clock to move past it
    await new Promise<void>((resolve) => {
      const tick = () => (Date.now() > v1At + 1 ? resolve() : setImmediate(tick));
      tick();
    });
    // the owner starts again (a fresh signal: a restarted process) from the value it stored
    const restored = signal<string | null>("v2", { name: "restored" });
    const again = syncSignal(h.peer, "doc", restored, { owner: true, startsWritten: true });
    expect(again.stamp()).not.toBeNull();
    await until(ctxB, doc, (v) => v === "v2");
    await until(ctxB, sb.caughtUp, (c) => c);
    expect(h.ctx.get(restored)).toBe("v2");
    ctxB.set(doc, "b's edit");
    await until(h.ctx, restored, (v) => v === "b's edit");

    // an owner that starts with nothing takes the subscriber's value (it relearns it)
    again.close();
    await until(ctxB, sb.lastError, (e) => e?.code === "ERR_NO_TOPIC");
    const empty = signal<string | null>(null, { name: "empty" });
    const third = syncSignal(h.peer, "doc", empty, { owner: true, startsWritten: true });
    expect(third.stamp()).toBeNull();
    await until(h.ctx, empty, (v) => v === "b's edit");
  });

  test("given the stored stamp, a subscriber's write made while the owner was away wins; an older one does not", async () => {
    const { h, ctxB, doc, owner, sb } = await setup();
    const stored = { v: h.ctx.get(doc), t: owner.stamp() };
    expect(stored.t).not.toBeNull();
    expect(sb.stamp()).toEqual(stored.t);
    owner.close();
    await until(ctxB, sb.lastError, (e) => e?.code === "ERR_NO_TOPIC");
    ctxB.set(doc, "b's edit while away");
    const restored = signal<string | null>(stored.v, { name: "restored" });
    const again = syncSignal(h.peer, "doc", restored, { owner: true, stamp: stored.t ?? undefined });
    expect(again.stamp()).toEqual(stored.t);
    await until(h.ctx, restored, (v) => v === "b's edit while away");
    expect(again.stamp()).toEqual(sb.stamp());
  });

  test("the same signal registered again keeps its value's stamp; a value changed meanwhile is newer", async () => {
    const { h, ctxB, doc, owner, sb } = await setup();
    const t1 = owner.stamp();
    owner.close();
    const again = syncSignal(h.peer, "doc", doc, { owner: true });
    expect(again.stamp()).toEqual(t1);
    again.close();
    h.ctx.set(doc, "v2");
    const third = syncSignal(h.peer, "doc", doc, { owner: true });
    const t3 = third.stamp();
    expect(t3).not.toBeNull();
    expect(compareStamps(t3, t1)).toBe(1);
    await until(ctxB, doc, (v) => v === "v2");
    expect(sb.stamp()).toEqual(t3);
  });

  test("`startsWritten` on a subscriber or a Convergent signal, or not a boolean, is refused with ERR_INVALID_ARGUMENT", async () => {
    const h = await hub();
    const ctxB = createContext({ name: "b" });
    const b = await client(h.peer.url, { id: "b", context: ctxB });
    const cases: Array<() => unknown> = [
      () => syncSignal(b, "doc", signal("a"), { startsWritten: true }),
      () => syncSignal(h.peer, "set", signal(GSet.empty<string>()), { owner: true, startsWritten: true }),
      () =>
        syncSignal(h.peer, "doc", signal("a"), { owner: true, startsWritten: "yes" as unknown as boolean }),
    ];
    for (const make of cases) expect(make).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }));
  });

  test("a `stamp` that is not one, or on a Convergent signal, is refused with ERR_INVALID_ARGUMENT", async () => {
    const h = await hub();
    const bad = [["x", 0, "a"], [1, -1, "a"], [1, 2], "t"] as unknown as Array<[number, number, string]>;
    for (const stamp of bad)
      expect(() => syncSignal(h.peer, "doc", signal("a"), { owner: true, stamp })).toThrow(
        expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }),
      );
    expect(() =>
      syncSignal(h.peer, "set", signal(GSet.empty<string>()), { owner: true, stamp: [1, 0, "hub"] }),
    ).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }));
  });
});
