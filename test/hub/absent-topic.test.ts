import { createContext, type Signal, signal } from "spindel";
import { GSet } from "spindel/crdt";
import { Peer, subscribeSignal, syncSignal } from "spindel/distributed";
import { describe, expect, it, vi } from "vitest";
import { startHub } from "../../src/distributed/hub/hub.js";
import { HubJournal } from "../../src/distributed/hub/journal.js";
import { RedisStreamBus } from "../../src/distributed/hub/redis-bus.js";
import { eventually, until, within } from "../distributed/helpers.js";
import { perTest, sharedRedis } from "./fixtures.js";

const redis = sharedRedis();
const { cleanup, tmp } = perTest("spindel-absent-", () => {
  vi.restoreAllMocks();
});

async function peer(id: string, url: string) {
  const ctx = createContext({ name: id });
  const p = await Peer.connect({ id, url, context: ctx });
  cleanup.push(() => p.close());
  return { ctx, peer: p };
}

/** A mirror retrying fast; `refusals()` counts its `ERR_NO_TOPIC`s. */
function mirror<T>(p: Peer, topic: string, sig: Signal<T>) {
  let refused = 0;
  const m = subscribeSignal(p, topic, sig, {
    noTopicRetry: { initialDelayMs: 5, maxDelayMs: 10 },
    onError: (e) => {
      if ((e as { code?: string }).code === "ERR_NO_TOPIC") refused++;
    },
  });
  cleanup.push(() => m.close());
  return { m, refusals: () => refused };
}

/** Calls of a spied method whose first argument is `topic`. */
const callsFor = (spy: { mock: { calls: unknown[][] } }, topic: string) =>
  spy.mock.calls.filter((c) => c[0] === topic).length;

describe("a mirror of a topic the hub has never had", () => {
  it("is refused without opening anything; its retries read the journal once; nothing is written", async () => {
    const dir = tmp();
    const load = vi.spyOn(HubJournal.prototype, "load");
    const server = await startHub({ port: 0, store: dir });
    cleanup.push(() => server.close());
    const reader = await peer("reader", server.url);
    const tags = mirror(reader.peer, "tags", signal(GSet.empty<string>()));
    const title = mirror(reader.peer, "title", signal<string | null>("untitled"));
    await eventually(() => tags.refusals() >= 5 && title.refusals() >= 5, "five refusals each");
    expect(callsFor(load, "tags")).toBe(1);
    expect(callsFor(load, "title")).toBe(1);
    expect(server.metrics().topics).toBe(0);
    // the LWW mirror kept its own value: nothing came from a topic nobody wrote
    expect(reader.ctx.get(title.m.caughtUp)).toBe(false);

    // a writer opens "tags": the waiting mirror joins
    const writer = await peer("writer", server.url);
    const g = signal(GSet.empty<string>());
    writer.ctx.set(g, GSet.of(["first"]));
    await within(syncSignal(writer.peer, "tags", g).ready, 5_000, "the writer's ready");
    await within(tags.m.ready, 5_000, "the mirror's ready");
    expect(server.metrics().topics).toBe(1);
    await server.close();
    // on disk: the topic written, not the one only mirrored
    const journal = await HubJournal.open(dir);
    cleanup.push(() => journal.close());
    expect(await journal.topics()).toEqual(["tags"]);
  });

  it("with Redis: the stream is read at most once per recheck, and a topic another hub created is found", async () => {
    const readAfter = vi.spyOn(RedisStreamBus.prototype, "readAfter");
    const a = await startHub({ id: "a", port: 0, store: tmp(), redis: redis().url });
    cleanup.push(() => a.close());
    const b = await startHub({ id: "b", port: 0, store: tmp(), redis: redis().url });
    cleanup.push(() => b.close());
    const reader = await peer("reader", b.url);
    const sig = signal(GSet.empty<string>());
    const started = performance.now();
    const tags = mirror(reader.peer, "scaled", sig);
    await eventually(() => tags.refusals() >= 5, "five refusals");
    // one read of the stream per recheck interval (2 s) however often the mirror retries: the five
    // retries take well under one interval, so one read
    const intervals = Math.floor((performance.now() - started) / 2_000);
    expect(callsFor(readAfter, "scaled")).toBeLessThanOrEqual(1 + intervals);
    expect(tags.refusals()).toBeGreaterThan(1 + intervals);
    expect(b.metrics().topics).toBe(0);

    // hub a gets the topic from a writer: the mirror on hub b finds it through the stream
    const writer = await peer("writer", a.url);
    const g = signal(GSet.empty<string>());
    writer.ctx.set(g, GSet.of(["from-a"]));
    await within(syncSignal(writer.peer, "scaled", g).ready, 5_000, "the writer's ready");
    await within(tags.m.ready, 10_000, "the mirror's ready");
    await until(reader.ctx, sig, (s) => s.has("from-a"));
  });

  it("absentRecheckMs: 0 reads the stream on every subscribe; a bad value is refused", async () => {
    const readAfter = vi.spyOn(RedisStreamBus.prototype, "readAfter");
    const b = await startHub({ id: "b0", port: 0, store: tmp(), redis: redis().url, absentRecheckMs: 0 });
    cleanup.push(() => b.close());
    const reader = await peer("reader", b.url);
    const tags = mirror(reader.peer, "eager", signal(GSet.empty<string>()));
    await eventually(() => tags.refusals() >= 5, "five refusals");
    // every refused subscribe read the stream (the first also opened nothing from the journal)
    expect(callsFor(readAfter, "eager")).toBeGreaterThanOrEqual(5);
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY, "2000" as unknown as number])
      await expect(startHub({ port: 0, store: tmp(), absentRecheckMs: bad })).rejects.toMatchObject({
        code: "ERR_INVALID_ARGUMENT",
      });
  });
});
