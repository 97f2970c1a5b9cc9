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
  /** The client state of a subscribe (`mirror`: no state, never pushes). */
  clientState(mirror: boolean): ClientState;
  /** Owner: integrate a joiner's state (relaying what it brought) and answer it. */
  handshake(cs: unknown, relay: (p: SyncPayload) => void): SyncPayload[];
  /** Integrate a remote payload; `handshake` items also win LWW ties. Returns whether it changed. */
  apply(p: unknown, handshake: boolean): boolean;
}

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
    return p;
  }

  clientState(mirror: boolean): ClientState {
    return mirror ? { m: "delta" } : { m: "delta", s: this.current() };
  }

  handshake(cs: unknown, relay: (p: SyncPayload) => void): SyncPayload[] {
    const c = checkMode(cs, "delta");
    const snap = this.current();
    if (!("s" in c)) return [{ s: snap }];
    const s = c.s;
    if (!isConvergent(s)) malformed("the client state is not Convergent");
    const next = snap.join(s);
    if (next !== snap) {
      this.store(next);
      relay({ s });
    }
    return snap.equals(s) ? [] : [{ s: snap }];
  }

  apply(p: unknown, _handshake: boolean): boolean {
    if (typeof p !== "object" || p === null) return malformed("bad payload");
    const cur = this.current();
    let next: unknown;
    if ("d" in p) next = cur.applyDelta((p as { d: unknown }).d);
    else if ("s" in p) {
      const s = (p as { s: unknown }).s;
      if (!isConvergent(s)) malformed("the state is not Convergent");
      next = cur.join(s);
    } else return malformed("a Convergent topic carries deltas or states");
    if (next === cur) return false;
    this.store(next);
    return true;
  }
}

/** A replica of a value under hybrid-logical-clock last-writer-wins. */
export class LwwReplica implements Replica {
  readonly mode = "lww" as const;
  private last: unknown;
  private stamp: Stamp | null = null;
  private readonly hlc: Hlc;

  constructor(
    private readonly ctx: Context,
    private readonly sig: Signal<unknown>,
    actor: string,
    wallMs: () => number,
  ) {
    this.last = ctx.get(sig);
    this.hlc = new Hlc(actor, wallMs);
  }

  local(): SyncPayload | undefined {
    const v = this.ctx.get(this.sig);
    if (v === this.last) return undefined;
    this.last = v;
    this.stamp = this.hlc.tick();
    return { v, t: this.stamp };
  }

  clientState(mirror: boolean): ClientState {
    if (mirror) return { m: "lww" };
    this.local();
    return { m: "lww", v: this.last, t: this.stamp };
  }

  handshake(cs: unknown, relay: (p: SyncPayload) => void): SyncPayload[] {
    const c = checkMode(cs, "lww");
    const mine: SyncPayload = { v: this.last, t: this.stamp };
    if (!("v" in c)) return [mine];
    const t = c.t ?? null;
    if (t !== null && !isStamp(t)) malformed("bad stamp");
    const cmp = compareStamps(t, this.stamp);
    if (cmp > 0) {
      // the joiner wrote later: adopt it and tell the others; never the other way round
      this.adopt(c.v, t as Stamp);
      relay({ v: c.v, t });
      return [];
    }
    return cmp === 0 && this.stamp !== null ? [] : [mine];
  }

  apply(p: unknown, handshake: boolean): boolean {
    if (typeof p !== "object" || p === null || !("v" in p) || !("t" in p))
      return malformed("a last-writer-wins topic carries values with stamps");
    const t = (p as { t: unknown }).t;
    if (t !== null && !isStamp(t)) return malformed("bad stamp");
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
