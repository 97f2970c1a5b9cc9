/**
 * `spindel/crdt`: pure, browser-safe convergent datatypes (no socket, no store, no timers, no
 * Node built-ins). Every value is immutable and carries its pending delta; each datatype has a
 * registered CBOR codec, so values cross the wire and survive `ctx.serialize()`.
 * @module
 */

export { CDVCS, type Commit } from "./cdvcs.js";
export { type Convergent, isConvergent } from "./convergent.js";
export { CrdtDecodeError, CrdtError, type CrdtErrorCode } from "./errors.js";
export { GSet } from "./gset.js";
export { type HLC, LWWRegister, nextHLC } from "./lww.js";
export { ORMap } from "./ormap.js";
export { ORSet } from "./orset.js";
export { PNCounter } from "./pncounter.js";
export {
  type OpId,
  Ref,
  type RefClock,
  type RefOp,
  type RefPatch,
  type RefWatcher,
  ref,
  refFromOps,
  type Scalar,
} from "./ref.js";
export { decodeRefOps, encodeRefOps } from "./ref-codec.js";
export { CRDT_TAGS } from "./tags.js";
export { type Conflict, VersionedMap } from "./versioned-map.js";
