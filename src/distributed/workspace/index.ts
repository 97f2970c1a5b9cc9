/**
 * Workspaces: follow a remote checkout without torn reads, fork it in O(1), write under an enforced
 * lease, merge back fail-safe.
 * @module
 */
export { type CompositeSystem, composite } from "./composite.js";
export type { ContentStore } from "./content.js";
export { type ConvergentSystem, convergentSystem } from "./convergent-system.js";
export {
  claim,
  descriptorEquals,
  forkDescriptor,
  type GateResult,
  gate,
  type HeadState,
  mergeHeadUpdate,
  release,
  type SystemPin,
  type SystemRole,
  type SystemStatus,
  type WorkspaceDescriptor,
  withHead,
  writable,
} from "./descriptor.js";
export { isWorkspaceError, WorkspaceError, type WorkspaceErrorCode } from "./errors.js";
export {
  type Follow,
  type FollowOptions,
  followWorkspace,
  type Host,
  type HostOptions,
  hostWorkspace,
} from "./follow.js";
export {
  forkRemote,
  type MergeForkOptions,
  type MergeForkResult,
  mergeForkRemote,
  type Systems,
} from "./fork.js";
export { LeaseTable, type LeaseTableOptions } from "./lease.js";
export {
  type Compose,
  createWorkspacePeer,
  type ReseatResult,
  type ResolveSystem,
  type WorkspacePeer,
  type WorkspacePeerOptions,
} from "./peer.js";
export {
  type ContentStats,
  type ContentTopic,
  ObservableStore,
  observable,
  type Write,
} from "./replicate.js";
export {
  type MapOp,
  type MapSnapshot,
  openStoredMap,
  StoredMap,
  type StoredMapOptions,
} from "./stored-map.js";
export type { BranchableSystem, Conflict, MergeOptions, SystemCaps } from "./system.js";
export { type VersionedMapSystem, versionedMapSystem } from "./versioned-map-system.js";
