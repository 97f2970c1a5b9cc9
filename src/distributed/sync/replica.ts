/**
 * One replica of a synced signal, as pure-ish steps over its context: what a local change
 * publishes, what a joiner's client state gets back (the symmetric handshake), how a remote
 * payload is integrated. The sync layer does the sending.
 *
 * - Convergent values (`delta` mode): a local change publishes its pending delta `{d}` (then the
 *   value is stored without it); a remote `{d}` is `applyDelta`-ed, a remote state `{s}` joined.
 *   The no-op rule (`===`) makes a converged network fall silent.
 * - Any other value (`lww` mode): a local change publishes `{v, t}` with a fresh
 *   hybrid-logical-clock stamp; a remote one wins only with a greater stamp.
 *
 * A joiner's client state amounts to a publish (`{s}`, or `{v, t}` when its stamp is greater), which
 * the owner authorizes like a live one. Refused, nothing of it is integrated and the owner answers
 * with its own state marked `r` (reset): the joiner takes it in place of its own, then re-applies
 * what it wrote locally since it sent the state (those writes are publishes, judged on their own).
 * @module
 */
import type { Context } from "../../core/context.js";
import type { Signal } from "../../core/signal.js";
import { type Convergent, isConvergent } from "../crdt/convergent.js";
import { TopicError } from "./errors.js";
import { compareStamps, Hlc, isStamp, type Stamp } from "./hlc.js";

/** How a topic's values replicate: `"delta"` (Convergent) or `"lww"`. */
export type SyncMode = "delta" | "lww";

type AnyConvergent = Convergent<unknown, unknown>;

/** The payloads a replica produces and integrates. */
export type SyncPayload = { d: unknown } | { s: unknown } | { v: unknown; t: Stamp | null };

/**
 * A handshake item answering a refused client state: the owner's state (`{s}` or `{v, t}`), which
 * the joiner takes in place of its own (`r`: reset). A joiner that predates it joins it instead.
 */
export type ResetPayload = ({ s: unknown } | { v: unknown; t: Stamp | null }) & { r: true };

/** What a subscriber sends with its subscribe (`s` / `v`+`t` absent for a read-only mirror). */
export interface ClientState {
  m: SyncMode;
  s?: unknown;
  v?: unknown;
  t?: Stamp | null;
}

const malformed = (msg: string): never => {
  throw new TopicError("ERR_MALFORMED", msg);
};

/** The common surface of both replica kinds. */
export interface Replica {
  readonly mode: SyncMode;
  /** A local change since the last call, as a payload (`undefined`: none); marks it seen. */
  local(): SyncPayload | undefined;
  /**
   * The client state of a subscribe (`mirror`: no state, never pushes). Local changes from now
   * until `handshakeDone` are remembered, to re-apply over a reset.
   */
  clientState(mirror: boolean): ClientState;
  /** Subscriber: the handshake completed (no reset can come any more). */
  handshakeDone(): void;
  /**
   * Owner: what integrating a joiner's state would change here, as the publish that would make
   * the change (`undefined`: nothing). Throws `ERR_INCOMPATIBLE` / `ERR_MALFORMED` as `handshake`.
   */
  contribution(cs: unknown): SyncPayload | undefined;
  /**
   * Owner: integrate a joiner's state (relaying what it brought) and answer it; `refused`: its
   * contribution was refused, so integrate nothing and answer with a reset to this state.
   */
  handshake(
    cs: unknown,
    relay: (p: SyncPayload) => void,
    refused?: boolean,
  ): Array<SyncPayload | ResetPayload>;
  /**
   * Integrate a remote payload; `handshake` items also win LWW ties, and a handshake reset
   * replaces the local state. Returns whether it changed.
   */
  apply(p: unknown, handshake: boolean): boolean;
}

const isReset = (p: object, handshake: boolean): boolean => handshake && (p as { r?: unknown }).r === true;

function checkMode(cs: unknown, mode: SyncMode): ClientState {
  if (typeof cs !== "object" || cs === null) malformed("bad client state");
  const m = (cs as ClientState).m;
  if (m !== mode)
    throw new TopicError(
      "ERR_INCOMPATIBLE",
      `the topic replicates ${mode === "delta" ? "Convergent deltas" : "last-writer-wins values"}, the subscriber ${m === "delta" ? "Convergent deltas" : "last-writer-wins values"}`,
    );
  return cs as ClientState;
}

/** A replica of a Convergent value. */
export class DeltaReplica implements Replica {
  readonly mode = "delta" as const;
  private last: unknown;
  /** local changes since the client state was taken (subscriber, during a handshake) */
  private since: SyncPayload[] | null = null;

  constructor(
    private readonly ctx: Context,
    private readonly sig: Signal<unknown>,
    private readonly report: (e: unknown) => void,
  ) {
    this.last = ctx.get(sig);
  }

  private current(): AnyConvergent {
    const v = this.ctx.get(this.sig);
    if (!isConvergent(v))
      throw new TopicError(
        "ERR_INCOMPATIBLE",
        "a Convergent signal was written a value that is not Convergent",
      );
    return v;
  }

  private store(next: unknown): void {
    // the watch runs synchronously inside `set`: it must already see this value as known
    this.last = next;
    this.ctx.set(this.sig, next);
    this.last = this.ctx.get(this.sig);
  }

  local(): SyncPayload | undefined {
    const v = this.ctx.get(this.sig);
    if (v === this.last) return undefined;
    if (!isConvergent(v)) {
      this.last = v;
      this.report(
        new TopicError("ERR_INCOMPATIBLE", "a Convergent signal was written a non-Convergent value"),
      );
      return undefined;
    }
    const d = v.delta;
    const prev = this.last;
    let p: SyncPayload | undefined;
    if (d !== null) p = { d };
    else if (!isConvergent(prev) || !v.equals(prev)) p = { s: v };
    this.store(d !== null ? v.clearDelta() : v);
    if (p !== undefined) this.since?.push(p);
    return p;
  }

  clientState(mirror: boolean): ClientState {
    this.since = [];
    return mirror ? { m: "delta" } : { m: "delta", s: this.current() };
  }

  handshakeDone(): void {
    this.since = null;
  }

  private joinerState(cs: unknown): AnyConvergent | undefined {
    const c = checkMode(cs, "delta");
    if (!("s" in c)) return undefined;
    const s = c.s;
    if (!isConvergent(s)) malformed("the client state is not Convergent");
    return s as AnyConvergent;
  }

  contribution(cs: unknown): SyncPayload | undefined {
    const s = this.joinerState(cs);
    if (s === undefined) return undefined;
    const snap = this.current();
    return snap.join(s) === snap ? undefined : { s };
  }

  handshake(
    cs: unknown,
    relay: (p: SyncPayload) => void,
    refused = false,
  ): Array<SyncPayload | ResetPayload> {
    const s = this.joinerState(cs);
    const snap = this.current();
    if (refused) return [{ s: snap, r: true }];
    if (s === undefined) return [{ s: snap }];
    const next = snap.join(s);
    if (next !== snap) {
      this.store(next);
      relay({ s });
    }
    return snap.equals(s) ? [] : [{ s: snap }];
  }

  apply(p: unknown, handshake: boolean): boolean {
    if (typeof p !== "object" || p === null) return malformed("bad payload");
    const cur = this.current();
    let next: unknown;
    if ("d" in p) next = cur.applyDelta((p as { d: unknown }).d);
    else if ("s" in p) {
      const s = (p as { s: unknown }).s;
      if (!isConvergent(s)) malformed("the state is not Convergent");
      if (isReset(p, handshake)) return this.reset(s as AnyConvergent, cur);
      next = cur.join(s);
    } else return malformed("a Convergent topic carries deltas or states");
    if (next === cur) return false;
    this.store(next);
    return true;
  }

  /** The owner refused this replica's state: its state instead, plus what was written here since. */
  private reset(s: AnyConvergent, cur: AnyConvergent): boolean {
    let next = s.delta !== null ? (s.clearDelta() as AnyConvergent) : s;
    // a datatype that writes as an actor (OR-Set, OR-Map) keeps this replica's: a join would
    const local = cur as { actor?: unknown };
    const other = next as { actor?: unknown; withActor?: unknown };
    if (
      typeof local.actor === "string" &&
      typeof other.withActor === "function" &&
      other.actor !== local.actor
    )
      next = (other.withActor as (a: string) => AnyConvergent).call(next, local.actor);
    for (const q of this.since ?? [])
      next = ("d" in q ? next.applyDelta(q.d) : next.join((q as { s: unknown }).s)) as AnyConvergent;
    if (next.equals(cur)) return false;
    this.store(next.delta !== null ? next.clearDelta() : next);
    return true;
  }
}

/**
 * The stamped value of each signal in each context that a replica left when it stopped (see
 * {@link LwwReplica.retire}): a replica started again on that very value (a topic registered again,
 * a sync re-created) keeps its stamp instead of starting unstamped and losing to older copies.
 */
const stamped = new WeakMap<Context, WeakMap<Signal<unknown>, { v: unknown; t: Stamp }>>();

/** How an {@link LwwReplica} takes the value it starts with. */
export interface LwwStart {
  /**
   * The starting value's stamp (e.g. stored beside it). Without one, a value this context last
   * held under a stamp keeps that stamp, and a value changed here since then counts as written just
   * before the replica started; otherwise see `written`.
   */
  stamp?: Stamp;
  /**
   * A starting value other than `null`/`undefined` with no known stamp counts as written just before
   * the replica started (`Hlc.before`), so copies stamped earlier lose to it and writes made from
   * then on beat it (an owner's authoritative value). Otherwise it is unstamped: any write wins.
   */
  written?: boolean;
}

/** A replica of a value under hybrid-logical-clock last-writer-wins. */
export class LwwReplica implements Replica {
  readonly mode = "lww" as const;
  private last: unknown;
  private stamp: Stamp | null = null;
  private readonly hlc: Hlc;
  /** local writes since the client state was taken (subscriber, during a handshake) */
  private since: number | null = null;

  constructor(
    private readonly ctx: Context,
    private readonly sig: Signal<unknown>,
    actor: string,
    wallMs: () => number,
    start: LwwStart = {},
  ) {
    const v = ctx.get(sig);
    this.last = v;
    this.hlc = new Hlc(actor, wallMs);
    const known = stamped.get(ctx)?.get(sig);
    if (known !== undefined) this.hlc.observe(known.t);
    if (start.stamp !== undefined) {
      this.hlc.observe(start.stamp);
      this.stamp = start.stamp;
    } else if (known !== undefined && Object.is(known.v, v)) this.stamp = known.t;
    else if ((known !== undefined || start.written === true) && v !== null && v !== undefined)
      // written: changed here since it was last stamped, or declared so by the owner
      this.stamp = this.hlc.before();
  }

  /** The current value's stamp (`null`: never written). */
  get currentStamp(): Stamp | null {
    return this.stamp;
  }

  /**
   * The replica stops: its value's stamp is left to the next replica of the signal in this context
   * (remembered once here, not on every write).
   */
  retire(): void {
    if (this.stamp === null) return;
    let bySignal = stamped.get(this.ctx);
    if (bySignal === undefined) {
      bySignal = new WeakMap();
      stamped.set(this.ctx, bySignal);
    }
    bySignal.set(this.sig, { v: this.last, t: this.stamp });
  }

  local(): SyncPayload | undefined {
    const v = this.ctx.get(this.sig);
    if (v === this.last) return undefined;
    this.last = v;
    this.stamp = this.hlc.tick();
    if (this.since !== null) this.since++;
    return { v, t: this.stamp };
  }

  clientState(mirror: boolean): ClientState {
    if (mirror) {
      this.since = 0;
      return { m: "lww" };
    }
    this.local();
    this.since = 0;
    return { m: "lww", v: this.last, t: this.stamp };
  }

  handshakeDone(): void {
    this.since = null;
  }

  /** The joiner's value and stamp (`undefined`: a mirror, no value). */
  private joinerWrite(cs: unknown): { v: unknown; t: Stamp | null } | undefined {
    const c = checkMode(cs, "lww");
    if (!("v" in c)) return undefined;
    const t = c.t ?? null;
    if (t !== null && !isStamp(t)) malformed("bad stamp");
    return { v: c.v, t };
  }

  /**
   * Owner whose value is a placeholder, not a value (a hub's LWW topic nobody has written): a
   * joiner's unwritten starting value (not `null` or `undefined`) becomes this replica's, stamped
   * `[0, 0, joiner]`: below every write, so any write wins; ordered between two such values by the
   * joiner's id, so owners that each took a different one converge. Returns the payload to relay
   * and journal, or `undefined` when this replica has a value (written, or taken this way) or the
   * joiner brings none. Throws `ERR_INCOMPATIBLE` / `ERR_MALFORMED` as `handshake`.
   */
  takeUnwritten(cs: unknown, joiner: string): SyncPayload | undefined {
    if (this.stamp !== null) return undefined;
    const w = this.joinerWrite(cs);
    if (w === undefined || w.t !== null || w.v === null || w.v === undefined) return undefined;
    const p = { v: w.v, t: [0, 0, joiner] as const };
    this.adopt(p.v, p.t);
    return p;
  }

  contribution(cs: unknown): SyncPayload | undefined {
    const w = this.joinerWrite(cs);
    // only a later write would be adopted (see handshake)
    return w !== undefined && compareStamps(w.t, this.stamp) > 0 ? w : undefined;
  }

  handshake(
    cs: unknown,
    relay: (p: SyncPayload) => void,
    refused = false,
  ): Array<SyncPayload | ResetPayload> {
    const w = this.joinerWrite(cs);
    const mine: SyncPayload = { v: this.last, t: this.stamp };
    if (refused) return [{ ...mine, r: true }];
    if (w === undefined) return [mine];
    const { t } = w;
    const cmp = compareStamps(t, this.stamp);
    if (cmp > 0) {
      // the joiner wrote later: adopt it and tell the others; never the other way round
      this.adopt(w.v, t as Stamp);
      relay({ v: w.v, t });
      return [];
    }
    return cmp === 0 && this.stamp !== null ? [] : [mine];
  }

  apply(p: unknown, handshake: boolean): boolean {
    if (typeof p !== "object" || p === null || !("v" in p) || !("t" in p))
      return malformed("a last-writer-wins topic carries values with stamps");
    const t = (p as { t: unknown }).t;
    if (t !== null && !isStamp(t)) return malformed("bad stamp");
    if (isReset(p, handshake)) {
      // the owner refused this replica's value: take the owner's, unless written here since (that
      // write went out as a publish of its own, judged on its own)
      if (this.since !== null && this.since > 0) return false;
      const v = (p as { v: unknown }).v;
      if (compareStamps(t, this.stamp) === 0 && Object.is(v, this.last)) return false;
      this.adopt(v, t);
      return true;
    }
    const cmp = compareStamps(t, this.stamp);
    if (cmp < 0 || (cmp === 0 && (!handshake || this.stamp !== null))) return false;
    this.adopt((p as { v: unknown }).v, t);
    return true;
  }

  private adopt(v: unknown, t: Stamp | null): void {
    if (t !== null) this.hlc.observe(t);
    this.stamp = t;
    this.last = v;
    this.ctx.set(this.sig, v);
    this.last = this.ctx.get(this.sig);
  }
}
