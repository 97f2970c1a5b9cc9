/**
 * Canonical CBOR (RFC 8949 §4.2.1, core deterministic encoding) and content addresses. Equal
 * values give equal bytes on every platform: integers and lengths in their shortest form, floats
 * in the shortest of half/single/double precision that keeps the value, definite lengths only,
 * map entries sorted by the bytes of their encoded keys, set elements sorted the same way.
 *
 * Values: `null`, `undefined` (simple 23), booleans, numbers (safe integers as CBOR integers, `-0`
 * as `0` like the shared codec), bigints (tag 2/3 beyond 64 bits), strings, `Uint8Array` (a byte
 * string), arrays, plain objects (maps with string keys), `Map` (tag 259), `Set` (tag 258),
 * `Date` (tag 1, epoch milliseconds / 1000), and instances of classes with a registered tagged
 * codec. Anything else (functions, symbols, class instances without a codec) is refused.
 * @module
 */
import { taggedCodecOf } from "../../core/persist/codec-tags.js";
import { StoreError } from "./errors.js";

class Writer {
  buf: Uint8Array<ArrayBuffer> = new Uint8Array(256);
  len = 0;
  private view = new DataView(this.buf.buffer);

  reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  byte(b: number): void {
    this.reserve(1);
    this.buf[this.len++] = b;
  }

  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  head(major: number, n: number | bigint): void {
    const m = major << 5;
    if (typeof n === "bigint") {
      if (n <= 0xffffffffn) {
        this.head(major, Number(n));
        return;
      }
      this.reserve(9);
      this.buf[this.len] = m | 27;
      this.view.setBigUint64(this.len + 1, n);
      this.len += 9;
      return;
    }
    if (n < 24) this.byte(m | n);
    else if (n < 0x100) {
      this.reserve(2);
      this.buf[this.len++] = m | 24;
      this.buf[this.len++] = n;
    } else if (n < 0x10000) {
      this.reserve(3);
      this.buf[this.len] = m | 25;
      this.view.setUint16(this.len + 1, n);
      this.len += 3;
    } else if (n < 0x100000000) {
      this.reserve(5);
      this.buf[this.len] = m | 26;
      this.view.setUint32(this.len + 1, n);
      this.len += 5;
    } else this.head(major, BigInt(n));
  }

  float(x: number): void {
    const half = toHalf(x);
    if (half !== undefined) {
      this.reserve(3);
      this.buf[this.len] = 0xf9;
      this.view.setUint16(this.len + 1, half);
      this.len += 3;
      return;
    }
    if (Math.fround(x) === x) {
      this.reserve(5);
      this.buf[this.len] = 0xfa;
      this.view.setFloat32(this.len + 1, x);
      this.len += 5;
      return;
    }
    this.reserve(9);
    this.buf[this.len] = 0xfb;
    this.view.setFloat64(this.len + 1, x);
    this.len += 9;
  }

  result(): Uint8Array<ArrayBuffer> {
    return this.buf.slice(0, this.len);
  }
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The IEEE half-precision bits of `x` if it is exactly representable, else `undefined`. */
function toHalf(x: number): number | undefined {
  if (Number.isNaN(x)) return 0x7e00;
  if (Math.fround(x) !== x) return undefined;
  f32[0] = x;
  const bits = u32[0]!;
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  const mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00; // infinities (NaN handled above)
  if (exp === 0 && mant === 0) return sign;
  const e = exp - 127;
  if (e > 15) return undefined;
  if (e >= -14) {
    if ((mant & 0x1fff) !== 0) return undefined;
    return sign | ((e + 15) << 10) | (mant >>> 13);
  }
  // subnormal half: value = m * 2^-24 with m < 1024
  if (e < -24) return undefined;
  const full = mant | 0x800000; // 24 significant bits, value = full * 2^(e-23)
  const shift = -e - 1; // bits to drop to reach a multiple of 2^-24 (14..23)
  if ((full & ((1 << shift) - 1)) !== 0) return undefined;
  return sign | (full >>> shift);
}

const textEncoder = new TextEncoder();

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

function refuse(what: string): never {
  throw new StoreError("ERR_INVALID_ARGUMENT", `canonical CBOR cannot encode ${what}`);
}

function encodeInto(w: Writer, v: unknown, depth: number): void {
  if (depth > 256) refuse("a value nested deeper than 256 levels (or a cycle)");
  switch (typeof v) {
    case "number":
      // integers beyond 32 bits go as floats, as the shared codec writes them: a 64-bit CBOR
      // integer decodes as a bigint there, so a number (a timestamp) would not come back as a number
      if (Number.isSafeInteger(v) && v <= 0xffffffff && v >= -0x100000000) {
        if (v >= 0) w.head(0, v);
        else w.head(1, -1 - v);
      } else if (Number.isSafeInteger(v)) w.float(v);
      else if (Object.is(v, -0)) w.byte(0);
      else w.float(v);
      return;
    case "string": {
      const b = textEncoder.encode(v);
      w.head(3, b.length);
      w.bytes(b);
      return;
    }
    case "boolean":
      w.byte(v ? 0xf5 : 0xf4);
      return;
    case "undefined":
      w.byte(0xf7);
      return;
    case "bigint":
      encodeBigInt(w, v);
      return;
    case "object":
      break;
    default:
      refuse(`a ${typeof v}`);
  }
  if (v === null) {
    w.byte(0xf6);
    return;
  }
  if (v instanceof Uint8Array) {
    w.head(2, v.length);
    w.bytes(v);
    return;
  }
  if (Array.isArray(v)) {
    w.head(4, v.length);
    for (const x of v) encodeInto(w, x, depth + 1);
    return;
  }
  if (v instanceof Map) {
    w.head(6, 259);
    encodeEntries(w, [...v.entries()], depth);
    return;
  }
  if (v instanceof Set) {
    w.head(6, 258);
    const items = [...v].map((x) => encodeCanonical(x, depth + 1)).sort(compareBytes);
    w.head(4, items.length);
    for (const b of items) w.bytes(b);
    return;
  }
  if (v instanceof Date) {
    const t = v.getTime();
    if (Number.isNaN(t)) refuse("an invalid Date");
    w.head(6, 1);
    encodeInto(w, t / 1000, depth + 1);
    return;
  }
  const proto = Object.getPrototypeOf(v) as unknown;
  if (proto === Object.prototype || proto === null) {
    encodeEntries(w, Object.entries(v as Record<string, unknown>), depth);
    return;
  }
  const codec = taggedCodecOf(v);
  if (codec !== undefined) {
    w.head(6, codec.tag);
    encodeInto(w, codec.encode(v), depth + 1);
    return;
  }
  refuse(`an instance of ${(v as object).constructor?.name ?? "an unknown class"}`);
}

function encodeEntries(w: Writer, entries: [unknown, unknown][], depth: number): void {
  const pairs = entries.map(([k, x]) => [encodeCanonical(k, depth + 1), x] as const);
  pairs.sort((a, b) => compareBytes(a[0], b[0]));
  for (let i = 1; i < pairs.length; i++)
    if (compareBytes(pairs[i - 1]![0], pairs[i]![0]) === 0) refuse("a map with two equal keys");
  w.head(5, pairs.length);
  for (const [k, x] of pairs) {
    w.bytes(k);
    encodeInto(w, x, depth + 1);
  }
}

function encodeBigInt(w: Writer, v: bigint): void {
  const neg = v < 0n;
  const n = neg ? -1n - v : v;
  if (n <= 0xffffffffffffffffn) {
    w.head(neg ? 1 : 0, n);
    return;
  }
  let hex = n.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  const b = new Uint8Array(hex.length / 2);
  for (let i = 0; i < b.length; i++) b[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  w.head(6, neg ? 3 : 2);
  w.head(2, b.length);
  w.bytes(b);
}

function encodeCanonical(value: unknown, depth: number): Uint8Array<ArrayBuffer> {
  const w = new Writer();
  encodeInto(w, value, depth);
  return w.result();
}

/**
 * The canonical CBOR bytes of `value` (RFC 8949 core deterministic encoding): equal values give
 * equal bytes on every platform. Throws `ERR_INVALID_ARGUMENT` for values it cannot encode.
 */
export function canonicalCbor(value: unknown): Uint8Array<ArrayBuffer> {
  return encodeCanonical(value, 0);
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/**
 * Render the first 16 bytes of a SHA-256 digest as a UUID-shaped string (version 8, RFC 9562's
 * custom format; variant bits set), the shape yggdrasil's content addresses have.
 */
export function uuidFromDigest(digest: Uint8Array): string {
  if (digest.length < 16) throw new StoreError("ERR_INVALID_ARGUMENT", "a digest has at least 16 bytes");
  const b = digest.slice(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x80;
  b[8] = (b[8]! & 0x3f) | 0x80;
  let s = "";
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) s += "-";
    s += HEX[b[i]!]!;
  }
  return s;
}

/** The content address of bytes already in canonical form (SHA-256 through WebCrypto). */
export async function addressOfBytes(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  return uuidFromDigest(new Uint8Array(await globalThis.crypto.subtle.digest("SHA-256", bytes)));
}

/**
 * The content address of `value`: SHA-256 of its canonical CBOR, rendered as a UUID-shaped string
 * (see {@link uuidFromDigest}). Uses WebCrypto, so it is the same in Node and browsers.
 */
export function contentAddress(value: unknown): Promise<string> {
  return addressOfBytes(canonicalCbor(value));
}
