/**
 * The propagation engine: freshness checks (finding the point of change in a run's effect log),
 * starting and superseding runs, committing results, staleness marking and cancellation. Internal.
 * @module
 */

import type { Cell } from "./cell.js";
import { ABANDONED, CANCEL_REASON, Cancelled, SpindelError, SUPERSEDE_REASON } from "./errors.js";
import { Flag } from "./flags.js";
import { G, nextVersion } from "./globals.js";
import type { KernelHost } from "./host.js";
import {
  Bits,
  type Entry,
  emptyList,
  installLog,
  isReady,
  Kind,
  Spare,
  type SpinNode,
  type Subscriber,
  whenReady,
} from "./node.js";
import { checkWaitsOn, Run } from "./run.js";
import type { SpinHandle } from "./spin-handle.js";

/** What a log walk can answer besides an ordinal. */
// biome-ignore lint/suspicious/noConstEnum: inlined by tsc and esbuild (a module constant is a variable in an esbuild bundle)
const enum Check {
  /** An async dependency has to settle first. */
  WAITING = -2,
}

/**
 * `Object.is`, written out: the engine's `Object.is` on values of unknown type is a builtin call on
 * every commit and every write, this is a few compares.
 */
export function objectIs(a: unknown, b: unknown): boolean {
  if (a === b) return a !== 0 || 1 / (a as number) === 1 / (b as number);
  // only NaN differs from itself: one compare where `Number.isNaN` needs type checks first
  // biome-ignore lint/suspicious/noSelfCompare: the NaN test
  return a !== a && b !== b;
}

/** `Object.is`, looked up once (a global property load and a property load per use otherwise). */
const OBJECT_IS = Object.is;

/**
 * Counters for tests and diagnostics (how much work a read does; counts, not timings). Internal.
 * Only log walks are counted: a re-check storm is a storm of walks, and a counter on `refresh`
 * (two calls per node re-run) cost up to 2 % of a re-run.
 */
export const stats = {
  get checks(): number {
    return G.checks;
  },
};

export { isReady, whenReady };

/** Deliver the result to waiters and subscribers if the node is ready. */
export function flushReady(n: SpinNode): void {
  // small enough to be inlined: most commits have nobody to tell, and an observed node's one
  // subscriber has mostly seen its version already (an effect's result is unchanged: a re-run of
  // an effect that returns nothing, a check that found nothing changed). `deliver` is a call
  // wherever V8 optimized the caller while deliveries were rare (one commit in 1,000 in chain
  // 1000, which the timed benchmark runs first in its one process: 70 instructions a call)
  if (n.waiters === null) {
    const subs = n.subs;
    if (subs === null || (subs.length === 1 && subs[0]!.seen === n.version)) return;
  }
  deliver(n);
}

/** Deliver to waiters and subscribers of `n` if it is ready (see {@link flushReady}). */
function deliver(n: SpinNode): void {
  if (!isReady(n)) return;
  const ws = n.waiters;
  if (ws !== null) {
    n.waiters = null;
    for (const w of ws) w(n);
  }
  const subs = n.subs;
  if (subs !== null) {
    if (subs.length === 1) tell(n, subs[0]!);
    else for (const s of subs.slice()) tell(n, s); // a callback may subscribe or leave
  }
}

/** Hand `n`'s result to one subscriber unless it has seen this version. */
function tell(n: SpinNode, s: Subscriber): void {
  if (s.seen === n.version) return;
  s.seen = n.version;
  try {
    if (n.status === 1) s.onValue?.(n.result);
    else if (s.onError !== undefined) s.onError(n.result);
    else n.ctx._report(n.label, n.result);
  } catch (err) {
    n.ctx._report(n.label, err);
  }
}

/** Run the drains deferred by a batch or by a body that was running synchronously. Internal (called by `batch` and after a body ran). */
export function flushPendingDrains(): void {
  if (G.pendingDrain.size === 0 || G.batchDepth > 0 || G.run !== null) return;
  const ctxs = [...G.pendingDrain];
  G.pendingDrain.clear();
  G.drainDeferred = false;
  for (const c of ctxs) c._drainSoon();
}

/**
 * Bring `n` up to date: if an input changed, start a run that replays the effect log up to the
 * point of change. Returns at once; callers check {@link isReady} or wait with {@link whenReady}.
 */
export function refresh(n: SpinNode): void {
  const flags0 = n.flags;
  if (
    (flags0 & (Flag.STALE | Flag.LEAN | Flag.DETACHED | Flag.CANCELLED | Flag.DIRTY | Flag.CHECKING)) ===
      (Flag.STALE | Flag.LEAN) &&
    n.run === null &&
    n.spare !== null
  ) {
    // the usual case first: a stale node whose spare run is lean, nothing in flight (the tests
    // below would reach the lean branch)
    n.flags = flags0 & ~Flag.STALE;
    leanRefresh(n, flags0);
    return;
  }
  if (
    (flags0 & (Flag.STALE | Flag.LEAN_LOG | Flag.DETACHED | Flag.CANCELLED | Flag.DIRTY | Flag.CHECKING)) ===
      (Flag.STALE | Flag.LEAN_LOG) &&
    n.run === null &&
    n.adopt === null
  ) {
    // a root's stale node whose log is lean-checkable but that keeps no spare (it has not re-run
    // since: a constant input upstream): the general path's steps for it are leanRefresh's
    n.flags = flags0 & ~Flag.STALE;
    leanRefresh(n, flags0);
    return;
  }
  const run = n.run;
  if (run !== null) {
    if ((n.flags & Flag.STALE) === 0 || (n.flags & Flag.CHECKING) !== 0) return;
    n.flags &= ~Flag.STALE;
    if ((n.flags & Flag.DIRTY) !== 0) {
      n.flags &= ~Flag.DIRTY;
      restart(n, run.log, 0);
      return;
    }
    const p = changePoint(n, run.log);
    if (p >= 0) restart(n, run.log, p);
    return;
  }
  const flags = n.flags;
  if ((flags & Flag.CHECKING) !== 0) return;
  // clean: in a root, staleness marking is exact; in a fork, an ancestor's change is not marked
  // here, so a clean node is re-verified once per epoch (not once per read). `$.track` skips the
  // call for a node this leaves as it is (the same test, written out there: a call cost 1 % of a
  // chain re-run; test/core/track-identity.test.ts fails if the two disagree on forks)
  if (
    n.status !== 0 &&
    (flags & Flag.STALE) === 0 &&
    ((flags & Flag.CANCELLED) !== 0 ||
      (n.ctx.parent === null && (flags & Flag.DETACHED) === 0) ||
      // (`verifiedAt`, written out: V8 guards a module function it inlines, see leanRefresh)
      n.checkedAt === G.epoch ||
      n.checkEpoch === G.epoch)
  )
    return;
  n.flags = flags & ~Flag.STALE;
  if ((flags & (Flag.LEAN | Flag.DETACHED | Flag.CANCELLED | Flag.DIRTY)) === Flag.LEAN && n.spare !== null) {
    leanRefresh(n, flags); // a fork's node re-verified at a new epoch
    return;
  }
  if (n.adopt !== null) {
    const log = n.adopt;
    n.adopt = null;
    const p = changePoint(n, log);
    if (p === Check.WAITING) {
      if (n.run !== null) {
        // a run of `n` started below its check (an await cycle through it, the run's reads
        // awaited `n`): that run serves, the check's wait is moot. Left checking, it was never
        // ready once the run committed, and what awaited it waited for ever
        n.flags &= ~Flag.CHECKING;
        return;
      }
      n.adopt = log;
      return;
    }
    startRun(n, log, p >= 0 ? p : firstUnsettled(log));
    return;
  }
  if (n.status === 0 || (flags & Flag.DIRTY) !== 0) {
    n.flags &= ~(Flag.DIRTY | Flag.CANCELLED);
    startRun(n, null, 0);
    return;
  }
  // a cancelled node only counts input changes made after its cancellation completed
  const epoch = G.epoch;
  // marked as checking (`SpinNode.checkEpoch`) and taken for verified while its log is checked: a
  // check that comes back to it (two spins whose logs read each other, as an await cycle's spins
  // read each other's errors) stops there instead of walking the two logs without end (a fork's
  // clean node is otherwise re-checked at a new epoch), and a run the check started that starts
  // reading it is on a cycle (`Run.checking`)
  n.checkEpoch = epoch;
  const p = changePoint(n, n.log, (flags & Flag.CANCELLED) !== 0 ? n.cancelVersion : 0);
  if (p === Check.WAITING) {
    if (n.run !== null) n.flags &= ~Flag.CHECKING; // a run started below the check (see above)
    return;
  }
  if (p < 0) {
    if ((n.flags & (Flag.STALE | Flag.CHECKING)) === 0) n.checkedAt = epoch;
    flushReady(n);
    return;
  }
  if ((flags & Flag.CANCELLED) !== 0) {
    n.flags &= ~Flag.CANCELLED;
    startRun(n, null, 0); // a cancelled computation starts over
    return;
  }
  startRun(n, n.log, p);
}

/**
 * {@link refresh} of a node whose spare run is lean (so it has a result, and no in-flight log to
 * adopt: both are set only with a run that keeps no spare), its `STALE` flag cleared (`flags`: as
 * they were): the general path's tests, in the order it would take them, written out for this case
 * alone (a fork's node checks its log as a fork's).
 */
function leanRefresh(n: SpinNode, flags: number): void {
  const epoch = G.epoch;
  n.checkEpoch = epoch; // checking (see refresh)
  let p = -1;
  if ((flags & Flag.LEAN_FORK) === 0) {
    // the lean log check of a root's node, written out here (its only caller; V8 guards every
    // module function it inlines with a load and compare of the function): every entry is a
    // settled read of a signal or a spin, referencing the root's cell or node, and a change at
    // any version counts (not cancelled). A fork's node: {@link forkLeanChangePoint}
    G.checks++;
    const log = n.log;
    for (let i = 0; i < log.length; i++) {
      const e = log[i]!;
      // an entry left pending (a read that threw before it settled, an ERR_CYCLE the body caught)
      // ends the check, as in the general one
      const bits = e.bits;
      if ((bits & Bits.SETTLED) === 0) break;
      if ((bits & Bits.KIND) === Kind.Signal) {
        if ((e.ref as Cell).version === e.version) continue;
        p = i;
        break;
      }
      const child = e.ref as SpinNode;
      if (child.body === null && needsRun(child)) {
        p = i;
        break;
      }
      refresh(child);
      // (`isReady`, written out)
      if (child.status === 0 || child.run !== null || (child.flags & (Flag.STALE | Flag.CHECKING)) !== 0) {
        n.flags |= Flag.CHECKING;
        recheckWhenReady(n, child, log);
        return; // Check.WAITING
      }
      if (child.version !== e.version) {
        p = i;
        break;
      }
    }
  } else {
    p = forkLeanChangePoint(n, n.log);
    if (p === Check.WAITING) return;
  }
  if (p >= 0) {
    // read again: the check may have run the node's drain
    const spare = n.spare;
    if (spare !== null && (n.flags & (Flag.LEAN | Flag.DETACHED)) === Flag.LEAN) leanRun(n, spare, p);
    else startRun(n, n.log, p);
    return;
  }
  if ((n.flags & (Flag.STALE | Flag.CHECKING)) === 0) n.checkedAt = epoch;
  flushReady(n);
}

function firstUnsettled(log: readonly Entry[]): number {
  for (let i = 0; i < log.length; i++) if ((log[i]!.bits & Bits.SETTLED) === 0) return i;
  return log.length;
}

/**
 * The first log entry whose source changed, -1 if none, or `Check.WAITING` when an async dependency has
 * to settle first (the node is then `CHECKING` and is refreshed again when it does).
 */
function changePoint(n: SpinNode, log: readonly Entry[], since = 0): number {
  G.checks++;
  const ctx = n.ctx;
  // the cells the entries reference are the visible ones in a root, and in a fork while no fork
  // has created a cell of its own since the log was recorded; a child node of the same context
  // stays its node while observed
  const refs = ctx.parent === null || (n.refGen === G.shadowGen && log === n.log);
  for (let i = 0; i < log.length; i++) {
    const e = log[i]!;
    const kind = e.bits & (Bits.KIND | Bits.SETTLED);
    if (kind < Bits.SETTLED) return -1; // pending
    if (kind === (Kind.Signal | Bits.SETTLED)) {
      const v = refs && e.ref !== null ? (e.ref as Cell).version : ctx._versionOf(e.id);
      if (v !== e.version && (since === 0 || v > since)) return i;
    } else if (kind === (Kind.Spin | Bits.SETTLED)) {
      const child = readNode(ctx, e);
      if (child === undefined) return i;
      if (child.ctx === ctx) {
        // restored without its body (an unkeyed spin's comes from its handle) and not up to date:
        // this node's run reaches it through the handle, which brings the body
        if (child.body === null && needsRun(child)) return i;
        refresh(child);
      }
      if (!isReady(child)) {
        n.flags |= Flag.CHECKING;
        recheckWhenReady(n, child, log);
        return Check.WAITING;
      }
      if (child.version !== e.version && (since === 0 || child.version > since)) return i;
    }
  }
  return -1;
}

/**
 * The lean log check (in {@link leanRefresh}) of a fork's node: a signal entry's cell is the visible one while no fork
 * has created a cell of its own since the node's last commit (`refGen`; else the general walk,
 * which looks the cells up), a spin entry's node is the one {@link readNode} finds (an ancestor's
 * is not refreshed here, as in {@link changePoint}).
 */
function forkLeanChangePoint(n: SpinNode, log: readonly Entry[]): number {
  if (n.refGen !== G.shadowGen) return changePoint(n, log);
  G.checks++;
  const ctx = n.ctx;
  for (let i = 0; i < log.length; i++) {
    const e = log[i]!;
    const bits = e.bits;
    if ((bits & Bits.SETTLED) === 0) return -1; // a pending entry ends the check (see leanRefresh)
    if ((bits & Bits.KIND) === Kind.Signal) {
      if ((e.ref as Cell).version !== e.version) return i;
      continue;
    }
    const child = readNode(ctx, e);
    if (child === undefined) return i;
    if (child.ctx === ctx) {
      if (child.body === null && needsRun(child)) return i;
      refresh(child);
    }
    if (!isReady(child)) {
      n.flags |= Flag.CHECKING;
      recheckWhenReady(n, child, log);
      return Check.WAITING;
    }
    if (child.version !== e.version) return i;
  }
  return -1;
}

/** {@link recheckWhenReady}'s re-run of `n` from its committed log's entry for `child`. */
function rerunAt(n: SpinNode, child: SpinNode): void {
  if ((n.flags & Flag.CANCELLED) !== 0) {
    n.flags &= ~Flag.CANCELLED;
    startRun(n, null, 0); // a cancelled computation starts over (see `refresh`)
    return;
  }
  const log = n.log;
  startRun(n, log, entryOf(n, log, child));
}

/** The ordinal of the first entry of `n`'s `log` that reads `child` (the log's length if none). */
function entryOf(n: SpinNode, log: readonly Entry[], child: SpinNode): number {
  const ctx = n.ctx;
  let i = 0;
  while (i < log.length && !((log[i]!.bits & Bits.KIND) === Kind.Spin && readNode(ctx, log[i]!) === child))
    i++;
  return i;
}

/** Whether `run`'s body is executing synchronously, on the stack below the current one (or is it). */
function onStack(run: Run): boolean {
  for (let r = G.run; r !== null; r = r.outer) if (r === run) return true;
  return false;
}

/**
 * `n` waits for `child` to be ready, then checks its log again. (A helper: a closure in
 * `changePoint` would make every call of it allocate a context for `n`.)
 *
 * Unless `child`'s body runs below this check, synchronously (a cycle formed across runs: that
 * body reads `n`, whose committed `log` reads `child`): that body cannot settle before the check
 * must answer. `n` re-runs then, from `child`'s entry, as if it had changed, and its read of
 * `child` fails with `ERR_CYCLE` in its body, which may catch it (as when the cycle forms within
 * one run); the check answers `Check.WAITING` all the same, with `n` settled. Waiting instead
 * left `n` checking, and the body that read it got `ERR_NOT_SETTLED` ("its body is async") for a
 * synchronous spin. (Decided here, on this rare path: the loops of the checks measured 2
 * instructions more per call with any other code in their branch.)
 */
function recheckWhenReady(n: SpinNode, child: SpinNode, log: readonly Entry[]): void {
  const run = child.run;
  if (run !== null && log === n.log && n.run === null && onStack(run)) {
    n.flags &= ~Flag.CHECKING;
    rerunAt(n, child);
    return;
  }
  if (n.run === null && passAbandoned(n, child, log)) return;
  if (
    run === null &&
    log === n.log &&
    n.run === null &&
    (child.flags & Flag.CHECKING) !== 0 &&
    checkWaitsOn(child) === n
  ) {
    // two checks waiting on each other (an await cycle formed across runs, in a fork whose commit
    // re-checks what the run read): `n` re-runs from `child`'s entry, and its await of `child`,
    // checking on `n`, fails with `ERR_CYCLE` (see `Run.checkCycle`)
    n.flags &= ~Flag.CHECKING;
    rerunAt(n, child);
    return;
  }
  whenReady(child, () => {
    n.flags = (n.flags & ~Flag.CHECKING) | Flag.STALE;
    refresh(n);
  });
}

/**
 * {@link recheckWhenReady} of a check stopped by `child`, which has not settled, at an entry of
 * `n`'s committed `log` whose wait the body abandoned ({@link ABANDONED}: the losing `$.await` of a
 * `Promise.race`): the node does not wait for a spin its last run no longer waited on. The check
 * goes on past the entry: `n` re-runs from the first later entry that changed (the abandoned wait
 * waits again, live), stays as it is if none did, or waits on a later entry. Returns false for
 * any other entry. (A spin's abandoned entry keeps the version the spin had at the finish: once
 * the spin commits another result, a check meets it ready and re-runs `n` from there.)
 */
function passAbandoned(n: SpinNode, child: SpinNode, log: readonly Entry[]): boolean {
  const i = entryOf(n, log, child);
  if (i === log.length || log[i]!.value !== ABANDONED) return false;
  // (the committed log's entry: an adopted log is another run's)
  const from = n.log.indexOf(log[i]!);
  if (from < 0) return false;
  n.flags &= ~Flag.CHECKING;
  const rest = n.log.slice(from + 1);
  const q = changePoint(n, rest);
  if (q === Check.WAITING) return true; // waits on a later entry's spin (or went on past it)
  if (q < 0) {
    if (n.checkEpoch === G.epoch) n.checkedAt = G.epoch; // verified: no longer checking
    flushReady(n);
    return true;
  }
  const at = n.log.indexOf(rest[q]!);
  if ((n.flags & Flag.CANCELLED) !== 0) {
    n.flags &= ~Flag.CANCELLED;
    startRun(n, null, 0); // a cancelled computation starts over (see `refresh`)
  } else if (at >= 0) startRun(n, n.log, at);
  else startRun(n, null, 0);
  return true;
}

/**
 * The node serving spin entry `e` of a log in `ctx`: the node it references when that is one of
 * `ctx` (a child of the same context stays its node while observed), else looked up by id.
 */
function readNode(ctx: KernelHost, e: Entry): SpinNode | undefined {
  const ref = e.ref as SpinNode | null;
  return ref !== null && ref.ctx === ctx
    ? ref
    : ctx._node(e.id, (e.src as SpinHandle | null) ?? undefined, false);
}

/** Whether `n` has no valid result to offer as it is (no result, stale, or a run to resume). */
function needsRun(n: SpinNode): boolean {
  return n.status === 0 || (n.flags & (Flag.STALE | Flag.DIRTY)) !== 0 || n.adopt !== null;
}

/** Supersede the run in flight and start a new one replaying `[0, p)` of its log. */
function restart(n: SpinNode, log: Entry[], p: number): void {
  const old = n.run!;
  n.run = null;
  releaseChildren(old.kill(SUPERSEDE_REASON, p));
  if (hasCleanups(old) || n.cleanups !== null) runCleanups(n, old);
  startRun(n, log, p);
}

/** Whether `run` registered cleanups with `$.onCleanup`. */
function hasCleanups(run: Run): boolean {
  return run.more !== null && run.more.cleanups !== null;
}

function releaseChildren(children: SpinNode[]): void {
  for (const c of children) c.holds--;
}

/**
 * Run the cleanups registered with `$.onCleanup` by the node's last committed run (and by a run
 * being killed, when given). A throwing cleanup is reported, the others still run.
 */
export function runCleanups(n: SpinNode, killed?: Run): void {
  const own = n.cleanups;
  n.cleanups = null;
  const more = killed !== undefined ? killed.more : null;
  const fromRun = more !== null ? more.cleanups : null;
  if (more !== null) more.cleanups = null;
  for (const list of [fromRun, own]) {
    if (list === null) continue;
    for (let i = list.length - 1; i >= 0; i--) {
      try {
        list[i]!();
      } catch (err) {
        n.ctx._report(`cleanup of ${n.label}`, err);
      }
    }
  }
}

/**
 * Settle `n` with `error` (a cycle found by the drain, or an await cycle): the run in flight is
 * killed, waiters and observers see the error as the node's result.
 */
export function failNode(n: SpinNode, error: unknown): void {
  G.epoch++;
  const run = n.run;
  n.run = null;
  if (run !== null) {
    prune(n, n.log, run.log);
    installLog(n, run.log, false); // a killed run's log is not reused
    releaseChildren(run.kill(CANCEL_REASON, 0));
    runCleanups(n, run);
  }
  n.flags &= ~(Flag.STALE | Flag.CHECKING | Flag.DIRTY);
  n.adopt = null;
  n.status = 2;
  n.result = error;
  n.version = nextVersion();
  const obs = n.observers;
  if (obs !== null) for (const o of obs) markStale(o);
  flushReady(n);
}

/**
 * Repair what a stack overflow left (see `G.stuck`, set where a refresh threw in `$.track` or
 * `$.await`): a run the overflow left without an end (it landed between the start and the
 * commit: on the call of the commit, or of the code that restores the running run), a
 * synchronous run whose body no longer executes, is dropped: the node has no run and re-runs
 * from scratch when next read (DIRTY). So are such runs of the spins it read (the overflow left
 * them where the stack had no room for this repair). Left as they were, the nodes kept a run that
 * never ended: no write re-ran them, a read threw `ERR_NOT_SETTLED`. An async run in flight (busy,
 * or parked on a wait) and a body executing on the stack stand. Called by `ctx.read` and
 * `ctx.observe` once their refresh returned (a test of `G.stuck`); not by the drain, whose loop
 * measured +10 optimized instructions per operation of the diamond bench with the test (a run an
 * overflow leaves in a drain is dropped at the next read or observe).
 */
export function dropStuck(): void {
  const first = G.stuck;
  G.stuck = null;
  if (first === null) return;
  const todo = [first];
  for (let c = todo.pop(); c !== undefined; c = todo.pop()) {
    const r = c.run;
    if (r === null || r.busy || r.dead !== null || r.parked) continue;
    if (G.run === r) {
      // the overflow left it as the running run (see `startRun`)
      G.run = r.outer;
      r.outer = null;
    }
    if (onStack(r)) continue;
    r.dead = SUPERSEDE_REASON;
    c.run = null;
    if (c.spare === r) c.spare = null; // a lean run keeps it (see leanRun)
    c.flags |= Flag.DIRTY | Flag.STALE;
    for (const e of r.log)
      if ((e.bits & Bits.KIND) === Kind.Spin && e.ref !== null) todo.push(e.ref as SpinNode);
  }
}

/** Start a run of `n`, replaying `replay[0, p)`. */
export function startRun(n: SpinNode, replay: Entry[] | null, p: number): void {
  if (n.cleanups !== null) runCleanups(n);
  const ctx = n.ctx;
  const body = n.body;
  // a node that re-runs synchronously reuses its last run object and the log array before last
  let run = n.spare;
  if (run !== null) {
    n.spare = null;
    run.reset(replay, p, n.spareLog);
    n.spareLog = null;
  } else run = new Run(n, ctx, replay, p, refresh);
  n.run = run;
  // no busy bookkeeping while the body runs synchronously: nothing can observe it; an async
  // body counts as busy from the moment it returns a promise until it parks or settles
  if (body === null) {
    finish(
      run,
      false,
      new SpindelError(
        "ERR_NO_BODY",
        `spin ${n.label} was restored without its body: create its handle first`,
      ),
    );
    return;
  }
  const prevRun = G.run;
  const prevCur = G.current;
  G.run = run;
  if (prevRun !== null) run.outer = prevRun; // null once the body returned
  G.current = run.context;
  let out: unknown;
  try {
    out = body(run);
  } catch (err) {
    G.run = prevRun;
    if (prevRun !== null) run.outer = null;
    G.current = prevCur;
    finish(run, false, err);
    if (prevRun === null) flushPendingDrains();
    return;
  }
  // the usual run is the outermost one, from a drain or a read outside every context (both null):
  // the constant null is stored without the write barrier a variable needs (8 instructions each)
  if (prevRun === null) G.run = null;
  else {
    G.run = prevRun;
    run.outer = null;
  }
  if (prevCur === null) G.current = null;
  else G.current = prevCur;
  if (prevRun === null && G.drainDeferred === true) flushPendingDrains();
  if (out !== null && typeof out === "object" && typeof (out as PromiseLike<unknown>).then === "function") {
    if (!run.busy && !run.parked && run.dead === null && n.run === run) {
      run.moreOf().busy = true;
      ctx._busy(1);
    }
    finishWhenSettled(run, out as PromiseLike<unknown>);
  } else if (
    run.dead === null &&
    n.run === run &&
    (run.more === null || (run.more.parks === null && run.more.onSettled === null))
  ) {
    // the common end of a run, written out: a synchronous body's result committed with nothing
    // else for `finish` to do (no pending wait to drop, nobody to tell that the body settled; a
    // run counts as busy only once it waited, which leaves `parks` set, or was killed)
    commit(n, run, true, out);
    // committed, and nothing of it was handed out: the next run of a node that keeps re-running
    // may reuse it
    if (
      run.keep === true &&
      n.run === null &&
      n.log === run.buf &&
      (run.more === null || run.more.ac === null)
    )
      keepSpare(n, run);
  } else finish(run, true, out);
}

/** Keep `run`, committed and handed out nowhere, as `n`'s spare; tell whether its next run may be lean. */
function keepSpare(n: SpinNode, run: Run): void {
  run.release();
  n.spare = run;
  if (run.once === false && run.ordinal === 0 && n.cleanups === null && n.body !== null) {
    n.flags = n.ctx.parent === null ? n.flags | Flag.LEAN : n.flags | Flag.LEAN | Flag.LEAN_FORK;
    // a lean spare holds the storage of its next run itself (`Run.buf`, the committed log until
    // now): the lean re-run writes into it without storing it, and its commit hands the log it
    // replaces to the run, not to `n.spareLog` (one write barrier a re-run less). `n.spareLog`
    // stays null while the spare is lean: a general run started from it gets a new array
    const spareLog = n.spareLog;
    n.spareLog = null;
    run.buf = spareLog !== null ? spareLog : emptyList();
  } else n.flags &= ~Flag.LEAN;
}

/**
 * The lean re-run: {@link startRun} of a root's or a fork's node from a clean check, with its spare run from a
 * run that had nothing for the general engine to do (`Flag.LEAN`: synchronous, no write, no
 * one-shot wait, no nested spin, no cleanup, a body). What the body does this time is not known
 * in advance: every branch a run that leaves that shape needs is the general one's (an error, a
 * promise, a kill, a write).
 *
 * The lean commit at its end is {@link commit} of a lean run's result, written out (a fork's
 * node's `refGen` and re-check in {@link leanCommitStale}, behind the flags test a root's node takes
 * anyway): its last log its own and past {@link Spare.AFTER_COMMITS} commits (it had a spare),
 * this run's own, and nothing of the general commit's rare branches (no write or one-shot wait to
 * mark consumed, no unsettled read, no cleanup, no fork sharing the log, no abort signal: it
 * checks `Run.rare`; a fork that took the node's committed log between runs cleared `Flag.LEAN`).
 * Reads that differ from the last run's are pruned as the general commit does. The run becomes
 * the node's spare again there. (A function of its own, it was not always inlined here: V8 skips
 * a callee whose own optimized code already inlined much, and in fan-out 1->1000 it was called,
 * 4.5 % of the operation.)
 *
 * The call of the body is {@link startRun}'s, written out again on purpose: with the lean reset and
 * commit as branches of `startRun` instead, a chain re-run measured 1,058,560 optimized instructions
 * per operation against 907,915 this way (V8 inlines the two differently; the general engine's was
 * 1,091,635), so the lean path gained nothing.
 */
function leanRun(n: SpinNode, run: Run, p: number): void {
  // `n.spare` stays `run` while it runs, so the lean commit stores neither it nor a null before
  // (a write barrier each, about 11 instructions a re-run): no run is started from the spare of a
  // node whose run is in flight (`refresh` tests `n.run`), a kill of the run drops it
  // (`Run.kill`, `dropStuck`), and every other end below drops it before the general engine
  // decides whether to keep the run. The run's storage is its own `buf` (see `keepSpare`)
  run.resetLean(n.log, p);
  n.run = run;
  const body = n.body!;
  const prevRun = G.run;
  const prevCur = G.current;
  G.run = run;
  if (prevRun !== null) run.outer = prevRun;
  G.current = run.context;
  let out: unknown;
  try {
    out = body(run);
  } catch (err) {
    G.run = prevRun;
    if (prevRun !== null) run.outer = null;
    G.current = prevCur;
    if (n.spare === run) n.spare = null;
    finish(run, false, err);
    if (prevRun === null) flushPendingDrains();
    return;
  }
  // (the stores of null: see startRun; written out here as there: a shared helper, inlined into
  // both, measured root diamond 3,611 -> 3,627, chain 732,402 -> 737,200 and fan-out
  // 1,562,050 -> 1,570,709 optimized instructions an operation)
  if (prevRun === null) G.run = null;
  else {
    G.run = prevRun;
    run.outer = null;
  }
  if (prevCur === null) G.current = null;
  else G.current = prevCur;
  if (prevRun === null && G.drainDeferred === true) flushPendingDrains();
  // nothing rare happened (see `Run.rare`: no kill, wait, write, cleanup, nested spin, unsettled
  // read, fork taking the log, abort signal or settle hook; the run is still the node's, as only a
  // kill replaces it) and the result is not a promise
  if (
    run.rare === false &&
    (typeof out !== "object" || out === null || typeof (out as PromiseLike<unknown>).then !== "function")
  ) {
    // the lean commit, written out here (see the function's comment)
    const log = run.log;
    n.run = null;
    const old = n.log;
    if (run.same !== log.length || old.length !== log.length) prune(n, old, log);
    n.commits++;
    // the log replaced is the storage of the next lean run (see `keepSpare`)
    run.buf = old;
    n.log = log;
    const epoch = run.epoch;
    // committed, handed out nowhere (no abort signal: see `Run.rare`) and the log its own: the
    // spare of the next run (`n.spare` still, not killed: see above), released before any of the
    // user's code runs (an `equals`, a subscriber) can start that run; the flag stands
    run.release();
    // `resultChanged`, `objectIs` and `nextVersion` written out: V8 guards every
    // module function it inlines with a load and compare of the function (3 instructions each)
    const eq = n.equals;
    const prev = n.result;
    if (
      n.status !== 1 ||
      (eq === OBJECT_IS
        ? prev === out
          ? prev === 0 && 1 / (prev as number) !== 1 / (out as number)
          : // biome-ignore lint/suspicious/noSelfCompare: not both NaN
            prev === prev || out === out
        : !userEquals(eq, prev, out))
    ) {
      n.status = 1;
      n.result = out;
      n.version = ++G.version;
    }
    if ((n.flags & (Flag.STALE | Flag.LEAN_FORK)) !== 0 && leanCommitStale(n, run, epoch)) return;
    n.checkedAt = epoch;
    flushReady(n);
    return;
  }
  if (n.spare === run) n.spare = null; // the general engine decides (see above)
  if (out !== null && typeof out === "object" && typeof (out as PromiseLike<unknown>).then === "function") {
    if (!run.busy && !run.parked && run.dead === null && n.run === run) {
      run.moreOf().busy = true;
      n.ctx._busy(1);
    }
    finishWhenSettled(run, out as PromiseLike<unknown>);
  } else if (
    run.dead === null &&
    n.run === run &&
    (run.more === null || (run.more.parks === null && run.more.onSettled === null))
  ) {
    commit(n, run, true, out);
    if (
      run.keep === true &&
      n.run === null &&
      n.log === run.buf &&
      (run.more === null || run.more.ac === null)
    )
      keepSpare(n, run);
  } else finish(run, true, out);
}

/**
 * The end of the lean commit (in {@link leanRun}) for a node marked stale during its run or a
 * fork's node: as in {@link commit}, a fork's node records whether its entries reference the
 * visible cells (`refGen`) and, when something changed during the run, re-checks its reads (an
 * ancestor's write marks nothing in a fork) before anyone is handed its result. Returns whether the
 * node is stale (re-checked through its drain if someone needs it); else the caller hands the
 * result out, as for a root's node (a fork's node no longer calls a `flushReady` of its own here:
 * it was not inlined, 55 instructions a commit in fan-out).
 */
function leanCommitStale(n: SpinNode, run: Run, epoch: number): boolean {
  const fork = (n.flags & Flag.LEAN_FORK) !== 0;
  if (fork) n.refGen = run.shadowGen === G.shadowGen ? run.shadowGen : 0;
  if ((n.flags & Flag.STALE) !== 0) {
    staleAfterRun(n);
    return true;
  }
  if (fork && epoch !== G.epoch && readsChanged(n)) {
    n.flags |= Flag.STALE;
    staleAfterRun(n);
    return true;
  }
  return false;
}

/**
 * The body of `run` returned `out`, a promise: finish the run when it settles. (A helper: the
 * closures in `startRun` would make every run, synchronous ones too, allocate a context for `run`.)
 */
function finishWhenSettled(run: Run, out: PromiseLike<unknown>): void {
  out.then(
    (v) => {
      G.epoch++;
      finish(run, true, v);
    },
    (err) => {
      G.epoch++;
      finish(run, false, err);
    },
  );
}

/**
 * The body of `run` finished with waits still pending (the losers of a `Promise.race`): drop them
 * (see {@link Run.dropPending}). A spin it abandoned has not settled, and no write marks the node
 * when it does (its readers are marked when it is): the node re-checks its log then, as after an
 * unsettled read (see {@link recheckOnceSettled}), and re-runs from that entry.
 */
function abandonPending(run: Run): void {
  const spins = run.dropPending();
  const n = run.node;
  if (spins === null || run.dead !== null || n.run !== run) return;
  for (const child of spins)
    whenReady(child, () => {
      markStale(n);
      n.ctx._drainSoon();
    });
}

function finish(run: Run, ok: boolean, value: unknown): void {
  const n = run.node;
  if (run.more === null) {
    if (run.dead === null && n.run === run) commit(n, run, ok, value);
    return;
  }
  if (run.more.parks !== null) abandonPending(run); // a synchronous body waits on nothing
  if (run.dead === null && n.run === run) commit(n, run, ok, value);
  // (the commit leaves `more`: only a reset drops it)
  const more = run.more;
  if (more.busy === true) {
    more.busy = false;
    run.ctx._busy(-1);
  }
  const settled = more.onSettled;
  if (settled !== null) {
    more.onSettled = null;
    settled();
  }
}

function commit(n: SpinNode, run: Run, ok: boolean, value: unknown): void {
  // the rare branches live in helpers (V8 still does not inline this into startRun: a call)
  const log = run.log;
  n.run = null;
  const more = run.more;
  if (more !== null && more.notSettled !== null) recheckOnceSettled(n, run);
  // every tracked entry repeats the last log's at its ordinal: the subscriptions stand as they are
  if (run.same !== log.length || n.log.length !== log.length) prune(n, n.log, log);
  const commits = ++n.commits;
  const mine = run.shared === false;
  installLog(n, log, mine);
  // a root's log of reads alone: checked by the lean walk (see Flag.LEAN_LOG)
  if (run.rare === false && n.ctx.parent === null) n.flags |= Flag.LEAN_LOG;
  // the run object may serve the next run once it is over (see startRun)
  run.keep =
    mine === true &&
    commits > Spare.AFTER_COMMITS &&
    (more === null || (more.ac === null && more.parks === null));
  n.refGen = run.shadowGen === G.shadowGen ? run.shadowGen : 0;
  if (more !== null && more.cleanups !== null) {
    n.cleanups = more.cleanups;
    more.cleanups = null;
  }
  if (n.status === 0 || resultChanged(n, ok, value)) {
    n.status = ok === true ? 1 : 2;
    n.result = value;
    n.version = nextVersion();
  }
  if ((n.flags & Flag.STALE) !== 0) {
    staleAfterRun(n);
    return;
  }
  if (run.epoch !== G.epoch && n.ctx.parent !== null && readsChanged(n)) {
    // in a fork an ancestor's write marks nothing here: a run during which something changed (an
    // async run always: its settlement moves the epoch) and whose reads moved is re-checked before
    // anyone is handed its result
    n.flags |= Flag.STALE;
    staleAfterRun(n);
    return;
  }
  n.checkedAt = run.epoch;
  flushReady(n);
}

/**
 * Whether something `n`'s committed log read has another version in `n`'s context now: a signal by
 * its visible cell, a spin by its version or, recursively, by what its own log read. Nothing is run
 * or waited on (the re-check that follows does that), and entries that read an error are not
 * followed (a cycle's spins read each other's errors). A spin with a run in flight is followed too,
 * through the log of its last commit (a run writes its own array, never that log: see `startRun`): a
 * fork's node that an ancestor's write sent re-running has the version `n` read until it commits,
 * and skipping it handed `n`'s result over the old value to `n`'s readers (seed 1655870581).
 */
function readsChanged(n: SpinNode): boolean {
  return changedSince(n.ctx, n.log, new Set<SpinNode>().add(n));
}

/** {@link readsChanged} over `log`; `seen`: the nodes already walked. */
function changedSince(ctx: KernelHost, log: readonly Entry[], seen: Set<SpinNode>): boolean {
  for (let i = 0; i < log.length; i++) {
    const e = log[i]!;
    const bits = e.bits;
    if ((bits & (Bits.SETTLED | Bits.OK)) !== (Bits.SETTLED | Bits.OK)) continue;
    if ((bits & Bits.KIND) === Kind.Signal) {
      if (ctx._versionOf(e.id) !== e.version) return true;
    } else if ((bits & Bits.KIND) === Kind.Spin) {
      const child = readNode(ctx, e);
      if (child === undefined || child.version !== e.version) return true;
      if (seen.has(child)) continue;
      seen.add(child);
      if (changedSince(ctx, child.log, seen)) return true;
    }
  }
  return false;
}

/** The run read a spin that had not settled: its node re-checks once that spin is ready. */
function recheckOnceSettled(n: SpinNode, run: Run): void {
  const more = run.more!;
  const pending = more.notSettled!;
  more.notSettled = null;
  whenReady(pending, () => {
    markStale(n);
    // the drain runs what the mark scheduled (an observed node): nothing else would start it
    n.ctx._drainSoon();
  });
}

/** Whether a node that has a result gets a different one (a throwing `equals` counts as a change). */
function resultChanged(n: SpinNode, ok: boolean, value: unknown): boolean {
  if (ok !== true) return n.status !== 2 || !Object.is(n.result, value);
  if (n.status !== 1) return true;
  const eq = n.equals;
  return eq === OBJECT_IS ? !objectIs(n.result, value) : !userEquals(eq, n.result, value);
}

/** A spin's own `equals`; throwing counts as different. */
function userEquals(eq: (a: unknown, b: unknown) => boolean, a: unknown, b: unknown): boolean {
  try {
    return eq(a, b);
  } catch {
    return false;
  }
}

/**
 * An input changed while the run was in flight: re-check through the drain (which bounds
 * self-invalidating loops) if anyone needs the result, otherwise stay lazily stale.
 */
function staleAfterRun(n: SpinNode): void {
  if (n.eager || n.waiters !== null || n.holds > 0) {
    n.ctx._schedule(n);
    n.ctx._drainSoon();
  }
}

/** Unsubscribe `n` from sources in `oldLog` that `newLog` no longer uses. */
export function prune(n: SpinNode, oldLog: readonly Entry[], newLog: readonly Entry[]): void {
  if (oldLog === newLog || oldLog.length === 0) return;
  if (sameDeps(oldLog, newLog)) return; // the usual re-run: the same reads in the same order
  // in a fork, while no context has made a cell since `n`'s last commit (`refGen`), both logs
  // reference the cells visible here: one per signal, as in a root (see pruneByMarks)
  if (
    (n.ctx.parent === null || (n.refGen === G.shadowGen && oldLog === n.log)) &&
    pruneByMarks(n, oldLog, newLog)
  )
    return;
  const big = newLog.length > 16;
  const keep = big ? new Set(newLog.map((e) => (e.bits & Bits.KIND) + e.id)) : null;
  for (const e of oldLog) {
    const kind = (e.bits & Bits.KIND) as Kind;
    if (kind !== Kind.Signal && kind !== Kind.Spin) continue;
    const kept = keep !== null ? keep.has(kind + e.id) : hasDep(newLog, e);
    if (!kept) n.ctx._unsubscribe(kind, e.id, n, e.ref, e.src);
  }
}

/** Stamp of the current {@link pruneByMarks} (see `Cell.mark`, `SpinNode.mark`). */
let markGen = 0;

/**
 * {@link prune} in a root whose entries all reference their sources (a root's cell, a node), or
 * in a fork whose entries reference the cells visible there (the caller checks `refGen`):
 * the new log's sources are stamped, and an old entry whose source is stamped is kept, in one
 * pass over each log where comparing every pair cost a graph that rewires on every write a fifth
 * of its time. A signal is one cell in a root, so an unstamped cell is dropped; a spin's node
 * unstamped is looked for by id too (the subscription follows the id, see `_unsubscribe`).
 * Returns false, having done nothing, when an entry has no reference (restored logs).
 */
function pruneByMarks(n: SpinNode, oldLog: readonly Entry[], newLog: readonly Entry[]): boolean {
  for (let i = 0; i < oldLog.length; i++) {
    const e = oldLog[i]!;
    // (a read: `Kind.Signal` or `Kind.Spin`, the two kinds below `Kind.Once`)
    if (e.ref === null && (e.bits & Bits.KIND) < Kind.Once) return false;
  }
  // `_unsubscribe` runs none of the user's code (a released node's inputs are pruned against an
  // empty log, which stamps nothing): the stamps stand until the last old entry is decided
  const gen = ++markGen;
  for (let i = 0; i < newLog.length; i++) {
    const e = newLog[i]!;
    if ((e.bits & Bits.KIND) >= Kind.Once) continue; // not a read
    const ref = e.ref as { mark: number } | null;
    if (ref === null) return false;
    ref.mark = gen;
  }
  for (let i = 0; i < oldLog.length; i++) {
    const e = oldLog[i]!;
    const kind = (e.bits & Bits.KIND) as Kind;
    // an unstamped cell's signal is not in the new log, unless (a fork) two handles share its
    // id (a keyed one, `uid` not above 0): a root stores one cell per id, a fork that holds
    // none lends each handle a cell of its own (`_cellOrInit`). (One call of `_unsubscribe`
    // for both kinds: with two, V8 no longer inlined this function into `prune`)
    if (kind === Kind.Signal) {
      const cell = e.ref as Cell;
      if (cell.mark === gen || (e.uid <= 0 && n.ctx.parent !== null && hasDep(newLog, e))) continue;
      // the entry's cell is the one visible here: `n` observes it if this context holds it (a
      // fork's node is never a member of an ancestor's set), else `_unsubscribe` takes it from the
      // fork's map of observers of inherited sources. (Left here, not in `_unsubscribe`: a fork
      // there looked the cell up again by the handle, and called the set's `delete` it did not
      // inline; dynamic 1000x12 in a fork 8,317,916 -> 7,694,874 optimized instructions per
      // operation, in a root 6,430,645 -> 6,250,594)
      const obs = cell.observers;
      // biome-ignore lint/complexity/useOptionalChain: `obs?.delete(n)` measured root dynamic 6,247,518 -> 6,305,531 optimized instructions per operation
      if (obs !== null && obs.delete(n)) {
        if (obs.size === 0) cell.observers = null;
        continue;
      }
    } else if (kind !== Kind.Spin || (e.ref as SpinNode).mark === gen || hasDep(newLog, e)) continue;
    n.ctx._unsubscribe(kind, e.id, n, e.ref, e.src);
  }
  return true;
}

function sameDeps(a: readonly Entry[], b: readonly Entry[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!sameSource(a[i]!, b[i]!)) return false;
  return true;
}

function hasDep(log: readonly Entry[], e: Entry): boolean {
  const u = e.uid;
  if (u > 0) {
    // `sameSource` written out for a handle whose id is its own alone: integer compares, and ids
    // only against entries without such a number (a graph that rewires on every write prunes
    // every re-run: a call per pair of entries was most of it)
    for (let i = 0; i < log.length; i++) {
      const x = log[i]!;
      const v = x.uid;
      if (v === u || (v <= 0 && ((x.bits ^ e.bits) & Bits.KIND) === 0 && x.id === e.id)) return true;
    }
    return false;
  }
  for (let i = 0; i < log.length; i++) if (sameSource(log[i]!, e)) return true;
  return false;
}

/**
 * Whether two entries read the same source: by the handles' numbers where they tell (the same
 * handle, or two handles whose ids are their own alone), else by kind and id (keyed and nested
 * handles, restored entries).
 */
function sameSource(x: Entry, y: Entry): boolean {
  const u = x.uid;
  if (u === y.uid && u !== 0) return true;
  if (u > 0 && y.uid > 0) return false;
  return ((x.bits ^ y.bits) & Bits.KIND) === 0 && x.id === y.id;
}

/** Work list of the staleness walk (shared: a nested walk only pops what it pushed). */
const staleStack: SpinNode[] = [];

/** Mark `start` and everything depending on it stale; schedule the live ones in their drain. */
export function markStale(start: SpinNode): void {
  if ((start.flags & Flag.STALE) !== 0) return;
  G.epoch++;
  walkStale(start);
}

/** {@link markStale} for every observer of a source that changed (the epoch moves once). */
export function markAllStale(items: readonly SpinNode[]): void {
  G.epoch++;
  for (let i = 0; i < items.length; i++) {
    const n = items[i]!;
    if ((n.flags & Flag.STALE) === 0) walkStale(n);
  }
}

/** Mark `start` (not stale yet) and what depends on it stale. */
function walkStale(start: SpinNode): void {
  const stack = staleStack;
  const base = stack.length; // re-entrant: a nested call only pops what it pushed
  let n: SpinNode = start;
  for (;;) {
    // `n` is not stale yet
    const flags = n.flags | Flag.STALE;
    n.flags = flags;
    // (`subs` first: an observed node, the usual one scheduled, answers on one test)
    if ((flags & Flag.QUEUED) === 0 && (n.subs !== null || n.run !== null || n.waiters !== null))
      n.ctx._schedule(n);
    const obs = n.observers;
    let next: SpinNode | null = null;
    if (obs !== null) {
      const one = obs.one;
      if (one !== null) {
        // one or two members, read from the set itself (not its array): walk on to the last
        // without the stack (the same order as pushes and a pop)
        const two = obs.two;
        if (two === null) {
          if ((one.flags & Flag.STALE) === 0) next = one;
        } else {
          if ((one.flags & Flag.STALE) === 0) stack.push(one);
          if ((two.flags & Flag.STALE) === 0) next = two;
        }
      } else {
        const items = obs.list();
        const len = items.length;
        for (let i = 0; i < len; i++) {
          const o = items[i]!;
          if ((o.flags & Flag.STALE) === 0) stack.push(o);
        }
      }
    }
    if (next === null) {
      // the most recently pushed node not marked since
      do {
        if (stack.length === base) return;
        next = stack.pop()!;
      } while ((next.flags & Flag.STALE) !== 0);
    }
    n = next;
  }
}

/**
 * Cancel `n`: the run in flight rejects at its pending effect with {@link Cancelled} (so `finally`
 * runs), the awaited child is cancelled too unless someone else waits on it, and the node caches
 * the cancellation until an input changes or it is re-run.
 */
export function cancelNode(n: SpinNode, error: Cancelled = new Cancelled(`spin ${n.label} cancelled`)): void {
  const run = n.run;
  G.epoch++;
  // settle the node as cancelled before killing the run: abandon hooks may re-enter the drain,
  // which must then see a cancelled node, not a never-run one to restart
  n.run = null;
  if (run !== null) {
    prune(n, n.log, run.log);
    installLog(n, run.log, false); // a killed run's log is not reused
  }
  n.flags = (n.flags | Flag.CANCELLED) & ~(Flag.STALE | Flag.CHECKING);
  n.adopt = null;
  n.status = 2;
  n.result = error;
  n.version = nextVersion();
  n.cancelVersion = Number.MAX_SAFE_INTEGER; // nothing the cancellation itself causes counts as a change
  if (run !== null) {
    for (const child of run.kill(CANCEL_REASON, 0)) {
      child.holds--;
      if (child.run !== null && child.holds <= 0 && !child.eager) cancelNode(child);
    }
  }
  if (n.cleanups !== null || (run !== null && hasCleanups(run))) runCleanups(n, run ?? undefined);
  n.cancelVersion = G.version;
  const obs = n.observers;
  if (obs !== null) for (const o of obs) markStale(o);
  flushReady(n);
}

/**
 * Start `n` over from scratch (explicit re-run); clears a cancellation. Asked while `n`'s own body
 * executes synchronously (inside it, or in something it called), the re-run comes after that run:
 * it commits, then `n` re-runs from scratch as if an input had changed (through the drain, which
 * bounds a body that always asks with `ERR_CYCLE`). Restarting it there, on the stack above the
 * body, recursed until the stack overflowed and left the node with a run that never ended.
 */
export function rerunNode(n: SpinNode): void {
  const run = n.run;
  if (run !== null && onStack(run)) {
    n.flags = (n.flags & ~Flag.CANCELLED) | Flag.DIRTY;
    markStale(n);
    return;
  }
  G.epoch++;
  n.flags &= ~(Flag.CANCELLED | Flag.STALE);
  n.adopt = null;
  if (run !== null) {
    n.run = null;
    releaseChildren(run.kill(SUPERSEDE_REASON, 0));
    if (hasCleanups(run)) runCleanups(n, run);
  }
  startRun(n, null, 0);
  const obs = n.observers;
  if (obs !== null) for (const o of obs) markStale(o);
}

/** Kill the run in flight of a node being disposed and fail its waiters with `error`. */
export function abortNode(n: SpinNode, error: unknown): void {
  G.epoch++;
  const run = n.run;
  if (run !== null) {
    n.run = null;
    releaseChildren(run.kill(CANCEL_REASON, 0));
  }
  if (n.cleanups !== null || (run !== null && hasCleanups(run))) runCleanups(n, run ?? undefined);
  n.flags &= ~(Flag.STALE | Flag.CHECKING);
  if (n.waiters !== null) {
    n.status = 2;
    n.result = error;
    n.version = nextVersion();
    flushReady(n);
  }
}
