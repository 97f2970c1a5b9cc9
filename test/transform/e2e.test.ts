/**
 * End to end: code compiled by the spinRemote compiler (this suite runs under the Vite plugin)
 * calls bodies on another "peer" through an in-process loop transport that carries only ids,
 * hashes and CBOR-encoded argument values.
 */

import { type Context, createContext, signal, spin } from "spindel";
import {
  invokeRemote,
  isRemoteFn,
  lookupRemote,
  Peer,
  RemoteError,
  RemoteRegistryError,
  registerRemote,
  type Scope,
  SpinRemoteOutsideRemoteFnError,
  TransformNotConfiguredError,
} from "spindel/distributed";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import * as uncompiled from "../../src/distributed/remote-fn.js";
import { LoopCallError, LoopTarget } from "./e2e/loop-target.js";
import { add, bodyRuns, failing, locate, onward, relay, sumSquares, where } from "./e2e/remote-math.js";
import { leaky } from "./e2e/unchecked-capture.js";

const MODULE = "test/transform/e2e/remote-math";

let client: Context;
let server: Context;
let particle: Context;
let target: LoopTarget;

beforeEach(() => {
  client = createContext();
  server = createContext();
  particle = server.fork();
  client.set(where, "client");
  server.set(where, "server");
  particle.set(where, "particle-1");
  target = new LoopTarget(
    new Map([
      ["default", server],
      ["particle-1", particle],
    ]),
  );
  bodyRuns.length = 0;
});

afterEach(() => {
  onward.clear();
});

describe("compiled remote functions", () => {
  test("each body is registered under <module>:<remoteFn>:<ordinal> with its declared names and a hash", () => {
    const def = lookupRemote(`${MODULE}:add:0`);
    expect(def).toBeDefined();
    expect(def!.params).toEqual(["x", "y"]);
    expect(def!.hash).toMatch(/^[0-9a-f]{16}$/);
    expect(lookupRemote(`${MODULE}:locate:0`)!.params).toEqual([]);
    expect(lookupRemote(`${MODULE}:sumSquares:0`)!.params).toEqual(["xs", "offset"]);
    // pre-order numbering: the outer body of relay is 0, the call inside it is 1
    expect(lookupRemote(`${MODULE}:relay:0`)!.params).toEqual(["hop", "v"]);
    expect(lookupRemote(`${MODULE}:relay:1`)!.params).toEqual(["doubled"]);
    expect(isRemoteFn(add)).toBe(true);
  });

  test("the body runs on the callee, in its default context; only id, hash and values cross", async () => {
    expect(await client.value(add(target, 1, 2))).toBe(3);
    expect(bodyRuns).toEqual(["add(1, 2) in server"]);
    const def = lookupRemote(`${MODULE}:add:0`)!;
    expect(target.frames).toEqual([{ fn: `${MODULE}:add:0`, hash: def.hash, args: [1, 2], contextId: null }]);
  });

  test("a [target, contextId] scope runs the body in that context over there", async () => {
    expect(await client.value(locate(target))).toBe("server");
    expect(await client.value(locate([target, "particle-1"]))).toBe("particle-1");
    expect(target.frames.map((f) => f.contextId)).toEqual([null, "particle-1"]);
  });

  test("the result is a spin: cached per caller context, re-used until invalidated", async () => {
    const call = add(target, 2, 3);
    expect(await client.value(call)).toBe(5);
    expect(await client.value(call)).toBe(5);
    expect(bodyRuns).toHaveLength(1);
  });

  test("a nested spin inside a remote body runs on the callee with its injected deps", async () => {
    expect(await client.value(sumSquares(target, [1, 2, 3]))).toBe(1 + 4 + 9 + 3);
  });

  test("a spinRemote inside a remote body is a remote call made by the callee", async () => {
    const third = createContext();
    third.set(where, "third");
    onward.set("third", new LoopTarget(new Map([["default", third]])));
    expect(await client.value(relay(target, "third", 21))).toBe("server → 42 in third");
  });

  test("errors thrown by the body reach the caller", async () => {
    await expect(client.value(failing(target, "boom"))).rejects.toThrow("boom");
  });

  test("a callee with a different build of the body rejects with ERR_VERSION_MISMATCH", async () => {
    const otherBuild = new LoopTarget(new Map([["default", server]]), (id) => {
      const def = lookupRemote(id);
      return def && { ...def, hash: "0000000000000000" };
    });
    const err = await client.value(add(otherBuild, 1, 1)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LoopCallError);
    expect((err as LoopCallError).code).toBe("ERR_VERSION_MISMATCH");
    expect(bodyRuns).toEqual([]);
  });

  test("a callee without the body rejects with ERR_NO_FUNCTION", async () => {
    const empty = new LoopTarget(new Map([["default", server]]), () => undefined);
    await expect(client.value(add(empty, 1, 1))).rejects.toMatchObject({ code: "ERR_NO_FUNCTION" });
  });

  test("an undeclared capture under spinRemote.unchecked fails on the callee (hoisted: unbound), never silently", async () => {
    const err = await client.value(leaky(target, 1)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReferenceError);
    expect(String(err)).toContain("secret");
  });

  test("invokeRemote validates the scope and the argument count", () => {
    const def = lookupRemote(`${MODULE}:add:0`)!;
    for (const bad of [null, 42, {}, [target], [target, 1], [target, "a", "b"], ["x", "y"]]) {
      expect(() => invokeRemote(def, bad as unknown as Scope, [1, 2])).toThrow(RemoteRegistryError);
    }
    expect(() => invokeRemote(def, target, [1])).toThrow(/expected 2 argument/);
    try {
      invokeRemote(def, null as unknown as Scope, [1, 2]);
    } catch (e) {
      expect((e as RemoteRegistryError).code).toBe("ERR_INVALID_SCOPE");
    }
  });
});

describe("over the remote-calls runtime (WebSocket peers)", () => {
  test("compiled calls reach the body on the other peer, in the addressed context", async () => {
    const hubPeer = await Peer.listen({ id: "hub", host: "127.0.0.1", port: 0, context: server });
    hubPeer.contexts.register("particle-1", particle);
    const clientPeer = await Peer.connect({ id: "c1", url: hubPeer.url! });
    try {
      const remote = clientPeer.remote("hub");
      expect(await client.value(add(remote, 20, 22))).toBe(42);
      expect(bodyRuns).toEqual(["add(20, 22) in server"]);
      expect(await client.value(locate([remote, "particle-1"]))).toBe("particle-1");
      expect(await client.value(sumSquares(remote, [3, 4]))).toBe(9 + 16 + 2);
      const err = await client.value(failing(remote, "kaput")).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RemoteError);
      expect((err as RemoteError).message).toBe("kaput");
      expect((err as RemoteError).fn).toBe(`${MODULE}:failing:0`);
    } finally {
      await clientPeer.close();
      await hubPeer.close();
    }
  });
});

describe("without the compiler", () => {
  // `uncompiled` imports the runtime under a specifier the compiler does not recognise, which is
  // exactly what a module looks like when the transform is not configured
  const ran: number[] = [];
  const plain = uncompiled.remoteFn(function plain(scope: Scope, x: number) {
    return uncompiled.spinRemote(scope, [x], async () => {
      ran.push(x);
      return x;
    });
  });

  test("calling a remoteFn throws TransformNotConfiguredError naming the setup, and never runs the body", () => {
    let err: unknown;
    try {
      plain(target, 1);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TransformNotConfiguredError);
    const e = err as TransformNotConfiguredError;
    expect(e.code).toBe("ERR_TRANSFORM_MISSING");
    expect(e.message).toContain("remoteFn 'plain'");
    expect(e.message).toContain("tspc");
    expect(e.message).toContain('"transform": "spindel/transform"');
    expect(e.message).toContain("spindel/vite");
    expect(ran).toEqual([]);
  });

  test("spinRemote.unchecked throws the same way", () => {
    const f = uncompiled.remoteFn((scope: Scope) =>
      uncompiled.spinRemote.unchecked(scope, [], () => ran.push(0)),
    );
    expect(() => f(target)).toThrow(TransformNotConfiguredError);
    expect(ran).toEqual([]);
  });

  test("spinRemote outside any remoteFn throws SpinRemoteOutsideRemoteFnError", () => {
    expect(() => uncompiled.spinRemote(target, [], () => ran.push(0))).toThrow(
      SpinRemoteOutsideRemoteFnError,
    );
    try {
      uncompiled.spinRemote(target, [], () => 0);
    } catch (e) {
      expect((e as SpinRemoteOutsideRemoteFnError).code).toBe("ERR_SPINREMOTE_OUTSIDE_REMOTEFN");
    }
    expect(ran).toEqual([]);
  });

  test("remoteFn passes arguments and this through, and keeps the name", () => {
    const f = uncompiled.remoteFn(function named(this: { k: number }, a: number, b: number) {
      return this.k + a + b;
    });
    expect(f.call({ k: 1 }, 2, 3)).toBe(6);
    expect(f.name).toBe("named");
    expect(isRemoteFn(f)).toBe(true);
    expect(isRemoteFn(() => 1)).toBe(false);
    expect(() => uncompiled.remoteFn(42 as unknown as () => void)).toThrow(/expects a function/);
  });
});

describe("the registry", () => {
  test("same id and hash again returns the existing definition; another hash is a typed conflict", () => {
    const factory = () => () => 1;
    const a = registerRemote("test/registry:f:0", ["a"], "aaaa", factory);
    expect((a.factory() as () => number)()).toBe(1);
    // a re-evaluated module: the same definition, now running the latest evaluation's body
    expect(registerRemote("test/registry:f:0", ["a"], "aaaa", () => () => 2)).toBe(a);
    expect((a.factory() as () => number)()).toBe(2);
    let err: unknown;
    try {
      registerRemote("test/registry:f:0", ["a"], "bbbb", factory);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RemoteRegistryError);
    expect((err as RemoteRegistryError).code).toBe("ERR_REMOTE_ID_CONFLICT");
    expect(Object.isFrozen(a)).toBe(true);
  });

  test("malformed registrations are rejected", () => {
    const f = () => () => 1;
    expect(() => registerRemote("", [], "h", f)).toThrow(RemoteRegistryError);
    expect(() => registerRemote("x", [1 as unknown as string], "h", f)).toThrow(/params/);
    expect(() => registerRemote("x", [], "h", 1 as unknown as typeof f)).toThrow(/factory/);
  });
});

describe("nested spins: the compiler injects the captured locals as deps (the capture gate)", () => {
  test("a nested spin re-runs only when a captured local changed", async () => {
    const ctx = createContext();
    const n = signal(1);
    const other = signal(0);
    const counter = { runs: 0 };
    const parent = spin(async ($) => {
      const v = $.track(n);
      $.track(other);
      const child = spin(() => {
        counter.runs++;
        return v * 10;
      });
      return $.await(child);
    });
    expect(await ctx.value(parent)).toBe(10);
    ctx.set(other, 1);
    expect(await ctx.value(parent)).toBe(10);
    expect(counter.runs).toBe(1); // same captures: served from cache
    ctx.set(n, 2);
    expect(await ctx.value(parent)).toBe(20);
    expect(counter.runs).toBe(2);
  });

  test("`deps: undefined` opts a call out: it re-runs on every re-creation", async () => {
    const ctx = createContext();
    const n = signal(1);
    const other = signal(0);
    const counter = { runs: 0 };
    const parent = spin(async ($) => {
      const v = $.track(n);
      $.track(other);
      const child = spin(
        () => {
          counter.runs++;
          return v * 10;
        },
        { deps: undefined },
      );
      return $.await(child);
    });
    expect(await ctx.value(parent)).toBe(10);
    ctx.set(other, 1);
    expect(await ctx.value(parent)).toBe(10);
    expect(counter.runs).toBe(2);
  });

  test("$.spin in a loop gets deps but no key (each iteration keeps its own address)", async () => {
    const ctx = createContext();
    const items = signal([1, 2, 3]);
    const parent = spin(async ($) => {
      const out: number[] = [];
      for (const it of $.track(items)) out.push(await $.await($.spin(() => it * 2)));
      return out;
    });
    expect(await ctx.value(parent)).toEqual([2, 4, 6]);
    ctx.set(items, [1, 5, 3]);
    expect(await ctx.value(parent)).toEqual([2, 10, 6]);
  });
});
