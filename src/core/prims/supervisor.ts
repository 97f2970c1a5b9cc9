/**
 * Supervisors: run child spins, restart them when they fail (one-for-one, one-for-all,
 * rest-for-one) within a restart budget, give up through `onFatal`, and shut down on request.
 * @module
 */
import { type OnceSource, WAIT, type Waiter } from "../awaitable.js";
import type { TimerHandle } from "../clock.js";
import type { Context, PrimitiveState } from "../context.js";
import { invalidArgument } from "../errors.js";
import { cancel, onSettled, ownNodeOf } from "../kernel/prim-api.js";
import type { SerializableState } from "../registry.js";
import { Spin, type SpinScope } from "../spin.js";
import { checkMs, contextFor, drainLater, SUPERVISOR_STOPPED } from "./prim.js";

/** How a failure of one child affects the others. */
export type RestartStrategy = "one-for-one" | "one-for-all" | "rest-for-one";

/** A supervised child: a spin, or a factory making a fresh spin for every (re)start. */
export interface ChildSpec {
  /** Name of the child (reported to `onFatal` and `onRestart`). */
  readonly id: string;
  /** The child: a spin handle (restarted with a fresh run) or a factory called on every start. */
  readonly start: Spin<unknown> | (() => Spin<unknown>);
}

/** Options of {@link supervisor}. */
export interface SupervisorOptions {
  /** Restart strategy (default `"one-for-one"`). */
  strategy?: RestartStrategy;
  /** Restarts allowed within `windowMs` before giving up (default 5). */
  maxRestarts?: number;
  /** The budget window in milliseconds of the context's clock (default 60 000). */
  windowMs?: number;
  /** Called once when the budget is exhausted, with the failure that exhausted it. */
  onFatal?: (error: unknown, child: string) => void;
  /** Called before each restart caused by `child` failing with `error`. */
  onRestart?: (child: string, error: unknown) => void;
  /**
   * How long a stopped child may take to unwind (its `finally` blocks) before the supervisor goes
   * on anyway, in milliseconds of the context's clock (default 5 000).
   */
  shutdownMs?: number;
  /** Debug name. */
  name?: string;
}

/** How a supervisor ended: shut down, or gave up after too many restarts. */
export type SupervisorExit =
  | { readonly reason: "shutdown" }
  | { readonly reason: "fatal"; readonly child: string; readonly error: unknown };

interface Slot {
  readonly spec: ChildSpec;
  spin: Spin<unknown> | null;
  stop: (() => void) | null;
  /** Bumped at every (re)start: failures of an older incarnation are ignored. */
  gen: number;
}

interface Failure {
  readonly slot: Slot;
  readonly gen: number;
  readonly error: unknown;
}

/** One running supervisor in one context (a run of the supervisor spin). */
class SupRun {
  done = false;
  readonly slots: Slot[];
  private readonly restarts: number[] = [];
  private readonly failures: Failure[] = [];
  private processing = false;

  constructor(
    readonly ctx: Context,
    private readonly waiter: Waiter<SupervisorExit>,
    specs: readonly ChildSpec[],
    private readonly opts: Required<
      Pick<SupervisorOptions, "strategy" | "maxRestarts" | "windowMs" | "shutdownMs">
    > &
      SupervisorOptions,
  ) {
    this.slots = specs.map((spec) => ({ spec, spin: null, stop: null, gen: 0 }));
  }

  startAll(): void {
    for (const s of this.slots) {
      if (this.done) return;
      this.start(s);
    }
  }

  private start(slot: Slot): void {
    const ctx = this.ctx;
    const gen = ++slot.gen;
    const spec = slot.spec;
    const s = spec.start instanceof Spin ? spec.start : spec.start();
    if (!(s instanceof Spin)) invalidArgument(`supervisor child ${spec.id}: start() must return a Spin`);
    slot.spin = s;
    if (spec.start instanceof Spin && gen > 1) ctx.rerun(s); // a fixed handle starts over
    slot.stop = ctx.spawn(s, {
      onError: (error) => {
        if (this.done || slot.gen !== gen) return;
        this.failures.push({ slot, gen, error });
        this.schedule();
      },
    });
  }

  /**
   * Stop a child for good: unsubscribe, then cancel its run if it is running. Resolves once the
   * cancelled body has unwound (its `finally` blocks ran), or after `shutdownMs` if it does not.
   */
  private stop(slot: Slot): Promise<void> | null {
    slot.gen++;
    const stop = slot.stop;
    slot.stop = null;
    stop?.();
    const s = slot.spin;
    const ctx = this.ctx;
    if (s === null || ctx.disposed) return null;
    const n = ownNodeOf(ctx, s);
    let unwind: () => void = noop;
    const unwound = new Promise<void>((resolve) => {
      unwind = resolve;
    });
    if (!onSettled(n, unwind)) return null;
    cancel(n, SUPERVISOR_STOPPED);
    return unwound;
  }

  /** Stop every child, last first; resolves when they have unwound. */
  private stopRange(from: number, to: number): Promise<void> {
    const waits: Promise<void>[] = [];
    for (let j = to; j >= from; j--) {
      const w = this.stop(this.slots[j]!);
      if (w !== null) waits.push(w);
    }
    if (!this.ctx.disposed) drainLater(this.ctx);
    if (waits.length === 0) return Promise.resolve();
    const ctx = this.ctx;
    return new Promise<void>((resolve) => {
      let timer: TimerHandle | null = null;
      const done = (): void => {
        timer?.cancel();
        timer = null;
        resolve();
      };
      if (!ctx.disposed) timer = ctx.setTimer(this.opts.shutdownMs, done);
      Promise.all(waits).then(done);
    });
  }

  /** Failures are handled one at a time, counted as busy for `ctx.settled()`. */
  private schedule(): void {
    if (this.processing) return;
    this.processing = true;
    this.ctx._busy(1);
    queueMicrotask(() => {
      void this.process();
    });
  }

  private async process(): Promise<void> {
    try {
      while (this.failures.length > 0 && !this.done && !this.ctx.disposed) {
        const f = this.failures.shift()!;
        if (f.slot.gen !== f.gen) continue; // that incarnation was already stopped or restarted
        await this.handle(f.slot, f.error);
      }
    } catch (err) {
      this.ctx._report("supervisor", err);
    } finally {
      this.processing = false;
      this.ctx._busy(-1);
    }
  }

  private async handle(slot: Slot, error: unknown): Promise<void> {
    const now = this.ctx.now();
    const { windowMs, maxRestarts, strategy } = this.opts;
    while (this.restarts.length > 0 && now - this.restarts[0]! >= windowMs) this.restarts.shift();
    if (this.restarts.length >= maxRestarts) {
      await this.finish({ reason: "fatal", child: slot.spec.id, error });
      try {
        this.opts.onFatal?.(error, slot.spec.id);
      } catch (err) {
        this.ctx._report("supervisor onFatal", err);
      }
      return;
    }
    this.restarts.push(now);
    try {
      this.opts.onRestart?.(slot.spec.id, error);
    } catch (err) {
      this.ctx._report("supervisor onRestart", err);
    }
    const i = this.slots.indexOf(slot);
    const from = strategy === "one-for-all" ? 0 : i;
    const to = strategy === "one-for-one" ? i : this.slots.length - 1;
    await this.stopRange(from, to);
    for (let j = from; j <= to && !this.done && !this.ctx.disposed; j++) this.start(this.slots[j]!);
  }

  /** End the supervisor: stop every child, then settle its spin with `exit`. */
  finish(exit: SupervisorExit): Promise<void> {
    if (this.done) return Promise.resolve();
    this.done = true;
    const ctx = this.ctx;
    ctx._busy(1);
    return this.stopRange(0, this.slots.length - 1).then(() => {
      ctx._busy(-1);
      this.waiter.resolve(exit);
    });
  }

  /** The supervisor's run was cancelled or superseded: stop the children (they unwind on their own). */
  abandon(): void {
    if (this.done) return;
    this.done = true;
    for (let j = this.slots.length - 1; j >= 0; j--) this.stop(this.slots[j]!);
  }
}

class SupState implements PrimitiveState, SerializableState {
  run: SupRun | null = null;
  forked(): SupState {
    return new SupState(); // a fork re-creates the supervisor's run (and its children) when it adopts it
  }
  snapshot(): SupState {
    return new SupState();
  }
  dispose(): void {
    this.run?.abandon();
    this.run = null;
  }
  serialize(): undefined {
    return undefined; // transient: the children's own state is in their spins
  }
}

let nextSupervisor = 0;

/**
 * A supervisor: a spin that starts its children (as spawned spins in the context it runs in),
 * restarts them when they fail, and settles when it is shut down or gives up. Use
 * `ctx.spawn(sup)` (or `ctx.value(sup)`) to run it and `sup.shutdown(ctx)` to stop it.
 */
export class Supervisor extends Spin<SupervisorExit> {
  /** The children. */
  readonly specs: readonly ChildSpec[];
  /** The options in effect. */
  readonly options: Readonly<SupervisorOptions>;
  /** Key of the per-context state holding the running instance. */
  private readonly key: object;

  /**
   * Use {@link supervisor}.
   * @param specs children
   * @param opts options
   */
  constructor(specs: readonly ChildSpec[], opts: SupervisorOptions = {}) {
    const o = {
      ...opts,
      strategy: opts.strategy ?? "one-for-one",
      maxRestarts: opts.maxRestarts ?? 5,
      windowMs: opts.windowMs ?? 60_000,
      shutdownMs: opts.shutdownMs ?? 5_000,
    };
    const key = {};
    const src: OnceSource<SupervisorExit> = {
      [WAIT]: (ctx: Context, w: Waiter<SupervisorExit>) => {
        const st = ctx._state(key, () => new SupState());
        const run = new SupRun(ctx, w, specs, o);
        st.run = run;
        w.onAbandon(() => {
          run.abandon();
          if (st.run === run) st.run = null;
        });
        run.startAll();
      },
    };
    super(
      ($: SpinScope) => $.await(src),
      { name: opts.name ?? "supervisor" },
      `supervisor${++nextSupervisor}`,
    );
    this.specs = specs;
    this.options = o;
    this.key = key;
  }

  private current(ctx: Context): SupRun | null {
    const st = ctx.states.get(this.key) as SupState | undefined;
    const run = st?.run ?? null;
    return run !== null && !run.done ? run : null;
  }

  /**
   * Stop every child (last first) and settle the supervisor with `{ reason: "shutdown" }` once they
   * have unwound. Returns false if it was not running in `ctx`.
   */
  shutdown(ctx?: Context): boolean {
    const run = this.current(contextFor(ctx, "shut down a supervisor"));
    if (run === null) return false;
    void run.finish({ reason: "shutdown" });
    return true;
  }

  /** The spins of the children currently started in `ctx` (in order), for inspection. */
  children(ctx?: Context): readonly (Spin<unknown> | null)[] {
    const run = this.current(contextFor(ctx, "inspect a supervisor"));
    return run === null ? [] : run.slots.map((s) => (s.stop !== null ? s.spin : null));
  }
}

function checkSpecs(children: readonly ChildSpec[]): void {
  if (!Array.isArray(children) || children.length === 0)
    invalidArgument("supervisor expects a non-empty array of { id, start } children");
  const ids = new Set<string>();
  for (const c of children) {
    if (c === null || typeof c !== "object" || typeof c.id !== "string")
      invalidArgument("supervisor child must be { id: string, start: Spin | () => Spin }");
    if (!(c.start instanceof Spin) && typeof c.start !== "function")
      invalidArgument(`supervisor child ${c.id}: start must be a Spin or a function returning one`);
    if (ids.has(c.id)) invalidArgument(`supervisor child ids must be unique: ${c.id}`);
    ids.add(c.id);
  }
}

function checkOptions(o: SupervisorOptions): void {
  const { strategy, maxRestarts, windowMs } = o;
  if (
    strategy !== undefined &&
    strategy !== "one-for-one" &&
    strategy !== "one-for-all" &&
    strategy !== "rest-for-one"
  )
    invalidArgument(
      `supervisor strategy must be one-for-one, one-for-all or rest-for-one, got ${String(strategy)}`,
    );
  if (maxRestarts !== undefined && (!Number.isInteger(maxRestarts) || maxRestarts < 0))
    invalidArgument(`supervisor maxRestarts must be an integer >= 0, got ${String(maxRestarts)}`);
  if (windowMs !== undefined && !(windowMs > 0))
    invalidArgument(`supervisor windowMs must be > 0, got ${String(windowMs)}`);
  if (o.shutdownMs !== undefined) checkMs(o.shutdownMs, "supervisor shutdownMs");
}

/**
 * Create a {@link Supervisor} over `children`. Strategies: `"one-for-one"` restarts only the failed
 * child; `"one-for-all"` stops every other child (cancelling running ones and waiting, at most
 * `shutdownMs`, until their `finally` blocks ran) and restarts all; `"rest-for-one"` stops and
 * restarts the failed child and those after it. More than `maxRestarts` restarts within `windowMs`
 * stop everything, call `onFatal` and settle the supervisor with `{ reason: "fatal" }`. Failures are
 * handled one at a time, after the current drain step (they count as busy for `ctx.settled()`).
 *
 * ```ts
 * const sup = supervisor([{ id: "worker", start: worker }], { strategy: "one-for-one", maxRestarts: 3 });
 * ctx.spawn(sup);
 * sup.shutdown(ctx);
 * ```
 */
export function supervisor(children: readonly ChildSpec[], opts?: SupervisorOptions): Supervisor {
  checkSpecs(children);
  checkOptions(opts ?? {});
  return new Supervisor(children.slice(), opts);
}

/** Shut `sup` down in `ctx` (see {@link Supervisor.shutdown}). */
export function shutdown(sup: Supervisor, ctx?: Context): boolean {
  if (!(sup instanceof Supervisor)) invalidArgument(`shutdown expects a Supervisor, got ${String(sup)}`);
  return sup.shutdown(ctx);
}

const noop = (): void => {};
