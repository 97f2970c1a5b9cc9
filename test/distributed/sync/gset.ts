/** A tiny grow-only set implementing Convergent, for the sync tests (with a CBOR codec). */
import { registerTaggedCodec } from "../../../src/core/persist/codec-tags.js";
import type { Convergent } from "../../../src/distributed/crdt/convergent.js";

export class TGSet implements Convergent<TGSet, string[]> {
  constructor(
    readonly items: ReadonlySet<string>,
    readonly delta: string[] | null,
  ) {}
  static empty(): TGSet {
    return new TGSet(new Set(), null);
  }
  add(x: string): TGSet {
    if (this.items.has(x)) return this;
    const s = new Set(this.items);
    s.add(x);
    return new TGSet(s, [...(this.delta ?? []), x]);
  }
  has(x: string): boolean {
    return this.items.has(x);
  }
  get size(): number {
    return this.items.size;
  }
  values(): string[] {
    return [...this.items].sort();
  }
  join(other: TGSet): TGSet {
    return this.applyDelta([...other.items]);
  }
  applyDelta(d: string[]): TGSet {
    if (!Array.isArray(d)) throw new Error("bad delta");
    let s: Set<string> | null = null;
    for (const x of d) {
      if (typeof x !== "string") throw new Error("bad delta item");
      if (!this.items.has(x)) (s ??= new Set(this.items)).add(x);
    }
    return s === null ? this : new TGSet(s, null);
  }
  clearDelta(): TGSet {
    return this.delta === null ? this : new TGSet(this.items, null);
  }
  equals(other: TGSet): boolean {
    if (other.items.size !== this.items.size) return false;
    for (const x of this.items) if (!other.items.has(x)) return false;
    return true;
  }
}

registerTaggedCodec<TGSet>({
  tag: 65_001,
  Class: TGSet,
  encode: (v) => [...v.items],
  decode: (d) => TGSet.empty().applyDelta(d as string[]),
});
