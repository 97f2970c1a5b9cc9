/**
 * The hub's lease table: who holds the single-writer lease of each branch, so the hub refuses
 * writes from anyone else (`ERR_NOT_LEASE_HOLDER`) instead of trusting clients to gate
 * themselves. A lease changes hands only by a new descriptor from its holder (or the hub); with
 * `ttlMs` a lease not renewed in time lapses (timed on the given clock, so tests use virtual time).
 * @module
 */
import type { Clock } from "../../core/clock.js";
import type { WorkspaceDescriptor } from "./descriptor.js";
import { WorkspaceError } from "./errors.js";

/** Options of a {@link LeaseTable}. */
export interface LeaseTableOptions {
  /** The clock leases are timed on (a context's `clock`). Needed with `ttlMs`. */
  readonly clock?: Clock;
  /** A lease lapses this long after it was granted or last renewed (default: never). */
  readonly ttlMs?: number;
  /** The hub's own principal: it may always re-assign a lease. */
  readonly hub?: string;
}

interface Lease {
  owner: string | undefined;
  renewedAt: number;
}

/** Leases by branch (see the module doc). */
export class LeaseTable {
  readonly #leases = new Map<string, Lease>();
  readonly #clock: Clock | undefined;
  readonly #ttl: number | undefined;
  readonly #hub: string | undefined;

  /** @param opts clock, lease lifetime and the hub's principal */
  constructor(opts: LeaseTableOptions = {}) {
    if (opts.ttlMs !== undefined && opts.clock === undefined)
      throw new WorkspaceError("ERR_INVALID_DESCRIPTOR", "a lease ttlMs needs a clock");
    this.#clock = opts.clock;
    this.#ttl = opts.ttlMs;
    this.#hub = opts.hub;
  }

  /** The current holder of `branch`'s lease (undefined: nobody, the branch is read-only). */
  holder(branch: string): string | undefined {
    const l = this.#leases.get(branch);
    if (l === undefined || l.owner === undefined) return undefined;
    if (this.#ttl !== undefined && (this.#clock as Clock).now() - l.renewedAt >= this.#ttl) return undefined;
    return l.owner;
  }

  /** Whether `principal` may write to `branch`. */
  mayWrite(principal: unknown, branch: string): boolean {
    const h = this.holder(branch);
    return h !== undefined && h === principal;
  }

  /** Throws `ERR_NOT_LEASE_HOLDER` unless `principal` holds `branch`'s lease. */
  check(principal: unknown, branch: string): void {
    if (!this.mayWrite(principal, branch))
      throw new WorkspaceError(
        "ERR_NOT_LEASE_HOLDER",
        `${JSON.stringify(principal ?? null)} does not hold the lease of branch ${JSON.stringify(branch)}`,
        { branch, holder: this.holder(branch) ?? null },
      );
  }

  /**
   * Accepts descriptor `d` from `principal` if it may set `d.branch`'s lease: the hub, the current
   * holder (renewal, hand-off or release), or anyone for a branch nobody holds (a claim). Throws
   * `ERR_NOT_LEASE_HOLDER` otherwise; nothing changes then.
   */
  accept(principal: unknown, d: WorkspaceDescriptor): void {
    const current = this.holder(d.branch);
    const allowed = principal === this.#hub || current === undefined || current === principal;
    if (!allowed)
      throw new WorkspaceError(
        "ERR_NOT_LEASE_HOLDER",
        `${JSON.stringify(principal ?? null)} cannot re-assign the lease of ${JSON.stringify(d.branch)} held by ${JSON.stringify(current)}`,
        { branch: d.branch, holder: current },
      );
    this.#leases.set(d.branch, { owner: d.owner, renewedAt: this.#clock?.now() ?? 0 });
  }

  /**
   * Whether `principal` may write to `branch`, claiming it when the table has never seen the
   * branch (a new branch, e.g. a fork, is leased to whoever creates it). A branch whose descriptor
   * named no owner stays read-only.
   */
  mayWriteOrClaim(principal: unknown, branch: string): boolean {
    if (!this.#leases.has(branch) && typeof principal === "string" && principal !== "") {
      this.#leases.set(branch, { owner: principal, renewedAt: this.#clock?.now() ?? 0 });
      return true;
    }
    return this.mayWrite(principal, branch);
  }

  /** Every branch with a live lease, and its holder. */
  entries(): Array<[string, string]> {
    const out: Array<[string, string]> = [];
    for (const b of this.#leases.keys()) {
      const h = this.holder(b);
      if (h !== undefined) out.push([b, h]);
    }
    return out;
  }
}
