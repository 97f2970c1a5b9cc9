/**
 * Execution contexts: all state (signal values, spin results and logs, primitive state, timers,
 * the drain queue) lives here. Roots are created with {@link createContext}; `ctx.fork()` makes an
 * O(1) copy-on-write child that reads through to its parent until it writes.
 * @module
 */
import {
  type Signal as PreactSignal,
  computed as preactComputed,
  signal as preactSignal,
  type ReadonlySignal,
} from "@preact/signals-core";
import { noteBatchWrite } from "./batch.js";
import { CellStore } from "./cell-store.js";
import { armOwnedTimer, type Clock, createClock, type TimerHandle } from "./clock.js";
import { Cancelled, ContextDisposedError, invalidArgument, SpindelError } from "./errors.js";
import { addExt, findNode, invalidateInherited, removeExt, resolveNode, resubscribe } from "./forks.js";
import { deferDrain, G, nextVersion, setCurrent } from "./globals.js";
import { Brand, type MaybeSource, SOURCE_KIND } from "./kernel/brand.js";
import { type Cell, cellPeek, cellRead, cellWrite, createCell } from "./kernel/cell.js";
import { Drain } from "./kernel/drain.js";
import {
  abortNode,
  cancelNode,
  dropStuck,
  flushReady,
  isReady,
  markAllStale,
  markStale,
  objectIs,
  prune,
  refresh,
  rerunNode,
  runCleanups,
  whenReady,
} from "./kernel/engine.js";
import { Flag } from "./kernel/flags.js";
import type { KernelHost } from "./kernel/host.js";
import {
  checkInProgress,
  type Entry,
  Kind,
  kindOf,
  SpinNode,
  type Subscriber,
  verifiedAt,
} from "./kernel/node.js";
import { Observers } from "./kernel/observers.js";
import { type ContextSnapshot, serializeContext, takeSnapshot } from "./persist/snapshot.js";
import {
  deferredMap,
  flushDeferredMap,
  LIVE_SWEEP_MIN,
  quiescent,
  releaseNode,
  sweepOrphans,
  unregisterLive,
  watchHandle,
  watchSignal,
  watchSoon,
} from "./reaping.js";
import { Signal } from "./signal.js";
import { freshSpinId, Spin, type SpinBody, type SpinOptions } from "./spin.js";

/** Options of {@link createContext}. */
export interface ContextOptions {
  /** `"real"` (default), `"virtual"` (advance with `ctx.advanceTime`), or a custom {@link Clock}. */
  clock?: "real" | "virtual" | Clock;
  /** Debug name. */
  name?: string;
  /** Where errors nobody handles go (observer callbacks that threw, spawned spins without `onError`). Default: `console.error`. */
  onError?: (error: unknown, source: string) => void;
}

/** Options of `ctx.fork()`. */
export interface ForkOptions {
  /** Debug name. */
  name?: string;
}

/** Options of `ctx.spawn()`. */
export interface SpawnOptions {
  /** Called with every error result of the spawned spin. */
  onError?: (error: unknown) => void;
  /** Called with every successful result. */
  onValue?: (value: unknown) => void;
}

/**
 * Fork-aware per-context state of a primitive (deferred, mailbox, semaphore...). A fork gets
 * `forked()` of its parent's state on first access; snapshots take `snapshot()`.
 */
export interface PrimitiveState {
  /** A copy for a fork: same data, waiters re-created lazily in the fork. */
  forked(): PrimitiveState;
  /** A frozen copy for a snapshot (data only). */
  snapshot(): PrimitiveState;
  /** Release waiters and timers when the context is disposed. */
  dispose?(): void;
}

const DEFAULT_NAME = "default";
let creatingDefault = false;
/** Contexts created so far (each context's `uid`). */
let contexts = 0;
/**
 * Slots of a context's cache of its own cells ({@link Context.ownCache}): a power of two. A graph's
 * sources are usually a handful of handles made one after the other, whose numbers fill
 * consecutive slots.
 */
const OWN_SLOTS = 32;

/** An execution context. All state lives here; handles (signals, spins) are just addresses. */
export class Context {
  /** Parent context (forks only). */
  readonly parent: Context | null;
  /** Root of this fork tree. */
  readonly root: Context;
  /** Debug name. */
  readonly name: string | undefined;
  /** The clock every timer of this context goes through (shared by a fork tree). */
  readonly clock: Clock;
  /** @internal signal cells owned by this context */
  readonly cells: CellStore;
  /**
   * @internal spin nodes owned by this context, as the map stands: without the root nodes made in
   * this job whose entry waits for the end of it ({@link Flag.MAP_PENDING}, see `watchSoon`). Only
   * the paths that know such a node by its flag or handle use it; everything else uses {@link nodes}.
   */
  readonly _nodes = new Map<string, SpinNode>();
  /**
   * @internal observers of signal cells this context does not hold: in a fork, inherited cells; in
   * a restored root, cells of signals nobody stored, adopted when the root makes the cell
   */
  extSig: Map<string, Observers> | null = null;
  /** @internal fork only: observers of inherited spin nodes */
  extSpin: Map<string, Observers> | null = null;
  /**
   * @internal root only: bumped when a fork of this tree creates a shadow cell, so the `toPreact`
   * views of every fork below it look their cell up again (a view in a fork of a fork reads
   * through the middle fork's new cell too)
   */
  private shape: PreactSignal<number> | null = null;
  /** @internal primitive state owned by this context */
  readonly states = new Map<object, PrimitiveState>();
  /** The drain queue (created on the first scheduled node). */
  private drain: Drain | null = null;
  private busyCount = 0;
  private settleWaiters: (() => void)[] | null = null;
  private disposedFlag = false;
  /** @internal timers armed in this context or a fork below it (disposing disarms them) */
  readonly timers = new Set<TimerHandle>();
  private readonly onError: (error: unknown, source: string) => void;
  /** @internal ids of nodes whose handles were collected while busy: dropped once quiescent (reaping.ts) */
  readonly orphans = new Set<string>();
  /** @internal nodes of one-shot spins in flight (one-shot.ts): reachable by nothing else, kept out of `nodes` */
  transients: Set<SpinNode> | null = null;
  /** True for the default context (its signal cells are the handles themselves). */
  readonly isDefault: boolean;
  private weakRef: WeakRef<Context> | null = null;
  /** @internal this context has nodes watched for reaping (see `watchHandle` in reaping.ts) */
  reaping = false;
  /** @internal forks (any depth below) that own spin nodes: disposing this context disposes them */
  liveForks: Set<WeakRef<Context>> | null = null;
  /** @internal this fork is registered in its ancestors' {@link liveForks} */
  liveRegistered = false;
  /** @internal size of {@link liveForks} at which it is next swept of collected forks (reaping.ts) */
  liveSweepAt = LIVE_SWEEP_MIN;
  /**
   * @internal root only: a fork of this tree tracked a signal no context of the tree held a cell
   * for, and its node keeps a reference to a cell that nothing stores (see {@link _cellOrInit}).
   * Once the root makes the real cell, such references are no longer the visible cell, which
   * `G.shadowGen` tells the forks.
   */
  lentUnstored = false;
  /**
   * @internal a root holding cells put there by id, not through their handles (a restored snapshot,
   * deserialized bytes, perhaps from another process): a handle no context made a cell for may
   * still have one here, so its lookup is not skipped (see `cellless`)
   */
  foreignCells = false;
  /**
   * @internal a root holding nodes put there by id, not through their handles (a restored snapshot):
   * an unkeyed handle no root took yet may still have a node here (see `rootNodeOf` in forks.ts)
   */
  foreignNodes = false;
  /** @internal fork only: ancestors' nodes found servable here at epoch {@link inhEpoch} (forks.ts) */
  inhCache: Map<string, SpinNode> | null = null;
  /**
   * @internal a fork's released nodes, by handle (see `releaseNode`): found there again when the
   * fork needs the spin. Weak both ways: a node goes with its handle, and a fork nobody else
   * holds goes with its released nodes (a handle naming one of them does not keep the fork).
   */
  kept: WeakMap<object, SpinNode> | null = null;
  /** @internal the table `kept` took over from (its nodes go when it is taken over in turn) */
  keptOld: WeakMap<object, SpinNode> | null = null;
  /** @internal nodes put in `kept` */
  keptCount = 0;
  /** @internal a number no other context has: the key of the answer a handle caches for `read` */
  readonly uid = ++contexts;
  /**
   * @internal the cells this context holds, by handle, for a context whose cells the handles do
   * not keep (a fork; a root other than a handle's first, see `Signal._ctx`): slot
   * `k = _uid & (OWN_SLOTS - 1)` holds a handle's `_uid` at `2k` and the context's cell of it at
   * `2k + 1`. A context neither replaces nor drops its cell of a live handle (the cell goes only
   * when an unkeyed handle is collected, and a handle's number is never given again), so an entry
   * never goes stale; a collision only costs the lookup by id. Where a fork's write, a run's first
   * read of a signal and a re-run's unsubscription looked the id up in the map (`cellless`,
   * `CellStore.get`: about 70 optimized instructions, and a builtin `Map.get` of a string key), a
   * hit is about 30 (fork dynamic 6,554,482 -> 6,438,425 optimized instructions per operation).
   * Held by the context, not the handle: a handle keeps no fork (docs/concepts.md).
   */
  ownCache: (number | Cell)[] | null = null;
  /** @internal epoch {@link inhCache} is valid for */
  inhEpoch = 0;
  /** @internal detached nodes that subscribed to inputs during a read's runs (see `readNode`) */
  private detachedSubs: SpinNode[] | null = null;
  /** @internal `readNode` calls in progress (a body may read) */
  private reading = 0;

  /**
   * Use {@link createContext} or `ctx.fork()`.
   * @param opts options
   * @param parent parent (forks)
   */
  constructor(opts?: ContextOptions, parent?: Context) {
    this.parent = parent ?? null;
    this.root = parent?.root ?? this;
    this.name = opts?.name;
    this.isDefault = creatingDefault;
    creatingDefault = false;
    this.cells = new CellStore(this.isDefault);
    if (parent !== undefined) {
      this.clock = parent.clock;
      this.onError = parent.onError;
    } else {
      const c = opts?.clock ?? "real";
      if (
        c !== "real" &&
        c !== "virtual" &&
        (typeof c !== "object" || c === null || typeof c.setTimer !== "function")
      )
        invalidArgument(`createContext: clock must be "real", "virtual" or a Clock, got ${String(c)}`);
      this.clock = typeof c === "string" ? createClock(c) : c;
      this.onError =
        opts?.onError ??
        ((error, source) => {
          console.error(`[spindel] unhandled error from ${source}:`, error);
        });
    }
  }

  /**
   * @internal spin nodes owned by this context, complete: the entries of nodes made in this job
   * are made first. A root's node observed or tracked and released within one job (a graph built
   * and dropped) never enters the map: its entry waits with its handle's registration
   * (`watchSoon`), and the release takes it out of that list (create + dispose: four map
   * operations and a shrink of the map an operation).
   */
  get nodes(): Map<string, SpinNode> {
    if (deferredMap.count !== 0) flushDeferredMap();
    return this._nodes;
  }

  /** @internal a weak reference to this context (for GC bookkeeping), created on first use */
  get weak(): WeakRef<Context> {
    return (this.weakRef ??= new WeakRef(this));
  }

  /** True once `dispose()` was called on this context or an ancestor. */
  get disposed(): boolean {
    for (let c: Context | null = this; c !== null; c = c.parent) if (c.disposedFlag) return true;
    return false;
  }

  /** @internal throw if disposed */
  _check(what: string): void {
    if (this.disposedFlag || (this.parent !== null && this.disposed)) throw new ContextDisposedError(what);
  }

  // ---------------------------------------------------------------- signals

  /** Read a signal (untracked). */
  get<T>(sig: Signal<T>): T {
    this._check("read a signal");
    if (!(sig instanceof Signal)) invalidArgument(`ctx.get expects a Signal, got ${String(sig)}`);
    return cellPeek(this._peekCell(sig)) as T;
  }

  /**
   * Write a signal in this context. Equal values (by the signal's `equals`) are a no-op.
   * @param deltas optional description of the change, delivered by `$.interval`
   */
  set<T>(sig: Signal<T>, value: T, deltas?: unknown): void {
    this._check("write a signal");
    // the brand, not `instanceof` (`Signal` is the one class of signal handles): a load from the
    // prototype where the walk of the prototype chain was 30 instructions of a write
    if (sig === null || sig === undefined || (sig as MaybeSource)[SOURCE_KIND] !== Brand.SIGNAL_SOURCE)
      invalidArgument(`ctx.set expects a Signal, got ${String(sig)}`);
    const cell = (
      sig._ctx === this ? sig._cell! : this.isDefault ? this._cellForRead(sig) : this._cellForWrite(sig)
    ) as Cell<T>;
    const old = cellPeek(cell);
    const eq = sig.equals;
    if (eq === Object.is ? objectIs(old, value) : eq(old, value)) return;
    if (G.batchDepth > 0) noteBatchWrite(cell);
    if (deltas !== undefined) cell.deltasBase = cell.version;
    cell.version = nextVersion();
    G.epoch++;
    cell.deltas = deltas;
    cellWrite(cell, value);
    const obs = cell.observers;
    if (obs !== null && obs.size > 0) this._notify(obs);
    if (this.parent !== null) this.forkInvalidate(sig.id);
  }

  /** Write `fn(current)`. */
  update<T>(sig: Signal<T>, fn: (current: T) => T): void {
    this.set(sig, fn(this.get(sig)));
  }

  /** Write `next` iff the current value is `Object.is`-equal to `expected`; returns whether it did. */
  compareAndSet<T>(sig: Signal<T>, expected: T, next: T): boolean {
    if (!Object.is(this.get(sig), expected)) return false;
    this.set(sig, next);
    return true;
  }

  /**
   * A preact `ReadonlySignal` view of `sig` in this context, for preact's `effect`/`computed` and
   * UI bindings. In a root it is the real preact signal holding the value; in a fork a read-through
   * computed that follows the parent until the fork writes.
   */
  toPreact<T>(sig: Signal<T>): ReadonlySignal<T> {
    this._check("bind a signal");
    if (!(sig instanceof Signal)) invalidArgument(`ctx.toPreact expects a Signal, got ${String(sig)}`);
    if (this.parent === null) return this._cellForRead(sig) as ReadonlySignal<T>;
    const root = this.root;
    const shape = (root.shape ??= preactSignal(0));
    return preactComputed(() => {
      void shape.value;
      return cellRead(this._cellForRead(sig)) as T;
    });
  }

  /** Make this context current for the synchronous extent of `fn` (so `sig.value` reads/writes it). */
  run<T>(fn: () => T): T {
    this._check("run");
    const prev = setCurrent(this);
    try {
      return fn();
    } finally {
      setCurrent(prev);
    }
  }

  // ---------------------------------------------------------------- spins

  /** The spin's value in this context: served from cache, or run (lazily) and awaited. */
  value<T>(s: Spin<T>): Promise<T> {
    try {
      this._check("read a spin");
      if (!(s instanceof Spin)) invalidArgument(`ctx.value expects a Spin, got ${String(s)}`);
    } catch (err) {
      return Promise.reject(err);
    }
    let n: SpinNode;
    try {
      n = this.readNode(s);
    } catch (err) {
      return Promise.reject(err);
    }
    if (isReady(n)) return n.status === 1 ? Promise.resolve(n.result as T) : Promise.reject(n.result);
    if ((n.flags & Flag.DETACHED) !== 0) this.attach(n, s);
    n.holds++;
    const out = valueWhenReady<T>(n);
    this.settleStale(n);
    return out;
  }

  /**
   * The spin's value now, synchronously: a synchronous spin is settled on the spot, a settled
   * async spin answers from its cache; an error result is thrown. Throws a {@link SpindelError}
   * `ERR_NOT_SETTLED` while an async spin is still running (use {@link value} to wait for it).
   * For UI renders and adapters that need the current value outside a body.
   */
  read<T>(s: Spin<T>): T {
    // a clean node answers at once: in a root, staleness marking is exact; elsewhere a node
    // verified at the current epoch is up to date (every change and every dispose moves the epoch)
    if (s._ctx === this) {
      const n = s._node!;
      if (
        n.status === 1 &&
        n.run === null &&
        ((n.flags & (Flag.STALE | Flag.CHECKING | Flag.DETACHED)) === 0 ||
          ((n.flags & (Flag.STALE | Flag.CHECKING)) === 0 && n.checkedAt === G.epoch)) &&
        !this.disposedFlag
      )
        return n.result as T;
    } else if (this.parent !== null) {
      // the answer of the last read here, at the same epoch: nothing changed anywhere since (every
      // write, settlement, cancellation, release and dispose moves the epoch)
      if (s._readUid === this.uid && s._readEpoch === G.epoch) return s._readValue as T;
      // this fork's own node, verified at the current epoch (refresh's clean test)
      const n = this._nodes.get(s.id); // a fork's map is complete (only a root's entries wait)
      if (
        n !== undefined &&
        n.status === 1 &&
        n.run === null &&
        (n.flags & (Flag.STALE | Flag.CHECKING)) === 0 &&
        n.checkedAt === G.epoch &&
        n.body !== null &&
        !this.disposedFlag
      )
        return n.result as T;
    }
    return this.readSlow(s);
  }

  /**
   * `n`, found through a handle, is this context's own node in its map (attached), with its body:
   * refreshed where it is, it is what resolving the handle's id would give.
   */
  private holdsAttached(n: SpinNode): boolean {
    return n.ctx === this && (n.flags & Flag.DETACHED) === 0 && n.body !== null;
  }

  private readSlow<T>(s: Spin<T>): T {
    if (this.disposedFlag || this.parent !== null) this._check("read a spin");
    if (!(s instanceof Spin)) invalidArgument(`ctx.read expects a Spin, got ${String(s)}`);
    let n: SpinNode;
    // the node's committed runs before this read (-1: a node the read found or made)
    let commits: number;
    // this context's own node in its map: found through the handle (a root's node) or the map
    // (a fork's), refreshed where it is
    const own = s._ctx === this ? s._node! : this.parent !== null ? (this._nodes.get(s.id) ?? null) : null;
    if (own !== null && this.holdsAttached(own)) {
      n = own;
      commits = n.commits;
      refresh(n);
      if (G.stuck !== null) dropStuck(); // what a stack overflow left (see there)
    } else {
      const m = s._ctx === this ? s._node! : undefined;
      const before = m !== undefined ? m.commits : -1;
      n = this.readNode(s);
      commits = n === m ? before : -1;
    }
    if (!isReady(n)) {
      // a synchronous body that invalidated its own inputs (it wrote what it tracks): the read
      // answers with the run it caused, as a computed does; the spin stays stale and re-runs on
      // the next read (observed or awaited with ctx.value, it fails with ERR_CYCLE instead)
      if (n.run === null && n.status !== 0 && n.commits !== commits && (n.flags & Flag.CHECKING) === 0) {
        if (n.status === 1) return n.result as T;
        throw n.result;
      }
      if ((n.flags & Flag.DETACHED) !== 0) this.attach(n, s);
      throw new SpindelError(
        "ERR_NOT_SETTLED",
        `ctx.read(${n.label}): the spin is still running (its body is async); await ctx.value(spin) instead`,
      );
    }
    if (n.status === 1) {
      // (not while its check is in progress, a read from below that check: the check may re-run
      // it at this epoch. Here, not in `read`'s test of `checkedAt`: a larger `read` left V8 no
      // room to inline `Observers.size` into a caller of `read` and `set`, +31 optimized
      // instructions per operation of root kairo)
      if (this.parent !== null && !checkInProgress(n)) {
        // the handle keeps the answer, not the node: a node would keep its fork, and with the
        // fork's map the handles its nodes read (docs/concepts.md, "Garbage collection")
        s._readUid = this.uid;
        s._readValue = n.result;
        s._readEpoch = G.epoch;
      }
      return n.result as T;
    }
    throw n.result;
  }

  /**
   * The node serving a one-off read, refreshed. A root's handle read for the first time gets a
   * detached node: it lives on the handle only (no map entry, no GC watch, no subscriptions once
   * settled), so a loop of one-shot reads leaves nothing behind even if it never yields.
   */
  private readNode(s: Spin<unknown>): SpinNode {
    let n: SpinNode;
    if (s._ctx === this) n = s._node!;
    // (no node waits for its map entry under this id: such a node is on its handle, `s._ctx` is set)
    else if (s._ctx === null && this.parent === null && !this._nodes.has(s.id) && !s.keyed) {
      n = new SpinNode(
        s.id,
        this,
        s.body as SpinBody<unknown>,
        s.equals as SpinNode["equals"],
        s.deps,
        s.name,
      );
      n.flags = s._nested ? Flag.DETACHED : Flag.DETACHED | Flag.ON_HANDLE;
      n.pinned = s; // for an attach through a log that reads it (see `attach`)
      s._ctx = this;
      s._node = n;
    } else n = this._nodeFor(s);
    this.reading++;
    try {
      refresh(n);
      if (G.stuck !== null) dropStuck(); // what a stack overflow left (see there)
    } finally {
      this.reading--;
    }
    // settled, or left stale by a body that wrote an input it tracks (nothing re-runs a detached
    // node but the next read, which re-verifies it against its log anyway)
    if ((n.flags & (Flag.DETACHED | Flag.CHECKING)) === Flag.DETACHED && n.status !== 0 && n.run === null) {
      // cleanups its run registered keep it in the map: dispose must reach them
      if (quiescent(n) && n.children === null && n.cleanups === null) prune(n, n.log, EMPTY_LOG);
      else this.attach(n, s);
    }
    if (this.reading === 0 && this.detachedSubs !== null) this.settleDetached(n);
    return n;
  }

  /**
   * The detached nodes (released ones the read re-verified through its log) that re-ran during a
   * read subscribed to their inputs, as every run does: once settled, they drop those
   * subscriptions again (an input must not keep a node that is out of the map); one still running
   * or waiting is attached instead, as the read's own node is. The read's own node (`top`) is
   * left to the read.
   */
  private settleDetached(top: SpinNode): void {
    const subs = this.detachedSubs!;
    this.detachedSubs = null;
    for (const m of subs) {
      if ((m.flags & Flag.DETACHED) === 0 || m === top) continue;
      if (isReady(m) && quiescent(m) && m.children === null && m.cleanups === null)
        prune(m, m.log, EMPTY_LOG);
      else this.attach(m, undefined);
    }
  }

  /**
   * A synchronous body left its own node stale (it wrote an input it tracks): settle it through
   * the drain, which bounds a self-invalidating loop with `ERR_CYCLE`.
   */
  private settleStale(n: SpinNode): void {
    if (n.run !== null || (n.flags & Flag.STALE) === 0) return;
    this._schedule(n);
    this._drainSoon();
  }

  /**
   * @internal a detached node becomes a regular one: in the node map, subscribed to its sources
   * (those of its run in flight too), GC-watched (`s`: its handle, else the one it kept). A
   * released source its log reads is attached with it: a node in the map only reads nodes in the map.
   */
  attach(n: SpinNode, s: Spin<unknown> | undefined): void {
    n.flags &= ~Flag.DETACHED;
    if ((n.flags & Flag.MAP_PENDING) !== 0 || this._nodes.get(n.id) === n) return;
    // unsubscribed while detached: it may have missed a change since it was last verified (or
    // began its check: a run below that check attaches it, see `SpinNode.checkEpoch`)
    if (n.status !== 0 && n.run === null && !verifiedAt(n, G.epoch)) n.flags |= Flag.STALE;
    this._nodes.set(n.id, n);
    const h = s ?? n.pinned;
    n.pinned = null; // a detached node is never observed: only a kept handle was there
    if (h !== null) {
      if (this.kept !== null && !this.kept.delete(h)) this.keptOld?.delete(h);
      if ((n.flags & Flag.ON_HANDLE) !== 0) watchSoon(n, h);
      else if ((n.flags & Flag.WATCHED) === 0) {
        watchHandle(h, this, n.id);
        n.flags |= Flag.WATCHED;
      }
    }
    this.subscribeLog(n, n.log);
    if (n.run !== null) this.subscribeLog(n, n.run.log);
  }

  /** Subscribe `n`, being attached, to the sources of `log`, attaching the detached ones. */
  private subscribeLog(n: SpinNode, log: readonly Entry[]): void {
    for (const e of log) {
      if (kindOf(e) === Kind.Spin && e.ref !== null) {
        const r = e.ref as SpinNode;
        if (r.ctx === this) {
          if ((r.flags & Flag.DETACHED) !== 0) this.attach(r, undefined);
          // an input that may have changed makes its reader stale too: a later change marks
          // from the input on and would stop at an input already stale
          if ((r.flags & Flag.STALE) !== 0) n.flags |= Flag.STALE;
        }
      }
      resubscribe(this, kindOf(e), e.id, n);
    }
  }

  /**
   * Keep the spin live and eager: it re-runs in the drain whenever an input changes, and
   * `onValue` (or `onError`) gets every new result, starting with the current one. A signal is
   * observed as the spin `($) => $.track(sig)`: `onValue` gets its value here and every change.
   * @returns a function that stops observing
   */
  observe<T>(
    source: Spin<T> | Signal<T>,
    onValue: (value: T) => void,
    onError?: (error: unknown) => void,
  ): () => void {
    this._check("observe a spin");
    // the brand, not `instanceof` (`Signal` and `Spin` are the one classes of their handles): a
    // spin's `instanceof Signal` walked its whole prototype chain, 84 instructions of an observe
    // with the `instanceof Spin` after it (create + dispose)
    const kind = source === null || source === undefined ? undefined : (source as MaybeSource)[SOURCE_KIND];
    if (kind !== Brand.SPIN_SOURCE && kind !== Brand.SIGNAL_SOURCE)
      invalidArgument(`ctx.observe expects a Spin or a Signal, got ${String(source)}`);
    // a signal is observed through one shared tracking spin per signal handle
    const s = kind === Brand.SIGNAL_SOURCE ? trackingSpinOf(source as Signal<T>) : (source as Spin<T>);
    if (typeof onValue !== "function") invalidArgument("ctx.observe expects an onValue callback");
    const n = this._ownNode(s);
    const owner = G.run;
    const sub: Subscriber = { onValue: onValue as (v: unknown) => void, onError, seen: 0 };
    if (n.subs === null) {
      n.subs = [];
      n.pinned = s; // an observed spin's handle stays alive while observed
    }
    n.subs.push(sub);
    refresh(n);
    if (G.stuck !== null) dropStuck(); // what a stack overflow left (see there)
    flushReady(n);
    // the stop function must not keep the spin alive once called: hold the node in a mutable slot
    let node: SpinNode | null = n;
    const stop = (): void => {
      if (node === null) return;
      const m = node;
      node = null;
      const subs = m.subs;
      if (subs !== null) {
        const i = subs.indexOf(sub);
        if (i >= 0) {
          // shift down in place (`splice` would allocate the removed part)
          for (let k = i + 1; k < subs.length; k++) subs[k - 1] = subs[k]!;
          subs.pop(); // not a length write: a runtime call (see `truncate`)
        }
        if (subs.length === 0) {
          m.subs = null;
          m.pinned = null;
        }
      }
      if (m.eager || (m.observers !== null && m.observers.size > 0)) return;
      // the last observer left: the spin's cleanups run now, and a root lets the node go
      if (m.cleanups !== null) runCleanups(m);
      if (m.ctx === this) releaseNode(this, m, s);
    };
    // an observation started by a body belongs to that run: it stops with it
    if (owner !== null) owner.onCleanup(stop);
    return stop;
  }

  /**
   * Fire and forget: run the spin, keep it live (pinned against GC) until the returned function is
   * called. Errors go to `onError` (default: the context's `onError`).
   */
  spawn<T>(s: Spin<T>, opts?: SpawnOptions): () => void {
    return this.observe(
      s,
      (v) => opts?.onValue?.(v),
      opts?.onError ?? ((err) => this._report(`spawned ${s.name ?? s.id}`, err)),
    );
  }

  /** Cancel the spin in this context (see {@link Cancelled}). */
  cancel(s: Spin<unknown>): void {
    this._check("cancel a spin");
    if (!(s instanceof Spin)) invalidArgument(`cancel expects a Spin, got ${String(s)}`);
    cancelNode(this._ownNode(s));
    this._drainSoon();
  }

  /**
   * Re-run the spin from scratch now (also clears a cancellation); the run in flight, if any, is
   * superseded. Called while the spin's own body is executing synchronously (in it, or in
   * anything it calls), the re-run comes once that run is over instead: the run commits, then the
   * spin re-runs as if an input had changed (docs/concepts.md, "Cycles").
   */
  rerun(s: Spin<unknown>): void {
    this._check("re-run a spin");
    if (!(s instanceof Spin)) invalidArgument(`rerun expects a Spin, got ${String(s)}`);
    rerunNode(this._ownNode(s));
    this._drainSoon();
  }

  /**
   * Resolves when no event is queued and no spin is running. Spins parked on an external wait
   * (timer, deferred, mailbox, promise, remote call) do not count.
   */
  settled(): Promise<void> {
    if (this.idle()) return Promise.resolve();
    return this.whenSettled();
  }

  /** A promise {@link settled} resolves later (a method of its own: see `valueWhenReady`). */
  private whenSettled(): Promise<void> {
    return new Promise((resolve) => {
      (this.settleWaiters ??= []).push(resolve);
    });
  }

  private idle(): boolean {
    return this.busyCount === 0 && (this.drain === null || this.drain.idle);
  }

  // ---------------------------------------------------------------- fork, time, dispose

  /** An O(1) copy-on-write child context. */
  fork(opts?: ForkOptions): Context {
    this._check("fork");
    return new Context({ name: opts?.name }, this);
  }

  /** A frozen full copy of this context (its state merged over its ancestors'). */
  snapshot(): ContextSnapshot {
    this._check("snapshot");
    return takeSnapshot(this);
  }

  /** CBOR bytes of this context's state (values must be CBOR-encodable); see `deserializeContext`. */
  serialize(): Uint8Array {
    this._check("serialize");
    return serializeContext(this);
  }

  /** Milliseconds on this context's clock. */
  now(): number {
    return this.clock.now();
  }

  /** Virtual clocks: advance time by `ms`, firing due timers in order. */
  advanceTime(ms: number): void {
    this._check("advance time");
    this.clock.advance(ms);
  }

  /** Arm a timer through the context's clock; disposing the context disarms it. */
  setTimer(ms: number, fn: () => void): TimerHandle {
    this._check("arm a timer");
    // registered with every ancestor too: disposing any of them disarms a fork's timers
    const owners: Set<TimerHandle>[] = [];
    for (let c: Context | null = this; c !== null; c = c.parent) owners.push(c.timers);
    return armOwnedTimer(this.clock, owners, ms, fn);
  }

  /** Cancel timers and running spins; fail pending reads. Later use throws {@link ContextDisposedError}. */
  dispose(): void {
    if (this.disposedFlag) return;
    this.disposedFlag = true;
    G.epoch++; // answers cached for this epoch (fork reads) must not outlive the context
    if (this.liveRegistered) unregisterLive(this);
    const forks = this.liveForks;
    this.liveForks = null;
    if (forks !== null) for (const ref of forks) ref.deref()?.dispose();
    for (const t of [...this.timers]) t.cancel();
    this.timers.clear();
    const err = new ContextDisposedError("wait for a spin");
    for (const n of this.nodes.values()) abortNode(n, err);
    if (this.transients !== null) for (const n of [...this.transients]) abortNode(n, err);
    for (const st of this.states.values()) st.dispose?.();
    if (this.drain !== null) {
      this.drain.closed = true;
      this.drain.clear();
    }
    const ws = this.settleWaiters;
    this.settleWaiters = null;
    if (ws !== null) for (const w of ws) w();
    this.forget();
  }

  /**
   * A disposed context lets go of its graph. Something can still name one of its nodes (a root's
   * node on its handle, an observation's stop function, a promise's waiter), and through the node
   * the context: were the context to keep its node map, its observer sets and the maps of
   * inherited sources, that one node would keep every node of the context and the handles their
   * logs read, and with those the nodes another context keeps until those handles are collected,
   * in a cycle that never ends (release-properties, "in a fork", found with a fork's node on the
   * handle). The node keeps its cache and the inputs its log reads, nothing that reads it.
   */
  private forget(): void {
    for (const n of this.nodes.values()) {
      n.observers = null;
      n.subs = null;
      n.pinned = null;
    }
    this.nodes.clear();
    if (!this.isDefault) for (const [, cell] of this.cells.entries()) cell.observers = null;
    this.extSig = null;
    this.extSpin = null;
    this.inhCache = null;
    this.kept = null;
    this.keptOld = null;
    this.transients = null;
    this.detachedSubs = null;
    this.states.clear();
  }

  // ---------------------------------------------------------------- internals

  /** @internal */
  _report(source: string, error: unknown): void {
    if (error instanceof Cancelled) return; // a cancellation is intended, not an unhandled error
    try {
      this.onError(error, source);
    } catch {
      // an onError hook that throws must not break the drain
    }
  }

  /** @internal */
  _busy(d: number): void {
    this.busyCount += d;
    if (this.busyCount === 0) this._maybeSettle();
  }

  /** @internal */
  _schedule(n: SpinNode): void {
    // (a test against null alone: `??=` tests undefined too)
    const drain = this.drain;
    (drain !== null ? drain : (this.drain = new Drain())).schedule(n);
  }

  /** @internal run the drain now unless already draining or inside a batch */
  _drainSoon(): void {
    const drain = this.drain;
    if (drain === null || drain.running) return;
    if (G.batchDepth > 0 || G.run !== null) {
      // inside a batch, or a body running synchronously: drain when it ends
      deferDrain(this);
      return;
    }
    if (!drain.pending) return;
    drain.run();
    // it has something to do only when someone waits for the context to settle or an orphan waits
    // to be swept: a call (and `idle`) of about 55 instructions per write otherwise
    if (this.settleWaiters !== null || this.orphans.size > 0) this._maybeSettle();
  }

  /** @internal */
  _maybeSettle(): void {
    if (!this.idle()) return;
    if (this.orphans.size > 0) this.sweepOrphans();
    const ws = this.settleWaiters;
    if (ws === null) return;
    this.settleWaiters = null;
    for (const w of ws) w();
  }

  /** @internal read for `sig.value` outside the fast path */
  _readSignal<T>(sig: Signal<T>, tracked: boolean): T {
    this._check("read a signal");
    // a tracked read subscribes preact to the cell: that one has to be the stored cell
    return tracked ? cellRead(this._cellForRead(sig) as Cell<T>) : (cellPeek(this._peekCell(sig)) as T);
  }

  /** @internal the cell visible in this context (created in the root on first touch) */
  _cellForRead(sig: Signal<unknown>): Cell {
    if (this.isDefault) {
      if (!sig._reg) this._register(sig);
      return sig;
    }
    if (sig._ctx === this) return sig._cell!;
    const found = this.visibleCellOf(sig);
    if (found !== undefined) {
      if (this.parent === null && sig._ctx === null) {
        sig._ctx = this;
        sig._cell = found;
      }
      return found;
    }
    const root = this.root;
    if (root.isDefault) {
      root._register(sig);
      return sig;
    }
    const cell = createCell(sig.init, 0);
    root.cells.set(sig.id, cell, true);
    if (sig._ctx === null) {
      sig._ctx = root;
      sig._cell = cell;
    }
    if (!sig.keyed) watchSignal(sig, root.weak, sig.id);
    if (root.extSig !== null) root.adoptExt(sig.id, cell);
    if (root.lentUnstored) G.shadowGen++; // forks may reference an unstored cell of the signal
    return cell;
  }

  /**
   * @internal the cell of `sig` visible here, for a read that keeps no reference to it (`ctx.get`,
   * `$.peek`, `$.interval`): in a fork, see {@link _cellOrInit}; a root makes its cell
   */
  _peekCell(sig: Signal<unknown>): Cell {
    return this.parent === null ? this._cellForRead(sig) : this._cellOrInit(sig, false);
  }

  /**
   * @internal fork only: the cell visible here, or, when no context of the tree holds one, a cell
   * with the signal's initial value that nothing stores (the handle's one such cell). What a fork
   * reads, tracks or copies on write then leaves nothing behind in the root: the root's cell would
   * be held (and the handle registered for reaping) until the handle is collected, for a signal
   * only forks use. The value and version (0) are what the root's cell would hold. `kept`: the
   * caller keeps the reference (a tracked entry), so the root is told to bump `G.shadowGen` when it
   * makes the real cell.
   */
  private _cellOrInit(sig: Signal<unknown>, kept: boolean): Cell {
    const root = this.root;
    if (root.isDefault) return this._cellForRead(sig); // there the handle is the cell
    const cell = this.visibleCellOf(sig);
    if (cell !== undefined) return cell;
    if (kept) root.lentUnstored = true;
    // nothing writes an unstored cell (a write makes a cell of its own): one per handle serves every
    // fork, where a cell per read cost a graph that rewires in a fork an allocation per new read
    return (sig._initCell ??= createCell(sig.init, 0));
  }

  /**
   * The cell of `sig` held by this context or the nearest ancestor that holds one; no lookup for a
   * handle no context of the tree can hold a cell for (see {@link cellless}).
   */
  private visibleCellOf(sig: Signal<unknown>): Cell | undefined {
    return cellless(sig, this.root) ? undefined : this.visibleCell(sig.id);
  }

  /**
   * The cell of `sig` this context holds itself: from {@link ownCache}, else looked up by id (no
   * lookup where {@link cellless} says none can be) and cached.
   */
  private ownCellOf(sig: Signal<unknown>): Cell | undefined {
    const uid = sig._uid;
    const cache = this.ownCache;
    const k = (uid & (OWN_SLOTS - 1)) << 1;
    if (cache !== null && cache[k] === uid) return cache[k + 1] as Cell;
    if (cellless(sig, this.root)) return undefined;
    const cell = this.cells.get(sig.id);
    if (cell !== undefined) this.cacheOwn(uid, cell);
    return cell;
  }

  /** @internal `cell` left this context (its handle was collected): {@link ownCache} lets it go too */
  _uncacheCell(cell: Cell): void {
    const cache = this.ownCache;
    if (cache === null) return;
    for (let k = 1; k < cache.length; k += 2)
      if (cache[k] === cell) {
        cache[k - 1] = 0;
        cache[k] = 0;
      }
  }

  /** Put this context's cell of the handle numbered `uid` in {@link ownCache}. */
  private cacheOwn(uid: number, cell: Cell): void {
    const cache = (this.ownCache ??= new Array<number | Cell>(OWN_SLOTS * 2).fill(0));
    const k = (uid & (OWN_SLOTS - 1)) << 1;
    cache[k] = uid;
    cache[k + 1] = cell;
  }

  /** @internal the cell of signal `id` held by this context or the nearest ancestor that holds one */
  private visibleCell(id: string): Cell | undefined {
    for (let c: Context | null = this; c !== null; c = c.parent) {
      const cell = c.cells.get(id);
      if (cell !== undefined) return cell;
    }
    return undefined;
  }

  /** @internal the default context's cell of a signal is the handle itself */
  _register(sig: Signal<unknown>): void {
    sig._reg = true;
    this.cells.set(sig.id, sig, sig.keyed);
  }

  /** @internal a cell changed: mark its observers stale and drain */
  _notify(obs: Observers): void {
    const items = obs.list();
    markAllStale(items);
    this._drainSoon();
  }

  /** @internal version of a signal visible here (0: never written) */
  _versionOf(id: string): number {
    return this.visibleCell(id)?.version ?? 0;
  }

  /** @internal the fork's own cell of a signal (copy-on-write) */
  private _cellForWrite(sig: Signal<unknown>): Cell {
    const own = this.ownCellOf(sig);
    if (own !== undefined) return own;
    if (this.parent === null) return this._cellForRead(sig);
    const inh = this.parent._cellOrInit(sig, false);
    G.shadowGen++; // this fork and its forks see a new cell for the signal from now on
    const cell = createCell(cellPeek(inh), inh.version);
    cell.deltasBase = inh.deltasBase;
    cell.deltas = inh.deltas;
    if (this.extSig !== null) this.adoptExt(sig.id, cell);
    this.cells.set(sig.id, cell, true);
    this.cacheOwn(sig._uid, cell);
    if (!sig.keyed) watchSignal(sig, this.weak, sig.id);
    const shape = this.root.shape;
    if (shape !== null) shape.value++;
    return cell;
  }

  /** A cell made here for signal `id`: the nodes waiting for it (see {@link extSig}) observe it. */
  private adoptExt(id: string, cell: Cell): void {
    const ext = this.extSig!.get(id);
    if (ext === undefined) return;
    cell.observers = ext;
    this.extSig!.delete(id);
  }

  /** @internal subscribe `observer` to a signal; returns the visible cell */
  _trackSignal(sig: Signal<unknown>, observer: SpinNode): Cell {
    let cell: Cell | undefined;
    if (sig._ctx === this) cell = sig._cell!;
    else if (this.parent !== null) {
      // a fork's own cell from its cache (`ownCellOf`'s first test, written out), else a helper
      const uid = sig._uid;
      const cache = this.ownCache;
      const k = (uid & (OWN_SLOTS - 1)) << 1;
      if (cache === null || cache[k] !== uid) return this.trackForkUncached(sig, observer);
      cell = cache[k + 1] as Cell;
    } else cell = this.isDefault ? this._cellForRead(sig) : (this.ownCellOf(sig) ?? this._cellForRead(sig));
    (cell.observers ??= new Observers()).add(observer);
    if ((observer.flags & Flag.DETACHED) !== 0) this.noteDetachedSub(observer);
    return cell;
  }

  /** {@link _trackSignal} in a fork whose cache does not hold a cell of `sig`. */
  private trackForkUncached(sig: Signal<unknown>, observer: SpinNode): Cell {
    const cell = this.ownCellOf(sig);
    if (cell === undefined) {
      // the inherited cell, through the map of observers of inherited sources
      addExt((this.extSig ??= new Map()), sig.id, observer);
      return this._cellOrInit(sig, true);
    }
    (cell.observers ??= new Observers()).add(observer);
    if ((observer.flags & Flag.DETACHED) !== 0) this.noteDetachedSub(observer);
    return cell;
  }

  /** @internal subscribe `observer` to a spin; returns the visible node */
  _trackSpin(s: Spin<unknown>, observer: SpinNode): SpinNode {
    const n = this._nodeFor(s);
    if (n.ctx === this) {
      (n.observers ??= new Observers()).add(observer);
      if ((observer.flags & Flag.DETACHED) !== 0) this.noteDetachedSub(observer);
    } else addExt((this.extSpin ??= new Map()), s.id, observer);
    return n;
  }

  /** A detached node subscribed to an input: it drops its subscriptions when the read ends (`readNode`). */
  private noteDetachedSub(n: SpinNode): void {
    const subs = (this.detachedSubs ??= []);
    if (subs[subs.length - 1] !== n) subs.push(n);
  }

  /** @internal */
  _unsubscribe(kind: Kind, id: string, observer: SpinNode, ref: object | null, src: object | null): void {
    if (kind === Kind.Signal) {
      // a root's entry references the cell it stores (as `changePoint` relies on): no lookup
      const cell = ref !== null && this.parent === null ? (ref as Cell) : this.cellToLeave(id, src);
      if (cell !== undefined) {
        const obs = cell.observers;
        // an emptied set goes: a cell outlives its readers until its handle is collected (in the
        // map of a root that is not the default one), and would keep the set and its storage
        if (obs?.delete(observer) && obs.size === 0) cell.observers = null;
      } else if (this.extSig !== null) removeExt(this.extSig, id, observer);
    } else {
      // a fork's map is complete (only a root's entries wait); in a root, a node waiting for its
      // map entry is the entry's own `ref` (a root's entry references the node it read), else the
      // map, completed
      const n =
        this.parent !== null
          ? this._nodes.get(id)
          : ref !== null && ((ref as SpinNode).flags & Flag.MAP_PENDING) !== 0
            ? (ref as SpinNode)
            : this.nodes.get(id);
      if (n !== undefined) {
        const obs = n.observers;
        // the last observer node left: the context lets the node go, unless that was a detached node
        // (a one-off read keeps what it read in the map, as it found it)
        if (obs?.delete(observer) && obs.size === 0 && (observer.flags & Flag.DETACHED) === 0)
          releaseNode(this, n, src);
      } else if (this.extSpin !== null) removeExt(this.extSpin, id, observer);
    }
  }

  /**
   * The cell `_unsubscribe` takes an observer from where the entry's reference does not tell (a
   * fork's entry may reference an inherited cell): a fork's own through the handle's number
   * (`ownCellOf`). A helper: written out in `_unsubscribe`, it made that function too large for
   * V8 to inline `pruneByMarks` into `prune` (a root's dynamic 5,002,791 -> 5,096,641 optimized
   * instructions per operation).
   */
  private cellToLeave(id: string, src: object | null): Cell | undefined {
    return this.parent !== null && src !== null ? this.ownCellOf(src as Signal<unknown>) : this.cells.get(id);
  }

  /**
   * @internal the node for a handle: own (attached, if it was detached: whoever asks for it may
   * wait on it or track it), inherited from an ancestor (fork, if still valid here), or new
   */
  _nodeFor(s: Spin<unknown>): SpinNode {
    if (s._ctx === this) {
      const n = s._node!;
      if ((n.flags & Flag.DETACHED) !== 0) this.attach(n, s);
      return n;
    }
    return this._node(s.id, s, false)!;
  }

  /** @internal like `_nodeFor` but always a node owned by this context (copy-on-write in forks) */
  _ownNode(s: Spin<unknown>): SpinNode {
    if (s._ctx === this) {
      const n = s._node!;
      if ((n.flags & Flag.DETACHED) !== 0) this.attach(n, s);
      return n;
    }
    return this._node(s.id, s, true)!;
  }

  /** @internal nearest node with this id in this context or its ancestors (no creation; forks.ts) */
  _findNode(id: string): SpinNode | undefined {
    return findNode(this, id);
  }

  /** @internal resolve a node by id (and handle, when known): see `resolveNode` in forks.ts */
  _node(id: string, handle: Spin<unknown> | undefined, own: boolean): SpinNode | undefined {
    return resolveNode(this, id, handle, own);
  }

  /** Fork write: mark this fork's nodes that depend on the signal through inherited nodes (forks.ts). */
  private forkInvalidate(sigId: string): void {
    invalidateInherited(this, sigId);
  }

  /** @internal nested spin creation with stable identity and the capture gate */
  _nestedSpin<T>(
    parent: SpinNode,
    body: SpinBody<T>,
    opts: SpinOptions<T> | undefined,
    addr: string,
    inPrefix: boolean,
  ): Spin<T> {
    const children = (parent.children ??= new Map());
    let existing = children.get(addr) as Spin<T> | undefined;
    let node: SpinNode | undefined;
    if (existing === undefined) {
      const h = new Spin(body, opts, `${parent.id}/${addr}`);
      h._nested = true;
      children.set(addr, h as Spin<unknown>);
      // a node of this address without its handle: deserialized (bytes carry no handles), it is
      // re-created here, its `deps` compared as on any re-creation
      node = this._findNode(h.id);
      if (node === undefined) return h;
      if (node.body === null && node.ctx === this) node.body = body as SpinBody<unknown>;
      existing = h;
    } else node = this._findNode(existing.id);
    const prevDeps = node !== undefined ? node.deps : existing.deps;
    const changed = opts?.deps !== undefined ? !sameDeps(prevDeps, opts.deps) : !inPrefix;
    if (changed) {
      existing.body = body;
      existing.deps = opts?.deps;
      if (node !== undefined) {
        const own = node.ctx === this ? node : this._ownNode(existing as Spin<unknown>);
        own.body = body as SpinBody<unknown>;
        own.deps = opts?.deps;
        own.flags |= Flag.DIRTY;
        markStale(own);
      }
    }
    return existing;
  }

  /** @internal fork-aware primitive state: own, or a fork of the nearest ancestor's, or fresh */
  _state<S extends PrimitiveState>(key: object, create: () => S): S {
    const own = this.states.get(key);
    if (own !== undefined) return own as S;
    let inh: PrimitiveState | undefined;
    for (let c = this.parent; c !== null && inh === undefined; c = c.parent) inh = c.states.get(key);
    const st = (inh !== undefined ? inh.forked() : create()) as S;
    this.states.set(key, st);
    return st;
  }

  /** @internal the node of spin `id` this context owns, if any */
  _ownedNode(id: string): SpinNode | undefined {
    return this.nodes.get(id);
  }

  /**
   * @internal fork: re-create in this context a wait that an ancestor's spin `id` is parked on,
   * by replaying its in-flight log here (the wait then exists in both worlds).
   */
  _adopt(id: string): void {
    if (this.nodes.has(id)) return;
    const inh = this.parent?._findNode(id);
    if (inh === undefined || inh.run === null) return;
    refresh(this._node(id, undefined, true)!);
    if (G.stuck !== null) dropStuck(); // what a stack overflow left (see there)
  }

  /** Drop the nodes whose handles were collected while busy (reaping.ts). */
  private sweepOrphans(): void {
    sweepOrphans(this);
  }

  /** @internal number of spin nodes owned (tests, diagnostics) */
  get _nodeCount(): number {
    return this.nodes.size;
  }

  /** Debug representation. */
  toString(): string {
    return `Context(${this.name ?? (this.parent === null ? "root" : "fork")})`;
  }
}

/**
 * A context is the kernel's host. Checked here rather than with `implements KernelHost`: that
 * clause would stay in the published types while `stripInternal` removes the members it needs.
 * @internal
 */
export type ContextIsKernelHost = Conforms<Context, KernelHost>;
type Conforms<A extends B, B> = A;

const EMPTY_LOG: readonly Entry[] = [];

function sameDeps(a: readonly unknown[] | undefined, b: readonly unknown[]): boolean {
  if (a === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

/**
 * No context of `root`'s tree holds a cell of `sig`: an unkeyed handle that no context but the
 * default one made a cell for (each registers the handle: `watchSignal`) and that the default
 * context never stored, in a tree whose root holds no cells restored by id (a snapshot of this
 * process only holds cells of registered handles; bytes may come from another). A lookup by its id
 * would miss (in a map that may hold many cells): skipped.
 */
function cellless(sig: Signal<unknown>, root: Context): boolean {
  return sig._held === null && sig._reg === false && sig.keyed === false && root.foreignCells === false;
}

/** Create a new root execution context. */
export function createContext(opts?: ContextOptions): Context {
  return new Context(opts);
}

/** The default context, used by `sig.value`, `await spinHandle` and the top-level helpers. */
export function defaultContext(): Context {
  if (G.defaultContext === null) {
    creatingDefault = true;
    G.defaultContext = new Context({ name: DEFAULT_NAME });
  }
  return G.defaultContext;
}

// created now, so the signal and spin modules find it in `G` without importing this module
defaultContext();

/** Cancel a spin in the current context (the default one outside `ctx.run`). */
export function cancel(s: Spin<unknown>): void {
  (G.current ?? defaultContext()).cancel(s);
}

export { Cancelled };

const trackingSpins = new WeakMap<Signal<unknown>, Spin<unknown>>();

/**
 * The result of held node `n` once it is ready (releasing the hold). A function of its own: a
 * closure in `ctx.value` would make every call, cached answers too, allocate a context for `n`.
 */
function valueWhenReady<T>(n: SpinNode): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    whenReady(n, (m) => {
      m.holds--;
      if (m.status === 1) resolve(m.result as T);
      else reject(m.result);
    });
  });
}

/** The spin `($) => $.track(sig)` that `ctx.observe(sig, …)` observes (one per signal handle). */
function trackingSpinOf<T>(sig: Signal<T>): Spin<T> {
  let s = trackingSpins.get(sig as Signal<unknown>) as Spin<T> | undefined;
  if (s === undefined) {
    s = new Spin<T>(($) => $.track(sig), { equals: sig.equals }, freshSpinId());
    trackingSpins.set(sig as Signal<unknown>, s as Spin<unknown>);
  }
  return s;
}
