/**
 * `remoteFn` and `spinRemote`: the source-level surface of remote functions.
 *
 * ```ts
 * export const add = remoteFn(function add(scope: Scope, x: number, y: number) {
 *   return spinRemote(scope, [x, y], async ($) => x + y); // runs on the remote peer
 * });
 * ```
 *
 * The spinRemote compiler (`spindel/transform` for tspc, `spindel/vite` for Vite/Vitest) rewrites
 * every `spinRemote(...)` into a registered definition plus an `invokeRemote(...)` call. The
 * functions below only run when a module was *not* compiled: they throw, naming the missing
 * setup, and never run the body locally.
 *
 * @module
 */
import type { Spin, SpinScope } from "../core/index.js";
import { SpindelError } from "../core/index.js";
import type { Scope } from "./remote-registry.js";

/** Thrown when a `spinRemote` call is reached at run time: the module was not compiled by the spinRemote compiler. */
export class TransformNotConfiguredError extends SpindelError {
  /** @param fnName the enclosing remoteFn's name, when known */
  constructor(fnName: string | undefined) {
    super(
      "ERR_TRANSFORM_MISSING",
      `spinRemote(...) was reached at run time${fnName ? ` in remoteFn '${fnName}'` : ""}: this module was not compiled by the spinRemote compiler (or the compiler reported an error for this call), so the body cannot be sent to a remote peer, and spindel never runs it locally instead. ` +
        `Set up the compiler: for tsc, build with tspc (ts-patch 3) and add { "transform": "spindel/transform" } to compilerOptions.plugins in tsconfig.json; ` +
        `for Vite or Vitest, add spindel() from "spindel/vite" to the plugins of vite.config.ts / vitest.config.ts. ` +
        `If spinRemote is imported from a module other than spindel/distributed, list it in the importSources option. See docs/remote-functions.md.`,
      { fnName },
    );
    this.name = "TransformNotConfiguredError";
  }
}

/** Thrown when `spinRemote` is called at run time outside any `remoteFn(...)` call. */
export class SpinRemoteOutsideRemoteFnError extends SpindelError {
  constructor() {
    super(
      "ERR_SPINREMOTE_OUTSIDE_REMOTEFN",
      "spinRemote(...) must be called inside a function wrapped by remoteFn(...), which gives the remote body its stable id: " +
        "export const f = remoteFn(function f(scope, …) { return spinRemote(scope, […], async ($) => …); }). " +
        "The spinRemote compiler (spindel/transform, spindel/vite) reports this at compile time as SPINDEL004; reaching it at run time also means the module was not compiled.",
    );
    this.name = "SpinRemoteOutsideRemoteFnError";
  }
}

const REMOTE_FN: unique symbol = Symbol.for("spindel.remoteFn");
/** names of the remoteFn calls currently on the stack (innermost last) */
const active: string[] = [];

/**
 * Marks `fn` as a remote function: the compiler gives every `spinRemote` inside it a stable id
 * (`<module>:<name>:<ordinal>`, the name being the function's own name or the variable it is
 * assigned to). Returns a function that calls `fn` with the same arguments and `this`.
 */
export function remoteFn<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R {
  if (typeof fn !== "function") {
    throw new SpindelError("ERR_INVALID_ARGUMENT", `remoteFn expects a function, got ${typeof fn}`);
  }
  const name = fn.name;
  const wrapped = function (this: unknown, ...args: A): R {
    active.push(name);
    try {
      return fn.apply(this, args);
    } finally {
      active.pop();
    }
  };
  Object.defineProperty(wrapped, "name", { value: name, configurable: true });
  Object.defineProperty(wrapped, REMOTE_FN, { value: true });
  return wrapped;
}

/** Whether `f` was made by {@link remoteFn}. */
export function isRemoteFn(f: unknown): boolean {
  return typeof f === "function" && (f as { [REMOTE_FN]?: boolean })[REMOTE_FN] === true;
}

/** A remote spin body: runs on the callee as a spin in the addressed context. */
export type RemoteBody<T> = ($: SpinScope) => T | Promise<T>;

/** The type of {@link spinRemote}. */
export interface SpinRemote {
  /**
   * Runs `body` on the peer addressed by `scope`, as a spin in its context, and returns a spin of
   * the result. `declared` must be an array literal of the enclosing locals the body uses (their
   * values are sent); the compiler checks it.
   */
  <T>(scope: Scope, declared: readonly unknown[], body: RemoteBody<T>): Spin<T>;
  /**
   * Like `spinRemote`, but an undeclared capture is only a warning (SPINDEL001). A footgun: on the
   * remote peer such a name is unbound or a different binding.
   */
  unchecked<T>(scope: Scope, declared: readonly unknown[], body: RemoteBody<T>): Spin<T>;
}

function notCompiled(): never {
  if (active.length === 0) throw new SpinRemoteOutsideRemoteFnError();
  throw new TransformNotConfiguredError(active[active.length - 1] || undefined);
}

/**
 * Runs a body on a remote peer; see {@link SpinRemote}. Every call is replaced by the compiler;
 * reached at run time it throws {@link TransformNotConfiguredError} (or
 * {@link SpinRemoteOutsideRemoteFnError} outside a remoteFn) and never runs the body.
 */
export const spinRemote: SpinRemote = Object.assign(
  function spinRemote<T>(_scope: Scope, _declared: readonly unknown[], _body: RemoteBody<T>): Spin<T> {
    return notCompiled();
  },
  {
    unchecked<T>(_scope: Scope, _declared: readonly unknown[], _body: RemoteBody<T>): Spin<T> {
      return notCompiled();
    },
  },
);
