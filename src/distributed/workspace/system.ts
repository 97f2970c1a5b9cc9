/**
 * The minimum branchable-system interface a workspace checks out, forks and merges
 * (distributed.md §4.6). Adapters here are stateful: an operation changes the system and
 * resolves to the system itself.
 * @module
 */

/** What a system can do. A composite has the intersection of its components' capabilities. */
export interface SystemCaps {
  /** `branch` / `checkout` / `deleteBranch` create and move between independent branches. */
  readonly branchable: boolean;
  /** `merge` / `conflicts` do a three-way merge (conflicts are possible). */
  readonly mergeable: boolean;
  /** Branches join as a lattice: a merge never conflicts. */
  readonly convergent: boolean;
  /** Forks overlay the parent copy-on-write instead of copying. */
  readonly overlayable: boolean;
}

/**
 * One conflict a merge would hit: `key` changed from `base` to `ours` on the target and to
 * `theirs` on the source. A detector that throws is reported as `{ system, indeterminate: true, error }`.
 */
export interface Conflict {
  /** The system the conflict is in (set by the workspace merge). */
  readonly system?: string;
  /** The key (or entity) both sides changed. */
  readonly key?: string;
  /** Its value at the common ancestor (`undefined`: absent). */
  readonly base?: unknown;
  /** Its value on the merge target. */
  readonly ours?: unknown;
  /** Its value on the merge source. */
  readonly theirs?: unknown;
  /** True when the detector failed, so conflicts are unknown. */
  readonly indeterminate?: true;
  /** The detector's error message, for an indeterminate conflict. */
  readonly error?: string;
}

/** Options of {@link BranchableSystem.merge}. */
export interface MergeOptions {
  /** Merge despite conflicts: the source's value wins on every conflicting key. */
  readonly force?: boolean;
  /** A note recorded with the merge, where the system keeps one. */
  readonly message?: string;
}

/**
 * A system that can be branched, checked out, merged and read at a snapshot.
 * `V` is what `value()` reads on the checked-out branch.
 */
export interface BranchableSystem<V = unknown> {
  /** The system's id within a workspace. */
  readonly id: string;
  /** A type name (`"stored-map"`, `"convergent"`, `"composite"`, …). */
  readonly type: string;
  /** What it can do. */
  readonly caps: SystemCaps;
  /** The checked-out branch. */
  currentBranch(): string;
  /** Every branch. */
  branches(): Promise<string[]>;
  /** The head (snapshot id) of `branch` (default: the checked-out one), or null when absent. */
  head(branch?: string): Promise<string | null>;
  /**
   * Creates branch `name` at `from`: a branch name or a head (default: the checked-out head). O(1):
   * only a branch pointer is written. Resolves to the system (still on its checked-out branch).
   */
  branch(name: string, from?: string): Promise<BranchableSystem<V>>;
  /** Checks out `name`. */
  checkout(name: string): Promise<BranchableSystem<V>>;
  /** Deletes branch `name` (never the checked-out one). */
  deleteBranch(name: string): Promise<BranchableSystem<V>>;
  /** The conflicts merging `source` into `target` would hit (branch names or heads). */
  conflicts(target: string, source: string): Promise<Conflict[]>;
  /**
   * Merges `source` (a branch name or head) into the checked-out branch. Throws a
   * `WorkspaceError` `ERR_MERGE_CONFLICT` (with `data.conflicts`) on a conflict unless `force`.
   */
  merge(source: string, opts?: MergeOptions): Promise<BranchableSystem<V>>;
  /** The value of the checked-out branch. */
  value(): Promise<V>;
  /** The value at a head (snapshot isolation: a head's value never changes). */
  asOf(head: string): Promise<V>;
}
