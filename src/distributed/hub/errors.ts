/**
 * Errors of the hub: bad flags, a busy port, an unwritable store, a Redis that is unreachable.
 * Each has a stable `code`; the CLI prints the message and exits non-zero.
 * @module
 */
import { SpindelError } from "../../core/errors.js";

/** Stable codes of {@link HubError}. */
export type HubErrorCode =
  /** A command-line flag is unknown, missing its value, or its value is invalid. */
  | "ERR_BAD_FLAG"
  /** The port is already in use (or cannot be bound) on that host. */
  | "ERR_PORT_IN_USE"
  /** The store directory cannot be created, written or locked (another hub may hold it). */
  | "ERR_STORE_UNWRITABLE"
  /** The Redis URL is malformed or Redis did not answer. */
  | "ERR_REDIS"
  /** The hub (or its bus) is closed. */
  | "ERR_CLOSED";

/** An error of the hub or its command line. */
export class HubError extends SpindelError {
  declare readonly code: HubErrorCode;

  /**
   * @param code stable code
   * @param message what went wrong and what to do about it
   * @param data optional structured detail (e.g. the underlying error)
   */
  constructor(code: HubErrorCode, message: string, data?: unknown) {
    super(code, message, data);
    this.name = "HubError";
  }
}
