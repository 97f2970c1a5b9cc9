/**
 * The CBOR tags of the datatypes' codecs (spindel's range 40_960–41_215; 41_000+ belongs to the
 * stage). Changing a number breaks every stored or in-flight value: append only.
 * @module
 */

/** Tag numbers, one per datatype. */
export const CRDT_TAGS = {
  GSet: 40_960,
  ORSet: 40_961,
  ORMap: 40_962,
  LWWRegister: 40_963,
  PNCounter: 40_964,
  CDVCS: 40_965,
  VersionedMap: 40_966,
  Ref: 40_967,
} as const;

import { registerTaggedCodec } from "../../core/persist/codec-tags.js";

/**
 * Registers a datatype's codec. The classes keep their constructors private (values are built
 * by their operations), so the class is passed as a plain function here.
 */
export function registerCrdtCodec<T>(
  tag: number,
  Class: Function,
  encode: (value: T) => unknown,
  decode: (data: unknown) => T,
): void {
  registerTaggedCodec<T>({ tag, Class: Class as abstract new (...args: never[]) => T, encode, decode });
}
