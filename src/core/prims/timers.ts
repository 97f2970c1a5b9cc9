/**
 * Time: `delay`, `sleep`, `never`, `timeout`, and the rate limiters `debounce`, `throttle`,
 * `sample`. Every timer goes through the waiting context's clock (`createContext({ clock:
 * "virtual" })` + `ctx.advanceTime(ms)` in tests) and is disarmed when its wait is abandoned
 * (the spin cancelled or superseded) or the context disposed.
 * @module
 */
import { type OnceSource, WAIT, type Waiter } from "../awaitable.js";
import type { TimerHandle } from "../clock.js";
import type { Context, PrimitiveState } from "../context.js";
import { invalidArgument, SpindelError } from "../errors.js";
import type { SerializableState } from "../registry.js";
import { Signal } from "../signal.js";
import { type Awaitable, Spin, type SpinScope, spin } from "../spin.js";
import { RaceSource } from "./combinators.js";
import { checkMs, TIMED_OUT } from "./prim.js";

/** Rejection of `timeout(spin, ms)` without a fallback (code `ERR_TIMEOUT`). */
export class TimeoutError extends SpindelError {
  /** Milliseconds that elapsed. */
  readonly ms: number;
  /** @param ms the deadline that elapsed */
  constructor(ms: number) {
    super("ERR_TIMEOUT", `timed out after ${ms} ms`, { ms });
    this.name = "TimeoutError";
    this.ms = ms;
  }
}

class Delay<T> implements OnceSource<T> {
  constructor(
    readonly ms: number,
    readonly value: T,
  ) {}
  [WAIT](ctx: Context, w: Waiter<T>): void {
    const h = ctx.setTimer(this.ms, () => {
      w.resolve(this.value);
    });
    w.onAbandon(() => {
      h.cancel();
    });
  }
}

/**
 * A one-shot source resolving with `value` `ms` milliseconds after a spin starts waiting on it:
 * `await $.await(delay(100))`. A re-run replays it (it never waits twice before the point of
 * change); cancelling or superseding the waiting run disarms the timer.
 */
export function delay<T = undefined>(ms: number, value?: T): OnceSource<T> {
  return new Delay(checkMs(ms, "delay"), value as T);
}

/**
 * A spin resolving with `value` (default `undefined`) `ms` milliseconds after it first runs in a
 * context, then cached like any spin. Cancelling it disarms its timer. Create it where you wait
 * (in the body) for a fresh timer per run, or use {@link delay} for a plain one-shot wait.
 */
export function sleep<T = undefined>(ms: number, value?: T): Spin<T> {
  const src = delay(ms, value as T);
  return spin(($: SpinScope) => $.await(src), { name: `sleep(${ms})` });
}

const NEVER: OnceSource<never> = {
  [WAIT](): void {
    // never settles: the waiting run ends only through its own cancellation
  },
};

/** A spin that never settles (it ends only when cancelled); parked, it does not keep `ctx.settled()` waiting. */
export function never<T = never>(): Spin<T> {
  return spin(($: SpinScope) => $.await(NEVER as OnceSource<T>), { name: "never" });
}

const TIMEOUT = Symbol("timeout");

/** A spin with `child`'s result, or rejecting with {@link TimeoutError} if it takes longer than `ms`. */
export function timeout<T>(child: Awaitable<T>, ms: number): Spin<T>;
/** A spin with `child`'s result, or `fallback` if it takes longer than `ms` (the child is then cancelled). */
export function timeout<T, F>(child: Awaitable<T>, ms: number, fallback: F): Spin<T | F>;
export function timeout<T, F>(child: Awaitable<T>, ms: number, ...rest: [F?]): Spin<T | F> {
  checkMs(ms, "timeout");
  if (child === null || child === undefined) invalidArgument("timeout expects a spin or awaitable");
  const hasFallback = rest.length > 0;
  const fallback = rest[0] as F;
  const src = new RaceSource<T | typeof TIMEOUT>(
    [child as Awaitable<unknown>, delay(ms, TIMEOUT)],
    TIMED_OUT,
  );
  return spin(
    async ($: SpinScope): Promise<T | F> => {
      const v = await $.await(src);
      if (v !== TIMEOUT) return v;
      if (hasFallback) return fallback;
      throw new TimeoutError(ms);
    },
    { name: `timeout(${ms})` },
  );
}

// ------------------------------------------------------------------------------ rate limiters

type Outcome = { readonly ok: true; readonly v: unknown } | { readonly ok: false; readonly e: unknown };

interface Policy {
  /** Called for each new input; returns true when a new window opened. */
  input(st: LimitState, o: Outcome, now: number): boolean;
}

/**
 * Per-context state of one rate limiter. The gate spin feeds it every input (it re-runs on each
 * source change, cheaply); the limiter spin re-runs once per window (when the gate reports a new
 * one) and waits for the window's emission. The emission timer belongs to that wait.
 */
class LimitState implements PrimitiveState, SerializableState {
  /** Windows opened so far (the gate's result: a change re-runs the limiter spin). */
  windows = 0;
  /** An emission is due at `due`. */
  pending = false;
  due = 0;
  /** The value to emit at `due` (latest input, or the merged inputs for throttle). */
  next: Outcome | null = null;
  /** An emission ready now (throttle's leading edge). */
  ready: Outcome | null = null;
  /** Last emission, served when the limiter re-runs with nothing new. */
  last: Outcome | null = null;
  lastEmit = Number.NEGATIVE_INFINITY;
  waiter: Waiter<Outcome> | null = null;
  timer: TimerHandle | null = null;
  /** Due time the armed timer was set for. */
  private armedDue = Number.NaN;
  ctx: Context | null = null;

  forked(): LimitState {
    const s = new LimitState();
    s.windows = this.windows;
    s.pending = this.pending;
    s.due = this.due;
    s.next = this.next;
    s.ready = this.ready;
    s.last = this.last;
    s.lastEmit = this.lastEmit;
    return s;
  }

  snapshot(): LimitState {
    return this.forked();
  }

  dispose(): void {
    this.disarm();
    this.waiter = null;
  }

  serialize(): undefined {
    return undefined; // transient: timing does not survive serialization; the limiter starts afresh
  }

  disarm(): void {
    const t = this.timer;
    this.timer = null;
    this.armedDue = Number.NaN;
    t?.cancel();
  }

  /** (Re-)arm the emission timer for the parked waiter, if the due time moved. */
  arm(): void {
    const ctx = this.ctx;
    if (ctx === null || this.waiter === null || !this.pending) return;
    if (this.timer !== null && this.armedDue === this.due) return;
    this.disarm();
    this.armedDue = this.due;
    this.timer = ctx.setTimer(Math.max(0, this.due - ctx.now()), () => {
      this.timer = null;
      this.armedDue = Number.NaN;
      this.fire();
    });
  }

  /** Hand `out` to `w`; if its run dies before using it, keep it for the next run. */
  private handOff(w: Waiter<Outcome>, out: Outcome): boolean {
    const ok = w.resolve(out, () => {
      if (!this.pending && this.ready === null) this.ready = out;
    });
    if (ok) this.last = out;
    return ok;
  }

  /** The pending emission is due: give it to the parked waiter. */
  fire(): void {
    const w = this.waiter;
    if (w === null || !this.pending || this.next === null) return;
    this.waiter = null;
    this.emitTo(w);
  }

  private emitTo(w: Waiter<Outcome>): void {
    const out = this.next!;
    const prevEmit = this.lastEmit;
    this.pending = false;
    this.next = null;
    this.lastEmit = this.ctx!.now();
    if (!this.handOff(w, out)) {
      this.pending = true;
      this.next = out;
      this.lastEmit = prevEmit;
    }
  }

  /** After an input: a parked waiter takes a ready emission, or (re-)arms for the pending one. */
  flush(): void {
    const w = this.waiter;
    if (w === null) return;
    if (this.ready !== null) {
      const out = this.ready;
      this.ready = null;
      this.waiter = null;
      this.disarm();
      if (!this.handOff(w, out)) this.ready = out;
      return;
    }
    this.arm();
  }

  /**
   * The wait of the limiter spin: a ready emission at once, the pending one when due, else the
   * last one (a re-run with nothing new), else the next one.
   */
  wait(ctx: Context, w: Waiter<Outcome>): void {
    this.ctx = ctx;
    if (this.ready !== null) {
      const out = this.ready;
      this.ready = null;
      if (!this.handOff(w, out)) this.ready = out;
      return;
    }
    if (this.pending && this.next !== null && this.due <= ctx.now()) {
      this.emitTo(w);
      return;
    }
    if (!this.pending && this.last !== null) {
      w.resolve(this.last);
      return;
    }
    this.waiter = w;
    w.onAbandon(() => {
      if (this.waiter === w) {
        this.waiter = null;
        this.disarm();
      }
    });
    this.arm();
  }
}

class Limiter<T> {
  readonly gate: Spin<number>;
  readonly view: Spin<T>;

  constructor(
    src: Signal<unknown> | Spin<unknown>,
    readonly policy: Policy,
    name: string,
  ) {
    const state = (ctx: Context): LimitState => ctx._state(this, () => new LimitState());
    const feed = (ctx: Context, o: Outcome): number => {
      const st = state(ctx);
      st.ctx = ctx;
      if (this.policy.input(st, o, ctx.now())) st.windows++;
      st.flush();
      return st.windows;
    };
    if (src instanceof Signal) {
      this.gate = spin(($: SpinScope) => feed($.context, { ok: true, v: $.track(src) }), {
        name: `${name}:gate`,
      });
    } else {
      this.gate = spin(
        async ($: SpinScope) => {
          let o: Outcome;
          try {
            o = { ok: true, v: await $.await(src) };
          } catch (e) {
            if ($.signal.aborted) throw e;
            o = { ok: false, e };
          }
          return feed($.context, o);
        },
        { name: `${name}:gate` },
      );
    }
    const gate = this.gate;
    const wait = { [WAIT]: (ctx: Context, w: Waiter<Outcome>) => state(ctx).wait(ctx, w) };
    this.view = spin(
      async ($: SpinScope): Promise<T> => {
        await $.await(gate);
        const out = await $.await(wait);
        if (!out.ok) throw out.e;
        return out.v as T;
      },
      { name },
    );
  }
}

function checkSource(what: string, src: unknown): Signal<unknown> | Spin<unknown> {
  if (src instanceof Signal || src instanceof Spin) return src;
  return invalidArgument(`${what} expects a Signal or a Spin, got ${String(src)}`);
}

/**
 * A spin following `src` (a signal or a spin), `ms` after it stopped changing: a burst of writes
 * produces one result, the last value, once the source has been quiet for `ms` (the first result
 * too comes after `ms`). Intermediate writes create no run of the debounced spin or of anything
 * downstream; the pending timer is re-armed.
 *
 * ```ts
 * const query = signal("");
 * const settledQuery = debounce(query, 300);
 * ```
 */
export function debounce<T>(src: Signal<T> | Spin<T>, ms: number): Spin<T> {
  const s = checkSource("debounce", src);
  checkMs(ms, "debounce");
  const policy: Policy = {
    input(st, o, now) {
      st.ready = null;
      st.next = o;
      st.due = now + ms;
      if (st.pending) return false;
      st.pending = true;
      return true;
    },
  };
  return new Limiter<T>(s, policy, `debounce(${ms})`).view;
}

/**
 * A spin following `src` (a signal or a spin) at most `hz` times per second: the first change after
 * a quiet period comes through at once (as `merge(undefined, value)`), later ones are folded with
 * `merge(acc, value)` (default: keep the latest) and emitted at the end of the period.
 *
 * ```ts
 * const pos = signal(0);
 * const moves = throttle(pos, 10, (acc: number[] | undefined, v) => [...(acc ?? []), v]);
 * ```
 */
export function throttle<T, A = T>(
  src: Signal<T> | Spin<T>,
  hz: number,
  merge?: (acc: A | undefined, value: T) => A,
): Spin<A> {
  const s = checkSource("throttle", src);
  if (typeof hz !== "number" || !(hz > 0) || !Number.isFinite(hz))
    invalidArgument(`throttle expects a rate in Hz > 0, got ${String(hz)}`);
  const period = 1000 / hz;
  const fold = merge ?? ((_acc: A | undefined, v: T) => v as unknown as A);
  const policy: Policy = {
    input(st, o, now) {
      if (!o.ok) {
        // an error ends the window: it is emitted as soon as allowed, replacing what was folded
        st.next = o;
        if (st.pending) return false;
        st.pending = true;
        st.due = Math.max(now, st.lastEmit + period);
        return true;
      }
      if (st.pending) {
        const acc = st.next?.ok ? (st.next.v as A) : undefined;
        st.next = { ok: true, v: fold(acc, o.v as T) };
        return false;
      }
      if (now - st.lastEmit >= period) {
        st.ready = { ok: true, v: fold(undefined, o.v as T) };
        st.lastEmit = now;
        return true;
      }
      st.pending = true;
      st.due = st.lastEmit + period;
      st.next = { ok: true, v: fold(undefined, o.v as T) };
      return true;
    },
  };
  return new Limiter<A>(s, policy, `throttle(${hz}Hz)`).view;
}

/**
 * A spin sampling `src` (a signal or a spin) every `ms` while it changes: the first change opens a
 * window of `ms`, at whose end the latest value is emitted. No timer runs while the source is quiet.
 */
export function sample<T>(src: Signal<T> | Spin<T>, ms: number): Spin<T> {
  const s = checkSource("sample", src);
  checkMs(ms, "sample");
  const policy: Policy = {
    input(st, o, now) {
      st.ready = null;
      st.next = o;
      if (st.pending) return false;
      st.pending = true;
      st.due = now + ms;
      return true;
    },
  };
  return new Limiter<T>(s, policy, `sample(${ms})`).view;
}
