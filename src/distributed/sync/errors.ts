/**
 * Errors of topics and signal sync. Every refusal or failure a caller sees is a {@link TopicError}
 * with a stable `code`; authorization hooks may choose their own code (e.g. `ERR_NOT_LEASE_HOLDER`).
 * @module
 */
import { SpindelError } from "../../core/errors.js";

/**
 * Codes the topic layer itself produces. Authorization hooks may refuse with any other
 * `ERR_...` string, which travels to the subscriber unchanged.
 *
 * - `ERR_UNAUTHORIZED`: `authorizeSubscribe` / `authorizePublish` refused (the default refusal code).
 * - `ERR_NO_TOPIC`: the addressed peer owns no such topic (or it was closed).
 * - `ERR_NOT_SUBSCRIBED`: a publish on a link that has not subscribed to the topic.
 * - `ERR_MALFORMED`: a topic frame of the wrong shape.
 * - `ERR_INCOMPATIBLE`: the two sides of a topic replicate in different ways (δ vs LWW).
 * - `ERR_TIMEOUT`: a handshake batch was not acknowledged, or the handshake stalled.
 * - `ERR_TOPIC_EXISTS`: this peer already owns or subscribes to the topic.
 * - `ERR_INVALID_ARGUMENT`: bad options (refused when the topic is created).
 * - `ERR_CLOSED`: the topic or subscription was closed.
 * - `ERR_HANDSHAKE`: the owner's handshake producer threw.
 */
export type TopicErrorCode =
  | "ERR_UNAUTHORIZED"
  | "ERR_NO_TOPIC"
  | "ERR_NOT_SUBSCRIBED"
  | "ERR_MALFORMED"
  | "ERR_INCOMPATIBLE"
  | "ERR_TIMEOUT"
  | "ERR_TOPIC_EXISTS"
  | "ERR_INVALID_ARGUMENT"
  | "ERR_CLOSED"
  | "ERR_HANDSHAKE";

/** A refusal or failure of a topic operation; `code` is a {@link TopicErrorCode} or a hook's own code. */
export class TopicError extends SpindelError {
  /** The topic concerned (`null` when a frame was too malformed to name one). */
  readonly topic: string | null;

  /**
   * @param code stable code (`TopicErrorCode`, or the code an authorization hook chose)
   * @param message human-readable message
   * @param topic the topic concerned
   */
  constructor(code: TopicErrorCode | (string & {}), message: string, topic: string | null = null) {
    super(code, message);
    this.name = "TopicError";
    this.topic = topic;
  }
}

/** True when `e` is a {@link TopicError} (optionally with the given code). */
export function isTopicError(e: unknown, code?: string): e is TopicError {
  return e instanceof TopicError && (code === undefined || e.code === code);
}

/** The code and message an error should travel with (hooks may throw anything). */
export function refusalOf(e: unknown, fallback: string): { code: string; message: string } {
  if (typeof e === "object" && e !== null) {
    const c = (e as { code?: unknown }).code;
    const m = (e as { message?: unknown }).message;
    if (typeof c === "string" && c.startsWith("ERR_"))
      return { code: c, message: typeof m === "string" ? m : fallback };
    if (typeof m === "string") return { code: "ERR_UNAUTHORIZED", message: m };
  }
  return { code: "ERR_UNAUTHORIZED", message: fallback };
}
