/**
 * Errors of remote calls. Every failure a caller can see is a {@link RemoteError} with a stable
 * `code`; when the remote body threw, the error carries the original `name`, `message` and `data`.
 * @module
 */
import { SpindelError } from "../core/errors.js";

/**
 * Stable codes of {@link RemoteError}.
 *
 * - `ERR_NO_FUNCTION`: the callee has no remote body registered under the id.
 * - `ERR_NO_CONTEXT`: the callee has no context registered under the addressed id.
 * - `ERR_TIMEOUT`: the call's deadline (`timeoutMs`) passed.
 * - `ERR_DISCONNECTED`: the connection dropped while the call was pending.
 * - `ERR_CANCELLED`: the call was cancelled (AbortSignal, or the callee cancelled the body).
 * - `ERR_VERSION_MISMATCH`: the callee's body has a different source hash or argument names.
 * - `ERR_REMOTE_THROWN`: the remote body threw; `name`, `message`, `data` are the original's.
 * - `ERR_UNAUTHORIZED`: `authenticate` or `authorize` refused.
 * - `ERR_UNAVAILABLE`: no connection to the peer within `connectTimeoutMs`, or the callee is overloaded.
 * - `ERR_PROTOCOL`: a malformed, unknown or out-of-order frame.
 * - `ERR_LIMIT`: a frame exceeded the configured size or structure limits.
 * - `ERR_NOT_SERIALIZABLE`: an argument or result cannot be encoded as CBOR.
 * - `ERR_CLOSED`: the local peer was closed.
 */
export type RemoteErrorCode =
  | "ERR_NO_FUNCTION"
  | "ERR_NO_CONTEXT"
  | "ERR_TIMEOUT"
  | "ERR_DISCONNECTED"
  | "ERR_CANCELLED"
  | "ERR_VERSION_MISMATCH"
  | "ERR_REMOTE_THROWN"
  | "ERR_UNAUTHORIZED"
  | "ERR_UNAVAILABLE"
  | "ERR_PROTOCOL"
  | "ERR_LIMIT"
  | "ERR_NOT_SERIALIZABLE"
  | "ERR_CLOSED";

const CODES: ReadonlySet<string> = new Set<RemoteErrorCode>([
  "ERR_NO_FUNCTION",
  "ERR_NO_CONTEXT",
  "ERR_TIMEOUT",
  "ERR_DISCONNECTED",
  "ERR_CANCELLED",
  "ERR_VERSION_MISMATCH",
  "ERR_REMOTE_THROWN",
  "ERR_UNAUTHORIZED",
  "ERR_UNAVAILABLE",
  "ERR_PROTOCOL",
  "ERR_LIMIT",
  "ERR_NOT_SERIALIZABLE",
  "ERR_CLOSED",
]);

/** True when `code` is one of the {@link RemoteErrorCode}s. */
export function isRemoteErrorCode(code: unknown): code is RemoteErrorCode {
  return typeof code === "string" && CODES.has(code);
}

/** Extra detail of a {@link RemoteError}. */
export interface RemoteErrorDetail {
  /** The original error's `name` (default `"RemoteError"`). */
  name?: string;
  /** The original error's `data` (or the thrown value itself when it was not an Error). */
  data?: unknown;
  /** The peer the call addressed. */
  peer?: string;
  /** The remote function id. */
  fn?: string;
  /** The original error's own `code` property, if it had a string one (e.g. `"ENOENT"`). */
  remoteCode?: string;
  /** The remote stack trace (only sent when the callee enables `exposeStacks`). */
  remoteStack?: string;
  /** The local error behind this one (self-invocation, encode failures). */
  cause?: unknown;
}

/**
 * A failed remote call. `code` says what happened (see {@link RemoteErrorCode}); for
 * `ERR_REMOTE_THROWN`, `name`, `message` and `data` are those of the error the remote body threw.
 * `instanceof RemoteError` holds in every case.
 */
export class RemoteError extends SpindelError {
  /** What happened (stable). */
  declare readonly code: RemoteErrorCode;
  /** The peer the call addressed, when known. */
  readonly peer: string | undefined;
  /** The remote function id, when known. */
  readonly fn: string | undefined;
  /** The original error's own `code` property (e.g. `"ENOENT"`), when it had one. */
  readonly remoteCode: string | undefined;
  /** The remote stack trace, when the callee exposes stacks. */
  readonly remoteStack: string | undefined;

  /**
   * @param code stable code
   * @param message the (original) message
   * @param detail name, data, peer, fn, remote code and stack
   */
  constructor(code: RemoteErrorCode, message: string, detail?: RemoteErrorDetail) {
    super(code, message, detail?.data);
    this.name = detail?.name ?? "RemoteError";
    this.peer = detail?.peer;
    this.fn = detail?.fn;
    this.remoteCode = detail?.remoteCode;
    this.remoteStack = detail?.remoteStack;
    if (detail?.cause !== undefined)
      Object.defineProperty(this, "cause", { value: detail.cause, configurable: true });
  }
}

/** True when `e` is a {@link RemoteError} (optionally with the given code). */
export function isRemoteError(e: unknown, code?: RemoteErrorCode): e is RemoteError {
  return e instanceof RemoteError && (code === undefined || e.code === code);
}

/** @internal the fix half of an `ERR_NO_CONTEXT` message, for the peer that lacks the context */
export function noContextFix(contextId: string): string {
  return contextId === "default"
    ? 'Fix: give that peer a context to serve calls in: new Peer({ id, context: createContext() }) (also Peer.listen/Peer.connect), or peer.contexts.register("default", ctx).'
    : `Fix: on that peer, peer.contexts.register(${JSON.stringify(contextId)}, ctx) before calling it.`;
}
