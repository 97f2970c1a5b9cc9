/**
 * The callee side of a remote call: authorize, look the body up by id, check its hash and argument
 * count, find the addressed context, run the body there as a spin, and answer with `result` or
 * `error`. A `cancel` frame, the caller's deadline or the link dropping cancels the spin (the body's
 * `$.signal` aborts).
 * @module
 */
import type { Context } from "../core/context.js";
import { isCancelled } from "../core/errors.js";
import { oneShot } from "../core/one-shot.js";
import type { SpinBody } from "../core/spin.js";
import type { Connection, IncomingCall } from "./connection.js";
import { DEFAULT_CONTEXT_ID } from "./contexts.js";
import type { Deadline, Deadlines } from "./deadlines.js";
import { noContextFix, RemoteError, type RemoteErrorCode } from "./errors.js";
import type { WireLimits } from "./limits.js";
import { lookupRemote } from "./remote-registry.js";
import { type ErrorFrame, type InvokeFrame, messageOf } from "./wire.js";

/**
 * Decides whether `principal` may run `functionId` in context `contextId`. Only `true` (or a
 * promise of `true`) allows the call; anything else, or a throw, refuses it with `ERR_UNAUTHORIZED`.
 */
export type AuthorizeHook = (
  principal: unknown,
  functionId: string,
  contextId: string,
  peerId: string,
) => boolean | PromiseLike<boolean>;

/** What serving needs from the peer. */
export interface ServeHost {
  /** Our peer id. */
  readonly id: string;
  /** Limits. */
  readonly limits: WireLimits;
  /** Send remote stack traces with errors. */
  readonly exposeStacks: boolean;
  /** Authorization hook, if any. */
  readonly authorize: AuthorizeHook | undefined;
  /** The peer's deadline timer. */
  readonly deadlines: Deadlines;
  /** The context registered under `contextId`. */
  localContext(contextId: string): Context | undefined;
  /** Report a problem (a hook that threw). */
  report(error: unknown, where: string): void;
  /** Calls holding a slot on every link of this peer (bodies still running included). */
  readonly slots: { count: number };
}

/** Handle an `invoke` frame on an open connection. */
export function serveInvoke(host: ServeHost, conn: Connection, frame: InvokeFrame): void {
  const { id } = frame;
  if (conn.incoming.has(id)) {
    conn.sendError(errorFrame(id, "ERR_PROTOCOL", `request id ${id} is already running`));
    return;
  }
  // a slot is held until the body has really finished, not just until it was answered or cancelled:
  // a body that ignores its abort signal still counts
  if (conn.busy >= host.limits.maxInflightCalls) {
    conn.sendError(
      errorFrame(
        id,
        "ERR_UNAVAILABLE",
        `peer '${host.id}' is overloaded (maxInflightCalls ${host.limits.maxInflightCalls})`,
        {
          reason: "overloaded",
        },
      ),
    );
    return;
  }
  if (host.slots.count >= host.limits.maxInflightCallsTotal) {
    conn.sendError(
      errorFrame(
        id,
        "ERR_UNAVAILABLE",
        `peer '${host.id}' is overloaded (maxInflightCallsTotal ${host.limits.maxInflightCallsTotal})`,
        { reason: "overloaded" },
      ),
    );
    return;
  }
  const inc = new Incoming(host, conn, frame);
  conn.incoming.set(id, inc);
  conn.busy++;
  host.slots.count++;
  inc.start();
}

function errorFrame(id: number, code: RemoteErrorCode, message: string, data?: unknown): ErrorFrame {
  const f: ErrorFrame = { type: "error", id, code, name: "RemoteError", message };
  if (data !== undefined) f.data = data;
  return f;
}

type Reason = "cancel" | "timeout" | "disconnect";

/** One call the other side runs here. */
class Incoming implements IncomingCall {
  private reason: Reason | null = null;
  private done = false;
  private timer: Deadline | null = null;
  /** Cancels the running body (null before it started and once it settled). */
  private stop: (() => void) | null = null;
  /** Promises the body returned that have not settled (a cancelled body may still be running). */
  private running = 0;
  private released = false;
  private readonly contextId: string;

  constructor(
    private readonly host: ServeHost,
    private readonly conn: Connection,
    private readonly frame: InvokeFrame,
  ) {
    this.contextId = frame.ctx ?? DEFAULT_CONTEXT_ID;
  }

  start(): void {
    const t = this.frame.timeoutMs;
    if (t !== undefined) this.timer = this.host.deadlines.add(t, () => this.cancel("timeout"));
    const authorize = this.host.authorize;
    if (authorize === undefined) {
      this.run();
      return;
    }
    let verdict: boolean | PromiseLike<boolean>;
    try {
      verdict = authorize(this.conn.principal, this.frame.fn, this.contextId, this.conn.remoteId);
    } catch (err) {
      this.host.report(err, "authorize");
      this.authorized(false);
      return;
    }
    if (verdict !== null && typeof verdict === "object" && typeof verdict.then === "function") {
      verdict.then(
        (ok) => this.authorized(ok === true),
        (err: unknown) => {
          this.host.report(err, "authorize");
          this.authorized(false);
        },
      );
    } else {
      this.authorized(verdict === true);
    }
  }

  private authorized(ok: boolean): void {
    if (this.done) return;
    if (this.reason !== null) {
      this.respondCancelled();
      return;
    }
    if (!ok) {
      this.respond(
        errorFrame(
          this.frame.id,
          "ERR_UNAUTHORIZED",
          `peer '${this.conn.remoteId}' is not authorized to call ${this.frame.fn} in context '${this.contextId}'`,
        ),
      );
      return;
    }
    this.run();
  }

  private run(): void {
    const { frame, host } = this;
    const def = lookupRemote(frame.fn);
    if (def === undefined) {
      this.respond(
        errorFrame(
          frame.id,
          "ERR_NO_FUNCTION",
          `no remote function '${frame.fn}' is registered on peer '${host.id}'`,
          {
            fn: frame.fn,
          },
        ),
      );
      return;
    }
    if (frame.hash === undefined) {
      // without a hash the caller's build cannot be checked against ours: refuse rather than guess
      this.respond(
        errorFrame(
          frame.id,
          "ERR_VERSION_MISMATCH",
          `invoke of '${frame.fn}' without a source hash: peer '${host.id}' only runs calls it can check against its build`,
          { fn: frame.fn, expected: def.hash, got: null },
        ),
      );
      return;
    }
    if (frame.hash !== def.hash) {
      this.respond(
        errorFrame(
          frame.id,
          "ERR_VERSION_MISMATCH",
          `remote function '${frame.fn}' has source hash ${def.hash} on peer '${host.id}', the caller has ${frame.hash}: the peers run different builds`,
          { fn: frame.fn, expected: def.hash, got: frame.hash },
        ),
      );
      return;
    }
    const params = def.params;
    if (frame.args.length !== params.length) {
      this.respond(
        errorFrame(
          frame.id,
          "ERR_VERSION_MISMATCH",
          `remote function '${frame.fn}' on peer '${host.id}' takes ${params.length} argument${params.length === 1 ? "" : "s"} [${params.join(", ")}], the caller sent ${frame.args.length}`,
          { fn: frame.fn, expected: [...params], got: frame.args.length },
        ),
      );
      return;
    }
    const ctx = host.localContext(this.contextId);
    if (ctx === undefined || ctx.disposed) {
      this.respond(
        errorFrame(
          frame.id,
          "ERR_NO_CONTEXT",
          `no context '${this.contextId}' is registered on peer '${host.id}'${ctx !== undefined ? " (it was disposed)" : ""}. ${noContextFix(this.contextId)}`,
          { context: this.contextId },
        ),
      );
      return;
    }
    let body: SpinBody<unknown>;
    try {
      body = def.factory(...frame.args) as SpinBody<unknown>;
    } catch (err) {
      this.respondThrown(err);
      return;
    }
    // the slot stays taken while a promise the body returned is pending, even after the call was
    // answered or cancelled: a body that ignores $.signal is still work this peer does
    const tracked: SpinBody<unknown> = ($) => {
      const r = body($);
      if (r !== null && typeof r === "object" && typeof (r as PromiseLike<unknown>).then === "function") {
        this.running++;
        const settle = (): void => {
          this.running--;
          this.release();
        };
        (r as PromiseLike<unknown>).then(settle, settle);
      }
      return r;
    };
    // the body runs as a transient spin: only this call can reach it, so it is dropped as soon
    // as it settles instead of waiting for the garbage collector
    this.stop = oneShot(ctx, tracked, frame.fn, (ok, value) => {
      this.stop = null;
      if (ok) this.respondValue(value);
      else if (this.reason !== null || isCancelled(value)) this.respondCancelled();
      else this.respondThrown(value);
    });
  }

  /** Cancel (a `cancel` frame, the deadline, or the link dropped). */
  cancel(reason: Reason): void {
    if (this.done || this.reason !== null) return;
    this.reason = reason;
    this.clearTimer();
    const stop = this.stop;
    if (stop !== null) {
      this.stop = null;
      try {
        stop(); // the body's pending effect rejects, $.signal aborts; the run settles -> respondCancelled
      } catch {
        this.respondCancelled(); // the context was disposed
      }
    }
    // not started yet (authorizing): answered when the verdict arrives
  }

  private clearTimer(): void {
    if (this.timer !== null) {
      this.timer.clear();
      this.timer = null;
    }
  }

  /** Give the slot back once the call is answered and nothing the body started is pending. */
  private release(): void {
    if (this.released || !this.done || this.running > 0) return;
    this.released = true;
    this.conn.busy--;
    this.host.slots.count--;
  }

  private respond(frame: ErrorFrame | { type: "result"; id: number; value: unknown }): void {
    if (this.done) return;
    this.done = true;
    this.clearTimer();
    this.stop = null;
    if (this.conn.incoming.get(this.frame.id) === this) this.conn.incoming.delete(this.frame.id);
    this.release();
    if (this.reason === "disconnect" || this.conn.state !== "open") return;
    if (frame.type === "error") {
      this.conn.sendError(frame);
      return;
    }
    try {
      this.conn.send(frame);
    } catch (err) {
      const limit = err instanceof RemoteError && err.code === "ERR_LIMIT";
      this.conn.sendError(
        errorFrame(
          this.frame.id,
          limit ? "ERR_LIMIT" : "ERR_NOT_SERIALIZABLE",
          `the result of ${this.frame.fn} cannot be sent: ${messageOf(err)}`,
        ),
      );
    }
  }

  private respondValue(value: unknown): void {
    if (this.reason !== null) {
      this.respondCancelled();
      return;
    }
    this.respond({ type: "result", id: this.frame.id, value: value === undefined ? null : value });
  }

  private respondCancelled(): void {
    const timeout = this.reason === "timeout";
    this.respond(
      errorFrame(
        this.frame.id,
        timeout ? "ERR_TIMEOUT" : "ERR_CANCELLED",
        timeout
          ? `${this.frame.fn} passed its deadline of ${this.frame.timeoutMs} ms on peer '${this.host.id}'`
          : `${this.frame.fn} was cancelled on peer '${this.host.id}'`,
      ),
    );
  }

  private respondThrown(err: unknown): void {
    const f: ErrorFrame = {
      type: "error",
      id: this.frame.id,
      code: "ERR_REMOTE_THROWN",
      name: "Error",
      message: "",
    };
    if (err instanceof Error) {
      const e = err as Error & { data?: unknown; code?: unknown };
      f.name = typeof e.name === "string" ? e.name : "Error";
      f.message = typeof e.message === "string" ? e.message : "";
      if (e.data !== undefined) f.data = e.data;
      if (typeof e.code === "string") f.remoteCode = e.code;
      if (this.host.exposeStacks && typeof e.stack === "string") f.stack = e.stack;
    } else {
      f.message = messageOf(err);
      if (err !== undefined) f.data = err;
    }
    this.respond(f);
  }
}
