/**
 * CBOR tags that datatypes register for their codecs (cbor-x `addExtension` is process-wide).
 * The wire's structure check accepts a tag only if the shared codec emits it or it is listed here,
 * so registering a datatype's codec also lets its values cross the wire. Spindel's own datatypes
 * use tags 40_960–41_215 (first-come private range of the IANA registry); applications should
 * pick tags outside that range.
 * @module
 */
import { addExtension } from "cbor-x";
import { invalidArgument } from "../errors.js";

const extensionTags = new Set<number>();
const codecs: TaggedCodec<unknown>[] = [];

/** How a class of values is written and read back as one tagged CBOR item. */
export interface TaggedCodec<T> {
  /** The CBOR tag (an integer above 255 not used by the shared codec). */
  readonly tag: number;
  /** The class whose instances this codec writes. */
  readonly Class: abstract new (
    ...args: never[]
  ) => T;
  /** Plain CBOR-encodable data that `decode` turns back into an equal value. */
  encode(value: T): unknown;
  /** Rebuilds a value from what `encode` produced; throws a typed error on malformed input. */
  decode(data: unknown): T;
}

/**
 * Register a codec for a class: its instances encode as `tag(encode(value))` everywhere spindel
 * encodes (the wire, `ctx.serialize()`, stores) and decode back through `decode`.
 */
export function registerTaggedCodec<T>(codec: TaggedCodec<T>): void {
  const { tag } = codec;
  if (!Number.isInteger(tag) || tag < 256 || tag === 55799 || tag === 258 || tag === 259)
    invalidArgument(`codec tag must be an integer above 255 not used by the shared codec, got ${tag}`);
  if (extensionTags.has(tag)) invalidArgument(`CBOR tag ${tag} is already registered`);
  extensionTags.add(tag);
  codecs.push(codec as TaggedCodec<unknown>);
  addExtension({
    Class: codec.Class as unknown as new (...args: unknown[]) => T,
    tag,
    encode: (value: T, encodeItem: (v: unknown) => Uint8Array) => encodeItem(codec.encode(value)),
    decode: (data: unknown) => codec.decode(data),
  });
}

/** Whether a tag was registered by {@link registerTaggedCodec} (the wire accepts it). */
export function isExtensionTag(tag: number): boolean {
  return extensionTags.has(tag);
}

/**
 * The registered codec whose class `value` is an instance of, if any (canonical encodings write
 * such values as `tag(encode(value))` with their own deterministic rules).
 */
export function taggedCodecOf(value: object): TaggedCodec<unknown> | undefined {
  for (const c of codecs) if (value instanceof c.Class) return c;
  return undefined;
}
