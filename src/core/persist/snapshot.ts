/**
 * Snapshots (frozen full copies), restore (a new live root from a snapshot) and CBOR
 * serialization of contexts.
 * @module
 */

import type { Context, PrimitiveState } from "../context.js";
import { Cancelled, SpindelError } from "../errors.js";
import { addExt, inputsAsRead } from "../forks.js";
import { G } from "../globals.js";
import { cellPeek, createCell } from "../kernel/cell.js";
import { markStale } from "../kernel/engine.js";
import { Flag } from "../kernel/flags.js";
import {
  Bits,
  type Entry,
  entry,
  installLog,
  isOk,
  isSettled,
  Kind,
  kindOf,
  SpinNode,
} from "../kernel/node.js";
import { Observers } from "../kernel/observers.js";
import { isSerializableState, keyedSpinById, primitiveById } from "../registry.js";
import type { Signal } from "../signal.js";
import type { Spin, SpinBody } from "../spin.js";
import { decodeCbor, encodeCbor } from "./codec.js";

/**
 * A signal's state in a snapshot.
 * @internal
 */
export interface SignalRecord {
  /** Value. */
  readonly value: unknown;
  /** Global version of the last write. */
  readonly version: number;
}

/**
 * A spin's state in a snapshot (carries the kernel's effect log: not part of the published types).
 * @internal
 */
export interface SpinRecord {
  /** 0: no result, 1: ok, 2: error. */
  readonly status: 0 | 1 | 2;
  /** Value or error. */
  readonly result: unknown;
  /** Result version. */
  readonly version: number;
  /** Effect log of the last committed run. */
  readonly log: readonly Entry[];
  /** Log of the run that was in flight (replayed when the spin is next read after restore). */
  readonly inflight: readonly Entry[] | null;
  /** Needs a re-check (an input changed, or a run was in flight). */
  readonly stale: boolean;
  /** Cancelled. */
  readonly cancelled: boolean;
  /** Body (in-memory snapshots only). */
  readonly body: SpinBody<unknown> | null;
  /** Result equality. */
  readonly equals: (a: unknown, b: unknown) => boolean;
  /** Capture-gate deps. */
  readonly deps: readonly unknown[] | undefined;
  /** Debug name. */
  readonly name: string | undefined;
  /** Nested spin handles by address. */
  readonly children: ReadonlyMap<string, Spin<unknown>> | null;
}

/** A frozen, read-only full copy of a context (its own state merged over its ancestors'). */
export class ContextSnapshot {
  /** @internal signal records by id */
  readonly signals: ReadonlyMap<string, SignalRecord>;
  /** @internal spin records by id */
  readonly spins: ReadonlyMap<string, SpinRecord>;
  /** @internal primitive states */
  readonly states: ReadonlyMap<object, PrimitiveState>;
  /** Time on the context's clock when the snapshot was taken. */
  readonly time: number;

  /**
   * @internal use `ctx.snapshot()`
   * @param signals signal records by id
   * @param spins spin records by id
   * @param states primitive states
   * @param time clock time when taken
   */
  constructor(
    signals: ReadonlyMap<string, SignalRecord>,
    spins: ReadonlyMap<string, SpinRecord>,
    states: ReadonlyMap<object, PrimitiveState>,
    time: number,
  ) {
    this.signals = signals;
    this.spins = spins;
    this.states = states;
    this.time = time;
    Object.freeze(this);
  }

  /** The signal's value in the snapshot. */
  get<T>(sig: Signal<T>): T {
    const r = this.signals.get(sig.id);
    return (r === undefined ? sig.init : r.value) as T;
  }

  /** The spin's cached result in the snapshot (`status: "none"` if it never completed). */
  peek<T>(s: Spin<T>): { status: "ok"; value: T } | { status: "error"; error: unknown } | { status: "none" } {
    const r = this.spins.get(s.id);
    if (r === undefined || r.status === 0) return { status: "none" };
    return r.status === 1 ? { status: "ok", value: r.result as T } : { status: "error", error: r.result };
  }

  /** Snapshots are read-only: always throws `ERR_READONLY`. */
  set(_sig: Signal<unknown>, _value: unknown): never {
    throw new SpindelError(
      "ERR_READONLY",
      "a snapshot is read-only: restoreSnapshot(snap) gives a live context",
    );
  }
}

function copyEntry(e: Entry): Entry {
  const c = entry(kindOf(e), e.id);
  c.bits = e.bits;
  c.version = e.version;
  c.value = e.value;
  c.uid = e.uid;
  return c;
}

/**
 * Take a frozen full copy of `ctx`. Internal: use `ctx.snapshot()`.
 * @internal
 */
export function takeSnapshot(ctx: Context): ContextSnapshot {
  const chain: Context[] = [];
  for (let c: Context | null = ctx; c !== null; c = c.parent) chain.unshift(c);
  const signals = new Map<string, SignalRecord>();
  const spins = new Map<string, SpinRecord>();
  const states = new Map<object, PrimitiveState>();
  for (const c of chain) {
    for (const [id, cell] of c.cells.entries())
      signals.set(id, {
        value: cellPeek(cell),
        version: cell.version,
      });
    for (const [id, n] of c.nodes) {
      spins.set(id, {
        status: n.status,
        result: n.result,
        version: n.version,
        log: n.log.filter(isSettled).map(copyEntry),
        inflight:
          n.run !== null ? n.run.log.map(copyEntry) : n.adopt !== null ? n.adopt.map(copyEntry) : null,
        stale: (n.flags & (Flag.STALE | 4)) !== 0 || n.run !== null,
        cancelled: (n.flags & Flag.CANCELLED) !== 0,
        body: n.body,
        equals: n.equals,
        deps: n.deps,
        name: n.name,
        children: n.children === null ? null : new Map(n.children),
      });
    }
    for (const [k, st] of c.states) states.set(k, st.snapshot());
  }
  return new ContextSnapshot(signals, spins, states, ctx.now());
}

/**
 * Fill `ctx`, a new root context, from a snapshot (`restoreSnapshot` in persist/restore.ts creates
 * it: this module only knows the context's type, so context.ts ⇄ snapshot.ts is no import cycle). Internal.
 * @internal
 */
export function restoreInto(ctx: Context, snap: ContextSnapshot): Context {
  if (!(snap instanceof ContextSnapshot))
    throw new SpindelError("ERR_INVALID_ARGUMENT", "restoreSnapshot expects a snapshot from ctx.snapshot()");
  let maxVersion = 0;
  if (snap.signals.size > 0) ctx.foreignCells = true;
  if (snap.spins.size > 0) ctx.foreignNodes = true;
  for (const [id, r] of snap.signals) {
    const cell = createCell(r.value, r.version);
    ctx.cells.set(id, cell, true);
    maxVersion = Math.max(maxVersion, r.version);
  }
  for (const [id, r] of snap.spins) {
    const n = new SpinNode(id, ctx, r.body, r.equals, r.deps, r.name);
    n.status = r.status;
    n.result = r.result;
    n.version = r.version;
    installLog(n, r.log.map(copyEntry), false);
    n.adopt = r.inflight !== null ? r.inflight.map(copyEntry) : null;
    n.flags = (r.stale ? Flag.STALE : 0) | (r.cancelled ? Flag.CANCELLED : 0);
    if (r.children !== null) n.children = new Map(r.children);
    ctx.nodes.set(id, n);
    maxVersion = Math.max(maxVersion, r.version);
  }
  for (const n of ctx.nodes.values()) {
    for (const e of n.log) {
      if (kindOf(e) === Kind.Signal) {
        const cell = ctx.cells.get(e.id);
        if (cell !== undefined) (cell.observers ??= new Observers()).add(n);
        // a signal no context of the snapshot's tree stored (a fork reads a signal nobody wrote
        // without storing a cell): the node waits for the cell this context makes once the signal
        // is used here, as a fork's node waits for an inherited one (a root's reads trust the
        // observers its writes mark stale)
        else addExt((ctx.extSig ??= new Map()), e.id, n);
      } else if (kindOf(e) === Kind.Spin) {
        const c = ctx.nodes.get(e.id);
        if (c !== undefined) (c.observers ??= new Observers()).add(n);
      }
      maxVersion = Math.max(maxVersion, e.version);
    }
  }
  // a root trusts its staleness marks (a clean node answers without looking at its inputs), and a
  // snapshot's nodes need not be consistent with its cells: a fork's snapshot holds the ancestors'
  // nodes, which the fork's own writes may have outdated, and a stale node's readers were not
  // marked in a fork. Every node stale or out of date here is marked, with what depends on it.
  for (const n of ctx.nodes.values()) {
    if ((n.flags & Flag.STALE) !== 0) {
      n.flags &= ~Flag.STALE;
      markStale(n);
    } else if (!inputsAsRead(ctx, n)) markStale(n);
  }
  for (const [k, st] of snap.states) ctx.states.set(k, st.forked());
  if (G.version < maxVersion) G.version = maxVersion;
  return ctx;
}

const FORMAT = "spindel-context";

interface EncodedError {
  $error: { name: string; message: string; code?: string; data?: unknown };
}

function encodeResult(status: number, result: unknown): unknown {
  if (status !== 2) return result;
  const e = result as { name?: unknown; message?: unknown; code?: unknown; data?: unknown } | null;
  const out: EncodedError = {
    $error: {
      name: typeof e?.name === "string" ? e.name : "Error",
      message: typeof e?.message === "string" ? e.message : String(result),
    },
  };
  if (typeof e?.code === "string") out.$error.code = e.code;
  if (e?.data !== undefined) out.$error.data = e.data;
  return out;
}

function decodeError(x: unknown): unknown {
  const r = (x as EncodedError | null)?.$error;
  if (r === undefined) return x;
  if (r.code === "ERR_CANCELLED") return new Cancelled(r.message);
  const err = r.code !== undefined ? new SpindelError(r.code, r.message, r.data) : new Error(r.message);
  err.name = r.name;
  return err;
}

function encodeEntry(e: Entry): unknown[] {
  const ok = isOk(e);
  return [kindOf(e), e.id, e.version, ok, ok ? e.value : encodeResult(2, e.value), isSettled(e)];
}

/**
 * Serialize a context to CBOR bytes. Internal: use `ctx.serialize()`.
 * @internal
 */
export function serializeContext(ctx: Context): Uint8Array {
  const snap = takeSnapshot(ctx);
  const signals: unknown[] = [];
  for (const [id, r] of snap.signals) signals.push([id, r.value, r.version]);
  const spins: unknown[] = [];
  for (const [id, r] of snap.spins) {
    spins.push([
      id,
      r.status,
      encodeResult(r.status, r.result),
      r.version,
      (r.stale ? 1 : 0) | (r.cancelled ? 2 : 0),
      r.log.map(encodeEntry),
      r.inflight === null ? null : r.inflight.filter(isSettled).map(encodeEntry),
    ]);
  }
  // primitive states (deferred, mailbox, semaphore...) carry their data, never their waiters
  const states: unknown[] = [];
  for (const st of snap.states.values()) {
    if (!isSerializableState(st))
      throw new SpindelError(
        "ERR_NOT_SERIALIZABLE",
        "context holds primitive state that serialize() cannot carry; use ctx.snapshot() for an in-memory copy",
      );
    const enc = st.serialize();
    if (enc !== undefined) states.push([enc.id, enc.data]);
  }
  const doc = { format: FORMAT, v: 1, time: snap.time, signals, spins, states };
  try {
    return encodeCbor(doc);
  } catch (err) {
    for (const s of signals) {
      try {
        encodeCbor(s);
      } catch {
        throw new SpindelError(
          "ERR_NOT_SERIALIZABLE",
          `signal ${String((s as unknown[])[0])} holds a value CBOR cannot encode`,
          { signal: (s as unknown[])[0] },
        );
      }
    }
    for (const s of spins) {
      try {
        encodeCbor(s);
      } catch {
        throw new SpindelError(
          "ERR_NOT_SERIALIZABLE",
          `spin ${String((s as unknown[])[0])} holds a result or log value CBOR cannot encode`,
          { spin: (s as unknown[])[0] },
        );
      }
    }
    for (const s of states) {
      try {
        encodeCbor(s);
      } catch {
        throw new SpindelError(
          "ERR_NOT_SERIALIZABLE",
          `primitive ${String((s as unknown[])[0])} holds a value CBOR cannot encode`,
          { primitive: (s as unknown[])[0] },
        );
      }
    }
    throw new SpindelError("ERR_NOT_SERIALIZABLE", `context could not be encoded: ${String(err)}`);
  }
}

function fail(why: string): never {
  throw new SpindelError("ERR_DESERIALIZE", `deserializeContext: ${why}`);
}

function decodeEntry(x: unknown): Entry {
  if (!Array.isArray(x) || x.length !== 6) fail("malformed log entry");
  const [kind, id, version, ok, value, settled] = x as [number, string, number, boolean, unknown, boolean];
  if (kind !== Kind.Signal && kind !== Kind.Spin && kind !== Kind.Once && kind !== Kind.Set)
    fail(`unknown log entry kind ${String(kind)}`);
  if (typeof id !== "string" || typeof version !== "number") fail("malformed log entry");
  // a log entry of the one class the kernel's walks see
  const e = entry(kind, id);
  e.version = version;
  e.value = ok === true ? value : decodeError(value);
  e.bits = kind | (ok === true ? Bits.OK : 0) | (settled !== false ? Bits.SETTLED : 0);
  return e;
}

/**
 * Decode bytes made by `ctx.serialize()` into a snapshot (`deserializeContext` restores it). Internal.
 * @internal
 */
export function decodeSnapshot(bytes: Uint8Array): ContextSnapshot {
  if (!(bytes instanceof Uint8Array)) fail("expects a Uint8Array");
  let doc: unknown;
  try {
    doc = decodeCbor(bytes);
  } catch (err) {
    fail(`not CBOR (${String(err)})`);
  }
  const d = doc as {
    format?: unknown;
    v?: unknown;
    time?: unknown;
    signals?: unknown;
    spins?: unknown;
    states?: unknown;
  } | null;
  if (d === null || typeof d !== "object" || d.format !== FORMAT) fail("not a serialized spindel context");
  if (d.v !== 1) fail(`unsupported format version ${String(d.v)}`);
  if (!Array.isArray(d.signals) || !Array.isArray(d.spins)) fail("missing signals or spins");
  const signals = new Map<string, SignalRecord>();
  for (const s of d.signals) {
    if (!Array.isArray(s) || s.length !== 3 || typeof s[0] !== "string" || typeof s[2] !== "number")
      fail("malformed signal record");
    signals.set(s[0], { value: s[1], version: s[2] });
  }
  const spins = new Map<string, SpinRecord>();
  for (const s of d.spins) {
    if (!Array.isArray(s) || s.length !== 7 || typeof s[0] !== "string") fail("malformed spin record");
    const [id, status, result, version, flags, log, inflight] = s as [
      string,
      0 | 1 | 2,
      unknown,
      number,
      number,
      unknown[],
      unknown[] | null,
    ];
    if (!Array.isArray(log)) fail("malformed spin log");
    // a keyed handle created earlier in this process gives the body now: a dependency refreshed from
    // a log (never read through its handle) must not be left without one
    const live = keyedSpinById(id);
    spins.set(id, {
      status,
      result: status === 2 ? decodeError(result) : result,
      version,
      log: log.map(decodeEntry),
      inflight: inflight === null ? null : inflight.map(decodeEntry),
      stale: (flags & 1) !== 0,
      cancelled: (flags & 2) !== 0,
      body: (live?.body ?? null) as SpinBody<unknown> | null,
      equals: (live?.equals ?? Object.is) as (a: unknown, b: unknown) => boolean,
      deps: live?.deps,
      name: live?.name,
      children: null,
    });
  }
  const states = new Map<object, PrimitiveState>();
  if (d.states !== undefined) {
    if (!Array.isArray(d.states)) fail("malformed primitive states");
    for (const x of d.states) {
      if (!Array.isArray(x) || x.length !== 2 || typeof x[0] !== "string") fail("malformed primitive state");
      const p = primitiveById(x[0]);
      if (p === undefined)
        fail(`no live primitive with id ${x[0]}: create it (same key) before deserializing`);
      states.set(p, p._revive(x[1]));
    }
  }
  return new ContextSnapshot(signals, spins, states, 0);
}
