/**
 * Errors of stores and their replication: one class, {@link StoreError}, with a stable `code`.
 * @module
 */
import { SpindelError } from "../../core/errors.js";

/**
 * Stable codes of {@link StoreError}.
 *
 * - `ERR_STORE_OPEN`: the store could not be opened (a path that is not a directory, no permission,
 *   a database another process holds).
 * - `ERR_STORE_CORRUPT`: a stored record could not be read back (bad header, undecodable value).
 * - `ERR_STORE_CLOSED`: the store was closed.
 * - `ERR_IMMUTABLE`: a different value was written over an immutable key.
 * - `ERR_LIMIT`: a key or value over the limits (a local write, or a replicated frame).
 * - `ERR_INVALID_ARGUMENT`: a key that is not a non-empty string, a value CBOR cannot carry, bad options.
 * - `ERR_PROTOCOL`: a replication message that does not parse.
 */
export type StoreErrorCode =
  | "ERR_STORE_OPEN"
  | "ERR_STORE_CORRUPT"
  | "ERR_STORE_CLOSED"
  | "ERR_IMMUTABLE"
  | "ERR_LIMIT"
  | "ERR_INVALID_ARGUMENT"
  | "ERR_PROTOCOL";

/** A failure of a store or of store replication; `key` names the key involved, if any. */
export class StoreError extends SpindelError {
  /** The stable code (see {@link StoreErrorCode}). */
  declare readonly code: StoreErrorCode;
  /** The key involved, if any. */
  readonly key: string | undefined;

  /**
   * @param code stable code
   * @param message human-readable message
   * @param key the key involved
   * @param cause the underlying error (a backend's, a decoder's)
   */
  constructor(code: StoreErrorCode, message: string, key?: string, cause?: unknown) {
    super(code, message);
    this.name = "StoreError";
    this.key = key;
    if (cause !== undefined) (this as { cause?: unknown }).cause = cause;
  }
}
