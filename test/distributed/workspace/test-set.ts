/** A tiny grow-only set implementing `Convergent`, for tests that need a datatype with no dependencies. */
import type { Convergent } from "../../../src/distributed/crdt/convergent.js";

export class TestSet implements Convergent<TestSet, string[]> {
  private constructor(
    readonly items: ReadonlySet<string>,
    readonly delta: string[] | null,
  ) {}
  static of(...xs: string[]): TestSet {
    return new TestSet(new Set(xs), null);
  }
  add(x: string): TestSet {
    if (this.items.has(x)) return this;
    return new TestSet(new Set([...this.items, x]), [...(this.delta ?? []), x]);
  }
  values(): string[] {
    return [...this.items].sort();
  }
  join(other: TestSet): TestSet {
    const extra = [...other.items].filter((x) => !this.items.has(x));
    return extra.length === 0 ? this : new TestSet(new Set([...this.items, ...extra]), null);
  }
  applyDelta(d: string[]): TestSet {
    return this.join(new TestSet(new Set(d), null));
  }
  clearDelta(): TestSet {
    return this.delta === null ? this : new TestSet(this.items, null);
  }
  equals(other: TestSet): boolean {
    return other.items.size === this.items.size && [...other.items].every((x) => this.items.has(x));
  }
}
