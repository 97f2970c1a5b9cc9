/**
 * Byte-level building blocks of the columnar encodings: a growable byte writer, a bounds-checked
 * reader, LEB128 varints over the whole safe-integer range, WTF-8 strings (UTF-8 that also keeps
 * lone surrogates, so every JavaScript string comes back exactly) and run-length encoded columns.
 * A reader never reads past its end and never allocates more than the bytes it was given can
 * describe: malformed input fails with `ERR_DESERIALIZE`, never with a crash or a long loop.
 * @module
 */
import { decodeCheck } from "./errors.js";

const TWO_32 = 2 ** 32;

/** A growable byte buffer written front to back. */
export class ByteWriter {
  private buf = new Uint8Array(64);
  private view: DataView | null = null;
  /** Bytes written so far. */
  length = 0;

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = null;
  }

  /** One byte (0–255). */
  byte(b: number): void {
    this.room(1);
    this.buf[this.length++] = b;
  }

  /** An unsigned LEB128 varint: a non-negative safe integer in 1–8 bytes. */
  uint(v: number): void {
    this.room(8);
    const buf = this.buf;
    let at = this.length;
    if (v < TWO_32) {
      while (v > 127) {
        buf[at++] = (v & 127) | 128;
        v >>>= 7;
      }
    } else {
      while (v > 127) {
        buf[at++] = (v % 128) | 128;
        v = Math.floor(v / 128);
      }
    }
    buf[at++] = v;
    this.length = at;
  }

  /** A signed LEB128 varint: a safe integer in 1–8 bytes. */
  int(v: number): void {
    this.room(8);
    const buf = this.buf;
    let at = this.length;
    if (v >= -0x40000000 && v < 0x40000000) {
      for (;;) {
        const b = v & 127;
        v >>= 7;
        if ((v === 0 && (b & 64) === 0) || (v === -1 && (b & 64) !== 0)) {
          buf[at++] = b;
          break;
        }
        buf[at++] = b | 128;
      }
    } else {
      for (;;) {
        const b = ((v % 128) + 128) % 128;
        v = Math.floor(v / 128);
        if ((v === 0 && (b & 64) === 0) || (v === -1 && (b & 64) !== 0)) {
          buf[at++] = b;
          break;
        }
        buf[at++] = b | 128;
      }
    }
    this.length = at;
  }

  /** Raw bytes. */
  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  /** An IEEE 754 single, little-endian (exact only for a number `Math.fround` keeps). */
  float32(v: number): void {
    this.room(4);
    this.view ??= new DataView(this.buf.buffer);
    this.view.setFloat32(this.length, v, true);
    this.length += 4;
  }

  /** An IEEE 754 double, little-endian (every number: -0, NaN and the infinities too). */
  float64(v: number): void {
    this.room(8);
    this.view ??= new DataView(this.buf.buffer);
    this.view.setFloat64(this.length, v, true);
    this.length += 8;
  }

  /** `s` as WTF-8 (UTF-8, with a lone surrogate written as its 3-byte form); returns the byte count. */
  string(s: string): number {
    this.room(s.length * 3);
    const buf = this.buf;
    const start = this.length;
    let at = start;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x80) buf[at++] = c;
      else if (c < 0x800) {
        buf[at++] = 0xc0 | (c >> 6);
        buf[at++] = 0x80 | (c & 63);
      } else {
        const d = c >= 0xd800 && c < 0xdc00 && i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
        if (d >= 0xdc00 && d < 0xe000) {
          const p = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          buf[at++] = 0xf0 | (p >> 18);
          buf[at++] = 0x80 | ((p >> 12) & 63);
          buf[at++] = 0x80 | ((p >> 6) & 63);
          buf[at++] = 0x80 | (p & 63);
          i++;
        } else {
          buf[at++] = 0xe0 | (c >> 12);
          buf[at++] = 0x80 | ((c >> 6) & 63);
          buf[at++] = 0x80 | (c & 63);
        }
      }
    }
    this.length = at;
    return at - start;
  }

  /** The bytes written (a copy, exactly `length` long). */
  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** Reads what a {@link ByteWriter} wrote; every malformed read throws `ERR_DESERIALIZE` naming `what`. */
export class ByteReader {
  private at: number;
  private view: DataView | null = null;

  /**
   * @param buf the bytes (only `[start, end)` is read)
   * @param what the name of the encoded thing, for the decode error
   */
  constructor(
    private readonly buf: Uint8Array,
    readonly what: string,
    start = 0,
    private readonly end = buf.length,
  ) {
    this.at = start;
  }

  /** Whether every byte was read. */
  get done(): boolean {
    return this.at === this.end;
  }

  /** How many bytes are left. */
  get left(): number {
    return this.end - this.at;
  }

  /** One byte. */
  byte(): number {
    decodeCheck(this.at < this.end, this.what);
    return this.buf[this.at++] as number;
  }

  /** An unsigned LEB128 varint; refuses more than 8 bytes or a value above the safe integers. */
  uint(): number {
    let v = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      decodeCheck(this.at < this.end, this.what);
      const b = this.buf[this.at++] as number;
      v += (b & 127) * scale;
      if (b < 128) {
        decodeCheck(v <= Number.MAX_SAFE_INTEGER, this.what);
        return v;
      }
      scale *= 128;
    }
    return decodeCheck(false, this.what) as never;
  }

  /** A signed LEB128 varint; refuses more than 8 bytes or a value outside the safe integers. */
  int(): number {
    let v = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      decodeCheck(this.at < this.end, this.what);
      const b = this.buf[this.at++] as number;
      if (b < 128) {
        // the last byte carries the sign: adding it signed keeps every step exact
        v += (b & 64 ? b - 128 : b) * scale;
        decodeCheck(Number.isSafeInteger(v), this.what);
        return v;
      }
      v += (b & 127) * scale;
      scale *= 128;
    }
    return decodeCheck(false, this.what) as never;
  }

  /** A reader over the next `n` bytes, which this reader skips. */
  sub(n: number): ByteReader {
    decodeCheck(n <= this.end - this.at, this.what);
    const r = new ByteReader(this.buf, this.what, this.at, this.at + n);
    this.at += n;
    return r;
  }

  /** The next `n` bytes (a copy: the result never shares memory with the input). */
  bytes(n: number): Uint8Array {
    decodeCheck(n <= this.end - this.at, this.what);
    const out = this.buf.slice(this.at, this.at + n);
    this.at += n;
    return out;
  }

  /** A little-endian IEEE 754 single. */
  float32(): number {
    decodeCheck(this.end - this.at >= 4, this.what);
    this.view ??= new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    const v = this.view.getFloat32(this.at, true);
    this.at += 4;
    return v;
  }

  /** A little-endian IEEE 754 double. */
  float64(): number {
    decodeCheck(this.end - this.at >= 8, this.what);
    this.view ??= new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    const v = this.view.getFloat64(this.at, true);
    this.at += 8;
    return v;
  }

  /** A WTF-8 string of `n` bytes; refuses bytes that are not WTF-8. */
  string(n: number): string {
    decodeCheck(n <= this.end - this.at, this.what);
    const buf = this.buf;
    const end = this.at + n;
    let at = this.at;
    let s = "";
    const units: number[] = [];
    while (at < end) {
      const b = buf[at++] as number;
      if (b < 0x80) units.push(b);
      else {
        let cp: number;
        let more: number;
        let min: number;
        if (b >= 0xc2 && b < 0xe0) {
          cp = b & 31;
          more = 1;
          min = 0x80;
        } else if (b >= 0xe0 && b < 0xf0) {
          cp = b & 15;
          more = 2;
          min = 0x800;
        } else {
          decodeCheck(b >= 0xf0 && b < 0xf5, this.what);
          cp = b & 7;
          more = 3;
          min = 0x10000;
        }
        decodeCheck(end - at >= more, this.what);
        for (; more > 0; more--) {
          const c = buf[at++] as number;
          decodeCheck((c & 0xc0) === 0x80, this.what);
          cp = (cp << 6) | (c & 63);
        }
        decodeCheck(cp >= min && cp <= 0x10ffff, this.what);
        if (cp < 0x10000) units.push(cp);
        else units.push(0xd800 + ((cp - 0x10000) >> 10), 0xdc00 + ((cp - 0x10000) & 1023));
      }
      if (units.length >= 4096) {
        s += String.fromCharCode(...units);
        units.length = 0;
      }
    }
    this.at = end;
    return units.length > 0 ? s + String.fromCharCode(...units) : s;
  }
}

/**
 * A column of integers, written run-length encoded: a run header (a signed varint) `n > 0`
 * followed by one value that repeats `n` times, or `-n` followed by `n` values as they are.
 */
export class IntColumn {
  private readonly values: number[] = [];

  /** @param signed whether values are signed (else non-negative) varints */
  constructor(private readonly signed: boolean) {}

  /** Appends a safe integer (non-negative unless `signed`). */
  push(v: number): void {
    this.values.push(v);
  }

  /**
   * Writes the column to `w`. With `runs: false` every value is written as it is (so each value
   * costs at least one byte: what bounds how much a decoder can be made to expand).
   */
  write(w: ByteWriter, runs: boolean): void {
    const vs = this.values;
    const put = (v: number) => (this.signed ? w.int(v) : w.uint(v));
    let lit = 0;
    const flush = (to: number) => {
      if (lit === to) return;
      w.int(lit - to);
      for (let k = lit; k < to; k++) put(vs[k] as number);
    };
    if (!runs) {
      flush(vs.length);
      return;
    }
    for (let i = 0; i < vs.length; ) {
      const v = vs[i] as number;
      let j = i + 1;
      while (j < vs.length && vs[j] === v) j++;
      // a pair inside literals costs no more as literals and saves a header
      if (j - i >= 3 || (j - i === 2 && lit === i)) {
        flush(i);
        w.int(j - i);
        put(v);
        lit = j;
      }
      i = j;
    }
    flush(vs.length);
  }
}

/** Reads an {@link IntColumn} value by value. */
export class IntColumnReader {
  private left = 0;
  private literal = false;
  private value = 0;

  /**
   * @param r the column's bytes
   * @param signed as the column was written
   */
  constructor(
    private readonly r: ByteReader,
    private readonly signed: boolean,
  ) {}

  /** The next value; throws `ERR_DESERIALIZE` past the end. */
  next(): number {
    if (this.left === 0) {
      const h = this.r.int();
      decodeCheck(h !== 0, this.r.what);
      this.literal = h < 0;
      this.left = Math.abs(h);
      if (!this.literal) this.value = this.read();
    }
    this.left--;
    return this.literal ? this.read() : this.value;
  }

  private read(): number {
    return this.signed ? this.r.int() : this.r.uint();
  }

  /** Whether every value was read. */
  get done(): boolean {
    return this.left === 0 && this.r.done;
  }
}
