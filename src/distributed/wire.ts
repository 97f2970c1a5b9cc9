/**
 * The wire: binary WebSocket frames, each one CBOR map with a text `type` (plain interoperable
 * CBOR, the same options as the shared codec in `src/core/codec.ts`). Five frame types:
 *
 * | type     | fields                                                                 |
 * |----------|------------------------------------------------------------------------|
 * | `hello`  | `v` (protocol version), `peer` (sender id), `credential?`              |
 * | `invoke` | `id`, `fn`, `args` (name → value), `ctx?`, `hash?`, `timeoutMs?`       |
 * | `result` | `id`, `value`                                                          |
 * | `cancel` | `id`                                                                   |
 * | `error`  | `id?` (absent: about the connection), `code`, `name`, `message`, `data?`, `remoteCode?`, `stack?` |
 *
 * Decoding first runs {@link checkCbor} (limits, tag allowlist), then `cbor-x`, then a shape check.
 * @module
 */
import { Decoder, Encoder } from "cbor-x";
import { CBOR_OPTIONS } from "../core/codec.js";
import { RemoteError, type RemoteErrorCode } from "./errors.js";
import { checkCbor, type WireLimits } from "./limits.js";

/** Protocol version carried by `hello`. */
export const PROTOCOL_VERSION = 1;

/** First frame in both directions: who is speaking. */
export interface HelloFrame {
  /** Frame type. */
  type: "hello";
  /** Protocol version ({@link PROTOCOL_VERSION}). */
  v: number;
  /** The sender's peer id. */
  peer: string;
  /** Optional credential (client → server), handed to `authenticate`. */
  credential?: unknown;
}

/** Run a registered remote body. */
export interface InvokeFrame {
  /** Frame type. */
  type: "invoke";
  /** Request id, unique among the sender's pending calls on this connection. */
  id: number;
  /** Remote function id. */
  fn: string;
  /** Declared argument values by name. */
  args: Record<string, unknown>;
  /** Context id on the callee (absent: `"default"`). */
  ctx?: string;
  /** Source hash of the body the caller was built with. */
  hash?: string;
  /** The caller's deadline, relative, in ms: the callee cancels the body when it passes. */
  timeoutMs?: number;
}

/** Successful result of an invoke. */
export interface ResultFrame {
  /** Frame type. */
  type: "result";
  /** Request id of the invoke. */
  id: number;
  /** The body's result (`undefined` is sent as `null`). */
  value: unknown;
}

/** Ask the callee to cancel an invoke. */
export interface CancelFrame {
  /** Frame type. */
  type: "cancel";
  /** Request id of the invoke. */
  id: number;
}

/** A failed invoke (with `id`) or a connection-level problem (without). */
export interface ErrorFrame {
  /** Frame type. */
  type: "error";
  /** Request id of the failed invoke; absent for connection-level errors. */
  id?: number;
  /** A {@link RemoteErrorCode}. */
  code: RemoteErrorCode;
  /** Original error name. */
  name: string;
  /** Original error message. */
  message: string;
  /** Original error data. */
  data?: unknown;
  /** Original error's own `code` property. */
  remoteCode?: string;
  /** Remote stack (only with `exposeStacks`). */
  stack?: string;
}

/** Any frame. */
export type Frame = HelloFrame | InvokeFrame | ResultFrame | CancelFrame | ErrorFrame;

const encoder = new Encoder(CBOR_OPTIONS);
// copyBuffers: decoded byte strings and typed arrays own their memory (they are not views into
// the socket's receive buffer, which may hold other frames).
const decoder = new Decoder({ ...CBOR_OPTIONS, copyBuffers: true });

/** Encode a frame. Throws a {@link RemoteError} `ERR_NOT_SERIALIZABLE` when a value cannot be encoded. */
export function encodeFrame(frame: Frame): Uint8Array {
  try {
    return encoder.encode(frame);
  } catch (err) {
    throw new RemoteError("ERR_NOT_SERIALIZABLE", `cannot encode ${frame.type} frame: ${messageOf(err)}`, {
      cause: err,
    });
  }
}

/**
 * A frame that failed validation. `id` is set when the frame was an invoke whose request id could
 * be read, so the error can be answered to that call.
 */
export class FrameError extends RemoteError {
  /** Request id of the bad invoke, when readable. */
  readonly requestId: number | undefined;

  /**
   * @param code `ERR_PROTOCOL` or `ERR_LIMIT`
   * @param message what is wrong
   * @param requestId the invoke's request id, when readable
   */
  constructor(code: RemoteErrorCode, message: string, requestId?: number) {
    super(code, message);
    this.requestId = requestId;
  }
}

function bad(message: string, id?: number): FrameError {
  return new FrameError("ERR_PROTOCOL", message, id);
}

/** Decode and validate one frame. Throws a {@link FrameError} on anything malformed. */
export function decodeFrame(bytes: Uint8Array, limits: WireLimits): Frame {
  try {
    checkCbor(bytes, limits);
  } catch (err) {
    if (err instanceof RemoteError) throw new FrameError(err.code, err.message);
    throw bad(`malformed CBOR: ${messageOf(err)}`);
  }
  let raw: unknown;
  try {
    raw = decoder.decode(bytes);
  } catch (err) {
    throw bad(`undecodable CBOR: ${messageOf(err)}`);
  }
  return validate(raw);
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return (
    typeof x === "object" && x !== null && !Array.isArray(x) && Object.getPrototypeOf(x) === Object.prototype
  );
}

function isRequestId(x: unknown): x is number {
  return typeof x === "number" && Number.isInteger(x) && x > 0 && x <= 0x7fffffff;
}

function optString(f: Record<string, unknown>, key: string, id?: number): string | undefined {
  const v = f[key];
  if (v === undefined) return undefined;
  if (typeof v !== "string") throw bad(`field "${key}" must be a string`, id);
  return v;
}

function validate(raw: unknown): Frame {
  if (!isRecord(raw)) throw bad("a frame must be a CBOR map");
  const type = raw.type;
  switch (type) {
    case "hello": {
      if (typeof raw.v !== "number") throw bad('hello: field "v" must be a number');
      if (typeof raw.peer !== "string" || raw.peer === "" || raw.peer.length > 256)
        throw bad('hello: field "peer" must be a non-empty string of at most 256 characters');
      const f: HelloFrame = { type, v: raw.v, peer: raw.peer };
      if (raw.credential !== undefined) f.credential = raw.credential;
      return f;
    }
    case "invoke": {
      const id = isRequestId(raw.id) ? raw.id : undefined;
      if (id === undefined) throw bad('invoke: field "id" must be an integer in [1, 2^31)');
      if (typeof raw.fn !== "string" || raw.fn === "")
        throw bad('invoke: field "fn" must be a non-empty string', id);
      if (!isRecord(raw.args))
        throw bad('invoke: field "args" must be a map of argument names to values', id);
      const f: InvokeFrame = { type, id, fn: raw.fn, args: raw.args };
      const ctx = optString(raw, "ctx", id);
      if (ctx !== undefined) f.ctx = ctx;
      const hash = optString(raw, "hash", id);
      if (hash !== undefined) f.hash = hash;
      const t = raw.timeoutMs;
      if (t !== undefined && t !== null) {
        if (typeof t !== "number" || !(t >= 0) || !Number.isFinite(t))
          throw bad('invoke: field "timeoutMs" must be a non-negative finite number', id);
        f.timeoutMs = t;
      }
      return f;
    }
    case "result":
      if (!isRequestId(raw.id)) throw bad('result: field "id" must be an integer in [1, 2^31)');
      return { type, id: raw.id, value: raw.value };
    case "cancel":
      if (!isRequestId(raw.id)) throw bad('cancel: field "id" must be an integer in [1, 2^31)');
      return { type, id: raw.id };
    case "error": {
      if (raw.id !== undefined && raw.id !== null && !isRequestId(raw.id))
        throw bad('error: field "id" must be an integer in [1, 2^31) when present');
      if (typeof raw.code !== "string") throw bad('error: field "code" must be a string');
      const f: ErrorFrame = {
        type,
        code: raw.code as RemoteErrorCode,
        name: typeof raw.name === "string" ? raw.name : "Error",
        message: typeof raw.message === "string" ? raw.message : "",
      };
      if (isRequestId(raw.id)) f.id = raw.id;
      if (raw.data !== undefined) f.data = raw.data;
      if (typeof raw.remoteCode === "string") f.remoteCode = raw.remoteCode;
      if (typeof raw.stack === "string") f.stack = raw.stack;
      return f;
    }
    default:
      throw bad(
        `unknown frame type ${typeof type === "string" ? JSON.stringify(type.slice(0, 64)) : typeof type}`,
      );
  }
}

/** The message of an unknown thrown value. */
export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  try {
    return String(err);
  } catch {
    return "unprintable error";
  }
}
