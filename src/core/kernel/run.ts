/**
 * One execution of a spin body: the scope `$`, its effect log and its replay of a previous log.
 * @module
 */

import type { Context } from "../context.js";
import type { Signal } from "../signal.js";
import type { Awaitable, Interval, Spin, SpinBody, SpinOptions, SpinScope } from "../spin.js";
import { isOnceSource, WAIT, type Waiter } from "./awaitable.js";
import { Brand, sourceKind } from "./brand.js";
import { type Cell, cellPeek, SignalHandle } from "./cell.js";
import { ABANDONED, type Cancelled, invalidArgument, SpindelError, SUPERSEDE_REASON } from "./errors.js";
import { Flag } from "./flags.js";
import { G } from "./globals.js";
import type { KernelHost } from "./host.js";
import {
  Bits,
  checkInProgress,
  type Entry,
  emptyList,
  entry,
  isReady,
  Kind,
  type LogEntry,
  type SpinNode,
  truncate,
  whenReady,
} from "./node.js";
import { SpinHandle } from "./spin-handle.js";

/** A pending effect of a run; also the {@link Waiter} handed to one-shot sources (one object per wait). */
class Parked implements Waiter<unknown> {
  /** Cleanups run if the wait is abandoned. */
  abandon: (() => void)[] | null = null;
  /** Settled or abandoned. */
  done = false;
  /**
   * A hand-off's undo (e.g. re-posts a mailbox message), given when the wait settled, until the
   * body continues past it (see `Run.seen`): run if the run is killed before. Here, not on the
   * log entry: only one-shot waits have one, and every entry carried the field.
   */
  undo: (() => void) | null = null;

  /**
   * @param run the waiting run
   * @param entry its log entry
   * @param res resolves the promise the body awaits
   * @param rej rejects it
   * @param child the spin awaited, when parked on a spin
   */
  constructor(
    readonly run: Run,
    readonly entry: Entry,
    readonly res: (v: unknown) => void,
    readonly rej: (e: unknown) => void,
    readonly child: SpinNode | null,
  ) {}

  get alive(): boolean {
    return this.run.dead === null && !this.done;
  }

  get spinId(): string {
    return this.run.node.id;
  }

  resolve(value: unknown, undo?: () => void): boolean {
    return this.run._settle(this, true, value, undo);
  }

  reject(error: unknown): boolean {
    return this.run._settle(this, false, error);
  }

  onAbandon(fn: () => void): void {
    if (!this.done) (this.abandon ??= []).push(fn);
  }
}

/** One resolved promise per cached result of a spin (re-used by every `$.await` of it). */
function resolvedResult(n: SpinNode): Promise<unknown> {
  if (n.resolvedVersion !== n.version || n.resolved === null) {
    n.resolved = Promise.resolve(n.result);
    n.resolvedVersion = n.version;
  }
  return n.resolved;
}

/** One run of a spin body. Implements the scope `$`. Internal. */
export class Run implements SpinScope {
  // Field order is memory layout (V8 places fields in declaration order, the constructor's
  // parameter properties first): the fields a lean re-run writes and `$.track` reads come first,
  // in as few cache lines as they fit; those of rare paths follow.
  /**
   * Storage of this run's effect log: entries `[0, i)` are this run's; a recycled array (see
   * {@link reset}) may hold older entries past `i`, reused in place by {@link slot}. Read the log
   * through {@link log}.
   */
  /** @internal */
  buf: Entry[] = emptyList();
  /** Next effect ordinal: the number of entries in the log. */
  private i = 0;
  /** Tracked entries that repeat the last committed run's dependency at the same ordinal. */
  same = 0;
  /**
   * Set by every operation of the run that the lean commit (in `leanRun`, engine.ts) leaves to
   * the general one: a write or one-shot wait ({@link once}), a wait that parks ({@link parks}), a
   * cleanup ({@link cleanups}), a nested spin ({@link ordinal}), an unsettled read
   * ({@link notSettled}), a fork taking the in-flight log ({@link shared}), an abort signal handed
   * out ({@link ac}), a settle hook ({@link onSettled}) and a kill ({@link dead}). A lean re-run
   * tests this one field after its body instead of each of those.
   */
  /** @internal */
  rare = false;
  /**
   * Set when the run was cancelled or superseded; `false` once released as its node's spare
   * (superseded: see {@link release}; the reason thrown is {@link SUPERSEDE_REASON}). Test it
   * against null, throw {@link reason}.
   */
  dead: Cancelled | false | null = null;
  /** {@link G.epoch} when the run started: its result is verified as of then. */
  epoch = G.epoch;
  /** {@link G.shadowGen} when the run started: the cells its entries reference are still the visible ones while it holds. */
  shadowGen = G.shadowGen;
  /**
   * The fields of rare paths (waits, cleanups, an abort signal, a settle hook, an unsettled read,
   * hand-offs), made on first use ({@link moreOf}) and dropped when the run object is reused: a
   * run that has none is 56 bytes smaller (8 bytes a field in Node's V8), and a large graph keeps
   * a spare run per node. Test it against null before its fields (one test when it is null, as
   * the field's own was).
   */
  more: RunMore | null = null;
  /** The run whose body was executing when this one's body started synchronously (cycle reports). */
  outer: Run | null = null;
  /** Whether a one-shot wait or a write was entered (only those need consumption marks at commit). */
  once = false;
  /** Next nested-spin ordinal. */
  /** @internal */
  ordinal = 0;
  /** Set by the commit of a run whose object may serve its node's next run (checked once the body returned). */
  keep = false;
  /** Set when a fork took this in-flight run's entries: its log is then never recycled. */
  shared = false;
  /** The context. */
  readonly ctx: KernelHost;
  /** The kernel's freshness check (passed in: the run module does not import the engine). */
  private readonly refresh: (n: SpinNode) => void;

  /**
   * @param node the spin node
   * @param ctx the context
   * @param replay log of the previous run to replay from
   * @param replayUntil replay entries `[0, replayUntil)`
   * @param refresh the kernel's freshness check (passed in: the run module does not import the engine)
   */
  constructor(
    readonly node: SpinNode,
    ctx: KernelHost,
    private replay: readonly Entry[] | null,
    private replayUntil: number,
    refresh: (n: SpinNode) => void,
  ) {
    this.ctx = ctx;
    this.refresh = refresh;
  }

  /** {@link more}, made if need be. */
  moreOf(): RunMore {
    let more = this.more;
    if (more === null) this.more = more = new RunMore();
    return more;
  }

  /** Whether this run counts toward the context's busy count. */
  get busy(): boolean {
    return this.more?.busy === true;
  }

  /**
   * Start this (finished, synchronous) run object over as the next run of its node, writing its
   * log into `buf`: a log array of the node that nothing else references any more, whose entries
   * are overwritten in place. A re-run then allocates neither a run, nor a log, nor entries.
   */
  reset(replay: readonly Entry[] | null, p: number, buf: Entry[] | null): void {
    // a spare run finished synchronously and its commit {@link keep}s it: it waits on nothing, is not
    // busy, and its commit took its cleanups and its unsettled read. Since {@link release} it
    // is dead, so a `$` kept past it touched nothing but what is cleared here
    this.buf = buf ?? emptyList();
    this.i = 0;
    this.same = 0;
    this.once = false;
    this.rare = false;
    this.keep = false;
    this.ordinal = 0;
    this.dead = null;
    // (a kept run waits on nothing, is not busy, has no settle hook; its commit took its cleanups
    // and its unsettled read: what is left is an abort signal a `$` kept past it asked for)
    if (this.more !== null) this.more = null;
    this.epoch = G.epoch;
    this.shadowGen = G.shadowGen;
    if (p > 0) this.replay = replay; // nothing to replay: it stays null since release
    this.replayUntil = p;
  }

  /**
   * {@link reset} for a lean re-run (`leanRun` in engine.ts): the run it was last entered no write
   * or one-shot wait, created no nested spin and left no cleanup (see `Flag.LEAN`), and a `$` kept
   * past it cannot change that (it is dead since {@link release}), so `once`, `ordinal` and
   * {@link more} but its abort signal are as {@link reset} would leave them;
   * `keep` is read only after a general commit, which sets it. The log is written into `buf` as
   * it is: a lean spare holds its next storage there (see `keepSpare` in engine.ts).
   */
  resetLean(replay: readonly Entry[], p: number): void {
    this.i = 0;
    this.same = 0;
    this.rare = false;
    this.dead = null;
    if (this.more !== null) this.more = null;
    this.epoch = G.epoch;
    this.shadowGen = G.shadowGen;
    if (p > 0) this.replay = replay;
    this.replayUntil = p;
  }

  /** The effect log of this run so far (the storage trimmed to this run's entries). */
  get log(): Entry[] {
    const buf = this.buf;
    if (buf.length !== this.i) truncate(buf, this.i);
    return buf;
  }

  /**
   * Park this finished run as its node's spare: drop the replayed log, and end it, so that a `$`
   * the body kept past its run fails its effects (as a superseded run's do) instead of writing
   * into the node's committed log or into the next run.
   */
  release(): void {
    this.replay = null;
    // `false`, not SUPERSEDE_REASON: a constant V8 stores without a write barrier, where the
    // error object (an old one, into an old run) cost about 12 instructions a re-run
    this.dead = false;
  }

  /** Why this dead run refuses effects (see {@link dead}). */
  private reason(): Cancelled {
    return this.dead || SUPERSEDE_REASON;
  }

  /**
   * The entry for ordinal `i` (just entered) of an effect that reads no handle (a write, a one-shot
   * wait): a recycled one overwritten in place, or a new one. Writing it takes the ordinal: an
   * effect that throws between {@link enter} and here (a stack overflow, a failed subscription)
   * leaves no gap in the log and no stale recycled entry in it.
   */
  private slot(i: number, kind: Kind, id: string): Entry {
    return pending(this.take(i, kind, null, id));
  }

  /** {@link slot} for a read of spin handle `source` (tracked or awaited). */
  private slotSpin(i: number, source: SpinHandle): Entry {
    return pending(this.take(i, Kind.Spin, source, ""));
  }

  /**
   * Take ordinal `i` for an effect of `kind` reading handle `src` (null: none; then `id` names the
   * entry): a recycled entry (which keeps its version, value, settled flag and ref for the caller
   * to overwrite) or a new one. A recycled entry that already holds a read of `src` (the run
   * before last made it) keeps its kind, id and number: the handle's are loaded only when it held
   * another read.
   */
  private take(i: number, kind: Kind, src: SignalHandle<unknown> | SpinHandle | null, id: string): Entry {
    const buf = this.buf;
    this.i = i + 1;
    if (i >= buf.length) {
      // past the recycled entries (the run writes its ordinals in order: `i` is the length)
      const fresh = entry(kind, src !== null ? src.id : id);
      if (src !== null) {
        fresh.uid = src._uid;
        fresh.src = src;
      }
      buf.push(fresh);
      return fresh;
    }
    const e = buf[i] as LogEntry;
    if (src === null || e.src !== src) {
      e.id = src !== null ? src.id : id;
      e.uid = src !== null ? src._uid : 0;
      e.src = src;
    }
    // (the settled bit is the caller's to write, as the version and value are)
    e.bits = kind | Bits.OK;
    return e;
  }

  /** The context this run executes in. */
  get context(): Context {
    return this.ctx as Context; // the runtime's hosts are its contexts
  }

  /** Lazily created `AbortSignal`, aborted with a preallocated reason on cancel/supersede. */
  get signal(): AbortSignal {
    const more = this.moreOf();
    let ac = more.ac;
    if (ac === null) {
      this.rare = true;
      more.ac = ac = new AbortController();
      if (this.dead !== null) ac.abort(this.reason());
    }
    return ac.signal;
  }

  /** Abort the signal if one was handed out. */
  abortSignal(reason: Cancelled): void {
    const ac = this.more !== null ? this.more.ac : null;
    if (ac !== null && !ac.signal.aborted) ac.abort(reason);
  }

  /**
   * Every effect starts here: refuse if dead, mark the hand-offs the body has seen consumed, name
   * the next ordinal (the entry's slot takes it). (Other entries are marked consumed at commit, in runs that need the marks: only a
   * hand-off's mark is read before that, when a killed run undoes what its body never saw.)
   */
  private enter(kind: Kind): number {
    if (this.dead !== null) throw this.reason();
    // (a method of its own: the loop written here made `enter` too large for V8 to inline
    // `_trackSignal` into `track` as well, +130k optimized instructions per dynamic operation)
    if (this.more !== null) this.consumeSeen();
    const i = this.i;
    if (this.replay !== null && i < this.replayUntil) {
      const r = this.replay[i];
      // diverged: live from here
      if (r === undefined || (r.bits & (Bits.KIND | Bits.SETTLED)) !== (kind | Bits.SETTLED))
        this.replayUntil = i;
    }
    return i;
  }

  /** Mark the hand-offs the body has seen consumed (see {@link enter}). */
  private consumeSeen(): void {
    const seen = this.more!.seen;
    if (seen !== null && seen.length > 0) {
      for (let k = 0; k < seen.length; k++) seen[k]!.undo = null; // consumed
      truncate(seen, 0);
    }
  }

  private replaying(i: number): Entry | null {
    return this.replay !== null && i < this.replayUntil ? this.replay[i]! : null;
  }

  track<T>(source: Signal<T> | Spin<T>): T {
    // (One function, no helpers on the way to `refresh`: a deep graph's first run recurses through
    // here, frame by frame, and the chain of 1,000 of `bench/shapes.ts` ran 3 % from the stack's
    // end. The locals are declared once and shared by the paths: V8's interpreter gives every
    // block's own locals a register of this frame, 27 registers before, the read again written in)
    const node = this.node;
    const i = this.i;
    const prev = node.log[i];
    let kind: number | undefined;
    let known: object | null = null;
    let e: Entry;
    let r: Entry | undefined;
    let child: SpinNode;
    let v: unknown;
    let ok = true;
    // the same handle as the last run's read at this ordinal: that run's subscription stands, and
    // so does the source it reached (a signal's cell while no fork created a cell of its own since,
    // a root's never changes while tracked; a spin's node of this context): no lookup, no set insert.
    // (an entry with a ref took a handle: `src` is not null, so `source` is that handle)
    if (
      prev !== undefined &&
      prev.src === source &&
      prev.ref !== null &&
      (node.flags & Flag.DETACHED) === 0
    ) {
      if ((prev.bits & Bits.KIND) === Kind.Signal) {
        if (node.ctx.parent === null || node.refGen === G.shadowGen) {
          known = prev.ref;
          // the same signal as last run at this ordinal, its cell the visible one, in a run with
          // nothing for `enter` to do but the replay's test, and the recycled entry at the ordinal
          // took the same handle: only the read's fields are written (enter's and take's work
          // written out, as for a spin below). In `track` itself: a call (the former `readAgain`)
          // was not inlined once `track` was optimized where signal reads are rare (chain 1000
          // before diamond or fan-out in one process, as the timed benchmark runs them: 93
          // instructions a read)
          if (i < this.buf.length && this.dead === null && this.more === null) {
            e = this.buf[i]!;
            if (e.src === source) {
              if (this.replay !== null && i < this.replayUntil) {
                r = this.replay[i];
                if (r === undefined || (r.bits & (Bits.KIND | Bits.SETTLED)) !== (Kind.Signal | Bits.SETTLED))
                  this.replayUntil = i;
              }
              this.i = i + 1;
              this.same++;
              e.version = (known as Cell).version;
              // (`cellPeek`, written out: a call in the order of the timed benchmark, 25 a read)
              v = (known as Cell).val;
              e.value = v;
              // the recycled entry read the same handle, so it references the same cell, unless it
              // was left pending or the cell replaced (a store into an old entry is a write barrier)
              if (e.ref !== known) e.ref = known;
              e.bits = Kind.Signal | Bits.SETTLED | Bits.OK;
              return v as T;
            }
          }
        }
        kind = Brand.SIGNAL_SOURCE;
      } else {
        child = prev.ref as SpinNode;
        if (
          child.ctx === node.ctx &&
          child.run === null &&
          (child.flags & (Flag.STALE | Flag.CHECKING | Flag.DETACHED)) === 0 &&
          child.status !== 0 &&
          (node.ctx.parent === null || child.checkedAt === G.epoch) &&
          i < this.buf.length &&
          this.dead === null &&
          this.more === null
        ) {
          // the same spin as last run at this ordinal, clean (no `refresh`: nothing below throws
          // before the entry is whole), in a run with nothing for `enter` to do but the replay's
          // test, and the recycled entry at the ordinal took the same handle: only the read's
          // fields are written (enter's, take's and pending's work written out)
          e = this.buf[i]!;
          if (e.src === source) {
            if (this.replay !== null && i < this.replayUntil) {
              r = this.replay[i];
              if (r === undefined || (r.bits & (Bits.KIND | Bits.SETTLED)) !== (Kind.Spin | Bits.SETTLED))
                this.replayUntil = i;
            }
            this.i = i + 1;
            this.same++;
            // the entry before last at this ordinal read the same handle: its node is this
            // one's unless it was replaced since (a store into an old object is a write barrier)
            if (e.ref !== child) e.ref = child;
            e.version = child.version;
            ok = child.status === 1;
            e.value = child.result;
            e.bits = ok ? Kind.Spin | Bits.SETTLED | Bits.OK : Kind.Spin | Bits.SETTLED;
            if (!ok) throw child.result;
            return child.result as T;
          }
        }
        if (child.ctx === node.ctx && (child.flags & Flag.DETACHED) === 0) known = child;
        kind = Brand.SPIN_SOURCE;
      }
    } else kind = sourceKind(source);
    // (`enter` returns `this.i`, which is `i`)
    if (kind === Brand.SIGNAL_SOURCE) {
      this.enter(Kind.Signal);
      let cell: Cell;
      if (known !== null) {
        cell = known as Cell;
        this.same++;
      } else cell = this.ctx._trackSignal(source as Signal<T>, node);
      // nothing below throws: every field slot() would clear is written here
      e = this.take(i, Kind.Signal, source as Signal<T>, "");
      e.version = cell.version;
      v = cellPeek(cell);
      e.value = v;
      e.ref = cell;
      e.bits = Kind.Signal | Bits.SETTLED | Bits.OK;
      return v as T;
    }
    if (kind !== Brand.SPIN_SOURCE) return notASource(source);
    this.enter(Kind.Spin);
    if (known !== null) {
      child = known as SpinNode;
      this.same++;
    } else child = this.ctx._trackSpin(source as Spin<T>, node);
    // the entry takes the ordinal once the source is reached (a throw above, a stack overflow
    // in the subscription, leaves no entry, as a signal's read does); every field a recycled
    // entry holds is written below
    e = this.take(i, Kind.Spin, source as Spin<T>, "");
    e.ref = child;
    // a read the last run did not make here (`_trackSpin` reached the node) of a node whose check
    // is in progress (`SpinNode.checkEpoch`), ready: this run may be one that check started, a
    // cycle forming (see `checking`). Tested on such reads alone: a repeated read of a stale spin
    // (a re-run's usual read of what changed) takes this path too, and the test of the marks
    // there measured 3.6 optimized instructions a `track` in root diamond. (`checkInProgress`,
    // written out as `refresh` writes out `verifiedAt`: V8 guards a module function it inlines)
    if (known === null && child.checkEpoch === G.epoch && child.checkedAt !== G.epoch && isReady(child)) {
      const cycle = this.checking(child, i, source as Spin<T>);
      if (cycle !== null) {
        unread(e, cycle);
        e.version = child.version;
        throw cycle;
      }
    }
    // no call for a node `refresh` would leave as it is (its first test, written out: see there)
    if (
      child.run !== null ||
      (child.flags & (Flag.STALE | Flag.CHECKING | Flag.DETACHED)) !== 0 ||
      child.status === 0 ||
      (child.ctx.parent !== null && child.checkedAt !== G.epoch)
    ) {
      // pending while the child is brought up to date (a check of this run's log stops there)
      e.bits = Kind.Spin | Bits.OK;
      try {
        this.refresh(child);
      } catch (err) {
        // (a stack overflow) the read settles as an error read that no version of the child
        // matches: if the body catches this and commits, the log check re-runs the node from
        // this entry. A pending entry would end every later check there, and the reads after
        // it would never re-run the node again. (Written out: a call here may overflow the
        // stack again)
        e.version = -1;
        e.value = err;
        e.bits = Kind.Spin | Bits.SETTLED;
        // a run left there is repaired later (`dropStuck`): no room here. (Any run: a test of
        // whether it is a synchronous one cost 365 optimized instructions per chain operation)
        if (child.run !== null) G.stuck = child;
        throw err;
      }
      if (!isReady(child)) throw this.unready(e, child);
    }
    e.version = child.version;
    ok = child.status === 1;
    e.value = child.result;
    e.bits = ok ? Kind.Spin | Bits.SETTLED | Bits.OK : Kind.Spin | Bits.SETTLED;
    if (!ok) throw child.result;
    return child.result as T;
  }

  /**
   * The read of `source` at ordinal `i` reached `child`, ready, whose log check is in progress
   * (`SpinNode.checkEpoch`), on the stack above this run. If that check started this run (through
   * the spins its log reads, whose checks are in progress or whose runs are in flight, down to
   * this run's node), a cycle forms across runs: `child` reads (through its log) this node, whose
   * run now starts reading `child`. The read would hand out the result the check is verifying,
   * which depends on this run (it did: the spins settled on values built on each other's old
   * results): it fails with `ERR_CYCLE` instead (preact's computed throws "Cycle detected"
   * there), read at `child`'s version, as a read of a body running below (see {@link unready}).
   * Null, the read gets the result, when the check started this run otherwise (a drain, a
   * subscriber's callback), or when the last run read `source` at `i` too: that cycle was already
   * met (its reads are of errors, or of what a body that caught one returned), and such a read is
   * `track`'s path for a repeated read, measured per operation, which does not test the mark.
   */
  private checking(child: SpinNode, i: number, source: Spin<unknown>): SpindelError | null {
    const me = this.node;
    const prev = me.log[i];
    if (prev !== undefined && prev.src === source) return null;
    const path = checkPath(child, me, [me.label, child.label], new Set());
    return path === null ? null : cycleError(path, me.label);
  }

  /**
   * {@link track} of spin `child`, read into entry `e`, found it not ready once refreshed: its
   * running body is below this one (a cycle) or it has not settled (async). Settles `e` and
   * returns the error to throw. (A method of its own: rare, and `track`'s frame is a deep graph's,
   * frame by frame.)
   */
  private unready(e: Entry, child: SpinNode): SpindelError {
    const cycle = this.syncCycle(child);
    if (cycle !== null) {
      // the version the child had when its running body was met: once that body (or a
      // later run) commits another result, the check re-runs this node, whose read then
      // gets it (or the cycle again, if it meets that body running again); an equal result
      // re-runs nothing (a version no node matches would re-run it at every check)
      unread(e, cycle);
      e.version = child.version;
      return cycle;
    }
    const err = new SpindelError(
      "ERR_NOT_SETTLED",
      `$.track(${child.label}): the spin has not settled (its body is async); use await $.await(spin) instead`,
    );
    // a settled read that no version of the child matches: once the child settles, the
    // commit's waiter (see `notSettled`) marks the node stale and the check re-runs it
    this.moreOf().notSettled = child;
    this.rare = true;
    unread(e, err);
    return err;
  }

  onCleanup(fn: () => void): void {
    if (typeof fn !== "function") invalidArgument(`$.onCleanup expects a function, got ${describe(fn)}`);
    if (this.dead !== null) {
      fn(); // the run is already over: nothing later would run it
      return;
    }
    this.rare = true;
    (this.moreOf().cleanups ??= []).push(fn);
  }

  interval<T>(source: Signal<T>): Interval<T> {
    if (!(source instanceof SignalHandle))
      invalidArgument(`$.interval expects a Signal, got ${describe(source)}`);
    const i = this.i; // ordinal this call will take
    const prevRun = this.node.log[i];
    const now = this.track(source);
    const cell = this.ctx._peekCell(source);
    if (
      prevRun === undefined ||
      (prevRun.bits & Bits.KIND) !== Kind.Signal ||
      prevRun.id !== source.id ||
      prevRun.version === cell.version
    )
      return { new: now, old: now, deltas: undefined };
    const single = cell.deltas !== undefined && cell.deltasBase === prevRun.version;
    return { new: now, old: prevRun.value as T, deltas: single ? cell.deltas : undefined };
  }

  peek<T>(source: Signal<T>): T {
    if (!(source instanceof SignalHandle))
      invalidArgument(`$.peek expects a Signal, got ${describe(source)}`);
    if (this.dead !== null) throw this.reason();
    return cellPeek(this.ctx._peekCell(source)) as T;
  }

  set<T>(source: Signal<T>, value: T): void {
    if (!(source instanceof SignalHandle)) invalidArgument(`$.set expects a Signal, got ${describe(source)}`);
    const i = this.enter(Kind.Set);
    this.once = true;
    this.rare = true;
    const e = this.slot(i, Kind.Set, source.id);
    e.value = value;
    e.bits |= Bits.SETTLED;
    if (this.replaying(i) !== null) return; // already written by the run being replayed
    this.ctx.set(source, value);
  }

  spin<T>(body: SpinBody<T>, opts?: SpinOptions<T>): Spin<T> {
    if (this.dead !== null) throw this.reason();
    this.rare = true;
    return this.ctx._nestedSpin(
      this.node,
      body,
      opts,
      opts?.key !== undefined ? `k:${opts.key}` : `#${this.ordinal++}`,
      this.i < this.replayUntil,
    );
  }

  await<T>(x: Awaitable<T>): Promise<T> {
    if (x instanceof SpinHandle) return this.awaitSpin(x);
    if (x === null || x === undefined || x instanceof SignalHandle) {
      return Promise.reject(
        new SpindelError(
          "ERR_INVALID_ARGUMENT",
          x instanceof SignalHandle
            ? "$.await does not take a Signal: use $.track(signal)"
            : `$.await expects a Spin, promise, thunk or one-shot source, got ${String(x)}`,
        ),
      );
    }
    let i: number;
    try {
      i = this.enter(Kind.Once);
    } catch (err) {
      return Promise.reject(err);
    }
    this.once = true;
    this.rare = true;
    const e = this.slot(i, Kind.Once, "");
    const r = this.replaying(i);
    // a wait the last run abandoned has no value to replay: it is waited on again
    if (r !== null && r.value !== ABANDONED) {
      const ok = (r.bits & Bits.OK) !== 0;
      e.value = r.value;
      e.bits = ok ? Kind.Once | Bits.SETTLED | Bits.OK : Kind.Once | Bits.SETTLED;
      return ok ? Promise.resolve(r.value as T) : Promise.reject(r.value);
    }
    return this.waitOnce(e, x);
  }

  /**
   * Wait on one-shot source `x` for entry `e`. (A method of its own: the closures here would make
   * every `$.await`, replayed ones too, allocate a context for what they capture.)
   */
  private waitOnce<T>(e: Entry, x: Awaitable<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const parked = new Parked(this, e, resolve as (v: unknown) => void, reject, null);
      this.park(parked);
      const waiter: Waiter<unknown> = parked;
      try {
        if (isOnceSource(x)) {
          x[WAIT](this.context, waiter as Waiter<unknown>);
        } else if (typeof x === "function") {
          const fn = x as (signal: AbortSignal) => PromiseLike<T> | T;
          const out = fn.length > 0 ? fn(this.signal) : (fn as () => PromiseLike<T> | T)();
          settleFrom(out, waiter);
        } else if (typeof (x as PromiseLike<T>).then === "function") {
          settleFrom(x as PromiseLike<T>, waiter);
        } else {
          waiter.reject(
            new SpindelError(
              "ERR_INVALID_ARGUMENT",
              `$.await expects a Spin, promise, thunk or one-shot source, got ${describe(x)}`,
            ),
          );
        }
      } catch (err) {
        waiter.reject(err);
      }
      this.idle(parked);
    });
  }

  private awaitSpin<T>(source: Spin<T>): Promise<T> {
    let i: number;
    try {
      i = this.enter(Kind.Spin);
    } catch (err) {
      return Promise.reject(err);
    }
    // the source reached before the entry takes the ordinal (see `track`)
    const child = this.ctx._trackSpin(source, this.node);
    const e = this.slotSpin(i, source);
    e.ref = child;
    try {
      this.refresh(child);
    } catch (err) {
      // (a stack overflow: see `track`)
      e.version = -1;
      e.value = err;
      e.bits = Kind.Spin | Bits.SETTLED;
      if (child.run !== null) G.stuck = child;
      throw err;
    }
    if (isReady(child)) {
      // (its check in progress: see `track`)
      const checking = checkInProgress(child) ? this.checking(child, i, source) : null;
      if (checking !== null) {
        e.version = child.version;
        e.value = checking;
        e.bits = Kind.Spin | Bits.SETTLED;
        return Promise.reject(checking);
      }
      e.version = child.version;
      const ok = child.status === 1;
      e.value = child.result;
      e.bits = ok ? Kind.Spin | Bits.SETTLED | Bits.OK : Kind.Spin | Bits.SETTLED;
      return ok ? (resolvedResult(child) as Promise<T>) : Promise.reject(child.result);
    }
    const cycle = this.syncCycle(child) ?? this.awaitCycle(child);
    if (cycle !== null) {
      e.value = cycle;
      e.bits = Kind.Spin | Bits.SETTLED;
      return Promise.reject(cycle);
    }
    const checking = this.checkCycle(child);
    if (checking !== null) {
      // read as an error at the version `child` has: it re-runs this node once `child` commits
      // another result, not at every check (each re-run would fail it again with a new error)
      e.version = child.version;
      e.value = checking;
      e.bits = Kind.Spin | Bits.SETTLED;
      return Promise.reject(checking);
    }
    return this.waitSpin(e, child);
  }

  /** Wait for `child` to be ready for entry `e` (a method of its own, see {@link waitOnce}). */
  private waitSpin<T>(e: Entry, child: SpinNode): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const parked = new Parked(this, e, resolve as (v: unknown) => void, reject, child);
      this.park(parked);
      child.holds++;
      whenReady(child, (n) => {
        if (parked.done) return;
        e.version = n.version;
        this._settle(parked, n.status === 1, n.result);
      });
      this.idle(parked);
    });
  }

  /** `child` is a body executing synchronously below this one: reading it would wait on itself. */
  private syncCycle(child: SpinNode): SpindelError | null {
    const target = child.run;
    if (target === null) return null;
    const path: string[] = [];
    for (let r: Run | null = this; r !== null; r = r.outer) {
      path.push(r.node.label);
      if (r === target) return cycleError(path.reverse(), child.label);
    }
    return null;
  }

  /** `child`'s run waits (through awaited spins) on this run's node: awaiting it would never settle. */
  private awaitCycle(child: SpinNode): SpindelError | null {
    const me = this.node;
    const path = waitPath(child, me, [me.label, child.label], new Set());
    return path === null ? null : cycleError(path.slice(0, -1), me.label);
  }

  /**
   * `child`, with no run in flight, is checking its committed log and waits on a spin entry that is
   * this run's node or whose run waits on it (an await cycle formed across runs: `child`'s last run
   * read this node, whose new run now awaits `child`): the check would wait on this run and this run
   * on the check, and neither settled.
   */
  private checkCycle(child: SpinNode): SpindelError | null {
    if (child.run !== null || (child.flags & Flag.CHECKING) === 0) return null;
    const me = this.node;
    const m = checkWaitsOn(child);
    if (m === null) return null;
    const path = waitPath(m, me, [me.label, child.label, m.label], new Set());
    return path === null ? null : cycleError(path.slice(0, -1), me.label);
  }

  /** Whether the run waits on at least one effect. */
  get parked(): boolean {
    const parks = this.more !== null ? this.more.parks : null;
    return parks !== null && parks.length > 0;
  }

  private park(p: Parked): void {
    this.rare = true;
    (this.moreOf().parks ??= emptyList()).push(p);
  }

  /**
   * The wait is registered with its source and still pending: the run no longer counts as busy.
   * (Not before: a source that settles inside its registration must not let `ctx.settled()`
   * resolve in between.)
   */
  private idle(p: Parked): void {
    if (!p.done && this.busy) {
      this.more!.busy = false;
      this.ctx._busy(-1);
    }
  }

  /** Settle a pending effect and resume the body (busy again once nothing else is pending). */
  /** @internal settle a pending effect (from its {@link Parked} waiter) */
  _settle(p: Parked, ok: boolean, value: unknown, undo?: () => void): boolean {
    if (this.dead !== null || p.done) return false;
    p.done = true;
    if (undo !== undefined) {
      // a hand-off is consumed at the first effect the body enters once it could have seen the
      // value (from the next microtask on): not by an effect entered in the same synchronous
      // stretch (e.g. `Promise.all([$.await(mb), $.await(mb)])` with a message already queued),
      // and every one of several concurrent hand-offs, not only the last entry
      p.undo = undo;
      (this.moreOf().handoffs ??= []).push(p);
      queueMicrotask(() => {
        if (this.dead === null) (this.moreOf().seen ??= []).push(p);
      });
    }
    const more = this.more!; // (made by the park)
    const parks = more.parks!;
    parks.splice(parks.indexOf(p), 1);
    if (p.child !== null) p.child.holds--;
    const en = p.entry;
    en.value = value;
    en.bits = (en.bits & Bits.KIND) | (ok ? Bits.SETTLED | Bits.OK : Bits.SETTLED);
    if (parks.length === 0 && !more.busy) {
      more.busy = true;
      this.ctx._busy(1);
    }
    if (ok) p.res(value);
    else p.rej(value);
    return true;
  }

  /**
   * End this run: reject the pending effects with `reason` (the body unwinds through its finally
   * blocks), abandon the waits, undo hand-offs the body never consumed (from ordinal `keepBefore` on).
   * Returns the spins it was waiting on (their holds are the caller's to release).
   */
  kill(reason: Cancelled, keepBefore: number): SpinNode[] {
    // a lean run stays its node's spare while it runs (see `leanRun` in engine.ts)
    if (this.node.spare === this) this.node.spare = null;
    if (this.dead !== null) return [];
    this.dead = reason;
    this.rare = true;
    this.abortSignal(reason);
    const more = this.more;
    if (more === null) return [];
    const offs = more.handoffs;
    if (offs !== null) {
      more.handoffs = null;
      const log = this.log;
      // in log order, as the entries are
      offs.sort((a, b) => log.indexOf(a.entry) - log.indexOf(b.entry));
      for (const p of offs) {
        const undo = p.undo;
        if (undo !== null && log.indexOf(p.entry) >= keepBefore) {
          p.undo = null;
          undo();
        }
      }
    }
    const parks = more.parks;
    if (parks === null || parks.length === 0) return [];
    more.parks = null;
    const children: SpinNode[] = [];
    if (!more.busy) {
      more.busy = true; // the body now unwinds
      this.ctx._busy(1);
    }
    for (const p of parks) {
      p.done = true;
      if (p.child !== null) children.push(p.child);
      if (p.abandon !== null) for (const fn of p.abandon) fn();
      p.rej(reason);
    }
    return children;
  }

  /**
   * The body finished while effects were still pending (e.g. `Promise.race` over `$.await`s):
   * abandon them (a mailbox must not hand a message to a finished run) and release held children.
   * Their promises stay pending: the body no longer listens. Their entries settle as abandoned
   * error reads ({@link ABANDONED}): a pending entry in the committed log would end every log check
   * there, and no read after it would re-run the node again. A spin's keeps the version the spin
   * has now: the node re-runs from it once that spin commits another result. Returns those spins
   * (null if none).
   */
  dropPending(): SpinNode[] | null {
    const more = this.more;
    const parks = more !== null ? more.parks : null;
    if (parks === null || parks.length === 0) return null;
    more!.parks = null;
    let spins: SpinNode[] | null = null;
    for (const p of parks) {
      p.done = true;
      const e = p.entry;
      if (p.child !== null) {
        e.version = p.child.version;
        (spins ??= []).push(p.child);
      }
      e.value = ABANDONED;
      e.bits = (e.bits & Bits.KIND) | Bits.SETTLED;
      if (p.child !== null) p.child.holds--;
      if (p.abandon !== null) for (const fn of p.abandon) fn();
    }
    return spins;
  }
}

/** The fields of a {@link Run} that only rare paths use (see `Run.more`). Internal. */
export class RunMore {
  /** Effects the run is waiting on (usually 0 or 1; more with `Promise.all`). */
  parks: Parked[] | null = null;
  /** Whether the run counts toward the context's busy count. */
  busy = false;
  /** The abort controller of `Run.signal`, made on first use. */
  ac: AbortController | null = null;
  /** Called once when the body has settled (finished, or unwound after a kill). */
  onSettled: (() => void) | null = null;
  /** Cleanups registered with `$.onCleanup` (run before the next run, on cancel, when unobserved). */
  cleanups: (() => void)[] | null = null;
  /** A spin the run tracked before it settled (`ERR_NOT_SETTLED`): the node re-checks once it is ready. */
  notSettled: SpinNode | null = null;
  /** Hand-offs (waits settled with an undo) the body could have seen: consumed at its next effect. */
  seen: Parked[] | null = null;
  /** Every wait of the run that settled with an undo (a hand-off), for `Run.kill`. */
  handoffs: Parked[] | null = null;
}

/** `e` made pending: no version, value or source yet. */
function pending(e: Entry): Entry {
  e.version = 0;
  e.value = undefined;
  e.bits &= ~Bits.SETTLED;
  e.ref = null;
  return e;
}

/**
 * Settle read `e`, whose source threw `err` or could not be read, as an error read that no
 * version of the source matches: the log check re-runs the node from it (a pending entry in a
 * committed log would end every check there).
 */
function unread(e: Entry, err: unknown): void {
  e.version = -1;
  e.value = err;
  e.bits = (e.bits & Bits.KIND) | Bits.SETTLED;
}

function settleFrom<T>(out: PromiseLike<T> | T, waiter: Waiter<unknown>): void {
  if (out !== null && typeof out === "object" && typeof (out as PromiseLike<T>).then === "function") {
    (out as PromiseLike<T>).then(
      (v) => waiter.resolve(v),
      (err) => waiter.reject(err),
    );
  } else {
    waiter.resolve(out);
  }
}

/**
 * The node serving the spin entry that checking node `n`'s check waits on: the first of the log it
 * checks (an in-flight log to adopt, kept while the check waits, else its committed log) that is
 * not ready (the entries before it are unchanged), or null if none.
 * @internal
 */
export function checkWaitsOn(n: SpinNode): SpinNode | null {
  const ctx = n.ctx;
  for (const e of n.adopt ?? n.log) {
    if ((e.bits & Bits.KIND) !== Kind.Spin) continue;
    const ref = e.ref as SpinNode | null;
    const m =
      ref !== null && ref.ctx === ctx
        ? ref
        : ctx._node(e.id, (e.src as SpinHandle | null) ?? undefined, false);
    if (m === undefined) return null;
    if (!isReady(m)) return m;
  }
  return null;
}

/**
 * The labels of the spins from `n` to `target` through the runs in flight and the spins they
 * await (`path`: the labels up to `n`'s), or null if `n` does not wait on `target`.
 */
function waitPath(n: SpinNode, target: SpinNode, path: string[], seen: Set<SpinNode>): string[] | null {
  if (n === target) return path;
  if (seen.has(n) || n.run === null) return null;
  seen.add(n);
  const parks = n.run.more !== null ? n.run.more.parks : null;
  if (parks === null) return null;
  for (const p of parks) {
    if (p.child === null) continue;
    const found = waitPath(p.child, target, [...path, p.child.label], seen);
    if (found !== null) return found;
  }
  return null;
}

/**
 * The labels of the spins from `n` to `target` through the spin entries of the logs (committed,
 * and of the run in flight) of spins whose log check is in progress or whose run is in flight
 * (`path`: the labels up to `n`'s), or null if there is no such way: whether `target`'s run is
 * one that `n`'s check started, reading what `n` depends on.
 */
function checkPath(n: SpinNode, target: SpinNode, path: string[], seen: Set<SpinNode>): string[] | null {
  if (seen.has(n)) return null;
  seen.add(n);
  const run = n.run;
  for (const log of run !== null ? [n.log, run.log] : [n.log]) {
    for (const e of log) {
      if ((e.bits & Bits.KIND) !== Kind.Spin) continue;
      const ref = e.ref as SpinNode | null;
      const m =
        ref !== null && ref.ctx === n.ctx
          ? ref
          : n.ctx._node(e.id, (e.src as SpinHandle | null) ?? undefined, false);
      if (m === undefined) continue;
      if (m === target) return path;
      if (m.run === null && !checkInProgress(m)) continue;
      const found = checkPath(m, target, [...path, m.label], seen);
      if (found !== null) return found;
    }
  }
  return null;
}

function cycleError(path: string[], back: string): SpindelError {
  return new SpindelError(
    "ERR_CYCLE",
    `dependency cycle: ${[...path, back].join(" -> ")} (a spin cannot wait on its own result)`,
    { spins: [...path, back] },
  );
}

/** `$.track`'s refusal of `source`, neither a signal nor a spin. */
function notASource(source: unknown): never {
  return invalidArgument(`$.track expects a Signal or a Spin, got ${describe(source)}`);
}

function describe(x: unknown): string {
  if (x === null) return "null";
  if (typeof x === "object") return (x as object).constructor?.name ?? "object";
  return typeof x;
}
