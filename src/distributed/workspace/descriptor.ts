/**
 * The workspace descriptor (plain data, the unit of reflection) and the pure functions over it:
 * the gate that says whether every pinned head is local, the lease checks, and the fork descriptor.
 * Nothing here does I/O or reads a clock.
 * @module
 */
import { WorkspaceError } from "./errors.js";

/** How a system is wired when a workspace is followed over the network. */
export type SystemRole = "subscriber" | "bidirectional";

/** One system of a workspace, pinned at a head on a branch. */
export interface SystemPin {
  /** The branch of the system this workspace checks out. */
  readonly branch: string;
  /** The pinned head: an opaque token compared with `===` (a content address for stored systems). */
  readonly head: string;
  /** The replication topic carrying the system's content and branch heads, when followed. */
  readonly topic?: string;
  /** `"subscriber"` (default): one-way store follow. `"bidirectional"`: convergent live sync. */
  readonly role?: SystemRole;
}

/** A workspace checkout: which systems, on which branch, at which heads, and who may write. */
export interface WorkspaceDescriptor {
  /** The workspace's branch. */
  readonly branch: string;
  /** The single-writer lease: the only peer id allowed to write. Absent: read-only for everyone. */
  readonly owner?: string;
  /** The systems, by id. */
  readonly systems: Readonly<Record<string, SystemPin>>;
  /** The signal-sync topic carrying this descriptor. */
  readonly descriptorTopic?: string;
  /** For a fork: the parent branch and its heads at the fork (the merge base). */
  readonly forkOf?: { readonly branch: string; readonly heads: Readonly<Record<string, string>> };
}

/** Local heads: `{ [systemId]: { [branch]: head } }`. */
export type HeadState = Readonly<Record<string, Readonly<Record<string, string>>>>;

/** The gate's verdict for one system. */
export interface SystemStatus {
  /** The head the descriptor pins. */
  readonly target: string;
  /** The head held locally on the pinned branch, or null. */
  readonly local: string | null;
  /** Whether `local === target`. */
  readonly reached: boolean;
}

/** The gate's verdict for a descriptor. */
export interface GateResult {
  /** True when the descriptor has systems and every pinned head is local. */
  readonly ready: boolean;
  /** Ids of the systems whose pinned head is not local yet. */
  readonly pending: Set<string>;
  /** Per system. */
  readonly statuses: Readonly<Record<string, SystemStatus>>;
}

/**
 * Whether every system's pinned head is held locally on the pinned branch. An empty descriptor
 * is never ready; a head on another branch does not count.
 */
export function gate(descriptor: WorkspaceDescriptor | null, heads: HeadState): GateResult {
  const pending = new Set<string>();
  const statuses: Record<string, SystemStatus> = {};
  const systems = descriptor?.systems ?? {};
  const ids = Object.keys(systems);
  for (const id of ids) {
    const pin = systems[id] as SystemPin;
    const local = heads[id]?.[pin.branch] ?? null;
    const reached = local !== null && local === pin.head;
    statuses[id] = { target: pin.head, local, reached };
    if (!reached) pending.add(id);
  }
  return { ready: ids.length > 0 && pending.size === 0, pending, statuses };
}

/** `heads` with `heads[systemId][branch] = head` (a new object; `heads` is not changed). */
export function mergeHeadUpdate(heads: HeadState, systemId: string, branch: string, head: string): HeadState {
  return { ...heads, [systemId]: { ...heads[systemId], [branch]: head } };
}

/** Whether `self` holds the descriptor's lease (`self` is non-empty and equals `owner`). */
export function writable(d: WorkspaceDescriptor | null, self: string | null | undefined): boolean {
  return d !== null && typeof self === "string" && self !== "" && d.owner === self;
}

/** Throws `ERR_NOT_LEASE_HOLDER` unless `writable(d, self)`. */
export function assertWritable(d: WorkspaceDescriptor | null, self: string | null | undefined): void {
  if (!writable(d, self))
    throw new WorkspaceError(
      "ERR_NOT_LEASE_HOLDER",
      d?.owner === undefined
        ? `branch ${JSON.stringify(d?.branch ?? null)} is read-only (no lease holder); fork it to write`
        : `${JSON.stringify(self ?? null)} does not hold the lease of branch ${JSON.stringify(d.branch)} (held by ${JSON.stringify(d.owner)})`,
      { branch: d?.branch ?? null, owner: d?.owner ?? null, self: self ?? null },
    );
}

/** The descriptor with its lease given to `self`: hand-off is publishing this new descriptor. */
export function claim(d: WorkspaceDescriptor, self: string): WorkspaceDescriptor {
  return { ...d, owner: self };
}

/** The descriptor with no lease holder (read-only for everyone). */
export function release(d: WorkspaceDescriptor): WorkspaceDescriptor {
  const { owner: _owner, ...rest } = d;
  return rest;
}

/**
 * The descriptor of a fork of `d` on `forkBranch`, leased to `owner`: every system re-pointed to
 * `forkBranch` at its parent head (so a peer that holds the parent needs no content, only a branch
 * pointer), and `forkOf` anchoring the parent branch and heads (the merge base).
 */
export function forkDescriptor(
  d: WorkspaceDescriptor,
  forkBranch: string,
  owner: string,
): WorkspaceDescriptor {
  const systems: Record<string, SystemPin> = {};
  const heads: Record<string, string> = {};
  for (const [id, pin] of Object.entries(d.systems)) {
    systems[id] = { ...pin, branch: forkBranch };
    heads[id] = pin.head;
  }
  const out: WorkspaceDescriptor = {
    ...d,
    branch: forkBranch,
    owner,
    systems,
    forkOf: { branch: d.branch, heads },
  };
  return out;
}

/** The descriptor with system `systemId` pinned at `head` (same branch). */
export function withHead(d: WorkspaceDescriptor, systemId: string, head: string): WorkspaceDescriptor {
  const pin = d.systems[systemId];
  if (pin === undefined)
    throw new WorkspaceError("ERR_UNKNOWN_SYSTEM", `descriptor has no system ${JSON.stringify(systemId)}`);
  return { ...d, systems: { ...d.systems, [systemId]: { ...pin, head } } };
}

/** Value equality of descriptors (plain data; key order does not matter). */
export function descriptorEquals(a: WorkspaceDescriptor | null, b: WorkspaceDescriptor | null): boolean {
  return deepEqual(a, b);
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  for (const k of ka)
    if (!deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  return true;
}

/** Throws `ERR_INVALID_DESCRIPTOR` unless `d` is a well-formed descriptor (checks what arrives off the wire). */
export function assertDescriptor(d: unknown): asserts d is WorkspaceDescriptor {
  const bad = (why: string): never => {
    throw new WorkspaceError("ERR_INVALID_DESCRIPTOR", `invalid workspace descriptor: ${why}`);
  };
  if (typeof d !== "object" || d === null) bad("not an object");
  const o = d as Record<string, unknown>;
  if (typeof o.branch !== "string") bad("branch must be a string");
  if (o.owner !== undefined && typeof o.owner !== "string") bad("owner must be a string");
  if (typeof o.systems !== "object" || o.systems === null) bad("systems must be an object");
  for (const [id, p] of Object.entries(o.systems as Record<string, unknown>)) {
    const pin = p as Record<string, unknown> | null;
    if (typeof pin !== "object" || pin === null) bad(`system ${id} is not an object`);
    if (typeof pin?.branch !== "string" || typeof pin.head !== "string")
      bad(`system ${id} needs a string branch and head`);
    if (pin?.role !== undefined && pin.role !== "subscriber" && pin.role !== "bidirectional")
      bad(`system ${id} has an unknown role`);
  }
}
