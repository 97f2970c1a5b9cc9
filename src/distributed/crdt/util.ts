/**
 * Pure helpers shared by the datatypes: canonical keys (value identity independent of object
 * identity and key order), actor ids, SHA-256 content hashes. No I/O, no Node built-ins.
 * @module
 */
import { badArgument } from "./errors.js";

/** Implemented by values that have their own canonical form (the datatypes themselves). */
export interface Canonical {
  /** An injective string form: equal values have equal forms. */
  canonical(): string;
}

function isCanonical(v: object): v is Canonical {
  return typeof (v as Partial<Canonical>).canonical === "function";
}

/**
 * A container being keyed: its parts in order (`kids`), the keys of those done so far (`out`), and
 * how to join them. Keying walks an explicit stack of these, so a value nested any depth keys
 * without a call per level.
 */
interface KeyFrame {
  readonly of: object;
  readonly kids: readonly unknown[];
  readonly out: string[];
  readonly join: (out: string[]) => string;
}

/** Marks an array's hole: it keys as nothing (`[, 1]` as `[,n1]`), not as `undefined`. */
const HOLE: unique symbol = Symbol("hole");

/** The key of `v` when it has no parts, else a frame for its parts. `inside`: strings as JSON. */
function keyOrFrame(v: unknown, inside: boolean): string | KeyFrame {
  switch (typeof v) {
    case "string":
      return inside ? JSON.stringify(v) : `s${v}`;
    case "number":
      return Object.is(v, -0) ? "n0" : `n${v}`;
    case "boolean":
      return v ? "t" : "f";
    case "bigint":
      return `i${v}`;
    case "undefined":
      return "u";
    case "object": {
      if (v === null) return "z";
      if (Array.isArray(v)) {
        const kids: unknown[] = new Array(v.length);
        for (let i = 0; i < v.length; i++) kids[i] = i in v ? v[i] : HOLE;
        return { of: v, kids, out: [], join: (out) => `[${out.join(",")}]` };
      }
      if (v instanceof Uint8Array) {
        let s = "x";
        for (const b of v) s += b.toString(16).padStart(2, "0");
        return s;
      }
      if (v instanceof Date) return `d${v.getTime()}`;
      if (v instanceof Map) {
        const kids: unknown[] = [];
        for (const [k, x] of v) kids.push(k, x);
        const join = (out: string[]) => {
          const parts: string[] = [];
          for (let i = 0; i < out.length; i += 2) parts.push(`${out[i]}:${out[i + 1]}`);
          return `M{${parts.sort().join(",")}}`;
        };
        return { of: v, kids, out: [], join };
      }
      if (v instanceof Set)
        return { of: v, kids: [...v], out: [], join: (out) => `S[${out.sort().join(",")}]` };
      if (isCanonical(v)) return `C${v.constructor.name}(${v.canonical()})`;
      const proto = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null)
        badArgument(`cannot key a ${String(proto?.constructor?.name)} instance`);
      const keys = Object.keys(v).sort();
      const rec = v as Record<string, unknown>;
      const join = (out: string[]) => `{${keys.map((k, i) => `${JSON.stringify(k)}:${out[i]}`).join(",")}}`;
      return { of: v, kids: keys.map((k) => rec[k]), out: [], join };
    }
    case "symbol":
      if (v === HOLE) return "";
      return badArgument(`cannot key a ${typeof v}`);
    default:
      return badArgument(`cannot key a ${typeof v}`);
  }
}

/**
 * An injective string for a CBOR-encodable value: equal data gives equal keys whatever the
 * object identity or key insertion order. `-0` keys as `0` (CBOR has no negative zero integer).
 * Values nested any depth key without recursion; a value that contains itself is refused
 * (`ERR_INVALID_ARGUMENT`), as is anything CBOR does not carry (a function, a class instance).
 */
export function canonicalKey(v: unknown): string {
  const first = keyOrFrame(v, false);
  if (typeof first === "string") return first;
  const stack: KeyFrame[] = [first];
  // the containers being keyed: meeting one again inside itself is a cycle
  const open = new Set<object>([first.of]);
  for (;;) {
    const top = stack[stack.length - 1] as KeyFrame;
    let key: string;
    if (top.out.length < top.kids.length) {
      const kid = keyOrFrame(top.kids[top.out.length], true);
      if (typeof kid !== "string") {
        if (open.has(kid.of)) badArgument("cannot key a value that contains itself");
        open.add(kid.of);
        stack.push(kid);
        continue;
      }
      key = kid;
    } else {
      stack.pop();
      open.delete(top.of);
      key = top.join(top.out);
      if (stack.length === 0) return key;
    }
    (stack[stack.length - 1] as KeyFrame).out.push(key);
  }
}

/**
 * Whether `a` and `b` have equal {@link canonicalKey}s, without building them: plain objects and
 * arrays are compared part by part (stopping at the first difference, with no call per level),
 * other objects by their keys; one that cannot be keyed (a class instance) equals only itself.
 * Never throws. Both sides are walked in step, so a side that contains itself is never walked
 * further than the other one goes.
 */
export function sameKey(a: unknown, b: unknown): boolean {
  const left: unknown[] = [a];
  const right: unknown[] = [b];
  while (left.length > 0) {
    const x = left.pop();
    const y = right.pop();
    if (x === y) continue;
    if (typeof x !== "object" || typeof y !== "object" || x === null || y === null) {
      // primitives: equal keys are equal values, but NaN keys as itself
      if (typeof x !== "number" || typeof y !== "number" || !(Number.isNaN(x) && Number.isNaN(y)))
        return false;
      continue;
    }
    if (Array.isArray(x)) {
      if (!Array.isArray(y) || x.length !== y.length) return false;
      for (let i = 0; i < x.length; i++) {
        left.push(x[i]);
        right.push(y[i]);
      }
      continue;
    }
    if (isRecord(x)) {
      if (!isRecord(y)) return false;
      const keys = Object.keys(x);
      if (keys.length !== Object.keys(y).length) return false;
      for (const k of keys) {
        if (!Object.hasOwn(y, k)) return false;
        left.push(x[k]);
        right.push(y[k]);
      }
      continue;
    }
    if (Array.isArray(y) || isRecord(y)) return false;
    try {
      if (canonicalKey(x) !== canonicalKey(y)) return false;
    } catch {
      return false;
    }
  }
  return true;
}

/** A fresh random actor id (16 hex digits) from the platform's `crypto.getRandomValues`. */
export function randomActor(): string {
  const b = new Uint8Array(8);
  globalThis.crypto.getRandomValues(b);
  let s = "";
  for (const x of b) s += x.toString(16).padStart(2, "0");
  return s;
}

/** Validates an actor id: a non-empty string. */
export function checkActor(actor: unknown): string {
  if (typeof actor !== "string" || actor.length === 0) badArgument("actor must be a non-empty string");
  return actor;
}

const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
]);

/** SHA-256 of `data` (FIPS 180-4), synchronous so that ids can be computed inside pure code. */
export function sha256(data: Uint8Array): Uint8Array {
  const h = new Uint32Array([
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
  ]);
  const bitLen = data.length * 8;
  const padded = new Uint8Array((((data.length + 9 + 63) >> 6) << 6) >>> 0);
  padded.set(data);
  padded[data.length] = 0x80;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 8, Math.floor(bitLen / 0x100000000));
  view.setUint32(padded.length - 4, bitLen >>> 0);
  const w = new Uint32Array(64);
  for (let off = 0; off < padded.length; off += 64) {
    for (let i = 0; i < 16; i++) w[i] = view.getUint32(off + i * 4);
    for (let i = 16; i < 64; i++) {
      const a = w[i - 15] as number;
      const b = w[i - 2] as number;
      const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
      const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
      w[i] = ((w[i - 16] as number) + s0 + (w[i - 7] as number) + s1) >>> 0;
    }
    let a = h[0] as number;
    let b = h[1] as number;
    let c = h[2] as number;
    let d = h[3] as number;
    let e = h[4] as number;
    let f = h[5] as number;
    let g = h[6] as number;
    let hh = h[7] as number;
    for (let i = 0; i < 64; i++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const ch = (e & f) ^ (~e & g);
      const t1 = (hh + S1 + ch + (K[i] as number) + (w[i] as number)) >>> 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const maj = (a & b) ^ (a & c) ^ (b & c);
      const t2 = (S0 + maj) >>> 0;
      hh = g;
      g = f;
      f = e;
      e = (d + t1) >>> 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) >>> 0;
    }
    h[0] = ((h[0] as number) + a) >>> 0;
    h[1] = ((h[1] as number) + b) >>> 0;
    h[2] = ((h[2] as number) + c) >>> 0;
    h[3] = ((h[3] as number) + d) >>> 0;
    h[4] = ((h[4] as number) + e) >>> 0;
    h[5] = ((h[5] as number) + f) >>> 0;
    h[6] = ((h[6] as number) + g) >>> 0;
    h[7] = ((h[7] as number) + hh) >>> 0;
  }
  const out = new Uint8Array(32);
  const ov = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) ov.setUint32(i * 4, h[i] as number);
  return out;
}

/** Hex SHA-256 of a value's canonical key: the content address used for commit ids. */
export function contentHash(v: unknown): string {
  const bytes = sha256(new TextEncoder().encode(canonicalKey(v)));
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

/** Compares strings by code unit (a total order every replica agrees on). */
export function cmpStr(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Whether `v` is a plain object (a CBOR map decoded as an object). */
export function isRecord(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const p = Object.getPrototypeOf(v);
  return p === Object.prototype || p === null;
}
