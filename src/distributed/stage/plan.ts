/**
 * What a stream applies next, as pure functions of a datatype's value and the ids already applied.
 * OR-Map: every assoc, and a dissoc only once the assocs it removed are applied. CDVCS: the commits
 * in the datatype's deterministic causal order; with several heads the plan is a conflict (the
 * stream waits for a merge, it never guesses an order).
 * @module
 */
import type { Op, OpMap } from "./opmap.js";

/** One unit a stream applies atomically with its applied-log entry. */
export interface Unit {
  /** The id logged as applied (an OR-Map record id or a commit id). */
  readonly id: string;
  /** The operations, applied in order. */
  readonly ops: readonly Op[];
}

/** The outcome of planning. */
export type Plan =
  | { readonly kind: "apply"; readonly units: readonly Unit[]; readonly reordered: boolean }
  | { readonly kind: "conflict"; readonly heads: readonly string[] };

/** The part of a CDVCS commit a stream needs. */
export interface CommitLike {
  /** Content id. */
  readonly id: string;
  /** Parent commit ids (two or more for a merge commit). */
  readonly parents: readonly string[];
  /** The transactions, `[name, ...args]` each. */
  readonly txs: readonly Op[];
}

/** OR-Map: new assocs first, then every dissoc whose removed assocs are all applied. */
export function planOpMap(map: OpMap, applied: ReadonlySet<string>): Plan {
  const units: Unit[] = [];
  const done = new Set(applied);
  for (const r of map.assocRecords()) {
    if (done.has(r.uid)) continue;
    units.push({ id: r.uid, ops: r.ops });
    done.add(r.uid);
  }
  for (const r of map.dissocRecords()) {
    if (done.has(r.uid)) continue;
    if (!r.removes.every((u) => done.has(u))) continue;
    units.push({ id: r.uid, ops: r.ops });
    done.add(r.uid);
  }
  return { kind: "apply", units, reordered: false };
}

/**
 * CDVCS: the unapplied commits in causal order. `reordered` says that an applied commit now sits
 * after an unapplied one in the canonical order (a merge brought in concurrent history), so a
 * stream with a reset function resets and replays from the start.
 */
export function planCommits(
  heads: readonly string[],
  commits: readonly CommitLike[],
  applied: ReadonlySet<string>,
): Plan {
  if (heads.length > 1) return { kind: "conflict", heads: [...heads].sort() };
  const units: Unit[] = [];
  let reordered = false;
  for (const c of commits) {
    if (applied.has(c.id)) {
      if (units.length > 0) reordered = true;
      continue;
    }
    units.push({ id: c.id, ops: c.txs });
  }
  return { kind: "apply", units, reordered };
}
