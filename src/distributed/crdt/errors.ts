/**
 * Typed errors of the convergent datatypes.
 * @module
 */
import { SpindelError } from "../../core/errors.js";

/** Stable codes thrown by `spindel/crdt`. */
export type CrdtErrorCode =
  | "ERR_DESERIALIZE"
  | "ERR_MULTIPLE_HEADS"
  | "ERR_MERGE_CONFLICT"
  | "ERR_INVALID_ARGUMENT"
  | "ERR_UNKNOWN_BRANCH"
  | "ERR_COUNTER_EXHAUSTED";

/** An error raised by a convergent datatype; `code` says which rule was broken. */
export class CrdtError extends SpindelError {
  /** The stable code. */
  declare readonly code: CrdtErrorCode;
  /**
   * @param code stable machine-readable code
   * @param message human-readable message
   * @param data optional structured detail (for `ERR_MERGE_CONFLICT`, `{ conflicts }`)
   */
  constructor(code: CrdtErrorCode, message: string, data?: unknown) {
    super(code, message, data);
    this.name = "CrdtError";
  }
}

/** Thrown when an encoded datatype is malformed; no half-built value is ever returned. */
export class CrdtDecodeError extends CrdtError {
  /** @param what which datatype and which part was malformed */
  constructor(what: string) {
    super("ERR_DESERIALIZE", `malformed encoded ${what}`);
    this.name = "CrdtDecodeError";
  }
}

/** Throws {@link CrdtDecodeError} unless `ok`. */
export function decodeCheck(ok: boolean, what: string): asserts ok {
  if (!ok) throw new CrdtDecodeError(what);
}

/** Throws a {@link CrdtError} with code `ERR_INVALID_ARGUMENT`. */
export function badArgument(message: string): never {
  throw new CrdtError("ERR_INVALID_ARGUMENT", message);
}
