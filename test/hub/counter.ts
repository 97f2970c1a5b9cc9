/**
 * A small Convergent datatype for the hub tests (a grow-only counter per actor) with a registered
 * codec, so the hub relays and journals deltas of a datatype it was never told about.
 */
import { registerTaggedCodec } from "../../src/core/persist/codec-tags.js";
import type { Convergent } from "../../src/distributed/crdt/convergent.js";

type Counts = Readonly<Record<string, number>>;

/** A grow-only counter: one count per actor, joined by max. */
export class GCounter implements Convergent<GCounter, Counts> {
  constructor(
    readonly counts: Counts,
    readonly delta: Counts | null,
  ) {}

  static empty(): GCounter {
    return new GCounter({}, null);
  }

  static from(counts: Counts): GCounter {
    return new GCounter({ ...counts }, null);
  }

  get value(): number {
    return Object.values(this.counts).reduce((a, b) => a + b, 0);
  }

  inc(actor: string, n = 1): GCounter {
    const c = (this.counts[actor] ?? 0) + n;
    return new GCounter({ ...this.counts, [actor]: c }, { ...(this.delta ?? {}), [actor]: c });
  }

  private merge(other: Counts): GCounter {
    let out: Record<string, number> | null = null;
    for (const [k, v] of Object.entries(other)) {
      if (v > (this.counts[k] ?? 0)) {
        out ??= { ...this.counts };
        out[k] = v;
      }
    }
    return out === null ? this : new GCounter(out, null);
  }

  join(other: GCounter): GCounter {
    return this.merge(other.counts);
  }

  applyDelta(d: Counts): GCounter {
    return this.merge(d);
  }

  clearDelta(): GCounter {
    return this.delta === null ? this : new GCounter(this.counts, null);
  }

  equals(other: GCounter): boolean {
    const ka = Object.keys(this.counts);
    return (
      ka.length === Object.keys(other.counts).length && ka.every((k) => this.counts[k] === other.counts[k])
    );
  }
}

registerTaggedCodec<GCounter>({
  tag: 41_190,
  Class: GCounter,
  encode: (c) => c.counts,
  decode: (d) => GCounter.from(d as Counts),
});
