/**
 * Call deadlines without a timer per call. Every call with a deadline (caller and callee side)
 * takes a slot in one binary min-heap ordered by due time (then by insertion, so equal deadlines
 * expire in the order they were set), and one timer, armed for the earliest, serves them all.
 * Adding, clearing and firing a deadline each cost O(log n) whatever the durations are; a cleared
 * slot leaves the heap at once, so memory is exactly the live deadlines. The timer holds the process
 * open only while some deadline is live.
 * @module
 */
import type { Clock } from "../core/clock.js";

/** A deadline set with {@link Deadlines.add}. */
export interface Deadline {
  /** Clear it (idempotent; a no-op after it fired). */
  clear(): void;
}

class Slot implements Deadline {
  /** Position in the heap; -1 once cleared or fired. */
  index = -1;
  constructor(
    readonly owner: Deadlines,
    readonly at: number,
    readonly seq: number,
    public fire: (() => void) | null,
  ) {}

  clear(): void {
    if (this.fire === null) return;
    this.fire = null;
    this.owner.remove(this);
  }
}

function earlier(a: Slot, b: Slot): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

/** A one-shot timer of a {@link DeadlineClock}. */
export interface DeadlineTimer {
  /** Stop it. */
  clear(): void;
  /** Let it hold the process open (Node's `Timeout.ref`). */
  ref(): void;
  /** Let the process exit while it is pending (Node's `Timeout.unref`). */
  unref(): void;
}

/** Time and one-shot timers for {@link Deadlines} (real time by default; tests pass a fake). */
export interface DeadlineClock {
  /** Milliseconds, monotonic. */
  now(): number;
  /** Call `fn` in `ms` milliseconds. */
  set(ms: number, fn: () => void): DeadlineTimer;
  /**
   * Whether an idle timer may stay armed, unref'd (real time: re-arming costs more than keeping
   * it). Otherwise (virtual time) the timer is cleared as soon as no deadline is live, so the
   * clock's `pending` count only shows live work.
   */
  readonly keepIdleTimer?: boolean;
}

/** Real time: `performance.now` and Node timers. */
export const realDeadlineClock: DeadlineClock = {
  keepIdleTimer: true,
  now: () => performance.now(),
  set(ms, fn) {
    // Node returns a Timeout with ref/unref; browsers return a number (nothing to unref there)
    const t = setTimeout(fn, ms) as unknown as { ref?: () => void; unref?: () => void };
    return {
      clear: () => clearTimeout(t as unknown as ReturnType<typeof setTimeout>),
      ref: () => t.ref?.(),
      unref: () => t.unref?.(),
    };
  },
};

/**
 * The deadline clock of a core {@link Clock}: real clocks keep Node timers (so an idle peer lets the
 * process exit), any other clock (virtual: `ctx.advanceTime`) drives deadlines through its timers.
 */
export function deadlineClockOf(clock: Clock): DeadlineClock {
  if (clock.kind === "real") return realDeadlineClock;
  return {
    now: () => clock.now(),
    set(ms, fn) {
      const h = clock.setTimer(ms, fn);
      return { clear: () => h.cancel(), ref() {}, unref() {} };
    },
  };
}

/** Longest delay a Node timer takes (about 24.8 days); a later deadline re-arms when it is reached. */
const MAX_TIMER_MS = 0x7fffffff;

/** One timer for many deadlines (one instance per peer); every operation is O(log n). */
export class Deadlines {
  /** @param clock time and timers (default: real) */
  constructor(private readonly clock: DeadlineClock = realDeadlineClock) {}

  private readonly heap: Slot[] = [];
  private seq = 0;
  private timer: DeadlineTimer | null = null;
  private timerAt = Number.POSITIVE_INFINITY;
  private refed = false;

  /** Call `fire` in `ms` milliseconds unless the returned deadline is cleared first. `ms` must be finite. */
  add(ms: number, fire: () => void): Deadline {
    const at = this.clock.now() + Math.max(ms, 0);
    const slot = new Slot(this, at, this.seq++, fire);
    this.push(slot);
    if (at < this.timerAt) this.arm(at);
    else if (!this.refed && this.timer !== null) {
      this.timer.ref();
      this.refed = true;
    }
    return slot;
  }

  /** @internal a slot was cleared */
  remove(slot: Slot): void {
    this.removeAt(slot.index);
    if (this.heap.length === 0 && this.timer !== null) {
      if (this.clock.keepIdleTimer !== true) {
        this.timer.clear();
        this.timer = null;
        this.timerAt = Number.POSITIVE_INFINITY;
      } else if (this.refed) {
        // nothing can expire: keep the armed timer (re-arming costs more) but let the process exit
        this.timer.unref();
        this.refed = false;
      }
    }
  }

  /** Clear every deadline and the timer (the peer closed). */
  clearAll(): void {
    for (const s of this.heap) {
      s.fire = null;
      s.index = -1;
    }
    this.heap.length = 0;
    this.timer?.clear();
    this.timer = null;
    this.timerAt = Number.POSITIVE_INFINITY;
  }

  /** Deadlines set and not yet cleared or fired. */
  get live(): number {
    return this.heap.length;
  }

  /** Slots held in memory: exactly the live ones. */
  get held(): number {
    return this.heap.length;
  }

  private push(s: Slot): void {
    s.index = this.heap.length;
    this.heap.push(s);
    this.up(s.index);
  }

  private removeAt(i: number): void {
    const h = this.heap;
    const s = h[i]!;
    s.index = -1;
    const last = h.pop()!;
    if (last === s) return;
    h[i] = last;
    last.index = i;
    if (i > 0 && earlier(last, h[(i - 1) >> 1]!)) this.up(i);
    else this.down(i);
  }

  private up(i: number): void {
    const h = this.heap;
    const s = h[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const ps = h[p]!;
      if (!earlier(s, ps)) break;
      h[i] = ps;
      ps.index = i;
      i = p;
    }
    h[i] = s;
    s.index = i;
  }

  private down(i: number): void {
    const h = this.heap;
    const n = h.length;
    const s = h[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && earlier(h[r]!, h[l]!) ? r : l;
      const cs = h[c]!;
      if (!earlier(cs, s)) break;
      h[i] = cs;
      cs.index = i;
      i = c;
    }
    h[i] = s;
    s.index = i;
  }

  private arm(at: number): void {
    this.timer?.clear();
    this.timerAt = at;
    const ms = Math.min(MAX_TIMER_MS, Math.max(1, Math.ceil(at - this.clock.now())));
    this.timer = this.clock.set(ms, () => this.sweep());
    this.refed = this.heap.length > 0;
    if (!this.refed) this.timer.unref();
  }

  /**
   * The timer fired: fire due deadlines one at a time, earliest first, re-reading the heap after
   * each callback (a callback may clear or add deadlines). A callback that throws does not stop the
   * others; the first error is rethrown once the timer is re-armed.
   */
  private sweep(): void {
    this.timer = null;
    this.timerAt = Number.POSITIVE_INFINITY;
    let failed = false;
    let error: unknown;
    for (;;) {
      const s = this.heap[0];
      if (s === undefined) break;
      if (s.at > this.clock.now()) {
        this.arm(s.at);
        break;
      }
      this.removeAt(0);
      const fire = s.fire!;
      s.fire = null;
      try {
        fire();
      } catch (err) {
        if (!failed) {
          failed = true;
          error = err;
        }
      }
    }
    if (failed) throw error;
  }
}
