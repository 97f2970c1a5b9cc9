/**
 * The stage's OR-Map of operation lists (replikativ's OR-Map as seed 000 uses it): `assoc(k, ops)`
 * adds an op list under `k`, `dissoc(k, ops)` removes every op list of `k` it has seen and records
 * its own ops, `get(k)` returns every op list that is still live (concurrent assocs all survive).
 * Each assoc and dissoc is a record with a unique id, so a stream can apply each exactly once and a
 * dissoc only after the assocs it removed. Immutable; implements `Convergent`.
 * @module
 */
import { registerTaggedCodec } from "../../core/persist/codec-tags.js";
import type { Convergent } from "../crdt/convergent.js";
import { StageError } from "./errors.js";

/** One operation: `[name, ...args]`, applied as `evalFns[name](identity, ...args)`. */
export type Op = readonly [name: string, ...args: unknown[]];

/** An assoc record: op list `ops` under `key`, with a unique id. */
export interface AssocRecord {
  /** Unique id of this assoc. */
  readonly uid: string;
  /** The map key. */
  readonly key: string;
  /** The operations this assoc carries. */
  readonly ops: readonly Op[];
}

/** A dissoc record: removes the assocs `removes` of `key`, and carries its own ops. */
export interface DissocRecord {
  /** Unique id of this dissoc. */
  readonly uid: string;
  /** The map key. */
  readonly key: string;
  /** The operations this dissoc carries (applied after the assocs it removes). */
  readonly ops: readonly Op[];
  /** Ids of the assocs it observed and removes. */
  readonly removes: readonly string[];
}

/** What travels between replicas: records the receiver may not have. */
export interface OpMapDelta {
  /** New assoc records. */
  readonly assocs: readonly AssocRecord[];
  /** New dissoc records. */
  readonly dissocs: readonly DissocRecord[];
}

let uidCounter = 0;
function newUid(): string {
  const c = globalThis.crypto as { randomUUID?: () => string } | undefined;
  if (c?.randomUUID) return c.randomUUID();
  uidCounter += 1;
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}-${uidCounter}`;
}

/** Throws `ERR_INVALID_ARGUMENT` unless `ops` is a list of `[name, ...args]` tuples. */
export function checkOps(ops: unknown): readonly Op[] {
  if (!Array.isArray(ops))
    throw new StageError("ERR_INVALID_ARGUMENT", "operations are a list of [name, ...args] tuples");
  for (const op of ops) {
    if (!Array.isArray(op) || typeof op[0] !== "string")
      throw new StageError(
        "ERR_INVALID_ARGUMENT",
        `an operation is a tuple [name, ...args] with a string name, got ${JSON.stringify(op)}`,
      );
  }
  return ops as readonly Op[];
}

/** replikativ's OR-Map of op lists. */
export class OpMap implements Convergent<OpMap, OpMapDelta> {
  /** @internal */
  readonly _assocs: ReadonlyMap<string, AssocRecord>;
  /** @internal */
  readonly _dissocs: ReadonlyMap<string, DissocRecord>;
  /** @internal assoc ids some dissoc removed */
  readonly _removed: ReadonlySet<string>;
  /** What changed locally since `clearDelta()`, or `null`. */
  readonly delta: OpMapDelta | null;

  private constructor(
    assocs: ReadonlyMap<string, AssocRecord>,
    dissocs: ReadonlyMap<string, DissocRecord>,
    removed: ReadonlySet<string>,
    delta: OpMapDelta | null,
  ) {
    this._assocs = assocs;
    this._dissocs = dissocs;
    this._removed = removed;
    this.delta = delta;
  }

  /** The empty map. */
  static empty(): OpMap {
    return new OpMap(new Map(), new Map(), new Set(), null);
  }

  /** Adds the op list `ops` under `key` (concurrent assocs of one key all survive). */
  assoc(key: string, ops: readonly Op[]): OpMap {
    checkKey(key);
    const rec: AssocRecord = { uid: newUid(), key, ops: checkOps(ops) };
    return this.withRecords([rec], [], true);
  }

  /** Removes every op list of `key` this replica has seen, recording `ops` for streams. */
  dissoc(key: string, ops: readonly Op[]): OpMap {
    checkKey(key);
    const removes = this.liveAssocs(key).map((r) => r.uid);
    const rec: DissocRecord = { uid: newUid(), key, ops: checkOps(ops), removes };
    return this.withRecords([], [rec], true);
  }

  /** Every live op list of `key` (one per concurrent assoc), in a deterministic order. */
  get(key: string): (readonly Op[])[] {
    return this.liveAssocs(key).map((r) => r.ops);
  }

  /** Whether `key` has a live op list. */
  has(key: string): boolean {
    for (const r of this._assocs.values()) if (r.key === key && !this._removed.has(r.uid)) return true;
    return false;
  }

  /** The keys with a live op list, sorted. */
  keys(): string[] {
    const ks = new Set<string>();
    for (const r of this._assocs.values()) if (!this._removed.has(r.uid)) ks.add(r.key);
    return [...ks].sort();
  }

  /** `[key, opLists]` for every live key, sorted by key. */
  entries(): [string, (readonly Op[])[]][] {
    return this.keys().map((k) => [k, this.get(k)]);
  }

  /** Every assoc record, live or removed, sorted by id (what a stream applies). */
  assocRecords(): AssocRecord[] {
    return [...this._assocs.values()].sort(byUid);
  }

  /** Every dissoc record, sorted by id. */
  dissocRecords(): DissocRecord[] {
    return [...this._dissocs.values()].sort(byUid);
  }

  /** The union of both replicas' records; `this` when `other` adds nothing. */
  join(other: OpMap): OpMap {
    return this.applyDelta({ assocs: [...other._assocs.values()], dissocs: [...other._dissocs.values()] });
  }

  /** Integrates a delta; `this` when it adds nothing. */
  applyDelta(delta: OpMapDelta): OpMap {
    const assocs = delta.assocs.filter((r) => !this._assocs.has(r.uid));
    const dissocs = delta.dissocs.filter((r) => !this._dissocs.has(r.uid));
    if (assocs.length === 0 && dissocs.length === 0) return this;
    return this.withRecords(assocs, dissocs, false);
  }

  /** An equal value without a pending delta. */
  clearDelta(): OpMap {
    return this.delta === null ? this : new OpMap(this._assocs, this._dissocs, this._removed, null);
  }

  /** Same records. */
  equals(other: OpMap): boolean {
    if (this._assocs.size !== other._assocs.size || this._dissocs.size !== other._dissocs.size) return false;
    for (const k of this._assocs.keys()) if (!other._assocs.has(k)) return false;
    for (const k of this._dissocs.keys()) if (!other._dissocs.has(k)) return false;
    return true;
  }

  private liveAssocs(key: string): AssocRecord[] {
    const out: AssocRecord[] = [];
    for (const r of this._assocs.values()) if (r.key === key && !this._removed.has(r.uid)) out.push(r);
    return out.sort(byUid);
  }

  private withRecords(
    assocs: readonly AssocRecord[],
    dissocs: readonly DissocRecord[],
    local: boolean,
  ): OpMap {
    const a = new Map(this._assocs);
    for (const r of assocs) a.set(r.uid, r);
    const d = new Map(this._dissocs);
    const removed = new Set(this._removed);
    for (const r of dissocs) {
      d.set(r.uid, r);
      for (const u of r.removes) removed.add(u);
    }
    let delta: OpMapDelta | null = null;
    if (local) {
      const prev = this.delta ?? { assocs: [], dissocs: [] };
      delta = { assocs: [...prev.assocs, ...assocs], dissocs: [...prev.dissocs, ...dissocs] };
    }
    return new OpMap(a, d, removed, delta);
  }
}

function byUid(a: { uid: string }, b: { uid: string }): number {
  return a.uid < b.uid ? -1 : a.uid > b.uid ? 1 : 0;
}

function checkKey(key: unknown): void {
  if (typeof key !== "string")
    throw new StageError("ERR_INVALID_ARGUMENT", `an OR-Map key is a string, got ${typeof key}`);
}

function decodeOpMap(data: unknown): OpMap {
  const bad = (why: string): never => {
    throw new StageError("ERR_STAGE_PROTOCOL", `malformed OR-Map encoding: ${why}`);
  };
  if (!Array.isArray(data) || data.length !== 2 || !Array.isArray(data[0]) || !Array.isArray(data[1]))
    bad("expected [assocs, dissocs]");
  const [as, ds] = data as [unknown[], unknown[]];
  const assocs: AssocRecord[] = as.map((r) => {
    if (!Array.isArray(r) || r.length !== 3 || typeof r[0] !== "string" || typeof r[1] !== "string")
      return bad("an assoc is [uid, key, ops]");
    return { uid: r[0], key: r[1], ops: checkOps(r[2]) };
  });
  const dissocs: DissocRecord[] = ds.map((r) => {
    if (
      !Array.isArray(r) ||
      r.length !== 4 ||
      typeof r[0] !== "string" ||
      typeof r[1] !== "string" ||
      !Array.isArray(r[3]) ||
      !r[3].every((u) => typeof u === "string")
    )
      return bad("a dissoc is [uid, key, ops, removes]");
    return { uid: r[0], key: r[1], ops: checkOps(r[2]), removes: r[3] as string[] };
  });
  return OpMap.empty().applyDelta({ assocs, dissocs });
}

/** The CBOR tag of {@link OpMap} values. */
export const OPMAP_TAG = 41_000;

registerTaggedCodec<OpMap>({
  tag: OPMAP_TAG,
  Class: OpMap as unknown as abstract new (...args: never[]) => OpMap,
  encode: (m) => [
    m.assocRecords().map((r) => [r.uid, r.key, r.ops]),
    m.dissocRecords().map((r) => [r.uid, r.key, r.ops, r.removes]),
  ],
  decode: decodeOpMap,
});
