/**
 * The caller side of a remote call: a one-shot source (`$.await`-able) that waits for a link to
 * the target (at most `connectTimeoutMs`), sends `invoke`, and settles on `result`/`error`, the
 * deadline, an AbortSignal, the calling run's cancellation (which sends `cancel`), or the link
 * dropping. A call addressed to the local peer runs the body in-process, without a frame.
 * @module
 */
import { type OnceSource, WAIT, type Waiter } from "../core/awaitable.js";
import type { Context } from "../core/context.js";
import { isCancelled } from "../core/errors.js";
import { type Spin, type SpinBody, spin } from "../core/spin.js";
import type { Connection, OutgoingCall } from "./connection.js";
import { DEFAULT_CONTEXT_ID } from "./contexts.js";
import type { Deadline, Deadlines } from "./deadlines.js";
import { noContextFix, RemoteError } from "./errors.js";
import type { RemoteDefinition } from "./remote-registry.js";
import { type InvokeFrame, messageOf } from "./wire.js";

/** Per-call options (set on a scope handle: `peer.remote(id, opts)` or `scope.with(opts)`). */
export interface CallOptions {
  /** Deadline of each call in ms, also sent to the callee so it stops the body. `Infinity`: none. */
  timeoutMs?: number;
  /** How long a call waits for a connection to the target before `ERR_UNAVAILABLE`. */
  connectTimeoutMs?: number;
  /** Aborting it cancels every pending call made through the handle (`ERR_CANCELLED`, and `cancel` is sent). */
  signal?: AbortSignal;
}

/** Resolved call options. */
export interface ResolvedCallOptions {
  /** Deadline in ms (`Infinity`: none). */
  readonly timeoutMs: number;
  /** Connection wait in ms. */
  readonly connectTimeoutMs: number;
  /** Optional abort signal. */
  readonly signal: AbortSignal | undefined;
}

/** A pending wait for a link to a peer. */
export interface LinkWaiter {
  /** The link is up. */
  onLink(conn: Connection): void;
  /** No link will come (timeout, refusal, peer closed). */
  onNoLink(error: RemoteError): void;
}

/** What a call needs from its peer. */
export interface CallHost {
  /** Our peer id. */
  readonly id: string;
  /** Whether the peer is closed. */
  readonly isClosed: boolean;
  /** The open link to `peerId`, if any. */
  linkTo(peerId: string): Connection | undefined;
  /** Wait for a link to `peerId`; the waiter is told once. */
  waitForLink(peerId: string, waiter: LinkWaiter): void;
  /** Stop waiting. */
  cancelWait(peerId: string, waiter: LinkWaiter): void;
  /** The local context registered under `contextId`. */
  localContext(contextId: string): Context | undefined;
  /** Self-invocations in flight (failed with `ERR_CLOSED` when the peer closes). */
  readonly localCalls: Set<LocalCall>;
  /** Max pending calls per connection. */
  readonly maxPendingCalls: number;
  /** The peer's deadline timer. */
  readonly deadlines: Deadlines;
}

/** A self-invocation in flight. */
export interface LocalCall {
  /** The peer closed: cancel the body, fail the call. */
  closed(error: RemoteError): void;
}

/** A remote call, awaitable once per run that awaits it (`$.await(call)`). */
export class RemoteCall implements OnceSource<unknown> {
  /**
   * @param host the calling peer
   * @param target the addressed peer id
   * @param def the remote definition
   * @param args positional argument values
   * @param contextId the callee's context id (undefined: its default)
   * @param options deadline, connection wait, abort signal
   */
  constructor(
    readonly host: CallHost,
    readonly target: string,
    readonly def: RemoteDefinition,
    readonly args: readonly unknown[],
    readonly contextId: string | undefined,
    readonly options: ResolvedCallOptions,
  ) {}

  /** Start the call for one waiting run. */
  [WAIT](_ctx: Context, waiter: Waiter<unknown>): void {
    new CallRun(this, waiter).start();
  }
}

enum Phase {
  Idle = 0,
  WaitingForLink = 1,
  Sent = 2,
  Local = 3,
  Done = 4,
}

/** One execution of a {@link RemoteCall}. */
class CallRun implements OutgoingCall, LinkWaiter, LocalCall {
  private phase = Phase.Idle;
  private conn: Connection | null = null;
  private reqId = 0;
  private timer: Deadline | null = null;
  private localCtx: Context | null = null;
  private localSpin: Spin<unknown> | null = null;
  private onAbort: (() => void) | null = null;

  constructor(
    private readonly call: RemoteCall,
    private readonly waiter: Waiter<unknown>,
  ) {}

  start(): void {
    const { host, target, options } = this.call;
    if (host.isClosed) {
      this.fail(new RemoteError("ERR_CLOSED", `peer '${host.id}' is closed`, this.detail()));
      return;
    }
    if (options.signal?.aborted) {
      this.fail(new RemoteError("ERR_CANCELLED", "the call was aborted before it started", this.detail()));
      return;
    }
    this.waiter.onAbandon(() => this.abandon());
    if (options.signal !== undefined) {
      this.onAbort = () => this.abort();
      options.signal.addEventListener("abort", this.onAbort, { once: true });
    }
    if (target === host.id) {
      this.phase = Phase.Local;
      host.localCalls.add(this);
      queueMicrotask(() => this.runLocal());
      return;
    }
    const conn = host.linkTo(target);
    if (conn !== undefined) {
      this.onLink(conn);
      return;
    }
    this.phase = Phase.WaitingForLink;
    host.waitForLink(target, this);
    if (this.phase !== Phase.WaitingForLink) return; // settled synchronously
    const ms = options.connectTimeoutMs;
    if (Number.isFinite(ms)) {
      this.timer = host.deadlines.add(ms, () => {
        this.timer = null;
        if (this.phase !== Phase.WaitingForLink) return;
        host.cancelWait(target, this);
        this.fail(
          new RemoteError(
            "ERR_UNAVAILABLE",
            `peer '${target}' is not connected to '${host.id}' (waited connectTimeoutMs ${ms} ms)`,
            this.detail(),
          ),
        );
      });
    }
  }

  private detail(): { peer: string; fn: string } {
    return { peer: this.call.target, fn: this.call.def.id };
  }

  /** LinkWaiter: the link is up, send the invoke. */
  onLink(conn: Connection): void {
    if (this.phase === Phase.Done) return;
    this.clearTimer();
    const { def, args, contextId, options, host } = this.call;
    if (conn.outgoing.size >= host.maxPendingCalls) {
      this.fail(
        new RemoteError(
          "ERR_UNAVAILABLE",
          `too many pending calls to peer '${this.call.target}' (maxPendingCalls ${host.maxPendingCalls})`,
          this.detail(),
        ),
      );
      return;
    }
    const id = conn.allocId();
    const frame: InvokeFrame = { type: "invoke", id, fn: def.id, args, hash: def.hash };
    if (contextId !== undefined) frame.ctx = contextId;
    const t = options.timeoutMs;
    if (Number.isFinite(t)) frame.timeoutMs = t;
    let bytes: Uint8Array;
    try {
      bytes = conn.encode(frame);
    } catch (err) {
      const limit = err instanceof RemoteError && err.code === "ERR_LIMIT";
      this.fail(
        new RemoteError(
          limit ? "ERR_LIMIT" : "ERR_NOT_SERIALIZABLE",
          `cannot send the arguments of ${def.id}: ${messageOf(err)}`,
          { ...this.detail(), cause: err },
        ),
      );
      return;
    }
    this.phase = Phase.Sent;
    this.conn = conn;
    this.reqId = id;
    conn.outgoing.set(id, this);
    if (!conn.sendBytes(bytes)) {
      // closed under us: the close already failed the pending calls (this one included) or will
      if (this.phase === Phase.Sent) {
        conn.outgoing.delete(id);
        this.fail(
          new RemoteError(
            "ERR_DISCONNECTED",
            `connection to peer '${this.call.target}' closed`,
            this.detail(),
          ),
        );
      }
      return;
    }
    if (Number.isFinite(t)) this.timer = host.deadlines.add(t, () => this.onDeadline());
  }

  /** LinkWaiter: no link will come. */
  onNoLink(error: RemoteError): void {
    if (this.phase !== Phase.WaitingForLink) return;
    this.fail(new RemoteError(error.code, error.message, { ...this.detail(), data: error.data }));
  }

  /** OutgoingCall: the result arrived. */
  onResult(value: unknown): void {
    if (this.phase !== Phase.Sent) return;
    this.conn = null; // the connection already removed us
    this.succeed(value);
  }

  /** OutgoingCall: an error arrived, or the connection failed the call. */
  onError(error: RemoteError): void {
    if (this.phase !== Phase.Sent) return;
    this.conn = null;
    this.fail(error.fn === undefined ? withFn(error, this.call.def.id) : error);
  }

  private onDeadline(): void {
    this.timer = null;
    if (this.phase === Phase.Done) return;
    const ms = this.call.options.timeoutMs;
    this.stopRemote();
    this.fail(
      new RemoteError(
        "ERR_TIMEOUT",
        `call to ${this.call.def.id} on peer '${this.call.target}' timed out after ${ms} ms`,
        this.detail(),
      ),
    );
  }

  /** The AbortSignal fired. */
  private abort(): void {
    if (this.phase === Phase.Done) return;
    this.stopRemote();
    this.fail(new RemoteError("ERR_CANCELLED", `call to ${this.call.def.id} was aborted`, this.detail()));
  }

  /** LocalCall: the peer closed while the body ran locally. */
  closed(error: RemoteError): void {
    if (this.phase !== Phase.Local) return;
    this.stopRemote();
    this.fail(new RemoteError(error.code, error.message, this.detail()));
  }

  /** The waiting run died (cancelled or superseded): the core already rejected it. */
  private abandon(): void {
    if (this.phase === Phase.Done) return;
    this.stopRemote();
    this.cleanup();
  }

  /** Tell the callee to stop (remote), or cancel the local spin. */
  private stopRemote(): void {
    if (this.phase === Phase.Sent && this.conn !== null) {
      this.conn.outgoing.delete(this.reqId);
      this.conn.sendCancel(this.reqId);
      this.conn = null;
    } else if (this.phase === Phase.Local && this.localCtx !== null && this.localSpin !== null) {
      const ctx = this.localCtx;
      const s = this.localSpin;
      this.localSpin = null;
      try {
        ctx.cancel(s);
      } catch {
        // the context was disposed meanwhile
      }
    }
  }

  private clearTimer(): void {
    if (this.timer !== null) {
      this.timer.clear();
      this.timer = null;
    }
  }

  private cleanup(): void {
    const wasWaiting = this.phase === Phase.WaitingForLink;
    this.phase = Phase.Done;
    this.clearTimer();
    if (this.onAbort !== null) {
      this.call.options.signal?.removeEventListener("abort", this.onAbort);
      this.onAbort = null;
    }
    if (wasWaiting) this.call.host.cancelWait(this.call.target, this);
    else this.call.host.localCalls.delete(this);
    if (this.conn !== null) {
      this.conn.outgoing.delete(this.reqId);
      this.conn = null;
    }
    this.localSpin = null;
    this.localCtx = null;
  }

  private succeed(value: unknown): void {
    if (this.phase === Phase.Done) return;
    this.cleanup();
    this.waiter.resolve(value);
  }

  private fail(error: unknown): void {
    if (this.phase === Phase.Done) return;
    this.cleanup();
    this.waiter.reject(error);
  }

  /** Self-invocation: run the body as a spin in our own registered context, no frame. */
  private runLocal(): void {
    if (this.phase !== Phase.Local) return;
    const { def, args, contextId, host, options } = this.call;
    const cid = contextId ?? DEFAULT_CONTEXT_ID;
    const ctx = host.localContext(cid);
    if (ctx === undefined || ctx.disposed) {
      this.fail(
        new RemoteError(
          "ERR_NO_CONTEXT",
          `no context '${cid}' is registered on peer '${host.id}'. ${noContextFix(cid)}`,
          {
            ...this.detail(),
            data: { context: cid },
          },
        ),
      );
      return;
    }
    let s: Spin<unknown>;
    try {
      s = spin(def.factory(...args) as SpinBody<unknown>, { name: def.id });
    } catch (err) {
      this.fail(thrownToRemoteError(err, this.detail()));
      return;
    }
    this.localCtx = ctx;
    this.localSpin = s;
    const t = options.timeoutMs;
    if (Number.isFinite(t)) this.timer = host.deadlines.add(t, () => this.onDeadline());
    ctx.value(s).then(
      (v) => this.succeed(v === undefined ? null : v),
      (err) => {
        if (this.phase !== Phase.Local) return;
        this.fail(
          isCancelled(err)
            ? new RemoteError("ERR_CANCELLED", `${def.id} was cancelled on peer '${host.id}'`, {
                ...this.detail(),
                cause: err,
              })
            : thrownToRemoteError(err, this.detail()),
        );
      },
    );
  }
}

function withFn(e: RemoteError, fn: string): RemoteError {
  return new RemoteError(e.code, e.message, {
    name: e.name,
    data: e.data,
    peer: e.peer,
    fn,
    remoteCode: e.remoteCode,
    remoteStack: e.remoteStack,
  });
}

/** A value thrown by a body, as the `RemoteError` a caller sees (`ERR_REMOTE_THROWN`, original name/message/data). */
export function thrownToRemoteError(err: unknown, detail: { peer: string; fn: string }): RemoteError {
  if (err instanceof Error) {
    const e = err as Error & { data?: unknown; code?: unknown };
    return new RemoteError("ERR_REMOTE_THROWN", e.message, {
      ...detail,
      name: e.name,
      data: e.data,
      remoteCode: typeof e.code === "string" ? e.code : undefined,
      cause: err,
    });
  }
  return new RemoteError("ERR_REMOTE_THROWN", messageOf(err), {
    ...detail,
    name: "Error",
    data: err,
    cause: err,
  });
}
