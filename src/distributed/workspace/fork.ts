/**
 * Fork a followed checkout into a writable branch in O(1), and merge it back fail-safe.
 * @module
 */
import { forkDescriptor, type WorkspaceDescriptor } from "./descriptor.js";
import { WorkspaceError } from "./errors.js";
import type { WorkspacePeer } from "./peer.js";
import type { BranchableSystem, Conflict, MergeOptions } from "./system.js";

/** The systems of a workspace, by id. */
export type Systems = Readonly<Record<string, BranchableSystem>>;

function lookup(systems: Systems, id: string): BranchableSystem {
  const s = systems[id];
  if (s === undefined)
    throw new WorkspaceError("ERR_UNKNOWN_SYSTEM", `no system ${JSON.stringify(id)} to fork or merge`);
  return s;
}

/**
 * Forks `parent` onto `forkBranch`, leased to `self`: sets the fork descriptor on `wp`, then for each
 * system creates `forkBranch` at the parent's pinned head (`branch(forkBranch, parentHead)`: a
 * pointer, no content) and feeds that head to the gate, so `wp` re-seats onto the fork after the
 * last system. Resolves to the fork descriptor; a failing `branch` rejects (the systems branched
 * before it keep their fork branch; `wp` stays seated on what it had).
 */
export async function forkRemote<S, W>(
  wp: WorkspacePeer<S, W>,
  parent: WorkspaceDescriptor,
  forkBranch: string,
  self: string,
  systems: Systems,
): Promise<WorkspaceDescriptor> {
  const fork = forkDescriptor(parent, forkBranch, self);
  for (const id of Object.keys(parent.systems)) lookup(systems, id);
  wp.setDescriptor(fork);
  for (const [id, pin] of Object.entries(parent.systems)) {
    await lookup(systems, id).branch(forkBranch, pin.head);
    wp.applyHeadUpdate(id, forkBranch, pin.head);
  }
  return fork;
}

/** Options of {@link mergeForkRemote}. */
export interface MergeForkOptions extends MergeOptions {}

/** What {@link mergeForkRemote} did. */
export interface MergeForkResult {
  /** The systems merged, each with the parent branch's new head. Empty when nothing merged. */
  readonly merged: Readonly<Record<string, string>>;
  /** The conflicts found, by system (merging nothing). */
  readonly conflicts: Readonly<Record<string, Conflict[]>>;
  /** A failure while merging: `merged` then lists exactly the systems that merged before it. */
  readonly error?: unknown;
}

/**
 * Merges the fork described by `fork` back into its parent branch (`fork.forkOf.branch`). Unless
 * `force`, it first collects the conflicts of every system; any conflict, or a detector that throws
 * (reported as `{ system, indeterminate: true, error }`), merges nothing. Then it merges system by
 * system; if one fails, the result has the error and exactly the systems merged before it. The
 * parent descriptor is not advanced here: publish the new heads (`merged`) as the lease holder.
 */
export async function mergeForkRemote(
  fork: WorkspaceDescriptor,
  systems: Systems,
  opts: MergeForkOptions = {},
): Promise<MergeForkResult> {
  const parentBranch = fork.forkOf?.branch;
  if (parentBranch === undefined)
    return {
      merged: {},
      conflicts: {},
      error: new WorkspaceError("ERR_INVALID_DESCRIPTOR", "not a fork descriptor (no forkOf)"),
    };
  const ids = Object.keys(fork.systems);
  try {
    for (const id of ids) await lookup(systems, id).checkout(parentBranch);
  } catch (error) {
    return { merged: {}, conflicts: {}, error };
  }
  if (opts.force !== true) {
    const conflicts: Record<string, Conflict[]> = {};
    for (const id of ids) {
      const sys = lookup(systems, id);
      const forkBranch = fork.systems[id]?.branch as string;
      let found: Conflict[];
      try {
        found = (await sys.conflicts(parentBranch, forkBranch)).map((c) => ({ ...c, system: id }));
      } catch (e) {
        found = [{ system: id, indeterminate: true, error: e instanceof Error ? e.message : String(e) }];
      }
      if (found.length > 0) conflicts[id] = found;
    }
    if (Object.keys(conflicts).length > 0) return { merged: {}, conflicts };
  }
  const merged: Record<string, string> = {};
  for (const id of ids) {
    const sys = lookup(systems, id);
    try {
      await sys.merge(fork.systems[id]?.branch as string, opts);
      merged[id] = (await sys.head(parentBranch)) as string;
    } catch (error) {
      return { merged, conflicts: {}, error };
    }
  }
  return { merged, conflicts: {} };
}
