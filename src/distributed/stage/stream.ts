/**
 * `streamIntoIdentity`: reduces every new operation of a stage datatype into an identity of the
 * application's choosing (an array, a map, a database connection) through a map of eval functions.
 *
 * Guarantees, per sink:
 * - With `appliedLog`, each unit (an OR-Map record or a CDVCS commit) is logged as applied in the
 *   stage's store, and a restarted stream skips logged units.
 * - Exactly once: an eval function that returns {@link atomicWrites} has those writes committed in the
 *   same `putMany` as the log entry, so the effect and the log land together or not at all.
 * - At least once: any other effect (pushing to an array, calling a service) happens before the log
 *   write; a crash in between re-applies that one unit after restart.
 * @module
 */

import type { Context } from "../../core/context.js";
import { signal as makeSignal, type Signal } from "../../core/signal.js";
import type { Address } from "./address.js";
import { appliedPrefix, checkAddress } from "./address.js";
import { StageError } from "./errors.js";
import type { Op } from "./opmap.js";
import type { Plan, Unit } from "./plan.js";

/** One store write an eval function asks to commit with the applied-log entry: `[key, value]`. */
export type StoreWrite = readonly [key: string, value: unknown];

const ATOMIC = Symbol("spindel.atomicWrites");

/** Writes that {@link streamIntoIdentity} commits atomically with the applied log (exactly once). */
export interface AtomicWrites {
  /** @internal brand */
  readonly [ATOMIC]: true;
  /** The writes, in order. */
  readonly writes: readonly StoreWrite[];
}

/**
 * Wrap the store writes an eval function's effect consists of: returned from an eval function, they
 * are committed in one `putMany` together with the applied-log entry of the unit.
 */
export function atomicWrites(writes: readonly StoreWrite[]): AtomicWrites {
  if (!Array.isArray(writes) || !writes.every((w) => Array.isArray(w) && typeof w[0] === "string"))
    throw new StageError("ERR_INVALID_ARGUMENT", "atomicWrites takes a list of [key, value] pairs");
  return { [ATOMIC]: true, writes };
}

function isAtomic(v: unknown): v is AtomicWrites {
  return typeof v === "object" && v !== null && (v as { [ATOMIC]?: unknown })[ATOMIC] === true;
}

/** An eval function: `(identity, ...args)` for an operation `[name, ...args]`. */
export type EvalFn<I> = (identity: I, ...args: never[]) => unknown;

/** The store a stream logs into (a `KVStore`). */
export interface StreamStore {
  /** Writes entries in order, atomically. */
  putMany(entries: readonly (readonly [string, unknown])[]): Promise<void>;
  /** Deletes a key. */
  delete(key: string): Promise<unknown>;
  /** Every key. */
  keys(): AsyncIterable<{ readonly key: string }>;
}

/** What a stream needs of the datatype it follows. */
export interface StreamSource {
  /** The context the value signal lives in. */
  readonly context: Context;
  /** The datatype's value. */
  readonly value: Signal<unknown>;
  /** The units to apply next. */
  plan(value: unknown, applied: ReadonlySet<string>): Plan;
  /** The store for the applied log. */
  readonly store: StreamStore;
}

/** Options of {@link streamIntoIdentity}. */
export interface StreamOptions<I> {
  /** Name of a persistent applied log in the stage's store: apply once across restarts. */
  appliedLog?: string;
  /**
   * Called when a merge reorders CDVCS history that was already applied: reset `identity` to its
   * empty state; the stream then replays every commit. Without it, new commits are applied in
   * causal order after the old ones (still a valid order of the history).
   */
  reset?: (identity: I) => void | Promise<void>;
}

/** A running stream. */
export interface IdentityStream {
  /** Operations applied by this stream so far. */
  readonly applied: Signal<number>;
  /**
   * The error that stopped the stream (an eval function threw, no eval function for an operation,
   * the store failed), or a `StageError` `ERR_STREAM_CONFLICT` while a CDVCS has several heads (the
   * stream resumes by itself after a merge). `null` when healthy.
   */
  readonly error: Signal<unknown>;
  /** Resolves when everything currently known is applied (rejects with the stopping error). */
  idle(): Promise<void>;
  /** Stops following; an operation being applied completes first. */
  stop(): void;
}

/** Something `streamIntoIdentity` can resolve an address with (a stage). */
export interface StreamableStage {
  /** @internal the stream source of an open datatype */
  _streamSource(address: Address): StreamSource;
}

/**
 * Reduce every new operation of the datatype at `address` into `identity`: for each operation
 * `[name, ...args]`, `evalFns[name](identity, ...args)`. CDVCS commits are applied in commit order;
 * OR-Map records with each dissoc after the assocs it removes. The datatype must be open on the
 * stage (`stage.ormap(id)` / `stage.cdvcs(id)`).
 */
export function streamIntoIdentity<I>(
  stage: StreamableStage,
  address: Address,
  evalFns: Readonly<Record<string, EvalFn<I>>>,
  identity: I,
  opts: StreamOptions<I> = {},
): IdentityStream {
  const addr = checkAddress(address);
  if (typeof evalFns !== "object" || evalFns === null)
    throw new StageError(
      "ERR_INVALID_ARGUMENT",
      "streamIntoIdentity: evalFns is a map from operation name to function",
    );
  if (opts.appliedLog !== undefined && (typeof opts.appliedLog !== "string" || opts.appliedLog === ""))
    throw new StageError("ERR_INVALID_ARGUMENT", "streamIntoIdentity: appliedLog is a non-empty string");
  const source = stage._streamSource(addr);
  return new Stream(source, addr, evalFns, identity, opts).start();
}

class Stream<I> implements IdentityStream {
  readonly applied: Signal<number>;
  readonly error: Signal<unknown>;
  private readonly appliedIds = new Set<string>();
  private stopped = false;
  private running = false;
  private dirty = false;
  private fatal: unknown = undefined;
  private idleWaiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  private unsubscribe: (() => void) | null = null;
  private readonly prefix: string | null;
  private readonly ctx: Context;

  constructor(
    private readonly source: StreamSource,
    address: Address,
    private readonly evalFns: Readonly<Record<string, EvalFn<I>>>,
    private readonly identity: I,
    private readonly opts: StreamOptions<I>,
  ) {
    this.applied = makeSignal(0, { name: "stream.applied" });
    this.error = makeSignal<unknown>(null, { name: "stream.error" });
    this.ctx = source.context;
    this.prefix = opts.appliedLog === undefined ? null : appliedPrefix(opts.appliedLog, address);
  }

  start(): this {
    this.running = true;
    void this.loadLog().then(
      () => {
        this.running = false;
        if (this.stopped) return;
        const pre = this.source.context.toPreact(this.source.value);
        this.unsubscribe = pre.subscribe(() => this.kick());
      },
      (e) => {
        this.running = false;
        this.fail(e);
      },
    );
    return this;
  }

  idle(): Promise<void> {
    if (this.fatal !== undefined) return Promise.reject(this.fatal);
    if (!this.running && !this.dirty && this.unsubscribe !== null && this.pendingNow() === 0)
      return Promise.resolve();
    return new Promise((resolve, reject) => this.idleWaiters.push({ resolve, reject }));
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.unsubscribe?.();
    this.unsubscribe = null;
    const err = new StageError("ERR_STAGE_CLOSED", "the stream was stopped");
    for (const w of this.idleWaiters.splice(0)) w.reject(err);
  }

  private pendingNow(): number {
    const plan = this.source.plan(this.source.context.get(this.source.value), this.appliedIds);
    return plan.kind === "apply" ? plan.units.length : 0;
  }

  private async loadLog(): Promise<void> {
    if (this.prefix === null) return;
    for await (const { key } of this.source.store.keys())
      if (key.startsWith(this.prefix)) this.appliedIds.add(key.slice(this.prefix.length));
  }

  private kick(): void {
    if (this.stopped || this.fatal !== undefined) return;
    this.dirty = true;
    if (!this.running) void this.drain();
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.dirty && !this.stopped) {
        this.dirty = false;
        const value = this.source.context.get(this.source.value);
        let plan = this.source.plan(value, this.appliedIds);
        if (plan.kind === "conflict") {
          this.ctx.set(
            this.error,
            new StageError(
              "ERR_STREAM_CONFLICT",
              `the CDVCS has ${plan.heads.length} heads; the stream waits for a merge`,
              { heads: plan.heads },
            ),
          );
          break;
        }
        if (plan.reordered && this.opts.reset !== undefined) {
          await this.opts.reset(this.identity);
          await this.clearLog();
          plan = this.source.plan(value, this.appliedIds);
          if (plan.kind !== "apply") break;
        }
        const shown = this.ctx.get(this.error);
        if (shown instanceof StageError && shown.code === "ERR_STREAM_CONFLICT")
          this.ctx.set(this.error, null);
        for (const unit of plan.units) {
          if (this.stopped) return;
          await this.applyUnit(unit);
        }
      }
    } catch (e) {
      this.fail(e);
      return;
    } finally {
      this.running = false;
    }
    if (!this.stopped && this.fatal === undefined) {
      if (this.dirty) void this.drain();
      else for (const w of this.idleWaiters.splice(0)) w.resolve();
    }
  }

  private async applyUnit(unit: Unit): Promise<void> {
    const writes: (readonly [string, unknown])[] = [];
    for (const op of unit.ops) {
      const [name, ...args] = op as Op;
      const fn = this.evalFns[name];
      if (typeof fn !== "function")
        throw new StageError("ERR_NO_EVAL_FN", `no eval function for operation "${name}"`, {
          op,
          unit: unit.id,
        });
      const out = await (fn as (identity: I, ...a: unknown[]) => unknown)(this.identity, ...args);
      if (isAtomic(out)) writes.push(...out.writes);
    }
    if (this.prefix !== null) {
      writes.push([this.prefix + unit.id, true]);
      await this.source.store.putMany(writes);
    } else if (writes.length > 0) {
      await this.source.store.putMany(writes);
    }
    this.appliedIds.add(unit.id);
    this.ctx.set(this.applied, this.ctx.get(this.applied) + unit.ops.length);
  }

  private async clearLog(): Promise<void> {
    if (this.prefix !== null)
      for (const id of this.appliedIds) await this.source.store.delete(this.prefix + id);
    this.appliedIds.clear();
  }

  private fail(e: unknown): void {
    this.fatal = e;
    this.ctx.set(this.error, e);
    this.unsubscribe?.();
    this.unsubscribe = null;
    for (const w of this.idleWaiters.splice(0)) w.reject(e);
  }
}
