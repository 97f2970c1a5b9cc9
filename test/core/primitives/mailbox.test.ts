import { createContext, isCancelled, Mailbox, mailbox, race, signal, spin } from "spindel";
import { describe, expect, test } from "vitest";
import { collect, flush, rejection, track } from "./helpers.js";

describe("mailbox", () => {
  test("FIFO: queued messages are received in order", async () => {
    const ctx = createContext();
    const mb = mailbox<number>();
    mb.post(1, ctx);
    mb.post(2, ctx);
    mb.post(3, ctx);
    expect(mb.size(ctx)).toBe(3);
    const three = spin(async ($) => [await $.await(mb), await $.await(mb), await $.await(mb)]);
    expect(await ctx.value(three)).toEqual([1, 2, 3]);
    expect(mb.size(ctx)).toBe(0);
  });

  test("waiters are served in arrival order, each message to exactly one waiter", async () => {
    const ctx = createContext();
    const mb = mailbox<string>();
    const ws = ["a", "b", "c"].map((n) => spin(async ($) => `${n}:${await $.await(mb)}`, { name: n }));
    const ps = ws.map((w) => track(ctx.value(w)));
    await flush();
    expect(mb.waiting(ctx)).toBe(3);
    mb.post("m1", ctx);
    mb.post("m2", ctx);
    await flush();
    expect(ps.map((p) => p.value)).toEqual(["a:m1", "b:m2", undefined]);
    mb.post("m3", ctx);
    mb.post("m4", ctx);
    await flush();
    expect(ps[2]!.value).toBe("c:m3");
    expect(mb.messages(ctx)).toEqual(["m4"]);
  });

  test("a cancelled waiter never takes a message: the next live waiter does", async () => {
    const ctx = createContext();
    const mb = mailbox<number>();
    const log: string[] = [];
    const first = spin(async ($) => {
      try {
        return await $.await(mb);
      } finally {
        log.push("first finally");
      }
    });
    const second = spin(async ($) => await $.await(mb));
    const p1 = ctx.value(first);
    const p2 = ctx.value(second);
    await flush();
    ctx.cancel(first);
    expect(isCancelled(await rejection(p1))).toBe(true);
    expect(mb.waiting(ctx)).toBe(1);
    mb.post(42, ctx);
    expect(await p2).toBe(42);
    expect(mb.size(ctx)).toBe(0);
    expect(log).toEqual(["first finally"]);
  });

  test("a cancelled waiter with nobody else waiting leaves the message in the queue", async () => {
    const ctx = createContext();
    const mb = mailbox<number>();
    const w = spin(async ($) => await $.await(mb));
    const p = ctx.value(w);
    await flush();
    ctx.cancel(w);
    await rejection(p);
    mb.post(1, ctx);
    expect(mb.messages(ctx)).toEqual([1]);
  });

  test("a superseded waiter never takes a message; the new run receives it once", async () => {
    const ctx = createContext();
    const mb = mailbox<number>();
    const k = signal(0);
    let waits = 0;
    const w = spin(async ($) => {
      const key = $.track(k);
      waits++;
      return `${key}:${await $.await(mb)}`;
    });
    const seen = collect(ctx, w);
    await flush();
    ctx.set(k, 1); // supersedes the parked run: its wait is abandoned
    await flush();
    expect(waits).toBe(2);
    expect(mb.waiting(ctx)).toBe(1);
    mb.post(7, ctx);
    await flush();
    expect(seen.values).toEqual(["1:7"]);
    expect(mb.size(ctx)).toBe(0);
  });

  test("a message handed to a waiter that dies in flight goes back to the queue (cancel)", async () => {
    const ctx = createContext();
    const mb = mailbox<string>();
    const a = spin(async ($) => await $.await(mb), { name: "a" });
    const b = spin(async ($) => await $.await(mb), { name: "b" });
    const pa = ctx.value(a);
    await flush();
    mb.post("only", ctx); // handed to a; a's body has not continued yet
    ctx.cancel(a); // a dies in flight: the hand-off is undone
    expect(mb.messages(ctx)).toEqual(["only"]);
    expect(isCancelled(await rejection(pa))).toBe(true);
    expect(await ctx.value(b)).toBe("only");
    expect(mb.size(ctx)).toBe(0);
  });

  test("a message handed in flight to a dying waiter goes to the next live waiter at once", async () => {
    const ctx = createContext();
    const mb = mailbox<string>();
    const a = spin(async ($) => await $.await(mb), { name: "a" });
    const b = spin(async ($) => await $.await(mb), { name: "b" });
    const pa = ctx.value(a);
    const pb = ctx.value(b);
    await flush();
    mb.post("m", ctx); // to a (first in line)
    ctx.cancel(a);
    expect(await pb).toBe("m");
    await rejection(pa);
  });

  test("a message handed in flight to a superseded run is received again by its new run", async () => {
    const ctx = createContext();
    const mb = mailbox<string>();
    const k = signal(0);
    const w = spin(async ($) => `${$.track(k)}:${await $.await(mb)}`);
    const seen = collect(ctx, w);
    await flush();
    mb.post("m", ctx);
    ctx.set(k, 1); // before the body continued: the old run dies, "m" goes back
    await flush();
    expect(seen.values).toEqual(["1:m"]);
    expect(mb.size(ctx)).toBe(0);
  });

  test("a message received before the point of change is replayed, not received again", async () => {
    const ctx = createContext();
    const mb = mailbox<number>();
    const s = signal(1);
    const w = spin(async ($) => (await $.await(mb)) * $.track(s));
    const seen = collect(ctx, w);
    await flush();
    mb.post(10, ctx);
    mb.post(20, ctx);
    await flush();
    ctx.set(s, 3);
    await flush();
    expect(seen.values).toEqual([10, 30]);
    expect(mb.messages(ctx)).toEqual([20]);
  });

  test("two pending receives in one run (Promise.all) take two distinct messages", async () => {
    const ctx = createContext();
    const mb = mailbox<number>();
    const w = spin(async ($) => Promise.all([$.await(mb), $.await(mb)]));
    const p = ctx.value(w);
    await flush();
    mb.post(1, ctx);
    mb.post(2, ctx);
    mb.post(3, ctx);
    expect(await p).toEqual([1, 2]);
    expect(mb.messages(ctx)).toEqual([3]);
  });

  test("a run that finishes with a receive still pending (Promise.race) does not swallow a later message", async () => {
    const ctx = createContext();
    const mb = mailbox<number>();
    const quick = spin(async () => "quick");
    const w = spin(async ($) => Promise.race([$.await(quick), $.await(mb)]));
    expect(await ctx.value(w)).toBe("quick");
    expect(mb.waiting(ctx)).toBe(0);
    mb.post(1, ctx);
    expect(mb.messages(ctx)).toEqual([1]);
    await ctx.settled();
  });

  test("racing two mailboxes receives from exactly one; the other keeps its message", async () => {
    const ctx = createContext();
    const a = mailbox<string>();
    const b = mailbox<string>();
    const r = race(a, b);
    const p = ctx.value(r);
    await flush();
    b.post("from b", ctx);
    a.post("from a", ctx);
    expect(await p).toBe("from b");
    expect(a.messages(ctx)).toEqual(["from a"]);
    expect(b.size(ctx)).toBe(0);
    expect(a.waiting(ctx)).toBe(0);
  });

  test("disposing the context drops waiters", async () => {
    const ctx = createContext();
    const mb = mailbox<number>();
    const w = spin(async ($) => await $.await(mb));
    const p = ctx.value(w);
    await flush();
    ctx.dispose();
    await expect(p).rejects.toMatchObject({ code: "ERR_DISPOSED" });
    expect(() => mb.post(1, ctx)).toThrow(/disposed/);
  });

  test("is a class with a debug name", () => {
    const mb = mailbox<number>({ name: "inbox" });
    expect(mb).toBeInstanceOf(Mailbox);
    expect(String(mb)).toBe("Mailbox(inbox)");
  });
});

describe("mailbox in forks", () => {
  test("a post in a fork is not seen by the parent (each has its own queue)", () => {
    const ctx = createContext();
    const mb = mailbox<number>();
    mb.post(1, ctx);
    const f = ctx.fork();
    mb.post(2, f);
    expect(mb.messages(f)).toEqual([1, 2]);
    expect(mb.messages(ctx)).toEqual([1]);
    mb.post(3, ctx);
    expect(mb.messages(f)).toEqual([1, 2]);
  });

  test("a waiter parked before the fork exists in both worlds, fired once in each", async () => {
    const ctx = createContext();
    const mb = mailbox<string>();
    let after = 0;
    const w = spin(async ($) => {
      const m = await $.await(mb);
      after++;
      return `got ${m}`;
    });
    const parent = track(ctx.value(w));
    await flush();
    const f = ctx.fork();
    mb.post("in fork", f);
    await flush();
    expect(await f.value(w)).toBe("got in fork");
    expect(after).toBe(1);
    expect(parent.state).toBe("pending");
    expect(mb.waiting(ctx)).toBe(1);
    mb.post("in parent", ctx);
    await flush();
    expect(parent.value).toBe("got in parent");
    expect(after).toBe(2);
    expect(mb.size(f)).toBe(0);
    expect(mb.size(ctx)).toBe(0);
  });
});
