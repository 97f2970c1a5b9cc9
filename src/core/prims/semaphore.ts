/**
 * `semaphore(n)`: `n` permits handed out in FIFO order to spins waiting with
 * `$.await(sem.acquire())`; `holding(sem, spin)` runs a spin under a permit and releases it exactly
 * once. State lives per context.
 * @module
 */
import { type OnceSource, WAIT, type Waiter } from "../awaitable.js";
import { Context, type PrimitiveState } from "../context.js";
import { invalidArgument, SpindelError } from "../errors.js";
import { primitiveId, type Revivable, registerPrimitive, type SerializableState } from "../registry.js";
import { Spin, type SpinBody, spin } from "../spin.js";
import { adoptInherited, contextFor, type PrimitiveOptions, QueuedWaits } from "./prim.js";

/** A permit handed out by {@link Semaphore.acquire}: plain data, so it survives serialization. */
export interface Permit {
  /** Process-unique permit number. */
  readonly permit: number;
}

let nextPermit = 0;

function newPermit(): Permit {
  return Object.freeze({ permit: ++nextPermit });
}

class SemState extends QueuedWaits<Permit> implements SerializableState {
  constructor(
    readonly id: string,
    public available: number,
    readonly held: Set<number>,
  ) {
    super();
  }

  forked(): SemState {
    return this.inheritWaits(new SemState(this.id, this.available, new Set(this.held)));
  }

  serialize(): { id: string; data: unknown } {
    return {
      id: this.id,
      data: {
        available: this.available,
        held: [...this.held],
        waiting: this.waitingIds(),
      },
    };
  }

  /** Give a fresh permit to `w`; if its run dies before continuing, the permit is released again. */
  handOff(ctx: Context, w: Waiter<Permit>): boolean {
    const p = newPermit();
    this.held.add(p.permit);
    if (w.resolve(p, () => this.release(ctx, p.permit))) return true;
    this.held.delete(p.permit);
    return false;
  }

  /** Release permit `id` if held: hand it to the oldest live waiter, else make it available. */
  release(ctx: Context, id: number): boolean {
    if (!this.held.delete(id)) return false;
    adoptInherited(ctx, this);
    const ws = this.waiters;
    while (ws.length > 0) {
      const w = ws.shift()!;
      if (w.alive && this.handOff(ctx, w)) return true;
    }
    this.available++;
    return true;
  }
}

/**
 * A counting semaphore with `n` permits. `$.await(sem.acquire())` resolves with a {@link Permit}
 * (waiting in FIFO order while none is free); `sem.release(permit)` gives it back (once: a second
 * release of the same permit returns false); `sem.release()` without a permit releases the oldest
 * held one and throws `ERR_OVER_RELEASE` when none is held. A permit handed to a run that dies
 * before its body continued is released again, so permits are never lost.
 *
 * ```ts
 * const sem = semaphore(2);
 * const job = spin(async ($) => {
 *   const permit = await $.await(sem.acquire());
 *   try { return await $.await(work); } finally { sem.release(permit, $.context); }
 * });
 * ```
 */
export class Semaphore implements Revivable {
  /** Stable id (the `key` option or a process-local counter). */
  readonly id: string;
  /** Debug name. */
  readonly name: string | undefined;
  /** Total number of permits. */
  readonly permits: number;
  private readonly acquirer: OnceSource<Permit>;

  /** Use {@link semaphore}. @param n permits @param opts options */
  constructor(n: number, opts?: PrimitiveOptions) {
    if (typeof n !== "number" || !Number.isInteger(n) || n <= 0)
      invalidArgument(`semaphore expects a positive integer number of permits, got ${String(n)}`);
    this.permits = n;
    this.id = primitiveId("semaphore", opts?.key);
    this.name = opts?.name;
    const wait = (ctx: Context, w: Waiter<Permit>): void => this.wait(ctx, w);
    this.acquirer = { [WAIT]: wait };
    registerPrimitive(this);
  }

  private state(ctx: Context): SemState {
    return ctx._state(this, () => new SemState(this.id, this.permits, new Set()));
  }

  /** A one-shot source for `$.await(sem.acquire())`: resolves with a {@link Permit}. */
  acquire(): OnceSource<Permit> {
    return this.acquirer;
  }

  /** Take a permit now if one is free in `ctx` (no waiting); null otherwise. */
  tryAcquire(ctx?: Context): Permit | null {
    const st = this.state(contextFor(ctx, "acquire a semaphore"));
    if (st.available <= 0) return null;
    st.available--;
    const p = newPermit();
    st.held.add(p.permit);
    return p;
  }

  /** Release the oldest held permit in `ctx`; throws `ERR_OVER_RELEASE` if none is held. */
  release(ctx?: Context): void;
  /** Release `permit` in `ctx`; returns false if it was already released (or never held there). */
  release(permit: Permit, ctx?: Context): boolean;
  release(a?: Permit | Context, b?: Context): boolean | undefined {
    if (a === undefined || a instanceof Context) {
      const c = contextFor(a, "release a semaphore");
      const st = this.state(c);
      const first = st.held.values().next();
      if (first.done === true)
        throw new SpindelError(
          "ERR_OVER_RELEASE",
          `semaphore ${this.name ?? this.id} over-released: no permit is held (${this.permits} permits)`,
        );
      st.release(c, first.value);
      return undefined;
    }
    if (typeof a !== "object" || a === null || typeof a.permit !== "number")
      invalidArgument(`semaphore.release expects a Permit or a Context, got ${String(a)}`);
    if (b?.disposed) return false;
    const c = contextFor(b, "release a semaphore");
    return this.state(c).release(c, a.permit);
  }

  /** Free permits in `ctx`. */
  available(ctx?: Context): number {
    return this.state(contextFor(ctx, "read a semaphore")).available;
  }

  private wait(ctx: Context, w: Waiter<Permit>): void {
    const st = this.state(ctx);
    if (st.available > 0) {
      st.available--;
      if (!st.handOff(ctx, w)) st.available++;
      return;
    }
    st.waiters.push(w);
    w.onAbandon(() => {
      st.waiters.remove(w);
    });
  }

  /** @internal state rebuilt from serialized data */
  _revive(data: unknown): PrimitiveState {
    const d = data as { available: number; held: number[]; waiting?: string[] };
    const s = new SemState(this.id, d.available, new Set(d.held));
    for (const id of d.held) if (id > nextPermit) nextPermit = id;
    if (Array.isArray(d.waiting) && d.waiting.length > 0) s.inherited = d.waiting.slice();
    return s;
  }

  /** Debug representation. */
  toString(): string {
    return `Semaphore(${this.name ?? this.id})`;
  }
}

/** Create a {@link Semaphore} with `n` permits (a positive integer). */
export function semaphore(n: number, opts?: PrimitiveOptions): Semaphore {
  return new Semaphore(n, opts);
}

/**
 * A spin that acquires a permit of `sem`, then waits for `s` (a spin, or a body that becomes one),
 * and releases the permit exactly once, whether `s` succeeds, fails or the spin is cancelled. Later
 * re-completions of `s` flow through without acquiring again (the permit guarded the first one).
 */
export function holding<T>(sem: Semaphore, s: Spin<T> | SpinBody<T>, opts?: { name?: string }): Spin<T> {
  if (!(sem instanceof Semaphore)) invalidArgument(`holding expects a Semaphore, got ${String(sem)}`);
  const inner = s instanceof Spin ? s : spin(s);
  return spin(
    async ($) => {
      const permit = await $.await(sem.acquire());
      try {
        return await $.await(inner);
      } finally {
        sem.release(permit, $.context);
      }
    },
    { name: opts?.name ?? `holding(${sem.name ?? sem.id})` },
  );
}
