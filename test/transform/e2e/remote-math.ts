/**
 * Remote functions used by the end-to-end test. This module is compiled by the spinRemote
 * compiler (the Vite plugin in vitest.config.ts): each body below is hoisted and registered,
 * and each call site becomes an invocation by id.
 */
import { signal, spin } from "spindel";
import { type RemoteTarget, remoteFn, type Scope, spinRemote } from "spindel/distributed";

/** A module-level signal: the body resolves it on the callee, in the addressed context. */
export const where = signal("nowhere");
/** A module-level log of body runs (a const binding: no SPINDEL012). */
export const bodyRuns: string[] = [];
/** Targets the callee can reach (used by the nested call in `relay`). */
export const onward = new Map<string, RemoteTarget>();

export const add = remoteFn(function add(scope: Scope, x: number, y: number) {
  return spinRemote(scope, [x, y], async ($) => {
    bodyRuns.push(`add(${x}, ${y}) in ${$.track(where)}`);
    return x + y;
  });
});

export const locate = remoteFn(function locate(scope: Scope) {
  return spinRemote(scope, [], ($) => $.track(where));
});

export const sumSquares = remoteFn(function sumSquares(scope: Scope, xs: number[]) {
  const offset = xs.length;
  return spinRemote(scope, [xs, offset], async ($) => {
    // a nested spin in a remote body: the compiler injects { deps: [xs], key: … }
    const squares = spin(() => xs.map((v) => v * v));
    return (await $.await(squares)).reduce((a, b) => a + b, offset);
  });
});

export const relay = remoteFn(function relay(scope: Scope, hop: string, v: number) {
  return spinRemote(scope, [hop, v], async ($) => {
    const doubled = v * 2;
    const next = onward.get(hop);
    if (next === undefined) throw new Error(`no onward target ${hop}`);
    // a remote call made by the callee: hoisted separately, numbered after its outer body
    const inner = spinRemote(next, [doubled], ($$) => `${doubled} in ${$$.track(where)}`);
    return `${$.track(where)} → ${await $.await(inner)}`;
  });
});

export const failing = remoteFn(function failing(scope: Scope, message: string) {
  return spinRemote(scope, [message], async () => {
    throw new Error(message);
  });
});
