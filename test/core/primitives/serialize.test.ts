/**
 * Primitive state in snapshots and serialized contexts: data (values, queues, permits) is carried,
 * waiters are not, and a spin that was waiting resumes in the restored context.
 */
import {
  createContext,
  debounce,
  deferred,
  deserializeContext,
  mailbox,
  restoreSnapshot,
  SpindelError,
  semaphore,
  signal,
  spin,
  supervisor,
  toAsyncIterable,
} from "spindel";
import { describe, expect, test } from "vitest";
import { collect, flush, track } from "./helpers.js";

describe("snapshot / restore", () => {
  test("a snapshot carries primitive data; the restored context is independent", async () => {
    const ctx = createContext();
    const d = deferred<number>();
    const mb = mailbox<string>();
    const sem = semaphore(3);
    d.deliver(1, ctx);
    mb.post("a", ctx);
    mb.post("b", ctx);
    sem.tryAcquire(ctx);
    const r = restoreSnapshot(ctx.snapshot());
    expect(d.peek(r)).toEqual({ status: "ok", value: 1 });
    expect(mb.messages(r)).toEqual(["a", "b"]);
    expect(sem.available(r)).toBe(2);
    mb.post("c", r);
    expect(mb.messages(ctx)).toEqual(["a", "b"]);
  });

  test("a spin waiting at snapshot time resumes in the restored context when a message arrives", async () => {
    const ctx = createContext();
    const mb = mailbox<number>();
    const w = spin(async ($) => (await $.await(mb)) * 2);
    const original = track(ctx.value(w));
    await flush();
    const r = restoreSnapshot(ctx.snapshot());
    mb.post(21, r);
    await flush();
    expect(await r.value(w)).toBe(42);
    expect(original.state).toBe("pending");
    mb.post(5, ctx);
    await flush();
    expect(original.value).toBe(10);
  });
});

describe("ctx.serialize() / deserializeContext", () => {
  test("deferred, mailbox and semaphore data round-trip through CBOR", async () => {
    const ctx = createContext();
    const d = deferred<{ ok: boolean }>({ key: "ser-d" });
    const failed = deferred<number>({ key: "ser-failed" });
    const mb = mailbox<number[]>({ key: "ser-mb" });
    const sem = semaphore(2, { key: "ser-sem" });
    d.deliver({ ok: false }, ctx);
    failed.fail(new SpindelError("ERR_X", "it failed", { n: 1 }), ctx);
    mb.post([1, 2], ctx);
    mb.post([3], ctx);
    const permit = sem.tryAcquire(ctx)!;
    const bytes = ctx.serialize();
    const r = deserializeContext(bytes);
    expect(d.peek(r)).toEqual({ status: "ok", value: { ok: false } });
    const f = failed.peek(r);
    expect(f.status).toBe("error");
    if (f.status === "error") {
      expect(f.error).toBeInstanceOf(SpindelError);
      expect((f.error as SpindelError).code).toBe("ERR_X");
      expect((f.error as SpindelError).message).toBe("it failed");
    }
    expect(mb.messages(r)).toEqual([[1, 2], [3]]);
    expect(sem.available(r)).toBe(1);
    expect(sem.release(permit, r)).toBe(true); // the permit (plain data) is valid there
    expect(sem.available(r)).toBe(2);
  });

  test("a spin parked on a mailbox resumes after deserialization once its handle is used", async () => {
    const ctx = createContext();
    const mb = mailbox<string>({ key: "ser-wait-mb" });
    const w = spin(async ($) => `got ${await $.await(mb)}`, { key: "ser-wait-w" });
    track(ctx.value(w));
    await flush();
    const r = deserializeContext(ctx.serialize());
    mb.post("hello", r); // the waiter has no body yet in r: the message waits in the queue
    expect(await r.value(w)).toBe("got hello");
    expect(mb.size(r)).toBe(0);
  });

  test("transient state (rate limiters, supervisors, iterators) does not prevent serialization", async () => {
    const ctx = createContext({ clock: "virtual" });
    const q = signal(1);
    collect(ctx, debounce(q, 10));
    ctx.spawn(supervisor([{ id: "x", start: spin(async () => 1) }]));
    const it = toAsyncIterable(
      spin(() => 1),
      ctx,
    )[Symbol.asyncIterator]();
    await it.next();
    await flush();
    expect(ctx.serialize()).toBeInstanceOf(Uint8Array);
    await it.return?.();
  });

  test("unencodable data and unknown primitives fail with clear codes", async () => {
    const ctx = createContext();
    const mb = mailbox<unknown>({ key: "ser-bad" });
    mb.post(() => 1, ctx);
    let err: unknown;
    try {
      ctx.serialize();
    } catch (e) {
      err = e;
    }
    expect((err as SpindelError).code).toBe("ERR_NOT_SERIALIZABLE");
    const ctx2 = createContext();
    const ghost = mailbox<number>({ key: "ser-ghost-1" });
    ghost.post(1, ctx2);
    const bytes = ctx2.serialize();
    mailbox<number>({ key: "ser-ghost-other" });
    // replace the registered id by one no live primitive has
    const text = Buffer.from(bytes).toString("latin1").replace("ser-ghost-1", "ser-ghost-0");
    expect(() => deserializeContext(new Uint8Array(Buffer.from(text, "latin1")))).toThrow(
      /no live primitive/,
    );
  });
});
