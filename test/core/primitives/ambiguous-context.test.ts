/** An implicit delivery (no context, outside run/body) to a primitive awaited only elsewhere is refused. */
import { describe, expect, test } from "vitest";
import {
  AmbiguousContextError,
  createContext,
  defaultContext,
  deferred,
  mailbox,
  spin,
} from "../../../src/index.js";

describe("deliveries that would miss their waiters", () => {
  test("deferred.deliver(v) without a context while awaited in another context: ERR_AMBIGUOUS_CONTEXT", async () => {
    const ctx = createContext();
    const ready = deferred<number>();
    const waiting = spin(async ($) => (await $.await(ready)) + 1);
    const result = ctx.value(waiting);
    expect(() => ready.deliver(1)).toThrow(AmbiguousContextError);
    try {
      ready.fail(new Error("x"));
    } catch (e) {
      expect((e as AmbiguousContextError).code).toBe("ERR_AMBIGUOUS_CONTEXT");
      expect((e as Error).message).toMatch(/Fix: pass the context/);
    }
    expect(ready.isSettled(defaultContext())).toBe(false); // nothing went to the default context
    expect(ready.deliver(1, ctx)).toBe(true); // the explicit form still works
    expect(await result).toBe(2);
    ctx.dispose();
  });

  test("mailbox.post(m) without a context while awaited in another context is refused; ctx.run works", async () => {
    const ctx = createContext();
    const inbox = mailbox<string>();
    const got = ctx.value(spin(async ($) => $.await(inbox)));
    expect(() => inbox.post("hi")).toThrow(/ERR_AMBIGUOUS_CONTEXT|without a context/);
    expect(inbox.size(defaultContext())).toBe(0);
    ctx.run(() => inbox.post("hi")); // the current context is explicit
    expect(await got).toBe("hi");
    ctx.dispose();
  });

  test("awaited in the default context (too), or never awaited: the implicit form goes to the default context", async () => {
    const d = deferred<string>();
    expect(d.deliver("early")).toBe(true); // nobody waits anywhere yet
    const e = deferred<string>();
    const inDefault = defaultContext().value(spin(async ($) => $.await(e)));
    const other = createContext();
    void other.value(spin(async ($) => $.await(e))).catch(() => {});
    expect(e.deliver("both")).toBe(true);
    expect(await inDefault).toBe("both");
    other.dispose();
  });

  test("a disposed context does not count", async () => {
    const ctx = createContext();
    const d = deferred<number>();
    void ctx.value(spin(async ($) => $.await(d))).catch(() => {});
    expect(() => d.deliver(1)).toThrow(AmbiguousContextError);
    ctx.dispose();
    expect(d.deliver(1)).toBe(true);
  });
});
