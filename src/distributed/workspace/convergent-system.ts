/**
 * A branchable system over a convergent datatype (G-Set, OR-Map, any `Convergent`): each branch
 * holds an immutable value, `branch` shares the value (O(1): values are immutable), `merge` joins
 * the source into the checked-out branch and never conflicts. Heads are this system's snapshot ids:
 * every distinct value a branch held gets one, and `asOf(head)` returns that value.
 * @module
 */
import type { Convergent } from "../crdt/convergent.js";
import { WorkspaceError } from "./errors.js";
import type { BranchableSystem, Conflict, SystemCaps } from "./system.js";

/** A branchable system over a convergent value (see {@link convergentSystem}). */
export class ConvergentSystem<C extends Convergent<C, unknown>> implements BranchableSystem<C> {
  readonly type = "convergent";
  readonly caps: SystemCaps = { branchable: true, mergeable: true, convergent: true, overlayable: true };
  readonly #snapshots = new Map<string, C>();
  readonly #heads = new Map<string, string>();
  #current: string;
  #seq = 0;

  /** Use {@link convergentSystem}. */
  constructor(
    readonly id: string,
    initial: C,
    branch: string,
  ) {
    this.#current = branch;
    this.#heads.set(branch, this.#snap(initial));
  }

  currentBranch(): string {
    return this.#current;
  }

  async branches(): Promise<string[]> {
    return [...this.#heads.keys()].sort();
  }

  async head(branch: string = this.#current): Promise<string | null> {
    return this.#heads.get(branch) ?? null;
  }

  async branch(name: string, from?: string): Promise<ConvergentSystem<C>> {
    this.#heads.set(name, this.#ref(from ?? this.#current));
    return this;
  }

  async checkout(name: string): Promise<ConvergentSystem<C>> {
    if (!this.#heads.has(name))
      throw new WorkspaceError("ERR_NO_BRANCH", `${this.id} has no branch ${JSON.stringify(name)}`);
    this.#current = name;
    return this;
  }

  async deleteBranch(name: string): Promise<ConvergentSystem<C>> {
    if (name === this.#current)
      throw new WorkspaceError(
        "ERR_NO_BRANCH",
        `cannot delete the checked-out branch ${JSON.stringify(name)}`,
      );
    this.#heads.delete(name);
    return this;
  }

  /** A convergent merge never conflicts. */
  async conflicts(target: string, source: string): Promise<Conflict[]> {
    this.#ref(target);
    this.#ref(source);
    return [];
  }

  /** Joins `source` into the checked-out branch (`force` changes nothing: there are no conflicts). */
  async merge(source: string): Promise<ConvergentSystem<C>> {
    const mine = this.#valueOf(this.#ref(this.#current));
    const joined = mine.join(this.#valueOf(this.#ref(source)));
    if (joined !== mine) this.#heads.set(this.#current, this.#snap(joined.clearDelta()));
    return this;
  }

  async value(): Promise<C> {
    return this.#valueOf(this.#ref(this.#current));
  }

  async asOf(head: string): Promise<C> {
    return this.#valueOf(this.#ref(head));
  }

  /** Applies `fn` to the checked-out branch's value (a no-op returning the same value keeps the head). */
  async update(fn: (value: C) => C): Promise<string> {
    const h = this.#ref(this.#current);
    const v = this.#valueOf(h);
    const next = fn(v);
    if (next === v || next.equals(v)) return h;
    const nh = this.#snap(next.clearDelta());
    this.#heads.set(this.#current, nh);
    return nh;
  }

  #snap(v: C): string {
    const h = `${this.id}#${++this.#seq}`;
    this.#snapshots.set(h, v);
    return h;
  }

  #ref(ref: string): string {
    const h = this.#heads.get(ref) ?? (this.#snapshots.has(ref) ? ref : undefined);
    if (h === undefined)
      throw new WorkspaceError("ERR_NO_BRANCH", `${this.id} has no branch or head ${JSON.stringify(ref)}`);
    return h;
  }

  #valueOf(head: string): C {
    return this.#snapshots.get(head) as C;
  }
}

/** A branchable system over `initial`, on `branch` (default `"main"`). */
export function convergentSystem<C extends Convergent<C, unknown>>(
  id: string,
  initial: C,
  branch = "main",
): ConvergentSystem<C> {
  return new ConvergentSystem(id, initial, branch);
}
