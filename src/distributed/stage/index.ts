/**
 * The replikativ stage: datatypes addressed by `[user, id]`, persisted in a store, synced with
 * every connected peer, and streamed into any identity.
 * @module
 */
export type { Address, StageKind } from "./address.js";
export { StageError, type StageErrorCode } from "./errors.js";
export { type AssocRecord, type DissocRecord, type Op, OpMap, type OpMapDelta } from "./opmap.js";
export {
  createStage,
  type OpenOptions,
  Stage,
  type StageCDVCS,
  type StageConnectOptions,
  type StageOptions,
  type StageORMap,
  type StagePeer,
  type StageValue,
} from "./stage.js";
export {
  type AtomicWrites,
  atomicWrites,
  type EvalFn,
  type IdentityStream,
  type StoreWrite,
  type StreamOptions,
  streamIntoIdentity,
} from "./stream.js";
