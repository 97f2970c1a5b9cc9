/**
 * converge's ref: an atom-like convergent document over nested maps, arrays and scalars, kept
 * as an op log. Every change is a list of operations stamped with a Lamport id `[counter,
 * actor]`; a map key holds the write with the greatest id (last writer wins), an array is an
 * RGA (an insert goes after the element it saw, concurrent inserts at one place are ordered by
 * id), so concurrent edits of different keys and concurrent appends to one array both survive.
 * Merging is the union of the logs; a patch is the slice of the log newer than a clock.
 * @module
 */
import { badArgument, CrdtDecodeError } from "./errors.js";
import { decodeRefOps, encodeRefOps, idStr, isContainer, ROOT, treeFault } from "./ref-codec.js";
import { CRDT_TAGS, registerCrdtCodec } from "./tags.js";
import { canonicalKey, checkActor, cmpStr, isRecord, randomActor } from "./util.js";

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

/** A watcher: called with the new and the previous value after every change. */
export type RefWatcher<T> = (value: T, previous: T) => void;

/** A mutable convergent document (converge's `OpsetConvergentRef`). Methods are synchronous. */
export class Ref<T = unknown> {
  private readonly nodes = new Map<string, Node>([[ROOT, { kind: "map", slots: new Map() }]]);
  private readonly ops = new Map<string, RefOp>();
  /** Each placed container → the container it is in (a tree: see {@link treeFault}). */
  private readonly parents = new Map<string, string>();
  private readonly order: RefOp[] = [];
  private pending: RefOp[] = [];
  private readonly vclock = new Map<string, number>();
  private lamport = 0;
  private current: T = undefined as T;
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
    this.diffSlot(ROOT, ROOT_KEY, next);
    if (this.lamport === before) return prev;
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
   * have written that would break this ref: an id that is not `[positive counter, actor]`, a
   * container placed twice or inside itself.
   */
  merge(other: Ref<T> | RefPatch): this {
    const fresh = this.unseen(other instanceof Ref ? other.log() : other.ops);
    if (fresh.length === 0) return this;
    // checked before anything is recorded, so a refused patch leaves this ref as it was
    const fault = treeFault(fresh, this.parents);
    if (fault !== undefined) badArgument(`ref patch: ${fault}`);
    const prev = this.current;
    for (const op of fresh.sort((a, b) => cmpId(a.id, b.id))) this.record(op);
    this.current = this.materializeRoot();
    if (canonicalKey(prev) !== canonicalKey(this.current)) this.notify(prev);
    return this;
  }

  /** The ops of `incoming` this ref has not recorded (the first of two with one id, as `record` keeps). */
  private unseen(incoming: readonly RefOp[]): RefOp[] {
    const seen = new Set<string>();
    return incoming.filter((op) => {
      const id: unknown = op.id;
      // a counter below 1 or an empty actor could name the root ("0:") and replace it
      if (
        !Array.isArray(id) ||
        !Number.isSafeInteger(id[0]) ||
        id[0] < 1 ||
        typeof id[1] !== "string" ||
        id[1].length === 0
      )
        badArgument("a ref op's id must be [positive counter, actor]");
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
    this.lamport++;
    return [this.lamport, this.actor];
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
      this.pending.push(op);
      return;
    }
    this.order.push(op);
    // an applied op may unblock parked ones
    let progress = this.pending.length > 0;
    while (progress) {
      progress = false;
      const rest: RefOp[] = [];
      for (const p of this.pending.sort((a, b) => cmpId(a.id, b.id))) {
        if (this.apply(p)) {
          this.order.push(p);
          progress = true;
        } else rest.push(p);
      }
      this.pending = rest;
    }
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

  private read(s: { value?: Scalar; node?: string }): unknown {
    if (s.node === undefined) return s.value;
    const n = this.nodes.get(s.node) as Node;
    if (n.kind === "map") {
      const out: Record<string, unknown> = {};
      for (const [k, slot] of n.slots) if (!slot.del) out[k] = this.read(slot);
      return out;
    }
    const out: unknown[] = [];
    for (const e of n.elems) if (!e.deleted) out.push(this.read(e));
    return out;
  }

  /** Ops that make slot `key` of map `obj` hold `next`. */
  private diffSlot(obj: string, key: string, next: unknown): void {
    const n = this.nodes.get(obj) as Node & { kind: "map" };
    const slot = n.slots.get(key);
    const live = slot !== undefined && !slot.del;
    if (next === undefined && !isContainer(next)) {
      if (live) this.record({ op: "del", id: this.nextId(), obj, key });
      return;
    }
    if (live && this.sameAs(slot, next)) return;
    if (live && slot.node !== undefined && this.diffInto(slot.node, next)) return;
    const made = this.build(next);
    this.record(
      made.node !== undefined
        ? { op: "set", id: this.nextId(), obj, key, node: made.node }
        : { op: "set", id: this.nextId(), obj, key, value: made.value },
    );
  }

  private sameAs(s: { value?: Scalar; node?: string }, v: unknown): boolean {
    if (s.node === undefined) return !isContainer(v) && canonicalKey(s.value) === canonicalKey(v);
    return canonicalKey(this.read(s)) === canonicalKey(v);
  }

  /** Edits container `node` in place into `next` when both are maps or both arrays. */
  private diffInto(node: string, next: unknown): boolean {
    const n = this.nodes.get(node) as Node;
    if (n.kind === "map" && isRecord(next)) {
      for (const [k, s] of n.slots)
        if (!s.del && !(k in next)) this.record({ op: "del", id: this.nextId(), obj: node, key: k });
      for (const k of Object.keys(next)) this.diffSlot(node, k, next[k]);
      return true;
    }
    if (n.kind === "list" && Array.isArray(next)) {
      const live = n.elems.filter((e) => !e.deleted);
      let pre = 0;
      while (pre < live.length && pre < next.length && this.sameAs(live[pre] as Elem, next[pre])) pre++;
      let suf = 0;
      while (
        suf < live.length - pre &&
        suf < next.length - pre &&
        this.sameAs(live[live.length - 1 - suf] as Elem, next[next.length - 1 - suf])
      )
        suf++;
      const oldMid = live.slice(pre, live.length - suf);
      const newMid = next.slice(pre, next.length - suf);
      let after = pre > 0 ? (live[pre - 1] as Elem).key : null;
      for (let i = 0; i < Math.max(oldMid.length, newMid.length); i++) {
        const o = oldMid[i];
        if (i < newMid.length) {
          // same-shaped containers at one position are edited in place, so nested edits merge
          if (o !== undefined && o.node !== undefined && this.diffInto(o.node, newMid[i])) {
            after = o.key;
            continue;
          }
          if (o !== undefined) this.record({ op: "rm", id: this.nextId(), obj: node, elem: o.key });
          const made = this.build(newMid[i]);
          const id = this.nextId();
          this.record(
            made.node !== undefined
              ? { op: "ins", id, obj: node, after, node: made.node }
              : { op: "ins", id, obj: node, after, value: made.value },
          );
          after = idStr(id);
        } else if (o !== undefined) this.record({ op: "rm", id: this.nextId(), obj: node, elem: o.key });
      }
      return true;
    }
    return false;
  }

  /** Ops that create `v` (containers get fresh nodes); returns the slot content. */
  private build(v: unknown): { value?: Scalar; node?: string } {
    if (isRecord(v)) {
      const id = this.nextId();
      const node = idStr(id);
      this.record({ op: "map", id });
      for (const k of Object.keys(v)) {
        if (v[k] === undefined) continue;
        const made = this.build(v[k]);
        this.record(
          made.node !== undefined
            ? { op: "set", id: this.nextId(), obj: node, key: k, node: made.node }
            : { op: "set", id: this.nextId(), obj: node, key: k, value: made.value },
        );
      }
      return { node };
    }
    if (Array.isArray(v)) {
      const id = this.nextId();
      const node = idStr(id);
      this.record({ op: "list", id });
      let after: string | null = null;
      for (const x of v) {
        const made = this.build(x);
        const eid = this.nextId();
        this.record(
          made.node !== undefined
            ? { op: "ins", id: eid, obj: node, after, node: made.node }
            : { op: "ins", id: eid, obj: node, after, value: made.value },
        );
        after = idStr(eid);
      }
      return { node };
    }
    if (typeof v === "function" || typeof v === "symbol") badArgument(`a ref cannot hold a ${typeof v}`);
    return { value: v as Scalar };
  }
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
  (d) => {
    const ops = decodeRefOps(d);
    try {
      return refFromOps(ops);
    } catch (e) {
      // reading a document nested thousands deep overflows the stack: it cannot be loaded
      if (e instanceof RangeError) throw new CrdtDecodeError("ref log: nested too deep to read");
      throw e;
    }
  },
);
