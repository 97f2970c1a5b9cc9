import { describe, expect, test } from "vitest";
import { decodeCbor, encodeCbor } from "../../src/core/persist/codec.js";
import { isExtensionTag, registerTaggedCodec } from "../../src/core/persist/codec-tags.js";
import { checkCbor, DEFAULT_LIMITS } from "../../src/distributed/limits.js";

class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
}

describe("tagged codecs", () => {
  test("a registered class round-trips and its tag passes the wire check; an unknown tag does not", () => {
    registerTaggedCodec({
      tag: 41_210,
      Class: Point,
      encode: (p) => [p.x, p.y],
      decode: (d) => {
        if (!Array.isArray(d) || d.length !== 2) throw new TypeError("bad point");
        return new Point(d[0] as number, d[1] as number);
      },
    });
    expect(isExtensionTag(41_210)).toBe(true);
    const bytes = encodeCbor({ at: new Point(1, 2) });
    expect(() => checkCbor(bytes, DEFAULT_LIMITS)).not.toThrow();
    const back = decodeCbor(bytes) as { at: Point };
    expect(back.at).toBeInstanceOf(Point);
    expect(back.at).toEqual(new Point(1, 2));
    // tag 41211 (0xa0fb) around the integer 1: not registered
    expect(() => checkCbor(new Uint8Array([0xd9, 0xa0, 0xfb, 0x01]), DEFAULT_LIMITS)).toThrow(
      /unsupported tag/,
    );
  });

  test("bad or duplicate tags are refused", () => {
    const codec = { Class: Point, encode: (p: Point) => p.x, decode: () => new Point(0, 0) };
    expect(() => registerTaggedCodec({ ...codec, tag: 258 })).toThrow(/tag/);
    expect(() => registerTaggedCodec({ ...codec, tag: 1.5 })).toThrow(/tag/);
    registerTaggedCodec({ ...codec, tag: 41_212 });
    expect(() => registerTaggedCodec({ ...codec, tag: 41_212 })).toThrow(/already registered/);
  });
});
