/**
 * Limits against hostile or buggy peers, and the pre-decode CBOR structure check that enforces
 * them before `cbor-x` allocates anything: nesting depth, container lengths, total item count,
 * bignum size, and an allowlist of tags (the ones the shared codec emits).
 * @module
 */

import { shown } from "../core/errors.js";
import { isExtensionTag } from "../core/persist/codec-tags.js";
import { RemoteError } from "./errors.js";

/** Limits applied to every connection of a peer (both directions). All are positive integers. */
export interface WireLimits {
  /** Largest frame accepted, in bytes (a larger one closes the connection with code 1009). Default 1 MiB. */
  maxFrameBytes: number;
  /** Deepest nesting of arrays, maps and tags in a frame. Default 64. */
  maxDepth: number;
  /** Most entries in one array or map. Default 65,536. */
  maxContainerLength: number;
  /** Most CBOR data items in one frame (every value, key and tag counts). Default 262,144. */
  maxItems: number;
  /** Largest bignum (tag 2/3) in bytes. Default 1,024. */
  maxBigIntBytes: number;
  /** Most calls this side may have pending on one connection. Default 65,536. */
  maxPendingCalls: number;
  /** Most calls the other side may run here at once on one connection (more get ERR_UNAVAILABLE); a call holds its slot until its body has finished. Default 16,384. */
  maxInflightCalls: number;
  /** When more than this many bytes wait in a socket's send buffer, the connection is closed (code 1008). Default 64 MiB. */
  maxBufferedBytes: number;
  /** Malformed frames tolerated on one connection before it is closed (code 1002). Default 16. */
  maxProtocolErrors: number;
  /**
   * Most calls other peers may run here at once, over all links together (more get
   * `ERR_UNAVAILABLE`). A call holds its slot until its body has finished. Default 65,536.
   */
  maxInflightCallsTotal: number;
  /**
   * Most bytes waiting in the send buffers of all links together; past it, the link whose send
   * crossed it is closed (code 1008). Default 256 MiB.
   */
  maxBufferedBytesTotal: number;
}

/** The default {@link WireLimits}. */
export const DEFAULT_LIMITS: Readonly<WireLimits> = Object.freeze({
  maxFrameBytes: 1024 * 1024,
  maxDepth: 64,
  maxContainerLength: 65_536,
  maxItems: 262_144,
  maxBigIntBytes: 1024,
  maxPendingCalls: 65_536,
  maxInflightCalls: 16_384,
  maxBufferedBytes: 64 * 1024 * 1024,
  maxProtocolErrors: 16,
  maxInflightCallsTotal: 65_536,
  maxBufferedBytesTotal: 256 * 1024 * 1024,
});

/** Fill in defaults and validate. Throws `ERR_INVALID_ARGUMENT` on a non-positive or non-integer limit. */
export function resolveLimits(partial?: Partial<WireLimits>): WireLimits {
  const out: WireLimits = { ...DEFAULT_LIMITS };
  if (partial === undefined) return out;
  for (const key of Object.keys(partial) as (keyof WireLimits)[]) {
    if (!(key in DEFAULT_LIMITS)) throw new TypeError(`unknown wire limit "${String(key)}"`);
    const v = partial[key];
    if (v === undefined) continue;
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v <= 0)
      throw new RangeError(`wire limit ${key} must be a positive integer, got ${shown(v)}`);
    out[key] = v;
  }
  return out;
}

/**
 * Tags the wire accepts (what the shared codec emits): dates, bignums, typed arrays, sets, maps; and
 * the tags datatypes registered through `registerTaggedCodec`.
 */
const TAG_TEXT = 0; // date string
const TAG_EPOCH = 1;
const TAG_BIGNUM_POS = 2;
const TAG_BIGNUM_NEG = 3;
const TAG_GENERIC_OBJECT = 27; // cbor-x: Error / RegExp as [name, message, flags?]
const TAG_SET = 258;
const TAG_MAP = 259;
const TAG_SELF_DESCRIBED = 55799;
const TYPED_ARRAY_TAGS: ReadonlySet<number> = new Set([64, 68, 69, 70, 71, 72, 77, 78, 79, 85, 86]);

/** What the item following a tag must be. */
enum Want {
  Any = 0,
  Text = 1,
  Number = 2,
  Bytes = 3,
  Array = 4,
  Map = 5,
  GenericObject = 6,
}

function wantFor(tag: number): Want | -1 {
  switch (tag) {
    case TAG_TEXT:
      return Want.Text;
    case TAG_EPOCH:
      return Want.Number;
    case TAG_BIGNUM_POS:
    case TAG_BIGNUM_NEG:
      return Want.Bytes;
    case TAG_GENERIC_OBJECT:
      return Want.GenericObject;
    case TAG_SET:
      return Want.Array;
    case TAG_MAP:
      return Want.Map;
    case TAG_SELF_DESCRIBED:
      return Want.Any;
    default:
      if (TYPED_ARRAY_TAGS.has(tag)) return Want.Bytes;
      return isExtensionTag(tag) ? Want.Any : -1;
  }
}

function limitError(message: string): RemoteError {
  return new RemoteError("ERR_LIMIT", message);
}

function malformed(message: string): RemoteError {
  return new RemoteError("ERR_PROTOCOL", `malformed CBOR: ${message}`);
}

// Scanner state. `checkCbor` is synchronous and not re-entrant, so one set of module-level
// variables serves every call without allocating (closures per call would, and showed up in profiles).
let src: Uint8Array = new Uint8Array(0);
let srcLen = 0;
let pos = 0;
// Open containers (arrays, maps, tags): items still expected (-1: indefinite length), items read
// so far (indefinite ones), whether the container is a map. `depth` is the number open.
let remaining: Float64Array = new Float64Array(16);
let counted: Float64Array = new Float64Array(16);
let isMap: Uint8Array = new Uint8Array(16);
let depth = 0;
let done = false;

function readArg(ai: number): number {
  if (ai < 24) return ai;
  let n: number;
  switch (ai) {
    case 24:
      if (pos + 1 > srcLen) throw malformed("truncated argument");
      n = src[pos]!;
      pos += 1;
      return n;
    case 25:
      if (pos + 2 > srcLen) throw malformed("truncated argument");
      n = (src[pos]! << 8) | src[pos + 1]!;
      pos += 2;
      return n;
    case 26:
      if (pos + 4 > srcLen) throw malformed("truncated argument");
      n = u32(src, pos);
      pos += 4;
      return n;
    case 27:
      if (pos + 8 > srcLen) throw malformed("truncated argument");
      n = u32(src, pos) * 4294967296 + u32(src, pos + 4); // imprecise above 2^53: lengths are capped anyway
      pos += 8;
      return n;
    default:
      throw malformed(`reserved additional information ${ai}`);
  }
}

/** One item finished: count it in its container; close the containers it completes. */
function complete(): void {
  for (;;) {
    if (depth === 0) {
      done = true;
      return;
    }
    const top = depth - 1;
    const r = remaining[top]!;
    if (r === -1) {
      counted[top]!++;
      return;
    }
    if (r > 1) {
      remaining[top] = r - 1;
      return;
    }
    depth--;
  }
}

function grow(a: Float64Array): Float64Array {
  const b = new Float64Array(a.length * 2);
  b.set(a);
  return b;
}

function open(count: number, map: boolean, maxDepth: number): void {
  if (depth >= maxDepth) throw limitError(`nesting deeper than maxDepth ${maxDepth}`);
  if (depth === remaining.length) {
    remaining = grow(remaining);
    counted = grow(counted);
    const m = new Uint8Array(isMap.length * 2);
    m.set(isMap);
    isMap = m;
  }
  remaining[depth] = count;
  counted[depth] = 0;
  isMap[depth] = map ? 1 : 0;
  depth++;
}

/**
 * Check that `bytes` hold exactly one well-formed CBOR item within `limits`, using only tags the
 * wire accepts. Runs in time linear in the number of items, without recursion and without
 * allocating. Throws a {@link RemoteError} (`ERR_PROTOCOL` or `ERR_LIMIT`) otherwise.
 */
export function checkCbor(bytes: Uint8Array, limits: WireLimits): void {
  const len = bytes.length;
  if (len === 0) throw malformed("empty frame");
  if (len > limits.maxFrameBytes)
    throw limitError(`frame of ${len} bytes exceeds maxFrameBytes ${limits.maxFrameBytes}`);
  src = bytes;
  srcLen = len;
  pos = 0;
  depth = 0;
  done = false;
  try {
    scan(limits);
  } finally {
    src = EMPTY; // do not keep the frame alive
  }
}

const EMPTY = new Uint8Array(0);

function scan(limits: WireLimits): void {
  const { maxDepth, maxContainerLength, maxItems, maxBigIntBytes } = limits;
  const len = srcLen;
  const bytes = src;
  let items = 0;
  let want: Want = Want.Any;
  let bignum = false; // the pending tag is a bignum (size-limited byte string)
  let genericLeft = 0; // items of a tag-27 array still to check as text strings
  while (!done) {
    if (pos >= len) throw malformed("truncated frame");
    const ib = bytes[pos++]!;
    if (ib === 0xff) {
      // "break": ends the innermost indefinite-length array or map
      const top = depth - 1;
      if (top < 0 || remaining[top] !== -1 || want !== Want.Any) throw malformed("unexpected break");
      if (isMap[top] === 1 && counted[top]! % 2 !== 0)
        throw malformed("indefinite map with an odd number of items");
      depth--;
      complete();
      continue;
    }
    const major = ib >> 5;
    const ai = ib & 31;
    if (++items > maxItems) throw limitError(`more than maxItems ${maxItems} items in one frame`);
    const expected = want;
    want = Want.Any;
    if (genericLeft > 0) {
      if (major !== 3) throw malformed("tag 27 expects an array of text strings");
      genericLeft--;
    }
    if (expected !== Want.Any) checkWanted(expected, major, ai);
    switch (major) {
      case 0:
      case 1:
        readArg(ai);
        complete();
        break;
      case 2:
      case 3: {
        if (ai === 31)
          // cbor-x joins the chunks of an indefinite byte string with Node's Buffer (not portable)
          // and refuses indefinite text strings: both are refused here, with one clear message
          throw malformed(
            `indefinite-length ${major === 2 ? "byte" : "text"} strings are not supported: send a definite length`,
          );
        const n = readArg(ai);
        if (n > len - pos) throw malformed("string runs past the end of the frame");
        pos += n;
        if (bignum && n > maxBigIntBytes)
          throw limitError(`bignum of ${n} bytes exceeds maxBigIntBytes ${maxBigIntBytes}`);
        bignum = false;
        complete();
        break;
      }
      case 4:
      case 5: {
        const map = major === 5;
        if (ai === 31) {
          open(-1, map, maxDepth);
          break;
        }
        const n = readArg(ai);
        if (n > maxContainerLength)
          throw limitError(
            `${map ? "map" : "array"} of ${n} entries exceeds maxContainerLength ${maxContainerLength}`,
          );
        // every item takes at least one byte: reject absurd headers before anything is allocated
        if ((map ? 2 * n : n) > len - pos) throw malformed("container runs past the end of the frame");
        if (expected === Want.GenericObject) {
          if (n < 2 || n > 3) throw malformed("tag 27 expects an array of 2 or 3 text strings");
          genericLeft = n;
        }
        if (n === 0) complete();
        else open(map ? 2 * n : n, map, maxDepth);
        break;
      }
      case 6: {
        const tag = readArg(ai);
        const w = wantFor(tag);
        if (w === -1) throw malformed(`unsupported tag ${tag}`);
        open(1, false, maxDepth);
        want = w;
        bignum = tag === TAG_BIGNUM_POS || tag === TAG_BIGNUM_NEG;
        break;
      }
      default: {
        // major 7: false, true, null, undefined and floats only
        if (ai === 25) pos += 2;
        else if (ai === 26) pos += 4;
        else if (ai === 27) pos += 8;
        else if (ai < 20 || ai > 23)
          throw malformed(`unsupported simple value (additional information ${ai})`);
        if (pos > len) throw malformed("truncated float");
        complete();
      }
    }
  }
  if (pos !== len) throw malformed(`${len - pos} trailing bytes after the frame`);
}

function u32(b: Uint8Array, i: number): number {
  return ((b[i]! << 24) >>> 0) + ((b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!);
}

function checkWanted(w: Want, major: number, ai: number): void {
  switch (w) {
    case Want.Text:
      if (major !== 3) throw malformed("tag 0 expects a text string");
      return;
    case Want.Number:
      if (major !== 0 && major !== 1 && !(major === 7 && ai >= 25 && ai <= 27))
        throw malformed("tag 1 expects a number");
      return;
    case Want.Bytes:
      if (major !== 2) throw malformed("a bignum or typed-array tag expects a byte string");
      return;
    case Want.Array:
      if (major !== 4) throw malformed("tag 258 expects an array");
      return;
    case Want.Map:
      if (major !== 5) throw malformed("tag 259 expects a map");
      return;
    case Want.GenericObject:
      if (major !== 4 || ai === 31) throw malformed("tag 27 expects an array of 2 or 3 text strings");
      return;
    default:
      return;
  }
}
