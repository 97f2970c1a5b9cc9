/**
 * The wire: binary WebSocket frames, each one CBOR array whose first item is the frame type (plain
 * interoperable CBOR, the same options as the shared codec in `src/core/persist/codec.ts`). Fields are
 * positional, so a frame carries no key strings; an optional field in the middle is `null` when
 * absent, trailing optional fields may be left out. Seven frame types:
 *
 * | frame    | array                                                                          |
 * |----------|--------------------------------------------------------------------------------|
 * | `hello`  | `[1, v, peer, credential?, limits?]` (protocol version, sender id; `limits`: what the sender accepts, {@link LIMITS_IN_HELLO}) |
 * | `invoke` | `[2, id, fn, args, ctx?, hash?, timeoutMs?]` (`args`: the declared values, in order) |
 * | `result` | `[3, id, value]`                                                               |
 * | `cancel` | `[4, id]`                                                                      |
 * | `error`  | `[5, id?, code, name, message, remoteCode?, stack?, data?]` (`id` null: about the connection) |
 * | `ping`   | `[6]`: a heartbeat from a side that cannot send WebSocket pings (a browser)     |
 * | `pong`   | `[7]`: the answer to `ping`                                                    |
 * | `protocol` | `[8, protocol, payload]`: a payload for the protocol attached under that name |
 *
 * In memory a frame is an object ({@link Frame}); {@link encodeFrame} and {@link decodeFrame}
 * translate. Decoding first runs {@link checkCbor} (limits, tag allowlist), then `cbor-x`, then a
 * shape check.
 * @module
 */
import { Decoder, Encoder } from "cbor-x";
import { CBOR_OPTIONS } from "../core/persist/codec.js";
import { RemoteError, type RemoteErrorCode } from "./errors.js";
import { checkCbor, type WireLimits } from "./limits.js";

/** Protocol version carried by `hello` (2: positional frames; 1 had CBOR maps). */
export const PROTOCOL_VERSION = 2;

/** The type codes in the first item of every frame. */
export const FrameType = {
  hello: 1,
  invoke: 2,
  result: 3,
  cancel: 4,
  error: 5,
  ping: 6,
  pong: 7,
  protocol: 8,
} as const;

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
  /** The sender's receive limits, so this side checks its frames before sending them. */
  limits?: Partial<WireLimits>;
}

/** The limits a hello carries, in this order (positional, as the frames are). */
export const LIMITS_IN_HELLO = [
  "maxFrameBytes",
  "maxDepth",
  "maxContainerLength",
  "maxItems",
  "maxBigIntBytes",
] as const satisfies readonly (keyof WireLimits)[];

/** Run a registered remote body. */
export interface InvokeFrame {
  /** Frame type. */
  type: "invoke";
  /** Request id, unique among the sender's pending calls on this connection. */
  id: number;
  /** Remote function id. */
  fn: string;
  /** Declared argument values, in the order of the function's parameters. */
  args: readonly unknown[];
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

/** Heartbeat of a side that cannot send WebSocket pings; answered with {@link PongFrame}. */
export interface PingFrame {
  /** Frame type. */
  type: "ping";
}

/** The answer to a {@link PingFrame}. */
export interface PongFrame {
  /** Frame type. */
  type: "pong";
}

/** A payload for a protocol riding on the link (topics, signal sync, replication). */
export interface ProtocolFrame {
  /** Frame type. */
  type: "protocol";
  /** The protocol's name (as attached with `attachProtocol`). */
  protocol: string;
  /** Its payload (any CBOR-encodable value). */
  payload: unknown;
}

/** Any frame. */
export type Frame =
  | HelloFrame
  | InvokeFrame
  | ResultFrame
  | CancelFrame
  | ErrorFrame
  | PingFrame
  | PongFrame
  | ProtocolFrame;

const encoder = new Encoder(CBOR_OPTIONS);
// copyBuffers: decoded byte strings and typed arrays own their memory (they are not views into
// the socket's receive buffer, which may hold other frames).
const decoder = new Decoder({ ...CBOR_OPTIONS, copyBuffers: true });

/** The positional array of a frame (what {@link encodeFrame} encodes). */
export function frameToWire(frame: Frame): unknown[] {
  switch (frame.type) {
    case "hello": {
      const f: unknown[] = [FrameType.hello, frame.v, frame.peer];
      if (frame.credential !== undefined || frame.limits !== undefined) f.push(frame.credential ?? null);
      if (frame.limits !== undefined) {
        const l = frame.limits;
        f.push(LIMITS_IN_HELLO.map((k) => l[k] ?? null));
      }
      return f;
    }
    case "invoke": {
      const { ctx, hash, timeoutMs } = frame;
      if (timeoutMs !== undefined)
        return [FrameType.invoke, frame.id, frame.fn, frame.args, ctx ?? null, hash ?? null, timeoutMs];
      if (hash !== undefined) return [FrameType.invoke, frame.id, frame.fn, frame.args, ctx ?? null, hash];
      if (ctx !== undefined) return [FrameType.invoke, frame.id, frame.fn, frame.args, ctx];
      return [FrameType.invoke, frame.id, frame.fn, frame.args];
    }
    case "result":
      return [FrameType.result, frame.id, frame.value];
    case "cancel":
      return [FrameType.cancel, frame.id];
    case "ping":
      return [FrameType.ping];
    case "pong":
      return [FrameType.pong];
    case "protocol":
      return [FrameType.protocol, frame.protocol, frame.payload];
    case "error": {
      const f: unknown[] = [
        FrameType.error,
        frame.id ?? null,
        frame.code,
        frame.name,
        frame.message,
        frame.remoteCode ?? null,
        frame.stack ?? null,
      ];
      if (frame.data !== undefined) f.push(frame.data);
      return f;
    }
  }
}

/** Encode a frame. Throws a {@link RemoteError} `ERR_NOT_SERIALIZABLE` when a value cannot be encoded. */
export function encodeFrame(frame: Frame): Uint8Array {
  try {
    return encoder.encode(frameToWire(frame));
  } catch (err) {
    throw new RemoteError("ERR_NOT_SERIALIZABLE", `cannot encode ${frame.type} frame: ${messageOf(err)}`, {
      cause: err,
    });
  }
}

/**
 * A frame that failed validation. `requestId` and `frameType` are set when they could be read
 * (they are read before the structure check), so the error can be answered to that call: an
 * `invoke` is answered with an error frame, a `result` or `error` fails the local call it answers.
 */
export class FrameError extends RemoteError {
  /** Request id of the bad frame, when readable. */
  readonly requestId: number | undefined;
  /** The frame was a CBOR map: the other side speaks protocol 1. */
  readonly legacy: boolean;
  /** The frame's type code ({@link FrameType}), when readable. */
  readonly frameType: number | undefined;

  /**
   * @param code `ERR_PROTOCOL` or `ERR_LIMIT`
   * @param message what is wrong
   * @param requestId the frame's request id, when readable
   * @param legacy the frame was a protocol 1 frame
   * @param frameType the frame's type code, when readable
   */
  constructor(
    code: RemoteErrorCode,
    message: string,
    requestId?: number,
    legacy = false,
    frameType: number | undefined = FrameType.invoke,
  ) {
    super(code, message);
    this.requestId = requestId;
    this.legacy = legacy;
    this.frameType = requestId === undefined ? undefined : frameType;
  }
}

/** Read a CBOR unsigned integer at `at` (major type 0): [value, next offset], or null. */
function peekUint(b: Uint8Array, at: number): [number, number] | null {
  const ib = b[at];
  if (ib === undefined || ib >> 5 !== 0) return null;
  const ai = ib & 0x1f;
  if (ai < 24) return [ai, at + 1];
  if (ai === 24 && at + 2 <= b.length) return [b[at + 1]!, at + 2];
  if (ai === 25 && at + 3 <= b.length) return [(b[at + 1]! << 8) | b[at + 2]!, at + 3];
  if (ai === 26 && at + 5 <= b.length)
    return [((b[at + 1]! << 24) | (b[at + 2]! << 16) | (b[at + 3]! << 8) | b[at + 4]!) >>> 0, at + 5];
  return null;
}

/**
 * The type and request id of a frame, read from its first bytes without decoding the rest (for
 * answering a frame that is over the limits to its call). Null when they cannot be read.
 */
export function peekFrameHead(bytes: Uint8Array): { type: number; id: number | undefined } | null {
  const ib = bytes[0];
  if (ib === undefined || ib >> 5 !== 4) return null; // not an array
  const ai = ib & 0x1f;
  const at = ai < 24 ? 1 : ai === 24 ? 2 : ai === 25 ? 3 : ai === 26 ? 5 : ai === 31 ? 1 : -1;
  if (at < 0) return null;
  const t = peekUint(bytes, at);
  if (t === null) return null;
  const [type, next] = t;
  if (type !== FrameType.invoke && type !== FrameType.result && type !== FrameType.error)
    return { type, id: undefined };
  const i = peekUint(bytes, next);
  return { type, id: i !== null && isRequestId(i[0]) ? i[0] : undefined };
}

/**
 * An `error` frame in the protocol 1 layout (a CBOR map), so that a protocol 1 peer that says
 * hello to us learns why it is refused instead of seeing an undecodable frame.
 */
export function encodeLegacyError(message: string): Uint8Array {
  return encoder.encode({ type: "error", code: "ERR_PROTOCOL", name: "RemoteError", message });
}

function bad(message: string, id?: number): FrameError {
  return new FrameError("ERR_PROTOCOL", message, id);
}

/** Decode and validate one frame. Throws a {@link FrameError} on anything malformed. */
export function decodeFrame(bytes: Uint8Array, limits: WireLimits): Frame {
  try {
    checkCbor(bytes, limits);
  } catch (err) {
    const head = peekFrameHead(bytes);
    if (err instanceof RemoteError) throw new FrameError(err.code, err.message, head?.id, false, head?.type);
    throw new FrameError("ERR_PROTOCOL", `malformed CBOR: ${messageOf(err)}`, head?.id, false, head?.type);
  }
  let raw: unknown;
  try {
    raw = decoder.decode(bytes);
  } catch (err) {
    throw bad(`undecodable CBOR: ${messageOf(err)}`);
  }
  return validate(raw);
}

function isRequestId(x: unknown): x is number {
  return typeof x === "number" && Number.isInteger(x) && x > 0 && x <= 0x7fffffff;
}

/** Item `i` of a frame as an optional string (`null` or missing: absent). */
function optString(
  f: readonly unknown[],
  i: number,
  name: string,
  what: string,
  id?: number,
): string | undefined {
  const v = f[i];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw bad(`${what}: field "${name}" must be a string`, id);
  return v;
}

function validate(raw: unknown): Frame {
  if (!Array.isArray(raw) || raw.length === 0) {
    if (typeof raw === "object" && raw !== null && Object.getPrototypeOf(raw) === Object.prototype)
      throw new FrameError(
        "ERR_PROTOCOL",
        `unsupported protocol version 1 (a CBOR map frame): this peer speaks spindel protocol ${PROTOCOL_VERSION}; run the same spindel version on both sides`,
        undefined,
        true,
      );
    throw bad("a frame must be a non-empty CBOR array");
  }
  const type = raw[0];
  switch (type) {
    case FrameType.hello: {
      const [, v, peer] = raw;
      if (typeof v !== "number") throw bad('hello: field "v" must be a number');
      if (typeof peer !== "string" || peer === "" || peer.length > 256)
        throw bad('hello: field "peer" must be a non-empty string of at most 256 characters');
      const f: HelloFrame = { type: "hello", v, peer };
      if (raw.length > 3 && !(raw[3] === null && raw.length > 4)) f.credential = raw[3];
      if (raw.length > 4) {
        const l = raw[4];
        if (!Array.isArray(l)) throw bad('hello: field "limits" must be an array');
        const limits: Partial<WireLimits> = {};
        LIMITS_IN_HELLO.forEach((k, i) => {
          const v = l[i];
          if (v === null || v === undefined) return;
          if (typeof v !== "number" || !Number.isSafeInteger(v) || v <= 0)
            throw bad(`hello: limit ${k} must be a positive integer`);
          limits[k] = v;
        });
        f.limits = limits;
      }
      return f;
    }
    case FrameType.invoke: {
      const id = isRequestId(raw[1]) ? raw[1] : undefined;
      if (id === undefined) throw bad('invoke: field "id" must be an integer in [1, 2^31)');
      const fn = raw[2];
      if (typeof fn !== "string" || fn === "") throw bad('invoke: field "fn" must be a non-empty string', id);
      const args = raw[3];
      if (!Array.isArray(args)) throw bad('invoke: field "args" must be an array of argument values', id);
      const f: InvokeFrame = { type: "invoke", id, fn, args };
      const ctx = optString(raw, 4, "ctx", "invoke", id);
      if (ctx !== undefined) f.ctx = ctx;
      const hash = optString(raw, 5, "hash", "invoke", id);
      if (hash !== undefined) f.hash = hash;
      const t = raw[6];
      if (t !== undefined && t !== null) {
        if (typeof t !== "number" || !(t >= 0) || !Number.isFinite(t))
          throw bad('invoke: field "timeoutMs" must be a non-negative finite number', id);
        f.timeoutMs = t;
      }
      return f;
    }
    case FrameType.result:
      if (!isRequestId(raw[1])) throw bad('result: field "id" must be an integer in [1, 2^31)');
      return { type: "result", id: raw[1], value: raw[2] };
    case FrameType.cancel:
      if (!isRequestId(raw[1])) throw bad('cancel: field "id" must be an integer in [1, 2^31)');
      return { type: "cancel", id: raw[1] };
    case FrameType.ping:
      return { type: "ping" };
    case FrameType.pong:
      return { type: "pong" };
    case FrameType.protocol: {
      const name = raw[1];
      if (typeof name !== "string" || name === "" || name.length > 256)
        throw bad('protocol: field "protocol" must be a non-empty string of at most 256 characters');
      return { type: "protocol", protocol: name, payload: raw[2] };
    }
    case FrameType.error: {
      const [, id, code, name, message, remoteCode, stack] = raw;
      if (id !== undefined && id !== null && !isRequestId(id))
        throw bad('error: field "id" must be an integer in [1, 2^31) or null');
      if (typeof code !== "string") throw bad('error: field "code" must be a string');
      const f: ErrorFrame = {
        type: "error",
        code: code as RemoteErrorCode,
        name: typeof name === "string" ? name : "Error",
        message: typeof message === "string" ? message : "",
      };
      if (isRequestId(id)) f.id = id;
      if (typeof remoteCode === "string") f.remoteCode = remoteCode;
      if (typeof stack === "string") f.stack = stack;
      if (raw.length > 7) f.data = raw[7];
      return f;
    }
    default:
      throw bad(
        `unknown frame type ${typeof type === "number" ? type : typeof type === "string" ? JSON.stringify(type.slice(0, 64)) : typeof type}`,
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
