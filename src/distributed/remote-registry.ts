/**
 * The runtime contract the spinRemote compiler emits code against.
 *
 * Compiled modules register every remote body at load time with {@link registerRemote} and
 * replace each `spinRemote(scope, [args…], body)` call by {@link invokeRemote}. Only the id and the
 * declared argument values cross the wire; the callee looks the definition up by id with
 * {@link lookupRemote}, compares the hash, and runs `def.factory(...args)` as a spin in the
 * addressed context.
 *
 * @module
 */
import { SpindelError } from "../core/errors.js";
import type { Spin, SpinScope } from "../core/index.js";

/** Codes of {@link RemoteRegistryError}. */
export type RemoteRegistryErrorCode =
  /** the same id was registered with a different hash (two different bodies under one id) */
  | "ERR_REMOTE_ID_CONFLICT"
  /** `registerRemote` was called with arguments of the wrong shape */
  | "ERR_INVALID_REMOTE"
  /** `invokeRemote` got something that is not a scope, or the wrong number of arguments */
  | "ERR_INVALID_SCOPE";

/** A misuse of the remote registry, with a stable `code` (a {@link SpindelError}). */
export class RemoteRegistryError extends SpindelError {
  /** stable, machine-readable code */
  declare readonly code: RemoteRegistryErrorCode;

  /**
   * @param code stable code
   * @param message human-readable message
   * @param data structured detail (ids, hashes)
   */
  constructor(code: RemoteRegistryErrorCode, message: string, data?: Readonly<Record<string, unknown>>) {
    super(code, message, data);
    this.name = "RemoteRegistryError";
  }
}

/** A remote body registered under a stable id. */
export interface RemoteDefinition {
  /** stable id: `<module path relative to the package root>:<remoteFn name>:<ordinal>` */
  readonly id: string;
  /** the declared argument names, in order */
  readonly params: readonly string[];
  /** hash of the declared names and the normalised body source; peers with different hashes run different code */
  readonly hash: string;
  /** given the declared argument values in order, returns the spin body to run on the callee */
  readonly factory: (...args: unknown[]) => (scope: SpinScope) => unknown;
}

interface Entry {
  readonly def: RemoteDefinition;
  /** the factory of the latest evaluation of the module (see {@link registerRemote}) */
  current: RemoteDefinition["factory"];
}

const registry = new Map<string, Entry>();

/**
 * Registers a remote body (emitted by the compiler at module level). Registering the same id with
 * the same hash again returns the existing definition (a module evaluated twice, e.g. by hot
 * reload); its factory then runs the latest evaluation's body, so the body sees that module
 * instance's bindings. The same id with a different hash throws `ERR_REMOTE_ID_CONFLICT`.
 */
export function registerRemote(
  id: string,
  params: readonly string[],
  hash: string,
  factory: RemoteDefinition["factory"],
): RemoteDefinition {
  if (typeof id !== "string" || id === "") {
    throw new RemoteRegistryError("ERR_INVALID_REMOTE", "registerRemote: the id must be a non-empty string", {
      id,
    });
  }
  if (!Array.isArray(params) || params.some((p) => typeof p !== "string")) {
    throw new RemoteRegistryError(
      "ERR_INVALID_REMOTE",
      `registerRemote(${id}): params must be an array of names`,
      {
        id,
      },
    );
  }
  if (typeof hash !== "string" || typeof factory !== "function") {
    throw new RemoteRegistryError(
      "ERR_INVALID_REMOTE",
      `registerRemote(${id}): expected a hash string and a factory function`,
      { id },
    );
  }
  const existing = registry.get(id);
  if (existing !== undefined) {
    if (existing.def.hash === hash) {
      existing.current = factory;
      return existing.def;
    }
    throw new RemoteRegistryError(
      "ERR_REMOTE_ID_CONFLICT",
      `remote id '${id}' is already registered with hash ${existing.def.hash}, not ${hash}: two different bodies claim one id (two copies of a module from different builds, or an edited body hot-reloaded: restart the peer)`,
      { id, registeredHash: existing.def.hash, hash },
    );
  }
  const entry: Entry = {
    def: Object.freeze({
      id,
      params: Object.freeze([...params]),
      hash,
      factory: (...args: unknown[]) => entry.current(...args),
    }),
    current: factory,
  };
  registry.set(id, entry);
  return entry.def;
}

/** The definition registered under `id`, if any. */
export function lookupRemote(id: string): RemoteDefinition | undefined {
  return registry.get(id)?.def;
}

/** The ids of every registered definition (diagnostics, tests). */
export function registeredRemoteIds(): string[] {
  return [...registry.keys()];
}

/** Anything a call can be addressed to: implemented by peer scope handles (remote calls) and by in-process transports in tests. */
export interface RemoteTarget {
  /** starts (lazily, as a spin) the remote body `def` with `args` in the callee's context `contextId` (`undefined`: its default context) */
  invokeRemote(def: RemoteDefinition, args: readonly unknown[], contextId: string | undefined): Spin<unknown>;
}

/** Where a remote body runs: a target (its default context), or `[target, contextId]`. */
export type Scope = RemoteTarget | readonly [RemoteTarget, string];

function isTarget(x: unknown): x is RemoteTarget {
  return (
    typeof x === "object" &&
    x !== null &&
    typeof (x as { invokeRemote?: unknown }).invokeRemote === "function" &&
    !Array.isArray(x)
  );
}

function describe(x: unknown): string {
  if (x === null) return "null";
  if (Array.isArray(x)) return `an array of length ${x.length}`;
  return typeof x === "object" ? "an object without invokeRemote()" : typeof x;
}

/**
 * Invokes `def` on `scope` with the declared argument values (emitted by the compiler at each
 * call site). Validates the scope — a {@link RemoteTarget} or a `[target, contextId]` pair — and
 * the argument count, then delegates to the target.
 */
export function invokeRemote<T>(def: RemoteDefinition, scope: Scope, args: readonly unknown[]): Spin<T> {
  if (
    typeof def !== "object" ||
    def === null ||
    typeof def.id !== "string" ||
    typeof def.factory !== "function"
  ) {
    throw new RemoteRegistryError("ERR_INVALID_REMOTE", "invokeRemote: not a registered remote definition");
  }
  if (!Array.isArray(args) || args.length !== def.params.length) {
    throw new RemoteRegistryError(
      "ERR_INVALID_SCOPE",
      `invokeRemote(${def.id}): expected ${def.params.length} argument value(s) [${def.params.join(", ")}], got ${Array.isArray(args) ? args.length : describe(args)}`,
      { id: def.id },
    );
  }
  let target: RemoteTarget;
  let contextId: string | undefined;
  if (Array.isArray(scope)) {
    const [t, c] = scope as readonly unknown[];
    if (scope.length !== 2 || !isTarget(t) || typeof c !== "string") {
      throw new RemoteRegistryError(
        "ERR_INVALID_SCOPE",
        `invokeRemote(${def.id}): a scope tuple must be [target, contextId: string], got ${describe(scope)}`,
        { id: def.id },
      );
    }
    target = t;
    contextId = c;
  } else if (isTarget(scope)) {
    target = scope;
  } else {
    throw new RemoteRegistryError(
      "ERR_INVALID_SCOPE",
      `invokeRemote(${def.id}): the scope must be a remote target (a peer scope handle) or [target, contextId], got ${describe(scope)}`,
      { id: def.id },
    );
  }
  return target.invokeRemote(def, args, contextId) as Spin<T>;
}
