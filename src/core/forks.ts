/**
 * Fork resolution: which spin node serves a handle in a fork (its own copy, or an ancestor's that
 * is still valid here), how a fork's nodes subscribe to inherited sources, and how a write in a
 * fork reaches the fork's nodes that depend on it through inherited ones. Internal.
 * @module
 */
import type { Context } from "./context.js";
import { G } from "./globals.js";
import { isReady, markStale } from "./kernel/engine.js";
import { Flag } from "./kernel/flags.js";
import { installLog, Kind, kindOf, SpinNode, verifiedAt } from "./kernel/node.js";
import { Observers } from "./kernel/observers.js";
import { deferMapEntry, registerLive, watchHandle, watchSoon } from "./reaping.js";
import type { Spin, SpinBody } from "./spin.js";

/**
 * The nearest node with this id in `ctx` or its ancestors (nothing is created).
 * @internal
 */
export function findNode(ctx: Context, id: string, handle?: Spin<unknown>): SpinNode | undefined {
  for (let c: Context | null = ctx; c !== null; c = c.parent) {
    // a fork's map is complete (only a root's entries wait for the end of the job: `Context.nodes`)
    const n = (c.parent !== null ? c._nodes : c.nodes).get(id);
    if (n !== undefined) return n;
    if (handle !== undefined && c.parent !== null) {
      const kept = keptNode(c, handle);
      if (kept !== null) return kept;
    }
  }
  return undefined;
}

/**
 * The node fork `ctx` released (see `releaseNode`), attached again: found by its handle, it is
 * back in the fork's map and subscribed to its inputs. Null if there is none.
 */
function keptNode(ctx: Context, handle: Spin<unknown>): SpinNode | null {
  if (!handle._kept || ctx.kept === null) return null;
  const kept = ctx.kept.get(handle) ?? ctx.keptOld?.get(handle);
  if (kept === undefined || (kept.flags & Flag.DETACHED) === 0) return null;
  ctx.attach(kept, handle);
  return kept;
}

/**
 * Resolve the node of spin `id` (and its handle, when known) in `ctx`: its own; else, unless `own`,
 * an ancestor's that can serve here unchanged; else a new node of `ctx` — a copy of the ancestor's
 * (cached result, log, the in-flight log to adopt) or a fresh one. Undefined when there is neither
 * a handle nor an ancestor's node to make one from.
 * @internal
 */
export function resolveNode(
  ctx: Context,
  id: string,
  handle: Spin<unknown> | undefined,
  own: boolean,
): SpinNode | undefined {
  // a fork's map is complete: only a root's entries wait for the end of the job (`Context.nodes`)
  const mine =
    ctx.parent !== null
      ? ctx._nodes.get(id)
      : handle !== undefined
        ? rootNodeOf(ctx, id, handle)
        : ctx.nodes.get(id);
  if (mine !== undefined) {
    if (mine.body === null && handle !== undefined) mine.body = handle.body as SpinBody<unknown>;
    return mine;
  }
  if (handle !== undefined && ctx.parent !== null) {
    const kept = keptNode(ctx, handle);
    if (kept !== null) return kept;
  }
  if (!own) {
    // an ancestor's node found servable at this epoch stays servable until the epoch moves:
    // without this, resolving a deep graph re-checks every shared input once per path
    if (ctx.inhEpoch === G.epoch) {
      const hit = ctx.inhCache?.get(id);
      if (hit !== undefined) return hit;
    } else {
      ctx.inhEpoch = G.epoch;
      ctx.inhCache?.clear();
    }
  }
  let inh = ctx.parent === null ? undefined : findNode(ctx.parent, id, handle);
  if (inh === undefined && handle !== undefined && handle._ctx !== null && handle._ctx !== ctx) {
    // a detached node of an ancestor root: attach it there so the fork can inherit it
    const hn = handle._node!;
    if ((hn.flags & Flag.DETACHED) !== 0 && hasAncestor(ctx, handle._ctx)) {
      handle._ctx.attach(hn, handle);
      inh = hn;
    }
  }
  if (inh !== undefined && !own && inheritable(ctx, inh)) {
    (ctx.inhCache ??= new Map()).set(id, inh);
    return inh;
  }
  const h = handle;
  if (h === undefined && inh === undefined) return undefined;
  const n = new SpinNode(
    id,
    ctx,
    (inh?.body ?? h?.body ?? null) as SpinBody<unknown> | null,
    inh?.equals ?? (h?.equals as (a: unknown, b: unknown) => boolean) ?? Object.is,
    inh !== undefined ? inh.deps : h?.deps,
    inh?.name ?? h?.name,
  );
  if (inh !== undefined) {
    n.status = inh.status;
    n.result = inh.result;
    n.version = inh.version;
    installLog(n, inh.log, false);
    inh.logMine = false; // shared with the fork: neither may write into it again
    // and its next run not lean (a lean commit takes the log it replaces for its own), nor the
    // copy's, which has no spare run yet
    inh.flags &= ~Flag.LEAN;
    n.flags =
      (inh.flags &
        ~(Flag.QUEUED | Flag.CHECKING | Flag.ON_HANDLE | Flag.WATCHED | Flag.WATCH_PENDING | Flag.LEAN_LOG)) |
      Flag.STALE;
    if (inh.children !== null) n.children = new Map(inh.children);
    if (inh.run !== null) {
      n.adopt = inh.run.log.slice();
      inh.run.shared = true; // the entries are shared with the fork
      inh.run.rare = true;
    } else if (inh.adopt !== null) n.adopt = inh.adopt;
    for (const e of n.log) resubscribe(ctx, kindOf(e), e.id, n);
  }
  // a root's new node of an unkeyed top-level handle enters the map at the end of the job, unless
  // released before (see `Context.nodes`)
  const defer = ctx.parent === null && h !== undefined && h._ctx === null && !h.keyed && !h._nested;
  if (defer) deferMapEntry(n);
  else ctx._nodes.set(id, n);
  if (ctx.parent !== null && !ctx.liveRegistered) registerLive(ctx);
  const ext = ctx.extSpin?.get(id);
  if (ext !== undefined) {
    n.observers = ext;
    ctx.extSpin!.delete(id);
  }
  if (h !== undefined) {
    if (ctx.parent === null && h._ctx === null) {
      h._ctx = ctx;
      h._node = n;
      // found from its handle without the map: the root may release it once nothing needs it
      if (!h.keyed && !h._nested) n.flags |= Flag.ON_HANDLE;
    } else if (ctx.parent !== null && !h.keyed && !h._nested) {
      // the fork may release the node once nothing needs it (it keeps it by its handle, weakly)
      n.flags |= Flag.ON_HANDLE;
    }
    if ((n.flags & Flag.ON_HANDLE) !== 0) watchSoon(n, h);
    else {
      watchHandle(h, ctx, id);
      n.flags |= Flag.WATCHED;
    }
  }
  return n;
}

/**
 * Root `ctx`'s node of `handle` (id `id`), if it has one. A node waiting for its map entry is on its
 * handle (Flag.MAP_PENDING), so the map read here need not be completed (see `Context.nodes`); and an
 * unkeyed top-level handle no root took yet has no node in a root that holds no restored nodes (a
 * node enters a root's map by id only from a snapshot): no lookup, whose first use of a new id
 * hashes the string (create + dispose: ~190 instructions a spin).
 */
function rootNodeOf(ctx: Context, id: string, handle: Spin<unknown>): SpinNode | undefined {
  if (handle._ctx === ctx) {
    const n = handle._node!;
    if ((n.flags & Flag.MAP_PENDING) !== 0) return n;
  } else if (handle._ctx === null && !handle.keyed && !handle._nested && !ctx.foreignNodes) return undefined;
  return ctx._nodes.get(id);
}

function hasAncestor(ctx: Context, c: Context): boolean {
  for (let a = ctx.parent; a !== null; a = a.parent) if (a === c) return true;
  return false;
}

/**
 * Subscribe `observer`, a node of `ctx`, to source `id` as it is visible in `ctx`: the context's own
 * cell or node, else (in a fork) the inherited one, through the fork's external observer maps.
 * @internal
 */
export function resubscribe(ctx: Context, kind: Kind, id: string, observer: SpinNode): void {
  if (kind === Kind.Signal) {
    const cell = ctx.cells.get(id);
    if (cell !== undefined) (cell.observers ??= new Observers()).add(observer);
    else if (ctx.parent !== null) addExt((ctx.extSig ??= new Map()), id, observer);
  } else if (kind === Kind.Spin) {
    const n = ctx.nodes.get(id);
    if (n !== undefined) (n.observers ??= new Observers()).add(observer);
    else if (ctx.parent !== null) addExt((ctx.extSpin ??= new Map()), id, observer);
  }
}

/**
 * Whether an ancestor's node can serve this fork: ready and up to date where it lives, and every
 * input has the same version here. A fork's node is up to date only once verified at the current
 * epoch (an ancestor's change is not marked in a fork): one not verified since would be refreshed
 * in its own fork by the reader, and could re-run there on a change this fork does not see (this
 * fork's own cell of the same signal); this fork takes a copy of it instead and verifies that here.
 */
function inheritable(ctx: Context, n: SpinNode): boolean {
  return (
    isReady(n) &&
    ((n.ctx.parent === null && (n.flags & Flag.DETACHED) === 0) ||
      (n.flags & Flag.CANCELLED) !== 0 ||
      verifiedAt(n, G.epoch)) &&
    inputsAsRead(ctx, n)
  );
}

/**
 * Whether every input of `n`'s log has, as seen from `ctx`, the version the log read (signals by
 * their visible cell, spins by the node serving them there).
 * @internal
 */
export function inputsAsRead(ctx: Context, n: SpinNode): boolean {
  for (const e of n.log) {
    const kind = kindOf(e);
    if (kind === Kind.Signal) {
      if (ctx._versionOf(e.id) !== e.version) return false;
    } else if (kind === Kind.Spin) {
      // with the entry's handle: a copy made here is released and reaped by it
      const c = resolveNode(ctx, e.id, (e.src as Spin<unknown> | null) ?? undefined, false);
      if (c === undefined || !isReady(c) || c.version !== e.version) return false;
    }
  }
  return true;
}

/**
 * A write in fork `ctx` to signal `sigId`: mark stale the fork's nodes that depend on it through
 * inherited nodes (which the write does not reach: they observe the ancestor's cell), then drain.
 * @internal
 */
export function invalidateInherited(ctx: Context, sigId: string): void {
  const extSpin = ctx.extSpin;
  if (extSpin === null || extSpin.size === 0) return;
  const seen = new Set<string>();
  const todo: [Kind, string][] = [[Kind.Signal, sigId]];
  while (todo.length > 0) {
    const [kind, id] = todo.pop()!;
    for (let a = ctx.parent; a !== null; a = a.parent) {
      const obs =
        kind === Kind.Signal
          ? (a.cells.get(id)?.observers ?? a.extSig?.get(id))
          : (a.nodes.get(id)?.observers ?? a.extSpin?.get(id));
      if (obs === undefined || obs === null) continue;
      for (const o of obs) {
        if (seen.has(o.id) || ctx.nodes.has(o.id)) continue;
        seen.add(o.id);
        const mine = extSpin.get(o.id);
        if (mine !== undefined) for (const m of mine) markStale(m);
        todo.push([Kind.Spin, o.id]);
      }
    }
  }
  ctx._drainSoon();
}

/**
 * Add `n` to the observers of source `id` in a fork's map of observers of inherited sources.
 * @internal
 */
export function addExt(map: Map<string, Observers>, id: string, n: SpinNode): void {
  let set = map.get(id);
  if (set === undefined) map.set(id, (set = new Observers()));
  set.add(n);
}

/**
 * Remove `n` from the observers of source `id` in a fork's map of observers of inherited sources;
 * the source's entry goes with its last observer.
 * @internal
 */
export function removeExt(map: Map<string, Observers>, id: string, n: SpinNode): void {
  const set = map.get(id);
  if (set?.delete(n) && set.size === 0) map.delete(id);
}
