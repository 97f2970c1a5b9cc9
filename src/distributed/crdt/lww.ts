/**
 * LWW register ordered by a hybrid logical clock. Merge rule: the greater stamp
 * `[wallMs, counter]` wins, ties broken by actor id and then by the value's canonical form, so
 * every replica picks the same winner whatever the merge order.
 * @module
 */
import type { Convergent } from "./convergent.js";
import { isCounter } from "./dots.js";
import { badArgument, decodeCheck } from "./errors.js";
import { CRDT_TAGS, registerCrdtCodec } from "./tags.js";
import { canonicalKey, checkActor, cmpStr } from "./util.js";

/** A hybrid logical clock stamp: wall milliseconds, then a counter for writes within one ms. */
export type HLC = readonly [wallMs: number, counter: number];

/** The stamp after `prev` at wall time `now`: never smaller, even when the wall clock steps back. */
export function nextHLC(prev: HLC, now: number): HLC {
  if (!Number.isSafeInteger(now) || now < 0)
    badArgument(`wall clock must be a non-negative integer, got ${now}`);
  return now > prev[0] ? [now, 0] : [prev[0], prev[1] + 1];
}

/** A last-writer-wins register. */
export class LWWRegister<T> implements Convergent<LWWRegister<T>, LWWRegister<T>> {
  private constructor(
    /** The current value. */
    readonly value: T,
    /** The stamp of the write that set it. */
    readonly stamp: HLC,
    /** The actor that wrote it. */
    readonly writer: string,
    private readonly valueKey: string,
    /** What changed locally since the last `clearDelta()` (the register itself), or `null`. */
    readonly delta: LWWRegister<T> | null,
  ) {}

  /** A register holding `v`, written by `actor` at `now` (default `Date.now()`). */
  static of<T>(v: T, actor: string, now: number = Date.now()): LWWRegister<T> {
    const r = new LWWRegister(v, nextHLC([0, 0], now), checkActor(actor), canonicalKey(v), null);
    return r;
  }

  /** A write of `v` by `actor`, stamped after everything this register has seen. */
  set(v: T, actor: string, now: number = Date.now()): LWWRegister<T> {
    const stamp = nextHLC(this.stamp, now);
    const state = new LWWRegister(v, stamp, checkActor(actor), canonicalKey(v), null);
    return new LWWRegister(v, stamp, actor, state.valueKey, state);
  }

  /** Positive when this write wins over `o`'s. */
  private compare(o: LWWRegister<T>): number {
    return (
      this.stamp[0] - o.stamp[0] ||
      this.stamp[1] - o.stamp[1] ||
      cmpStr(this.writer, o.writer) ||
      cmpStr(this.valueKey, o.valueKey)
    );
  }

  /** The winning write; `this` when `other` does not win. */
  join(other: LWWRegister<T>): LWWRegister<T> {
    return other.compare(this) > 0 ? other.clearDelta() : this;
  }

  /** Same as {@link LWWRegister.join} (a delta is a register). */
  applyDelta(delta: LWWRegister<T>): LWWRegister<T> {
    return this.join(delta);
  }

  /** This register without a pending delta. */
  clearDelta(): LWWRegister<T> {
    return this.delta === null
      ? this
      : new LWWRegister(this.value, this.stamp, this.writer, this.valueKey, null);
  }

  /** The same write (stamp, actor and value). */
  equals(other: LWWRegister<T>): boolean {
    return other === this || this.compare(other) === 0;
  }

  /** A canonical string form. */
  canonical(): string {
    return `${this.stamp[0]}.${this.stamp[1]}.${JSON.stringify(this.writer)}.${this.valueKey}`;
  }

  /** @internal */
  static encodeData(r: LWWRegister<unknown>): unknown {
    return [r.value, r.stamp[0], r.stamp[1], r.writer];
  }

  /** @internal */
  static decodeData(data: unknown): LWWRegister<unknown> {
    decodeCheck(Array.isArray(data) && data.length === 4, "LWWRegister");
    const [v, w, c, a] = data as unknown[];
    decodeCheck(isCounter(w, true) && isCounter(c, true), "LWWRegister stamp");
    decodeCheck(typeof a === "string" && a.length > 0, "LWWRegister actor");
    return new LWWRegister(v, [w, c], a, canonicalKey(v), null);
  }
}

registerCrdtCodec<LWWRegister<unknown>>(
  CRDT_TAGS.LWWRegister,
  LWWRegister,
  LWWRegister.encodeData,
  LWWRegister.decodeData,
);
