/**
 * The workspace peer: the gate plus the re-seat state machine. It holds a descriptor and the local
 * heads, and seats a workspace (the composed, resolved systems) only when every pinned head is
 * local, so an observer of {@link WorkspacePeer.workspace} never sees a half-synced checkout.
 * @module
 */

import type { TimerHandle } from "../../core/clock.js";
import type { Context } from "../../core/context.js";
import { type Signal, signal } from "../../core/signal.js";
import {
  assertWritable,
  descriptorEquals,
  type GateResult,
  gate,
  type HeadState,
  mergeHeadUpdate,
  type WorkspaceDescriptor,
  withHead,
  writable,
} from "./descriptor.js";
import { WorkspaceError } from "./errors.js";

/** Resolves one system of a descriptor at its pinned head; may be synchronous or return a promise. */
export type ResolveSystem<S> = (systemId: string, branch: string, head: string) => S | PromiseLike<S>;

/** Builds the seated workspace from the resolved systems. */
export type Compose<S, W> = (systems: Readonly<Record<string, S>>, descriptor: WorkspaceDescriptor) => W;

/** Options of {@link createWorkspacePeer}. */
export interface WorkspacePeerOptions<S, W> {
  /** This peer's id: the lease holder it can be. Without it the peer never writes. */
  readonly self?: string;
  /** The context the `workspace` signal lives in and whose clock times retries. */
  readonly context: Context;
  /** Resolves a system at the pinned head (called only once the gate is ready). */
  readonly resolveSystem: ResolveSystem<S>;
  /** Composes the resolved systems; default: the map `{ [systemId]: resolved }`. */
  readonly compose?: Compose<S, W>;
  /** Called after each re-seat with the new workspace and its descriptor. */
  readonly onReseat?: (workspace: W, descriptor: WorkspaceDescriptor) => void;
  /** Delay before retrying after a resolver failed (ms on the context clock; default 100). */
  readonly retryMs?: number;
}

/** What `setDescriptor` / `applyHeadUpdate` return: the gate, and whether they re-seated synchronously. */
export interface ReseatResult extends GateResult {
  /** True when this call seated a new workspace before returning (all resolvers synchronous). */
  readonly reseated: boolean;
}

/** A workspace peer (see {@link createWorkspacePeer}). */
export interface WorkspacePeer<S, W> {
  /** This peer's id, if it has one. */
  readonly self: string | undefined;
  /** The context the `workspace` signal lives in. */
  readonly context: Context;
  /** The seated workspace (null until the first seat). Changes only at a complete re-seat. */
  readonly workspace: Signal<W | null>;
  /** The current descriptor (null before the first). */
  readonly descriptor: WorkspaceDescriptor | null;
  /** The descriptor of the seated workspace. */
  readonly seated: WorkspaceDescriptor | null;
  /** The local heads fed so far. */
  readonly heads: HeadState;
  /** The last resolver or compose failure (cleared by the next successful seat). */
  readonly lastReseatError: unknown;
  /** How many times a workspace was seated. */
  readonly reseats: number;
  /** The gate of the current descriptor against the local heads. */
  status(): GateResult;
  /** Replaces the descriptor (re-checks the gate; re-seats when ready). */
  setDescriptor(d: WorkspaceDescriptor): ReseatResult;
  /** Records that `head` is local on `branch` of `systemId` (re-checks the gate; re-seats when ready). */
  applyHeadUpdate(systemId: string, branch: string, head: string): ReseatResult;
  /** Whether this peer holds the current descriptor's lease. */
  writable(): boolean;
  /**
   * Applies `fn` to the seated system `systemId`. Refused with `ERR_NOT_LEASE_HOLDER` unless this
   * peer holds the lease, `ERR_NOT_SEATED` before a seat.
   */
  write<R>(systemId: string, fn: (system: S) => R | PromiseLike<R>): Promise<R>;
  /**
   * The lease holder moves system `systemId` to `head` on its branch: a new descriptor pinning
   * it, and the head recorded as local. Refused with `ERR_NOT_LEASE_HOLDER` like `write`.
   */
  advance(systemId: string, head: string): ReseatResult;
  /** Resolves when no re-seat is in flight (a retry armed after a failure does not count). */
  settled(): Promise<void>;
  /** Stops the peer: no more re-seats, the retry timer disarmed. */
  stop(): void;
}

const NOT_READY = false;

/**
 * Creates a workspace peer. A re-seat happens when the gate is ready (every pinned head local) and
 * the descriptor differs from the seated one; the systems are resolved at their pinned heads and
 * composed, and the result is seated only if, after every resolver's await, the descriptor is
 * unchanged and the gate still ready. Bursts of updates while a re-seat runs collapse into one more
 * pass. A failing resolver leaves the seat as it was, is recorded in `lastReseatError`, and is
 * retried after `retryMs` on the context's clock.
 */
export function createWorkspacePeer<S = unknown, W = Readonly<Record<string, S>>>(
  opts: WorkspacePeerOptions<S, W>,
): WorkspacePeer<S, W> {
  return new WorkspacePeerImpl(opts);
}

class WorkspacePeerImpl<S, W> implements WorkspacePeer<S, W> {
  readonly self: string | undefined;
  readonly context: Context;
  readonly workspace: Signal<W | null>;
  descriptor: WorkspaceDescriptor | null = null;
  seated: WorkspaceDescriptor | null = null;
  heads: HeadState = {};
  lastReseatError: unknown = undefined;
  reseats = 0;
  #seatedSystems: Readonly<Record<string, S>> | null = null;
  readonly #resolve: ResolveSystem<S>;
  readonly #compose: Compose<S, W>;
  readonly #onReseat: ((w: W, d: WorkspaceDescriptor) => void) | undefined;
  readonly #retryMs: number;
  #dirty = false;
  #running = false;
  #stopped = false;
  #retry: TimerHandle | null = null;
  #idle: Array<() => void> = [];

  constructor(opts: WorkspacePeerOptions<S, W>) {
    this.self = opts.self;
    this.context = opts.context;
    this.#resolve = opts.resolveSystem;
    this.#compose = opts.compose ?? ((systems) => systems as unknown as W);
    this.#onReseat = opts.onReseat;
    this.#retryMs = opts.retryMs ?? 100;
    this.workspace = signal<W | null>(null, { name: "workspace" });
  }

  status(): GateResult {
    return gate(this.descriptor, this.heads);
  }

  setDescriptor(d: WorkspaceDescriptor): ReseatResult {
    this.descriptor = d;
    return this.#nudge();
  }

  applyHeadUpdate(systemId: string, branch: string, head: string): ReseatResult {
    if (this.heads[systemId]?.[branch] !== head)
      this.heads = mergeHeadUpdate(this.heads, systemId, branch, head);
    return this.#nudge();
  }

  writable(): boolean {
    return writable(this.descriptor, this.self);
  }

  async write<R>(systemId: string, fn: (system: S) => R | PromiseLike<R>): Promise<R> {
    assertWritable(this.descriptor, this.self);
    const seated = this.#seatedSystems;
    if (seated === null) throw new WorkspaceError("ERR_NOT_SEATED", "no workspace is seated yet");
    if (!(systemId in seated))
      throw new WorkspaceError(
        "ERR_UNKNOWN_SYSTEM",
        `the seated workspace has no system ${JSON.stringify(systemId)}`,
      );
    return await fn(seated[systemId] as S);
  }

  advance(systemId: string, head: string): ReseatResult {
    const d = this.descriptor;
    assertWritable(d, this.self);
    const next = withHead(d as WorkspaceDescriptor, systemId, head);
    const branch = next.systems[systemId]?.branch as string;
    this.descriptor = next;
    return this.applyHeadUpdate(systemId, branch, head);
  }

  settled(): Promise<void> {
    if (!this.#running) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  stop(): void {
    this.#stopped = true;
    this.#retry?.cancel();
    this.#retry = null;
    this.#finishIdle();
  }

  /** Re-checks the gate; runs the serial re-seat loop unless it is already running (then one more pass). */
  #nudge(): ReseatResult {
    const g = gate(this.descriptor, this.heads);
    if (this.#stopped) return { ...g, reseated: false };
    this.#dirty = true;
    if (this.#running) return { ...g, reseated: false };
    const before = this.reseats;
    this.#pump();
    return { ...gate(this.descriptor, this.heads), reseated: this.reseats !== before };
  }

  /** The serial loop: synchronous while the resolvers are, continued after an await otherwise. */
  #pump(): void {
    this.#running = true;
    while (this.#dirty && !this.#stopped) {
      this.#dirty = false;
      const step = this.#attempt();
      if (step !== NOT_READY && step !== true) {
        step.then(
          () => this.#pump(),
          () => this.#pump(),
        );
        return;
      }
    }
    this.#running = false;
    this.#finishIdle();
  }

  #finishIdle(): void {
    if (this.#running && !this.#stopped) return;
    const waiters = this.#idle;
    this.#idle = [];
    for (const w of waiters) w();
  }

  /** One pass: false when nothing to do, true when seated synchronously, a promise when resolving. */
  #attempt(): boolean | Promise<void> {
    const d = this.descriptor;
    if (d === null || !gate(d, this.heads).ready) return NOT_READY;
    if (this.seated !== null && descriptorEquals(d, this.seated)) return NOT_READY;
    const ids = Object.keys(d.systems);
    const resolved: Record<string, S> = {};
    const waits: Array<PromiseLike<void>> = [];
    try {
      for (const id of ids) {
        const pin = d.systems[id] as { branch: string; head: string };
        const r = this.#resolve(id, pin.branch, pin.head);
        if (isThenable(r)) waits.push(r.then((v) => void (resolved[id] = v)));
        else resolved[id] = r;
      }
    } catch (e) {
      this.#failed(e);
      return NOT_READY;
    }
    if (waits.length === 0) return this.#seat(d, resolved);
    return Promise.all(waits).then(
      () => {
        // snapshot isolation: seat only what is still the descriptor, with every head still local
        const now = this.descriptor;
        if (this.#stopped || now === null || !descriptorEquals(now, d) || !gate(now, this.heads).ready) {
          this.#dirty = true;
          return;
        }
        this.#seat(d, resolved);
      },
      (e: unknown) => this.#failed(e),
    );
  }

  #seat(d: WorkspaceDescriptor, resolved: Record<string, S>): boolean {
    let ws: W;
    try {
      ws = this.#compose(resolved, d);
    } catch (e) {
      this.#failed(e);
      return NOT_READY;
    }
    this.#seatedSystems = resolved;
    this.seated = d;
    this.lastReseatError = undefined;
    this.reseats++;
    this.context.set(this.workspace, ws);
    this.#onReseat?.(ws, d);
    return true;
  }

  #failed(e: unknown): void {
    this.lastReseatError = e;
    if (this.#stopped || this.#retry !== null) return;
    this.#retry = this.context.setTimer(this.#retryMs, () => {
      this.#retry = null;
      this.#nudge();
    });
  }
}

function isThenable<T>(v: T | PromiseLike<T>): v is PromiseLike<T> {
  return typeof v === "object" && v !== null && typeof (v as { then?: unknown }).then === "function";
}
