/**
 * Call deadlines without a timer per call. Every call with a deadline (caller and callee side)
 * takes a slot in a FIFO queue per duration — deadlines of one duration expire in the order they
 * were set — and one timer, armed for the earliest live deadline, serves them all. Finishing a call
 * only marks its slot dead; dead slots are dropped from the head as the queue moves, and a queue
 * whose dead slots outnumber its live ones is compacted, so memory stays proportional to the calls
 * in flight. The timer holds the process open only while some deadline is live.
 * @module
 */
import type { Clock } from "../core/clock.js";

/** A deadline set with {@link Deadlines.add}. */
export interface Deadline {
  /** Clear it (idempotent; a no-op after it fired). */
  clear(): void;
}

class Slot implements Deadline {
  constructor(
    readonly owner: Deadlines,
    readonly queue: Queue,
    readonly at: number,
    public fire: (() => void) | null,
  ) {}

  clear(): void {
    if (this.fire === null) return;
    this.fire = null;
    this.queue.dead++;
    this.owner.cleared(this.queue);
  }
}

interface Queue {
  /** The duration of every deadline in it. */
  readonly d: number;
  slots: Slot[];
  head: number;
  dead: number;
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

/** Compaction threshold: a queue is compacted when it holds more dead slots than this and than live ones. */
const COMPACT_AT = 1024;
/** Empty queues kept for reuse (one per distinct duration); beyond this, an emptied queue is dropped. */
const IDLE_QUEUES = 16;
/** Longest delay a Node timer takes (about 24.8 days); a later deadline re-arms when it is reached. */
const MAX_TIMER_MS = 0x7fffffff;

/** Drop the consumed prefix of a queue once it is large and more than half of the array. */
function trim(q: Queue): void {
  if (q.head === q.slots.length) {
    q.slots.length = 0;
    q.head = 0;
  } else if (q.head > COMPACT_AT && q.head * 2 > q.slots.length) {
    q.slots = q.slots.slice(q.head);
    q.head = 0;
  }
}

/**
 * One timer for many deadlines (one instance per peer). A sweep is O(number of distinct durations
 * in use), so it suits the usual few timeouts per peer.
 */
export class Deadlines {
  /** @param clock time and timers (default: real) */
  constructor(private readonly clock: DeadlineClock = realDeadlineClock) {}

  private readonly queues = new Map<number, Queue>();
  private liveCount = 0;
  private timer: DeadlineTimer | null = null;
  private timerAt = Number.POSITIVE_INFINITY;
  private refed = false;

  /** Call `fire` in `ms` milliseconds unless the returned deadline is cleared first. `ms` must be finite. */
  add(ms: number, fire: () => void): Deadline {
    const d = Math.max(ms, 0);
    let q = this.queues.get(d);
    if (q === undefined) this.queues.set(d, (q = { d, slots: [], head: 0, dead: 0 }));
    const at = this.clock.now() + d;
    const slot = new Slot(this, q, at, fire);
    q.slots.push(slot);
    this.liveCount++;
    if (at < this.timerAt) this.arm(at);
    else if (!this.refed && this.timer !== null) {
      this.timer.ref();
      this.refed = true;
    }
    return slot;
  }

  /** @internal a slot of `q` was cleared */
  cleared(q: Queue): void {
    this.liveCount--;
    const slots = q.slots;
    while (q.head < slots.length && slots[q.head]!.fire === null) {
      q.head++;
      q.dead--;
    }
    if (q.dead > COMPACT_AT && q.dead > slots.length - q.head - q.dead) {
      q.slots = slots.slice(q.head).filter((s) => s.fire !== null);
      q.head = 0;
      q.dead = 0;
    } else trim(q);
    if (q.slots.length === 0 && this.queues.size > IDLE_QUEUES) this.queues.delete(q.d);
    if (this.liveCount === 0 && this.timer !== null) {
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
    for (const q of this.queues.values()) for (const s of q.slots) s.fire = null;
    this.queues.clear();
    this.liveCount = 0;
    this.timer?.clear();
    this.timer = null;
    this.timerAt = Number.POSITIVE_INFINITY;
  }

  /** Deadlines set and not yet cleared or fired. */
  get live(): number {
    return this.liveCount;
  }

  /** Slots held in memory, live, dead or consumed (bounded by about twice the live ones, plus a constant per duration). */
  get held(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.slots.length;
    return n;
  }

  /** Distinct durations with a queue (tests). */
  get queueCount(): number {
    return this.queues.size;
  }

  private arm(at: number): void {
    this.timer?.clear();
    this.timerAt = at;
    const ms = Math.min(MAX_TIMER_MS, Math.max(1, Math.ceil(at - this.clock.now())));
    this.timer = this.clock.set(ms, () => this.sweep());
    this.refed = this.liveCount > 0;
    if (!this.refed) this.timer.unref();
  }

  /** The queue whose head is the earliest live deadline (dead heads are dropped on the way). */
  private earliest(): Queue | null {
    let best: Queue | null = null;
    for (const [d, q] of this.queues) {
      const slots = q.slots;
      while (q.head < slots.length && slots[q.head]!.fire === null) {
        q.head++;
        q.dead--;
      }
      trim(q);
      if (q.slots.length === 0) {
        this.queues.delete(d);
        continue;
      }
      if (best === null || q.slots[q.head]!.at < best.slots[best.head]!.at) best = q;
    }
    return best;
  }

  /**
   * The timer fired: fire due deadlines one at a time, earliest first, re-reading the queues after
   * each callback (a callback may clear or add deadlines). A callback that throws does not stop the
   * others; the first error is rethrown once the timer is re-armed.
   */
  private sweep(): void {
    this.timer = null;
    this.timerAt = Number.POSITIVE_INFINITY;
    let failed = false;
    let error: unknown;
    for (;;) {
      const q = this.earliest();
      if (q === null) break;
      const s = q.slots[q.head]!;
      if (s.at > this.clock.now()) {
        this.arm(s.at);
        break;
      }
      q.head++;
      const fire = s.fire!;
      s.fire = null;
      this.liveCount--;
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
