/**
 * The per-peer context registry, and calls addressed to `[peer, contextId]`: named contexts,
 * registered forks that see their own writes, unknown and disposed contexts.
 */
import { createContext, type SpinScope, signal } from "spindel";
import { ContextRegistry, invokeRemote, RemoteError } from "spindel/distributed";
import { describe, expect, test } from "vitest";
import { client, defineRemote, hub, rejection } from "./helpers.js";

const counter = signal(0, { name: "counter" });
const read = defineRemote([], () => ($: SpinScope) => $.track(counter), "read");
const bump = defineRemote(
  ["by"],
  (by) => ($: SpinScope) => {
    const next = $.peek(counter) + (by as number);
    $.set(counter, next);
    return next;
  },
  "bump",
);
const contextName = defineRemote([], () => ($: SpinScope) => $.context.name ?? null, "contextName");

describe("ContextRegistry", () => {
  test("register, get (default id), list, unregister", () => {
    const reg = new ContextRegistry();
    const a = createContext();
    const b = a.fork();
    expect(reg.get()).toBeUndefined();
    const undo = reg.register("default", a);
    reg.register("b", b);
    expect(reg.get()).toBe(a);
    expect(reg.get("b")).toBe(b);
    expect(reg.has("b")).toBe(true);
    expect(reg.list()).toEqual(["default", "b"]);
    expect(reg.unregister("b")).toBe(true);
    expect(reg.unregister("b")).toBe(false);
    const c = createContext();
    reg.register("default", c); // replaces
    undo(); // not the registered one any more: no effect
    expect(reg.get()).toBe(c);
    reg.clear();
    expect(reg.list()).toEqual([]);
    expect(() => reg.register("", a)).toThrow(/non-empty/);
    expect(() => reg.register("x", {} as never)).toThrow(/Context/);
  });
});

describe("calls addressed to a context", () => {
  test("named contexts and forks: each call runs in the addressed context", async () => {
    const main = createContext({ name: "main" });
    const { peer: h } = await hub({ context: main });
    main.set(counter, 10);
    const particle = main.fork({ name: "particle-1" });
    particle.set(counter, 99);
    h.contexts.register("particle-1", particle);
    h.contexts.register("other", createContext({ name: "other" }));
    const c = await client(h.url!);
    const server = c.remote("hub");
    const ctx = createContext();
    expect(await ctx.value(invokeRemote(read, server, []))).toBe(10);
    expect(await ctx.value(invokeRemote(read, [server, "particle-1"], []))).toBe(99);
    expect(await ctx.value(invokeRemote(read, server.context("other"), []))).toBe(0);
    expect(await ctx.value(invokeRemote(contextName, [server, "particle-1"], []))).toBe("particle-1");
    expect(await ctx.value(invokeRemote(contextName, [server, "default"], []))).toBe("main");
  });

  test("a registered fork sees its own writes; the parent never does", async () => {
    const main = createContext({ name: "main" });
    const { peer: h } = await hub({ context: main });
    const fork = main.fork({ name: "f" });
    h.contexts.register("f", fork);
    const c = await client(h.url!);
    const server = c.remote("hub");
    const ctx = createContext();
    expect(await ctx.value(invokeRemote(bump, [server, "f"], [5]))).toBe(5);
    expect(await ctx.value(invokeRemote(bump, [server, "f"], [2]))).toBe(7);
    expect(await ctx.value(invokeRemote(read, [server, "f"], []))).toBe(7);
    expect(fork.get(counter)).toBe(7);
    expect(main.get(counter)).toBe(0);
    expect(await ctx.value(invokeRemote(read, server, []))).toBe(0);
    // a later parent write on a path the fork has shadowed stays invisible in the fork
    main.set(counter, 1);
    expect(await ctx.value(invokeRemote(read, [server, "f"], []))).toBe(7);
    expect(await ctx.value(invokeRemote(read, server, []))).toBe(1);
  });

  test("an unknown, unregistered or disposed context is ERR_NO_CONTEXT", async () => {
    const { peer: h } = await hub();
    const c = await client(h.url!);
    const server = c.remote("hub");
    const ctx = createContext();
    const unknown = (await rejection(
      ctx.value(invokeRemote(read, [server, "nope"], [])),
    )) as unknown as RemoteError;
    expect(unknown).toBeInstanceOf(RemoteError);
    expect(unknown.code).toBe("ERR_NO_CONTEXT");
    expect(unknown.data).toEqual({ context: "nope" });
    expect(unknown.message).toContain('Fix: on that peer, peer.contexts.register("nope", ctx)');
    const temp = createContext();
    h.contexts.register("temp", temp);
    expect(await ctx.value(invokeRemote(read, [server, "temp"], []))).toBe(0);
    temp.dispose();
    const disposed = (await rejection(
      ctx.value(invokeRemote(read, [server, "temp"], [])),
    )) as unknown as RemoteError;
    expect(disposed.code).toBe("ERR_NO_CONTEXT");
    expect(disposed.message).toContain("disposed");
    h.contexts.unregister("temp");
    expect(
      ((await rejection(ctx.value(invokeRemote(read, [server, "temp"], [])))) as unknown as RemoteError).code,
    ).toBe("ERR_NO_CONTEXT");
    // a peer without any registered context: even the default is missing
    h.contexts.clear();
    const none = (await rejection(ctx.value(invokeRemote(read, server, [])))) as unknown as RemoteError;
    expect(none.code).toBe("ERR_NO_CONTEXT");
    expect(none.data).toEqual({ context: "default" });
    expect(none.message).toMatch(
      /Fix: give that peer a context .*new Peer\(\{ id, context: createContext\(\) \}\)/,
    );
  });

  test("a body that tracks a signal stays cached per context on the callee only for that call", async () => {
    const main = createContext();
    const { peer: h } = await hub({ context: main });
    const c = await client(h.url!);
    const ctx = createContext();
    expect(await ctx.value(invokeRemote(read, c.remote("hub"), []))).toBe(0);
    main.set(counter, 3);
    // every call is a fresh run on the callee: it sees the current value
    expect(await ctx.value(invokeRemote(read, c.remote("hub"), []))).toBe(3);
  });
});
