/**
 * Per-context state of one spin: cached result, effect log of the last run, the run in flight,
 * observers and subscribers. Internal.
 * @module
 */
import type { Spin, SpinBody } from "../spin.js";
import { Flag } from "./flags.js";
import { G } from "./globals.js";
import type { KernelHost } from "./host.js";
import type { Observers } from "./observers.js";
import type { Run } from "./run.js";

/** Effect kinds recorded in a run's log. */
// biome-ignore lint/suspicious/noConstEnum: internal, inlined by tsc (build) and esbuild
export const enum Kind {
  // (the two reads come first: `kind < Kind.Once` tells a read)
  /** `$.track(signal)` / `$.interval(signal)`: reactive dependency on a signal. */
  Signal = 1,
  /** `$.track(spin)` / `$.await(spin)`: reactive dependency on a spin. */
  Spin = 2,
  /** A one-shot external wait (promise, thunk, deferred, mailbox, timer, remote call): replayed, never redone. */
  Once = 3,
  /** `$.set(signal, v)`: a write, skipped on replay. */
  Set = 4,
}

/**
 * The bits of `Entry.bits`: the effect's {@link Kind} in the low three, then whether it settled
 * and whether it settled without an error. One small integer where three fields were (8 bytes
 * each in Node's V8): a read's settlement is one store.
 */
// biome-ignore lint/suspicious/noConstEnum: internal, inlined by tsc (build) and esbuild
export const enum Bits {
  /** Mask of the {@link Kind}. */
  KIND = 7,
  /** The effect settled (clear while pending). */
  SETTLED = 8,
  /** It settled with a value, not an error (set from the start: a pending effect has no error). */
  OK = 16,
}

/** One recorded effect. Entries are immutable once the effect settled. Internal. */
export interface Entry {
  /** Effect kind (`bits & Bits.KIND`), {@link Bits.SETTLED}, {@link Bits.OK}. */
  bits: number;
  /** Source id: signal id, spin id, or "" for one-shot waits. */
  readonly id: string;
  /** Version of the source observed (signals and spins); 0 while pending. */
  version: number;
  /** Settled value (or error when {@link Bits.OK} is clear). */
  value: unknown;
  /** The source object when known (a root's cell or node): O(1) change checks. */
  ref: object | null;
  /** `_uid` of the handle a tracked read took (0: none, or not known): `prune` compares sources by it. */
  uid: number;
  /**
   * The handle a tracked read took (null: none, or not known): `$.track` tells a read repeating the
   * last run's by this identity, without a load from the handle (whose class varies by source).
   */
  src: object | null;
}

/** The effect kind of `e`. */
export function kindOf(e: Entry): Kind {
  return (e.bits & Bits.KIND) as Kind;
}

/** Whether `e` settled. */
export function isSettled(e: Entry): boolean {
  return (e.bits & Bits.SETTLED) !== 0;
}

/** Whether `e` settled with a value (or is pending), not an error. */
export function isOk(e: Entry): boolean {
  return (e.bits & Bits.OK) !== 0;
}

/** Observe subscription. */
export interface Subscriber<T = unknown> {
  /** Called with every new successful result. */
  readonly onValue: ((value: T) => void) | undefined;
  /** Called with every new error result. */
  readonly onError: ((error: unknown) => void) | undefined;
  /** Result version last delivered. */
  seen: number;
}

/** A callback run once the node is ready (settled, clean). */
export type NodeWaiter = (node: SpinNode) => void;

/** Per-context state of one spin. */
export class SpinNode {
  // Field order is memory layout: V8 places fields in declaration order, and the fields a
  // re-run touches (refresh, startRun, commit, track, the staleness walk) come first, in as few
  // cache lines as they fit; those of rare paths follow.
  /** Flags: {@link Flag.STALE}, {@link Flag.CANCELLED}. */
  flags = 0;
  /** The run in flight, if any. */
  run: Run | null = null;
  /** Nodes of the same context that depend on this one. */
  observers: Observers | null = null;
  /** `ctx.observe` (and `ctx.spawn`) subscribers; null when there is none. */
  subs: Subscriber[] | null = null;
  /** Waiters for the next clean result (ctx.value callers, parent awaits). */
  waiters: NodeWaiter[] | null = null;
  /** 0: no result yet, 1: ok, 2: error. */
  status: 0 | 1 | 2 = 0;
  /** Effect log of the last committed run. */
  log: Entry[] = emptyList();
  /** Cached value or error. */
  result: unknown = undefined;
  /** Global version of the cached result (0: none). */
  version = 0;
  /** The owning context. */
  readonly ctx: KernelHost;
  /** The body to run (null after deserialization until a handle supplies it). */
  body: SpinBody<unknown> | null;
  /** Result equality. */
  equals: (a: unknown, b: unknown) => boolean;
  /** {@link G.epoch} at which the node was last verified up to date (forks skip re-checks at the same epoch). */
  checkedAt = 0;
  /**
   * {@link G.epoch} at which the node's last log check began (`refresh`, engine.ts). The check is in
   * progress, on the stack, while this is the current epoch and {@link checkedAt} is not (every
   * end of a check that leaves the node ready stores `checkedAt`: the check itself when nothing
   * changed, the commit of the run it started): a run below it that starts reading the node is on
   * a cycle (`Run.checking`), and a check that comes back to it takes it for verified
   * ({@link verifiedAt}). A field of its own, next to `checkedAt` (the cache line of `spare`, which
   * the check reads): the check's first store moved here from `checkedAt`, so the mark costs no
   * instruction. In `checkedAt` as `-epoch` it cost a negation: `refresh` (its lean check inlined)
   * 166 -> 173 optimized instructions a call in root chain (732,425 -> 739,584 an operation with
   * `track`'s test of it); `0 - epoch`, `epoch + 1` and `~epoch` cost 4 to 6 too.
   */
  checkEpoch = 0;
  /** The last run object, kept for the next run when it finished synchronously (see `Run.reset`). */
  spare: Run | null = null;
  /** A log array this node wrote and nothing references any more: the next run writes into it (see {@link installLog}). */
  spareLog: Entry[] | null = null;
  /** Runs committed: tells a reader whether a run happened while it waited. */
  commits = 0;
  /** Whether `log` is this node's alone (written by its own run, not shared with a fork): it may become `spareLog`. */
  logMine = false;
  /** In-flight log inherited from a parent context (fork) or snapshot: replayed on the next run. */
  adopt: Entry[] | null = null;
  /**
   * {@link G.shadowGen} at which the cells referenced by the log's signal entries are the visible
   * ones (0: unknown, look them up).
   */
  refGen = 0;
  /** Scratch stamp of `prune` (engine.ts): the node is a source of the log being pruned against. */
  mark = 0;
  /**
   * The node's number in the hash tables of large observer sets (observers.ts), given when it
   * first joins one (0: never did).
   */
  num = 0;
  /** Consumers waiting on the run in flight (parked runs, `ctx.value` callers): cancellation does not cascade while > 0. */
  holds = 0;
  /** Drain bookkeeping for cycle detection. */
  drainGen = 0;
  /** Re-runs in the current drain. */
  drainHits = 0;
  /** Cleanups registered with `$.onCleanup` by the last committed run. */
  cleanups: (() => void)[] | null = null;
  /**
   * The fields of rare paths (nested spins, cancellation, `$.await` of a spin, debug names), made
   * on first use: a plain computed's node is 48 bytes smaller (Node's V8 does not compress
   * pointers: 8 bytes a field), and a large graph fits in fewer cache lines.
   */
  more: NodeMore | null = null;
  /**
   * The spin's handle, held by its node: while `subs` is not null (an observed spin is not
   * collected, see reaping), and while a detached root node's handle is not registered for
   * reaping (so that attaching it again without the handle at hand can register it).
   */
  pinned: object | null = null;
  /** The spin id. */
  readonly id: string;
  /**
   * @param id the spin id
   * @param ctx the owning context
   * @param body the body to run (null after deserialization until a handle supplies it)
   * @param equals result equality
   * @param deps capture-gate deps of a nested spin
   * @param name debug name
   */
  constructor(
    id: string,
    ctx: KernelHost,
    body: SpinBody<unknown> | null,
    equals: (a: unknown, b: unknown) => boolean,
    deps: readonly unknown[] | undefined,
    name: string | undefined,
  ) {
    this.id = id;
    this.ctx = ctx;
    this.body = body;
    this.equals = equals;
    if (deps !== undefined || name !== undefined) {
      const more = new NodeMore();
      more.deps = deps;
      more.name = name;
      this.more = more;
    }
  }

  /** {@link more}, made if need be. */
  private moreOf(): NodeMore {
    let more = this.more;
    if (more === null) this.more = more = new NodeMore();
    return more;
  }

  /** Global version when the node was cancelled: only later input changes restart it. */
  get cancelVersion(): number {
    return this.more === null ? 0 : this.more.cancelVersion;
  }
  set cancelVersion(v: number) {
    this.moreOf().cancelVersion = v;
  }

  /** Stable handles of nested spins created by this node's body, by address. */
  get children(): Map<string, Spin<unknown>> | null {
    return this.more === null ? null : this.more.children;
  }
  set children(v: Map<string, Spin<unknown>> | null) {
    if (v !== null || this.more !== null) this.moreOf().children = v;
  }

  /** A resolved promise of the cached ok result (see `resolvedResult`). */
  get resolved(): Promise<unknown> | null {
    return this.more === null ? null : this.more.resolved;
  }
  set resolved(v: Promise<unknown> | null) {
    this.moreOf().resolved = v;
  }

  /** Version {@link resolved} belongs to. */
  get resolvedVersion(): number {
    return this.more === null ? 0 : this.more.resolvedVersion;
  }
  set resolvedVersion(v: number) {
    this.moreOf().resolvedVersion = v;
  }

  /** Capture-gate deps of a nested spin. */
  get deps(): readonly unknown[] | undefined {
    return this.more === null ? undefined : this.more.deps;
  }
  set deps(v: readonly unknown[] | undefined) {
    if (v !== undefined || this.more !== null) this.moreOf().deps = v;
  }

  /** Debug name. */
  get name(): string | undefined {
    return this.more === null ? undefined : this.more.name;
  }

  /** Whether something keeps this node live (eager re-runs in the drain). */
  get eager(): boolean {
    return this.subs !== null;
  }

  /** Debug label. */
  get label(): string {
    return this.name ?? this.id;
  }
}

/** The fields of a {@link SpinNode} that only rare paths use (see `SpinNode.more`). Internal. */
export class NodeMore {
  /** See `SpinNode.cancelVersion`. */
  cancelVersion = 0;
  /** See `SpinNode.children`. */
  children: Map<string, Spin<unknown>> | null = null;
  /** See `SpinNode.resolved`. */
  resolved: Promise<unknown> | null = null;
  /** See `SpinNode.resolvedVersion`. */
  resolvedVersion = 0;
  /** See `SpinNode.deps`. */
  deps: readonly unknown[] | undefined = undefined;
  /** See `SpinNode.name`. */
  name: string | undefined = undefined;
}

/**
 * Commits after which a node counts as re-running and keeps spares for its next run (its last run
 * object and the log its last commit replaced): a spin that runs once or twice holds neither.
 */
// biome-ignore lint/suspicious/noConstEnum: internal, inlined by tsc (build) and esbuild
export const enum Spare {
  /** See above. */
  AFTER_COMMITS = 2,
}

/**
 * Install `log` as the node's committed log. `mine`: written by the node's own run and referenced
 * nowhere else, so that it may later be written into again. The log it replaces becomes the
 * node's spare when both are the node's alone and the node keeps re-running.
 */
export function installLog(n: SpinNode, log: Entry[], mine: boolean): void {
  n.spareLog = mine === true && n.logMine === true && n.commits > Spare.AFTER_COMMITS ? n.log : null;
  n.log = log;
  n.logMine = mine;
  n.flags &= ~Flag.LEAN_LOG; // the commit of a lean-checkable run sets it again
}

/**
 * Whether `n` counts as verified at `epoch`: verified then, or its log check began then (taken for
 * verified while it runs, see `SpinNode.checkEpoch`; a check that ended leaving the node stale or
 * waiting is told by its flags). Test `checkedAt` first where it is hot: the second test only runs
 * where a re-check or a slower path follows anyway.
 */
export function verifiedAt(n: SpinNode, epoch: number): boolean {
  return n.checkedAt === epoch || n.checkEpoch === epoch;
}

/** Whether `n`'s log check is in progress, on the stack (see `SpinNode.checkEpoch`). */
export function checkInProgress(n: SpinNode): boolean {
  const epoch = G.epoch;
  return n.checkEpoch === epoch && n.checkedAt !== epoch;
}

/** Settled with a result, nothing in flight, nothing pending. */
export function isReady(n: SpinNode): boolean {
  return n.status !== 0 && n.run === null && (n.flags & (Flag.STALE | Flag.CHECKING)) === 0;
}

/** Run `fn` once `n` is ready (now if it already is). */
export function whenReady(n: SpinNode, fn: NodeWaiter): void {
  if (isReady(n)) fn(n);
  else (n.waiters ??= emptyList()).push(fn);
}

/**
 * A log entry: a class instance, not an object literal, for the reason given at {@link emptyList}.
 * Its kind and id are written again when a run reuses it in place (`Run.slot`).
 */
export class LogEntry implements Entry {
  // Field order is memory layout (V8 places fields in declaration order, 8 bytes each in Node's
  // V8, which does not compress pointers): what a log check (`bits`, `ref`, `version`) and a
  // repeated `$.track` (`src`, `ref`, `bits`) read come first, within one cache line of the
  // 80-byte entry; the id (read when a read moves to another source) and the rest follow. (112
  // bytes while `ok`, `settled` and `consumed` were fields of their own and one-shot waits' undo
  // lived here: see `Parked.undo` in run.ts.)
  bits: number;
  ref: object | null = null;
  src: object | null = null;
  version = 0;
  value: unknown = undefined;
  uid = 0;
  id: string;
  constructor(kind: Kind, id: string) {
    this.bits = kind | Bits.OK;
    this.id = id;
  }
}

/**
 * A new empty array, made by the `Array` constructor rather than a `[]` literal: V8 pretenures a
 * literal's allocation site once many of its arrays survive (the logs of cached spins, the waiters
 * of pending reads), and from then on every run's log would be allocated in the old generation
 * (re-runs 5-8x slower once a context holds a few thousand cached spins).
 */
export function emptyList<T>(): T[] {
  // biome-ignore lint/style/useArrayLiterals: a literal is exactly what must be avoided here
  return new Array<T>();
}

/**
 * Shorten `arr` to `n` elements. `arr.length = n` goes through the engine's slow length setter
 * (a runtime call of hundreds of instructions); popping the few extra elements does not.
 */
export function truncate(arr: unknown[], n: number): void {
  while (arr.length > n) arr.pop();
}

/** Create a log entry. */
export function entry(kind: Kind, id: string): Entry {
  return new LogEntry(kind, id);
}
