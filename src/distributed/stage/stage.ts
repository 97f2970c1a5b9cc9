/**
 * The replikativ stage: datatypes addressed by `[user, id]`, each a signal that persists in a store
 * and syncs with every connected peer.
 *
 * Topology: a stage owns the topic of a datatype for the stages that dial its peer (it is their
 * hub); a stage that `connect`s to another asks that stage to open each of its datatypes (creating
 * it when missing) and subscribes to the topic there. Heads and deltas travel through signal sync
 * (`syncSignal`); the value persists in the store after every change (see `persist.ts`).
 * @module
 */
import type { Context } from "../../core/context.js";
import { defaultContext } from "../../core/context.js";
import { type Signal, signal } from "../../core/signal.js";
import { spin } from "../../core/spin.js";
import { CDVCS, GSet, LWWRegister, ORSet, PNCounter } from "../crdt/index.js";
import type { ProtocolHost, ProtocolLink } from "../peer/protocols.js";
import type { KVStore } from "../store/kv.js";
import { type SignalSyncHandle, syncSignal } from "../sync/signal-sync.js";
import { type Address, checkAddress, type StageKind, topicOf } from "./address.js";
import { StageError } from "./errors.js";
import { checkOps, type Op, OpMap } from "./opmap.js";
import { loadDatatype, saveDatatype } from "./persist.js";
import { type CommitLike, type Plan, planCommits, planOpMap } from "./plan.js";
import { answerMessage, openMessage, parseStageMessage, STAGE_PROTOCOL } from "./protocol.js";
import type { StreamableStage, StreamSource } from "./stream.js";

/** A peer a stage runs on: it carries protocols and can dial (a `Peer`). */
export interface StagePeer extends ProtocolHost {
  /** Dials a listening peer; resolves with its id. */
  connect(opts: { url: string; reconnect?: boolean }): Promise<string | undefined>;
}

/** Options of {@link createStage}. */
export interface StageOptions {
  /** The peer the stage syncs over. */
  peer: StagePeer;
  /** The user this stage acts for: the default `user` of the addresses it opens. */
  user: string;
  /** Where datatypes persist (a `KVStore`: memory, LevelDB, IndexedDB). */
  store: KVStore;
  /** The context the datatypes' signals live in (default: the peer's `"default"` context). */
  context?: Context;
  /**
   * On a stage others dial: may `principal` open (and create) the datatype at `address`? Return
   * false to refuse with `ERR_UNAUTHORIZED`. Default: everyone may.
   */
  authorizeOpen?: (principal: unknown, address: Address, kind: StageKind) => boolean | Promise<boolean>;
  /** Diagnostics: failed saves, refused requests, sync errors. */
  onError?: (error: unknown, where: string) => void;
}

/** Options of `stage.connect(url)`. */
export interface StageConnectOptions {
  /** Redial when the link drops, and resubscribe every datatype then (default true). */
  reconnect?: boolean;
}

/** Options of `stage.ormap(id)` / `stage.cdvcs(id)`. */
export interface OpenOptions {
  /** The owning user of the address (default: the stage's user). */
  user?: string;
}

/** A stage OR-Map (seed 000): op lists under keys, every concurrent one kept. */
export interface StageORMap {
  /** The address. */
  readonly address: Address;
  /** The value (reactive, in the stage's context). */
  readonly value: Signal<OpMap>;
  /** Adds `ops` under `key`; resolves once persisted. */
  assoc(key: string, ops: readonly Op[]): Promise<void>;
  /** Removes every op list of `key` seen here, recording `ops` for streams; resolves once persisted. */
  dissoc(key: string, ops: readonly Op[]): Promise<void>;
  /** Every live op list of `key`. */
  get(key: string): (readonly Op[])[];
}

/** A stage CDVCS (seed 001): a git-like history of transactions. */
export interface StageCDVCS<Tx extends Op = Op> {
  /** The address. */
  readonly address: Address;
  /** The value (reactive, in the stage's context). */
  readonly value: Signal<CDVCS<Tx>>;
  /** The current heads (more than one while concurrent histories are unmerged). */
  readonly heads: readonly string[];
  /** Commits `txs`; refused with `ERR_MULTIPLE_HEADS` while heads diverge. Resolves once persisted. */
  transact(txs: readonly Tx[]): Promise<void>;
  /** A merge commit over all heads; resolves once persisted. */
  merge(): Promise<void>;
}

/**
 * A stage datatype of `spindel/crdt` other than the OR-Map of op lists and CDVCS (G-Set, OR-Set,
 * PN-Counter, LWW register): its value is a signal, `update` applies an operation.
 */
export interface StageValue<T> {
  /** The address. */
  readonly address: Address;
  /** The value (reactive, in the stage's context). */
  readonly value: Signal<T>;
  /**
   * Replaces the value with `fn(value, actor)` (`actor`: this replica's id, for the datatypes whose
   * operations take one, e.g. `(c, actor) => c.inc(1, actor)`); resolves once persisted.
   */
  update(fn: (value: T, actor: string) => T): Promise<void>;
}

interface Entry {
  readonly address: Address;
  readonly kind: StageKind;
  readonly sig: Signal<unknown>;
  readonly handle: StageORMap | StageCDVCS | StageValue<unknown>;
  sync: SignalSyncHandle | null;
  /** upstream peer ids this datatype subscribes through (only one at a time is used) */
  via: string | null;
  saving: Promise<void>;
  dirty: boolean;
  /** The value last read from or written to the store (`undefined`: none yet) */
  written: unknown;
  /** Whether the last save failed (its error in {@link saveError}); cleared by the next save that succeeds */
  saveFailed: boolean;
  /** The error of the last failed save */
  saveError: unknown;
  /** CDVCS commit ids already in the store */
  readonly saved: Set<string>;
  stopWatch: () => void;
}

function keyOf(a: Address): string {
  return `${a[0]}\u0000${a[1]}`;
}

/** The replikativ stage (see the module doc). Create one with {@link createStage}. */
export class Stage implements StreamableStage {
  /** The user this stage acts for. */
  readonly user: string;
  /** The store datatypes persist in. */
  readonly store: KVStore;
  /** The context the datatypes' signals live in. */
  readonly context: Context;
  private readonly peer: StagePeer;
  private readonly entries = new Map<string, Entry>();
  private readonly opening = new Map<string, Promise<Entry>>();
  private readonly upstreams = new Set<string>();
  private readonly links = new Map<string, ProtocolLink>();
  private readonly waiting = new Map<
    number,
    { resolve: () => void; reject: (e: unknown) => void; peer: string }
  >();
  private nextReq = 1;
  private closed = false;
  private readonly detach: () => void;
  private readonly opts: StageOptions;

  /** @internal use {@link createStage} */
  constructor(opts: StageOptions) {
    this.opts = opts;
    this.user = opts.user;
    this.store = opts.store;
    this.peer = opts.peer;
    const reg = (opts.peer as { contexts?: { get?: (id?: string) => Context | undefined } }).contexts;
    this.context = opts.context ?? reg?.get?.("default") ?? defaultContext();
    this.detach = opts.peer.attachProtocol(STAGE_PROTOCOL, {
      linkUp: (link) => {
        this.links.set(link.peerId, link);
        // a reconnect to a stage this one connected to: ask it again (it may have restarted), then resubscribe
        if (this.upstreams.has(link.peerId))
          for (const e of this.entries.values())
            if (e.via === link.peerId && e.sync === null)
              this.subscribe(e, link.peerId).catch((err) => this.opts.onError?.(err, "stage resubscribe"));
      },
      linkDown: (link) => {
        if (this.links.get(link.peerId) === link) this.links.delete(link.peerId);
        if (this.upstreams.has(link.peerId))
          for (const e of this.entries.values())
            if (e.via === link.peerId) {
              e.sync?.close();
              e.sync = null;
            }
        for (const [req, w] of this.waiting)
          if (w.peer === link.peerId) {
            this.waiting.delete(req);
            w.reject(new StageError("ERR_STAGE_CLOSED", `the link to ${link.peerId} closed while opening`));
          }
      },
      message: (link, payload) => this.onMessage(link, payload),
    });
  }

  /** Opens (or creates) the OR-Map at `[opts.user ?? stage.user, id]`. */
  async ormap(id: string, opts: OpenOptions = {}): Promise<StageORMap> {
    const e = await this.open(checkAddress([opts.user ?? this.user, id]), "ormap");
    return e.handle as StageORMap;
  }

  /** Opens (or creates) the CDVCS at `[opts.user ?? stage.user, id]`. */
  async cdvcs<Tx extends Op = Op>(id: string, opts: OpenOptions = {}): Promise<StageCDVCS<Tx>> {
    const e = await this.open(checkAddress([opts.user ?? this.user, id]), "cdvcs");
    return e.handle as unknown as StageCDVCS<Tx>;
  }

  /** Opens (or creates) the G-Set at `[opts.user ?? stage.user, id]`. */
  async gset<T>(id: string, opts: OpenOptions = {}): Promise<StageValue<GSet<T>>> {
    return (await this.open(checkAddress([opts.user ?? this.user, id]), "gset")).handle as StageValue<
      GSet<T>
    >;
  }

  /** Opens (or creates) the OR-Set (add-wins) at `[opts.user ?? stage.user, id]`. */
  async orset<T>(id: string, opts: OpenOptions = {}): Promise<StageValue<ORSet<T>>> {
    return (await this.open(checkAddress([opts.user ?? this.user, id]), "orset")).handle as StageValue<
      ORSet<T>
    >;
  }

  /** Opens (or creates) the PN-Counter at `[opts.user ?? stage.user, id]`. */
  async counter(id: string, opts: OpenOptions = {}): Promise<StageValue<PNCounter>> {
    return (await this.open(checkAddress([opts.user ?? this.user, id]), "counter"))
      .handle as StageValue<PNCounter>;
  }

  /**
   * Opens (or creates) the LWW register at `[opts.user ?? stage.user, id]`; a new one holds `null`
   * under the oldest stamp, so any write wins over it.
   */
  async lww<T>(id: string, opts: OpenOptions = {}): Promise<StageValue<LWWRegister<T | null>>> {
    return (await this.open(checkAddress([opts.user ?? this.user, id]), "lww")).handle as StageValue<
      LWWRegister<T | null>
    >;
  }

  /** The open datatype at `address`, or undefined. */
  lookup(address: Address): StageORMap | StageCDVCS | StageValue<unknown> | undefined {
    return this.entries.get(keyOf(checkAddress(address)))?.handle;
  }

  /** Addresses of every open datatype. */
  addresses(): Address[] {
    return [...this.entries.values()].map((e) => e.address);
  }

  /**
   * Dials the peer at `url` and makes every local datatype (and every one opened later) handshake
   * through it. Resolves when every local datatype has handshaken both ways.
   */
  async connect(url: string, opts: StageConnectOptions = {}): Promise<void> {
    this.checkOpen("connect");
    const remote = await this.peer.connect({ url, reconnect: opts.reconnect ?? true });
    if (remote === undefined) throw new StageError("ERR_STAGE_PROTOCOL", `no peer id from ${url}`);
    this.upstreams.add(remote);
    await Promise.all([...this.entries.values()].map((e) => this.subscribe(e, remote)));
  }

  /**
   * Waits until every open datatype's pending saves are written. A value whose last save failed
   * is saved again; if that fails too, rejects with its error.
   */
  async flush(): Promise<void> {
    for (const e of this.entries.values()) if (e.saveFailed && e.saving === DONE) this.scheduleSave(e);
    for (;;) {
      const pending = [...this.entries.values()].filter((e) => e.dirty || e.saving !== DONE);
      if (pending.length === 0) break;
      await Promise.all(pending.map((e) => e.saving));
      if (pending.every((e) => !e.dirty)) break;
    }
    for (const e of this.entries.values()) if (e.saveFailed) throw e.saveError;
  }

  /** Stops syncing and persisting (after writing what is pending). Does not close peer or store. */
  async close(): Promise<void> {
    if (this.closed) return;
    // closes even if the last saves fail, then reports their error
    let failed = false;
    let failure: unknown;
    try {
      await this.flush();
    } catch (err) {
      failed = true;
      failure = err;
    }
    this.closed = true;
    for (const e of this.entries.values()) {
      e.stopWatch();
      e.sync?.close();
    }
    this.detach();
    for (const w of this.waiting.values())
      w.reject(new StageError("ERR_STAGE_CLOSED", "the stage was closed"));
    this.waiting.clear();
    if (failed) throw failure;
  }

  /** @internal */
  _streamSource(address: Address): StreamSource {
    const e = this.entries.get(keyOf(address));
    if (e === undefined)
      throw new StageError(
        "ERR_INVALID_ARGUMENT",
        `no datatype is open at [${address[0]}, ${address[1]}] on this stage: open it with stage.ormap(id) or stage.cdvcs(id) first`,
      );
    if (e.kind !== "ormap" && e.kind !== "cdvcs")
      throw new StageError(
        "ERR_INVALID_ARGUMENT",
        `a stream applies op tuples: [${address[0]}, ${address[1]}] is a ${e.kind}; stream an OR-Map or a CDVCS`,
      );
    const plan =
      e.kind === "ormap"
        ? (v: unknown, applied: ReadonlySet<string>): Plan => planOpMap(v as OpMap, applied)
        : (v: unknown, applied: ReadonlySet<string>): Plan => {
            const c = v as CDVCS<Op>;
            return planCommits(c.heads, c.commits() as readonly CommitLike[], applied);
          };
    return { context: this.context, value: e.sig, plan, store: this.store };
  }

  private checkOpen(what: string): void {
    if (this.closed) throw new StageError("ERR_STAGE_CLOSED", `${what}: the stage was closed`);
  }

  private open(address: Address, kind: StageKind): Promise<Entry> {
    this.checkOpen(`open ${kind}`);
    const k = keyOf(address);
    const have = this.entries.get(k);
    if (have !== undefined) return Promise.resolve(this.sameKind(have, kind));
    let p = this.opening.get(k);
    if (p === undefined) {
      p = this.create(address, kind).finally(() => this.opening.delete(k));
      this.opening.set(k, p);
    }
    return p.then((e) => this.sameKind(e, kind));
  }

  private sameKind(e: Entry, kind: StageKind): Entry {
    if (e.kind !== kind)
      throw new StageError(
        "ERR_TYPE_MISMATCH",
        `[${e.address[0]}, ${e.address[1]}] holds a ${e.kind}, not a ${kind}`,
        { address: e.address, kind: e.kind },
      );
    return e;
  }

  private async create(address: Address, kind: StageKind): Promise<Entry> {
    const stored = await loadDatatype(this.store, address);
    if (stored !== undefined && stored.kind !== kind)
      throw new StageError(
        "ERR_TYPE_MISMATCH",
        `[${address[0]}, ${address[1]}] holds a ${stored.kind} in the store, not a ${kind}`,
        { address, kind: stored.kind },
      );
    this.checkOpen(`open ${kind}`);
    const initial = stored?.value ?? this.empty(address, kind);
    const sig = signal<unknown>(initial, { name: `stage ${kind} ${address.join("/")}` });
    const saved = new Set<string>(
      stored !== undefined && kind === "cdvcs" ? (stored.value as CDVCS<Op>).commits().map((c) => c.id) : [],
    );
    const e = {
      address,
      kind,
      sig,
      sync: null,
      via: null,
      saving: DONE,
      dirty: false,
      written: stored?.value,
      saveFailed: false,
      saveError: undefined,
      saved,
    } as unknown as Entry;
    (e as { handle: Entry["handle"] }).handle =
      kind === "ormap" ? this.ormapHandle(e) : kind === "cdvcs" ? this.cdvcsHandle(e) : this.valueHandle(e);
    let first = true;
    e.stopWatch = this.context.observe(
      spin(($) => $.track(sig), { name: `stage save ${address.join("/")}` }),
      () => {
        if (first) {
          first = false;
          return;
        }
        this.scheduleSave(e);
      },
      (err) => this.opts.onError?.(err, "stage watch"),
    );
    this.entries.set(keyOf(address), e);
    await Promise.all([...this.upstreams].map((u) => this.subscribe(e, u)));
    return e;
  }

  private scheduleSave(e: Entry): void {
    e.dirty = true;
    if (e.saving !== DONE) return;
    const run = async (): Promise<void> => {
      while (e.dirty) {
        e.dirty = false;
        const value = this.context.get(e.sig);
        // a local change schedules a save and so does the watch that sees it: one write is enough
        if (value !== e.written) {
          await saveDatatype(this.store, e.address, e.kind, value, e.saved);
          e.written = value;
        }
        e.saveFailed = false; // what the store holds is current
        e.saveError = undefined;
      }
    };
    e.saving = run()
      .catch((err) => {
        // nothing is lost: the value stays in the signal, and since it is not the one written, the
        // next change (or `flush`) saves it again; whoever awaits this save gets the error
        e.dirty = false;
        e.saveFailed = true;
        e.saveError = err;
        this.opts.onError?.(err, "stage save");
      })
      .finally(() => {
        e.saving = DONE;
      });
  }

  private async change(e: Entry, fn: (v: unknown) => unknown): Promise<void> {
    this.checkOpen("write");
    const next = fn(this.context.get(e.sig));
    this.context.set(e.sig, next);
    this.scheduleSave(e);
    await this.flushEntry(e);
  }

  /** Wait for the entry's saves; rejects with the error of the last one if it failed. */
  private async flushEntry(e: Entry): Promise<void> {
    while (e.dirty || e.saving !== DONE) await e.saving;
    if (e.saveFailed) throw e.saveError;
  }

  private empty(address: Address, kind: StageKind): unknown {
    const actor = this.peer.id;
    switch (kind) {
      case "ormap":
        return OpMap.empty();
      case "cdvcs":
        // the root commit is the address's user's: every replica creates the same root
        return CDVCS.create<Op>(address[0]);
      case "gset":
        return GSet.empty();
      case "orset":
        return ORSet.empty(actor);
      case "counter":
        return PNCounter.empty();
      case "lww":
        return LWWRegister.of(null, actor, 0);
    }
  }

  private valueHandle(e: Entry): StageValue<unknown> {
    return {
      address: e.address,
      value: e.sig,
      update: (fn) => this.change(e, (v) => fn(v, this.peer.id)),
    };
  }

  private ormapHandle(e: Entry): StageORMap {
    const ctx = this.context;
    return {
      address: e.address,
      value: e.sig as Signal<OpMap>,
      assoc: (key, ops) => this.change(e, (v) => (v as OpMap).assoc(key, checkOps(ops))),
      dissoc: (key, ops) => this.change(e, (v) => (v as OpMap).dissoc(key, checkOps(ops))),
      get: (key) => (ctx.get(e.sig) as OpMap).get(key),
    };
  }

  private cdvcsHandle(e: Entry): StageCDVCS {
    const ctx = this.context;
    const user = this.user;
    return {
      address: e.address,
      value: e.sig as Signal<CDVCS<Op>>,
      get heads() {
        return (ctx.get(e.sig) as CDVCS<Op>).heads;
      },
      transact: (txs) => this.change(e, (v) => (v as CDVCS<Op>).commit(checkOps(txs), user)),
      merge: () => this.change(e, (v) => (v as CDVCS<Op>).merge(user)),
    };
  }

  /** Asks `remote` to open `e` and subscribes to its topic there. */
  private async subscribe(e: Entry, remote: string): Promise<void> {
    if (e.sync !== null) {
      if (e.via === null)
        throw new StageError(
          "ERR_STAGE_PROTOCOL",
          `[${e.address.join(", ")}] is served by this stage to its own dialers; it cannot also subscribe through ${remote}`,
        );
      return;
    }
    e.via = remote;
    await this.request(remote, e.address, e.kind);
    if (e.sync !== null || this.closed) return;
    e.sync = syncSignal(this.peer, topicOf(e.address), e.sig, {
      via: remote,
      context: this.context,
      onError: this.opts.onError,
    });
    await e.sync.ready;
  }

  private request(remote: string, address: Address, kind: StageKind): Promise<void> {
    const link = this.links.get(remote);
    if (link === undefined) return Promise.reject(new StageError("ERR_STAGE_CLOSED", `no link to ${remote}`));
    const req = this.nextReq++;
    return new Promise<void>((resolve, reject) => {
      this.waiting.set(req, { resolve, reject, peer: remote });
      if (!link.send(openMessage(req, address, kind))) {
        this.waiting.delete(req);
        reject(new StageError("ERR_STAGE_CLOSED", `the link to ${remote} closed`));
      }
    });
  }

  private onMessage(link: ProtocolLink, payload: unknown): void {
    let msg: ReturnType<typeof parseStageMessage>;
    try {
      msg = parseStageMessage(payload);
    } catch (err) {
      this.opts.onError?.(err, `stage message from ${link.peerId}`);
      return;
    }
    if (msg.type === "open") {
      void this.serveOpen(link, msg.req, msg.address, msg.kind);
      return;
    }
    const w = this.waiting.get(msg.req);
    if (w === undefined || w.peer !== link.peerId) return;
    this.waiting.delete(msg.req);
    if (msg.type === "opened") w.resolve();
    else w.reject(new StageError(msg.code, `${link.peerId} refused: ${msg.message}`));
  }

  private async serveOpen(link: ProtocolLink, req: number, address: Address, kind: StageKind): Promise<void> {
    try {
      if (this.closed) throw new StageError("ERR_STAGE_CLOSED", "the stage was closed");
      const ok = (await this.opts.authorizeOpen?.(link.principal, address, kind)) ?? true;
      if (!ok) throw new StageError("ERR_UNAUTHORIZED", `not allowed to open [${address.join(", ")}]`);
      const e = await this.open(address, kind);
      // a subscriber stays one while its upstream link is down (its sync handle is closed then)
      if (e.via !== null)
        throw new StageError(
          "ERR_STAGE_PROTOCOL",
          `[${address.join(", ")}] is subscribed through ${e.via}; this stage does not relay it`,
        );
      if (e.sync === null) {
        e.sync = syncSignal(this.peer, topicOf(address), e.sig, {
          owner: true,
          context: this.context,
          onError: this.opts.onError,
        });
        await e.sync.ready;
      }
      link.send(answerMessage(req));
    } catch (err) {
      const se =
        err instanceof StageError
          ? err
          : new StageError("ERR_STAGE_PROTOCOL", String((err as Error)?.message ?? err));
      this.opts.onError?.(se, `stage open from ${link.peerId}`);
      link.send(answerMessage(req, se));
    }
  }
}

const DONE: Promise<void> = Promise.resolve();

/**
 * Create a stage on `peer` for `user`, persisting into `store`. Datatypes are opened with
 * `stage.ormap(id)` / `stage.cdvcs(id)`; reopening a stage on the same store gives every datatype
 * back as it was.
 */
export async function createStage(opts: StageOptions): Promise<Stage> {
  if (typeof opts !== "object" || opts === null)
    throw new StageError("ERR_INVALID_ARGUMENT", "createStage takes { peer, user, store }");
  if (typeof opts.user !== "string" || opts.user === "")
    throw new StageError("ERR_INVALID_ARGUMENT", "createStage: user must be a non-empty string");
  if (typeof opts.peer?.attachProtocol !== "function")
    throw new StageError("ERR_INVALID_ARGUMENT", "createStage: peer must be a spindel Peer");
  if (typeof opts.store?.putMany !== "function" || typeof opts.store.get !== "function")
    throw new StageError("ERR_INVALID_ARGUMENT", "createStage: store must be a KVStore");
  return new Stage(opts);
}
