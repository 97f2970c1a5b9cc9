/**
 * The conformance suite every {@link KVStore} backend passes. It takes the test runner's
 * `describe` and `it` (vitest, node:test, a page's own runner, …) and a factory, so a backend's own
 * test is a few lines:
 *
 * ```ts
 * storeConformance("memory", () => memoryStore(), { describe, it });
 * storeConformance("level", (name) => levelStore(join(dir, name)), { describe, it }, { persistent: true });
 * ```
 * @module
 */
import { canonicalCbor, contentAddress } from "../store/canonical.js";
import { putContent } from "../store/content.js";
import type { KeyInfo, KVStore, WriteEvent } from "../store/kv.js";
import type { SuiteRunner } from "./link-conformance.js";

/**
 * Makes a store for one test. The suite passes a fresh `name` per test; with `persistent`, calling
 * it again with the same name (after closing the first) must open the same data.
 */
export type StoreFactory = (name: string) => KVStore | Promise<KVStore>;

/** Options of {@link storeConformance}. */
export interface StoreConformanceOptions {
  /** The backend keeps data across close and reopen (adds the reopen tests). */
  persistent?: boolean;
}

class ConformanceFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConformanceFailure";
  }
}

function fail(message: string): never {
  throw new ConformanceFailure(`store conformance: ${message}`);
}

function show(v: unknown): string {
  try {
    return JSON.stringify(v, (_k, x: unknown) =>
      typeof x === "bigint"
        ? `${x}n`
        : x instanceof Map
          ? { map: [...x] }
          : x instanceof Set
            ? { set: [...x] }
            : x instanceof Uint8Array
              ? { bytes: [...x] }
              : x,
    );
  } catch {
    return String(v);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Deep equality through canonical CBOR (Maps, Sets, bytes, Dates, bigints included). */
function assertEqual(actual: unknown, expected: unknown, what: string): void {
  let ok: boolean;
  try {
    ok = sameBytes(canonicalCbor(actual), canonicalCbor(expected));
  } catch {
    ok = Object.is(actual, expected);
  }
  if (!ok) fail(`${what}: expected ${show(expected)}, got ${show(actual)}`);
}

function assert(cond: boolean, what: string): void {
  if (!cond) fail(what);
}

async function rejects(p: Promise<unknown>, code: string, what: string): Promise<void> {
  try {
    await p;
  } catch (e) {
    const got = (e as { code?: unknown }).code;
    if (got !== code) fail(`${what}: expected ${code}, got ${String(got)} (${String(e)})`);
    return;
  }
  fail(`${what}: expected a rejection with ${code}, it resolved`);
}

async function all(it: AsyncIterable<KeyInfo>): Promise<KeyInfo[]> {
  const out: KeyInfo[] = [];
  for await (const k of it) out.push(k);
  return out;
}

const SAMPLES: [string, unknown][] = [
  ["string", "héllo wörld"],
  ["integer", 42],
  ["negative", -7],
  ["float", 3.25],
  ["big integer", 2n ** 70n],
  ["null", null],
  ["boolean", true],
  ["array", [1, "two", [3]]],
  ["object", { a: 1, nested: { b: [true, null] } }],
  [
    "map",
    new Map<unknown, unknown>([
      ["x", 1],
      [2, "y"],
    ]),
  ],
  ["set", new Set([1, 2, 3])],
  ["bytes", new Uint8Array([0, 1, 254, 255])],
  ["date", new Date(1_700_000_000_000)],
];

/** Register the conformance tests for the backend `makeStore` builds. */
export function storeConformance(
  name: string,
  makeStore: StoreFactory,
  runner: SuiteRunner,
  opts: StoreConformanceOptions = {},
): void {
  const { describe, it } = runner;
  let counter = 0;
  const fresh = (): { name: string; open: () => Promise<KVStore> } => {
    const n = `conformance-${Date.now().toString(36)}-${counter++}`;
    return { name: n, open: async () => makeStore(n) };
  };
  const test = (title: string, body: (s: KVStore) => Promise<void>): void => {
    it(title, async () => {
      const s = await fresh().open();
      try {
        await body(s);
      } finally {
        await s.close();
      }
    });
  };

  describe(`store conformance: ${name}`, () => {
    test("every sample value round-trips through put and get", async (s) => {
      for (const [k, v] of SAMPLES) await s.put(k, v);
      for (const [k, v] of SAMPLES) assertEqual(await s.get(k), v, `get('${k}')`);
    });

    test("a missing key: get is undefined, has is false, meta is undefined", async (s) => {
      assert((await s.get("nope")) === undefined, "get of a missing key is undefined");
      assert((await s.getBytes("nope")) === undefined, "getBytes of a missing key is undefined");
      assert((await s.has("nope")) === false, "has of a missing key is false");
      assert((await s.meta("nope")) === undefined, "meta of a missing key is undefined");
    });

    test("meta: lastWrite strictly increases with each write; immutable is reported", async (s) => {
      await s.put("a", 1);
      const m1 = await s.meta("a");
      await s.put("a", 2);
      const m2 = await s.meta("a");
      await s.put("b", 3, { immutable: true });
      const m3 = await s.meta("b");
      assert(m1 !== undefined && m2 !== undefined && m3 !== undefined, "meta of written keys");
      assert(m2!.lastWrite > m1!.lastWrite, "a later write has a greater lastWrite");
      assert(m3!.lastWrite > m2!.lastWrite, "lastWrite increases across keys");
      assert(m1!.immutable === false && m3!.immutable === true, "immutable flags");
      assert(await s.has("a"), "has after put");
      assertEqual(await s.get("a"), 2, "the last write wins");
    });

    test("an explicit lastWrite is kept", async (s) => {
      await s.put("k", "v", { lastWrite: 1234.5 });
      assertEqual((await s.meta("k"))?.lastWrite, 1234.5, "lastWrite");
    });

    test("immutable keys: an equal value is a no-op, a different one is refused", async (s) => {
      const events: WriteEvent[] = [];
      s.onWrite((e) => events.push(e));
      await s.put("c", { x: 1 }, { immutable: true });
      const m = await s.meta("c");
      await s.put("c", { x: 1 }, { immutable: true });
      assertEqual((await s.meta("c"))?.lastWrite, m?.lastWrite, "lastWrite after an equal rewrite");
      assert(events.length === 1, `one write event, got ${events.length}`);
      await rejects(s.put("c", { x: 2 }), "ERR_IMMUTABLE", "a different value over an immutable key");
      assertEqual(await s.get("c"), { x: 1 }, "the immutable value stays");
    });

    test("putMany applies in order and reports each key to hooks in that order", async (s) => {
      const seen: string[] = [];
      s.onWrite((e) => seen.push(`${e.op}:${e.key}`));
      await s.putMany([
        ["z", 1],
        ["a", 2],
        ["m", 3, { immutable: true }],
        ["a", 4],
      ]);
      assertEqual(seen, ["put:z", "put:a", "put:m", "put:a"], "hook order");
      assertEqual(await s.get("a"), 4, "the later entry of a key wins");
      assertEqual((await s.meta("m"))?.immutable, true, "per-entry options");
      const z = (await s.meta("z"))!.lastWrite;
      const a = (await s.meta("a"))!.lastWrite;
      assert(a > z, "lastWrite follows the entry order");
    });

    test("putMany is atomic: a refused entry writes nothing", async (s) => {
      await s.put("fixed", 1, { immutable: true });
      await rejects(
        s.putMany([
          ["p", 1],
          ["fixed", 2],
          ["q", 3],
        ]),
        "ERR_IMMUTABLE",
        "a batch with a refused entry",
      );
      assert(!(await s.has("p")) && !(await s.has("q")), "no entry of a refused batch is written");
    });

    test("concurrent writes apply, and reach hooks, in call order", async (s) => {
      const seen: unknown[] = [];
      s.onWrite((e) => {
        if (e.op === "put") seen.push(e.value);
      });
      const ps: Promise<void>[] = [];
      for (let i = 0; i < 50; i++) ps.push(s.put("n", i));
      await Promise.all(ps);
      assertEqual(
        seen,
        Array.from({ length: 50 }, (_, i) => i),
        "hook order",
      );
      assertEqual(await s.get("n"), 49, "the last call wins");
    });

    test("delete removes the value and leaves a tombstone; a later put revives the key", async (s) => {
      await s.put("d", "x");
      const events: WriteEvent[] = [];
      s.onWrite((e) => events.push(e));
      assert((await s.delete("d")) === true, "delete of a present key resolves true");
      assert((await s.delete("d")) === false, "delete of an absent key resolves false");
      assert((await s.get("d")) === undefined && !(await s.has("d")), "deleted key is absent");
      assert(events.length === 1 && events[0]!.op === "delete", "one delete event");
      assert((await all(s.keys())).length === 0, "keys() leaves tombstones out");
      const withDeleted = await all(s.keys({ deleted: true }));
      assert(
        withDeleted.length === 1 && withDeleted[0]!.deleted === true,
        "keys({ deleted: true }) lists the tombstone",
      );
      assertEqual(withDeleted[0]!.lastWrite, events[0]!.meta.lastWrite, "the tombstone's lastWrite");
      await s.put("d", "y");
      assertEqual(await s.get("d"), "y", "a put after a delete");
    });

    test("keys() lists every key with its metadata, in key order", async (s) => {
      await s.putMany([
        ["b", 1],
        ["a", 2, { immutable: true }],
        ["c", 3],
      ]);
      const ks = await all(s.keys());
      assertEqual(
        ks.map((k) => [k.key, k.immutable]),
        [
          ["a", true],
          ["b", false],
          ["c", false],
        ],
        "keys",
      );
      for (const k of ks) assertEqual(k.lastWrite, (await s.meta(k.key))?.lastWrite, `lastWrite of ${k.key}`);
    });

    test("onWrite: events carry key, value, bytes and meta; the returned function removes the hook", async (s) => {
      const events: WriteEvent[] = [];
      const off = s.onWrite((e) => events.push(e));
      await s.put("h", { v: 1 });
      off();
      await s.put("h", { v: 2 });
      assert(events.length === 1, "one event before off()");
      const e = events[0]!;
      assert(e.op === "put" && e.key === "h", "event op and key");
      if (e.op === "put") {
        assertEqual(e.value, { v: 1 }, "event value");
        assert(e.bytes instanceof Uint8Array && e.bytes.length > 0, "event bytes");
      }
      assertEqual(e.meta.lastWrite < (await s.meta("h"))!.lastWrite, true, "event meta");
    });

    test("write(): ifNewer applies only newer writes and never replaces an immutable key", async (s) => {
      const b = canonicalCbor("v");
      const r1 = await s.write([{ op: "put", key: "w", bytes: b, lastWrite: 100, ifNewer: true }]);
      const r2 = await s.write([
        { op: "put", key: "w", bytes: canonicalCbor("old"), lastWrite: 50, ifNewer: true },
      ]);
      const r3 = await s.write([{ op: "delete", key: "w", lastWrite: 80, ifNewer: true }]);
      assertEqual([r1, r2, r3], [[true], [false], [false]], "applied flags");
      assertEqual(await s.get("w"), "v", "the newer value stays");
      await s.write([{ op: "put", key: "i", bytes: b, immutable: true, lastWrite: 10 }]);
      const r4 = await s.write([
        { op: "put", key: "i", bytes: canonicalCbor("x"), lastWrite: 20, ifNewer: true },
      ]);
      assertEqual(r4, [false], "an immutable key is skipped, not refused");
      const r5 = await s.write([{ op: "delete", key: "w", lastWrite: 200, ifNewer: true }]);
      assertEqual(r5, [true], "a newer delete applies");
    });

    test("putContent: equal values get equal addresses, written once and immutable", async (s) => {
      const a1 = await putContent(s, { b: [1, 2], a: "x" });
      const a2 = await putContent(s, { a: "x", b: [1, 2] });
      assert(a1 === a2, "insertion order does not change the address");
      assert(
        /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(a1),
        `UUID shape: ${a1}`,
      );
      assert(a1 === (await contentAddress({ a: "x", b: [1, 2] })), "contentAddress agrees");
      assertEqual(await s.get(a1), { a: "x", b: [1, 2] }, "the value reads back");
      assertEqual((await s.meta(a1))?.immutable, true, "content is immutable");
      const other = await putContent(s, { a: "y", b: [1, 2] });
      assert(other !== a1, "different values get different addresses");
    });

    test("bad input is refused with typed errors and the store keeps serving", async (s) => {
      await rejects(s.put("", 1), "ERR_INVALID_ARGUMENT", "an empty key");
      await rejects(s.put(7 as unknown as string, 1), "ERR_INVALID_ARGUMENT", "a non-string key");
      await rejects(
        s.put("f", () => 1),
        "ERR_INVALID_ARGUMENT",
        "a function value",
      );
      await rejects(s.put("x".repeat(5000), 1), "ERR_LIMIT", "a key over the limit");
      await s.put("ok", 1);
      assertEqual(await s.get("ok"), 1, "the store still serves");
    });

    test("purgeDeleted removes old tombstones only", async (s) => {
      await s.put("old", 1);
      await s.delete("old", { lastWrite: 10 });
      await s.put("new", 1);
      await s.delete("new");
      assertEqual(await s.purgeDeleted(100), 1, "one tombstone purged");
      const ks = await all(s.keys({ deleted: true }));
      assertEqual(
        ks.map((k) => k.key),
        ["new"],
        "the newer tombstone stays",
      );
    });

    it("a closed store refuses every call with ERR_STORE_CLOSED", async () => {
      const s = await fresh().open();
      await s.put("k", 1);
      await s.close();
      assert(s.closed, "closed is true");
      await rejects(s.get("k"), "ERR_STORE_CLOSED", "get after close");
      await rejects(s.put("k", 2), "ERR_STORE_CLOSED", "put after close");
      await s.close();
    });

    if (opts.persistent === true) {
      it("a cold reopen reads every key back, with metadata and tombstones", async () => {
        const f = fresh();
        const s1 = await f.open();
        for (const [k, v] of SAMPLES) await s1.put(k, v);
        await s1.put("imm", "x", { immutable: true });
        await s1.put("gone", 1);
        await s1.delete("gone");
        const before = await all(s1.keys({ deleted: true }));
        await s1.close();
        const s2 = await f.open();
        try {
          for (const [k, v] of SAMPLES) assertEqual(await s2.get(k), v, `get('${k}') after reopen`);
          assertEqual(await all(s2.keys({ deleted: true })), before, "keys and metadata after reopen");
          assert(!(await s2.has("gone")), "a deleted key stays deleted");
          await rejects(s2.put("imm", "y"), "ERR_IMMUTABLE", "immutability survives a reopen");
        } finally {
          await s2.close();
        }
      });
    }
  });
}
