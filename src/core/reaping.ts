/**
 * Garbage collection of context state. A root releases a spin's node as soon as nothing needs it
 * (it then lives on its handle only); when a spin handle is collected, each context that still
 * holds a node for it drops the node once it is quiescent (nothing running, observed or waiting;
 * else it is swept when the context next settles); when an unkeyed signal handle is collected,
 * contexts drop its cell unless a spin still tracks it. A fork that owns nodes registers with its
 * ancestors, so disposing one of them reaches the fork's runs. Internal.
 * @module
 */
import type { Context } from "./context.js";
import { G } from "./globals.js";
import { prune, runCleanups } from "./kernel/engine.js";
import { Flag } from "./kernel/flags.js";
import { type Entry, type SpinNode, truncate } from "./kernel/node.js";
import type { Spin } from "./spin.js";

/**
 * What a signal handle's one registration carries: every context (but the default one, which holds
 * unkeyed cells weakly) that made a cell for it. The first one has a field of its own: most handles
 * only ever have one, and an array for it was one more object per handle, kept with the registration
 * until the handle is collected. Internal.
 */
export class SignalHeld {
  /** Contexts after the first that made a cell for the handle (null: none). */
  more: WeakRef<Context>[] | null = null;
  /**
   * @param id the signal's id
   * @param ctx the first context that made a cell for it
   */
  constructor(
    readonly id: string,
    readonly ctx: WeakRef<Context>,
  ) {}
}

/**
 * What a signal handle's registration watches, in place of the handle: the handle holds it (and
 * nothing else does), so it is collected with the handle. A young collection keeps the target of
 * every registration alive (V8 11.3): with the handle as the target, each handle written in a loop
 * that never yields was copied out of the young generation with everything it references (in a
 * fork, the unstored cell of its initial value too), where this object is one field. Create +
 * dispose, whole process under `--predictable-gc-schedule`: root 37.7k → 34.3k, fork 50.2k → 48.5k
 * instructions per operation; the default schedule did not move (docs/performance.md, 2026-12-07, 17:32). Internal.
 */
export class SignalWatch {
  /** @param held what the registration carries (it must not reference this object) */
  constructor(readonly held: SignalHeld) {}
}

const signalRegistry = new FinalizationRegistry<SignalHeld>((held) => {
  reapCellIn(held.ctx, held.id);
  if (held.more !== null) for (const ref of held.more) reapCellIn(ref, held.id);
});

function reapCellIn(ref: WeakRef<Context>, id: string): void {
  const ctx = ref.deref();
  if (ctx !== undefined) reapCell(ctx, id);
}

/** What a spin handle's registration carries: the context, weakly, and the node's id. */
interface NodeHeld {
  readonly ctx: WeakRef<Context>;
  readonly id: string;
}

/**
 * The one registry that reaps the nodes of every context, never collected. A registry per
 * context died with its context, and V8 (11.3, Node 20) cannot take that when it happens between
 * a collection that found the registry's targets dead and the task that runs its callbacks: the
 * collection drops the dead registry from its list of registries to clean up, and the task, finding
 * the list empty, returns without clearing its "task posted" flag, so no task is ever posted again
 * and no FinalizationRegistry of the process gets a callback any more (a fork dropped right after
 * its handles: release-properties, "in a fork", FC_SIZE=large SEED=1435007359 GC_RUNS=200).
 */
const nodeRegistry = new FinalizationRegistry<NodeHeld>((held) => {
  const ctx = held.ctx.deref();
  if (ctx !== undefined) reapNode(ctx, held.id);
});

/**
 * A collected context's registrations in {@link nodeRegistry} go with it (unregistered by its
 * weak reference, their token), as its own registry's did: a handle that outlives many forks does
 * not keep one registration for each.
 */
const contextRegistry = new FinalizationRegistry<WeakRef<Context>>((ref) => {
  nodeRegistry.unregister(ref);
});

/**
 * Watch `handle`: when it is collected, context `ctx` may drop its node `id`.
 * @internal
 */
export function watchHandle(handle: object, ctx: Context, id: string): void {
  const ref = ctx.weak;
  if (!ctx.reaping) {
    ctx.reaping = true;
    contextRegistry.register(ctx, ref);
  }
  nodeRegistry.register(handle, { ctx: ref, id }, ref);
}

/** Root nodes attached in the current job whose handles are not registered yet (see {@link watchSoon}). */
const pendingNodes: SpinNode[] = [];
/** The handles of {@link pendingNodes}, at the same index (held until the flush). */
const pendingHandles: object[] = [];
let flushQueued = false;

/**
 * Register the handle of root node `n` for reaping at the end of the current job, if the node is
 * still in its context's map then. A node made and released within one job (observed and
 * stopped, a graph built and dropped) needs no registration: a registration costs far more than
 * the node, and keeps the handle past the young generation.
 * @internal
 */
export function watchSoon(n: SpinNode, handle: object): void {
  if ((n.flags & (Flag.WATCHED | Flag.WATCH_PENDING)) !== 0) return;
  n.flags |= Flag.WATCH_PENDING;
  pendingNodes.push(n);
  pendingHandles.push(handle);
  if (pendingNodes.length >= 1024) flushWatches();
  else if (!flushQueued) {
    flushQueued = true;
    queueMicrotask(flushWatches);
  }
}

/**
 * How many of {@link pendingNodes} wait for their entry in their root's node map as well
 * ({@link Flag.MAP_PENDING}): a field, read by `Context.nodes` on every use of the map.
 * @internal
 */
export const deferredMap = { count: 0 };

/**
 * Make the node-map entries that wait in the pending list (their registration still waits):
 * `Context.nodes` calls this before anyone reads a map, so the map is complete for every reader
 * but the hot paths that know a deferred node by its flag.
 * @internal
 */
export function flushDeferredMap(): void {
  // from the end, the newest first, until all are found: a root that makes a node between reads
  // of a map costs a few entries a read, not the list
  for (let i = pendingNodes.length - 1; i >= 0 && deferredMap.count > 0; i--) {
    const n = pendingNodes[i]!;
    if ((n.flags & Flag.MAP_PENDING) !== 0) enterMap(n);
  }
  deferredMap.count = 0;
}

/**
 * New root node `n` (of an unkeyed top-level handle, which `watchSoon` holds until the end of the
 * job) waits for its node-map entry as well. With {@link enterMap} and {@link dropMapEntry}, the
 * one place that sets {@link Flag.MAP_PENDING} and counts it in {@link deferredMap}.
 * @internal
 */
export function deferMapEntry(n: SpinNode): void {
  n.flags |= Flag.MAP_PENDING;
  deferredMap.count++;
}

/** Make the node-map entry root node `n` waited for ({@link deferMapEntry}). */
function enterMap(n: SpinNode): void {
  dropMapEntry(n);
  (n.ctx as Context)._nodes.set(n.id, n);
}

/** Root node `n` no longer waits for a node-map entry ({@link deferMapEntry}): made, or released first. */
function dropMapEntry(n: SpinNode): void {
  n.flags &= ~Flag.MAP_PENDING;
  deferredMap.count--;
}

/** How far from the end of the pending list a released node is looked for ({@link unwatchSoon}). */
const UNWATCH_REACH = 8;

/**
 * Root node `n`, registration pending, is released (detached) before the flush: it leaves the
 * pending list at once if it is among the last few entries (a node observed and stopped, a read
 * dropped in the same job), so the list does not hold it and its handle until the flush (in a
 * loop that never yields, the list holds up to 1024 nodes and handles past the young generation).
 * It keeps its handle, as the flush would have it do.
 */
function unwatchSoon(n: SpinNode): void {
  const last = pendingNodes.length - 1;
  for (let i = last; i >= 0 && i > last - UNWATCH_REACH; i--) {
    if (pendingNodes[i] !== n) continue;
    n.flags &= ~Flag.WATCH_PENDING;
    n.pinned ??= pendingHandles[i]!;
    if (i !== last) {
      // the last entry fills the hole (most often the node is the last one: no store, whose write
      // barrier into the old list is a slow path)
      pendingNodes[i] = pendingNodes[last]!;
      pendingHandles[i] = pendingHandles[last]!;
    }
    pendingNodes.pop();
    pendingHandles.pop();
    return;
  }
}

function flushWatches(): void {
  flushQueued = false;
  for (let i = 0; i < pendingNodes.length; i++) {
    const n = pendingNodes[i]!;
    n.flags &= ~Flag.WATCH_PENDING;
    if ((n.flags & Flag.MAP_PENDING) !== 0) enterMap(n);
    if ((n.flags & Flag.DETACHED) !== 0) {
      // released meanwhile: it lives on its handle, and keeps the handle for the registration its
      // next attach makes (an attach through an observer's log has no handle at hand)
      n.pinned ??= pendingHandles[i]!;
      continue;
    }
    n.flags |= Flag.WATCHED;
    watchHandle(pendingHandles[i]!, n.ctx as Context, n.id);
  }
  truncate(pendingNodes, 0);
  truncate(pendingHandles, 0);
  deferredMap.count = 0;
}

/**
 * Watch a signal handle: when it is collected, context `ctx` may drop its cell `id`. A handle is
 * registered once, by the first context that makes a cell for it; later contexts (a fork writing
 * it, another root) join that registration: a registration costs far more than the cell (it is
 * what the collector processes), and a fork's write would otherwise make a second one.
 * @internal
 */
export function watchSignal(handle: { _held: SignalWatch | null }, ctx: WeakRef<Context>, id: string): void {
  const watch = handle._held;
  if (watch === null) {
    const fresh = new SignalWatch(new SignalHeld(id, ctx));
    handle._held = fresh;
    signalRegistry.register(fresh, fresh.held);
    return;
  }
  const held = watch.held;
  if (held.ctx !== ctx) {
    const more = (held.more ??= []);
    if (!more.includes(ctx)) more.push(ctx);
  }
}

/**
 * Nothing needs the node: no run in flight, no observer, subscriber, pin, waiter or hold.
 * @internal
 */
export function quiescent(n: SpinNode): boolean {
  return (
    n.run === null &&
    !n.eager &&
    n.waiters === null &&
    n.holds <= 0 &&
    (n.observers === null || n.observers.size === 0)
  );
}

/** The handle of an unkeyed signal was collected: drop its cell unless something still tracks it. */
function reapCell(ctx: Context, id: string): void {
  const cell = ctx.cells.get(id);
  if (cell !== undefined && (cell.observers === null || cell.observers.size === 0)) {
    ctx.cells.delete(id);
    ctx._uncacheCell(cell);
  }
}

/** The handle of a spin was collected: drop its node now if quiescent, else when the context settles. */
function reapNode(ctx: Context, id: string): void {
  const n = ctx.nodes.get(id);
  if (n === undefined) return;
  if (quiescent(n)) dropNode(ctx, n);
  else ctx.orphans.add(id);
}

/**
 * Drop the nodes whose handles were collected while they were busy, now quiescent.
 * @internal
 */
export function sweepOrphans(ctx: Context): void {
  for (const id of ctx.orphans) {
    const n = ctx.nodes.get(id);
    if (n === undefined) ctx.orphans.delete(id);
    else if (quiescent(n)) {
      ctx.orphans.delete(id);
      dropNode(ctx, n);
    }
  }
}

function dropNode(ctx: Context, n: SpinNode): void {
  G.epoch++;
  // a released reader's log may still point at this node: a new version makes it re-run and
  // reach the spin through its handle again instead of trusting a node out of the map
  n.version = ++G.version;
  prune(n, n.log, []);
  ctx.nodes.delete(n.id);
  // the cleanups of its last run (a spin read, never observed, whose handle went): nothing would
  // reach them any more
  if (n.cleanups !== null) runCleanups(n);
}

/**
 * Fork `ctx` now owns nodes: register it with its ancestors, so disposing one of them reaches its runs.
 * @internal
 */
export function registerLive(ctx: Context): void {
  ctx.liveRegistered = true;
  const me = ctx.weak;
  for (let a = ctx.parent; a !== null; a = a.parent) {
    const forks = (a.liveForks ??= new Set());
    forks.add(me);
    if (forks.size >= a.liveSweepAt) sweepLive(a, forks);
  }
}

/**
 * Entries below which a context's {@link Context.liveForks} is never swept.
 * @internal
 */
export const LIVE_SWEEP_MIN = 1024;

/**
 * Drop the collected forks from `ctx`'s live forks (forks dropped without `dispose()` leave their
 * weak reference there): each sweep when the set holds twice the forks the last one left, so
 * sweeping costs O(1) per fork registered and the set stays within twice the live forks.
 */
function sweepLive(ctx: Context, forks: Set<WeakRef<Context>>): void {
  for (const ref of forks) if (ref.deref() === undefined) forks.delete(ref);
  ctx.liveSweepAt = Math.max(LIVE_SWEEP_MIN, 2 * forks.size);
}

/**
 * Fork `ctx` is disposed: its ancestors no longer count it among their live forks.
 * @internal
 */
export function unregisterLive(ctx: Context): void {
  const me = ctx.weak;
  for (let a = ctx.parent; a !== null; a = a.parent) a.liveForks?.delete(me);
}

/** Whether a fork below `ctx` owns nodes and is neither disposed nor collected (those are dropped). */
function hasLiveForks(ctx: Context): boolean {
  const forks = ctx.liveForks;
  if (forks === null) return false;
  for (const ref of forks) {
    if (ref.deref() !== undefined) return true;
    forks.delete(ref);
  }
  return false;
}

const NO_LOG: readonly Entry[] = [];

/**
 * How many released nodes a fork's newer table of kept nodes takes before it becomes the older
 * one, and the older one goes. A weak map's entries of collected keys leave it only in a full
 * collection: one table for every release of a loop that creates graphs grew to the loop's length
 * and cost a microsecond per release (create + dispose in a fork: 2.5× the root's instructions).
 * A table that lives long enough to leave the young generation costs every young collection its
 * entries, and keeps their nodes (with the handles and cells their logs read) until a full one:
 * with 1,024, create + dispose in a fork cost 87.8k whole-process instructions per operation under
 * `--predictable-gc-schedule` (33.8k under the default schedule), with 256 50.8k (28.3k), with 64
 * 47.1k (docs/performance.md, 2026-12-07, 15:00).
 */
const KEPT_GENERATION = 256;

/**
 * Fork `c` keeps its released node `m` by handle `h`, weakly both ways (see `Context.kept`), for
 * the next {@link KEPT_GENERATION} to 2×{@link KEPT_GENERATION} releases; the node keeps its handle
 * for the registration an attach through a reader's log makes.
 */
function keep(c: Context, m: SpinNode, h: Spin<unknown>): void {
  if (c.kept === null || c.keptCount >= KEPT_GENERATION) {
    c.keptOld = c.kept;
    c.kept = new WeakMap();
    c.keptCount = 0;
  }
  c.kept.set(h, m);
  c.keptCount++;
  h._kept = true;
  m.pinned = h;
}
/**
 * The work list of the release under way, kept between releases (one fewer array per release):
 * nodes found releasable while it runs are appended and released by its loop (no recursion per
 * layer). Entries past {@link releaseLen} are null: the list is emptied by nulling the entries it
 * used, not by shortening it (popping them cost 106 instructions a release in create + dispose).
 */
const releaseList: (SpinNode | null)[] = [];
/** The handles of {@link releaseList}'s nodes, at the same index (null: not known; only a root's). */
const releasingHandles: (object | null)[] = [];
/**
 * `len`: entries of {@link releaseList} in use; `active`: a release is under way (fields: a module
 * `let` is a load and a hole check at every use).
 */
const release = { len: 0, active: false };

/**
 * Release root node `n` if nothing in its context needs it: it leaves the node map and its
 * inputs' observer sets and lives on its handle only ({@link Flag.DETACHED}), so it goes with its
 * handle without waiting for a finalization callback; the inputs it was the last observer of are
 * released in turn. Called when its last observation stops and when the last node tracking it
 * stops doing so. Refused for a node that something may still reach through the map or that
 * holds state only the map keeps in force:
 * - not its handle's own slot ({@link Flag.ON_HANDLE}: keyed and nested spins, a second root's node);
 * - not quiescent (a run in flight, an observation, an observer node, a waiter, a hold), or
 *   waiting on an async input (Flag.CHECKING);
 * - cancelled (its cancellation ends with the next change of an input, which only a subscribed
 *   node sees) or holding cleanups (they run on its next run or on dispose, which reaches the
 *   nodes in the map);
 * - parent of nested spins (re-creating a child marks the child's node through the map);
 * - while a fork below the context owns nodes (a fork resolves the root's nodes through the map).
 * - in a fork, a node whose handle is not known (`handle` null: a log restored from a snapshot).
 * Tracking, observing or forking the handle attaches the node again (`Context.attach`).
 * @param handle the spin's handle (the entry's `src` of the reader that let go; the observed handle)
 * @internal
 */
export function releaseNode(ctx: Context, n: SpinNode, handle: object | null): void {
  if (
    (n.flags & (Flag.ON_HANDLE | Flag.DETACHED | Flag.CHECKING | Flag.CANCELLED)) !== Flag.ON_HANDLE ||
    (handle === null && ctx.parent !== null) ||
    n.children !== null ||
    n.cleanups !== null ||
    n.adopt !== null ||
    !quiescent(n) ||
    hasLiveForks(ctx)
  )
    return;
  const todo = releaseList;
  const handles = releasingHandles;
  if (release.active) {
    todo[release.len] = n;
    handles[release.len++] = handle;
    return;
  }
  // the node itself is released without entering the list: storing a new node into the old list
  // is a write barrier's slow path (68 instructions a release in create + dispose)
  release.active = true;
  let m = n;
  let h = handle;
  let i = 0;
  try {
    G.epoch++; // a fork's answers cached for this epoch may name the node
    for (;;) {
      const c = m.ctx as Context;
      let inMap: boolean;
      if ((m.flags & Flag.MAP_PENDING) !== 0) {
        // made in this job and never entered in the map: nothing to delete
        dropMapEntry(m);
        inMap = true;
      } else {
        inMap = c._nodes.get(m.id) === m;
        if (inMap) c._nodes.delete(m.id);
      }
      if (inMap) {
        // still attached while pruned: the inputs it was the last observer of are released too
        prune(m, m.log, NO_LOG);
        m.flags |= Flag.DETACHED;
        if ((m.flags & Flag.WATCH_PENDING) !== 0) unwatchSoon(m);
        if (c.parent !== null) keep(c, m, h as Spin<unknown>);
      }
      if (i === release.len) break;
      m = todo[i]!;
      h = handles[i] ?? null;
      todo[i] = null;
      handles[i++] = null;
    }
  } finally {
    // what a prune that threw left unreleased is let go of
    for (; i < release.len; i++) {
      todo[i] = null;
      handles[i] = null;
    }
    release.len = 0;
    release.active = false;
  }
}
