/**
 * The branchable-system adapter over `VersionedMap` (the in-memory three-way map of
 * `spindel/crdt`): it holds the current immutable value and swaps it on each operation.
 * @module
 */
import { CrdtError } from "../crdt/errors.js";
import type { VersionedMap } from "../crdt/versioned-map.js";
import { WorkspaceError } from "./errors.js";
import type { BranchableSystem, Conflict, MergeOptions, SystemCaps } from "./system.js";

/** A `VersionedMap` as a branchable system (see {@link versionedMapSystem}). */
export class VersionedMapSystem<V> implements BranchableSystem<VersionedMap<V>> {
  readonly type = "versioned-map";
  readonly caps: SystemCaps = { branchable: true, mergeable: true, convergent: false, overlayable: true };
  #views = 0;

  /** Use {@link versionedMapSystem}. */
  constructor(
    readonly id: string,
    /** The current value (replaced by every operation). */
    public map: VersionedMap<V>,
  ) {}

  currentBranch(): string {
    return this.map.currentBranch;
  }

  async branches(): Promise<string[]> {
    return this.map.branches();
  }

  async head(branch?: string): Promise<string | null> {
    try {
      return this.map.head(branch);
    } catch (e) {
      if (e instanceof CrdtError && e.code === "ERR_UNKNOWN_BRANCH") return null;
      throw e;
    }
  }

  async branch(name: string, from?: string): Promise<VersionedMapSystem<V>> {
    this.map = this.#wrap(() => this.map.branch(name, from));
    return this;
  }

  async checkout(name: string): Promise<VersionedMapSystem<V>> {
    this.map = this.#wrap(() => this.map.checkout(name));
    return this;
  }

  /** VersionedMap keeps every branch it ever had; deleting is refused. */
  async deleteBranch(name: string): Promise<VersionedMapSystem<V>> {
    throw new WorkspaceError(
      "ERR_NO_BRANCH",
      `${this.id}: a VersionedMap cannot delete branch ${JSON.stringify(name)}`,
    );
  }

  async conflicts(target: string, source: string): Promise<Conflict[]> {
    return this.#wrap(() => this.map.conflicts(target, source)).map((c) => ({ system: this.id, ...c }));
  }

  async merge(source: string, opts: MergeOptions = {}): Promise<VersionedMapSystem<V>> {
    this.map = this.#wrap(() => this.map.merge(source, { force: opts.force === true }));
    return this;
  }

  /** Applies `fn` to the current value (e.g. `m => m.set(k, v)`); resolves to the new head. */
  async update(fn: (m: VersionedMap<V>) => VersionedMap<V>): Promise<string> {
    this.map = fn(this.map);
    return this.map.head();
  }

  async value(): Promise<VersionedMap<V>> {
    return this.map;
  }

  /** The map checked out at `head` (a read-only view: a value, unaffected by later writes). */
  async asOf(head: string): Promise<VersionedMap<V>> {
    const name = `\u0000asof-${++this.#views}`;
    return this.#wrap(() => this.map.branch(name, head).checkout(name));
  }

  #wrap<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof CrdtError && e.code === "ERR_UNKNOWN_BRANCH")
        throw new WorkspaceError("ERR_NO_BRANCH", `${this.id}: ${e.message}`);
      if (e instanceof CrdtError && e.code === "ERR_MERGE_CONFLICT")
        throw new WorkspaceError("ERR_MERGE_CONFLICT", `${this.id}: ${e.message}`, e.data);
      throw e;
    }
  }
}

/** `map` as a branchable system with id `id`. */
export function versionedMapSystem<V>(id: string, map: VersionedMap<V>): VersionedMapSystem<V> {
  return new VersionedMapSystem(id, map);
}
