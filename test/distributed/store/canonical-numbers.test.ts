import { describe, expect, it } from "vitest";
import { decodeCbor } from "../../../src/core/persist/codec.js";
import { canonicalCbor } from "../../../src/distributed/store/canonical.js";

describe("canonical CBOR numbers", () => {
  it("integers beyond 32 bits come back as numbers (timestamps), bigints as bigints", () => {
    const v = { now: 1_796_397_120_961, big: 2 ** 53 - 1, neg: -(2 ** 40), small: 7, b: 2n ** 64n };
    expect(decodeCbor(canonicalCbor(v))).toEqual(v);
    expect(canonicalCbor({ t: 1_796_397_120_961 })).toEqual(canonicalCbor({ t: 1_796_397_120_961 }));
  });
});
