/**
 * Errors of the replikativ stage and of streaming into an identity.
 * @module
 */
import { SpindelError } from "../../core/errors.js";

/**
 * Stable codes of {@link StageError}.
 *
 * - `ERR_TYPE_MISMATCH`: `[user, id]` already holds a datatype of another kind.
 * - `ERR_STAGE_CLOSED`: the stage was closed.
 * - `ERR_STAGE_PROTOCOL`: a remote stage sent a malformed request or answer.
 * - `ERR_UNAUTHORIZED`: the remote stage refused to open a datatype.
 * - `ERR_NO_EVAL_FN`: a streamed operation names no function in the eval map.
 * - `ERR_STREAM_CONFLICT`: the CDVCS has several heads; the stream waits for a merge.
 * - `ERR_INVALID_ARGUMENT`: a malformed address, id, key or operation list.
 */
export type StageErrorCode =
  | "ERR_TYPE_MISMATCH"
  | "ERR_STAGE_CLOSED"
  | "ERR_STAGE_PROTOCOL"
  | "ERR_UNAUTHORIZED"
  | "ERR_NO_EVAL_FN"
  | "ERR_STREAM_CONFLICT"
  | "ERR_INVALID_ARGUMENT";

/** A failure of the stage (see {@link StageErrorCode}). */
export class StageError extends SpindelError {
  /** Which failure (stable). */
  declare readonly code: StageErrorCode;

  /**
   * @param code stable code
   * @param message human-readable message
   * @param data structured detail (the address, the heads…)
   */
  constructor(code: StageErrorCode, message: string, data?: unknown) {
    super(code, message, data);
    this.name = "StageError";
  }
}
