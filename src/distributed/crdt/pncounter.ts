/**
 * PN-Counter: one grow-only count of increments and one of decrements per actor. Merge rule:
 * the per-actor maximum of each.
 * @module
 */
import type { Convergent } from "./convergent.js";
import { badArgument, decodeCheck } from "./errors.js";
import { CRDT_TAGS, registerCrdtCodec } from "./tags.js";
import { checkActor, cmpStr } from "./util.js";

type Counts = ReadonlyMap<string, readonly [inc: number, dec: number]>;

/** A counter that goes up and down. */
export class PNCounter implements Convergent<PNCounter, PNCounter> {
  private constructor(
    private readonly counts: Counts,
    /** What changed locally since the last `clearDelta()` (the touched actors' counts), or `null`. */
    readonly delta: PNCounter | null,
  ) {}

  private static readonly EMPTY = new PNCounter(new Map(), null);

  /** The zero counter. */
  static empty(): PNCounter {
    return PNCounter.EMPTY;
  }

  /** Adds `n` (a non-negative number) as `actor`; `this` when `n` is 0. */
  inc(n: number, actor: string): PNCounter {
    return this.bump(n, actor, 0);
  }

  /** Subtracts `n` (a non-negative number) as `actor`; `this` when `n` is 0. */
  dec(n: number, actor: string): PNCounter {
    return this.bump(n, actor, 1);
  }

  private bump(n: number, actor: string, side: 0 | 1): PNCounter {
    checkActor(actor);
    if (typeof n !== "number" || !Number.isFinite(n) || n < 0)
      badArgument(`PNCounter steps must be finite and non-negative, got ${n}`);
    if (n === 0) return this;
    const cur = this.counts.get(actor) ?? [0, 0];
    const next: [number, number] = side === 0 ? [cur[0] + n, cur[1]] : [cur[0], cur[1] + n];
    const counts = new Map(this.counts);
    counts.set(actor, next);
    const d = new Map(this.delta?.counts ?? []);
    d.set(actor, next);
    return new PNCounter(counts, new PNCounter(d, null));
  }

  /** The count: every increment minus every decrement. */
  get value(): number {
    let v = 0;
    for (const [p, n] of this.counts.values()) v += p - n;
    return v;
  }

  /** Per-actor maximum; `this` when `other` adds nothing. */
  join(other: PNCounter): PNCounter {
    let out: Map<string, readonly [number, number]> | null = null;
    for (const [a, [p, n]] of other.counts) {
      const cur = this.counts.get(a);
      if (cur !== undefined && cur[0] >= p && cur[1] >= n) continue;
      out ??= new Map(this.counts);
      out.set(a, cur === undefined ? [p, n] : [Math.max(cur[0], p), Math.max(cur[1], n)]);
    }
    return out === null ? this : new PNCounter(out, null);
  }

  /** Same as {@link PNCounter.join} (a delta is a counter). */
  applyDelta(delta: PNCounter): PNCounter {
    return this.join(delta);
  }

  /** This counter without a pending delta. */
  clearDelta(): PNCounter {
    return this.delta === null ? this : new PNCounter(this.counts, null);
  }

  /** The same per-actor counts. */
  equals(other: PNCounter): boolean {
    if (other === this) return true;
    if (other.counts.size !== this.counts.size) return false;
    for (const [a, [p, n]] of this.counts) {
      const o = other.counts.get(a);
      if (o === undefined || o[0] !== p || o[1] !== n) return false;
    }
    return true;
  }

  /** A canonical string form. */
  canonical(): string {
    return [...this.counts]
      .sort((x, y) => cmpStr(x[0], y[0]))
      .map(([a, [p, n]]) => `${JSON.stringify(a)}:${p}-${n}`)
      .join(",");
  }

  /** @internal */
  static encodeData(c: PNCounter): unknown {
    return [...c.counts].map(([a, [p, n]]) => [a, p, n]);
  }

  /** @internal */
  static decodeData(data: unknown): PNCounter {
    decodeCheck(Array.isArray(data), "PNCounter");
    const counts = new Map<string, readonly [number, number]>();
    for (const row of data as unknown[]) {
      decodeCheck(Array.isArray(row) && row.length === 3, "PNCounter row");
      const [a, p, n] = row as unknown[];
      decodeCheck(typeof a === "string" && a.length > 0 && !counts.has(a), "PNCounter actor");
      decodeCheck(isCount(p) && isCount(n), "PNCounter count");
      counts.set(a, [p, n]);
    }
    return new PNCounter(counts, null);
  }
}

function isCount(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v) && v >= 0;
}

registerCrdtCodec<PNCounter>(CRDT_TAGS.PNCounter, PNCounter, PNCounter.encodeData, PNCounter.decodeData);
