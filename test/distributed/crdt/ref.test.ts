import fc from "fast-check";
import { CrdtError, decodeRefOps, encodeRefOps, type Ref, type RefOp, ref, refFromOps } from "spindel/crdt";
import { describe, expect, test } from "vitest";
import { decodeCbor, encodeCbor } from "../../../src/core/persist/codec.js";
import { fcRun, shuffle } from "./harness.js";
import { NOT_A_TREE, play, session, show, TREE_BASE } from "./ref-cases.js";

type Doc = { name: string; items: number[] };

describe("converge ref: seed 002 as written there", () => {
  test("a branched copy, diverging edits, merge! both ways", () => {
    // (def cref-origin (c/ref {:name "Foo" :items [0 1]}))
    const crefOrigin = ref<Doc>({ name: "Foo", items: [0, 1] });
    expect(crefOrigin.value).toEqual({ name: "Foo", items: [0, 1] });
    // (def cref-branched (c/ref-from-ops (c/ref-log cref-origin)))
    const crefBranched = refFromOps<Doc>(crefOrigin.log());
    expect(crefBranched.value).toEqual({ name: "Foo", items: [0, 1] });
    // (swap! cref-origin assoc :name "Bar")
    expect(crefOrigin.swap((v) => ({ ...v, name: "Bar" }))).toEqual({ name: "Bar", items: [0, 1] });
    // (swap! cref-branched update :items conj 2)
    expect(crefBranched.swap((v) => ({ ...v, items: [...v.items, 2] }))).toEqual({
      name: "Foo",
      items: [0, 1, 2],
    });
    // (c/merge! cref-origin cref-branched)
    crefOrigin.merge(crefBranched);
    expect(crefOrigin.value).toEqual({ name: "Bar", items: [0, 1, 2] });
    expect(crefBranched.value).toEqual({ name: "Foo", items: [0, 1, 2] });
    // (c/merge! cref-branched cref-origin)
    crefBranched.merge(crefOrigin);
    expect(crefBranched.value).toEqual({ name: "Bar", items: [0, 1, 2] });
  });

  test("the check-in loop with clocks and patches; a patch from an unchanged clock is empty", () => {
    const crefBackend = ref<Doc>({ name: "Foo", items: [0, 1] });
    const crefClient = refFromOps<Doc>(crefBackend.log());
    const clientSeenClock = crefClient.clock();
    crefBackend.swap((v) => ({ ...v, name: "Bar" }));
    crefClient.swap((v) => ({ ...v, items: [...v.items, 2] }));
    const clientOriginatedPatch = crefClient.patchFromClock(clientSeenClock);
    crefBackend.merge(clientOriginatedPatch);
    const backendOriginatedPatch = crefBackend.patchFromClock(clientSeenClock);
    crefClient.merge(backendOriginatedPatch);
    expect(crefBackend.value).toEqual(crefClient.value);
    expect(crefClient.value).toEqual({ name: "Bar", items: [0, 1, 2] });
    // the loop again with no changes: empty patches both ways
    const clock = crefClient.clock();
    expect(crefClient.patchFromClock(clock).ops).toEqual([]);
    expect(crefBackend.patchFromClock(clock).ops).toEqual([]);
    expect(crefBackend.clock()).toEqual(clock);
  });
});

describe("converge ref", () => {
  test("keys named like Object.prototype members are data: dropped by a swap, read back as own keys", () => {
    const r = ref<Record<string, number>>({ toString: 1, constructor: 2, a: 3 }, { actor: "a" });
    r.swap(() => ({ a: 3 }));
    expect(r.value).toEqual({ a: 3 });
    expect(Object.keys(r.value)).toEqual(["a"]);
    const withProto: Record<string, number> = JSON.parse('{"__proto__": 5, "b": 6}');
    const p = ref<Record<string, number>>(withProto, { actor: "p" });
    const read = p.value;
    expect(Object.getPrototypeOf(read)).toBe(Object.prototype);
    expect(Object.hasOwn(read, "__proto__")).toBe(true);
    expect(Object.keys(read).sort()).toEqual(["__proto__", "b"]);
    expect(refFromOps(p.log(), { actor: "q" }).value).toEqual(read);
  });

  test("concurrent edits of different keys and concurrent appends to one array survive, both merge orders", () => {
    for (const order of ["ab", "ba"]) {
      const a = ref<{ x: number; y: number; list: string[] }>({ x: 0, y: 0, list: ["s"] }, { actor: "a" });
      const b = refFromOps<{ x: number; y: number; list: string[] }>(a.log(), { actor: "b" });
      a.swap((v) => ({ ...v, x: 1, list: [...v.list, "a1", "a2"] }));
      b.swap((v) => ({ ...v, y: 2, list: [...v.list, "b1"] }));
      if (order === "ab") {
        a.merge(b);
        b.merge(a);
      } else {
        b.merge(a);
        a.merge(b);
      }
      expect(a.value).toEqual(b.value);
      expect(a.value.x).toBe(1);
      expect(a.value.y).toBe(2);
      expect([...a.value.list].sort()).toEqual(["a1", "a2", "b1", "s"]);
      expect(a.value.list.indexOf("a1")).toBe(a.value.list.indexOf("a2") - 1);
    }
  });

  test("nested maps and arrays edit in place: concurrent nested edits merge", () => {
    const a = ref({ users: [{ name: "ann", tags: ["x"] }], meta: { v: 1 } }, { actor: "a" });
    const b = refFromOps<typeof a.value>(a.log(), { actor: "b" });
    a.swap((v) => ({ ...v, users: [{ ...v.users[0]!, name: "Ann" }] }));
    b.swap((v) => ({ ...v, users: [{ ...v.users[0]!, tags: ["x", "y"] }], meta: { v: 1, w: 2 } }));
    a.merge(b);
    expect(a.value).toEqual({ users: [{ name: "Ann", tags: ["x", "y"] }], meta: { v: 1, w: 2 } });
  });

  test("watch sees every change once; a swap that changes nothing writes nothing; reset", () => {
    const r = ref({ n: 1 });
    const seen: [unknown, unknown][] = [];
    const stop = r.watch((v, prev) => seen.push([v, prev]));
    const before = r.log().length;
    r.swap((v) => ({ ...v }));
    expect(r.log().length).toBe(before);
    r.swap((v) => ({ n: v.n + 1 }));
    r.reset({ n: 10 });
    expect(seen).toEqual([
      [{ n: 2 }, { n: 1 }],
      [{ n: 10 }, { n: 2 }],
    ]);
    stop();
    r.reset({ n: 0 });
    expect(seen).toHaveLength(2);
    expect(r.merge(r)).toBe(r);
  });

  test("a ref survives its codec and the log's compact encoding; malformed logs are refused", () => {
    const r = ref({ a: [1, { b: "c" }], d: null as null | number }, { actor: "w" });
    r.swap((v) => ({ ...v, d: 4 }));
    const back = decodeCbor(encodeCbor(r)) as Ref<typeof r.value>;
    expect(back.value).toEqual(r.value);
    expect(back.clock()).toEqual(r.clock());
    expect(decodeRefOps(decodeCbor(encodeCbor(encodeRefOps(r.log()))))).toEqual(r.log());
    for (const bad of [
      [],
      [["a"], [[9, 1, 0]]],
      [["a"], [[2, 1, 0, 0, 0, 7, 1]]],
      [["a"], [[0, 0, 0]]],
      [[""], []],
    ])
      expect(() => decodeRefOps(bad)).toThrow(expect.objectContaining({ code: "ERR_DESERIALIZE" }));
  });

  test("property: replicas that saw the same ops agree, whatever the merge order and patch path", () => {
    type V = { k: Record<string, number>; l: number[] };
    const edit = fc.record({ r: fc.nat({ max: 2 }), kind: fc.nat({ max: 4 }), x: fc.nat({ max: 9 }) });
    fc.assert(
      fc.property(fc.array(edit, { maxLength: 25 }), fc.nat(), (edits, seed) => {
        const origin = ref<V>({ k: {}, l: [] }, { actor: "a" });
        const reps = [
          origin,
          refFromOps<V>(origin.log(), { actor: "b" }),
          refFromOps<V>(origin.log(), { actor: "c" }),
        ];
        for (const e of edits) {
          const r = reps[e.r] as Ref<V>;
          if (e.kind === 0) r.swap((v) => ({ ...v, k: { ...v.k, [`k${e.x % 3}`]: e.x } }));
          else if (e.kind === 1) r.swap((v) => ({ ...v, l: [...v.l, e.x] }));
          else if (e.kind === 2)
            r.swap((v) => ({ ...v, l: v.l.filter((_, i) => i !== e.x % (v.l.length + 1)) }));
          else if (e.kind === 3) r.swap((v) => ({ ...v, l: [e.x, ...v.l] }));
          else {
            const from = reps[(e.r + 1 + (e.x % 2)) % 3] as Ref<V>;
            r.merge(from.patchFromClock(r.clock()));
          }
        }
        const finals = shuffle([0, 1, 2], seed).map((i) => {
          const logs = shuffle(reps, seed + i).map((r) => r.log());
          const x = refFromOps<V>(logs[0] ?? []);
          for (const l of logs.slice(1)) x.merge({ ops: shuffle(l, seed) });
          return x.value;
        });
        expect(finals[1]).toEqual(finals[0]);
        expect(finals[2]).toEqual(finals[0]);
      }),
      fcRun(0x2ef, 120),
    );
  });
});

describe("converge ref: merge refuses what no ref could have written, and merges none of it", () => {
  /** What a caller can see of a ref: value, log, clock (as text, so -0 and bigints count). */
  const state = (r: Ref<unknown>) => show({ value: r.value, log: r.log(), clock: r.clock() });
  const refused = expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" });

  test("a container inside itself or placed twice: refused with ERR_INVALID_ARGUMENT, the ref as it was", () => {
    for (const log of NOT_A_TREE) {
      // all at once, as a load would
      expect(() => refFromOps(log), show(log)).toThrow(CrdtError);
      expect(() => refFromOps(log), show(log)).toThrow(refused);
      // as a patch on a ref that holds the valid part, with a watcher and a local edit since
      const r = refFromOps<unknown>(TREE_BASE, { actor: "w" });
      r.swap(() => ({ n: 1, l: [1, 2] }));
      const seen: unknown[] = [];
      r.watch((v) => seen.push(v));
      const before = state(r);
      const patch = { ops: shuffle(log.slice(TREE_BASE.length), log.length) };
      expect(() => r.merge(patch), show(log)).toThrow(refused);
      expect(state(r)).toBe(before);
      expect(seen).toEqual([]);
      // and it still works: reads, local edits, a valid patch
      r.swap((v) => ({ ...(v as object), m: 2 }));
      const other = refFromOps<unknown>(r.log(), { actor: "o" });
      other.swap((v) => ({ ...(v as object), o: [3] }));
      r.merge(other.patchFromClock(r.clock()));
      expect(r.value).toEqual({ n: 1, l: [1, 2], m: 2, o: [3] });
      expect(seen).toHaveLength(2);
    }
  });

  test("two refs, each a tree, whose union is a cycle: merging either into the other is refused", () => {
    // the root inside the orphan map 2:a (a tree: 2:a is in nothing), and 2:a inside the root's value
    const rootInOrphan = refFromOps<unknown>(
      [...TREE_BASE, { op: "set", id: [4, "b"], obj: "2:a", key: "r", node: "0:" }],
      { actor: "b" },
    );
    const orphanInValue = refFromOps<unknown>(
      [...TREE_BASE, { op: "set", id: [4, "c"], obj: "1:a", key: "x", node: "2:a" }],
      { actor: "c" },
    );
    for (const [into, from] of [
      [rootInOrphan, orphanInValue],
      [orphanInValue, rootInOrphan],
    ] as const) {
      const before = state(into);
      expect(() => into.merge(from)).toThrow(refused);
      expect(() => into.merge(from.patchFromClock(into.clock()))).toThrow(refused);
      expect(state(into)).toBe(before);
    }
  });

  test("a swap to a value the ref refuses changes nothing, even after edits the same swap worked out", () => {
    const r = ref<unknown>({ a: 1, l: [1, 2], m: { k: "x" } }, { actor: "w" });
    const seen: unknown[] = [];
    r.watch((v) => seen.push(v));
    const before = state(r);
    const loop: Record<string, unknown> = { k: "y" };
    loop.self = [loop];
    for (const bad of [
      // keys edited in place first, the function met last
      { a: 2, l: [1, 2, 3], m: { k: "y" }, f: () => 1 },
      { a: 2, l: [1, Symbol("s")], m: { k: "x" } },
      { a: 2, l: [1, 2], m: loop },
    ]) {
      expect(() => r.reset(bad)).toThrow(refused);
      expect(state(r)).toBe(before);
    }
    expect(seen).toEqual([]);
    r.swap((v) => ({ ...(v as object), a: 3 }));
    expect(r.value).toEqual({ a: 3, l: [1, 2], m: { k: "x" } });
    expect(r.log().at(-1)?.id).toEqual([r.log().length, "w"]);
    expect(seen).toHaveLength(1);
  });

  test("an id that is not [positive counter, actor] is refused: [0, ''] would name, and replace, the root", () => {
    const r = ref<unknown>({ a: 1 }, { actor: "w" });
    const before = state(r);
    const bad = [
      { op: "list", id: [0, ""] },
      { op: "map", id: [0, "a"] },
      { op: "map", id: [1, ""] },
      { op: "map", id: [1.5, "a"] },
      { op: "map", id: ["1", "a"] },
      { op: "map" },
    ] as unknown as RefOp[];
    for (const op of bad) {
      expect(() => r.merge({ ops: [{ op: "map", id: [7, "ok"] }, op] }), JSON.stringify(op)).toThrow(refused);
      expect(state(r)).toBe(before);
    }
  });

  test("property: merge refuses a patch exactly when the codec refuses the merged log; a refused merge changes nothing, an accepted one reads", () => {
    // containers placed in containers (the root, ones the ref has, new ones), mixed into a valid
    // patch from another replica; `node` 0-1 places a new container, 2 the root, 3 one the ref has
    const placement = fc.record({ into: fc.nat(), node: fc.nat({ max: 3 }), which: fc.nat() });
    // then a few ops of the patch with a field replaced (or the whole op): by something an op may
    // hold there or not, so that some patches stay valid and some do not
    const junk = fc.oneof(
      fc.constantFrom<unknown>(
        ...[undefined, null, "", "0:", "1:", ":a", "01:a", "0:a", "1:a", "2:zz", "x", "9007199254740993:a"],
        ...[0, 1.5, -1, 7, [1, "a"], [0, "a"], [1, ""], ["1", "a"], {}, [], { a: 1 }, [1], new Date(0)],
        ...[
          Symbol.for("s"),
          () => 1,
          2n,
          new Uint8Array([1]),
          ...["map", "list", "set", "del", "ins", "rm", "zap"],
        ],
      ),
      fc.anything(),
    );
    const field = fc.constantFrom("op", "id", "obj", "key", "after", "node", "value", "elem", "whole");
    const mutation = fc.record({ which: fc.nat(), field, to: junk });
    fc.assert(
      fc.property(
        session({ maxSteps: 25 }),
        fc.array(placement, { minLength: 0, maxLength: 2 }),
        fc.array(mutation, { maxLength: 2 }),
        fc.nat(),
        (s, places, mutations, seed) => {
          const [r, other] = play(s) as [Ref<unknown>, Ref<unknown>];
          const kinds = new Map<string, "map" | "list">([["0:", "map"]]);
          for (const op of r.log())
            if (op.op === "map" || op.op === "list") kinds.set(`${op.id[0]}:${op.id[1]}`, op.op);
          const existing = [...kinds.keys()].slice(1);
          const bad: RefOp[] = [];
          let c = 1;
          const made = places.map((p) => {
            if (p.node > 1) return undefined;
            bad.push({ op: "map", id: [c, "zz"] });
            kinds.set(`${c}:zz`, "map");
            return `${c++}:zz`;
          });
          const into = [...kinds.keys()];
          for (const [i, p] of places.entries()) {
            const node = made[i] ?? (p.node === 3 ? existing[p.which % existing.length] : undefined) ?? "0:";
            const obj = into[p.into % into.length] as string;
            const id: [number, string] = [c++, "zz"];
            bad.push(
              kinds.get(obj) === "list"
                ? { op: "ins", id, obj, after: null, node }
                : { op: "set", id, obj, key: "z", node },
            );
          }
          const patch: unknown[] = shuffle([...other.patchFromClock(r.clock()).ops, ...bad], seed);
          for (const m of mutations) {
            if (patch.length === 0) break;
            const at = m.which % patch.length;
            patch[at] = m.field === "whole" ? m.to : { ...(patch[at] as object), [m.field]: m.to };
          }
          // the encoder refuses a malformed op (ERR_INVALID_ARGUMENT), the decoder a log that is
          // not a tree (ERR_DESERIALIZE)
          let codecRefuses: string | undefined;
          try {
            decodeRefOps(encodeRefOps([...r.log(), ...(patch as RefOp[])]));
          } catch (e) {
            expect(e).toBeInstanceOf(CrdtError);
            codecRefuses = (e as CrdtError).message;
          }
          const before = state(r);
          let mergeRefuses: string | undefined;
          try {
            r.merge({ ops: patch as RefOp[] });
          } catch (e) {
            expect(e).toEqual(refused);
            mergeRefuses = (e as CrdtError).message;
          }
          expect(mergeRefuses !== undefined, `${mergeRefuses} / ${codecRefuses}`).toBe(
            codecRefuses !== undefined,
          );
          // a malformed op is refused for the same reason by both
          if (codecRefuses !== undefined && !codecRefuses.startsWith("malformed"))
            expect(mergeRefuses).toBe(`ref patch: ${codecRefuses}`);
          if (mergeRefuses) expect(state(r)).toBe(before);
          else expect(show(r.value)).toBe(show(refFromOps(r.log()).value));
        },
      ),
      fcRun(0x7ee, 300),
    );
  });
});

describe("a counter near 2^53", () => {
  test("a merged op at the last safe counter: writes are refused (ERR_COUNTER_EXHAUSTED) and change nothing; the log stays storable", () => {
    const r = ref<{ n: number; tags: string[] }>({ n: 1, tags: ["a"] }, { actor: "me" });
    const last = Number.MAX_SAFE_INTEGER;
    r.merge({ ops: [{ op: "set", id: [last, "mallory"], obj: "0:", key: "v", value: 7 }] });
    expect(r.value).toBe(7);
    const before = r.log();
    expect(() => r.swap(() => ({ n: 2, tags: [] }))).toThrow(
      expect.objectContaining({ code: "ERR_COUNTER_EXHAUSTED" }),
    );
    expect(r.value).toBe(7);
    expect(r.log()).toEqual(before);
    // the whole log still encodes and decodes: a replica of it reads the same value
    const back = decodeCbor(encodeCbor(r)) as Ref<unknown>;
    expect(back.value).toBe(7);
  });

  test("one below: the last write takes the last safe counter, and the log still encodes", () => {
    const r = ref<number>(0, { actor: "me" });
    r.merge({ ops: [{ op: "set", id: [Number.MAX_SAFE_INTEGER - 1, "x"], obj: "0:", key: "v", value: 1 }] });
    r.swap(() => 2);
    expect(r.clock().me).toBe(Number.MAX_SAFE_INTEGER);
    expect((decodeCbor(encodeCbor(r)) as Ref<number>).value).toBe(2);
    expect(() => r.swap(() => 3)).toThrow(expect.objectContaining({ code: "ERR_COUNTER_EXHAUSTED" }));
  });
});

describe("an op whose reference is an object that cannot be made a string", () => {
  // `{"toString": 0}` off the wire (JSON or CBOR) or an object without a prototype: `String()`
  // of it throws a TypeError, which the refusal's message used to raise in place of the typed error
  // (found by the merge property at FC_SIZE=large, seed 2030)
  const odd = [JSON.parse('{"toString": 0}') as unknown, Object.create(null) as unknown, [{ toString: 0 }]];
  test.each(odd.map((v, i) => [i, v]))(
    "value %i: the codec and merge refuse it with a CrdtError",
    (_i, v) => {
      const r = ref({ items: [1] });
      const before = JSON.stringify(r.value);
      const log = r.log();
      for (const field of ["after", "obj"] as const) {
        const op = {
          op: "ins",
          id: [99, "zz"],
          obj: "0:",
          after: null,
          value: 1,
          [field]: v,
        } as unknown as RefOp;
        expect(() => encodeRefOps([...log, op])).toThrow(CrdtError);
        expect(() => r.merge({ ops: [op] })).toThrow(CrdtError);
        expect(JSON.stringify(r.value)).toBe(before);
      }
    },
  );
});

test("a malformed op right after an insert is refused by the codec with a CrdtError (seed 12345)", () => {
  // the encoder reads the ops after an insert to join a run of inserts: it read their fields
  // before anything checked them (`id: undefined` raised a TypeError)
  const head: RefOp[] = [
    { op: "list", id: [1, "a"] },
    { op: "set", id: [2, "a"], obj: "0:", key: "l", node: "1:a" },
    { op: "ins", id: [3, "a"], obj: "1:a", after: null, value: 1 },
  ];
  expect(() => encodeRefOps(head)).not.toThrow();
  const next: RefOp = { op: "ins", id: [4, "a"], obj: "1:a", after: "3:a", value: 2 };
  for (const bad of [null, 7, { ...next, id: undefined }, { ...next, id: [4] }, { ...next, after: 5 }])
    expect(() => encodeRefOps([...head, bad as unknown as RefOp])).toThrow(CrdtError);
  expect(() => encodeRefOps([...head, next])).not.toThrow();
});
