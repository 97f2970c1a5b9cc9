/**
 * A composite system: a product of systems that branches, checks out and merges them together.
 * Its capabilities are the intersection of its components'; its head is the components' heads;
 * a merge checks every component for conflicts before merging any.
 * @module
 */
import { WorkspaceError } from "./errors.js";
import type { BranchableSystem, Conflict, MergeOptions, SystemCaps } from "./system.js";

/** A product of systems (see {@link composite}). */
export class CompositeSystem implements BranchableSystem<Record<string, unknown>> {
  readonly type = "composite";
  readonly caps: SystemCaps;

  /** Use {@link composite}. */
  constructor(
    readonly id: string,
    readonly parts: Readonly<Record<string, BranchableSystem>>,
  ) {
    const all = Object.values(parts);
    const every = (k: keyof SystemCaps) => all.length > 0 && all.every((s) => s.caps[k]);
    this.caps = {
      branchable: every("branchable"),
      mergeable: every("mergeable"),
      convergent: every("convergent"),
      overlayable: every("overlayable"),
    };
  }

  #each<T>(fn: (id: string, s: BranchableSystem) => Promise<T>): Promise<T[]> {
    return Promise.all(Object.entries(this.parts).map(([id, s]) => fn(id, s)));
  }

  currentBranch(): string {
    const first = Object.values(this.parts)[0];
    return first === undefined ? "main" : first.currentBranch();
  }

  async branches(): Promise<string[]> {
    const lists = await this.#each((_, s) => s.branches());
    const [first, ...rest] = lists;
    return (first ?? []).filter((b) => rest.every((l) => l.includes(b)));
  }

  /** The components' heads as one token (`JSON` of `{ [id]: head }`), null if any is missing. */
  async head(branch?: string): Promise<string | null> {
    const heads: Record<string, string> = {};
    for (const [id, s] of Object.entries(this.parts)) {
      const h = await s.head(branch);
      if (h === null) return null;
      heads[id] = h;
    }
    return JSON.stringify(heads);
  }

  async branch(name: string, from?: string): Promise<CompositeSystem> {
    const heads = from === undefined ? undefined : this.#split(from);
    await this.#each((id, s) => s.branch(name, heads?.[id] ?? from));
    return this;
  }

  async checkout(name: string): Promise<CompositeSystem> {
    await this.#each((_, s) => s.checkout(name));
    return this;
  }

  async deleteBranch(name: string): Promise<CompositeSystem> {
    await this.#each((_, s) => s.deleteBranch(name));
    return this;
  }

  async conflicts(target: string, source: string): Promise<Conflict[]> {
    const t = this.#split(target);
    const s = this.#split(source);
    const lists = await this.#each((id, sys) =>
      sys.conflicts(t?.[id] ?? target, s?.[id] ?? source).then((cs) => cs.map((c) => ({ system: id, ...c }))),
    );
    return lists.flat();
  }

  /** Checks every component for conflicts first; merges none unless none conflicts (or `force`). */
  async merge(source: string, opts: MergeOptions = {}): Promise<CompositeSystem> {
    if (opts.force !== true) {
      const conflicts = await this.conflicts(this.currentBranch(), source);
      if (conflicts.length > 0)
        throw new WorkspaceError("ERR_MERGE_CONFLICT", `composite ${this.id}: merge conflicts`, {
          conflicts,
        });
    }
    const s = this.#split(source);
    for (const [id, sys] of Object.entries(this.parts)) await sys.merge(s?.[id] ?? source, opts);
    return this;
  }

  async value(): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    for (const [id, s] of Object.entries(this.parts)) out[id] = await s.value();
    return out;
  }

  async asOf(head: string): Promise<Record<string, unknown>> {
    const heads = this.#split(head);
    if (heads === null)
      throw new WorkspaceError("ERR_NO_BRANCH", `composite ${this.id}: ${head} is not a head`);
    const out: Record<string, unknown> = {};
    for (const [id, s] of Object.entries(this.parts)) out[id] = await s.asOf(heads[id] as string);
    return out;
  }

  #split(ref: string): Record<string, string> | null {
    if (!ref.startsWith("{")) return null;
    try {
      const o = JSON.parse(ref) as unknown;
      return typeof o === "object" && o !== null ? (o as Record<string, string>) : null;
    } catch {
      return null;
    }
  }
}

/** A composite of `parts` (keyed by component id). */
export function composite(id: string, parts: Readonly<Record<string, BranchableSystem>>): CompositeSystem {
  return new CompositeSystem(id, parts);
}
