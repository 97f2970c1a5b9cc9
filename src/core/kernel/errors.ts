/**
 * Typed errors. Every error spindel throws is a {@link SpindelError} with a stable `code`.
 * @module
 */

/** Stable error codes thrown by the core runtime. */
export type CoreErrorCode =
  | "ERR_CANCELLED"
  | "ERR_DISPOSED"
  | "ERR_INVALID_ARGUMENT"
  | "ERR_NOT_IN_SPIN"
  | "ERR_NOT_SETTLED"
  | "ERR_CYCLE"
  | "ERR_READONLY"
  | "ERR_NOT_SERIALIZABLE"
  | "ERR_DESERIALIZE"
  | "ERR_NO_BODY"
  | "ERR_TIMEOUT"
  | "ERR_OVER_RELEASE"
  | "ERR_VIRTUAL_CLOCK";

/** Base class of every error raised by spindel. `code` is stable and documented. */
export class SpindelError extends Error {
  /** A stable, machine-readable code such as `ERR_CANCELLED`. */
  readonly code: string;
  /** Optional structured detail. */
  readonly data?: unknown;

  /**
   * @param code stable machine-readable code
   * @param message human-readable message
   * @param data optional structured detail
   */
  constructor(code: string, message: string, data?: unknown) {
    super(message);
    this.name = "SpindelError";
    this.code = code;
    if (data !== undefined) this.data = data;
  }
}

/**
 * Thrown at the pending effect of a cancelled or superseded spin body (so `try/finally` runs),
 * and cached as the result of a cancelled spin.
 */
export class Cancelled extends SpindelError {
  /** Why the run ended: `"cancelled"` (explicit cancel, dispose, race loser) or `"superseded"` (a re-run replaced it). */
  readonly reason: "cancelled" | "superseded";

  /**
   * @param message human-readable message
   * @param reason `"cancelled"` or `"superseded"`
   */
  constructor(message = "spin cancelled", reason: "cancelled" | "superseded" = "cancelled") {
    super("ERR_CANCELLED", message);
    this.name = "Cancelled";
    this.reason = reason;
  }
}

/** Thrown when a disposed context is used. */
export class ContextDisposedError extends SpindelError {
  /** @param what what was attempted on the disposed context */
  constructor(what: string) {
    super("ERR_DISPOSED", `context is disposed: cannot ${what}`);
    this.name = "ContextDisposedError";
  }
}

/** Preallocated reason used to abort `$.signal` (creating a DOMException per abort is costly). */
export const CANCEL_REASON: Cancelled = new Cancelled("spin cancelled");
/**
 * The value of a wait the body abandoned: an entry still pending when its run finished (the losing
 * `$.await` of a `Promise.race`). The entry settles with it at the finish, as an error read: the
 * log check walks past it (a pending entry ends every check), a spin's entry keeps the version the
 * awaited spin had then, and a one-shot entry is waited on again, never replayed, by a re-run.
 */
export const ABANDONED: Cancelled = new Cancelled("wait abandoned: the body finished without it");

/** Preallocated reason used when a run is superseded by a newer run of the same spin. */
export const SUPERSEDE_REASON: Cancelled = new Cancelled("spin run superseded by a newer run", "superseded");

/** Throws a typed {@link SpindelError} with code `ERR_INVALID_ARGUMENT`. */
export function invalidArgument(message: string): never {
  throw new SpindelError("ERR_INVALID_ARGUMENT", message);
}

/** True when `e` is a {@link Cancelled} error. */
export function isCancelled(e: unknown): e is Cancelled {
  return e instanceof Cancelled;
}
