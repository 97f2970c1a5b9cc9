/**
 * Wiring a workspace over the network. The hub (`hostWorkspace`) owns the descriptor topic
 * (signal sync) and one content topic per system (content-addressed store replication), and
 * enforces the lease on both. A follower (`followWorkspace`) mirrors the descriptor into its
 * workspace peer and, per system role, follows the content (`subscriber`: store replication whose
 * branch pointers, arriving after their content, feed the gate) or syncs a convergent value live
 * (`bidirectional`: signal sync; its gate opens when the first handshake is done).
 * @module
 */
import type { Context } from "../../core/context.js";
import { type Signal, signal } from "../../core/signal.js";
import { spin } from "../../core/spin.js";
import type { ProtocolHost } from "../peer/protocols.js";
import type { Stamp } from "../sync/hlc.js";
import { type SignalSyncHandle, syncSignal } from "../sync/signal-sync.js";
import type { NoTopicRetryOptions } from "../sync/strategy.js";
import type { ContentStore } from "./content.js";
import { assertDescriptor, type WorkspaceDescriptor } from "./descriptor.js";
import { WorkspaceError } from "./errors.js";
import type { LeaseTable } from "./lease.js";
import type { WorkspacePeer } from "./peer.js";
import { type ContentTopic, exportContent, observable, subscribeContent } from "./replicate.js";
import { branchOfKey } from "./stored-map.js";

/** Options of {@link followWorkspace}. */
export interface FollowOptions {
  /** The local store of each `subscriber` system, by system id (content and heads land here). */
  readonly stores?: Readonly<Record<string, ContentStore>>;
  /** The signal of each `bidirectional` system (a `Convergent` value, synced live), by system id. */
  readonly signals?: Readonly<Record<string, Signal<unknown>>>;
  /**
   * Branches whose local commits are published to the hub (default none: a read-only follower).
   * The hub refuses them with `ERR_NOT_LEASE_HOLDER` unless this peer holds the branch's lease.
   */
  readonly publishBranches?: readonly string[];
  /** The hub's peer id (default: the peer dialed). */
  readonly via?: string;
  /**
   * What a refusal with `ERR_NO_TOPIC` does, on every topic the follow subscribes to (the
   * descriptor, each system's content or live value): the hub has not registered the topic yet, or
   * closed it (e.g. while it hosts the workspace again). Default `true`: subscribe again on the same
   * link with exponential backoff on the workspace peer's clock, as signal sync does (see
   * `NoTopicRetryOptions`; options tune it), each refusal reported to `onError`. `false`: the
   * refusal is final (the descriptor's `ready` rejects with it; a system's content stops until the
   * link comes back).
   */
  readonly noTopicRetry?: boolean | NoTopicRetryOptions;
  /** Diagnostics and refusals (`ERR_NOT_LEASE_HOLDER` of a publish arrives here). */
  readonly onError?: (error: unknown, where: string) => void;
}

/** A running follow. */
export interface Follow {
  /**
   * Resolves when the descriptor's first handshake is done (pending while it retries after
   * `ERR_NO_TOPIC`; see {@link FollowOptions.noTopicRetry}).
   */
  readonly ready: Promise<void>;
  /** The replicated descriptor (in the workspace peer's context). */
  readonly descriptor: Signal<WorkspaceDescriptor | null>;
  /** The content replication of each `subscriber` system (its `stats` count what moved). */
  readonly content: ReadonlyMap<string, ContentTopic>;
  /** How each system is wired, by id: `"subscriber"` or `"bidirectional"`. */
  readonly wired: Readonly<Record<string, "subscriber" | "bidirectional">>;
  /**
   * Publishes a new descriptor (a hand-off or release by the lease holder; the hub refuses it with
   * `ERR_NOT_LEASE_HOLDER` from anyone else).
   */
  publishDescriptor(d: WorkspaceDescriptor): void;
  /** Stops following (stores and signals keep what they have). */
  close(): void;
}

/**
 * Follows the workspace whose descriptor is on `descriptorTopic` (owned by the hub `peer` dialed):
 * every descriptor is set on `wp`; every system's content and heads are replicated per its role
 * and fed to `wp`'s gate, so `wp.workspace` re-seats only onto complete checkouts.
 */
export function followWorkspace<S, W>(
  wp: WorkspacePeer<S, W>,
  peer: ProtocolHost,
  descriptorTopic: string,
  opts: FollowOptions = {},
): Follow {
  const ctx: Context = wp.context;
  const descriptor = signalOf<WorkspaceDescriptor | null>(null, `descriptor ${descriptorTopic}`);
  const report = (e: unknown, where: string) => opts.onError?.(e, where);
  const via = opts.via === undefined ? {} : { via: opts.via };
  // every subscription of the follow recovers from ERR_NO_TOPIC alike (signal sync's default: on)
  const noTopicRetry = opts.noTopicRetry ?? true;
  // checked (ERR_INVALID_ARGUMENT) here, before anything is subscribed
  const sync: SignalSyncHandle = syncSignal(peer, descriptorTopic, descriptor, {
    context: ctx,
    ...via,
    noTopicRetry,
    onError: report,
  });
  const content = new Map<string, ContentTopic>();
  const live = new Map<string, SignalSyncHandle>();
  const wired: Record<string, "subscriber" | "bidirectional"> = {};
  const publishable = new Set(opts.publishBranches ?? []);

  const wire = (d: WorkspaceDescriptor): void => {
    for (const [id, pin] of Object.entries(d.systems)) {
      if (pin.topic === undefined || wired[id] !== undefined) continue;
      if ((pin.role ?? "subscriber") === "subscriber") {
        const local = opts.stores?.[id];
        if (local === undefined) {
          report(
            new WorkspaceError("ERR_UNKNOWN_SYSTEM", `no local store for system ${JSON.stringify(id)}`),
            id,
          );
          continue;
        }
        wired[id] = "subscriber";
        const store = observable(local);
        content.set(
          id,
          subscribeContent(peer, pin.topic, store, {
            ...via,
            noTopicRetry,
            // its timers on the workspace peer's clock, as the descriptor's and the live systems'
            clock: ctx.clock,
            publish: publishable.size > 0,
            publishFilter: (writes) =>
              writes.filter(([k]) => {
                const b = branchOfKey(k);
                return b === null || publishable.has(b);
              }),
            onHead: (branch, head) => wp.applyHeadUpdate(id, branch, head),
            onError: report,
          }),
        );
      } else {
        const sig = opts.signals?.[id];
        if (sig === undefined) {
          report(new WorkspaceError("ERR_UNKNOWN_SYSTEM", `no signal for system ${JSON.stringify(id)}`), id);
          continue;
        }
        wired[id] = "bidirectional";
        const h = syncSignal(peer, pin.topic, sig, { context: ctx, ...via, noTopicRetry, onError: report });
        live.set(id, h);
        // a live convergent system has no pinned content: it is there once the handshake is done
        void h.ready.then(
          () => {
            const now = wp.descriptor?.systems[id];
            if (now !== undefined) wp.applyHeadUpdate(id, now.branch, now.head);
          },
          (e: unknown) => report(e, id),
        );
      }
    }
  };

  const stop = ctx.observe(
    spin(($) => $.track(descriptor)),
    (d) => {
      if (d === null) return;
      try {
        assertDescriptor(d);
      } catch (e) {
        report(e, descriptorTopic);
        return;
      }
      wire(d);
      // bidirectional systems already caught up count as local at any pinned head
      for (const [id, h] of live)
        if (ctx.get(h.caughtUp)) {
          const pin = d.systems[id];
          if (pin !== undefined) wp.applyHeadUpdate(id, pin.branch, pin.head);
        }
      wp.setDescriptor(d);
    },
  );

  return {
    ready: sync.ready,
    descriptor,
    content,
    wired,
    publishDescriptor: (d) => ctx.set(descriptor, d),
    close: () => {
      stop();
      sync.close();
      for (const c of content.values()) c.close();
      for (const h of live.values()) h.close();
    },
  };
}

/** Options of {@link hostWorkspace}. */
export interface HostOptions {
  /** The descriptor topic. */
  readonly descriptorTopic: string;
  /**
   * The signal holding the authoritative descriptor (in `context`). The descriptor it holds when
   * hosting starts is the hub's: a follower's copy stamped before it never replaces it.
   */
  readonly descriptor: Signal<WorkspaceDescriptor | null>;
  /**
   * The stamp of the descriptor hosting starts with, when it is known: stored beside the descriptor
   * (from {@link Host.descriptorStamp}) by a hub that restarts from it. Then a lease holder's
   * descriptor written after that one (e.g. a hand-off while the hub was down) still wins; without
   * it, the descriptor counts as written just before hosting started. Hosting again in the same
   * context keeps the stamp of an unchanged descriptor by itself.
   */
  readonly descriptorStamp?: Stamp;
  /** The context the descriptor and the live signals live in. */
  readonly context: Context;
  /** The store of each `subscriber` system, by system id (its topic comes from the descriptor). */
  readonly stores?: Readonly<Record<string, ContentStore>>;
  /** The signal of each `bidirectional` system, by system id. */
  readonly signals?: Readonly<Record<string, Signal<unknown>>>;
  /** The lease table the hub enforces (filled from every accepted descriptor). */
  readonly leases: LeaseTable;
  /** Content nodes per handshake item (default 256). */
  readonly nodesPerItem?: number;
  /** Diagnostics. */
  readonly onError?: (error: unknown, where: string) => void;
}

/** A hosted workspace. */
export interface Host {
  /** The content replication of each `subscriber` system (its `stats` count what moved). */
  readonly content: ReadonlyMap<string, ContentTopic>;
  /**
   * The stamp of the current descriptor (`null`: none was ever written), to store beside it and pass
   * as {@link HostOptions.descriptorStamp} when hosting starts again from it.
   */
  descriptorStamp(): Stamp | null;
  /** Stops hosting. */
  close(): void;
}

/**
 * Serves a workspace from the hub `peer`: the descriptor topic (a new descriptor from a remote is
 * accepted only from the lease holder of its branch, or for an unleased branch; live or in the
 * handshake of a follower that wrote it while away, which is otherwise rolled back to the hub's) and
 * the content topic of every system in it (a pointer write from anyone but the branch's lease
 * holder is refused with `ERR_NOT_LEASE_HOLDER`).
 */
export function hostWorkspace(peer: ProtocolHost, opts: HostOptions): Host {
  const { context: ctx, leases } = opts;
  const report = (e: unknown, where: string) => opts.onError?.(e, where);
  const current = ctx.get(opts.descriptor);
  if (current !== null) leases.accept(peer.id, current);
  const sync = syncSignal(peer, opts.descriptorTopic, opts.descriptor as Signal<unknown>, {
    owner: true,
    context: ctx,
    // the hub's descriptor is authoritative: a follower's older copy never replaces it
    startsWritten: true,
    ...(opts.descriptorStamp === undefined ? {} : { stamp: opts.descriptorStamp }),
    onError: report,
    authorizePublish: (principal, _topic, payload) => {
      const d = (payload as { v?: unknown } | null)?.v;
      try {
        assertDescriptor(d);
        leases.accept(principal, d);
        return true;
      } catch (e) {
        return (e as { code?: string }).code ?? "ERR_UNAUTHORIZED";
      }
    },
  });
  const topics = new Map<string, ContentTopic | SignalSyncHandle>();
  const content = new Map<string, ContentTopic>();
  const wire = (d: WorkspaceDescriptor) => {
    for (const [id, pin] of Object.entries(d.systems)) {
      if (pin.topic === undefined || topics.has(id)) continue;
      if ((pin.role ?? "subscriber") === "subscriber") {
        const store = opts.stores?.[id];
        if (store === undefined) continue;
        const t = exportContent(peer, pin.topic, observable(store), {
          leases,
          onError: report,
          ...(opts.nodesPerItem === undefined ? {} : { nodesPerItem: opts.nodesPerItem }),
        });
        topics.set(id, t);
        content.set(id, t);
      } else {
        const sig = opts.signals?.[id];
        if (sig === undefined) continue;
        topics.set(id, syncSignal(peer, pin.topic, sig, { owner: true, context: ctx, onError: report }));
      }
    }
  };
  const stop = ctx.observe(
    spin(($) => $.track(opts.descriptor)),
    (d) => {
      if (d === null) return;
      leases.accept(peer.id, d);
      wire(d);
    },
  );
  return {
    content,
    descriptorStamp: () => sync.stamp(),
    close: () => {
      stop();
      sync.close();
      for (const t of topics.values()) t.close();
    },
  };
}

function signalOf<T>(init: T, name: string): Signal<T> {
  return signal(init, { name });
}
