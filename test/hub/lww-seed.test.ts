/**
 * A last-writer-wins topic the hub has never had, created by a subscriber whose starting value was
 * never written: the hub has no value of its own (its `null` is not one), so it takes the joiner's
 * as the topic's starting value, ordered below every write (stamp `[0, 0, joiner]`). Before, the
 * hub answered with its `null`, which the joiner took in place of its own value.
 */
import { createContext, signal } from "spindel";
import { Peer, subscribeSignal, syncSignal } from "spindel/distributed";
import { describe, expect, it } from "vitest";
import { startHub } from "../../src/distributed/hub/hub.js";
import { eventually, until, within } from "../distributed/helpers.js";
import { perTest, sharedRedis } from "./fixtures.js";

const redis = sharedRedis();
const { cleanup, tmp } = perTest("spindel-lww-seed-");

async function peer(id: string, url: string) {
  const ctx = createContext({ name: id });
  const p = await Peer.connect({ id, url, context: ctx });
  cleanup.push(() => p.close());
  return { ctx, peer: p };
}

function sync<T>(p: { ctx: ReturnType<typeof createContext>; peer: Peer }, topic: string, start: T) {
  const sig = signal<T>(start);
  const s = syncSignal(p.peer, topic, sig);
  cleanup.push(() => s.close());
  return { sig, s };
}

/** A read-only mirror of `topic` on `p`, ready (its signal starts at `null`). */
async function mirror(p: { ctx: ReturnType<typeof createContext>; peer: Peer }, topic: string) {
  const sig = signal<string | null>(null);
  const m = subscribeSignal(p.peer, topic, sig);
  cleanup.push(() => m.close());
  await within(m.ready, 5_000, `${p.peer.id}'s mirror ready`);
  return sig;
}

describe("an LWW topic started on the hub by a joiner with an unwritten value", () => {
  it("keeps the joiner's value; later joiners take it; any write beats it", async () => {
    const server = await startHub({ port: 0, store: tmp() });
    cleanup.push(() => server.close());
    const alice = await peer("alice", server.url);
    const a = sync(alice, "title", "untitled draft");
    await within(a.s.ready, 5_000, "alice's ready");
    expect(alice.ctx.get(a.sig)).toBe("untitled draft");
    expect(a.s.stamp()).toEqual([0, 0, "alice"]);

    // a later joiner with its own unwritten value takes the topic's (the owner's wins between two
    // unwritten values), and so does a read-only mirror
    const bob = await peer("bob", server.url);
    const b = sync(bob, "title", "something else");
    await within(b.s.ready, 5_000, "bob's ready");
    expect(bob.ctx.get(b.sig)).toBe("untitled draft");
    const carol = await peer("carol", server.url);
    const c = await mirror(carol, "title");
    expect(carol.ctx.get(c)).toBe("untitled draft");

    // a write wins everywhere
    bob.ctx.set(b.sig, "final");
    await until(alice.ctx, a.sig, (v) => v === "final");
    await until(carol.ctx, c, (v) => v === "final");
  });

  it("survives a restart of the hub (journaled)", async () => {
    const dir = tmp();
    const first = await startHub({ port: 0, store: dir });
    const alice = await peer("alice", first.url);
    const a = sync(alice, "title", "kept");
    await within(a.s.ready, 5_000, "alice's ready");
    a.s.close();
    await alice.peer.close();
    await first.close();

    const again = await startHub({ port: 0, store: dir });
    cleanup.push(() => again.close());
    const dave = await peer("dave", again.url);
    const d = await mirror(dave, "title");
    expect(dave.ctx.get(d)).toBe("kept");
  });

  it("a null starting value creates nothing to keep: the first write sets the topic", async () => {
    const server = await startHub({ port: 0, store: tmp() });
    cleanup.push(() => server.close());
    const alice = await peer("alice", server.url);
    const a = sync<string | null>(alice, "title", null);
    await within(a.s.ready, 5_000, "alice's ready");
    expect(a.s.stamp()).toBe(null);
    const bob = await peer("bob", server.url);
    const b = sync<string | null>(bob, "title", "bob's default");
    await within(b.s.ready, 5_000, "bob's ready");
    // the topic had no value: bob's unwritten one is not replaced by a null
    expect(bob.ctx.get(b.sig)).toBe("bob's default");
    alice.ctx.set(a.sig, "written");
    await until(bob.ctx, b.sig, (v) => v === "written");
  });

  it("two hubs on Redis, each started by a different unwritten value, converge on one", async () => {
    const h1 = await startHub({ id: "h1", port: 0, store: tmp(), redis: redis().url });
    cleanup.push(() => h1.close());
    const h2 = await startHub({ id: "h2", port: 0, store: tmp(), redis: redis().url });
    cleanup.push(() => h2.close());
    const x = await peer("xavier", h1.url);
    const y = await peer("yvonne", h2.url);
    const sx = sync(x, "scaled-title", "from xavier");
    const sy = sync(y, "scaled-title", "from yvonne");
    await within(Promise.all([sx.s.ready, sy.s.ready]), 5_000, "both ready");
    await eventually(() => x.ctx.get(sx.sig) === y.ctx.get(sy.sig), "both peers read the same value", 10_000);
    // one of the two starting values (the greater joiner id's when each hub took its own), never
    // a hub's placeholder
    expect(["from xavier", "from yvonne"]).toContain(x.ctx.get(sx.sig));
    // the two starting values were unwritten: a write made now wins on both hubs
    x.ctx.set(sx.sig, "written");
    await until(y.ctx, sy.sig, (v) => v === "written", 10_000);
  });
});
