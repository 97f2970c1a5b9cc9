/**
 * Typed errors of workspaces: every refusal carries a stable `code`.
 * @module
 */
import { SpindelError } from "../../core/errors.js";

/** Stable codes of {@link WorkspaceError}. */
export type WorkspaceErrorCode =
  /** A write to a branch whose descriptor names another owner (or none). */
  | "ERR_NOT_LEASE_HOLDER"
  /** `write` before any workspace is seated. */
  | "ERR_NOT_SEATED"
  /** A system id the descriptor, the resolver or the lookup does not know. */
  | "ERR_UNKNOWN_SYSTEM"
  /** A branch or snapshot a system does not have. */
  | "ERR_NO_BRANCH"
  /** A merge refused because both sides changed the same key differently. */
  | "ERR_MERGE_CONFLICT"
  /** A content node the store does not hold (the checkout is not local yet). */
  | "ERR_MISSING_CONTENT"
  /** The workspace peer was stopped. */
  | "ERR_STOPPED"
  /** A descriptor that is not well-formed. */
  | "ERR_INVALID_DESCRIPTOR";

/** An error raised by a workspace peer, a branchable system or the lease. */
export class WorkspaceError extends SpindelError {
  declare readonly code: WorkspaceErrorCode;
  /**
   * @param code stable machine-readable code
   * @param message human-readable message
   * @param data optional structured detail
   */
  constructor(code: WorkspaceErrorCode, message: string, data?: unknown) {
    super(code, message, data);
    this.name = "WorkspaceError";
  }
}

/** Whether `e` is a {@link WorkspaceError} (with `code`, when given). */
export function isWorkspaceError(e: unknown, code?: WorkspaceErrorCode): e is WorkspaceError {
  return e instanceof WorkspaceError && (code === undefined || e.code === code);
}
