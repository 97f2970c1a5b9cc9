/**
 * Refs built through the public API that cover every op kind, every kind of value a ref holds and
 * logs of several actors (with merges and parked ops), and an unambiguous text form of values.
 */
import fc from "fast-check";
import { type Ref, type RefOp, ref, refFromOps } from "spindel/crdt";

/** An unambiguous text form: tells -0 from 0, NaN, bigints, bytes, undefined and class values. */
export function show(v: unknown): string {
  switch (typeof v) {
    case "undefined":
      return "undefined";
    case "number":
      return Object.is(v, -0) ? "-0" : String(v);
    case "bigint":
      return `${v}n`;
    case "string":
      return JSON.stringify(v);
    case "boolean":
      return String(v);
    case "object": {
      if (v === null) return "null";
      if (v instanceof Uint8Array) return `bytes(${Buffer.from(v).toString("hex")})`;
      if (v instanceof Date) return `Date(${v.getTime()})`;
      if (v instanceof Map) return `Map(${[...v].map(([k, x]) => `${show(k)}=>${show(x)}`).join(",")})`;
      if (v instanceof Set) return `Set(${[...v].map(show).join(",")})`;
      if (Array.isArray(v)) return `[${v.map(show).join(",")}]`;
      const rec = v as Record<string, unknown>;
      return `{${Object.keys(rec)
        .sort()
        .map((k) => `${JSON.stringify(k)}:${show(rec[k])}`)
        .join(",")}}`;
    }
    default:
      throw new Error(`cannot show a ${typeof v}`);
  }
}

type Doc = Record<string, unknown>;

/** Two actors appending to one list, syncing every `every` appends (the bench's workload, small). */
function appends(n: number, every: number): Ref<{ items: number[] }> {
  const a = ref<{ items: number[] }>({ items: [] }, { actor: "0a" });
  const b = refFromOps<{ items: number[] }>(a.log(), { actor: "0b" });
  for (let i = 0; i < n; i++) {
    (i % 2 === 0 ? a : b).swap((v) => ({ items: [...v.items, i] }));
    if ((i + 1) % every === 0) {
      a.merge(b.patchFromClock(a.clock()));
      b.merge(a.patchFromClock(b.clock()));
    }
  }
  return a;
}

/** Builders of the pinned refs: each names its actors, so the bytes are deterministic. */
export const CASES: Record<string, () => Ref<unknown>> = {
  "an empty ref": () => ref<unknown>(undefined, { actor: "a" }),
  "every op kind, one actor": () => {
    const r = ref<Doc>({ m: { a: 1, b: "x" }, l: [1, 2, 3], n: [{ k: 1 }, [2]] }, { actor: "a" });
    r.reset({
      m: { a: 2, c: { deep: [true] } },
      l: [1, 3, 4, 5],
      n: [{ k: 1, j: [] }, [2, 3], "s"],
    });
    r.swap((v) => ({ ...v, m: "now a scalar", l: [] }));
    return r as Ref<unknown>;
  },
  "every scalar type": () =>
    ref<unknown>(
      {
        empty: "",
        text: "héllo ✓ 𝄞 \u0000",
        zero: 0,
        small: 23,
        neg: -17,
        max: Number.MAX_SAFE_INTEGER,
        min: Number.MIN_SAFE_INTEGER,
        big: 2 ** 60,
        frac: 1.5,
        tiny: 5e-324,
        nan: Number.NaN,
        inf: Number.POSITIVE_INFINITY,
        ninf: Number.NEGATIVE_INFINITY,
        yes: true,
        no: false,
        nil: null,
        bi: 123n,
        nbi: -5n,
        hugebi: 2n ** 80n,
        nhugebi: -(2n ** 90n),
        bytes: new Uint8Array([0, 1, 255]),
        nobytes: new Uint8Array(0),
        list: [undefined, null, "x", 2.25, -1, 1e21, new Uint8Array([7])],
      },
      { actor: "a" },
    ),
  "negative zero (the row format keeps it as 0)": () => ref<unknown>({ z: -0, l: [-0] }, { actor: "a" }),
  "values that are neither plain nor scalar: Date, Map, Set": () =>
    ref<unknown>(
      {
        d: new Date(86_400_000),
        m: new Map<unknown, unknown>([
          ["a", 1],
          [2, [3]],
        ]),
        s: new Set([1, "x"]),
      },
      { actor: "a" },
    ),
  "two actors appending, synced every 10": () => appends(40, 10) as Ref<unknown>,
  "two actors appending, synced every 3": () => appends(13, 3) as Ref<unknown>,
  "three actors: concurrent keys, removals, prepends, merges": () => {
    type V = { k: Record<string, number>; l: string[] };
    const a = ref<V>({ k: { x: 1 }, l: ["s", "t"] }, { actor: "a" });
    const b = refFromOps<V>(a.log(), { actor: "b" });
    const c = refFromOps<V>(a.log(), { actor: "c" });
    a.swap((v) => ({ k: { ...v.k, y: 2 }, l: [...v.l, "a1", "a2"] }));
    b.swap((v) => ({ k: { x: 5 }, l: ["b0", ...v.l.slice(1)] }));
    c.swap((v) => ({ ...v, l: [...v.l.slice(0, 1), "c1", ...v.l.slice(1)] }));
    a.merge(b);
    c.merge(a.patchFromClock(c.clock()));
    c.swap((v) => ({ k: { ...v.k, z: 3 }, l: v.l.filter((s) => s !== "t") }));
    b.merge(c);
    b.swap((v) => ({ ...v, l: [...v.l, "b9"] }));
    a.merge(b.patchFromClock(a.clock()));
    return a as Ref<unknown>;
  },
  "actor ids with ':' and non-ASCII": () => {
    const a = ref<Doc>({ l: ["x"] }, { actor: "ä:1" });
    const b = refFromOps<Doc>(a.log(), { actor: "b::2" });
    b.swap((v) => ({ ...v, l: [...(v.l as string[]), "y"], k: "z" }));
    a.merge(b);
    a.swap((v) => ({ ...v, k: "w" }));
    return a as Ref<unknown>;
  },
  "typing: a list of characters, one run per burst": () => {
    const a = ref<{ t: string[] }>({ t: [] }, { actor: "w" });
    for (const word of ["hello", " ", "wörld", "!"]) a.swap((v) => ({ t: [...v.t, ...word] }));
    a.swap((v) => ({ t: [...v.t.slice(0, 5), ...v.t.slice(6)] }));
    return a as Ref<unknown>;
  },
  "a log with parked ops (what they refer to never arrived)": () => {
    const a = ref<Doc>({ l: [1], m: { k: 1 } }, { actor: "a" });
    const b = refFromOps<Doc>(a.log(), { actor: "b" });
    b.swap((v) => ({ ...v, l: [...(v.l as number[]), 2, 3], m: { k: 2, j: [4] } }));
    const fresh = b.patchFromClock(a.clock()).ops;
    // the container ops are withheld: their contents park
    const partial = refFromOps<Doc>(a.log(), { actor: "c" });
    partial.merge({ ops: fresh.filter((op) => op.op !== "list" && op.op !== "ins") });
    partial.merge({ ops: fresh.filter((op) => op.op === "ins" && op.id[0] > 9) });
    return partial as Ref<unknown>;
  },
};

/** A valid log: two maps, the first one the root's value. */
export const TREE_BASE: readonly RefOp[] = [
  { op: "map", id: [1, "a"] },
  { op: "map", id: [2, "a"] },
  { op: "set", id: [3, "a"], obj: "0:", key: "v", node: "1:a" },
];

/**
 * Logs no ref could have written, each {@link TREE_BASE} and more: a container inside itself
 * (directly, through another, the root inside its own value, a list holding itself) or placed
 * twice. A ref holding a cycle overflows the stack on every read.
 */
export const NOT_A_TREE: readonly (readonly RefOp[])[] = [
  [...TREE_BASE, { op: "set", id: [4, "a"], obj: "1:a", key: "self", node: "1:a" }],
  [
    ...TREE_BASE,
    { op: "set", id: [4, "a"], obj: "1:a", key: "x", node: "2:a" },
    { op: "set", id: [5, "a"], obj: "2:a", key: "y", node: "1:a" },
  ],
  [
    ...TREE_BASE,
    { op: "set", id: [4, "a"], obj: "1:a", key: "x", node: "2:a" },
    { op: "set", id: [5, "a"], obj: "1:a", key: "y", node: "2:a" },
  ],
  [...TREE_BASE, { op: "set", id: [4, "a"], obj: "1:a", key: "x", node: "0:" }],
  [
    ...TREE_BASE,
    { op: "list", id: [4, "a"] },
    { op: "set", id: [5, "a"], obj: "1:a", key: "l", node: "4:a" },
    { op: "ins", id: [6, "a"], obj: "4:a", after: null, node: "4:a" },
  ],
  // a new container inside itself, nowhere else: not reachable, but no ref could have written it
  [...TREE_BASE, { op: "map", id: [4, "a"] }, { op: "set", id: [5, "a"], obj: "4:a", key: "s", node: "4:a" }],
];

/** Strings of any UTF-16 code units: lone surrogates too. */
const anyString = fc.oneof(
  fc.string({ unit: "binary", maxLength: 6 }),
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 4 }),
);

/**
 * Every kind of value a ref keeps as a scalar. `rowSafe` leaves out what the row-per-op format
 * did not keep exactly (-0, lone surrogates).
 */
export function scalar(rowSafe = false): fc.Arbitrary<unknown> {
  return fc.oneof(
    rowSafe ? fc.string({ unit: "binary", maxLength: 6 }) : anyString,
    fc.integer({ min: -300, max: 300 }),
    fc.maxSafeInteger(),
    rowSafe ? fc.double().filter((d) => !Object.is(d, -0)) : fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.bigInt(),
    fc.uint8Array({ maxLength: 5 }),
    // years 1900–2200: beyond, the shared CBOR codec rounds a Date's milliseconds (tag 1 seconds)
    fc.date({ noInvalidDate: true, min: new Date(-2_208_988_800_000), max: new Date(7_258_118_400_000) }),
  );
}

/** One local change or one merge, chosen by small numbers. */
export interface Step {
  readonly r: number;
  readonly what: number;
  readonly k: number;
  readonly pos: number;
  readonly x: unknown;
  readonly n: number;
}

type V = { m: Record<string, unknown>; l: unknown[] };

/** The replicas of a random concurrent session: 2 or 3 actors, local edits and merges. */
export interface Session {
  readonly actors: readonly string[];
  readonly steps: readonly Step[];
}

/** Random sessions (actor ids may hold ':' and any character). */
export function session(
  opts: { rowSafe?: boolean; minSteps?: number; maxSteps?: number } = {},
): fc.Arbitrary<Session> {
  const step = fc.record({
    r: fc.nat({ max: 2 }),
    what: fc.nat({ max: 10 }),
    k: fc.nat({ max: 4 }),
    pos: fc.nat({ max: 20 }),
    x: scalar(opts.rowSafe),
    n: fc.integer({ min: 1, max: 8 }),
  });
  return fc.record({
    actors: fc.uniqueArray(
      fc.oneof(fc.constantFrom("a", "b", "c", "0a", "x:y"), fc.string({ minLength: 1, maxLength: 8 })),
      { minLength: 2, maxLength: 3 },
    ),
    steps: fc.array(step, { minLength: opts.minSteps ?? 0, maxLength: opts.maxSteps ?? 40, size: "max" }),
  });
}

/** Plays a session through the public API; returns every replica. */
export function play(s: Session): Ref<V>[] {
  const origin = ref<V>({ m: {}, l: [] }, { actor: s.actors[0] as string });
  const reps = [origin, ...s.actors.slice(1).map((actor) => refFromOps<V>(origin.log(), { actor }))];
  for (const e of s.steps) {
    const r = reps[e.r % reps.length] as Ref<V>;
    const other = reps[(e.r + 1 + (e.pos % (reps.length - 1))) % reps.length] as Ref<V>;
    const key = `k${e.k}`;
    const at = (l: unknown[]) => e.pos % (l.length + 1);
    switch (e.what) {
      case 0:
        r.swap((v) => ({ ...v, m: { ...v.m, [key]: e.x } }));
        break;
      case 1:
        r.swap((v) => {
          const { [key]: _, ...m } = v.m;
          return { ...v, m };
        });
        break;
      case 2:
        r.swap((v) => ({ ...v, l: [...v.l, e.x] }));
        break;
      case 3:
        r.swap((v) => ({ ...v, l: [...v.l.slice(0, at(v.l)), e.x, ...v.l.slice(at(v.l))] }));
        break;
      case 4:
        r.swap((v) => ({ ...v, l: v.l.filter((_, i) => i !== at(v.l)) }));
        break;
      case 5:
        r.swap((v) => ({ ...v, m: { ...v.m, [key]: { a: e.x, b: [e.x, [e.n]] } } }));
        break;
      case 6:
        r.swap((v) => {
          const cur = v.m[key];
          const next = isObj(cur) ? { ...cur, b: [...(Array.isArray(cur.b) ? cur.b : []), e.x] } : [e.x];
          return { ...v, m: { ...v.m, [key]: next } };
        });
        break;
      case 7:
        // typing: a burst of appends (one run)
        r.swap((v) => ({ ...v, l: [...v.l, ...Array.from({ length: e.n }, (_, i) => (i % 2 ? e.x : i))] }));
        break;
      case 8:
        r.merge(other.patchFromClock(r.clock()));
        break;
      case 9:
        r.merge(other);
        break;
      default:
        r.swap((v) => ({ ...v, l: [undefined, ...v.l] }));
    }
  }
  return reps;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);
}
