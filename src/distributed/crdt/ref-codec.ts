/**
 * The stored form of a ref's op log, columnar in the spirit of Automerge's storage format. A row is
 * an op, or a run of inserts one actor made one after the other (typing, appending); each field of
 * the rows is a column of run-length encoded varints, so what repeats from row to row (the actor,
 * the container, "right after the op before", a counter one above the last) costs next to nothing.
 * A scalar is an entry in the value column holding its type and, for small integers and lengths,
 * the value itself; strings, byte arrays, bigints and other numbers put their bytes in a raw
 * column; anything else (a Date, a Map) rides along as CBOR. Data in the earlier row-per-op format
 * still decodes.
 * @module
 */
import { shown } from "../../core/errors.js";
import { ByteReader, ByteWriter, IntColumn, IntColumnReader } from "./columns.js";
import { badArgument, decodeCheck } from "./errors.js";
import type { OpId, RefOp, Scalar } from "./ref.js";
import { isRecord } from "./util.js";

/** The name of the root map (the container no op made). */
export const ROOT = "0:";

/** The name of the op with id `id`, and of the container it made: `"counter:actor"`. */
export function idStr(id: OpId): string {
  return `${id[0]}:${id[1]}`;
}

/** A value a ref stores as a container (an op of its own), never as a scalar. */
export function isContainer(v: unknown): boolean {
  return Array.isArray(v) || isRecord(v);
}

/**
 * Whether `s` names an op, or the container it made: {@link ROOT}, or `"counter:actor"` with the
 * counter a safe integer written without leading zeros and the actor not empty.
 */
function isName(s: unknown): s is string {
  if (typeof s !== "string") return false;
  if (s === ROOT) return true;
  let n = 0;
  let i = 0;
  for (; i < s.length && i < 17; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) break;
    n = n * 10 + c;
  }
  return (
    i > 0 &&
    i + 1 < s.length &&
    s.charCodeAt(i) === 58 &&
    !(i > 1 && s.charCodeAt(0) === 48) &&
    Number.isSafeInteger(n)
  );
}

const notAName = (s: unknown): string =>
  `a ref op refers to ${typeof s === "string" ? JSON.stringify(s) : shown(s)}, not to "counter:actor"`;

/** Why scalar `v` cannot be a ref op's value, or `undefined` when it can. */
export function valueFault(v: unknown): string | undefined {
  if (typeof v === "function" || typeof v === "symbol") return `a ref cannot hold a ${typeof v}`;
  if (isContainer(v)) return "a ref op's value cannot be a plain object or an array";
  return undefined;
}

/**
 * Why `op` is not an op a ref could have written, or `undefined` when it is one: what
 * {@link encodeRefOps} refuses an op for, and `Ref.merge` a patch for. An op is an object with an
 * `id` of `[positive counter, actor]`, one of the six kinds, a string `key`, every reference to a
 * container or element `"counter:actor"` (or the root; `after` may be `null`, never the root,
 * which is no element), and a value that is a scalar (no function, symbol, plain object or array).
 * Cheap: a few type checks and a scan of each reference's counter.
 */
export function opFault(op: unknown): string | undefined {
  if (typeof op !== "object" || op === null) return "a ref op must be an object";
  const o = op as Record<string, unknown>;
  const id = o.id;
  // a counter below 1 or an empty actor could name the root ("0:") and replace it
  if (
    !Array.isArray(id) ||
    !Number.isSafeInteger(id[0]) ||
    (id[0] as number) < 1 ||
    typeof id[1] !== "string" ||
    id[1].length === 0
  )
    return "a ref op's id must be [positive counter, actor]";
  switch (o.op) {
    case "map":
    case "list":
      return undefined;
    case "set":
    case "del":
      if (!isName(o.obj)) return notAName(o.obj);
      if (typeof o.key !== "string") return "a ref op's key must be a string";
      if (o.op === "del") return undefined;
      break;
    case "ins":
      if (!isName(o.obj)) return notAName(o.obj);
      if (o.after !== null && (!isName(o.after) || o.after === ROOT)) return notAName(o.after);
      break;
    case "rm":
      if (!isName(o.obj)) return notAName(o.obj);
      return isName(o.elem) ? undefined : notAName(o.elem);
    default:
      return `unknown ref op ${typeof o.op === "string" ? JSON.stringify(o.op) : typeof o.op}`;
  }
  if (o.node !== undefined) return isName(o.node) ? undefined : notAName(o.node);
  return valueFault(o.value);
}

/** The first byte of the columnar format: its version. (The row format is a CBOR array.) */
const VERSION = 1;

enum Kind {
  Map = 0,
  List = 1,
  Set = 2,
  SetNode = 3,
  Del = 4,
  /** a run of scalar inserts, each after the one before, counters one apart */
  Ins = 5,
  InsNode = 6,
  Rm = 7,
}

/**
 * A scalar's entry in {@link Col.Value}: `payload × 8 + Major`. Small integers, lengths and the
 * constants fit the entry itself, so a value costs its bytes in `Raw` plus about one byte, and a
 * value repeated (a run of nulls, of one-character strings) costs nothing more.
 */
enum Major {
  /** the integer `payload` (below 2^50; larger safe integers are doubles) */
  Int = 0,
  /** the integer `-1 - payload` */
  NegInt = 1,
  /** a WTF-8 string of `payload` bytes */
  String = 2,
  /** a byte array of `payload` bytes */
  Bytes = 3,
  /** a bigint: magnitude of `payload >> 1` bytes, little-endian; `payload & 1` means `-1n - magnitude` */
  BigInt = 4,
  /** `payload` is a {@link Simple} */
  Simple = 5,
}

enum Simple {
  Undefined = 0,
  Null = 1,
  False = 2,
  True = 3,
  NegativeZero = 4,
  /** 4 bytes: a number a single keeps exactly */
  Float32 = 5,
  /** 8 bytes */
  Float64 = 6,
  /** anything else (a Date, a Map, a registered datatype…): the next item of the CBOR list */
  Other = 7,
}

/** Integers of this magnitude and above are written as doubles (their entries would not be safe). */
const INT_LIMIT = 2 ** 50;

function simple(x: Simple): number {
  return x * 8 + Major.Simple;
}

/**
 * The columns, in the order they are written (each but the last as byte length + bytes). A column
 * is read only by the rows that have its field: a map row reads `Op` and `Counter`, nothing else.
 */
enum Col {
  /** each row's {@link Kind} + 8 × the index of its actor in the actor table */
  Op = 0,
  /** the counter minus one above the last counter of the same actor (0 for an actor typing) */
  Counter = 1,
  /** the container: 0 for the root, else its actor's index + 1 */
  ObjActor = 2,
  /** the container's counter minus the previous container's counter */
  ObjCounter = 3,
  /** `after`, `node` or `elem`: 0 for none (or the root), else its actor's index + 1 */
  RefActor = 4,
  /** the op's counter minus the referred counter (1 for "right after the op before") */
  RefCounter = 5,
  /** index of a map key in the key table */
  Key = 6,
  /** how many inserts an insert row holds */
  Count = 7,
  /** each scalar value: a {@link Major} and its payload */
  Value = 8,
  /** the values' bytes: strings, byte arrays, bigint magnitudes, floats */
  Raw = 9,
}
const INT_COLUMNS = 9;
/** The integer columns whose values are signed. */
const SIGNED: ReadonlySet<Col> = new Set([Col.Counter, Col.ObjCounter, Col.RefCounter]);

/**
 * At most this many ops decode from `bytes` bytes: what a small payload can make a decoder
 * allocate. The encoder keeps within it (by writing no runs, so each op costs a byte, when a log
 * would expand further).
 */
function maxOps(bytes: number): number {
  return 65_536 + 8 * bytes;
}

/**
 * Encodes a ref's op log as compact plain data: a byte array, or `[bytes, others]` when some
 * values are neither scalars nor byte arrays (`others` holds them, in order, for CBOR to carry).
 * The bytes are a version byte, the actor table, the key table and the columns (see `Col`).
 * {@link decodeRefOps} gives the same ops back in the same order, every value exactly (-0, NaN
 * and lone surrogates included). Throws `ERR_INVALID_ARGUMENT` on an op no ref could have made
 * (see {@link opFault}: a reference that is not `"counter:actor"`, a value that is a plain object
 * or an array, an unknown kind…).
 */
export function encodeRefOps(ops: readonly RefOp[]): unknown {
  const out = encodeColumns(ops, true);
  return ops.length <= maxOps(out.bytes.length) ? out.data : encodeColumns(ops, false).data;
}

function encodeColumns(ops: readonly RefOp[], runs: boolean): { data: unknown; bytes: Uint8Array } {
  const actors: string[] = [];
  const actorIndex = new Map<string, number>();
  const keys: string[] = [];
  const keyIndex = new Map<string, number>();
  const cols: IntColumn[] = [];
  const column = (c: Col): IntColumn => (cols[c] = new IntColumn(SIGNED.has(c)));
  const opCol = column(Col.Op);
  const counter = column(Col.Counter);
  const objActor = column(Col.ObjActor);
  const objCounter = column(Col.ObjCounter);
  const refActor = column(Col.RefActor);
  const refCounter = column(Col.RefCounter);
  const key = column(Col.Key);
  const count = column(Col.Count);
  const values = column(Col.Value);
  const raw = new ByteWriter();
  const others: unknown[] = [];
  /** per actor index: one above its last counter */
  const next: number[] = [];
  let lastObj = 0;

  const actorOf = (a: string): number => {
    let i = actorIndex.get(a);
    if (i === undefined) {
      i = actors.length;
      actors.push(a);
      actorIndex.set(a, i);
      next.push(1);
    }
    return i;
  };
  /** `s` parsed: 0 for none or the root, else its actor's index + 1 (its counter in `parsed`) */
  let parsed = 0;
  const parse = (s: unknown): number => {
    if (s === null || s === ROOT) return 0;
    let n = 0;
    let i = 0;
    if (typeof s === "string")
      for (; i < s.length && i < 17; i++) {
        const c = s.charCodeAt(i) - 48;
        if (c < 0 || c > 9) break;
        n = n * 10 + c;
      }
    if (
      typeof s !== "string" ||
      i === 0 ||
      i + 1 >= s.length ||
      s.charCodeAt(i) !== 58 ||
      (i > 1 && s.charCodeAt(0) === 48) ||
      !Number.isSafeInteger(n)
    )
      return badArgument(`a ref op refers to ${JSON.stringify(s)}, not to "counter:actor"`);
    parsed = n;
    return actorOf(s.slice(i + 1)) + 1;
  };
  // the container mostly stays the same from op to op
  let objName: unknown = ROOT;
  let objCode = 0;
  const obj = (s: unknown): void => {
    if (s !== objName) {
      objCode = parse(s);
      objName = s;
      if (objCode !== 0) {
        objCounter.push(parsed - lastObj);
        lastObj = parsed;
      }
    } else if (objCode !== 0) objCounter.push(0);
    objActor.push(objCode);
  };
  const target = (s: unknown, own: number): void => {
    const code = parse(s);
    refActor.push(code);
    if (code !== 0) refCounter.push(own - parsed);
  };
  const keyOf = (k: unknown): void => {
    if (typeof k !== "string") badArgument("a ref op's key must be a string");
    let i = keyIndex.get(k);
    if (i === undefined) {
      i = keys.length;
      keys.push(k);
      keyIndex.set(k, i);
    }
    key.push(i);
  };
  /** `v`'s entry in the value column (its bytes, if any, go to `raw`) */
  const entry = (v: unknown): number => {
    switch (typeof v) {
      case "undefined":
        return simple(Simple.Undefined);
      case "boolean":
        return simple(v ? Simple.True : Simple.False);
      case "number":
        if (Object.is(v, -0)) return simple(Simple.NegativeZero);
        if (Number.isInteger(v) && v < INT_LIMIT && v >= -INT_LIMIT)
          return v >= 0 ? v * 8 + Major.Int : (-1 - v) * 8 + Major.NegInt;
        if (Math.fround(v) === v || Number.isNaN(v)) {
          raw.float32(v);
          return simple(Simple.Float32);
        }
        raw.float64(v);
        return simple(Simple.Float64);
      case "string":
        return raw.string(v) * 8 + Major.String;
      case "bigint": {
        let n = 0;
        for (let m = v >= 0n ? v : -1n - v; m > 0n; m >>= 8n, n++) raw.byte(Number(m & 255n));
        return (n * 2 + (v < 0n ? 1 : 0)) * 8 + Major.BigInt;
      }
      case "object":
        if (v === null) return simple(Simple.Null);
        if (Object.getPrototypeOf(v) === Uint8Array.prototype) {
          raw.bytes(v as Uint8Array);
          return (v as Uint8Array).length * 8 + Major.Bytes;
        }
        if (isContainer(v)) badArgument("a ref op's value cannot be a plain object or an array");
        others.push(v);
        return simple(Simple.Other);
      default:
        return badArgument(`a ref cannot hold a ${typeof v}`);
    }
  };
  const value = (v: unknown): void => values.push(entry(v));

  for (let i = 0; i < ops.length; ) {
    const op = ops[i] as RefOp;
    const fault = opFault(op);
    if (fault !== undefined) badArgument(fault);
    const [c, who] = op.id;
    const a = actorOf(who);
    counter.push(c - (next[a] as number));
    next[a] = c + 1;
    i++;
    let k: Kind;
    switch (op.op) {
      case "map":
        k = Kind.Map;
        break;
      case "list":
        k = Kind.List;
        break;
      case "set":
        k = op.node !== undefined ? Kind.SetNode : Kind.Set;
        obj(op.obj);
        keyOf(op.key);
        if (op.node !== undefined) target(op.node, c);
        else value(op.value);
        break;
      case "del":
        k = Kind.Del;
        obj(op.obj);
        keyOf(op.key);
        break;
      case "ins": {
        obj(op.obj);
        target(op.after, c);
        if (op.node !== undefined) {
          k = Kind.InsNode;
          target(op.node, c);
          break;
        }
        k = Kind.Ins;
        value(op.value);
        // the inserts that follow, each right after the one before with the next counter. What
        // is not an object with an id array ends the run before its fields are read (the loop above
        // refuses it); the tests that follow check the rest of what `opFault` would, and `value`
        // the value. (`opFault` itself on every op of a run: encoding a 5,000-insert log 0.25-0.29 ->
        // 0.41-0.42 ms, median of 400, three processes; these tests: 0.27-0.28)
        let n = 1;
        for (let prev = op; i < ops.length; i++, n++) {
          const o = ops[i] as RefOp;
          if (
            typeof o !== "object" ||
            o === null ||
            !Array.isArray(o.id) ||
            o.op !== "ins" ||
            o.node !== undefined ||
            o.id[1] !== who ||
            o.id[0] !== prev.id[0] + 1 ||
            !Number.isSafeInteger(o.id[0]) ||
            o.obj !== op.obj ||
            !isIdOf(o.after, prev.id[0], who)
          )
            break;
          value(o.value);
          prev = o;
        }
        count.push(n);
        next[a] = c + n;
        break;
      }
      case "rm":
        k = Kind.Rm;
        obj(op.obj);
        target(op.elem, c);
        break;
      default:
        return badArgument(`unknown ref op ${JSON.stringify((op as { op: unknown }).op)}`);
    }
    opCol.push(k + 8 * a);
  }

  const w = new ByteWriter();
  w.byte(VERSION);
  w.uint(actors.length);
  for (const a of actors) writeString(w, a);
  w.uint(keys.length);
  for (const k of keys) writeString(w, k);
  const bodies = cols.map((col) => {
    const b = new ByteWriter();
    col.write(b, runs);
    return b.finish();
  });
  for (const b of bodies) w.uint(b.length);
  for (const b of bodies) w.bytes(b);
  w.bytes(raw.finish());
  const bytes = w.finish();
  return { data: others.length > 0 ? [bytes, others] : bytes, bytes };
}

/** Whether `s` is `"counter:actor"` (without building that string). */
function isIdOf(s: unknown, counter: number, actor: string): boolean {
  if (typeof s !== "string" || s.length <= actor.length || !s.endsWith(actor)) return false;
  const at = s.length - actor.length - 1;
  if (s.charCodeAt(at) !== 58) return false;
  let n = 0;
  for (let i = 0; i < at; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9 || (i === 0 && c === 0 && at > 1)) return false;
    n = n * 10 + c;
  }
  return at > 0 && n === counter;
}

function writeString(w: ByteWriter, s: string): void {
  // the length goes first: write to a scratch writer to learn it
  const b = new ByteWriter();
  b.string(s);
  w.uint(b.length);
  w.bytes(b.finish());
}

/**
 * Inverse of {@link encodeRefOps}; also reads the earlier row-per-op format (`[actors, rows]`).
 * Throws `ERR_DESERIALIZE` on malformed data, never returns part of a log. A log no ref could have
 * written is malformed too: one that puts a container in two places or inside itself (a ref built
 * from it could not be read).
 */
export function decodeRefOps(data: unknown): RefOp[] {
  if (data instanceof Uint8Array) return checkTree(decodeColumns(data, []));
  decodeCheck(Array.isArray(data) && data.length === 2, "ref log");
  const [first, second] = data as unknown[];
  if (first instanceof Uint8Array) {
    decodeCheck(Array.isArray(second) && second.length > 0, "ref log values");
    return checkTree(decodeColumns(first, second as unknown[]));
  }
  return checkTree(decodeRows(first, second));
}

/** `ops`, once it is sure that every container is placed once at most, and never inside itself. */
function checkTree(ops: RefOp[]): RefOp[] {
  const fault = treeFault(ops);
  decodeCheck(fault === undefined, `ref log: ${fault}`);
  return ops;
}

/**
 * What stops the ops `ops` from keeping a ref's containers a tree, or `undefined` when nothing
 * does: a container placed twice, or inside itself (a ref holding it could not be read: every
 * walk down its containers would go round forever). `placed` gives, for each container already
 * placed, the container it is in — a tree, which is not changed. Takes time in the number of ops
 * and the containers above the ones they place, not in the size of `placed`.
 */
export function treeFault(
  ops: readonly RefOp[],
  placed: ReadonlyMap<string, string> = new Map(),
): string | undefined {
  const parent = new Map<string, string>();
  for (const op of ops)
    if ((op.op === "set" || op.op === "ins") && op.node !== undefined) {
      if (parent.has(op.node) || placed.has(op.node)) return "a container placed twice";
      parent.set(op.node, op.obj);
    }
  // Walk up from each newly placed container; meeting the walk's own path again is a cycle. A
  // cycle goes through a new placement (`placed` has none), so these walks find every one.
  const up = (n: string): string | undefined => parent.get(n) ?? placed.get(n);
  const done = new Set<string>();
  const path = new Set<string>();
  for (const start of parent.keys()) {
    for (let n: string | undefined = start; n !== undefined && !done.has(n); n = up(n)) {
      if (path.has(n)) return "a container inside itself";
      path.add(n);
    }
    for (const n of path) done.add(n);
    path.clear();
  }
  return undefined;
}

function decodeColumns(bytes: Uint8Array, others: readonly unknown[]): RefOp[] {
  const r = new ByteReader(bytes, "ref log");
  decodeCheck(r.byte() === VERSION, "ref log version");
  const actors: string[] = [];
  const actorCount = r.uint();
  for (let i = 0; i < actorCount; i++) {
    const a = r.string(r.uint());
    decodeCheck(a.length > 0 && !actors.includes(a), "ref actors");
    actors.push(a);
  }
  const keys: string[] = [];
  const keyCount = r.uint();
  for (let i = 0; i < keyCount; i++) keys.push(r.string(r.uint()));
  const lengths: number[] = [];
  for (let i = 0; i < INT_COLUMNS; i++) lengths.push(r.uint());
  const cols: IntColumnReader[] = [];
  for (let i = 0; i < INT_COLUMNS; i++)
    cols.push(new IntColumnReader(r.sub(lengths[i] as number), SIGNED.has(i)));
  const raw = r.sub(r.left);
  const [opCol, counter, objActor, objCounter, refActor, refCounter, key, count, values] = cols as [
    IntColumnReader,
    IntColumnReader,
    IntColumnReader,
    IntColumnReader,
    IntColumnReader,
    IntColumnReader,
    IntColumnReader,
    IntColumnReader,
    IntColumnReader,
  ];
  const limit = maxOps(bytes.length);
  const next = actors.map(() => 1);
  let lastObj = 0;
  let other = 0;
  const out: RefOp[] = [];

  const actorAt = (i: number): string => {
    decodeCheck(i < actors.length, "ref op actor");
    return actors[i] as string;
  };
  const obj = (): string => {
    const a = objActor.next();
    if (a === 0) return ROOT;
    const c = lastObj + objCounter.next();
    decodeCheck(Number.isSafeInteger(c) && c >= 0, "ref op counter");
    lastObj = c;
    return `${c}:${actorAt(a - 1)}`;
  };
  /** `null` for none */
  const target = (own: number): string | null => {
    const a = refActor.next();
    if (a === 0) return null;
    const c = own - refCounter.next();
    decodeCheck(Number.isSafeInteger(c) && c >= 0, "ref op counter");
    return `${c}:${actorAt(a - 1)}`;
  };
  const keyAt = (): string => {
    const k = keys[key.next()];
    decodeCheck(k !== undefined, "ref op key");
    return k;
  };
  const value = (): Scalar => {
    const e = values.next();
    const major = e % 8;
    const n = (e - major) / 8;
    switch (major) {
      case Major.Int:
        return n;
      case Major.NegInt:
        return -1 - n;
      case Major.String:
        return raw.string(n);
      case Major.Bytes:
        return raw.bytes(n);
      case Major.BigInt: {
        const size = Math.floor(n / 2);
        decodeCheck(size <= raw.left, "ref op value");
        let x = 0n;
        for (let i = 0; i < size; i++) x |= BigInt(raw.byte()) << BigInt(8 * i);
        return n % 2 === 1 ? -1n - x : x;
      }
      case Major.Simple:
        switch (n) {
          case Simple.Undefined:
            return undefined;
          case Simple.Null:
            return null;
          case Simple.False:
            return false;
          case Simple.True:
            return true;
          case Simple.NegativeZero:
            return -0;
          case Simple.Float32:
            return raw.float32();
          case Simple.Float64:
            return raw.float64();
          case Simple.Other: {
            decodeCheck(other < others.length, "ref op value");
            const v = others[other++];
            decodeCheck(!isContainer(v), "ref op value");
            return v as Scalar;
          }
        }
    }
    return decodeCheck(false, "ref op value") as never;
  };

  while (!opCol.done) {
    decodeCheck(out.length < limit, "ref log size");
    const o = opCol.next();
    const k = o % 8;
    const a = (o - k) / 8;
    const who = actorAt(a);
    const c = (next[a] as number) + counter.next();
    decodeCheck(Number.isSafeInteger(c) && c >= 1, "ref op counter");
    next[a] = c + 1;
    const id: OpId = [c, who];
    switch (k) {
      case Kind.Map:
        out.push({ op: "map", id });
        break;
      case Kind.List:
        out.push({ op: "list", id });
        break;
      case Kind.Set: {
        const o = obj();
        out.push({ op: "set", id, obj: o, key: keyAt(), value: value() });
        break;
      }
      case Kind.SetNode: {
        const o = obj();
        const kk = keyAt();
        out.push({ op: "set", id, obj: o, key: kk, node: target(c) ?? ROOT });
        break;
      }
      case Kind.Del: {
        const o = obj();
        out.push({ op: "del", id, obj: o, key: keyAt() });
        break;
      }
      case Kind.Ins: {
        const o = obj();
        let after = target(c);
        const n = count.next();
        decodeCheck(n >= 1 && n <= limit - out.length && c + n - 1 <= Number.MAX_SAFE_INTEGER, "ref op run");
        for (let j = 0; j < n; j++) {
          const opId: OpId = j === 0 ? id : [c + j, who];
          out.push({ op: "ins", id: opId, obj: o, after, value: value() });
          after = idStr(opId);
        }
        next[a] = c + n;
        break;
      }
      case Kind.InsNode: {
        const o = obj();
        const after = target(c);
        out.push({ op: "ins", id, obj: o, after, node: target(c) ?? ROOT });
        break;
      }
      default: {
        const o = obj();
        out.push({ op: "rm", id, obj: o, elem: target(c) ?? ROOT });
      }
    }
  }
  decodeCheck(cols.every((col) => col.done) && raw.done && other === others.length, "ref log");
  return out;
}

const KINDS = ["map", "list", "set", "setn", "del", "ins", "insn", "rm", "run"] as const;

/**
 * The earlier format, still read: an actor table and one row per op,
 * `[kind, counter, actor, ...refs as counter/actor pairs, key or value]`; a run of scalar inserts
 * by one actor, each right after the one before with the next counter, is one row holding the
 * values.
 */
function decodeRows(actors: unknown, rows: unknown): RefOp[] {
  decodeCheck(
    Array.isArray(actors) && actors.every((a) => typeof a === "string" && a.length > 0),
    "ref actors",
  );
  decodeCheck(Array.isArray(rows), "ref ops");
  const lengths = [3, 3, 7, 8, 6, 8, 9, 7, 8];
  return (rows as unknown[]).flatMap((row): RefOp[] => {
    decodeCheck(Array.isArray(row) && typeof row[0] === "number" && row.length === lengths[row[0]], "ref op");
    const r = row as unknown[];
    const int = (i: number, min: number) => {
      const v = r[i];
      decodeCheck(typeof v === "number" && Number.isSafeInteger(v) && v >= min, "ref op counter");
      return v;
    };
    const actor = (i: number) => {
      const a = (actors as string[])[int(i, 0)];
      decodeCheck(a !== undefined, "ref op actor");
      return a;
    };
    const ref = (i: number): string => (int(i, 0) === 0 ? ROOT : `${r[i]}:${actor(i + 1)}`);
    const refOrNull = (i: number): string | null => (int(i, 0) === 0 ? null : ref(i));
    const key = (i: number): string => {
      decodeCheck(typeof r[i] === "string", "ref op key");
      return r[i] as string;
    };
    const id: OpId = [int(1, 1), actor(2)];
    const kind = KINDS[r[0] as number];
    switch (kind) {
      case "map":
        return [{ op: "map", id }];
      case "list":
        return [{ op: "list", id }];
      case "set":
        decodeCheck(!isContainer(r[6]), "ref op value");
        return [{ op: "set", id, obj: ref(3), key: key(5), value: r[6] as Scalar }];
      case "setn":
        return [{ op: "set", id, obj: ref(3), key: key(5), node: ref(6) }];
      case "del":
        return [{ op: "del", id, obj: ref(3), key: key(5) }];
      case "ins":
        decodeCheck(!isContainer(r[7]), "ref op value");
        return [{ op: "ins", id, obj: ref(3), after: refOrNull(5), value: r[7] as Scalar }];
      case "insn":
        return [{ op: "ins", id, obj: ref(3), after: refOrNull(5), node: ref(7) }];
      case "run": {
        const values = r[7];
        decodeCheck(Array.isArray(values) && values.length > 0, "ref op run");
        const obj = ref(3);
        let after = refOrNull(5);
        return (values as unknown[]).map((value, i): RefOp => {
          decodeCheck(!isContainer(value), "ref op value");
          const opId: OpId = [id[0] + i, id[1]];
          const op: RefOp = { op: "ins", id: opId, obj, after, value: value as Scalar };
          after = idStr(opId);
          return op;
        });
      }
      case "rm":
        return [{ op: "rm", id, obj: ref(3), elem: ref(5) }];
      default:
        return decodeCheck(false, "ref op kind") as never;
    }
  });
}
