/**
 * The stage's own small protocol: before a stage subscribes to a datatype through a peer it
 * dialed, it asks the stage on the other side to open (or create) that datatype and own its topic.
 * Pure message shapes and a request table; the stage does the sending.
 *
 * Messages (CBOR arrays on protocol {@link STAGE_PROTOCOL}):
 * - `[1, req, user, id, kind]` open request
 * - `[2, req]` opened (the topic is registered on the answering peer)
 * - `[3, req, code, message]` refused
 * @module
 */
import { type Address, STAGE_KINDS, type StageKind } from "./address.js";
import { StageError, type StageErrorCode } from "./errors.js";

/** The protocol name the stage attaches on its peer. */
export const STAGE_PROTOCOL = "spindel.stage";

/** A parsed stage message. */
export type StageMessage =
  | { readonly type: "open"; readonly req: number; readonly address: Address; readonly kind: StageKind }
  | { readonly type: "opened"; readonly req: number }
  | {
      readonly type: "refused";
      readonly req: number;
      readonly code: StageErrorCode;
      readonly message: string;
    };

const KINDS: ReadonlySet<string> = new Set<string>(STAGE_KINDS);
const REFUSAL_CODES: ReadonlySet<string> = new Set<StageErrorCode>([
  "ERR_TYPE_MISMATCH",
  "ERR_STAGE_CLOSED",
  "ERR_STAGE_PROTOCOL",
  "ERR_UNAUTHORIZED",
  "ERR_INVALID_ARGUMENT",
]);

/** Encodes an open request. */
export function openMessage(req: number, address: Address, kind: StageKind): unknown[] {
  return [1, req, address[0], address[1], kind];
}

/** Encodes an answer: opened, or refused with `error`'s code. */
export function answerMessage(req: number, error?: StageError): unknown[] {
  return error === undefined ? [2, req] : [3, req, error.code, error.message];
}

/** Parses a payload; throws `ERR_STAGE_PROTOCOL` on anything malformed. */
export function parseStageMessage(payload: unknown): StageMessage {
  const bad = (): never => {
    throw new StageError("ERR_STAGE_PROTOCOL", "malformed stage message");
  };
  if (!Array.isArray(payload) || !Number.isSafeInteger(payload[1])) return bad();
  const req = payload[1] as number;
  switch (payload[0]) {
    case 1: {
      const [, , user, id, kind] = payload;
      if (payload.length !== 5 || typeof user !== "string" || typeof id !== "string" || id === "")
        return bad();
      if (typeof kind !== "string" || !KINDS.has(kind)) return bad();
      return { type: "open", req, address: [user, id], kind: kind as StageKind };
    }
    case 2:
      if (payload.length !== 2) return bad();
      return { type: "opened", req };
    case 3: {
      const [, , code, message] = payload;
      if (payload.length !== 4 || typeof code !== "string" || typeof message !== "string") return bad();
      return {
        type: "refused",
        req,
        code: (REFUSAL_CODES.has(code) ? code : "ERR_STAGE_PROTOCOL") as StageErrorCode,
        message,
      };
    }
    default:
      return bad();
  }
}
