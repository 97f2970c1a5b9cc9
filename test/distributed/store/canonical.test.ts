/** Canonical CBOR against RFC 8949's examples, and content addresses against Node's own SHA-256. */
import { createHash } from "node:crypto";
import { canonicalCbor, contentAddress, StoreError } from "spindel/distributed";
import { describe, expect, it } from "vitest";
import { decodeCbor } from "../../../src/core/persist/codec.js";
import { registerTaggedCodec } from "../../../src/core/persist/codec-tags.js";

const hex = (v: unknown): string => Buffer.from(canonicalCbor(v)).toString("hex");

describe("canonical CBOR", () => {
  it("encodes RFC 8949 appendix A examples in their preferred (shortest) form", () => {
    const cases: [unknown, string][] = [
      [0, "00"],
      [23, "17"],
      [24, "1818"],
      [1000000, "1a000f4240"],
      // a number beyond 32 bits is a float, as the shared codec writes it (a 64-bit integer would
      // decode as a bigint); the bigint form is the appendix's
      [1000000000000, "fb426d1a94a2000000"],
      [1000000000000n, "1b000000e8d4a51000"],
      [18446744073709551615n, "1bffffffffffffffff"],
      [18446744073709551616n, "c249010000000000000000"],
      [-18446744073709551617n, "c349010000000000000000"],
      [-1, "20"],
      [-1000, "3903e7"],
      [-0, "00"],
      [0.5, "f93800"],
      [1.5, "f93e00"],
      [1.1, "fb3ff199999999999a"],
      [65504.5, "fa477fe080"],
      [2 ** -24, "f90001"],
      [0.00006103515625, "f90400"],
      [3.4028234663852886e38, "fa7f7fffff"],
      [1.0e300, "fb7e37e43c8800759c"],
      [Number.POSITIVE_INFINITY, "f97c00"],
      [Number.NEGATIVE_INFINITY, "f9fc00"],
      [Number.NaN, "f97e00"],
      [false, "f4"],
      [true, "f5"],
      [null, "f6"],
      [undefined, "f7"],
      ["", "60"],
      ["IETF", "6449455446"],
      ["\u00fc", "62c3bc"],
      [new Uint8Array([1, 2, 3, 4]), "4401020304"],
      [[1, [2, 3], [4, 5]], "8301820203820405"],
      [{ a: 1, b: [2, 3] }, "a26161016162820203"],
    ];
    for (const [v, h] of cases) expect(hex(v), String(v)).toBe(h);
  });

  it("sorts map keys by their encoded bytes (shorter keys first), whatever the insertion order", () => {
    expect(hex({ b: 1, aa: 3, a: 2 })).toBe("a3616102616201626161" + "03");
    expect(
      hex(
        new Map<unknown, unknown>([
          ["a", 1],
          [10, 2],
        ]),
      ),
    ).toBe("d90103a20a026161" + "01");
    expect(hex(new Set(["b", "a"]))).toBe(hex(new Set(["a", "b"])));
  });

  it("decodes back to an equal value through the shared codec", () => {
    const v = {
      m: new Map([["k", [1, 2.5, "s"]]]),
      s: new Set([3, 1]),
      d: new Date(5000),
      n: -(5n ** 30n),
      b: null,
    };
    expect(decodeCbor(canonicalCbor(v))).toEqual(v);
  });

  it("writes registered tagged codecs as tag(encode(value))", () => {
    class Point {
      constructor(
        readonly x: number,
        readonly y: number,
      ) {}
    }
    registerTaggedCodec<Point>({
      tag: 60_000, // outside spindel's own range 40,960–41,215
      Class: Point,
      encode: (p) => [p.x, p.y],
      decode: (d) => new Point(...(d as [number, number])),
    });
    expect(hex(new Point(1, 2))).toBe("d9ea60820102");
    expect(decodeCbor(canonicalCbor(new Point(1, 2)))).toEqual(new Point(1, 2));
  });

  it("refuses what it cannot encode with ERR_INVALID_ARGUMENT", () => {
    for (const v of [() => 1, Symbol("s"), new (class Foo {})(), new Date(Number.NaN)]) {
      expect(() => canonicalCbor(v)).toThrow(StoreError);
      try {
        canonicalCbor(v);
      } catch (e) {
        expect((e as StoreError).code).toBe("ERR_INVALID_ARGUMENT");
      }
    }
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    expect(() => canonicalCbor(cyclic)).toThrow(/deeper/);
  });

  it("a content address is SHA-256 of the canonical bytes, UUID-shaped (version 8)", async () => {
    const v = { hello: "world", n: [1, 2, 3] };
    const digest = createHash("sha256").update(canonicalCbor(v)).digest();
    const addr = await contentAddress(v);
    const h = digest.subarray(0, 16);
    h[6] = (h[6]! & 0x0f) | 0x80;
    h[8] = (h[8]! & 0x3f) | 0x80;
    const x = h.toString("hex");
    expect(addr).toBe(
      `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`,
    );
    expect(await contentAddress({ n: [1, 2, 3], hello: "world" })).toBe(addr);
  });
});
