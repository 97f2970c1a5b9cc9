/**
 * Seed 001 end to end: a collector transacts tweets into a CDVCS in batches; an analysis peer on
 * its own LevelDB store streams them into an identity with an applied log, is restarted twice from
 * disk, and applies every tweet exactly once. A crash between an external effect and the log write
 * re-applies that one commit (the documented at-least-once case); writes returned as
 * `atomicWrites` land exactly once even then. Concurrent commits give several heads: transact is
 * refused and the stream waits until a merge.
 */
import { join } from "node:path";
import { type Context, createContext } from "spindel";
import {
  atomicWrites,
  createStage,
  type KVStore,
  levelStore,
  memoryStore,
  Peer,
  streamIntoIdentity,
} from "spindel/distributed";
import { describe, expect, it } from "vitest";
import { hub, track, until, within } from "../distributed/helpers.js";
import { tmp } from "./helpers.js";

const user = "mail:collector@example.com";
const cdvcsId = "12d49511-e733-4007-937b-460c3794fae9";
interface Tweet {
  id: number;
  text: string;
}

type AddTweet = readonly ["add-tweet", Tweet];

function batch(from: number, n: number): AddTweet[] {
  return Array.from(
    { length: n },
    (_, i) => ["add-tweet", { id: from + i, text: `tweet ${from + i}` }] as const,
  );
}

async function countKeys(store: KVStore, prefix: string): Promise<number> {
  let n = 0;
  for await (const { key } of store.keys()) if (key.startsWith(prefix)) n++;
  return n;
}

/** One run of the analysis peer: open its store from disk, connect, stream until caught up. */
async function analysisRun(
  dir: string,
  url: string,
  effects: Map<number, number>,
  opts: { crashAfterEffect?: boolean } = {},
): Promise<{ applied: number; error: unknown; store: KVStore }> {
  const ctx: Context = createContext({ name: "analysis" });
  const store = await levelStore(dir);
  let crashed = false;
  const crashing: KVStore = opts.crashAfterEffect
    ? new Proxy(store, {
        get(target, prop, receiver) {
          if (prop === "putMany" && !crashed)
            return async (entries: readonly (readonly [string, unknown])[]) => {
              if (!entries.some(([k]) => k.startsWith("analysis/tweet/"))) return target.putMany(entries);
              crashed = true;
              throw new Error("crash between apply and log write");
            };
          const v = Reflect.get(target, prop, receiver);
          return typeof v === "function" ? v.bind(target) : v;
        },
      })
    : store;
  const peer = track(new Peer({ id: "analysis", context: ctx }));
  const stage = await createStage({ peer, user, store: crashing, context: ctx });
  await stage.cdvcs(cdvcsId);
  await within(stage.connect(url), 5_000, "analysis connect");
  const stream = streamIntoIdentity(
    stage,
    [user, cdvcsId],
    {
      "add-tweet": (_identity: null, t: Tweet) => {
        effects.set(t.id, (effects.get(t.id) ?? 0) + 1); // an external effect: at least once
        return atomicWrites([[`analysis/tweet/${t.id}`, t.text]]); // committed with the log: exactly once
      },
    },
    null,
    { appliedLog: "analysis" },
  );
  let error: unknown = null;
  await stream.idle().catch((e) => {
    error = e;
  });
  const applied = ctx.get(stream.applied);
  stream.stop();
  await stage.close();
  await peer.close();
  await store.close();
  return { applied, error, store };
}

describe("seed 001: CDVCS collector and an analysis peer with an applied log", () => {
  it("every tweet is applied exactly once across two restarts from disk", async () => {
    const { peer: collectorPeer } = await hub({ id: "collector" });
    const collectorStore = await levelStore(join(await tmp(), "collector"));
    const collector = await createStage({ peer: collectorPeer, user, store: collectorStore });
    const tweets = await collector.cdvcs<AddTweet>(cdvcsId);
    const analysisDir = join(await tmp(), "analysis");
    const effects = new Map<number, number>();

    await tweets.transact(batch(0, 10));
    await tweets.transact(batch(10, 10));
    const run1 = await analysisRun(analysisDir, collectorPeer.url, effects);
    expect(run1.error).toBeNull();
    expect(run1.applied).toBe(20);

    await tweets.transact(batch(20, 10)); // while the analysis peer is down
    const run2 = await analysisRun(analysisDir, collectorPeer.url, effects);
    expect(run2.applied).toBe(10);

    await tweets.transact(batch(30, 5));
    const run3 = await analysisRun(analysisDir, collectorPeer.url, effects);
    expect(run3.applied).toBe(5);

    expect(effects.size).toBe(35);
    expect([...effects.values()].every((n) => n === 1)).toBe(true);
    const reopened = await levelStore(analysisDir);
    expect(await countKeys(reopened, "analysis/tweet/")).toBe(35);
    expect(await reopened.get("analysis/tweet/34")).toBe("tweet 34");
    await reopened.close();
    await collector.close();
    await collectorStore.close();
  });

  it("a crash between the effect and the log write re-applies that commit once (at least once), store writes stay exactly once", async () => {
    const { peer: collectorPeer } = await hub({ id: "collector" });
    const collector = await createStage({ peer: collectorPeer, user, store: memoryStore() });
    const tweets = await collector.cdvcs<AddTweet>(cdvcsId);
    await tweets.transact(batch(0, 3));
    const dir = join(await tmp(), "analysis");
    const effects = new Map<number, number>();

    const crashed = await analysisRun(dir, collectorPeer.url, effects, { crashAfterEffect: true });
    expect((crashed.error as Error).message).toMatch(/crash between apply and log write/);
    expect(crashed.applied).toBe(0);

    const after = await analysisRun(dir, collectorPeer.url, effects);
    expect(after.error).toBeNull();
    expect(after.applied).toBe(3);
    // the commit's external effects ran twice: it was re-applied after the crash
    expect([...effects.entries()]).toEqual([
      [0, 2],
      [1, 2],
      [2, 2],
    ]);
    const store = await levelStore(dir);
    expect(await countKeys(store, "analysis/tweet/")).toBe(3);
    await store.close();
    await collector.close();
  });

  it("concurrent commits give several heads: transact is refused, the stream waits, merge resolves", async () => {
    const { peer: hubPeer, ctx: hubCtx } = await hub({ id: "hub" });
    const hubStage = await createStage({ peer: hubPeer, user, store: memoryStore() });
    const onHub = await hubStage.cdvcs<AddTweet>(cdvcsId);
    await onHub.transact(batch(0, 1));

    const ctx = createContext({ name: "writer" });
    const writerPeer = track(new Peer({ id: "writer", context: ctx }));
    const writer = await createStage({ peer: writerPeer, user, store: memoryStore(), context: ctx });
    const mine = await writer.cdvcs<AddTweet>(cdvcsId);
    await mine.transact(batch(100, 1)); // concurrent with the hub's commit
    const seen: number[] = [];
    const stream = streamIntoIdentity(
      hubStage,
      [user, cdvcsId],
      { "add-tweet": (ids: number[], t: Tweet) => ids.push(t.id) },
      seen,
    );
    await stream.idle();
    expect(seen).toEqual([0]);

    await writer.connect(hubPeer.url);
    await until(hubCtx, onHub.value, (v) => v.heads.length === 2);
    expect(mine.heads.length).toBe(2);
    await expect(onHub.transact(batch(1, 1))).rejects.toMatchObject({ code: "ERR_MULTIPLE_HEADS" });
    await until(hubCtx, stream.error, (e) => (e as { code?: string } | null)?.code === "ERR_STREAM_CONFLICT");
    expect(seen).toEqual([0]);

    await mine.merge();
    await until(hubCtx, onHub.value, (v) => v.heads.length === 1);
    await within(stream.idle(), 5_000, "stream after merge");
    expect(seen.sort((a, b) => a - b)).toEqual([0, 100]);
    expect(hubCtx.get(stream.error)).toBeNull();
    await onHub.transact(batch(1, 1));
    await until(ctx, mine.value, (v) => v.size === hubCtx.get(onHub.value).size);
    stream.stop();
    await writer.close();
    await hubStage.close();
  });
});
