/**
 * The columnar encoding of converge's ref log: exact round trips of random concurrent sessions,
 * reading data in the row-per-op format, its size against that format, and a decoder that answers
 * malformed input (random, truncated or mutated bytes) with `ERR_DESERIALIZE` and nothing else.
 */
import { Tag } from "cbor-x";
import fc from "fast-check";
import {
  CrdtDecodeError,
  decodeRefOps,
  encodeRefOps,
  type Ref,
  type RefOp,
  ref,
  refFromOps,
} from "spindel/crdt";
import { describe, expect, test } from "vitest";
import { decodeCbor, encodeCbor } from "../../../src/core/persist/codec.js";
import { NOT_A_TREE, play, type Session, scalar, session, show } from "./ref-cases.js";
import { encodeRefRows } from "./ref-rows.js";

const REF_TAG = 40_967;
const sortedLog = (r: Ref<unknown>) => r.log().map(show).sort().join("\n");

/** The logs of every replica of a session. */
function logsOf(s: Session): RefOp[][] {
  return play(s).map((r) => r.log());
}

/** Either a log that survives its own round trip, or the typed decode error. */
function decodesOrRefuses(data: unknown): "ok" | "refused" {
  let ops: RefOp[];
  try {
    ops = decodeRefOps(data);
  } catch (e) {
    expect(e).toBeInstanceOf(CrdtDecodeError);
    expect((e as CrdtDecodeError).code).toBe("ERR_DESERIALIZE");
    return "refused";
  }
  expect(show(decodeRefOps(encodeRefOps(ops)))).toBe(show(ops));
  refFromOps(ops);
  return "ok";
}

/** The same through the tag: a ref, or the typed decode error. */
function loadsOrRefuses(bytes: Uint8Array): void {
  let r: unknown;
  try {
    r = decodeCbor(encodeCbor(new Tag(bytes, REF_TAG)));
  } catch (e) {
    expect(e).toBeInstanceOf(CrdtDecodeError);
    return;
  }
  expect(typeof (r as Ref<unknown>).clock).toBe("function");
}

describe("ref log, columnar: round trips", () => {
  test("property: every replica of a random session comes back exactly (log in order, value, clock)", () => {
    fc.assert(
      fc.property(session(), (s) => {
        for (const r of play(s)) {
          const log = r.log();
          const data = encodeRefOps(log);
          expect(data instanceof Uint8Array || (data as unknown[])[0] instanceof Uint8Array).toBe(true);
          // through CBOR, as stores and the wire carry it
          expect(show(decodeRefOps(decodeCbor(encodeCbor(data))))).toBe(show(log));
          const back = decodeCbor(encodeCbor(r)) as Ref<unknown>;
          expect(show(back.value)).toBe(show(r.value));
          expect(back.clock()).toEqual(r.clock());
          expect(sortedLog(back)).toBe(sortedLog(r as Ref<unknown>));
        }
      }),
      { seed: 0x5e55, numRuns: 300 },
    );
  });

  test("property: the row-per-op format of a random session still decodes to the same log", () => {
    fc.assert(
      fc.property(session({ rowSafe: true }), (s) => {
        for (const log of logsOf(s)) {
          const rows = decodeCbor(encodeCbor(encodeRefRows(log)));
          expect(Array.isArray((rows as unknown[])[0])).toBe(true);
          expect(show(decodeRefOps(rows))).toBe(show(log));
          const old = decodeCbor(encodeCbor(new Tag(rows, REF_TAG))) as Ref<unknown>;
          expect(sortedLog(old)).toBe(sortedLog(refFromOps(log)));
        }
      }),
      { seed: 0x01d, numRuns: 200 },
    );
  });

  test.each([
    ["short sessions (up to 60 steps)", 0, 60, 200, 0.8],
    ["long sessions (100-300 steps)", 100, 300, 20, 0.7],
  ])(
    "property, %s: never larger than the row format by more than 12 bytes, smaller in total",
    (_, minSteps, maxSteps, numRuns, total) => {
      let old = 0;
      let now = 0;
      fc.assert(
        fc.property(session({ rowSafe: true, minSteps, maxSteps }), (s) => {
          for (const log of logsOf(s)) {
            const a = encodeCbor(new Tag(encodeRefRows(log), REF_TAG)).length;
            const b = encodeCbor(new Tag(encodeRefOps(log), REF_TAG)).length;
            expect(b).toBeLessThanOrEqual(a + 12);
            old += a;
            now += b;
          }
        }),
        { seed: 0x5123, numRuns },
      );
      expect(now).toBeLessThan(old * total);
    },
  );

  test("every scalar on its own, at the root, in a map and in a list", () => {
    fc.assert(
      fc.property(scalar(), (x) => {
        for (const v of [x, { k: x }, [x, x]]) {
          const r = ref<unknown>(v, { actor: "a" });
          const back = decodeCbor(encodeCbor(r)) as Ref<unknown>;
          expect(show(back.value)).toBe(show(r.value));
          expect(show(decodeRefOps(encodeRefOps(r.log())))).toBe(show(r.log()));
        }
      }),
      { seed: 7, numRuns: 500 },
    );
  });

  test("extreme numbers and ids", () => {
    const values = [
      -0,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      Number.MAX_SAFE_INTEGER,
      Number.MIN_SAFE_INTEGER,
      2 ** 53,
      -(2 ** 53),
      Number.MAX_VALUE,
      Number.MIN_VALUE,
      -(2 ** 52) - 1,
      2 ** 31,
      -(2 ** 31),
      2 ** 32,
      0x3fffffff,
      -0x40000000,
      -0x40000001,
      0n,
      -1n,
      255n,
      -256n,
      2n ** 64n,
      -(2n ** 64n),
      "\ud800",
      "\udc00x\ud800",
      "\ud83d\ude00",
    ];
    const big = Number.MAX_SAFE_INTEGER;
    const ops: RefOp[] = [
      { op: "list", id: [big - 5, "a"] },
      ...values.map(
        (value, i): RefOp => ({
          op: "ins",
          id: [i + 1, "b"],
          obj: `${big - 5}:a`,
          after: i === 0 ? null : `${i}:b`,
          value,
        }),
      ),
      { op: "ins", id: [big, "a"], obj: `${big - 5}:a`, after: `${big - 1}:a`, value: 1 },
      { op: "rm", id: [big - 1, "b"], obj: `${big - 5}:a`, elem: "0:zz" },
    ];
    const back = decodeRefOps(decodeCbor(encodeCbor(encodeRefOps(ops))));
    expect(show(back)).toBe(show(ops));
  });

  test("an op no ref could have made is refused when encoding", () => {
    const bad: unknown[] = [
      { op: "set", id: [1, "a"], obj: "x", key: "k", value: 1 },
      { op: "set", id: [1, "a"], obj: "01:a", key: "k", value: 1 },
      { op: "set", id: [1, "a"], obj: "1:", key: "k", value: 1 },
      { op: "set", id: [1, "a"], obj: "0:", key: 7, value: 1 },
      { op: "set", id: [1, "a"], obj: "0:", key: "k", value: { a: 1 } },
      { op: "ins", id: [1, "a"], obj: "0:", after: null, value: [1] },
      { op: "map", id: [0, "a"] },
      { op: "map", id: [1.5, "a"] },
      { op: "map", id: [1, ""] },
      { op: "zap", id: [1, "a"] },
      { id: [1, "a"] },
      null,
      7,
      { op: "map" },
      { op: "map", id: 1 },
      { op: "set", id: [1, "a"], obj: null, key: "k", value: 1 },
      { op: "set", id: [1, "a"], obj: "0:", key: "k", node: null },
      { op: "set", id: [1, "a"], obj: "0:", key: "k", node: 3 },
      { op: "set", id: [1, "a"], obj: "0:", key: "k", value: () => 1 },
      { op: "set", id: [1, "a"], obj: "0:", key: "k", value: Symbol("s") },
      { op: "del", id: [1, "a"], obj: "0:" },
      { op: "ins", id: [1, "a"], obj: "2:a", after: "0:", value: 1 },
      { op: "ins", id: [1, "a"], obj: "2:a", value: 1 },
      { op: "rm", id: [1, "a"], obj: "2:a", elem: null },
      { op: "rm", id: [1, "a"], obj: "2:a", elem: "3" },
    ];
    const refused = expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" });
    const r = ref<unknown>({ l: [1] }, { actor: "a" });
    const before = show({ value: r.value, log: r.log(), clock: r.clock() });
    for (const op of bad) {
      const what = String(JSON.stringify(op));
      let message = "";
      expect(() => {
        try {
          encodeRefOps([op as RefOp]);
        } catch (e) {
          message = (e as Error).message;
          throw e;
        }
      }, what).toThrow(refused);
      // merge refuses it too, for the same reason, and keeps none of the patch
      expect(() => r.merge({ ops: [{ op: "map", id: [5, "b"] }, op as RefOp] }), what).toThrow(
        expect.objectContaining({ code: "ERR_INVALID_ARGUMENT", message: `ref patch: ${message}` }),
      );
      expect(show({ value: r.value, log: r.log(), clock: r.clock() })).toBe(before);
    }
  });

  test("a long run that expands past the decoder's bound is written without runs, and still decodes", () => {
    const run = (n: number): RefOp[] => [
      { op: "list", id: [1, "a"] },
      ...Array.from(
        { length: n },
        (_, i): RefOp => ({
          op: "ins",
          id: [i + 2, "a"],
          obj: "1:a",
          after: i ? `${i + 1}:a` : null,
          value: null,
        }),
      ),
    ];
    const long = run(70_000);
    const bytes = encodeRefOps(long) as Uint8Array;
    expect(bytes.length).toBeGreaterThan(70_000);
    expect(decodeRefOps(bytes)).toEqual(long);
    expect((encodeRefOps(run(5_000)) as Uint8Array).length).toBeLessThan(40);
    const r = ref({ l: Array.from({ length: 5_000 }, () => null) }, { actor: "a" });
    expect((decodeCbor(encodeCbor(r)) as Ref<{ l: null[] }>).value.l).toHaveLength(5_000);
  });
});

describe("ref log, columnar: malformed input is refused with ERR_DESERIALIZE", () => {
  /** a valid encoding as its bytes and its other values */
  const valid = session({ maxSteps: 25 }).map((s): [Uint8Array, unknown[]] => {
    const data = encodeRefOps((logsOf(s)[0] as RefOp[]) ?? []);
    return data instanceof Uint8Array ? [data, []] : (data as [Uint8Array, unknown[]]);
  });
  const wrap = (bytes: Uint8Array, others: unknown[]) => (others.length > 0 ? [bytes, others] : bytes);

  test("random bytes", () => {
    const others = fc.array(fc.oneof(scalar(), fc.constant({ a: 1 }), fc.constant([1])), { maxLength: 3 });
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300, size: "max" }),
        others,
        fc.boolean(),
        (bytes, xs, versioned) => {
          // half of them past the version byte
          if (versioned && bytes.length > 0) bytes[0] = 1;
          decodesOrRefuses(bytes);
          decodesOrRefuses([bytes, xs]);
          loadsOrRefuses(bytes);
        },
      ),
      { seed: 1, numRuns: 3000 },
    );
  });

  test("random bytes after a plausible header (version, actor and key tables, column lengths)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat({ max: 12 }), { minLength: 9, maxLength: 9 }),
        fc.uint8Array({ maxLength: 200, size: "max" }),
        (lengths, rest) => {
          decodesOrRefuses(new Uint8Array([1, 1, 1, 0x61, 1, 1, 0x6b, ...lengths, ...rest]));
        },
      ),
      { seed: 2, numRuns: 3000 },
    );
  });

  test("truncated valid encodings", () => {
    fc.assert(
      fc.property(valid, fc.nat(), ([bytes, xs], cut) => {
        const n = cut % (bytes.length + 1);
        const outcome = decodesOrRefuses(wrap(bytes.subarray(0, n), xs));
        if (n < bytes.length) expect(outcome).toBe("refused");
        loadsOrRefuses(bytes.subarray(0, n));
      }),
      { seed: 3, numRuns: 1000 },
    );
  });

  test("mutated valid encodings: bytes changed, inserted, deleted; values dropped or added", () => {
    const edit = fc.record({ at: fc.nat(), kind: fc.nat({ max: 3 }), byte: fc.nat({ max: 255 }) });
    fc.assert(
      fc.property(valid, fc.array(edit, { minLength: 1, maxLength: 4 }), ([bytes, xs], edits) => {
        const b = [...bytes];
        let others = xs;
        for (const e of edits) {
          const at = e.at % (b.length + 1);
          if (e.kind === 0 && at < b.length) b[at] = e.byte;
          else if (e.kind === 1) b.splice(at, 0, e.byte);
          else if (e.kind === 2) b.splice(at, 1);
          else others = e.byte % 2 ? others.slice(1) : [...others, e.byte % 3 ? new Date(0) : { x: 1 }];
        }
        const data = new Uint8Array(b);
        decodesOrRefuses(wrap(data, others));
        loadsOrRefuses(data);
      }),
      { seed: 4, numRuns: 3000 },
    );
  });

  test("malformed wrappers and row-format data", () => {
    const good = encodeRefOps(ref({ a: [1] }, { actor: "a" }).log()) as Uint8Array;
    const rows = encodeRefRows(ref({ a: [1, 2], b: "x" }, { actor: "a" }).log()) as unknown[];
    for (const bad of [
      null,
      7,
      "x",
      {},
      [],
      [2],
      new Uint8Array(0),
      new Uint8Array([2, ...good.subarray(1)]),
      new Uint8Array([...good, 0]),
      [good],
      [good, []],
      [good, {}],
      [good, [new Date(0)]],
      [good, [new Date(0)], 1],
      [2, good],
      [["a"], [], []],
      [["a"], [[9, 1, 0]]],
      [["a"], [[2, 1, 0, 0, 0, 7, 1]]],
      [["a"], [[0, 0, 0]]],
      [[""], []],
    ])
      expect(decodesOrRefuses(bad), JSON.stringify(bad)).toBe("refused");
    // any part of a row-format log replaced by something else
    const paths: number[][] = [];
    const walk = (v: unknown, path: number[]) => {
      paths.push(path);
      if (Array.isArray(v)) for (const [i, x] of v.entries()) walk(x, [...path, i]);
    };
    walk(rows, []);
    fc.assert(
      fc.property(fc.constantFrom(...paths.slice(1)), fc.anything(), (path, x) => {
        const copy = structuredClone(rows);
        let at: unknown[] = copy;
        for (const i of path.slice(0, -1)) at = at[i] as unknown[];
        at[path[path.length - 1] as number] = x;
        decodesOrRefuses(copy);
      }),
      { seed: 5, numRuns: 2000 },
    );
  });

  test("a log no ref could have written: a container inside itself or placed twice", () => {
    for (const log of NOT_A_TREE) {
      expect(decodesOrRefuses(encodeRefOps(log)), show(log)).toBe("refused");
      expect(decodesOrRefuses(encodeRefRows(log)), show(log)).toBe("refused");
      expect(() => decodeCbor(encodeCbor(new Tag(encodeRefOps(log), REF_TAG)))).toThrow(CrdtDecodeError);
    }
    // (a log that nests containers tens of thousands deep is a valid one and loads: ref-deep.test.ts)
  });

  test("a small payload that would expand to billions of ops is refused at once", () => {
    // the op and counter columns each one run of 2^40 (map ops by one actor, counters one apart)
    const run = [0x80, 0x80, 0x80, 0x80, 0x80, 0x20, 0];
    const bytes = new Uint8Array([
      ...[1, 1, 1, 0x61, 0], // version, one actor "a", no keys
      ...[7, 7, 0, 0, 0, 0, 0, 0, 0], // column lengths
      ...run,
      ...run,
    ]);
    const t0 = performance.now();
    expect(decodesOrRefuses(bytes)).toBe("refused");
    expect(performance.now() - t0).toBeLessThan(2_000);
    // runs of 2^16 are a valid log
    const fine = [0x80, 0x80, 4, 0];
    const ok = decodeRefOps(new Uint8Array([1, 1, 1, 0x61, 0, 4, 4, 0, 0, 0, 0, 0, 0, 0, ...fine, ...fine]));
    expect(ok).toHaveLength(65_536);
    expect(ok[65_535]).toEqual({ op: "map", id: [65_536, "a"] });
  });
});
