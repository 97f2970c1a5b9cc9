import { createContext } from "spindel";
import { describe, expect, it } from "vitest";
import type { WorkspaceDescriptor } from "../../../src/distributed/workspace/descriptor.js";
import { isWorkspaceError } from "../../../src/distributed/workspace/errors.js";
import { createWorkspacePeer } from "../../../src/distributed/workspace/peer.js";

const desc = (a: string, b: string, owner?: string): WorkspaceDescriptor => ({
  branch: "main",
  ...(owner === undefined ? {} : { owner }),
  systems: { a: { branch: "main", head: a }, b: { branch: "main", head: b } },
});

/** A deferred a test resolves by hand (an async resolver whose await the test controls). */
function gateOf<T>(): { promise: Promise<T>; resolve(v: T): void; reject(e: unknown): void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A workspace peer whose resolver waits on a gate per call; `pending` lists the open calls. */
function gatedPeer() {
  const ctx = createContext();
  const pending: Array<{ id: string; head: string; g: ReturnType<typeof gateOf<string>> }> = [];
  const wp = createWorkspacePeer<string>({
    context: ctx,
    resolveSystem: (id, _b, head) => {
      const g = gateOf<string>();
      pending.push({ id, head, g });
      return g.promise;
    },
  });
  return { ctx, wp, pending };
}

describe("workspace peer (synchronous resolvers)", () => {
  it("seats only when every pinned head is local; the default compose is the map of systems", () => {
    const ctx = createContext();
    const seen: unknown[] = [];
    const wp = createWorkspacePeer<string>({
      context: ctx,
      resolveSystem: (id, branch, head) => `${id}@${branch}:${head}`,
      onReseat: (ws) => seen.push(ws),
    });
    expect(wp.setDescriptor(desc("a1", "b1")).reseated).toBe(false);
    expect(wp.applyHeadUpdate("a", "main", "a1").reseated).toBe(false);
    expect(ctx.get(wp.workspace)).toBeNull();
    const r = wp.applyHeadUpdate("b", "main", "b1");
    expect(r.reseated).toBe(true);
    expect(r.ready).toBe(true);
    expect(ctx.get(wp.workspace)).toEqual({ a: "a@main:a1", b: "b@main:b1" });
    expect(seen).toHaveLength(1);
    expect(wp.reseats).toBe(1);
  });

  it("a head that re-fires after the seat causes no re-seat", () => {
    const ctx = createContext();
    let resolves = 0;
    const wp = createWorkspacePeer({
      context: ctx,
      resolveSystem: (id) => {
        resolves++;
        return id;
      },
    });
    wp.setDescriptor(desc("a1", "b1"));
    wp.applyHeadUpdate("a", "main", "a1");
    wp.applyHeadUpdate("b", "main", "b1");
    expect(wp.reseats).toBe(1);
    expect(wp.applyHeadUpdate("a", "main", "a1").reseated).toBe(false);
    expect(wp.applyHeadUpdate("b", "main", "b1").reseated).toBe(false);
    expect(wp.setDescriptor(desc("a1", "b1")).reseated).toBe(false);
    expect(wp.reseats).toBe(1);
    expect(resolves).toBe(2);
  });

  it("a new descriptor re-seats once its heads arrive; until then the old seat stays whole", () => {
    const ctx = createContext();
    const wp = createWorkspacePeer<string>({
      context: ctx,
      resolveSystem: (id, _b, head) => `${id}:${head}`,
    });
    wp.setDescriptor(desc("a1", "b1"));
    wp.applyHeadUpdate("a", "main", "a1");
    wp.applyHeadUpdate("b", "main", "b1");
    wp.setDescriptor(desc("a2", "b2"));
    wp.applyHeadUpdate("a", "main", "a2");
    expect(ctx.get(wp.workspace)).toEqual({ a: "a:a1", b: "b:b1" });
    expect(wp.status().pending).toEqual(new Set(["b"]));
    wp.applyHeadUpdate("b", "main", "b2");
    expect(ctx.get(wp.workspace)).toEqual({ a: "a:a2", b: "b:b2" });
    expect(wp.reseats).toBe(2);
  });

  it("a custom compose builds the seated value", () => {
    const ctx = createContext();
    const wp = createWorkspacePeer<number, number>({
      context: ctx,
      resolveSystem: (_id, _b, head) => Number(head),
      compose: (s) => (s.a as number) + (s.b as number),
    });
    wp.setDescriptor(desc("1", "2"));
    wp.applyHeadUpdate("a", "main", "1");
    wp.applyHeadUpdate("b", "main", "2");
    expect(ctx.get(wp.workspace)).toBe(3);
  });
});

describe("workspace peer (asynchronous resolvers)", () => {
  it("seats after the awaits; bursts of nudges while resolving collapse into one more pass", async () => {
    const { ctx, wp, pending } = gatedPeer();
    wp.setDescriptor(desc("a1", "b1"));
    wp.applyHeadUpdate("a", "main", "a1");
    expect(wp.applyHeadUpdate("b", "main", "b1").reseated).toBe(false);
    expect(pending.map((p) => p.head)).toEqual(["a1", "b1"]);
    // a burst of nudges while the first resolution is in flight
    for (let i = 0; i < 50; i++) wp.applyHeadUpdate("a", "main", "a1");
    for (const p of pending.splice(0)) p.g.resolve(`${p.id}:${p.head}`);
    await wp.settled();
    expect(ctx.get(wp.workspace)).toEqual({ a: "a:a1", b: "b:b1" });
    expect(wp.reseats).toBe(1);
    expect(pending).toHaveLength(0); // the collapsed extra pass found the seat current: no resolves
  });

  it("a descriptor that changes during the resolvers' awaits is not seated (snapshot isolation)", async () => {
    const { ctx, wp, pending } = gatedPeer();
    wp.setDescriptor(desc("a1", "b1"));
    wp.applyHeadUpdate("a", "main", "a1");
    wp.applyHeadUpdate("b", "main", "b1");
    expect(pending).toHaveLength(2);
    // while resolving, the descriptor moves on and its heads arrive
    wp.setDescriptor(desc("a2", "b2"));
    wp.applyHeadUpdate("a", "main", "a2");
    wp.applyHeadUpdate("b", "main", "b2");
    for (const p of pending.splice(0)) p.g.resolve(`${p.id}:${p.head}`);
    // the stale resolution is dropped; the loop resolves the new descriptor
    await Promise.resolve().then(() => undefined);
    await new Promise<void>((res) => setImmediate(res));
    expect(ctx.get(wp.workspace)).toBeNull();
    expect(pending.map((p) => p.head)).toEqual(["a2", "b2"]);
    for (const p of pending.splice(0)) p.g.resolve(`${p.id}:${p.head}`);
    await wp.settled();
    expect(ctx.get(wp.workspace)).toEqual({ a: "a:a2", b: "b:b2" });
    expect(wp.reseats).toBe(1);
  });

  it("a head update that leaves the gate during the awaits is not seated", async () => {
    const ctx = createContext();
    const pending: Array<ReturnType<typeof gateOf<string>>> = [];
    const wp = createWorkspacePeer<string>({
      context: ctx,
      resolveSystem: (id) => {
        const g = gateOf<string>();
        pending.push(g);
        return g.promise.then(() => id);
      },
    });
    wp.setDescriptor(desc("a1", "b1"));
    wp.applyHeadUpdate("a", "main", "a1");
    wp.applyHeadUpdate("b", "main", "b1");
    wp.applyHeadUpdate("b", "main", "b0"); // the local head moved away from the pin
    for (const g of pending.splice(0)) g.resolve("");
    await wp.settled();
    expect(ctx.get(wp.workspace)).toBeNull();
    expect(wp.status().pending).toEqual(new Set(["b"]));
  });

  it("a failing resolver is recorded, leaves the seat whole, and is retried on the context clock", async () => {
    const ctx = createContext({ clock: "virtual" });
    let failNext = 0;
    let calls = 0;
    const wp = createWorkspacePeer<string>({
      context: ctx,
      retryMs: 100,
      resolveSystem: async (id, _b, head) => {
        calls++;
        if (id === "b" && failNext > 0) {
          failNext--;
          throw new Error("store offline");
        }
        return `${id}:${head}`;
      },
    });
    wp.setDescriptor(desc("a1", "b1"));
    wp.applyHeadUpdate("a", "main", "a1");
    wp.applyHeadUpdate("b", "main", "b1");
    await wp.settled();
    expect(ctx.get(wp.workspace)).toEqual({ a: "a:a1", b: "b:b1" });
    failNext = 2;
    wp.setDescriptor(desc("a2", "b2"));
    wp.applyHeadUpdate("a", "main", "a2");
    wp.applyHeadUpdate("b", "main", "b2");
    await wp.settled();
    expect((wp.lastReseatError as Error).message).toBe("store offline");
    expect(ctx.get(wp.workspace)).toEqual({ a: "a:a1", b: "b:b1" }); // never half-seated
    const before = calls;
    ctx.advanceTime(99);
    expect(calls).toBe(before); // not before the retry delay
    ctx.advanceTime(1);
    await wp.settled();
    expect(calls).toBe(before + 2);
    expect(ctx.get(wp.workspace)).toEqual({ a: "a:a1", b: "b:b1" });
    ctx.advanceTime(100);
    await wp.settled();
    expect(ctx.get(wp.workspace)).toEqual({ a: "a:a2", b: "b:b2" });
    expect(wp.lastReseatError).toBeUndefined();
    expect(wp.reseats).toBe(2);
    wp.stop();
    expect(ctx.clock.pending).toBe(0);
  });

  it("a synchronous resolver that throws is recorded and retried too", () => {
    const ctx = createContext({ clock: "virtual" });
    let fail = true;
    const wp = createWorkspacePeer<string>({
      context: ctx,
      resolveSystem: (id) => {
        if (fail) throw new Error("boom");
        return id;
      },
    });
    wp.setDescriptor(desc("a1", "b1"));
    wp.applyHeadUpdate("a", "main", "a1");
    expect(wp.applyHeadUpdate("b", "main", "b1").reseated).toBe(false);
    expect((wp.lastReseatError as Error).message).toBe("boom");
    fail = false;
    ctx.advanceTime(100);
    expect(ctx.get(wp.workspace)).toEqual({ a: "a", b: "b" });
  });
});

describe("workspace peer lease", () => {
  it("write is refused with ERR_NOT_LEASE_HOLDER unless this peer holds the lease", async () => {
    const ctx = createContext();
    const log: string[] = [];
    const mk = (self: string) =>
      createWorkspacePeer<{ push(s: string): void }>({
        self,
        context: ctx,
        resolveSystem: () => ({ push: (s: string) => log.push(s) }),
      });
    const owner = mk("alice");
    const other = mk("bob");
    for (const wp of [owner, other]) {
      wp.setDescriptor(desc("a1", "b1", "alice"));
      wp.applyHeadUpdate("a", "main", "a1");
      wp.applyHeadUpdate("b", "main", "b1");
    }
    await owner.write("a", (s) => s.push("by alice"));
    await expect(other.write("a", (s) => s.push("by bob"))).rejects.toSatisfy((e: unknown) =>
      isWorkspaceError(e, "ERR_NOT_LEASE_HOLDER"),
    );
    expect(log).toEqual(["by alice"]);
    // hand-off is a new descriptor
    for (const wp of [owner, other]) wp.setDescriptor(desc("a1", "b1", "bob"));
    await other.write("a", (s) => s.push("by bob"));
    await expect(owner.write("a", () => undefined)).rejects.toSatisfy((e: unknown) =>
      isWorkspaceError(e, "ERR_NOT_LEASE_HOLDER"),
    );
    expect(log).toEqual(["by alice", "by bob"]);
    expect(() => owner.advance("a", "a2")).toThrow(/lease/);
  });

  it("write before any seat is ERR_NOT_SEATED; advance by the holder re-seats at the new head", async () => {
    const ctx = createContext();
    const wp = createWorkspacePeer<string>({
      self: "alice",
      context: ctx,
      resolveSystem: (id, _b, h) => `${id}:${h}`,
    });
    wp.setDescriptor(desc("a1", "b1", "alice"));
    await expect(wp.write("a", () => 1)).rejects.toSatisfy((e: unknown) =>
      isWorkspaceError(e, "ERR_NOT_SEATED"),
    );
    wp.applyHeadUpdate("a", "main", "a1");
    wp.applyHeadUpdate("b", "main", "b1");
    expect(wp.advance("a", "a2").reseated).toBe(true);
    expect(ctx.get(wp.workspace)).toEqual({ a: "a:a2", b: "b:b1" });
    expect(wp.descriptor?.systems.a?.head).toBe("a2");
  });
});
