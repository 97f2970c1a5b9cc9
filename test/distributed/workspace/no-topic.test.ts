/**
 * A follower's content subscriptions recover from `ERR_NO_TOPIC` as its descriptor does: the hub
 * closes the workspace and hosts it again, and every topic the follow subscribes to retries with
 * the follow's `noTopicRetry` backoff on the workspace peer's clock (virtual here), then re-joins.
 * On the small in-memory host of the sync tests.
 */
import { type Context, createContext, signal } from "spindel";
import { describe, expect, test } from "vitest";
import type { TopicError } from "../../../src/distributed/sync/errors.js";
import type { NoTopicRetryOptions } from "../../../src/distributed/sync/strategy.js";
import { Topics } from "../../../src/distributed/sync/topics.js";
import type { WorkspaceDescriptor } from "../../../src/distributed/workspace/descriptor.js";
import { followWorkspace, hostWorkspace } from "../../../src/distributed/workspace/follow.js";
import { LeaseTable } from "../../../src/distributed/workspace/lease.js";
import { createWorkspacePeer } from "../../../src/distributed/workspace/peer.js";
import { type ObservableStore, observable } from "../../../src/distributed/workspace/replicate.js";
import { openStoredMap, type StoredMap } from "../../../src/distributed/workspace/stored-map.js";
import { until } from "../helpers.js";
import { SimNet } from "../sync/sim.js";
import { MemStore } from "./mem-store.js";

/** Polls `check` between macrotasks (the simulated links deliver on immediates) within `ms` of real time. */
async function settled(check: () => boolean, what: string, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

/** A hub hosting a one-system workspace (`w/desc`, content on `w/doc`) and a follower `c1` of it. */
async function room(noTopicRetry?: boolean | NoTopicRetryOptions) {
  const net = new SimNet();
  const hub = net.host("hub");
  const c1 = net.host("c1");
  net.connect(c1, hub);
  // the hub on a real clock: the follower's virtual clock holds only the follower's timers
  const hubCtx = createContext({ name: "hub" });
  const hubStore = observable(new MemStore());
  const map = await openStoredMap(hubStore, { id: "doc" });
  await map.set("v", 1);
  const pin = async (): Promise<WorkspaceDescriptor> => ({
    branch: "main",
    owner: "hub",
    descriptorTopic: "w/desc",
    systems: { doc: { branch: "main", head: (await map.head("main")) as string, topic: "w/doc" } },
  });
  const descriptor = signal<WorkspaceDescriptor | null>(await pin(), { name: "w descriptor" });
  const leases = new LeaseTable({ hub: "hub" });
  const host = () =>
    hostWorkspace(hub, {
      descriptorTopic: "w/desc",
      descriptor,
      context: hubCtx,
      stores: { doc: hubStore },
      leases,
    });
  const hosted = { current: host() };

  const ctx: Context = createContext({ name: "c1", clock: "virtual" });
  const store = observable(new MemStore());
  const reader = await openStoredMap(store as ObservableStore, { id: "doc", create: false });
  const wp = createWorkspacePeer<Record<string, unknown>>({
    self: "c1",
    context: ctx,
    resolveSystem: async (_s, _b, head) => (await (reader as StoredMap).asOf(head)).toObject(),
  });
  /** every ERR_NO_TOPIC the follower is told, with its topic and the follower's virtual time */
  const refusals: Array<{ topic: string | null; at: number; where: string }> = [];
  const follow = followWorkspace(wp, c1, "w/desc", {
    stores: { doc: store },
    ...(noTopicRetry === undefined ? {} : { noTopicRetry }),
    onError: (e, where) => {
      const err = e as TopicError;
      if (err.code === "ERR_NO_TOPIC") refusals.push({ topic: err.topic, at: ctx.now(), where });
    },
  });
  const seatedAt = (v: number) => until(ctx, wp.workspace, (s) => s?.doc?.v === v, 5_000);
  /** the hub closes the workspace (every subscriber is told ERR_NO_TOPIC) */
  const close = () => hosted.current.close();
  /** the hub commits `v`, pins it and hosts the workspace again */
  const rehost = async (v: number) => {
    await map.set("v", v);
    hubCtx.set(descriptor, await pin());
    hosted.current = host();
  };
  const of = (topic: string) => refusals.filter((r) => r.topic === topic);
  return { net, hub, c1, ctx, wp, follow, refusals, of, seatedAt, close, rehost };
}

describe("workspace follow: ERR_NO_TOPIC is transient for content topics too (virtual time)", () => {
  test("the hub hosts the workspace again: the content subscription retries with the follow's backoff on the workspace peer's clock and re-joins; the new head is seated", async () => {
    const r = await room({ initialDelayMs: 100, maxDelayMs: 400, jitter: 0 });
    await r.follow.ready;
    await r.seatedAt(1);
    expect(r.follow.wired).toEqual({ doc: "subscriber" });

    r.close();
    await settled(() => r.of("w/doc").length === 1 && r.of("w/desc").length === 1, "both refusals");
    expect(r.of("w/doc")[0]?.where).toMatch(/subscribing again in 100 ms/);
    // two timers on the workspace peer's clock: the descriptor's retry and the content's
    expect(r.ctx.clock.pending).toBe(2);
    // the hub stays away for two more retries: the content's delays double, as the descriptor's
    r.ctx.advanceTime(100);
    await settled(() => r.of("w/doc").length === 2 && r.of("w/desc").length === 2, "second refusals");
    r.ctx.advanceTime(200);
    await settled(() => r.of("w/doc").length === 3 && r.of("w/desc").length === 3, "third refusals");
    expect(r.of("w/doc").map((x) => x.at)).toEqual([0, 100, 300]);
    expect(r.of("w/desc").map((x) => x.at)).toEqual([0, 100, 300]);

    // back: the next retries join; the content of v2 arrives and the gate seats it
    await r.rehost(2);
    r.ctx.advanceTime(400);
    const seat = await r.seatedAt(2);
    expect(seat?.doc).toEqual({ v: 2 });
    // both handshakes complete (their stall timers go): nothing is left to retry
    await settled(() => r.ctx.clock.pending === 0, "no timers left");
    expect(r.of("w/doc")).toHaveLength(3);
    r.follow.close();
  });

  test("by default (noTopicRetry unset) content retries too: it re-joins after the default first delay", async () => {
    const r = await room();
    await r.seatedAt(1);
    r.close();
    await settled(() => r.of("w/doc").length === 1, "the content's refusal");
    await r.rehost(2);
    r.ctx.advanceTime(100); // the default first delay, at most
    await r.seatedAt(2);
    r.follow.close();
  });

  test("noTopicRetry: false makes the content's refusal final, as before: no timer, no re-join", async () => {
    const r = await room(false);
    await r.seatedAt(1);
    r.close();
    await settled(() => r.of("w/doc").length === 1 && r.of("w/desc").length === 1, "both refusals");
    expect(r.of("w/doc")[0]?.where).toMatch(/refused/);
    expect(r.ctx.clock.pending).toBe(0);
    await r.rehost(2);
    r.ctx.advanceTime(60_000);
    await settled(() => r.net.inFlight === 0, "a quiet network");
    expect(r.of("w/doc")).toHaveLength(1);
    expect(r.ctx.get(r.wp.workspace)?.doc).toEqual({ v: 1 });
    r.follow.close();
  });

  test("close() during a retry cancels the timers", async () => {
    const r = await room({ initialDelayMs: 100, jitter: 0 });
    await r.seatedAt(1);
    r.close();
    await settled(() => r.of("w/doc").length === 1 && r.of("w/desc").length === 1, "both refusals");
    expect(r.ctx.clock.pending).toBe(2);
    r.follow.close();
    expect(r.ctx.clock.pending).toBe(0);
    expect(Topics.of(r.c1).has("w/doc")).toBe(false);
  });

  test("a bad noTopicRetry is refused with ERR_INVALID_ARGUMENT before anything is subscribed", async () => {
    const net = new SimNet();
    const c1 = net.host("c1");
    const ctx = createContext();
    const wp = createWorkspacePeer({ context: ctx, resolveSystem: () => null });
    for (const bad of [{ factor: 0.5 }, { initialDelayMs: -1 }, "yes"] as unknown as NoTopicRetryOptions[])
      expect(() => followWorkspace(wp, c1, "w/desc", { noTopicRetry: bad })).toThrow(
        expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }),
      );
    expect(Topics.of(c1).has("w/desc")).toBe(false);
  });
});
