/**
 * Combinators over spins and one-shot sources: `parallel`, `race`, `attempt`, `absolve`, and the
 * race machinery `timeout` builds on.
 * @module
 */
import { isOnceSource, type OnceSource, WAIT, type Waiter } from "../awaitable.js";
import type { Context } from "../context.js";
import { type Cancelled, invalidArgument, isCancelled, SpindelError } from "../errors.js";
import {
  cancelIfUnheld,
  hold,
  isOk,
  isRunning,
  isSettled,
  nodeOf,
  type PrimNode,
  release as releaseNode,
  resultOf,
  update,
  whenSettled,
} from "../kernel/prim-api.js";
import { type Awaitable, Spin, type SpinScope, spin } from "../spin.js";
import { drainLater, RACE_LOST, revive, SIBLING_FAILED } from "./prim.js";

/** The value an awaitable child resolves with. */
export type ValueOf<X> =
  X extends Spin<infer V>
    ? V
    : X extends OnceSource<infer V>
      ? V
      : X extends PromiseLike<infer V>
        ? V
        : X extends (signal: AbortSignal) => infer R
          ? Awaited<R>
          : never;

/** The result tuple of `parallel(...children)`: each child's value, in argument order. */
export type Results<T extends readonly unknown[]> = { -readonly [K in keyof T]: ValueOf<T[K]> };

function describe(x: unknown): string {
  if (x === null) return "null";
  if (typeof x === "object") return (x as object).constructor?.name ?? "object";
  return typeof x;
}

function isThenable(x: unknown): x is PromiseLike<unknown> {
  return x !== null && typeof x === "object" && typeof (x as PromiseLike<unknown>).then === "function";
}

function checkChildren(what: string, children: readonly unknown[]): void {
  if (children.length === 0) invalidArgument(`${what} expects at least one child`);
  for (const c of children) {
    if (c instanceof Spin || isOnceSource(c) || typeof c === "function" || isThenable(c)) continue;
    invalidArgument(`${what} expects spins, promises, thunks or one-shot sources, got ${describe(c)}`);
  }
}

/**
 * A one-shot source that starts every child and settles with the first to settle: its value, or its
 * error unless that error is a cancellation (cancellations are ignored until every child has been
 * cancelled). Losers are dropped: running spins nobody else holds are cancelled with `lost` (their
 * `finally` blocks run and their timers are disarmed), pending one-shot waits are abandoned (a
 * mailbox keeps its message), thunks see their `AbortSignal` abort. Internal.
 * @internal
 */
export class RaceSource<T> implements OnceSource<T> {
  /**
   * @param children the contenders
   * @param lost the cancellation given to losing spins
   */
  constructor(
    readonly children: readonly Awaitable<unknown>[],
    readonly lost: Cancelled,
  ) {}

  /** The one-shot wait of the race (the `OnceSource` protocol). */
  [WAIT](ctx: Context, waiter: Waiter<T>): void {
    new RaceRun(ctx, waiter as Waiter<unknown>, this.children, this.lost).start();
  }
}

class RaceRun {
  private done = false;
  private remaining: number;
  private readonly drops: ((() => void) | null)[];
  private ac: AbortController | null = null;

  constructor(
    private readonly ctx: Context,
    private readonly waiter: Waiter<unknown>,
    private readonly children: readonly Awaitable<unknown>[],
    private readonly lost: Cancelled,
  ) {
    this.remaining = children.length;
    this.drops = new Array(children.length).fill(null);
  }

  start(): void {
    this.waiter.onAbandon(() => this.end(-1));
    const cs = this.children;
    for (let i = 0; i < cs.length && !this.done; i++) {
      try {
        this.startChild(i, cs[i]);
      } catch (err) {
        this.settle(i, false, err);
      }
    }
  }

  private startChild(i: number, c: Awaitable<unknown> | undefined): void {
    if (c instanceof Spin) {
      this.startSpin(i, c);
    } else if (isOnceSource(c)) {
      this.startOnce(i, c);
    } else if (typeof c === "function") {
      const ac = (this.ac ??= new AbortController());
      const out = c.length > 0 ? c(ac.signal) : (c as () => unknown)();
      if (isThenable(out)) this.follow(i, out);
      else this.settle(i, true, out);
    } else if (isThenable(c)) {
      this.follow(i, c);
    } else {
      this.settle(i, false, new SpindelError("ERR_INVALID_ARGUMENT", `race: cannot wait on ${describe(c)}`));
    }
  }

  private follow(i: number, p: PromiseLike<unknown>): void {
    p.then(
      (v) => this.settle(i, true, v),
      (e) => this.settle(i, false, e),
    );
  }

  private startSpin(i: number, s: Spin<unknown>): void {
    const ctx = this.ctx;
    revive(ctx, s);
    const node = nodeOf(ctx, s);
    update(node);
    if (isSettled(node)) {
      this.settle(i, isOk(node), resultOf(node));
      return;
    }
    hold(node);
    let held = true;
    const release = (): boolean => {
      if (!held) return false;
      held = false;
      releaseNode(node);
      return true;
    };
    this.drops[i] = () => {
      if (release() && !ctx.disposed) cancelIfUnheld(node, this.lost);
    };
    whenSettled(node, (ok, value) => {
      if (release()) this.settle(i, ok, value);
    });
  }

  private startOnce(i: number, src: OnceSource<unknown>): void {
    const race = this;
    let over = false;
    let abandons: (() => void)[] | null = null;
    const sub: Waiter<unknown> = {
      get alive(): boolean {
        return !over && !race.done && race.waiter.alive;
      },
      spinId: this.waiter.spinId,
      resolve(v: unknown, undo?: () => void): boolean {
        if (over) return false;
        over = true;
        return race.settle(i, true, v, undo);
      },
      reject(e: unknown): boolean {
        if (over) return false;
        over = true;
        return race.settle(i, false, e);
      },
      onAbandon(fn: () => void): void {
        if (over) return;
        if (race.done) {
          over = true;
          fn();
          return;
        }
        (abandons ??= []).push(fn);
      },
    };
    this.drops[i] = () => {
      if (over) return;
      over = true;
      const fs = abandons;
      abandons = null;
      if (fs !== null) for (const f of fs) f();
    };
    src[WAIT](this.ctx, sub);
  }

  /** A child settled. Returns whether the hand-off was taken (false: the source keeps its value). */
  private settle(i: number, ok: boolean, value: unknown, undo?: () => void): boolean {
    if (this.done) return false;
    if (!ok && isCancelled(value)) {
      this.drops[i] = null;
      if (--this.remaining > 0) return true;
      this.end(i);
      return this.waiter.reject(value);
    }
    this.end(i);
    return ok ? this.waiter.resolve(value, undo) : this.waiter.reject(value);
  }

  /** Stop the race: drop every child but the winner (-1: drop all, the wait was abandoned). */
  private end(winner: number): void {
    if (this.done) return;
    this.done = true;
    const drops = this.drops;
    for (let j = 0; j < drops.length; j++) {
      const d = drops[j];
      drops[j] = null;
      if (j !== winner && d !== null) d();
    }
    if (this.ac !== null && !this.ac.signal.aborted) this.ac.abort(this.lost);
    if (!this.ctx.disposed) drainLater(this.ctx);
  }
}

/**
 * A spin settling with the first child to settle: spins, one-shot sources (deferred, mailbox,
 * `delay`...), promises or thunks. A child's error wins like a value, except cancellations, which
 * are ignored unless every child was cancelled. Losers are cancelled (running spins nobody else
 * waits on: their `finally` blocks run, their timers are disarmed) or abandoned (a mailbox keeps
 * its message). Not reactive: once settled, a race keeps its result.
 *
 * ```ts
 * const fastest = race(fetchFromA, fetchFromB, sleep(1000, "fallback"));
 * ```
 */
export function race<const T extends readonly Awaitable<unknown>[]>(
  ...children: T
): Spin<ValueOf<T[number]>> {
  checkChildren("race", children);
  const src = new RaceSource<ValueOf<T[number]>>(children, RACE_LOST);
  return spin(($: SpinScope) => $.await(src), { name: "race" });
}

/**
 * The one-shot form of {@link race}, for `$.await` inside a body: settles with the first child to
 * settle, with the same rules (losers cancelled or abandoned). Being a one-shot wait, it is replayed
 * by a re-run before the point of change and started afresh after it, unlike a `race` spin, which is
 * cached. Prefer it to `Promise.race([$.await(a), $.await(b)])` with consuming sources (mailbox,
 * iterators): there a message arriving in the same instant as the winner is received and dropped,
 * while `first` leaves it in the mailbox.
 *
 * ```ts
 * const msg = await $.await(first(inbox, delay(1000, null))); // a receive with a deadline
 * ```
 */
export function first<const T extends readonly Awaitable<unknown>[]>(
  ...children: T
): OnceSource<ValueOf<T[number]>> {
  checkChildren("first", children);
  return new RaceSource<ValueOf<T[number]>>(children, RACE_LOST);
}

function sameItems(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

/**
 * A spin resolving with every child's value, in argument order. Every child starts before the
 * first wait (no waterfall). The first error rejects the whole and cancels the siblings still
 * running that nobody else waits on (fail-fast). Reactive: when a child spin re-completes, its slot
 * is updated (compared with the previous value: an equal result does not re-fire). One-shot
 * children (deferred, mailbox, promises) are waited on once and replayed afterwards.
 *
 * ```ts
 * const [user, posts] = await ctx.value(parallel(loadUser, loadPosts));
 * ```
 */
export function parallel<const T extends readonly Awaitable<unknown>[]>(...children: T): Spin<Results<T>> {
  checkChildren("parallel", children);
  const n = children.length;
  // one-shot children are awaited first so that a spin child's re-completion (a point of change
  // later in the log) replays them instead of waiting on them again
  const order: number[] = [];
  for (let i = 0; i < n; i++) if (!(children[i] instanceof Spin)) order.push(i);
  for (let i = 0; i < n; i++) if (children[i] instanceof Spin) order.push(i);
  return spin(
    async ($: SpinScope) => {
      const ctx = $.context;
      const ps: Promise<unknown>[] = new Array(n);
      for (const i of order) {
        const c = children[i]!;
        if (c instanceof Spin) revive(ctx, c);
        ps[i] = $.await(c);
      }
      try {
        return (await Promise.all(ps)) as Results<T>;
      } catch (err) {
        if (!$.signal.aborted) failFast(ctx, children);
        throw err;
      }
    },
    { name: "parallel", equals: sameItems as (a: Results<T>, b: Results<T>) => boolean },
  );
}

/**
 * Cancel the still-running spin children that only this parallel waits on (a running child is one
 * this run's wait on it is still pending for: it holds it once per occurrence).
 */
function failFast(ctx: Context, children: readonly Awaitable<unknown>[]): void {
  const mine = new Map<PrimNode, number>();
  for (const c of children) {
    if (!(c instanceof Spin)) continue;
    const node = nodeOf(ctx, c);
    if (isRunning(node)) mine.set(node, (mine.get(node) ?? 0) + 1);
  }
  if (mine.size === 0) return;
  for (const [node, k] of mine) cancelIfUnheld(node, SIBLING_FAILED, k);
  drainLater(ctx);
}

const outcomes = new WeakMap<object, { readonly ok: boolean; readonly v: unknown }>();

function outcome<T>(ok: boolean, v: unknown): () => T {
  const f = ok
    ? () => v as T
    : () => {
        throw v;
      };
  outcomes.set(f, { ok, v });
  return f;
}

function sameOutcome(a: unknown, b: unknown): boolean {
  const x = outcomes.get(a as object);
  const y = outcomes.get(b as object);
  return x !== undefined && y !== undefined && x.ok === y.ok && Object.is(x.v, y.v);
}

/**
 * A spin that never fails: it resolves with a thunk returning the child's value, or throwing its
 * error when called. Reactive like `$.await(child)`.
 *
 * ```ts
 * const r = await ctx.value(attempt(risky));
 * try { use(r()); } catch (e) { report(e); }
 * ```
 */
export function attempt<T>(child: Awaitable<T>): Spin<() => T> {
  checkChildren("attempt", [child]);
  return spin(
    async ($: SpinScope) => {
      try {
        return outcome<T>(true, await $.await(child));
      } catch (err) {
        if ($.signal.aborted) throw err;
        return outcome<T>(false, err);
      }
    },
    { name: "attempt", equals: sameOutcome },
  );
}

/** The inverse of {@link attempt}: a spin calling the thunk its child resolves with (rejecting if it throws). */
export function absolve<T>(child: Awaitable<() => T>): Spin<T> {
  checkChildren("absolve", [child]);
  return spin(
    async ($: SpinScope) => {
      const f = await $.await(child);
      if (typeof f !== "function")
        invalidArgument(`absolve expects its child to resolve with a thunk, got ${describe(f)}`);
      return f();
    },
    { name: "absolve" },
  );
}
