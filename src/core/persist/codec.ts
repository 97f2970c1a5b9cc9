/**
 * The CBOR codec shared by context serialization and the wire: plain interoperable CBOR
 * (no cbor-x records). Objects decode as objects, Maps as Maps (tag 259), Sets, Dates,
 * bigints and Uint8Arrays round-trip through standard tags. `-0` decodes as `0` (CBOR integer).
 * @module
 */
import { Decoder, Encoder } from "cbor-x";

/** The cbor-x options every spindel encoder and decoder uses (the wire adds `copyBuffers`). */
export const CBOR_OPTIONS = {
  useRecords: false,
  mapsAsObjects: true,
  useTag259ForMaps: true,
  tagUint8Array: true,
  int64AsType: "bigint",
} as const;

const encoder = new Encoder(CBOR_OPTIONS);
const decoder = new Decoder(CBOR_OPTIONS);

/** Encode a value as CBOR bytes. Throws on values CBOR cannot carry (functions, symbols). */
export function encodeCbor(value: unknown): Uint8Array {
  return encoder.encode(value);
}

/** Decode CBOR bytes produced by {@link encodeCbor} (or any plain CBOR encoder). */
export function decodeCbor(bytes: Uint8Array): unknown {
  return decoder.decode(bytes);
}
