/**
 * A hybrid logical clock: stamps `[wallMs, counter, actor]` that never go backwards on one
 * replica, move past every stamp it has seen, and order every write of every replica the same
 * way (ties broken by actor id), so last-writer-wins picks one winner everywhere.
 * @module
 */

/** A hybrid-logical-clock stamp: wall milliseconds, a counter within that millisecond, the writer. */
export type Stamp = readonly [wallMs: number, counter: number, actor: string];

/** Total order of stamps; `null` (never written) is below every stamp. */
export function compareStamps(a: Stamp | null, b: Stamp | null): number {
  if (a === null) return b === null ? 0 : -1;
  if (b === null) return 1;
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
  if (a[1] !== b[1]) return a[1] < b[1] ? -1 : 1;
  return a[2] === b[2] ? 0 : a[2] < b[2] ? -1 : 1;
}

/** Whether `v` has the shape of a {@link Stamp}. */
export function isStamp(v: unknown): v is Stamp {
  return (
    Array.isArray(v) &&
    v.length === 3 &&
    Number.isSafeInteger(v[0]) &&
    Number.isSafeInteger(v[1]) &&
    (v[1] as number) >= 0 &&
    typeof v[2] === "string"
  );
}

/** One replica's clock. */
export class Hlc {
  // below every wall time, so the first stamp (`tick` or `before`) takes the clock's
  private wall = Number.NEGATIVE_INFINITY;
  private counter = 0;

  /**
   * @param actor this replica's id (the tie-breaker)
   * @param now wall-clock milliseconds
   */
  constructor(
    readonly actor: string,
    private readonly now: () => number,
  ) {}

  /** A stamp for a local write: greater than every stamp issued or observed so far. */
  tick(): Stamp {
    const t = Math.floor(this.now());
    if (t > this.wall) {
      this.wall = t;
      this.counter = 0;
    } else this.counter++;
    return [this.wall, this.counter, this.actor];
  }

  /**
   * A stamp for a value that was there before now (a replica's starting value): the millisecond
   * before the clock's, so any write stamped from now on is greater, and greater than every stamp
   * issued or observed so far (else a `tick`).
   */
  before(): Stamp {
    const t = Math.floor(this.now()) - 1;
    if (!(t > this.wall)) return this.tick();
    this.wall = t;
    this.counter = 0;
    return [t, 0, this.actor];
  }

  /** Move past a remote stamp (its writer's clock may be ahead of ours). */
  observe(s: Stamp): void {
    if (s[0] > this.wall) {
      this.wall = s[0];
      this.counter = s[1];
    } else if (s[0] === this.wall && s[1] > this.counter) this.counter = s[1];
  }
}
