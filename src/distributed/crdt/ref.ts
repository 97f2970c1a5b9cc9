/**
 * converge's ref: an atom-like convergent document over nested maps, arrays and scalars, kept
 * as an op log. Every change is a list of operations stamped with a Lamport id `[counter,
 * actor]`; a map key holds the write with the greatest id (last writer wins), an array is an
 * RGA (an insert goes after the element it saw, concurrent inserts at one place are ordered by
 * id), so concurrent edits of different keys and concurrent appends to one array both survive.
 * Merging is the union of the logs; a patch is the slice of the log newer than a clock.
 * @module
 */
import { badArgument, CrdtError } from "./errors.js";
import {
  decodeRefOps,
  encodeRefOps,
  idStr,
  isContainer,
  opFault,
  ROOT,
  treeFault,
  valueFault,
} from "./ref-codec.js";
import { CRDT_TAGS, registerCrdtCodec } from "./tags.js";
import { checkActor, cmpStr, isRecord, randomActor, sameKey } from "./util.js";

/** A Lamport id: a counter above every counter its writer had seen, then the writer's actor id. */
export type OpId = readonly [counter: number, actor: string];

/** A leaf value: anything that is not a plain object or an array. */
export type Scalar = string | number | boolean | null | bigint | Uint8Array | undefined;

/** One operation of a ref's log. Containers are named by the id (`"counter:actor"`) that made them. */
export type RefOp =
  | { readonly op: "map"; readonly id: OpId }
  | { readonly op: "list"; readonly id: OpId }
  | {
      readonly op: "set";
      readonly id: OpId;
      readonly obj: string;
      readonly key: string;
      readonly value?: Scalar;
      readonly node?: string;
    }
  | { readonly op: "del"; readonly id: OpId; readonly obj: string; readonly key: string }
  | {
      readonly op: "ins";
      readonly id: OpId;
      readonly obj: string;
      readonly after: string | null;
      readonly value?: Scalar;
      readonly node?: string;
    }
  | { readonly op: "rm"; readonly id: OpId; readonly obj: string; readonly elem: string };

/** The part of a log newer than a clock: what a peer that has seen that clock lacks. */
export interface RefPatch {
  readonly ops: readonly RefOp[];
}

/** For each actor, the highest counter of its ops seen. */
export type RefClock = Readonly<Record<string, number>>;

const ROOT_KEY = "v";

function cmpId(a: OpId, b: OpId): number {
  return a[0] - b[0] || cmpStr(a[1], b[1]);
}

interface Slot {
  readonly id: OpId;
  readonly del: boolean;
  readonly value?: Scalar;
  readonly node?: string;
}

interface Elem {
  readonly id: OpId;
  readonly key: string;
  deleted: boolean;
  readonly value?: Scalar;
  readonly node?: string;
}

type Node =
  | { kind: "map"; slots: Map<string, Slot> }
  | { kind: "list"; elems: Elem[]; byId: Map<string, Elem> };

/** What a map slot or a list element holds: a scalar, or the container named `node`. */
interface Content {
  readonly value?: Scalar;
  readonly node?: string;
}

/**
 * A step of a walk down nested containers, written as a generator: it yields the walk of a part
 * and is resumed with that walk's result. {@link walk} runs it on a stack of its own, so a value
 * nested any depth is walked without a call per level.
 */
interface Walk<T = unknown> extends Generator<Walk, T, unknown> {}

/** Runs `w` and the walks it yields, deepest first; returns `w`'s result. */
function walk<T>(w: Walk<T>): T {
  const stack: Walk[] = [w];
  let result: unknown;
  for (;;) {
    const step = (stack[stack.length - 1] as Walk).next(result);
    result = undefined;
    if (!step.done) stack.push(step.value);
    else {
      stack.pop();
      if (stack.length === 0) return step.value as T;
      result = step.value;
    }
  }
}

/** A watcher: called with the new and the previous value after every change. */
export type RefWatcher<T> = (value: T, previous: T) => void;

/** A mutable convergent document (converge's `OpsetConvergentRef`). Methods are synchronous. */
export class Ref<T = unknown> {
  private readonly nodes = new Map<string, Node>([[ROOT, { kind: "map", slots: new Map() }]]);
  private readonly ops = new Map<string, RefOp>();
  /** Each placed container → the container it is in (a tree: see {@link treeFault}). */
  private readonly parents = new Map<string, string>();
  private readonly order: RefOp[] = [];
  /** Ops that cannot apply yet (what they name is not here yet), in the order they were parked. */
  private readonly pending = new Set<RefOp>();
  /** Parked ops by the name of the op each waits for (ops that can never apply wait on nothing). */
  private readonly waiting = new Map<string, RefOp[]>();
  private readonly vclock = new Map<string, number>();
  private lamport = 0;
  private current: T = undefined as T;
  /** During a swap: the ops of the change, recorded once it is all worked out. */
  private staged: RefOp[] = [];
  /** During a swap: containers found to differ from a part of the new value (see `sameAs`). */
  private unlike = new Map<string, unknown>();
  private readonly watchers = new Set<RefWatcher<T>>();
  /** The actor this ref's changes are stamped with. */
  readonly actor: string;

  /** @internal use {@link ref} or {@link refFromOps} */
  constructor(actor: string) {
    this.actor = checkActor(actor);
  }

  /** The current value. */
  get value(): T {
    return this.current;
  }

  /** Replaces the value with `fn(value)`, recording the difference as ops; returns the new value. */
  swap(fn: (value: T) => T): T {
    const prev = this.current;
    const next = fn(prev);
    const before = this.lamport;
    // the change is worked out whole before any of it is recorded: a value the ref refuses
    // (a function, a value inside itself) leaves the ref as it was
    try {
      const deeper = this.diffSlot(ROOT, ROOT_KEY, next);
      if (deeper !== undefined) walk(deeper);
    } catch (e) {
      this.staged.length = 0;
      this.lamport = before;
      throw e;
    } finally {
      this.unlike.clear();
    }
    if (this.lamport === before) return prev;
    const ops = this.staged;
    this.staged = [];
    for (const op of ops) this.record(op);
    this.current = this.materializeRoot();
    this.notify(prev);
    return this.current;
  }

  /** Sets the value; returns it. */
  reset(value: T): T {
    return this.swap(() => value);
  }

  /** Calls `fn(value, previous)` after every change; returns the function that stops it. */
  watch(fn: RefWatcher<T>): () => void {
    this.watchers.add(fn);
    return () => {
      this.watchers.delete(fn);
    };
  }

  /** The whole op log, in the order this ref applied it (a copy). */
  log(): RefOp[] {
    return [...this.order, ...this.pending];
  }

  /** For each actor, the highest counter seen. */
  clock(): RefClock {
    return Object.fromEntries(this.vclock);
  }

  /** The ops newer than `clock` (empty when nothing changed since it). */
  patchFromClock(clock: RefClock): RefPatch {
    const ops = this.log().filter((op) => op.id[0] > (clock[op.id[1]] ?? 0));
    return { ops: ops.sort((a, b) => cmpId(a.id, b.id)) };
  }

  /**
   * Merges another ref or a patch into this one (the union of the logs); returns this ref.
   * Throws `ERR_INVALID_ARGUMENT`, and merges none of it, when the patch has an op no ref could
   * have written: one {@link encodeRefOps} refuses (an id that is not `[positive counter,
   * actor]`, an unknown kind, a key that is not a string, a reference that is not
   * `"counter:actor"`, a value that is a function, a symbol, a plain object or an array), or one
   * that places a container twice or inside itself. So a ref never holds a log it cannot store.
   */
  merge(other: Ref<T> | RefPatch): this {
    let incoming: readonly RefOp[];
    if (other instanceof Ref) incoming = other.log();
    else {
      // a ref's log is well formed; a patch may come from anywhere: each op is checked (cheaply)
      const ops: unknown = (other as Partial<RefPatch> | null)?.ops;
      if (!Array.isArray(ops)) return badArgument("a ref patch must be { ops: RefOp[] }");
      for (const op of ops) {
        const fault = opFault(op);
        if (fault !== undefined) badArgument(`ref patch: ${fault}`);
      }
      incoming = ops;
    }
    const fresh = this.unseen(incoming);
    if (fresh.length === 0) return this;
    // checked before anything is recorded, so a refused patch leaves this ref as it was
    const fault = treeFault(fresh, this.parents);
    if (fault !== undefined) badArgument(`ref patch: ${fault}`);
    const prev = this.current;
    for (const op of fresh.sort((a, b) => cmpId(a.id, b.id))) this.record(op);
    this.current = this.materializeRoot();
    if (!sameKey(prev, this.current)) this.notify(prev);
    return this;
  }

  /** The ops of `incoming` this ref has not recorded (the first of two with one id, as `record` keeps). */
  private unseen(incoming: readonly RefOp[]): RefOp[] {
    const seen = new Set<string>();
    return incoming.filter((op) => {
      const key = idStr(op.id);
      if (this.ops.has(key) || seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  }

  private notify(prev: T): void {
    for (const w of [...this.watchers]) w(this.current, prev);
  }

  private nextId(): OpId {
    // the next counter would not be a safe integer: an op the encoder refuses, and with it the
    // whole log. Only a merged op near 2^53 brings a ref here (a Lamport counter jumps to the
    // greatest one seen); the swap is refused and rolled back, the log stays storable
    if (this.lamport >= Number.MAX_SAFE_INTEGER)
      throw new CrdtError(
        "ERR_COUNTER_EXHAUSTED",
        `this ref has seen an op counter of ${this.lamport}: a write would need one above 2^53 - 1, which no encoding carries (a peer sent a counter near the limit; authorize what you merge)`,
      );
    this.lamport++;
    return [this.lamport, this.actor];
  }

  /**
   * Keeps `op`, one of a swap's change, to be recorded when the change is whole. Nothing a swap
   * works out reads what its own ops change: each container is diffed once, and the ones it
   * builds are never read.
   */
  private stage(op: RefOp): void {
    this.staged.push(op);
  }

  /** Adds `op` to the log and applies it, or parks it until what it refers to arrives. */
  private record(op: RefOp): void {
    const key = idStr(op.id);
    if (this.ops.has(key)) return;
    this.ops.set(key, op);
    if ((op.op === "set" || op.op === "ins") && op.node !== undefined) this.parents.set(op.node, op.obj);
    if (op.id[0] > this.lamport) this.lamport = op.id[0];
    if (op.id[0] > (this.vclock.get(op.id[1]) ?? 0)) this.vclock.set(op.id[1], op.id[0]);
    if (!this.apply(op)) {
      this.park(op);
      return;
    }
    this.order.push(op);
    this.wake(key);
  }

  /** Parks `op` under the name it waits for: only the op of that name can let it apply. */
  private park(op: RefOp): void {
    this.pending.add(op);
    const name = this.awaited(op);
    if (name === undefined) return;
    const list = this.waiting.get(name);
    if (list === undefined) this.waiting.set(name, [op]);
    else list.push(op);
  }

  /**
   * The op `key` applied: the ops parked on it apply now (in id order), or park on what they wait
   * for next; and so on for each that applies. Each parked op is tried once per name it waits for,
   * so a patch delivered in any order costs linear time, not a retry of every parked op per op.
   */
  private wake(key: string): void {
    if (this.waiting.size === 0) return;
    const keys = [key];
    while (keys.length > 0) {
      const k = keys.pop() as string;
      const woken = this.waiting.get(k);
      if (woken === undefined) continue;
      this.waiting.delete(k);
      for (const p of woken.sort((a, b) => cmpId(a.id, b.id))) {
        this.pending.delete(p);
        if (this.apply(p)) {
          this.order.push(p);
          keys.push(idStr(p.id));
        } else this.park(p);
      }
    }
  }

  /**
   * The name (`"counter:actor"`) of the op whose arrival `op` waits for: its container, the
   * container it places, the element it inserts after or removes. `undefined` when what it names
   * is there but can never take it (a map op on a list, an element of another list): it stays
   * parked, in the log, and is never tried again.
   */
  private awaited(op: RefOp): string | undefined {
    if (op.op === "map" || op.op === "list") return undefined;
    const n = this.nodes.get(op.obj);
    if (n === undefined) return op.obj;
    if (n.kind !== (op.op === "set" || op.op === "del" ? "map" : "list")) return undefined;
    if ((op.op === "set" || op.op === "ins") && op.node !== undefined && !this.nodes.has(op.node))
      return op.node;
    const elem = op.op === "ins" ? op.after : op.op === "rm" ? op.elem : null;
    if (elem === null || n.kind !== "list" || n.byId.has(elem)) return undefined;
    // an element made by an op already applied (in another list) never arrives here
    const maker = this.ops.get(elem);
    return maker !== undefined && !this.pending.has(maker) ? undefined : elem;
  }

  /** Applies one op; `false` when a container or element it refers to is not here yet. */
  private apply(op: RefOp): boolean {
    switch (op.op) {
      case "map":
        this.nodes.set(idStr(op.id), { kind: "map", slots: new Map() });
        return true;
      case "list":
        this.nodes.set(idStr(op.id), { kind: "list", elems: [], byId: new Map() });
        return true;
      case "set":
      case "del": {
        const n = this.nodes.get(op.obj);
        if (n?.kind !== "map") return false;
        if (op.op === "set" && op.node !== undefined && !this.nodes.has(op.node)) return false;
        const cur = n.slots.get(op.key);
        if (cur !== undefined && cmpId(cur.id, op.id) >= 0) return true;
        n.slots.set(
          op.key,
          op.op === "del"
            ? { id: op.id, del: true }
            : op.node !== undefined
              ? { id: op.id, del: false, node: op.node }
              : { id: op.id, del: false, value: op.value },
        );
        return true;
      }
      case "ins": {
        const n = this.nodes.get(op.obj);
        if (n?.kind !== "list") return false;
        if (op.node !== undefined && !this.nodes.has(op.node)) return false;
        let i = 0;
        if (op.after !== null) {
          const ref = n.byId.get(op.after);
          if (ref === undefined) return false;
          i = n.elems.indexOf(ref) + 1;
        }
        // RGA: skip the elements inserted at the same place by greater ids (and what follows them)
        while (i < n.elems.length && cmpId((n.elems[i] as Elem).id, op.id) > 0) i++;
        const key = idStr(op.id);
        const e: Elem =
          op.node !== undefined
            ? { id: op.id, key, deleted: false, node: op.node }
            : { id: op.id, key, deleted: false, value: op.value };
        n.elems.splice(i, 0, e);
        n.byId.set(key, e);
        return true;
      }
      case "rm": {
        const n = this.nodes.get(op.obj);
        if (n?.kind !== "list") return false;
        const e = n.byId.get(op.elem);
        if (e === undefined) return false;
        e.deleted = true;
        return true;
      }
    }
  }

  private materializeRoot(): T {
    const root = this.nodes.get(ROOT) as Node & { kind: "map" };
    const slot = root.slots.get(ROOT_KEY);
    return (slot === undefined || slot.del ? undefined : this.read(slot)) as T;
  }

  /** The value `s` holds: containers are read level by level from a stack, not by recursion. */
  private read(s: Content): unknown {
    if (s.node === undefined) return s.value;
    const fresh = (name: string): [Node, Record<string, unknown> | unknown[]] => {
      const n = this.nodes.get(name) as Node;
      return [n, n.kind === "map" ? {} : []];
    };
    const top = fresh(s.node);
    const todo = [top];
    for (let next = todo.pop(); next !== undefined; next = todo.pop()) {
      const [n, out] = next;
      const put = (c: Content): unknown => {
        if (c.node === undefined) return c.value;
        const inner = fresh(c.node);
        todo.push(inner);
        return inner[1];
      };
      if (n.kind === "map") {
        const rec = out as Record<string, unknown>;
        for (const [k, slot] of n.slots) if (!slot.del) setOwn(rec, k, put(slot));
      } else {
        const arr = out as unknown[];
        for (const e of n.elems) if (!e.deleted) arr.push(put(e));
      }
    }
    return top[1];
  }

  /**
   * Records the ops that make slot `key` of map `obj` hold `next`; returns the walk that does the
   * rest when that means going down into containers.
   */
  private diffSlot(obj: string, key: string, next: unknown): Walk | undefined {
    const n = this.nodes.get(obj) as Node & { kind: "map" };
    const slot = n.slots.get(key);
    const live = slot !== undefined && !slot.del;
    if (next === undefined) {
      if (live) this.stage({ op: "del", id: this.nextId(), obj, key });
      return undefined;
    }
    if (live && this.sameAs(slot, next)) return undefined;
    if (live && slot.node !== undefined && this.editable(slot.node, next))
      return this.diffInto(slot.node, next);
    if (isContainer(next)) return this.setBuilt(obj, key, next);
    this.stage({ op: "set", id: this.nextId(), obj, key, value: scalar(next).value });
    return undefined;
  }

  /** Builds container `next` and sets slot `key` of map `obj` to it. */
  private *setBuilt(obj: string, key: string, next: unknown): Walk<void> {
    const made = (yield this.build(next, new Set())) as Content;
    this.stage({ op: "set", id: this.nextId(), obj, key, node: made.node as string });
  }

  /**
   * Whether `s` reads as `v` (as `sameKey(this.read(s), v)`), compared in place. A swap asks
   * this of a container, then of its parts: each pair found different is remembered for the rest
   * of the swap, so an edit deep down costs one walk to it, not one per level above it.
   */
  private sameAs(s: Content, v: unknown): boolean {
    if (s.node === undefined) return !isContainer(v) && sameKey(s.value, v);
    const unlike = this.unlike;
    if (unlike.get(s.node) === v) return false;
    interface Pair {
      readonly node: string;
      readonly v: unknown;
      readonly parts: (readonly [Content, unknown])[];
      i: number;
    }
    /** `node` and `v` with their parts paired up, or `undefined` when their shapes differ */
    const pair = (node: string, v: unknown): Pair | undefined => {
      const n = this.nodes.get(node) as Node;
      const parts: (readonly [Content, unknown])[] = [];
      if (n.kind === "map") {
        if (!isRecord(v)) return undefined;
        for (const [k, slot] of n.slots)
          if (!slot.del) {
            if (!Object.hasOwn(v, k)) return undefined;
            parts.push([slot, v[k]]);
          }
        if (parts.length !== Object.keys(v).length) return undefined;
      } else {
        if (!Array.isArray(v)) return undefined;
        for (const e of n.elems) if (!e.deleted) parts.push([e, v[parts.length]]);
        if (parts.length !== v.length) return undefined;
      }
      return { node, v, parts, i: 0 };
    };
    const first = pair(s.node, v);
    if (first === undefined) {
      unlike.set(s.node, v);
      return false;
    }
    const path = [first];
    while (path.length > 0) {
      const top = path[path.length - 1] as Pair;
      if (top.i === top.parts.length) {
        path.pop();
        continue;
      }
      const [c, x] = top.parts[top.i++] as readonly [Content, unknown];
      if (c.node === undefined) {
        if (!isContainer(x) && sameKey(c.value, x)) continue;
      } else if (unlike.get(c.node) !== x) {
        const inner = pair(c.node, x);
        if (inner !== undefined) {
          path.push(inner);
          continue;
        }
      }
      // a difference here is one in every container around it
      if (c.node !== undefined) unlike.set(c.node, x);
      for (const p of path) unlike.set(p.node, p.v);
      return false;
    }
    return true;
  }

  /** Whether container `node` can be edited in place into `next`: both maps or both arrays. */
  private editable(node: string, next: unknown): boolean {
    return (this.nodes.get(node) as Node).kind === "map" ? isRecord(next) : Array.isArray(next);
  }

  /** Edits container `node` in place into `next` (see {@link Ref.editable}). */
  private *diffInto(node: string, next: unknown): Walk<void> {
    const n = this.nodes.get(node) as Node;
    if (n.kind === "map") {
      const rec = next as Record<string, unknown>;
      for (const [k, s] of n.slots)
        if (!s.del && !Object.hasOwn(rec, k)) this.stage({ op: "del", id: this.nextId(), obj: node, key: k });
      for (const k of Object.keys(rec)) {
        const inner = this.diffSlot(node, k, rec[k]);
        if (inner !== undefined) yield inner;
      }
      return;
    }
    const arr = next as unknown[];
    const live = n.elems.filter((e) => !e.deleted);
    let pre = 0;
    while (pre < live.length && pre < arr.length && this.sameAs(live[pre] as Elem, arr[pre])) pre++;
    let suf = 0;
    while (
      suf < live.length - pre &&
      suf < arr.length - pre &&
      this.sameAs(live[live.length - 1 - suf] as Elem, arr[arr.length - 1 - suf])
    )
      suf++;
    const oldMid = live.slice(pre, live.length - suf);
    const newMid = arr.slice(pre, arr.length - suf);
    let after = pre > 0 ? (live[pre - 1] as Elem).key : null;
    for (let i = 0; i < Math.max(oldMid.length, newMid.length); i++) {
      const o = oldMid[i];
      if (i < newMid.length) {
        const x = newMid[i];
        // same-shaped containers at one position are edited in place, so nested edits merge
        if (o !== undefined && o.node !== undefined && this.editable(o.node, x)) {
          yield this.diffInto(o.node, x);
          after = o.key;
          continue;
        }
        if (o !== undefined) this.stage({ op: "rm", id: this.nextId(), obj: node, elem: o.key });
        const made = isContainer(x) ? ((yield this.build(x, new Set())) as Content) : scalar(x);
        const id = this.nextId();
        this.stage(
          made.node !== undefined
            ? { op: "ins", id, obj: node, after, node: made.node }
            : { op: "ins", id, obj: node, after, value: made.value },
        );
        after = idStr(id);
      } else if (o !== undefined) this.stage({ op: "rm", id: this.nextId(), obj: node, elem: o.key });
    }
  }

  /**
   * Ops that create container `v` (each container a fresh node); returns the slot content.
   * `around`: the containers being built that hold `v`, to refuse a value that contains itself.
   */
  private *build(v: unknown, around: Set<object>): Walk<Content> {
    const container = v as object;
    if (around.has(container)) badArgument("a ref cannot hold a value that contains itself");
    around.add(container);
    const id = this.nextId();
    const node = idStr(id);
    if (isRecord(v)) {
      this.stage({ op: "map", id });
      for (const k of Object.keys(v)) {
        const x = v[k];
        if (x === undefined) continue;
        const made = isContainer(x) ? ((yield this.build(x, around)) as Content) : scalar(x);
        this.stage(
          made.node !== undefined
            ? { op: "set", id: this.nextId(), obj: node, key: k, node: made.node }
            : { op: "set", id: this.nextId(), obj: node, key: k, value: made.value },
        );
      }
    } else {
      this.stage({ op: "list", id });
      let after: string | null = null;
      for (const x of v as unknown[]) {
        const made = isContainer(x) ? ((yield this.build(x, around)) as Content) : scalar(x);
        const eid = this.nextId();
        this.stage(
          made.node !== undefined
            ? { op: "ins", id: eid, obj: node, after, node: made.node }
            : { op: "ins", id: eid, obj: node, after, value: made.value },
        );
        after = idStr(eid);
      }
    }
    around.delete(container);
    return { node };
  }
}

/** The content of a slot holding scalar `v`; refuses what a ref cannot hold. */
function scalar(v: unknown): Content {
  const fault = valueFault(v);
  if (fault !== undefined) badArgument(fault);
  return { value: v as Scalar };
}

/** `rec[k] = v` as an own property, also for `"__proto__"` (an assignment would set the prototype). */
function setOwn(rec: Record<string, unknown>, k: string, v: unknown): void {
  if (k === "__proto__")
    Object.defineProperty(rec, k, { value: v, enumerable: true, writable: true, configurable: true });
  else rec[k] = v;
}

/**
 * A new ref holding `initial` (converge's `ref`). `actor` names this replica's writes (a random
 * id by default).
 */
export function ref<T>(initial: T, opts: { actor?: string } = {}): Ref<T> {
  const r = new Ref<T>(opts.actor ?? randomActor());
  r.reset(initial);
  return r;
}

/** A ref rebuilt from a log (converge's `ref-from-ops`): a replica of the ref that wrote it. */
export function refFromOps<T = unknown>(log: readonly RefOp[], opts: { actor?: string } = {}): Ref<T> {
  const r = new Ref<T>(opts.actor ?? randomActor());
  r.merge({ ops: log });
  return r;
}

registerCrdtCodec<Ref<unknown>>(
  CRDT_TAGS.Ref,
  Ref,
  (r) => encodeRefOps(r.log()),
  (d) => refFromOps(decodeRefOps(d)),
);
