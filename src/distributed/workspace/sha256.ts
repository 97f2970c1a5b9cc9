/**
 * SHA-256 as hex, synchronous: content addresses are computed per node, often hundreds of
 * thousands at a time, where an asynchronous Web Crypto call per node costs more than the hash
 * itself. The digest is the datatypes' own synchronous SHA-256 (browser-safe, no Node built-ins).
 * @module
 */
import { sha256 } from "../crdt/util.js";

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** The SHA-256 digest of `data` as 64 lowercase hex characters. */
export function sha256Hex(data: Uint8Array): string {
  let out = "";
  for (const b of sha256(data)) out += HEX[b];
  return out;
}
