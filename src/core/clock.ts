/**
 * Clocks: every timer of a context goes through its clock, so tests can use virtual time
 * and disposing a context disarms every timer it armed.
 * @module
 */
import { SpindelError } from "./errors.js";

/** A timer armed on a {@link Clock}. `cancel()` disarms it (idempotent). */
export interface TimerHandle {
  /** Disarm the timer; returns true if it was still armed. */
  cancel(): boolean;
}

/** The source of time for one context tree. */
export interface Clock {
  /** `"real"` (wall clock, `setTimeout`) or `"virtual"` (advanced by {@link Clock.advance}). */
  readonly kind: "real" | "virtual";
  /** Milliseconds: wall-clock `performance.now()` for real clocks, virtual time otherwise. */
  now(): number;
  /** Arm a timer firing `fn` once after `ms` milliseconds. */
  setTimer(ms: number, fn: () => void): TimerHandle;
  /** Virtual clocks only: move time forward by `ms`, firing due timers in order. */
  advance(ms: number): void;
  /** Disarm every timer armed through this clock. */
  cancelAll(): void;
  /** Number of armed timers. */
  readonly pending: number;
}

class RealTimer implements TimerHandle {
  handle: ReturnType<typeof setTimeout> | null = null;
  constructor(readonly owner: RealClock) {}
  cancel(): boolean {
    if (this.handle === null) return false;
    clearTimeout(this.handle);
    this.handle = null;
    this.owner.timers.delete(this);
    return true;
  }
}

class RealClock implements Clock {
  readonly kind = "real" as const;
  readonly timers = new Set<RealTimer>();
  now(): number {
    return performance.now();
  }
  setTimer(ms: number, fn: () => void): TimerHandle {
    const t = new RealTimer(this);
    t.handle = setTimeout(
      () => {
        t.handle = null;
        this.timers.delete(t);
        fn();
      },
      Math.max(0, ms),
    );
    this.timers.add(t);
    return t;
  }
  advance(): void {
    throw new SpindelError(
      "ERR_VIRTUAL_CLOCK",
      "advanceTime needs a virtual clock: createContext({ clock: 'virtual' })",
    );
  }
  cancelAll(): void {
    for (const t of [...this.timers]) t.cancel();
  }
  get pending(): number {
    return this.timers.size;
  }
}

interface VirtualTimer extends TimerHandle {
  due: number;
  seq: number;
  fn: (() => void) | null;
}

class VirtualClock implements Clock {
  readonly kind = "virtual" as const;
  private time = 0;
  private seq = 0;
  private readonly timers: VirtualTimer[] = [];
  now(): number {
    return this.time;
  }
  setTimer(ms: number, fn: () => void): TimerHandle {
    const timers = this.timers;
    const t: VirtualTimer = {
      due: this.time + Math.max(0, ms),
      seq: this.seq++,
      fn,
      cancel(): boolean {
        if (t.fn === null) return false;
        t.fn = null;
        const i = timers.indexOf(t);
        if (i >= 0) timers.splice(i, 1);
        return true;
      },
    };
    timers.push(t);
    return t;
  }
  advance(ms: number): void {
    if (!(ms >= 0)) throw new SpindelError("ERR_INVALID_ARGUMENT", `advanceTime expects ms >= 0, got ${ms}`);
    const target = this.time + ms;
    for (;;) {
      let next: VirtualTimer | undefined;
      for (const t of this.timers) {
        if (
          t.due <= target &&
          (next === undefined || t.due < next.due || (t.due === next.due && t.seq < next.seq))
        )
          next = t;
      }
      if (next === undefined) break;
      this.time = Math.max(this.time, next.due);
      const fn = next.fn;
      next.cancel();
      fn?.();
    }
    this.time = target;
  }
  cancelAll(): void {
    for (const t of [...this.timers]) t.cancel();
  }
  get pending(): number {
    return this.timers.length;
  }
}

/** Create a clock of the given kind. */
export function createClock(kind: "real" | "virtual"): Clock {
  return kind === "virtual" ? new VirtualClock() : new RealClock();
}

/**
 * Arm a timer on `clock` that belongs to every set in `owners` (a context and each of its
 * ancestors): it leaves them when it fires or is cancelled, so disposing any owner can disarm the
 * timers still armed in it. Internal: `ctx.setTimer` is the API.
 * @internal
 */
export function armOwnedTimer(
  clock: Clock,
  owners: readonly Set<TimerHandle>[],
  ms: number,
  fn: () => void,
): TimerHandle {
  const inner = clock.setTimer(ms, () => {
    for (const t of owners) t.delete(handle);
    fn();
  });
  const handle: TimerHandle = {
    cancel(): boolean {
      for (const t of owners) t.delete(handle);
      return inner.cancel();
    },
  };
  for (const t of owners) t.add(handle);
  return handle;
}
